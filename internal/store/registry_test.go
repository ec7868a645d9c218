package store

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/csgroup-oss/mlflow-sharinghub-go/internal/mlflow"
	"github.com/csgroup-oss/mlflow-sharinghub-go/internal/registry"
	"github.com/csgroup-oss/mlflow-sharinghub-go/internal/tenancy"
)

func mustModel(t *testing.T, s *Store, scope tenancy.Scope, name string, tags ...mlflow.KeyValue) {
	t.Helper()
	if _, err := s.CreateRegisteredModel(context.Background(), scope, name, "", tags); err != nil {
		t.Fatal(err)
	}
}

func mustVersion(t *testing.T, s *Store, scope tenancy.Scope, name, source string, tags ...mlflow.KeyValue) string {
	t.Helper()
	v, err := s.CreateModelVersion(context.Background(), scope, NewModelVersion{Name: name, Source: source, StorageLocation: source, Tags: tags})
	if err != nil {
		t.Fatal(err)
	}
	if v.Status != registry.StatusReady || v.CurrentStage != registry.StageNone {
		t.Errorf("new version: status %q stage %q", v.Status, v.CurrentStage)
	}
	return v.Version
}

func stagesOf(vs []registry.ModelVersion) map[string]string {
	out := map[string]string{}
	for _, v := range vs {
		out[v.CurrentStage] = v.Version
	}
	return out
}

func TestRegistryLifecycle(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		mustModel(t, s, all, "churn", mlflow.KeyValue{Key: "k", Value: "1"}, mlflow.KeyValue{Key: "k", Value: "2"})
		_, err := s.CreateRegisteredModel(ctx, all, "churn", "", nil)
		wantCode(t, err, mlflow.ResourceAlreadyExists)
		_, err = s.CreateRegisteredModel(ctx, all, "churn", "", []mlflow.KeyValue{{Key: registry.IsPromptTag, Value: "true"}})
		if !mlflow.IsCode(err, mlflow.ResourceAlreadyExists) || !strings.Contains(err.Error(), "prompt") {
			t.Errorf("prompt over model: %v", err)
		}
		for i := 1; i <= 3; i++ {
			if v := mustVersion(t, s, all, "churn", "mlflow-artifacts:/1/r/artifacts/model"); v != strconv.Itoa(i) {
				t.Fatalf("version %s, want %d", v, i)
			}
		}
		// Deleting the last version never frees its number.
		if err := s.SetAlias(ctx, all, "churn", "champion", 3); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteModelVersion(ctx, all, "churn", 3); err != nil {
			t.Fatal(err)
		}
		_, err = s.GetModelVersion(ctx, all, "churn", 3)
		wantCode(t, err, mlflow.ResourceDoesNotExist)
		wantCode(t, s.DeleteModelVersion(ctx, all, "churn", 3), mlflow.ResourceDoesNotExist)
		if v := mustVersion(t, s, all, "churn", "s3://b/m"); v != "4" {
			t.Errorf("version after delete = %s, want 4", v)
		}
		var redacted string
		_ = s.queryRow(ctx, `SELECT source FROM model_versions WHERE name = 'churn' AND version = 3`).Scan(&redacted)
		if redacted != registry.RedactedSource {
			t.Errorf("deleted source = %q", redacted)
		}
		_, err = s.GetVersionByAlias(ctx, all, "churn", "champion")
		wantCode(t, err, mlflow.InvalidParameterValue) // the alias went with the version

		// Stages, latest versions, archive.
		mv, err := s.TransitionModelVersionStage(ctx, all, "churn", 1, registry.StageProduction, false)
		if err != nil || mv.CurrentStage != "Production" {
			t.Fatalf("transition: %v %v", mv, err)
		}
		if _, err := s.TransitionModelVersionStage(ctx, all, "churn", 2, registry.StageProduction, true); err != nil {
			t.Fatal(err)
		}
		m, err := s.GetRegisteredModel(ctx, all, "churn")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(map[string]string{"Archived": "1", "Production": "2", "None": "4"}, stagesOf(m.LatestVersions)); diff != "" {
			t.Errorf("latest versions (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]mlflow.KeyValue{{Key: "k", Value: "2"}}, m.Tags); diff != "" {
			t.Errorf("tags (-want +got):\n%s", diff)
		}
		lv, err := s.GetLatestVersions(ctx, all, "churn", []string{"Production"})
		if err != nil || len(lv) != 1 || lv[0].Version != "2" {
			t.Errorf("latest Production: %v %v", lv, err)
		}

		// Aliases: set, repoint, latest, delete.
		if err := s.SetAlias(ctx, all, "churn", "champion", 1); err != nil {
			t.Fatal(err)
		}
		if err := s.SetAlias(ctx, all, "churn", "champion", 2); err != nil {
			t.Fatal(err)
		}
		wantCode(t, s.SetAlias(ctx, all, "churn", "x", 3), mlflow.ResourceDoesNotExist)
		v, err := s.GetVersionByAlias(ctx, all, "churn", "champion")
		if err != nil || v.Version != "2" || !slices.Equal(v.Aliases, []string{"champion"}) {
			t.Errorf("by alias: %+v %v", v, err)
		}
		v, err = s.GetVersionByAlias(ctx, all, "churn", "LATEST")
		if err != nil || v.Version != "4" {
			t.Errorf("latest: %+v %v", v, err)
		}
		if err := s.DeleteAlias(ctx, all, "churn", "champion"); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteAlias(ctx, all, "churn", "champion"); err != nil {
			t.Errorf("deleting a missing alias: %v", err)
		}

		// Tags.
		if err := s.SetModelVersionTag(ctx, all, "churn", 1, "t", "v"); err != nil {
			t.Fatal(err)
		}
		wantCode(t, s.SetModelVersionTag(ctx, all, "churn", 3, "t", "v"), mlflow.ResourceDoesNotExist)
		if err := s.DeleteModelVersionTag(ctx, all, "churn", 1, "nope"); err != nil {
			t.Errorf("delete missing version tag: %v", err)
		}
		if err := s.SetRegisteredModelTag(ctx, all, "churn", "k", "3"); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteRegisteredModelTag(ctx, all, "churn", "k"); err != nil {
			t.Fatal(err)
		}

		// Rename carries versions, tags and aliases.
		if err := s.SetAlias(ctx, all, "churn", "best", 1); err != nil {
			t.Fatal(err)
		}
		if _, err := s.RenameRegisteredModel(ctx, all, "churn", "churn2"); err != nil {
			t.Fatal(err)
		}
		mustModel(t, s, all, "other")
		_, err = s.RenameRegisteredModel(ctx, all, "churn2", "other")
		wantCode(t, err, mlflow.ResourceAlreadyExists)
		v, err = s.GetVersionByAlias(ctx, all, "churn2", "best")
		if err != nil || v.Version != "1" || v.Name != "churn2" || len(v.Tags) != 1 {
			t.Errorf("after rename: %+v %v", v, err)
		}
		uri, err := s.ModelVersionDownloadURI(ctx, all, "churn2", 4)
		if err != nil || uri != "s3://b/m" {
			t.Errorf("download uri %q %v", uri, err)
		}
		d := "about"
		if v, err := s.UpdateModelVersion(ctx, all, "churn2", 1, &d); err != nil || v.Description == nil || *v.Description != d {
			t.Errorf("update version: %+v %v", v, err)
		}
		if m, err := s.UpdateRegisteredModel(ctx, all, "churn2", "model about"); err != nil || m.Description != "model about" {
			t.Errorf("update model: %+v %v", m, err)
		}

		// Delete removes everything.
		if err := s.DeleteRegisteredModel(ctx, all, "churn2"); err != nil {
			t.Fatal(err)
		}
		_, err = s.GetRegisteredModel(ctx, all, "churn2")
		wantCode(t, err, mlflow.ResourceDoesNotExist)
		var n int
		_ = s.queryRow(ctx, `SELECT count(*) FROM model_version_tags`).Scan(&n)
		if n != 0 {
			t.Errorf("%d version tags left", n)
		}
		mustModel(t, s, all, "churn2") // the name is free again
	})
}

