package server

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	gocmp "github.com/google/go-cmp/cmp"
)

// TestRegistryProjectScope walks the registry as mlflow.register_model
// does in project A, and checks what project B (and the global scope) see.
func TestRegistryProjectScope(t *testing.T) {
	tw := newTenancyWorld(t)
	a, b := trackingURI(tw.a), trackingURI(tw.b)
	full := "churn" + suffix(tw.a)

	exp := str(tw.mustAPI(tw.aDev, "POST", a, "/experiments/create", obj{"name": "e"}), "experiment_id")
	run := str(tw.mustAPI(tw.aDev, "POST", a, "/runs/create", obj{"experiment_id": exp}), "run", "info", "run_id")
	bExp := str(tw.mustAPI(tw.bDev, "POST", b, "/experiments/create", obj{"name": "e"}), "experiment_id")
	bRun := str(tw.mustAPI(tw.bDev, "POST", b, "/runs/create", obj{"experiment_id": bExp}), "run", "info", "run_id")

	// register_model(uri, "churn"): create (suffix and ownership tag
	// added), then the version from runs:/.
	m := tw.mustAPI(tw.aDev, "POST", a, "/registered-models/create", obj{"name": "churn",
		"tags": []obj{kv("project", "other/beta"), kv("team", "x")}})
	if got := str(m, "registered_model", "name"); got != full {
		t.Fatalf("created %q, want %q", got, full)
	}
	if diff := gocmp.Diff(map[string]string{"project": tw.a.Path, "team": "x"}, tagsOf(m["registered_model"])); diff != "" {
		t.Errorf("tags (-want +got):\n%s", diff)
	}
	wantError(t, "create again", tw.api(tw.aDev, "POST", a, "/registered-models/create", obj{"name": "churn"}),
		http.StatusBadRequest, "RESOURCE_ALREADY_EXISTS")
	wantError(t, "create with B's suffix", tw.api(tw.aDev, "POST", a, "/registered-models/create", obj{"name": "x" + suffix(tw.b)}),
		http.StatusBadRequest, "INVALID_PARAMETER_VALUE", suffix(tw.a))
	v := tw.mustAPI(tw.aDev, "POST", a, "/model-versions/create", obj{"name": "churn", "source": "runs:/" + run + "/model", "run_id": run})
	if str(v, "model_version", "status") != "READY" || str(v, "model_version", "version") != "1" ||
		str(v, "model_version", "name") != full || str(v, "model_version", "current_stage") != "None" {
		t.Errorf("version: %v", v)
	}
	uri := str(tw.mustAPI(tw.aDev, "GET", a, "/model-versions/get-download-uri", url.Values{"name": {"churn"}, "version": {"1"}}), "artifact_uri")
	if want := "mlflow-artifacts:/" + exp + "/" + run + "/artifacts/model"; uri != want {
		t.Errorf("download uri %q, want %q", uri, want)
	}
	// Versions only from runs the caller can read.
	for _, body := range []obj{
		{"name": "churn", "source": "runs:/" + bRun + "/model", "run_id": bRun},
		{"name": "churn", "source": "mlflow-artifacts:/" + bExp + "/" + bRun + "/artifacts/model", "run_id": bRun},
		{"name": "churn", "source": "mlflow-artifacts:/" + bExp + "/" + bRun + "/artifacts/model", "run_id": run},
		{"name": "churn", "source": "mlflow-artifacts:/" + exp + "/" + run + "/artifacts/../../x", "run_id": run},
		{"name": "churn", "source": "s3://bucket/m", "run_id": bRun},
		{"name": "churn", "source": "/tmp/model"},
	} {
		wantError(t, "version from "+str(body, "source"), tw.api(tw.aDev, "POST", a, "/model-versions/create", body),
			http.StatusBadRequest, "INVALID_PARAMETER_VALUE")
	}
	tw.mustAPI(tw.aDev, "POST", a, "/model-versions/create", obj{"name": full, "source": "mlflow-artifacts:/" + exp + "/" + run + "/artifacts/m2", "run_id": run})
	tw.mustAPI(tw.aDev, "POST", a, "/model-versions/create", obj{"name": "churn", "source": "models:/churn/1"})

	// Aliases, stages, tags through completed names.
	tw.mustAPI(tw.aDev, "POST", a, "/registered-models/alias", obj{"name": "churn", "alias": "champion", "version": "2"})
	wantError(t, "reserved alias", tw.api(tw.aDev, "POST", a, "/registered-models/alias", obj{"name": "churn", "alias": "v1", "version": "1"}),
		http.StatusBadRequest, "INVALID_PARAMETER_VALUE", "reserved")
	got := tw.mustAPI(tw.aDev, "GET", a, "/registered-models/alias", url.Values{"name": {"churn"}, "alias": {"champion"}})
	if str(got, "model_version", "version") != "2" {
		t.Errorf("alias: %v", got)
	}
	tw.mustAPI(tw.aDev, "POST", a, "/model-versions/transition-stage", obj{"name": "churn", "version": "1", "stage": "production"})
	tw.mustAPI(tw.aDev, "POST", a, "/model-versions/transition-stage", obj{"name": "churn", "version": "2", "stage": "Production",
		"archive_existing_versions": true})
	lv := tw.mustAPI(tw.aDev, "POST", a, "/registered-models/get-latest-versions", obj{"name": "churn", "stages": []string{"production"}})
	if l := list(lv, "model_versions"); len(l) != 1 || str(l[0], "version") != "2" {
		t.Errorf("latest production: %v", lv)
	}
	wantError(t, "ownership tag", tw.api(tw.aDev, "POST", a, "/registered-models/set-tag", obj{"name": "churn", "key": "project", "value": "x"}),
		http.StatusForbidden, "PERMISSION_DENIED")
	tw.mustAPI(tw.aDev, "POST", a, "/model-versions/set-tag", obj{"name": "churn", "version": "1", "key": "k", "value": "v"})
	vs := tw.mustAPI(tw.aDev, "GET", a, "/model-versions/search", url.Values{"filter": {"tags.k = 'v'"}})
	if l := list(vs, "model_versions"); len(l) != 1 || str(l[0], "version") != "1" {
		t.Errorf("version search by tag: %v", vs)
	}

	// B's model of the same short name is B's; A's URI naming it answers 404.
	tw.mustAPI(tw.bDev, "POST", b, "/registered-models/create", obj{"name": "churn"})
	for _, c := range []struct{ method, route string }{
		{"GET", "/registered-models/get"}, {"GET", "/registered-models/get-latest-versions"},
	} {
		wantError(t, c.route, tw.api(tw.aDev, c.method, a, c.route, url.Values{"name": {"churn" + suffix(tw.b)}}),
			http.StatusNotFound, "RESOURCE_DOES_NOT_EXIST")
	}
	wantError(t, "delete B's", tw.api(tw.aDev, "DELETE", a, "/registered-models/delete", obj{"name": "churn" + suffix(tw.b)}),
		http.StatusNotFound, "RESOURCE_DOES_NOT_EXIST")

	// SharingHub's own call: the project's models with their latest versions.
	r := tw.do(request{method: "GET", path: a + "/api/2.0/mlflow/registered-models/search", token: tw.aDev})
	if r.status != http.StatusOK {
		t.Fatalf("search: %d %s", r.status, r.raw)
	}
	models := list(r.body, "registered_models")
	if len(models) != 1 || str(models[0], "name") != full || len(list(models[0], "latest_versions")) != 3 {
		t.Errorf("SharingHub search: %s", r.raw)
	}
	if strings.Contains(string(r.raw), suffix(tw.b)) {
		t.Errorf("A's search shows B's model: %s", r.raw)
	}
	// The global scope sees both, for a member of both, read-only.
	var names []string
	for _, m := range list(tw.mustAPI(tw.aDev, "GET", "", "/registered-models/search", url.Values{}), "registered_models") {
		names = append(names, str(m, "name"))
	}
	if !slices.Equal(names, []string{full}) {
		t.Errorf("global search for A's developer: %v", names)
	}
	wantError(t, "global create", tw.api(tw.aDev, "POST", "", "/registered-models/create", obj{"name": "g" + suffix(tw.a)}),
		http.StatusForbidden, "PERMISSION_DENIED")

	// Rename keeps the suffix; delete removes everything.
	rn := tw.mustAPI(tw.aDev, "POST", a, "/registered-models/rename", obj{"name": "churn", "new_name": "churn2"})
	if str(rn, "registered_model", "name") != "churn2"+suffix(tw.a) {
		t.Errorf("rename: %v", rn)
	}
	tw.mustAPI(tw.aDev, "DELETE", a, "/model-versions/delete", obj{"name": "churn2", "version": "3"})
	wantError(t, "deleted version", tw.api(tw.aDev, "GET", a, "/model-versions/get", url.Values{"name": {"churn2"}, "version": {"3"}}),
		http.StatusNotFound, "RESOURCE_DOES_NOT_EXIST")
	tw.mustAPI(tw.aDev, "DELETE", a, "/registered-models/delete", obj{"name": "churn2"})
	wantError(t, "deleted model", tw.api(tw.aDev, "GET", a, "/registered-models/get", url.Values{"name": {"churn2"}}),
		http.StatusNotFound, "RESOURCE_DOES_NOT_EXIST")
}

