package store

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/csgroup-oss/mlflow-sharinghub-go/internal/mlflow"
	"github.com/csgroup-oss/mlflow-sharinghub-go/internal/search"
	"github.com/csgroup-oss/mlflow-sharinghub-go/internal/tenancy"
	"github.com/csgroup-oss/mlflow-sharinghub-go/internal/tracking"
)

func mustLoggedModel(t *testing.T, s *Store, scope tenancy.Scope, exp int64, name string, params ...mlflow.KeyValue) string {
	t.Helper()
	m, err := s.CreateLoggedModel(context.Background(), scope, NewLoggedModel{
		ID: tracking.NewLoggedModelID(), ExperimentID: exp, Name: name, Params: params,
	})
	if err != nil {
		t.Fatal(err)
	}
	return m.Info.ModelID
}

func TestLoggedModelStore(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		exp := mustExperiment(t, s, "lm")
		run := mustRun(t, s, exp)
		m, err := s.CreateLoggedModel(ctx, all, NewLoggedModel{
			ID: "m-0123456789abcdef0123456789abcdef", ExperimentID: exp, Name: "model", SourceRunID: run,
			Params: []mlflow.KeyValue{{Key: "a", Value: "1"}},
			Tags:   []mlflow.KeyValue{{Key: "t", Value: "x"}, {Key: "t", Value: "y"}},
		})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasSuffix(m.Info.ArtifactURI, "/1/models/m-0123456789abcdef0123456789abcdef/artifacts") ||
			m.Info.Status != "LOGGED_MODEL_PENDING" || *m.Info.SourceRunID != run || *m.Info.ModelType != "" ||
			m.Info.StatusMessage != nil {
			t.Errorf("created %+v", m.Info)
		}
		if diff := cmp.Diff([]mlflow.KeyValue{{Key: "t", Value: "y"}}, m.Info.Tags); diff != "" {
			t.Errorf("tags (-want +got):\n%s", diff)
		}
		id := m.Info.ModelID
		wantCode(t, s.LogLoggedModelParams(ctx, all, id, []mlflow.KeyValue{{Key: "a", Value: "2"}}), mlflow.InvalidParameterValue)
		if err := s.LogLoggedModelParams(ctx, all, id, []mlflow.KeyValue{{Key: "b", Value: "2"}}); err != nil {
			t.Fatal(err)
		}
		// Model metrics ride on log-batch, in its transaction.
		err = s.LogBatch(ctx, all, run, tracking.Batch{Metrics: []tracking.MetricPoint{
			{Key: "acc", Value: 0.5, Timestamp: 1, Step: 0, ModelID: id, DatasetName: "ds", DatasetDigest: "dg"},
			{Key: "acc", Value: 0.5, Timestamp: 1, Step: 0, ModelID: id, DatasetName: "ds", DatasetDigest: "dg"},
			{Key: "acc", Value: 0.7, Timestamp: 2, Step: 1, ModelID: id},
		}})
		if err != nil {
			t.Fatal(err)
		}
		wantCode(t, s.LogBatch(ctx, all, run, tracking.Batch{Metrics: []tracking.MetricPoint{
			{Key: "x", Value: 1, Timestamp: 1, ModelID: "m-missing"},
		}}), mlflow.ResourceDoesNotExist)
		got, err := s.FinalizeLoggedModel(ctx, all, id, tracking.LoggedModelReady)
		if err != nil {
			t.Fatal(err)
		}
		want := []mlflow.Metric{
			{Key: "acc", Value: 0.5, Timestamp: 1, Step: 0, ModelID: id, RunID: run, DatasetName: "ds", DatasetDigest: "dg"},
			{Key: "acc", Value: 0.7, Timestamp: 2, Step: 1, ModelID: id, RunID: run},
		}
		if diff := cmp.Diff(want, got.Data.Metrics); diff != "" {
			t.Errorf("metrics (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]mlflow.KeyValue{{Key: "a", Value: "1"}, {Key: "b", Value: "2"}}, got.Data.Params); diff != "" {
			t.Errorf("params (-want +got):\n%s", diff)
		}
		if got.Info.Status != "LOGGED_MODEL_READY" {
			t.Errorf("status %s", got.Info.Status)
		}
		if err := s.SetLoggedModelTags(ctx, all, id, []mlflow.KeyValue{{Key: "t", Value: "z"}, {Key: "u", Value: "1"}}); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteLoggedModelTag(ctx, all, id, "u"); err != nil {
			t.Fatal(err)
		}
		wantCode(t, s.DeleteLoggedModelTag(ctx, all, id, "u"), mlflow.ResourceDoesNotExist)
		got, _ = s.GetLoggedModel(ctx, all, id, false)
		if diff := cmp.Diff([]mlflow.KeyValue{{Key: "t", Value: "z"}}, got.Info.Tags); diff != "" {
			t.Errorf("tags (-want +got):\n%s", diff)
		}
		if err := s.DeleteLoggedModel(ctx, all, id); err != nil {
			t.Fatal(err)
		}
		_, err = s.GetLoggedModel(ctx, all, id, false)
		wantCode(t, err, mlflow.ResourceDoesNotExist)
		if _, err := s.GetLoggedModel(ctx, all, id, true); err != nil {
			t.Errorf("allow deleted: %v", err)
		}

		// A deleted experiment takes no new model.
		if err := s.DeleteExperiment(ctx, all, exp); err != nil {
			t.Fatal(err)
		}
		_, err = s.CreateLoggedModel(ctx, all, NewLoggedModel{ID: tracking.NewLoggedModelID(), ExperimentID: exp, Name: "n"})
		wantCode(t, err, mlflow.InvalidParameterValue)
	})
}