func TestRegistryScopeAndSearch(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		a, b := tenancy.Project(42, "g/a"), tenancy.Project(7, "g/b")
		for _, n := range []string{"m1 (42)", "m2 (42)", "m3 (42)"} {
			mustModel(t, s, a, n, mlflow.KeyValue{Key: "team", Value: "x"})
			mustVersion(t, s, a, n, "s3://b/"+n)
		}
		mustModel(t, s, b, "m1 (7)", mlflow.KeyValue{Key: "team", Value: "x"})
		mustVersion(t, s, b, "m1 (7)", "s3://b/other")
		mustModel(t, s, a, "prompt (42)", mlflow.KeyValue{Key: registry.IsPromptTag, Value: "true"})
		mustVersion(t, s, a, "prompt (42)", "s3://b/p", mlflow.KeyValue{Key: registry.IsPromptTag, Value: "true"})

		// Another project's model is not there, whatever the call.
		_, err := s.GetRegisteredModel(ctx, a, "m1 (7)")
		wantCode(t, err, mlflow.ResourceDoesNotExist)
		_, err = s.GetModelVersion(ctx, a, "m1 (7)", 1)
		wantCode(t, err, mlflow.ResourceDoesNotExist)
		wantCode(t, s.DeleteRegisteredModel(ctx, a, "m1 (7)"), mlflow.ResourceDoesNotExist)
		_, err = s.CreateModelVersion(ctx, a, NewModelVersion{Name: "m1 (7)", Source: "s3://x"})
		wantCode(t, err, mlflow.ResourceDoesNotExist)

		names := func(ms []registry.RegisteredModel) []string {
			var out []string
			for _, m := range ms {
				out = append(out, m.Name)
			}
			return out
		}
		// Pages are full: the scope is in the SQL.
		var got []string
		token := ""
		for range 5 {
			ms, next, err := s.SearchRegisteredModels(ctx, RegisteredModelSearch{Filter: "tags.team = 'x'", MaxResults: 2, PageToken: token, Scope: a})
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, names(ms)...)
			if token = next; token == "" {
				break
			}
		}
		if diff := cmp.Diff([]string{"m1 (42)", "m2 (42)", "m3 (42)"}, got); diff != "" {
			t.Errorf("project search (-want +got):\n%s", diff)
		}
		ms, _, err := s.SearchRegisteredModels(ctx, RegisteredModelSearch{MaxResults: 10, Scope: tenancy.Global([]int64{7}),
			OrderBy: []string{"name DESC"}})
		if err != nil || !slices.Equal(names(ms), []string{"m1 (7)"}) || len(ms[0].LatestVersions) != 1 {
			t.Errorf("global search: %v %v", names(ms), err)
		}
		ms, _, err = s.SearchRegisteredModels(ctx, RegisteredModelSearch{MaxResults: 10, Scope: a,
			Filter: "tags.`mlflow.prompt.is_prompt` = 'true'"})
		if err != nil || !slices.Equal(names(ms), []string{"prompt (42)"}) {
			t.Errorf("prompt search: %v %v", names(ms), err)
		}
		vs, _, err := s.SearchModelVersions(ctx, ModelVersionSearch{MaxResults: 10, Scope: a, Filter: "name LIKE 'm%'",
			OrderBy: []string{"name DESC"}})
		if err != nil || len(vs) != 3 || vs[0].Name != "m3 (42)" {
			t.Errorf("version search: %v %v", vs, err)
		}
		vs, _, err = s.SearchModelVersions(ctx, ModelVersionSearch{MaxResults: 10, Scope: all, Filter: "version_number >= 1"})
		if err != nil || len(vs) != 4 {
			t.Errorf("unscoped version search without prompts: %d %v", len(vs), err)
		}
		_, _, err = s.SearchModelVersions(ctx, ModelVersionSearch{MaxResults: 10, Scope: all, Filter: "version_number = 1.5"})
		wantCode(t, err, mlflow.InvalidParameterValue)
	})
}

