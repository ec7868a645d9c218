package registry

import (
	"strings"
	"testing"
)

func TestValidation(t *testing.T) {
	for _, c := range []struct {
		err  error
		want string
	}{
		{ValidateModelName(" ", "name"), "Missing value for required parameter 'name'."},
		{ValidateModelName("a:b", "name"), "Invalid model name 'a:b'. Names cannot contain '/' or ':'."},
		{ValidateModelName("..", "name"), "This name would resolve to"},
		{ValidateAlias("a b"), "Invalid alias name: 'a b'."},
		{ValidateAlias(""), "Registered model alias name cannot be empty."},
		{ValidateAliasNotReserved("LaTeSt"), "'latest' alias name (case insensitive) is reserved."},
		{ValidateAliasNotReserved("V12"), "Version alias name 'V12' is reserved."},
		{ValidateModelTag("a//b", "v"), "Names may be treated as files"},
		{ValidateVersionTag(PromptTextTag, strings.Repeat("x", MaxTagValueLength+1)), "Prompt text exceeds max length"},
	} {
		if c.err == nil || !strings.Contains(c.err.Error(), c.want) {
			t.Errorf("%v, want %q", c.err, c.want)
		}
	}
	for _, ok := range []error{ValidateModelName("churn (42)", "name"), ValidateAlias("champion-1_x"), ValidateAliasNotReserved("v1a")} {
		if ok != nil {
			t.Errorf("unexpected %v", ok)
		}
	}
	for in, want := range map[string]int64{"1": 1, " 2 ": 2, "+3": 3, "1_0": 10, "99999999999": -1} {
		if got, err := ParseVersion(in); err != nil || got != want {
			t.Errorf("ParseVersion(%q) = %d, %v", in, got, err)
		}
	}
	for _, bad := range []string{"x", "", "1.0", "--1", "_1"} {
		if _, err := ParseVersion(bad); err == nil {
			t.Errorf("ParseVersion(%q) accepted", bad)
		}
	}
	for in, want := range map[string]string{"none": "None", "STAGING": "Staging", "production": "Production", "Archived": "Archived"} {
		if got, err := CanonicalStage(in); err != nil || got != want {
			t.Errorf("CanonicalStage(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := CanonicalStage("Deleted_Internal"); err == nil {
		t.Error("Deleted_Internal accepted as a stage")
	}
}

func TestSources(t *testing.T) {
	for src, want := range map[string]Source{
		"runs:/abc/model/sub":                              {Kind: SourceRun, RunID: "abc", Path: "model/sub"},
		"models:/m-123":                                    {Kind: SourceLoggedModel, ModelID: "m-123"},
		"models:/churn (4)/2":                              {Kind: SourceModelVersion, Name: "churn (4)", Version: "2"},
		"models:/churn@best":                               {Kind: SourceModelVersion, Name: "churn", Alias: "best"},
		"models:/churn/Prod":                               {Kind: SourceModelVersion, Name: "churn", Stage: "Prod"},
		"models:/churn/latest":                             {Kind: SourceModelVersion, Name: "churn"},
		"mlflow-artifacts:/1/r/artifacts/model":            {Kind: SourceArtifactProxy},
		"https://h/api/2.0/mlflow-artifacts/artifacts/1/r": {Kind: SourceArtifactProxy},
		"s3://bucket/x":                                    {Kind: SourceOther},
		"/tmp/x":                                           {Kind: SourceLocal},
		"file:///tmp/x":                                    {Kind: SourceLocal},
		"C:/x":                                             {Kind: SourceLocal},
	} {
		got, err := ParseSource(src)
		if err != nil || got != want {
			t.Errorf("ParseSource(%q) = %+v, %v; want %+v", src, got, err, want)
		}
	}
	for _, bad := range []string{"models:/a/b/c", "models:/", "runs:/"} {
		if _, err := ParseSource(bad); err == nil {
			t.Errorf("ParseSource(%q) accepted", bad)
		}
	}
	for _, bad := range []string{"mlflow-artifacts:/1/r/../../x", "s3://b/a/%2e%2e/x", "http://h/a/..%2f..%2fx", "s3://b/a\x00"} {
		if CheckTraversal(bad) == nil {
			t.Errorf("CheckTraversal(%q) accepted", bad)
		}
	}
	for _, good := range []string{"mlflow-artifacts:/1/r/artifacts/model", "s3://bucket", "runs:/r/model", "models:/m-1"} {
		if err := CheckTraversal(good); err != nil {
			t.Errorf("CheckTraversal(%q): %v", good, err)
		}
	}
	if !WithinRoot("mlflow-artifacts:/1/r/artifacts/model", "mlflow-artifacts:/1/r/artifacts") ||
		WithinRoot("mlflow-artifacts:/1/r2/artifacts/model", "mlflow-artifacts:/1/r/artifacts") ||
		WithinRoot("mlflow-artifacts:/2/r/artifacts", "mlflow-artifacts:/1/r/artifacts") {
		t.Error("WithinRoot")
	}
}
