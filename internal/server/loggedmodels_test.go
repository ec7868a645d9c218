package server

import (
	"encoding/json"
	"strings"
	"testing"

	gocmp "github.com/google/go-cmp/cmp"
)

// lmSetup creates an experiment and a run and returns their ids.
func lmSetup(ts *testServer) (exp, run string) {
	exp = ts.mustOK("POST", "/api/2.0/mlflow/experiments/create", map[string]any{"name": "lm"})["experiment_id"].(string)
	run = ts.mustOK("POST", "/api/2.0/mlflow/runs/create", map[string]any{"experiment_id": exp})["run"].(map[string]any)["info"].(map[string]any)["run_id"].(string)
	return exp, run
}

func modelInfo(out map[string]any) map[string]any {
	return out["model"].(map[string]any)["info"].(map[string]any)
}

func TestLoggedModelLifecycle(t *testing.T) {
	ts := newTestServer(t)
	exp, run := lmSetup(ts)
	out := ts.mustOK("POST", "/api/2.0/mlflow/logged-models", map[string]any{
		"experiment_id": exp, "name": "model", "source_run_id": run, "model_type": "sklearn",
		"params": []map[string]any{{"key": "alpha", "value": "0.5"}},
		"tags":   []map[string]any{{"key": "mlflow.user", "value": "me"}, {"key": "mlflow.model.isExternal", "value": "true"}},
	})
	info := modelInfo(out)
	id := info["model_id"].(string)
	if len(id) != 34 || !strings.HasPrefix(id, "m-") {
		t.Fatalf("model_id %q", id)
	}
	if got, want := info["artifact_uri"], "mlflow-artifacts:/"+exp+"/models/"+id+"/artifacts"; !strings.HasSuffix(got.(string), "/"+exp+"/models/"+id+"/artifacts") {
		t.Errorf("artifact_uri = %v, want like %v", got, want)
	}
	if info["status"] != "LOGGED_MODEL_PENDING" || info["source_run_id"] != run || info["model_type"] != "sklearn" || info["name"] != "model" {
		t.Errorf("info = %v", info)
	}
	if _, ok := info["creation_timestamp_ms"].(float64); !ok {
		t.Errorf("creation_timestamp_ms is not a number: %v", info["creation_timestamp_ms"])
	}
	base := "/api/2.0/mlflow/logged-models/" + id
	// Params beyond create, then a metric linked through log-batch and log-metric.
	ts.mustOK("POST", base+"/params", map[string]any{"model_id": id, "params": []map[string]any{{"key": "beta", "value": "2"}}})
	ts.mustOK("POST", "/api/2.0/mlflow/runs/log-batch", map[string]any{"run_id": run, "metrics": []map[string]any{
		{"key": "acc", "value": 0.9, "timestamp": 10, "step": 1, "model_id": id, "dataset_name": "ds", "dataset_digest": "d1"},
		{"key": "plain", "value": 1, "timestamp": 10, "step": 1},
	}})
	ts.mustOK("POST", "/api/2.0/mlflow/runs/log-metric", map[string]any{"run_id": run, "key": "loss", "value": 0.1, "timestamp": 11, "step": 2, "model_id": id})
	// Logging the same point again is not an error.
	ts.mustOK("POST", "/api/2.0/mlflow/runs/log-metric", map[string]any{"run_id": run, "key": "loss", "value": 0.1, "timestamp": 11, "step": 2, "model_id": id})
	ts.mustOK("PATCH", base+"/tags", map[string]any{"model_id": id, "tags": []map[string]any{{"key": "k", "value": "v"}}})
	ts.mustOK("DELETE", base+"/tags/mlflow.model.isExternal", nil)
	code, body := ts.call("DELETE", base+"/tags/nope", nil)
	if code != 404 || body["message"] != "No tag with key 'nope' found for model with ID '"+id+"'." {
		t.Errorf("delete missing tag: %d %v", code, body)
	}
	fin := ts.mustOK("PATCH", base, map[string]any{"model_id": id, "status": "LOGGED_MODEL_READY"})
	if modelInfo(fin)["status"] != "LOGGED_MODEL_READY" {
		t.Errorf("finalize: %v", fin)
	}
	got := ts.mustOK("GET", base, nil)["model"].(map[string]any)
	raw, _ := json.Marshal(got["data"])
	var data struct {
		Params  []map[string]any `json:"params"`
		Metrics []map[string]any `json:"metrics"`
	}
	_ = json.Unmarshal(raw, &data)
	wantParams := []map[string]any{{"key": "alpha", "value": "0.5"}, {"key": "beta", "value": "2"}}
	if diff := gocmp.Diff(wantParams, data.Params); diff != "" {
		t.Errorf("params (-want +got):\n%s", diff)
	}
	wantMetrics := []map[string]any{
		{"key": "acc", "value": 0.9, "timestamp": 10.0, "step": 1.0, "model_id": id, "run_id": run, "dataset_name": "ds", "dataset_digest": "d1"},
		{"key": "loss", "value": 0.1, "timestamp": 11.0, "step": 2.0, "model_id": id, "run_id": run},
	}
	if diff := gocmp.Diff(wantMetrics, data.Metrics); diff != "" {
		t.Errorf("metrics (-want +got):\n%s", diff)
	}
	wantTags := []any{map[string]any{"key": "k", "value": "v"}, map[string]any{"key": "mlflow.user", "value": "me"}}
	if diff := gocmp.Diff(wantTags, got["info"].(map[string]any)["tags"]); diff != "" {
		t.Errorf("tags (-want +got):\n%s", diff)
	}

	ts.mustOK("DELETE", base, nil)
	code, body = ts.call("GET", base, nil)
	if code != 404 || body["error_code"] != "RESOURCE_DOES_NOT_EXIST" || body["message"] != "Logged model with ID '"+id+"' not found." {
		t.Errorf("get after delete: %d %v", code, body)
	}
	if out := ts.mustOK("GET", base+"?allow_deleted=true", nil); modelInfo(out)["model_id"] != id {
		t.Errorf("allow_deleted: %v", out)
	}
	if out := ts.mustOK("POST", "/api/2.0/mlflow/logged-models/search", map[string]any{"experiment_ids": []string{exp}}); len(out) != 0 {
		t.Errorf("search after delete: %v", out)
	}
}