// MLflow fills a version's aliases when it reads one version (get, by
// alias, get_latest_versions), not in search_model_versions nor in a
// registered model's latest_versions (get and search); tags everywhere.
func TestVersionAliasesWhereMLflowFillsThem(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		mustModel(t, s, all, "al")
		mustVersion(t, s, all, "al", "mlflow-artifacts:/1/r/artifacts/model", mlflow.KeyValue{Key: "t", Value: "1"})
		if err := s.SetAlias(ctx, all, "al", "champion", 1); err != nil {
			t.Fatal(err)
		}
		withAlias := func(what string, v registry.ModelVersion, want bool) {
			t.Helper()
			if got := slices.Equal(v.Aliases, []string{"champion"}); got != want {
				t.Errorf("%s: aliases %q, want them: %v", what, v.Aliases, want)
			}
			if len(v.Tags) != 1 {
				t.Errorf("%s: tags %v", what, v.Tags)
			}
		}
		v, err := s.GetModelVersion(ctx, all, "al", 1)
		if err != nil {
			t.Fatal(err)
		}
		withAlias("get", *v, true)
		lv, err := s.GetLatestVersions(ctx, all, "al", nil)
		if err != nil || len(lv) != 1 {
			t.Fatalf("latest: %v %v", lv, err)
		}
		withAlias("get_latest_versions", lv[0], true)
		vs, _, err := s.SearchModelVersions(ctx, ModelVersionSearch{MaxResults: 10, Scope: all, Filter: "name = 'al'"})
		if err != nil || len(vs) != 1 {
			t.Fatalf("search: %v %v", vs, err)
		}
		withAlias("search_model_versions", vs[0], false)
		m, err := s.GetRegisteredModel(ctx, all, "al")
		if err != nil || len(m.LatestVersions) != 1 {
			t.Fatalf("get model: %+v %v", m, err)
		}
		withAlias("registered model latest_versions", m.LatestVersions[0], false)
		ms, _, err := s.SearchRegisteredModels(ctx, RegisteredModelSearch{MaxResults: 10, Scope: all, Filter: "name = 'al'"})
		if err != nil || len(ms) != 1 || len(ms[0].LatestVersions) != 1 {
			t.Fatalf("search models: %+v %v", ms, err)
		}
		withAlias("searched model latest_versions", ms[0].LatestVersions[0], false)
	})
}
