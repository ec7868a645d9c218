package server

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
)

func TestLoggedModelArtifactRoutes(t *testing.T) {
	ts := newArtifactServer(t)
	exp, run := ts.newExperimentRun("lmarts")
	id := modelInfo(ts.mustOK("POST", "/api/2.0/mlflow/logged-models", map[string]any{
		"experiment_id": exp, "name": "m", "source_run_id": run,
	}))["model_id"].(string)
	root := "mlflow-artifacts:/" + exp + "/models/" + id + "/artifacts"
	for _, f := range []struct{ p, body string }{{"MLmodel", "flavors: {}"}, {"sub/model.pkl", "pickle"}} {
		if resp, out := ts.raw("PUT", artAPI+exp+"/models/"+id+"/artifacts/"+f.p, strings.NewReader(f.body), nil); resp.StatusCode != 200 {
			t.Fatalf("put %s: %d %s", f.p, resp.StatusCode, out)
		}
	}
	dirs := "/mlflow/logged-models/" + id + "/artifacts/directories"
	for _, prefix := range []string{"/api/2.0", "/ajax-api/2.0"} {
		got := ts.mustOK("GET", prefix+dirs, nil)
		if got["root_uri"] != root || fmt.Sprint(got["files"]) != "[map[file_size:11 is_dir:false path:MLmodel] map[is_dir:true path:sub]]" {
			t.Errorf("%s list root = %v", prefix, got)
		}
	}
	got := ts.mustOK("GET", "/api/2.0"+dirs+"?artifact_directory_path=sub", nil)
	if fmt.Sprint(got["files"]) != "[map[file_size:6 is_dir:false path:sub/model.pkl]]" {
		t.Errorf("list sub = %v (want model-relative paths)", got)
	}
	if got := ts.mustOK("GET", "/api/2.0"+dirs+"?artifact_directory_path=missing", nil); got["files"] != nil || got["root_uri"] != root {
		t.Errorf("list missing = %v", got)
	}

	files := "/ajax-api/2.0/mlflow/logged-models/" + id + "/artifacts/files"
	resp, body := ts.raw("GET", files+"?artifact_file_path=sub/model.pkl", nil, nil)
	if resp.StatusCode != 200 || string(body) != "pickle" ||
		resp.Header.Get("Content-Disposition") != "attachment; filename=model.pkl" ||
		resp.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("files = %d %q %v", resp.StatusCode, body, resp.Header)
	}
	if resp, _ := ts.raw("GET", "/api/2.0/mlflow/logged-models/"+id+"/artifacts/files?artifact_file_path=MLmodel", nil, nil); resp.StatusCode != 404 {
		t.Errorf("files under /api/2.0 = %d, want 404 (ajax-api only)", resp.StatusCode)
	}
	if code, b := ts.call("GET", files, nil); code != 400 || b["error_code"] != "INVALID_PARAMETER_VALUE" {
		t.Errorf("files without path = %d %v", code, b)
	}
	if code, b := ts.call("GET", files+"?artifact_file_path=nope", nil); code != 404 || b["error_code"] != "RESOURCE_DOES_NOT_EXIST" {
		t.Errorf("files missing = %d %v", code, b)
	}
	if code, b := ts.call("GET", files+"?artifact_file_path=sub", nil); code != 400 {
		t.Errorf("files on a directory = %d %v", code, b)
	}
	// Another model's id, unknown or deleted, is not there.
	ghost := "m-0badc0de0badc0de0badc0de0badc0de"
	if code, b := ts.call("GET", "/api/2.0/mlflow/logged-models/"+ghost+"/artifacts/directories", nil); code != 404 || b["error_code"] != "RESOURCE_DOES_NOT_EXIST" {
		t.Errorf("unknown model list = %d %v", code, b)
	}
	// Traversal: out of the model into the run's or another experiment's files.
	ts.raw("PUT", artAPI+exp+"/"+run+"/artifacts/secret.txt", strings.NewReader("run-secret-bytes"), nil)
	for _, p := range []string{"../../../" + run + "/artifacts/secret.txt", "..", "sub/../../x", "/etc/passwd", `sub\..\..\x`, "sub//model.pkl", "./MLmodel", "%2e%2e/x"} {
		q := url.Values{"artifact_file_path": {p}}.Encode()
		resp, body := ts.raw("GET", files+"?"+q, nil, nil)
		if resp.StatusCode == 200 || strings.Contains(string(body), "run-secret-bytes") {
			t.Errorf("files %q = %d %s", p, resp.StatusCode, body)
		}
		q = url.Values{"artifact_directory_path": {p}}.Encode()
		resp, body = ts.raw("GET", "/api/2.0"+dirs+"?"+q, nil, nil)
		if p != "%2e%2e/x" && resp.StatusCode != 400 || strings.Contains(string(body), "run-secret-bytes") {
			t.Errorf("list %q = %d %s", p, resp.StatusCode, body)
		}
	}
	ts.mustOK("DELETE", "/api/2.0/mlflow/logged-models/"+id, nil)
	if code, _ := ts.call("GET", files+"?artifact_file_path=MLmodel", nil); code != 404 {
		t.Errorf("files of a deleted model = %d", code)
	}
}

// TestLoggedModelArtifactsCrossProject: project A's model is not there
// through project B's URI, with B's owner token.
func TestLoggedModelArtifactsCrossProject(t *testing.T) {
	w := newWorld(t, worldOptions{})
	a, b := w.project("team/alpha"), w.project("team/beta")
	ownerA, ownerB := w.user("ownera"), w.user("ownerb")
	w.gl.AddProjectMember(a.Path, "ownera", 50)
	w.gl.AddProjectMember(b.Path, "ownerb", 50)
	expA := str(w.mustAPI(ownerA, "POST", trackingURI(a), "/experiments/create", obj{"name": "lma"}), "experiment_id")
	id := str(w.mustAPI(ownerA, "POST", trackingURI(a), "/logged-models", obj{"experiment_id": expA, "name": "m"}), "model", "info", "model_id")
	p := "/api/2.0/mlflow-artifacts/artifacts/" + expA + "/models/" + id + "/artifacts/MLmodel"
	if r := w.do(request{method: "PUT", path: trackingURI(a) + p, token: ownerA, body: "alpha-secret-bytes"}); r.status != 200 {
		t.Fatalf("A uploads: %d %s", r.status, r.raw)
	}
	files := "/ajax-api/2.0/mlflow/logged-models/" + id + "/artifacts/files"
	if r := w.do(request{method: "GET", path: trackingURI(a) + files, token: ownerA, query: url.Values{"artifact_file_path": {"MLmodel"}}}); r.status != 200 || !strings.Contains(string(r.raw), "alpha-secret-bytes") {
		t.Fatalf("A downloads: %d %s", r.status, r.raw)
	}
	for _, rq := range []request{
		{method: "GET", path: trackingURI(b) + files, query: url.Values{"artifact_file_path": {"MLmodel"}}},
		{method: "GET", path: trackingURI(b) + "/api/2.0/mlflow/logged-models/" + id + "/artifacts/directories"},
	} {
		rq.token = ownerB
		r := w.do(rq)
		if r.status != 404 || r.errorCode() != "RESOURCE_DOES_NOT_EXIST" || strings.Contains(string(r.raw), "alpha-secret") || strings.Contains(string(r.raw), "MLmodel") {
			t.Errorf("%s %s as B's owner in B = %d %s", rq.method, rq.path, r.status, truncateBody(r.raw))
		}
	}
}
