package server

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/csgroup-oss/mlflow-sharinghub-go/internal/store"
)

// testServer is the real handler on a real SQLite database in a temp dir.
type testServer struct {
	t   *testing.T
	srv *httptest.Server
}

func newTestServer(t *testing.T) *testServer {
	t.Helper()
	st, err := store.Open(context.Background(), "sqlite:///"+filepath.Join(t.TempDir(), "m.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	h := New(st, slog.New(slog.NewTextHandler(io.Discard, nil)), Options{})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &testServer{t: t, srv: srv}
}

// call sends a request and returns status and decoded JSON body.
func (ts *testServer) call(method, path string, body any) (int, map[string]any) {
	ts.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		raw, _ := json.Marshal(b)
		rd = bytes.NewReader(raw)
	}
	req, _ := http.NewRequest(method, ts.srv.URL+path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		ts.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if len(raw) > 0 && raw[0] == '{' {
		if err := json.Unmarshal(raw, &out); err != nil {
			ts.t.Fatalf("%s %s: bad JSON %q", method, path, raw)
		}
	}
	return resp.StatusCode, out
}

func (ts *testServer) mustOK(method, path string, body any) map[string]any {
	ts.t.Helper()
	code, out := ts.call(method, path, body)
	if code != 200 {
		ts.t.Fatalf("%s %s: status %d, body %v", method, path, code, out)
	}
	return out
}

func TestRoutesHaveAccessRules(t *testing.T) {
	seen := map[string]bool{}
	for _, rt := range routes() {
		for _, p := range rt.paths() {
			key := rt.method + " " + p
			if seen[key] {
				t.Errorf("route %s declared twice", key)
			}
			seen[key] = true
			if rt.rule == ruleNone {
				t.Errorf("route %s has no access rule", key)
			}
			if rt.handler == nil {
				t.Errorf("route %s has no handler", key)
			}
		}
	}
}

func TestUnknownRoutesAre404(t *testing.T) {
	ts := newTestServer(t)
	for _, p := range []string{"/api/2.0/mlflow/nope", "/api/2.0/mlflow/runs", "/x", "/api/2.0/mlflow/runs/get/extra"} {
		code, body := ts.call("GET", p, nil)
		if code != 404 || body["error_code"] != "ENDPOINT_NOT_FOUND" {
			t.Errorf("GET %s = %d %v, want 404 ENDPOINT_NOT_FOUND", p, code, body)
		}
	}
}

func TestBadInputAnswersMLflowErrors(t *testing.T) {
	ts := newTestServer(t)
	exp := ts.mustOK("POST", "/api/2.0/mlflow/experiments/create", map[string]any{"name": "e"})["experiment_id"].(string)
	run := ts.mustOK("POST", "/api/2.0/mlflow/runs/create", map[string]any{"experiment_id": exp})["run"].(map[string]any)["info"].(map[string]any)["run_id"].(string)
	cases := []struct {
		name, method, path string
		body               any
		status             int
		code               string
		msg                string
	}{
		{"malformed json", "POST", "/api/2.0/mlflow/experiments/create", `{"name":`, 400, "INVALID_PARAMETER_VALUE", "Malformed"},
		{"not an object", "POST", "/api/2.0/mlflow/experiments/create", `[1]`, 400, "INVALID_PARAMETER_VALUE", "JSON object"},
		{"wrong type", "POST", "/api/2.0/mlflow/experiments/create", `{"name": 5}`, 400, "INVALID_PARAMETER_VALUE", "Invalid value 5 for parameter 'name'"},
		{"missing name", "POST", "/api/2.0/mlflow/experiments/create", `{}`, 400, "INVALID_PARAMETER_VALUE", "Missing value for required parameter 'name'"},
		{"duplicate", "POST", "/api/2.0/mlflow/experiments/create", map[string]any{"name": "e"}, 400, "RESOURCE_ALREADY_EXISTS", "already exists"},
		{"bad experiment id", "GET", "/api/2.0/mlflow/experiments/get?experiment_id=abc", nil, 400, "INVALID_PARAMETER_VALUE", "must be a valid integer"},
		{"unknown experiment", "GET", "/api/2.0/mlflow/experiments/get?experiment_id=999", nil, 404, "RESOURCE_DOES_NOT_EXIST", "No Experiment with id=999"},
		{"unknown name", "GET", "/api/2.0/mlflow/experiments/get-by-name?experiment_name=zz", nil, 404, "RESOURCE_DOES_NOT_EXIST", "Could not find experiment with name 'zz'"},
		{"unknown run", "GET", "/api/2.0/mlflow/runs/get?run_id=ffff", nil, 404, "RESOURCE_DOES_NOT_EXIST", "Run with id=ffff not found"},
		{"missing run id", "GET", "/api/2.0/mlflow/runs/get?x=1", nil, 400, "INVALID_PARAMETER_VALUE", "'run_id'"},
		{"no content type", "POST", "/api/2.0/mlflow/runs/create", nil, 400, "INVALID_PARAMETER_VALUE", "Content-Type header is missing"},
		{"bad metric key", "POST", "/api/2.0/mlflow/runs/log-metric", map[string]any{"run_id": run, "key": "../x", "value": 1, "timestamp": 1}, 400, "INVALID_PARAMETER_VALUE", "resolve"},
		{"bool metric", "POST", "/api/2.0/mlflow/runs/log-metric", map[string]any{"run_id": run, "key": "x", "value": true, "timestamp": 1}, 400, "INVALID_PARAMETER_VALUE", "'value'"},
		{"missing timestamp", "POST", "/api/2.0/mlflow/runs/log-metric", map[string]any{"run_id": run, "key": "x", "value": 1}, 400, "INVALID_PARAMETER_VALUE", "'timestamp'"},
		{"negative max_results", "POST", "/api/2.0/mlflow/runs/search", map[string]any{"experiment_ids": []string{exp}, "max_results": -1}, 400, "INVALID_PARAMETER_VALUE", "positive"},
		{"too many results", "POST", "/api/2.0/mlflow/runs/search", map[string]any{"experiment_ids": []string{exp}, "max_results": 50001}, 400, "INVALID_PARAMETER_VALUE", "50000"},
		{"bad view type", "POST", "/api/2.0/mlflow/runs/search", map[string]any{"experiment_ids": []string{exp}, "run_view_type": "NOPE"}, 400, "INVALID_PARAMETER_VALUE", "run_view_type"},
		{"bad status", "POST", "/api/2.0/mlflow/runs/update", map[string]any{"run_id": run, "status": "DONE"}, 400, "INVALID_PARAMETER_VALUE", "status"},
		{"bad boolean query", "GET", "/api/2.0/mlflow/experiments/get?experiment_id=1&x=1", nil, 200, "", ""},
		{"batch too many params", "POST", "/api/2.0/mlflow/runs/log-batch", map[string]any{"run_id": run, "params": manyParams(101)}, 400, "INVALID_PARAMETER_VALUE", "at most 100 params"},
		{"batch duplicate params", "POST", "/api/2.0/mlflow/runs/log-batch", map[string]any{"run_id": run, "params": []map[string]string{{"key": "a", "value": "1"}, {"key": "a", "value": "2"}}}, 400, "INVALID_PARAMETER_VALUE", "Duplicate parameter keys"},
		{"batch too big", "POST", "/api/2.0/mlflow/runs/log-batch", `{"run_id":"` + run + `","tags":[{"key":"k","value":"` + strings.Repeat("x", 1_000_001) + `"}]}`, 400, "INVALID_PARAMETER_VALUE", "at most 1000000 bytes"},
		{"history without key", "GET", "/api/2.0/mlflow/metrics/get-history?run_id=" + run, nil, 400, "INVALID_PARAMETER_VALUE", "metric_key"},
		{"history bad token", "GET", "/api/2.0/mlflow/metrics/get-history?run_id=" + run + "&metric_key=m&page_token=!!!", nil, 400, "INVALID_PARAMETER_VALUE", "page token"},
		{"interval one step bound", "GET", "/api/2.0/mlflow/metrics/get-history-bulk-interval?run_ids=" + run + "&metric_key=m&start_step=1", nil, 400, "INVALID_PARAMETER_VALUE", "both must be specified"},
		{"interval max results", "GET", "/api/2.0/mlflow/metrics/get-history-bulk-interval?run_ids=" + run + "&metric_key=m&max_results=0", nil, 400, "INVALID_PARAMETER_VALUE", "between 1 and 2500"},
		{"bad filter", "POST", "/api/2.0/mlflow/runs/search", map[string]any{"experiment_ids": []string{exp}, "filter": "metrics.x >"}, 400, "INVALID_PARAMETER_VALUE", ""},
		{"bad page token", "POST", "/api/2.0/mlflow/experiments/search", map[string]any{"page_token": "!!"}, 400, "INVALID_PARAMETER_VALUE", "page token"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, body := ts.call(c.method, c.path, c.body)
			if code != c.status {
				t.Fatalf("status %d, want %d (body %v)", code, c.status, body)
			}
			if c.code == "" {
				return
			}
			if body["error_code"] != c.code {
				t.Errorf("error_code %v, want %s (message %v)", body["error_code"], c.code, body["message"])
			}
			if msg, _ := body["message"].(string); !strings.Contains(msg, c.msg) {
				t.Errorf("message %q does not contain %q", msg, c.msg)
			}
		})
	}
}

func manyParams(n int) []map[string]string {
	out := make([]map[string]string, n)
	for i := range out {
		out[i] = map[string]string{"key": "p" + strings.Repeat("x", i%5) + string(rune('a'+i%26)) + string(rune('a'+i/26)), "value": "v"}
	}
	return out
}

func TestAjaxAndCamelCaseAndGETForms(t *testing.T) {
	ts := newTestServer(t)
	ts.mustOK("POST", "/ajax-api/2.0/mlflow/experiments/create", `{"name":"camel","artifactLocation":"s3://b/x"}`)
	out := ts.mustOK("GET", "/ajax-api/2.0/mlflow/experiments/get-by-name?experiment_name=camel", nil)
	if loc := out["experiment"].(map[string]any)["artifact_location"]; loc != "s3://b/x" {
		t.Errorf("camelCase artifactLocation not applied: %v", loc)
	}
	// A JSON body that is a JSON string (old clients) is decoded twice.
	ts.mustOK("POST", "/api/2.0/mlflow/experiments/create", `"{\"name\": \"twice\"}"`)
	// experiments/search by GET with repeated order_by.
	out = ts.mustOK("GET", "/api/2.0/mlflow/experiments/search?max_results=1&order_by=name%20ASC&order_by=experiment_id", nil)
	exps := out["experiments"].([]any)
	if len(exps) != 1 || out["next_page_token"] == nil {
		t.Errorf("GET search = %v", out)
	}
}

func TestHealthAndVersion(t *testing.T) {
	ts := newTestServer(t)
	for path, want := range map[string]string{"/health": "OK", "/version": store.MLflowVersion} {
		resp, err := http.Get(ts.srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(b) != want {
			t.Errorf("%s = %q, want %q", path, b, want)
		}
	}
}

func TestMetricHistoryStreamsAndPages(t *testing.T) {
	ts := newTestServer(t)
	exp := ts.mustOK("POST", "/api/2.0/mlflow/experiments/create", map[string]any{"name": "e"})["experiment_id"].(string)
	run := ts.mustOK("POST", "/api/2.0/mlflow/runs/create", map[string]any{"experiment_id": exp})["run"].(map[string]any)["info"].(map[string]any)["run_id"].(string)
	var ms []map[string]any
	for i := 0; i < 25; i++ {
		ms = append(ms, map[string]any{"key": "m", "value": i, "timestamp": i, "step": i})
	}
	ms[3]["value"] = "NaN"
	ts.mustOK("POST", "/api/2.0/mlflow/runs/log-batch", map[string]any{"run_id": run, "metrics": ms})
	out := ts.mustOK("GET", "/api/2.0/mlflow/metrics/get-history?run_uuid="+run+"&metric_key=m", nil)
	if n := len(out["metrics"].([]any)); n != 25 {
		t.Fatalf("unpaged history has %d points", n)
	}
	if v := out["metrics"].([]any)[3].(map[string]any)["value"]; v != "NaN" {
		t.Errorf("NaN point encoded as %v", v)
	}
	total, token := 0, ""
	for {
		q := "/api/2.0/mlflow/metrics/get-history?run_id=" + run + "&metric_key=m&max_results=10"
		if token != "" {
			q += "&page_token=" + token
		}
		out := ts.mustOK("GET", q, nil)
		total += len(out["metrics"].([]any))
		tok, _ := out["next_page_token"].(string)
		if tok == "" {
			break
		}
		token = tok
	}
	if total != 25 {
		t.Errorf("paged history returned %d points, want 25", total)
	}
	out = ts.mustOK("GET", "/api/2.0/mlflow/metrics/get-history?run_id="+run+"&metric_key=absent", nil)
	if len(out) != 0 {
		t.Errorf("history of an absent key = %v, want {}", out)
	}
}