func TestLoggedModelErrors(t *testing.T) {
	ts := newTestServer(t)
	exp, run := lmSetup(ts)
	cases := []struct {
		name, method, path string
		body               any
		status             int
		code, msg          string
	}{
		{"no experiment", "POST", "/api/2.0/mlflow/logged-models", map[string]any{}, 400, "INVALID_PARAMETER_VALUE", "Missing value for required parameter 'experiment_id'"},
		{"unknown experiment", "POST", "/api/2.0/mlflow/logged-models", map[string]any{"experiment_id": "99"}, 404, "RESOURCE_DOES_NOT_EXIST", "No Experiment with id=99 exists"},
		{"bad name", "POST", "/api/2.0/mlflow/logged-models", map[string]any{"experiment_id": exp, "name": "a/b"}, 400, "INVALID_PARAMETER_VALUE", "Invalid model name ('a/b') provided"},
		{"unknown source run", "POST", "/api/2.0/mlflow/logged-models", map[string]any{"experiment_id": exp, "source_run_id": "abc"}, 404, "RESOURCE_DOES_NOT_EXIST", "Run with id=abc not found"},
		{"duplicate params", "POST", "/api/2.0/mlflow/logged-models", map[string]any{"experiment_id": exp, "params": []map[string]any{{"key": "a", "value": "1"}, {"key": "a", "value": "2"}}}, 400, "INVALID_PARAMETER_VALUE", "'a'"},
		{"get unknown", "GET", "/api/2.0/mlflow/logged-models/m-nope", nil, 404, "RESOURCE_DOES_NOT_EXIST", "Logged model with ID 'm-nope' not found."},
		{"finalize unknown", "PATCH", "/api/2.0/mlflow/logged-models/m-nope", map[string]any{"status": "LOGGED_MODEL_READY"}, 404, "RESOURCE_DOES_NOT_EXIST", "m-nope"},
		{"finalize no status", "PATCH", "/api/2.0/mlflow/logged-models/m-nope", map[string]any{}, 400, "INVALID_PARAMETER_VALUE", "'status'"},
		{"finalize bad status", "PATCH", "/api/2.0/mlflow/logged-models/m-nope", map[string]any{"status": "DONE"}, 400, "INVALID_PARAMETER_VALUE", "status"},
		{"search no ids", "POST", "/api/2.0/mlflow/logged-models/search", map[string]any{}, 400, "INVALID_PARAMETER_VALUE", "'experiment_ids'"},
		{"search bad filter", "POST", "/api/2.0/mlflow/logged-models/search", map[string]any{"experiment_ids": []string{exp}, "filter": "metrics.acc LIKE 'x'"}, 400, "INVALID_PARAMETER_VALUE", "Invalid comparison operator for metrics.acc"},
		{"search bad order", "POST", "/api/2.0/mlflow/logged-models/search", map[string]any{"experiment_ids": []string{exp}, "order_by": []map[string]any{{"field_name": "params.x"}}}, 400, "INVALID_PARAMETER_VALUE", "Only metrics are supported"},
		{"search dataset without name", "POST", "/api/2.0/mlflow/logged-models/search", map[string]any{"experiment_ids": []string{exp}, "datasets": []map[string]any{{"dataset_digest": "x"}}}, 400, "INVALID_PARAMETER_VALUE", "`dataset_name`"},
		{"metric for unknown model", "POST", "/api/2.0/mlflow/runs/log-metric", map[string]any{"run_id": run, "key": "m", "value": 1, "timestamp": 1, "model_id": "m-nope"}, 404, "RESOURCE_DOES_NOT_EXIST", "m-nope"},
		{"log-model bad json", "POST", "/api/2.0/mlflow/runs/log-model", map[string]any{"run_id": run, "model_json": "{"}, 400, "INVALID_PARAMETER_VALUE", "Malformed model info"},
		{"log-model missing fields", "POST", "/api/2.0/mlflow/runs/log-model", map[string]any{"run_id": run, "model_json": `{"run_id": "x"}`}, 400, "INVALID_PARAMETER_VALUE", "{'artifact_path', 'flavors', 'utc_time_created'}"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, body := ts.call(c.method, c.path, c.body)
			if code != c.status || body["error_code"] != c.code || !strings.Contains(body["message"].(string), c.msg) {
				t.Errorf("%d %v, want %d %s %q", code, body, c.status, c.code, c.msg)
			}
		})
	}
	// A failed batch writes nothing, run metrics included.
	if h := ts.mustOK("GET", "/api/2.0/mlflow/metrics/get-history?run_id="+run+"&metric_key=m", nil); len(h) != 0 {
		t.Errorf("history after a refused batch: %v", h)
	}
}