func TestLoggedModelScope(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		a, b := tenancy.Project(7, "g/a"), tenancy.Project(8, "g/b")
		expA := mustExperiment(t, s, "e"+tenancy.Suffix(7))
		expB := mustExperiment(t, s, "e"+tenancy.Suffix(8))
		runA, runB := mustRun(t, s, expA), mustRun(t, s, expB)
		idA := mustLoggedModel(t, s, a, expA, "ma")
		idB := mustLoggedModel(t, s, b, expB, "mb")

		_, err := s.CreateLoggedModel(ctx, a, NewLoggedModel{ID: tracking.NewLoggedModelID(), ExperimentID: expB, Name: "x"})
		wantCode(t, err, mlflow.ResourceDoesNotExist)
		_, err = s.CreateLoggedModel(ctx, a, NewLoggedModel{ID: tracking.NewLoggedModelID(), ExperimentID: expA, Name: "x", SourceRunID: runB})
		wantCode(t, err, mlflow.ResourceDoesNotExist)
		_, err = s.GetLoggedModel(ctx, a, idB, true)
		wantCode(t, err, mlflow.ResourceDoesNotExist)
		_, err = s.FinalizeLoggedModel(ctx, a, idB, tracking.LoggedModelReady)
		wantCode(t, err, mlflow.ResourceDoesNotExist)
		wantCode(t, s.DeleteLoggedModel(ctx, a, idB), mlflow.ResourceDoesNotExist)
		wantCode(t, s.SetLoggedModelTags(ctx, a, idB, []mlflow.KeyValue{{Key: "k", Value: "v"}}), mlflow.ResourceDoesNotExist)
		wantCode(t, s.DeleteLoggedModelTag(ctx, a, idB, "k"), mlflow.ResourceDoesNotExist)
		wantCode(t, s.LogLoggedModelParams(ctx, a, idB, []mlflow.KeyValue{{Key: "k", Value: "v"}}), mlflow.ResourceDoesNotExist)
		// A's run cannot write metrics into B's model.
		wantCode(t, s.LogBatch(ctx, a, runA, tracking.Batch{Metrics: []tracking.MetricPoint{
			{Key: "m", Value: 1, Timestamp: 1, ModelID: idB},
		}}), mlflow.ResourceDoesNotExist)

		// Searching both experiments from A finds only A's model.
		ms, _, err := s.SearchLoggedModels(ctx, LoggedModelSearch{
			ExperimentIDs: []string{itoa64(expA), itoa64(expB)}, MaxResults: 100, Scope: a,
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(ms) != 1 || ms[0].Info.ModelID != idA {
			t.Errorf("A's search: %v", ms)
		}
		ms, _, _ = s.SearchLoggedModels(ctx, LoggedModelSearch{ExperimentIDs: []string{itoa64(expB)}, MaxResults: 100, Scope: tenancy.Global([]int64{7})})
		if len(ms) != 0 {
			t.Errorf("global search over A only finds %v", ms)
		}
	})
}

func itoa64(n int64) string { return strconvFormat(n) }

