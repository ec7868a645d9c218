package server

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/csgroup-oss/mlflow-sharinghub-go/internal/artifacts"
	"github.com/csgroup-oss/mlflow-sharinghub-go/internal/store"
)

// artifactServer is the real server on SQLite with a local artifact folder.
type artifactServer struct {
	*testServer
	dir string
}

func newArtifactServer(t *testing.T) *artifactServer {
	t.Helper()
	st, err := store.Open(context.Background(), "sqlite:///"+filepath.Join(t.TempDir(), "m.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	dir := filepath.Join(t.TempDir(), "artifacts")
	loc, err := artifacts.NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { loc.Close() })
	h := New(st, slog.New(slog.NewTextHandler(io.Discard, nil)), Options{Artifacts: loc})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &artifactServer{testServer: &testServer{t: t, srv: srv}, dir: dir}
}

// raw sends a request with a raw body and returns the response (body read).
func (ts *testServer) raw(method, path string, body io.Reader, header http.Header) (*http.Response, []byte) {
	ts.t.Helper()
	req, err := http.NewRequest(method, ts.srv.URL+path, body)
	if err != nil {
		ts.t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		ts.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func (ts *testServer) newExperimentRun(name string) (expID, runID string) {
	ts.t.Helper()
	expID = ts.mustOK("POST", "/api/2.0/mlflow/experiments/create", map[string]any{"name": name})["experiment_id"].(string)
	run := ts.mustOK("POST", "/api/2.0/mlflow/runs/create", map[string]any{"experiment_id": expID})
	return expID, run["run"].(map[string]any)["info"].(map[string]any)["run_id"].(string)
}

const artAPI = "/api/2.0/mlflow-artifacts/artifacts/"

func TestArtifactsProxiedRoundTrip(t *testing.T) {
	ts := newArtifactServer(t)
	exp, run := ts.newExperimentRun("arts")
	base := exp + "/" + run + "/artifacts"
	for p, body := range map[string]string{"a.txt": "hello", "dir/b.json": `{"b":1}`, "dir/sub/c.png": "png", "noext": "x"} {
		resp, out := ts.raw("PUT", artAPI+base+"/"+p, strings.NewReader(body), http.Header{"Content-Type": {"text/plain"}})
		if resp.StatusCode != 200 || string(out) != "{}" {
			t.Fatalf("PUT %s: %d %s", p, resp.StatusCode, out)
		}
	}
	for _, prefix := range []string{"/api/2.0", "/ajax-api/2.0"} {
		resp, out := ts.raw("GET", prefix+"/mlflow-artifacts/artifacts/"+base+"/dir/b.json", nil, nil)
		if resp.StatusCode != 200 || string(out) != `{"b":1}` {
			t.Fatalf("GET b.json: %d %s", resp.StatusCode, out)
		}
		if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("Content-Type = %q", ct)
		}
		if cd := resp.Header.Get("Content-Disposition"); cd != "attachment; filename=b.json" {
			t.Errorf("Content-Disposition = %q", cd)
		}
		if resp.Header.Get("X-Content-Type-Options") != "nosniff" || resp.Header.Get("Content-Length") != "7" {
			t.Errorf("headers: %v", resp.Header)
		}
	}
	if resp, _ := ts.raw("GET", artAPI+base+"/noext", nil, nil); resp.Header.Get("Content-Type") != "application/octet-stream" {
		t.Errorf("no extension: Content-Type = %q", resp.Header.Get("Content-Type"))
	}

	list := func(p string) string {
		t.Helper()
		resp, out := ts.raw("GET", "/api/2.0/mlflow-artifacts/artifacts?path="+url.QueryEscape(p), nil, nil)
		if resp.StatusCode != 200 {
			t.Fatalf("list %s: %d %s", p, resp.StatusCode, out)
		}
		return string(out)
	}
	if got, want := list(base), `{"files":[{"path":"a.txt","is_dir":false,"file_size":5},{"path":"dir","is_dir":true},{"path":"noext","is_dir":false,"file_size":1}]}`; got != want {
		t.Errorf("list = %s\nwant %s", got, want)
	}
	if got := list(base + "/dir"); !strings.Contains(got, `{"path":"b.json","is_dir":false,"file_size":7},{"path":"sub","is_dir":true}`) {
		t.Errorf("list dir = %s (want basenames)", got)
	}
	if got := list(base + "/missing"); got != "{}" {
		t.Errorf("list missing = %s, want {}", got)
	}

	// A missing file is a fast JSON 404; a directory is a 400.
	start := time.Now()
	code, body := ts.call("GET", artAPI+base+"/model", nil)
	if code != 404 || body["error_code"] != "RESOURCE_DOES_NOT_EXIST" || time.Since(start) > 2*time.Second {
		t.Errorf("GET missing = %d %v", code, body)
	}
	if code, body := ts.call("GET", artAPI+base+"/dir", nil); code != 400 || body["error_code"] != "INVALID_PARAMETER_VALUE" {
		t.Errorf("GET dir = %d %v", code, body)
	}

	ts.mustOK("DELETE", artAPI+base+"/dir", nil)
	if got := list(base); strings.Contains(got, `"dir"`) {
		t.Errorf("after delete: %s", got)
	}
	ts.mustOK("DELETE", artAPI+base+"/never-there", nil)

	// Unknown experiments answer 404, whatever the rest of the path.
	for _, p := range []string{"999/r/artifacts/x", "notanid/x"} {
		if code, body := ts.call("GET", artAPI+p, nil); code != 404 || body["error_code"] != "RESOURCE_DOES_NOT_EXIST" {
			t.Errorf("GET %s = %d %v", p, code, body)
		}
		if resp, _ := ts.raw("PUT", artAPI+p, strings.NewReader("x"), nil); resp.StatusCode != 404 {
			t.Errorf("PUT %s = %d", p, resp.StatusCode)
		}
	}
}

// TestArtifactsTraversal: no route accepts a path that leaves its
// experiment, however it is spelled, and nothing is written outside the
// artifact folder.
func TestArtifactsTraversal(t *testing.T) {
	ts := newArtifactServer(t)
	exp, run := ts.newExperimentRun("trav")
	ts.raw("PUT", artAPI+exp+"/"+run+"/artifacts/ok.txt", strings.NewReader("ok"), nil)
	if err := os.WriteFile(filepath.Join(filepath.Dir(ts.dir), "outside.txt"), []byte("secret"), 0o644); err != nil {
		t.Fatal(err)
	}
	bad := []string{
		exp + "/../outside.txt", exp + "/%2e%2e/outside.txt", exp + "/%2E%2E%2Foutside.txt",
		exp + "/..%2f..%2foutside.txt", "%2Fetc%2Fpasswd", exp + "/a%5C..%5C..%5Coutside.txt",
		exp + "/a%00b", exp + "//x", exp + "/./x", "..%2F" + exp + "/x",
	}
	for _, p := range bad {
		for _, m := range []string{"GET", "PUT", "DELETE"} {
			resp, out := ts.raw(m, artAPI+p, strings.NewReader("planted"), nil)
			if resp.StatusCode < 300 {
				t.Errorf("%s %s = %d %s, want an error", m, p, resp.StatusCode, out)
			}
			if strings.Contains(string(out), "secret") {
				t.Errorf("%s %s leaked the outside file", m, p)
			}
		}
		resp, out := ts.raw("POST", "/api/2.0/mlflow-artifacts/mpu/create/"+p, strings.NewReader(`{"path":"f","num_parts":1}`),
			http.Header{"Content-Type": {"application/json"}})
		if resp.StatusCode < 300 {
			t.Errorf("mpu/create %s = %d %s", p, resp.StatusCode, out)
		}
	}
	for _, q := range []string{"../x", exp + "/../..", "/etc", exp + "/a/../../b", `a\b`} {
		if resp, out := ts.raw("GET", "/api/2.0/mlflow-artifacts/artifacts?path="+url.QueryEscape(q), nil, nil); resp.StatusCode != 400 {
			t.Errorf("list %q = %d %s, want 400", q, resp.StatusCode, out)
		}
		if resp, _ := ts.raw("GET", "/api/2.0/mlflow/artifacts/list?run_id="+run+"&path="+url.QueryEscape(q), nil, nil); resp.StatusCode != 400 {
			t.Errorf("artifacts/list %q = %d, want 400", q, resp.StatusCode)
		}
		if resp, _ := ts.raw("GET", "/get-artifact?run_id="+run+"&path="+url.QueryEscape(q), nil, nil); resp.StatusCode != 400 {
			t.Errorf("get-artifact %q = %d, want 400", q, resp.StatusCode)
		}
		if resp, _ := ts.raw("POST", "/ajax-api/2.0/mlflow/upload-artifact?run_uuid="+run+"&path="+url.QueryEscape(q), strings.NewReader("x"), nil); resp.StatusCode != 400 {
			t.Errorf("upload-artifact %q = %d, want 400", q, resp.StatusCode)
		}
	}
	// The multipart file name is a base name: directories in it are dropped.
	resp, out := ts.raw("POST", "/api/2.0/mlflow-artifacts/mpu/create/"+exp+"/"+run+"/artifacts",
		strings.NewReader(`{"path":"..","num_parts":1}`), http.Header{"Content-Type": {"application/json"}})
	if resp.StatusCode != 400 {
		t.Errorf("mpu/create with path '..' = %d %s", resp.StatusCode, out)
	}
	err := filepath.Walk(filepath.Dir(ts.dir), func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() && strings.Contains(p, "planted") {
			t.Errorf("a file was planted: %s", p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(filepath.Dir(ts.dir), "outside.txt")); string(b) != "secret" {
		t.Error("the file outside the folder changed")
	}
}

type mpuCreate struct {
	UploadID    string `json:"upload_id"`
	Credentials []struct {
		PartNumber int               `json:"part_number"`
		URL        string            `json:"url"`
		Headers    map[string]string `json:"headers"`
	} `json:"credentials"`
}

// TestArtifactsMultipartLocal: the client's flow against the local store:
// create, PUT each part to its signed URL without credentials, complete.
func TestArtifactsMultipartLocal(t *testing.T) {
	ts := newArtifactServer(t)
	exp, run := ts.newExperimentRun("mpu")
	dir := exp + "/" + run + "/artifacts/big"
	out := ts.mustOK("POST", "/api/2.0/mlflow-artifacts/mpu/create/"+dir, map[string]any{"path": "/tmp/local/file.bin", "num_parts": 3})
	var c mpuCreate
	raw, _ := json.Marshal(out)
	_ = json.Unmarshal(raw, &c)
	if c.UploadID == "" || len(c.Credentials) != 3 {
		t.Fatalf("create = %s", raw)
	}
	chunks := [][]byte{bytes.Repeat([]byte("a"), 1000), bytes.Repeat([]byte("b"), 1000), []byte("end")}
	var parts []map[string]any
	for i, cr := range c.Credentials {
		if !strings.HasPrefix(cr.URL, ts.srv.URL+"/api/2.0/mlflow-artifacts/mpu/part/"+dir+"/file.bin?") {
			t.Fatalf("part URL %s", cr.URL)
		}
		req, _ := http.NewRequest("PUT", cr.URL, bytes.NewReader(chunks[i]))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.Header.Get("ETag") == "" {
			t.Fatalf("part %d: %d", cr.PartNumber, resp.StatusCode)
		}
		parts = append(parts, map[string]any{"part_number": cr.PartNumber, "etag": resp.Header.Get("ETag"), "url": cr.URL})
	}
	// A part URL is good for its own part only.
	u, _ := url.Parse(c.Credentials[0].URL)
	q := u.Query()
	q.Set("part_number", "2")
	u.RawQuery = q.Encode()
	if resp, _ := ts.raw("PUT", strings.TrimPrefix(u.String(), ts.srv.URL), strings.NewReader("evil"), nil); resp.StatusCode != 403 {
		t.Errorf("tampered part number = %d, want 403", resp.StatusCode)
	}
	other := strings.Replace(c.Credentials[0].URL, "/file.bin?", "/other.bin?", 1)
	if resp, _ := ts.raw("PUT", strings.TrimPrefix(other, ts.srv.URL), strings.NewReader("evil"), nil); resp.StatusCode != 403 {
		t.Errorf("part URL for another path = %d, want 403", resp.StatusCode)
	}
	if resp, _ := ts.raw("PUT", "/api/2.0/mlflow-artifacts/mpu/part/"+dir+"/file.bin?upload_id="+c.UploadID+"&part_number=1", strings.NewReader("evil"), nil); resp.StatusCode != 403 {
		t.Errorf("unsigned part = %d, want 403", resp.StatusCode)
	}
	ts.mustOK("POST", "/api/2.0/mlflow-artifacts/mpu/complete/"+dir, map[string]any{"path": "file.bin", "upload_id": c.UploadID, "parts": parts})
	resp, got := ts.raw("GET", artAPI+dir+"/file.bin", nil, nil)
	if resp.StatusCode != 200 || !bytes.Equal(got, bytes.Join(chunks, nil)) {
		t.Errorf("after complete: %d, %d bytes", resp.StatusCode, len(got))
	}

	// Abort drops the parts; the file never appears.
	out = ts.mustOK("POST", "/api/2.0/mlflow-artifacts/mpu/create/"+dir, map[string]any{"path": "aborted.bin", "num_parts": 1})
	ts.mustOK("POST", "/api/2.0/mlflow-artifacts/mpu/abort/"+dir, map[string]any{"path": "aborted.bin", "upload_id": out["upload_id"]})
	if code, _ := ts.call("GET", artAPI+dir+"/aborted.bin", nil); code != 404 {
		t.Errorf("aborted file: %d", code)
	}
}

// TestRunArtifactRoutes: artifacts/list, get-artifact and upload-artifact
// resolve the run and stay below its artifact root.
func TestRunArtifactRoutes(t *testing.T) {
	ts := newArtifactServer(t)
	exp, run := ts.newExperimentRun("runarts")
	resp, out := ts.raw("POST", "/ajax-api/2.0/mlflow/upload-artifact?run_uuid="+run+"&path=notes/n.txt", strings.NewReader("note"), nil)
	if resp.StatusCode != 200 {
		t.Fatalf("upload-artifact: %d %s", resp.StatusCode, out)
	}
	if resp, _ := ts.raw("POST", "/api/2.0/mlflow/upload-artifact?run_uuid="+run+"&path=x", strings.NewReader("x"), nil); resp.StatusCode != 404 {
		t.Errorf("upload-artifact under /api/2.0 = %d, want 404 (ajax-api only)", resp.StatusCode)
	}
	if resp, out := ts.raw("POST", "/ajax-api/2.0/mlflow/upload-artifact?run_uuid="+run+"&path=big", bytes.NewReader(make([]byte, 10<<20+1)), nil); resp.StatusCode != 400 {
		t.Errorf("11 MB upload-artifact = %d %s", resp.StatusCode, out)
	}
	if resp, _ := ts.raw("POST", "/ajax-api/2.0/mlflow/upload-artifact?run_uuid="+run+"&path=empty", nil, nil); resp.StatusCode != 400 {
		t.Errorf("empty upload-artifact = %d", resp.StatusCode)
	}
	ts.raw("PUT", artAPI+exp+"/"+run+"/artifacts/top.txt", strings.NewReader("top"), nil)

	root := fmt.Sprintf("mlflow-artifacts:/%s/%s/artifacts", exp, run)
	got := ts.mustOK("GET", "/api/2.0/mlflow/artifacts/list?run_id="+run, nil)
	if got["root_uri"] != root || fmt.Sprint(got["files"]) != "[map[is_dir:true path:notes] map[file_size:3 is_dir:false path:top.txt]]" {
		t.Errorf("list = %v", got)
	}
	got = ts.mustOK("GET", "/ajax-api/2.0/mlflow/artifacts/list?run_uuid="+run+"&path=notes", nil)
	if fmt.Sprint(got["files"]) != "[map[file_size:4 is_dir:false path:notes/n.txt]]" {
		t.Errorf("list notes = %v (want run-relative paths)", got)
	}
	resp, body := ts.raw("GET", "/get-artifact?path=notes/n.txt&run_uuid="+run, nil, nil)
	if resp.StatusCode != 200 || string(body) != "note" || resp.Header.Get("Content-Disposition") != "attachment; filename=n.txt" {
		t.Errorf("get-artifact = %d %q %v", resp.StatusCode, body, resp.Header)
	}
	if code, b := ts.call("GET", "/get-artifact?path=nope&run_id="+run, nil); code != 404 || b["error_code"] != "RESOURCE_DOES_NOT_EXIST" {
		t.Errorf("get-artifact missing = %d %v", code, b)
	}
	if code, _ := ts.call("GET", "/get-artifact?path=x&run_id=0123456789abcdef0123456789abcdef", nil); code != 404 {
		t.Errorf("get-artifact unknown run = %d", code)
	}
}

// TestArtifactsCrossProject: through project B's tracking URI, with B's
// owner token, project A's experiments are not there for any artifact route.
func TestArtifactsCrossProject(t *testing.T) {
	w := newWorld(t, worldOptions{})
	a, b := w.project("team/alpha"), w.project("team/beta")
	ownerA, ownerB := w.user("ownera"), w.user("ownerb")
	w.gl.AddProjectMember(a.Path, "ownera", 50)
	w.gl.AddProjectMember(b.Path, "ownerb", 50)
	expA := str(w.mustAPI(ownerA, "POST", trackingURI(a), "/experiments/create", obj{"name": "xa"}), "experiment_id")
	runA := w.newRun(ownerA, a, expA, "ra")
	p := "/api/2.0/mlflow-artifacts/artifacts/" + expA + "/" + runA + "/artifacts/secret.txt"
	if r := w.do(request{method: "PUT", path: trackingURI(a) + p, token: ownerA, body: "alpha-secret-bytes"}); r.status != 200 {
		t.Fatalf("A uploads: %d %s", r.status, r.raw)
	}
	if r := w.do(request{method: "GET", path: trackingURI(a) + p, token: ownerA}); r.status != 200 || !strings.Contains(string(r.raw), "alpha-secret-bytes") {
		t.Fatalf("A downloads: %d %s", r.status, r.raw)
	}
	dir := expA + "/" + runA + "/artifacts"
	cases := []request{
		{method: "GET", path: trackingURI(b) + p},
		{method: "PUT", path: trackingURI(b) + p, body: "overwrite"},
		{method: "DELETE", path: trackingURI(b) + p},
		{method: "GET", path: trackingURI(b) + "/api/2.0/mlflow-artifacts/artifacts", query: url.Values{"path": {dir}}},
		{method: "POST", path: trackingURI(b) + "/api/2.0/mlflow-artifacts/mpu/create/" + dir, body: obj{"path": "f", "num_parts": 1}},
		{method: "GET", path: trackingURI(b) + "/api/2.0/mlflow/artifacts/list", query: url.Values{"run_id": {runA}}},
		{method: "GET", path: trackingURI(b) + "/get-artifact", query: url.Values{"run_id": {runA}, "path": {"secret.txt"}}},
		{method: "POST", path: trackingURI(b) + "/ajax-api/2.0/mlflow/upload-artifact", query: url.Values{"run_uuid": {runA}, "path": {"x"}}, body: "x"},
	}
	for _, rq := range cases {
		rq.token = ownerB
		r := w.do(rq)
		if r.status != 404 || r.errorCode() != "RESOURCE_DOES_NOT_EXIST" || strings.Contains(string(r.raw), "alpha-secret") {
			t.Errorf("%s %s as B's owner in B = %d %s", rq.method, rq.path, r.status, truncateBody(r.raw))
		}
	}
	// In the global scope, writes are refused and reads see A only for A's readers.
	if r := w.do(request{method: "PUT", path: p, token: ownerA, body: "x"}); r.status != 403 {
		t.Errorf("global PUT = %d", r.status)
	}
	if r := w.do(request{method: "GET", path: p, token: ownerB}); r.status != 404 {
		t.Errorf("global GET by B's owner = %d", r.status)
	}
	if r := w.do(request{method: "GET", path: p, token: ownerA}); r.status != 200 {
		t.Errorf("global GET by A's owner = %d", r.status)
	}
	if r := w.do(request{method: "GET", path: trackingURI(a) + p, token: ownerA}); !strings.Contains(string(r.raw), "alpha-secret-bytes") {
		t.Errorf("A's file changed: %s", r.raw)
	}
}

// patternReader yields n bytes of a repeating pattern without allocating.
type patternReader struct{ n, off int64 }

func (p *patternReader) Read(b []byte) (int, error) {
	if p.off >= p.n {
		return 0, io.EOF
	}
	k := int64(len(b))
	if rem := p.n - p.off; k > rem {
		k = rem
	}
	for i := range b[:k] {
		b[i] = byte((p.off + int64(i)) * 7)
	}
	p.off += k
	return int(k), nil
}

func vmHWM(t *testing.T) string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "unknown"
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmHWM:") || strings.HasPrefix(l, "VmRSS:") {
			t.Log(l)
		}
		if strings.HasPrefix(l, "VmHWM:") {
			return strings.TrimSpace(strings.TrimPrefix(l, "VmHWM:"))
		}
	}
	return "unknown"
}

// TestArtifactsBigFileFlatMemory uploads and downloads a 2 GB file through
// the HTTP handler on the local store and reports the process's peak RSS
// (VmHWM). Set MLFLOW_SHARINGHUB_BIG=1 (or a size in MiB) to run it.
func TestArtifactsBigFileFlatMemory(t *testing.T) {
	env := os.Getenv("MLFLOW_SHARINGHUB_BIG")
	if env == "" {
		t.Skip("set MLFLOW_SHARINGHUB_BIG=1 to move a 2 GB file through the handler")
	}
	size := int64(2 << 30)
	var mib int64
	if _, err := fmt.Sscan(env, &mib); err == nil && mib > 1 {
		size = mib << 20
	}
	ts := newArtifactServer(t)
	exp, run := ts.newExperimentRun("big")
	p := artAPI + exp + "/" + run + "/artifacts/big.bin"
	t.Logf("before: peak RSS %s", vmHWM(t))

	start := time.Now()
	req, _ := http.NewRequest("PUT", ts.srv.URL+p, &patternReader{n: size})
	req.ContentLength = size
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("upload: %d", resp.StatusCode)
	}
	t.Logf("uploaded %d bytes in %s; peak RSS %s", size, time.Since(start).Round(time.Millisecond), vmHWM(t))

	start = time.Now()
	resp, err = http.Get(ts.srv.URL + p)
	if err != nil {
		t.Fatal(err)
	}
	want := sha256.New()
	_, _ = io.Copy(want, &patternReader{n: size})
	got := sha256.New()
	n, err := io.Copy(got, resp.Body)
	resp.Body.Close()
	if err != nil || n != size || !bytes.Equal(got.Sum(nil), want.Sum(nil)) {
		t.Fatalf("download: %d bytes, err %v, same digest %v", n, err, bytes.Equal(got.Sum(nil), want.Sum(nil)))
	}
	t.Logf("downloaded %d bytes in %s; peak RSS %s", n, time.Since(start).Round(time.Millisecond), vmHWM(t))
}