// TestRegistryBadInput checks MLflow's answers to bad registry requests.
func TestRegistryBadInput(t *testing.T) {
	ts := newTestServer(t)
	ts.mustOK("POST", "/api/2.0/mlflow/registered-models/create", map[string]any{"name": "m"})
	for _, c := range []struct {
		method, path string
		body         any
		code         int
		want         string
	}{
		{"POST", "/api/2.0/mlflow/registered-models/create", map[string]any{}, 400, "Missing value for required parameter 'name'"},
		{"POST", "/api/2.0/mlflow/registered-models/create", map[string]any{"name": "a/b"}, 400, "Names cannot contain '/' or ':'"},
		{"GET", "/api/2.0/mlflow/model-versions/get?name=m&version=x", nil, 400, "Parameter 'version' must be an integer, got 'x'."},
		{"GET", "/api/2.0/mlflow/model-versions/get?name=m&version=1", nil, 404, "Model Version (name=m, version=1) not found"},
		{"GET", "/api/2.0/mlflow/registered-models/get?name=nope", nil, 404, "Registered Model with name=nope not found"},
		{"POST", "/api/2.0/mlflow/model-versions/transition-stage", map[string]any{"name": "m", "version": "1", "stage": "prod"}, 400,
			"Invalid Model Version stage: prod. Value must be one of None, Staging, Production, Archived."},
		{"POST", "/api/2.0/mlflow/registered-models/alias", map[string]any{"name": "m", "alias": "Latest", "version": "1"}, 400,
			"'latest' alias name (case insensitive) is reserved."},
		{"GET", "/api/2.0/mlflow/registered-models/alias?name=m&alias=nope", nil, 400, "Registered model alias nope not found."},
		{"GET", "/api/2.0/mlflow/registered-models/search?max_results=1001", nil, 400, "It must be at most 1000"},
		{"GET", "/api/2.0/mlflow/registered-models/search?filter=" + url.QueryEscape("run_id = 'x'"), nil, 400, "Invalid attribute key 'run_id' specified."},
		{"GET", "/api/2.0/mlflow/registered-models/search?order_by=creation_timestamp", nil, 400, "Invalid order by key 'creation_timestamp' specified."},
		{"GET", "/api/2.0/mlflow/model-versions/search?filter=" + url.QueryEscape("version_number LIKE '1'"), nil, 400,
			"Invalid comparator for attribute version_number: LIKE"},
		{"GET", "/model-versions/get-artifact?name=m&version=1&path=MLmodel", nil, 404, "not found"},
	} {
		code, out := ts.call(c.method, c.path, c.body)
		msg, _ := out["message"].(string)
		if code != c.code || !strings.Contains(msg, c.want) {
			t.Errorf("%s %s: %d %q, want %d %q", c.method, c.path, code, msg, c.code, c.want)
		}
	}
	// The ajax twin, camelCase fields and the GET form of get-latest-versions.
	ts.mustOK("POST", "/ajax-api/2.0/mlflow/model-versions/create", map[string]any{"name": "m", "source": "s3://b/m"})
	out := ts.mustOK("GET", "/api/2.0/mlflow/registered-models/get-latest-versions?name=m", nil)
	if vs, _ := out["model_versions"].([]any); len(vs) != 1 {
		t.Errorf("latest versions: %v", out)
	}
	ts.mustOK("PATCH", "/api/2.0/mlflow/model-versions/update", map[string]any{"name": "m", "version": "1", "description": "d"})
	code, out := ts.call("GET", "/model-versions/get-artifact?name=m&version=1&path=MLmodel", nil)
	if code != http.StatusNotImplemented || out["error_code"] != "NOT_IMPLEMENTED" {
		t.Errorf("get-artifact of an s3 version: %d %v", code, out)
	}
}