func TestSearchLoggedModelsStore(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		exp := mustExperiment(t, s, "search")
		run := mustRun(t, s, exp)
		ids := map[string]string{}
		for i, name := range []string{"alpha", "beta", "gamma", "delta"} {
			id := mustLoggedModel(t, s, all, exp, name, mlflow.KeyValue{Key: "lr", Value: []string{"0.1", "0.2", "0.1", "0.3"}[i]})
			ids[name] = id
			pts := []tracking.MetricPoint{
				// An older, larger value: the latest (highest step) counts.
				{Key: "acc", Value: 0.99, Timestamp: 1, Step: 0, ModelID: id, DatasetName: "train"},
				{Key: "acc", Value: float64(i) / 10, Timestamp: 2, Step: 1, ModelID: id, DatasetName: "train"},
			}
			if name == "delta" {
				pts = pts[:0] // no metric: sorts last either way
			}
			if err := s.LogBatch(ctx, all, run, tracking.Batch{Metrics: pts}); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.SetLoggedModelTags(ctx, all, ids["beta"], []mlflow.KeyValue{{Key: "stage", Value: "Prod"}}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.FinalizeLoggedModel(ctx, all, ids["gamma"], tracking.LoggedModelReady); err != nil {
			t.Fatal(err)
		}
		names := func(f string, order []search.LoggedModelOrder, ds []search.LoggedModelDataset) []string {
			t.Helper()
			ms, _, err := s.SearchLoggedModels(ctx, LoggedModelSearch{ExperimentIDs: []string{itoa64(exp)}, Filter: f,
				OrderBy: order, Datasets: ds, MaxResults: 100, Scope: all})
			if err != nil {
				t.Fatalf("%q: %v", f, err)
			}
			var out []string
			for _, m := range ms {
				out = append(out, m.Info.Name)
			}
			return out
		}
		byName := []search.LoggedModelOrder{{FieldName: "name", Ascending: true}}
		for _, c := range []struct {
			filter string
			order  []search.LoggedModelOrder
			ds     []search.LoggedModelDataset
			want   []string
		}{
			{"metrics.acc > 0.05", byName, nil, []string{"beta", "gamma"}},
			{"metrics.acc < 0.5", []search.LoggedModelOrder{{FieldName: "metrics.acc", Ascending: false}}, nil, []string{"gamma", "beta", "alpha"}},
			{"", []search.LoggedModelOrder{{FieldName: "metrics.acc", Ascending: true}}, nil, []string{"alpha", "beta", "gamma", "delta"}},
			{"params.lr = '0.1'", byName, nil, []string{"alpha", "gamma"}},
			{"params.lr IN ('0.2', '0.3')", byName, nil, []string{"beta", "delta"}},
			{"tags.stage ILIKE 'prod'", nil, nil, []string{"beta"}},
			{"tags.stage LIKE 'prod'", nil, nil, nil},
			{"name != 'alpha' AND status = 'PENDING'", byName, nil, []string{"beta", "delta"}},
			{"status != 'PENDING'", nil, nil, []string{"gamma"}},
			{"attributes.model_id = '" + ids["beta"] + "'", nil, nil, []string{"beta"}},
			{"creation_time > 0", byName, nil, []string{"alpha", "beta", "delta", "gamma"}},
			{"", byName, []search.LoggedModelDataset{{Name: "train"}}, []string{"alpha", "beta", "gamma"}},
			{"", byName, []search.LoggedModelDataset{{Name: "train", Digest: "x"}}, nil},
			{"metrics.acc >= 0", byName, []search.LoggedModelDataset{{Name: "other"}}, nil},
		} {
			if diff := cmp.Diff(c.want, names(c.filter, c.order, c.ds)); diff != "" {
				t.Errorf("filter %q order %v datasets %v (-want +got):\n%s", c.filter, c.order, c.ds, diff)
			}
		}
		// Pages of one, in the default order (newest first, then id).
		var all3 []string
		tok := ""
		for range 10 {
			ms, next, err := s.SearchLoggedModels(ctx, LoggedModelSearch{ExperimentIDs: []string{itoa64(exp)},
				MaxResults: 1, PageToken: tok, Scope: all})
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range ms {
				all3 = append(all3, m.Info.Name)
			}
			if tok = next; tok == "" {
				break
			}
		}
		if len(all3) != 4 {
			t.Errorf("paged through %v", all3)
		}
		_, _, err := s.SearchLoggedModels(ctx, LoggedModelSearch{ExperimentIDs: []string{"999"}, MaxResults: 1,
			PageToken: search.LoggedModelsToken{ExperimentIDs: []string{itoa64(exp)}, Offset: 1}.Encode(), Scope: all})
		wantCode(t, err, mlflow.InvalidParameterValue)
	})
}

func TestRecordLoggedModel(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		exp := mustExperiment(t, s, "lm2")
		run := mustRun(t, s, exp)
		js := `{"run_id": "r", "artifact_path": "model", "utc_time_created": "t", "flavors": {}}`
		for range 2 {
			if err := s.RecordLoggedModel(ctx, all, run, js); err != nil {
				t.Fatal(err)
			}
		}
		r, _ := s.GetRun(ctx, all, run)
		var got string
		for _, tg := range r.Data.Tags {
			if tg.Key == tracking.LoggedModelHistoryTag {
				got = tg.Value
			}
		}
		e := `{"run_id": "r", "artifact_path": "model", "utc_time_created": "t", "model_uuid": null, "flavors": {}}`
		if want := "[" + e + ", " + e + "]"; got != want {
			t.Errorf("history %s, want %s", got, want)
		}
		wantCode(t, s.RecordLoggedModel(ctx, all, run, `[]`), mlflow.InvalidParameterValue)
	})
}

func strconvFormat(n int64) string { return strconv.FormatInt(n, 10) }