// withArtifactSpecs adds the isolation specs of the artifact routes to
// specs (isolationSpecs calls it). The worlds of the isolation suite use
// the in-memory default store. The routes run in table order: the upload
// puts isolation/file.txt (and upload-artifact isolation/run-file.txt) in
// A's experiment before the reads ask for it.
func withArtifactSpecs(specs map[string]routeSpec) map[string]routeSpec {
	at := func(rel string) func(string, refs) string {
		return func(pattern string, r refs) string {
			return strings.Replace(pattern, "{path...}", r.expID+"/"+rel, 1)
		}
	}
	none := func(refs) any { return url.Values{} }
	body := func(refs) any { return obj{"bytes": "isolation-bytes"} }
	for k, v := range map[string]routeSpec{
		"PUT /mlflow-artifacts/artifacts/{path...}": {path: at("isolation/file.txt"), build: body},
		"GET /mlflow-artifacts/artifacts": {
			build: func(r refs) any { return url.Values{"path": {r.expID + "/isolation"}} },
			has:   func(refs) string { return `"file.txt"` },
		},
		"GET /mlflow-artifacts/artifacts/{path...}": {
			path: at("isolation/file.txt"), build: none, has: func(refs) string { return "isolation-bytes" },
		},
		"DELETE /mlflow-artifacts/artifacts/{path...}": {path: at("isolation/delete-me"), build: none},
		"POST /mlflow-artifacts/mpu/create/{path...}": {
			path: at("isolation"), build: func(refs) any { return obj{"path": "mpu.bin", "num_parts": 2} },
		},
		// Completing needs a real upload: it is started in the store itself.
		"POST /mlflow-artifacts/mpu/complete/{path...}": {
			path: at("isolation"),
			build: func(r refs) any {
				ctx, st, p := context.Background(), defaultArtifacts(), r.expID+"/isolation/mpu.bin"
				id, _ := st.CreateMultipart(ctx, p)
				etag, _ := st.UploadPart(ctx, p, id, 1, strings.NewReader("part"))
				return obj{"path": "mpu.bin", "upload_id": id, "parts": []obj{{"part_number": 1, "etag": etag}}}
			},
		},
		"POST /mlflow-artifacts/mpu/abort/{path...}": {
			path: at("isolation"), build: func(refs) any { return obj{"path": "mpu.bin", "upload_id": "0123abcd"} },
		},
		// Public, but nothing without a valid signature (see TestArtifactsMultipartLocal).
		"PUT /mlflow-artifacts/mpu/part/{path...}": {
			path: at("isolation/mpu.bin"), signed: true,
			build: func(refs) any { return url.Values{"upload_id": {"0123abcd"}, "part_number": {"1"}} },
		},
		"GET /mlflow/artifacts/list": {
			build: func(r refs) any { return url.Values{"run_id": {r.runID}} },
			has:   func(r refs) string { return "mlflow-artifacts:/" + r.expID + "/" + r.runID + "/artifacts" },
		},
		"POST /ajax-api/2.0/mlflow/upload-artifact": {
			path: func(pattern string, r refs) string {
				return pattern + "?run_uuid=" + r.runID + "&path=isolation/run-file.txt"
			},
			build: body,
		},
		// A logged model's files: the file is put in the store under the
		// model's artifact location first.
		"GET /mlflow/logged-models/{model_id}/artifacts/directories": {
			path: modelPath,
			build: func(r refs) any {
				putModelFile(r)
				return url.Values{"artifact_directory_path": {"isolation"}}
			},
			has: func(refs) string { return `"isolation/model.txt"` },
		},
		"GET /ajax-api/2.0/mlflow/logged-models/{model_id}/artifacts/files": {
			path: modelPath,
			build: func(r refs) any {
				putModelFile(r)
				return url.Values{"artifact_file_path": {"isolation/model.txt"}}
			},
			has: func(refs) string { return "isolation-bytes" },
		},
		"GET /get-artifact": {
			build: func(r refs) any { return url.Values{"run_id": {r.runID}, "path": {"isolation/run-file.txt"}} },
			has:   func(refs) string { return "isolation-bytes" },
		},
	} {
		specs[k] = v
	}
	return specs
}

// putModelFile puts isolation/model.txt in the artifacts of r's logged
// model, in the default (memory) store of the isolation worlds.
func putModelFile(r refs) {
	p := r.expID + "/models/" + r.modelID + "/artifacts/isolation/model.txt"
	_ = defaultArtifacts().Put(context.Background(), p, strings.NewReader("isolation-bytes"))
}