func TestSearchLoggedModelsHTTP(t *testing.T) {
	ts := newTestServer(t)
	exp, run := lmSetup(ts)
	var ids []string
	for i, name := range []string{"a", "b", "c"} {
		out := ts.mustOK("POST", "/api/2.0/mlflow/logged-models", map[string]any{"experiment_id": exp, "name": name,
			"params": []map[string]any{{"key": "p", "value": name}}})
		id := modelInfo(out)["model_id"].(string)
		ids = append(ids, id)
		ts.mustOK("POST", "/api/2.0/mlflow/runs/log-metric", map[string]any{"run_id": run, "key": "acc", "value": float64(i) / 10,
			"timestamp": 1, "step": 0, "model_id": id, "dataset_name": "eval"})
	}
	ts.mustOK("PATCH", "/api/2.0/mlflow/logged-models/"+ids[1], map[string]any{"status": "LOGGED_MODEL_READY"})
	names := func(out map[string]any) []string {
		var n []string
		ms, _ := out["models"].([]any)
		for _, m := range ms {
			n = append(n, m.(map[string]any)["info"].(map[string]any)["name"].(string))
		}
		return n
	}
	search := func(body map[string]any) map[string]any {
		body["experiment_ids"] = []string{exp}
		return ts.mustOK("POST", "/api/2.0/mlflow/logged-models/search", body)
	}
	for _, c := range []struct {
		name string
		body map[string]any
		want []string
	}{
		{"metric filter", map[string]any{"filter": "metrics.acc >= 0.1", "order_by": []map[string]any{{"field_name": "metrics.acc", "ascending": false}}}, []string{"c", "b"}},
		{"params and name", map[string]any{"filter": "params.p = 'a' AND name LIKE 'a%'"}, []string{"a"}},
		{"status", map[string]any{"filter": "status = 'READY'"}, []string{"b"}},
		{"status in", map[string]any{"filter": "status IN ('PENDING')", "order_by": []map[string]any{{"field_name": "name"}}}, []string{"a", "c"}},
		{"order by name", map[string]any{"order_by": []map[string]any{{"field_name": "name", "ascending": true}}}, []string{"a", "b", "c"}},
		{"dataset", map[string]any{"datasets": []map[string]any{{"dataset_name": "eval"}}, "order_by": []map[string]any{{"field_name": "metrics.acc", "dataset_name": "eval"}}}, []string{"a", "b", "c"}},
		{"other dataset", map[string]any{"datasets": []map[string]any{{"dataset_name": "other"}}}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			if diff := gocmp.Diff(c.want, names(search(c.body))); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	// Paging: two pages of 2 and 1, the token bound to the request.
	order := []map[string]any{{"field_name": "name"}}
	p1 := search(map[string]any{"max_results": 2, "order_by": order})
	tok, _ := p1["next_page_token"].(string)
	if diff := gocmp.Diff([]string{"a", "b"}, names(p1)); diff != "" || tok == "" {
		t.Fatalf("page 1 %v (%s)", p1, diff)
	}
	p2 := search(map[string]any{"max_results": 2, "order_by": order, "page_token": tok})
	if diff := gocmp.Diff([]string{"c"}, names(p2)); diff != "" || p2["next_page_token"] != nil {
		t.Errorf("page 2 %v (%s)", p2, diff)
	}
	code, body := ts.call("POST", "/api/2.0/mlflow/logged-models/search", map[string]any{"experiment_ids": []string{exp}, "page_token": tok})
	if code != 400 || !strings.Contains(body["message"].(string), "Order by in the page token does not match") {
		t.Errorf("token with another order_by: %d %v", code, body)
	}
}

func TestLogModelHistory(t *testing.T) {
	ts := newTestServer(t)
	_, run := lmSetup(ts)
	model := func(path string) string {
		return `{"run_id": "` + run + `", "artifact_path": "` + path + `", "utc_time_created": "2024-01-01 00:00:00.000000",` +
			`"flavors": {"sklearn": {"pickled_model": "model.pkl", "config": {"x": 1}}, "python_function": {"loader_module": "mlflow.sklearn"}},` +
			`"model_uuid": "u1", "mlflow_version": "2.14.0"}`
	}
	ts.mustOK("POST", "/api/2.0/mlflow/runs/log-model", map[string]any{"run_id": run, "model_json": model("m1")})
	ts.mustOK("POST", "/api/2.0/mlflow/runs/log-model", map[string]any{"run_id": run, "model_json": model("m2")})
	out := ts.mustOK("GET", "/api/2.0/mlflow/runs/get?run_id="+run, nil)
	var got string
	for _, tg := range out["run"].(map[string]any)["data"].(map[string]any)["tags"].([]any) {
		if tg.(map[string]any)["key"] == "mlflow.log-model.history" {
			got = tg.(map[string]any)["value"].(string)
		}
	}
	entry := func(path string) string {
		return `{"run_id": "` + run + `", "artifact_path": "` + path + `", "utc_time_created": "2024-01-01 00:00:00.000000", ` +
			`"model_uuid": "u1", "flavors": {"sklearn": {"pickled_model": "model.pkl"}, "python_function": {"loader_module": "mlflow.sklearn"}}}`
	}
	if want := "[" + entry("m1") + ", " + entry("m2") + "]"; got != want {
		t.Errorf("history tag\n got %s\nwant %s", got, want)
	}
}
