package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestCheckLoopbackURL(t *testing.T) {
	ok := map[string]string{
		"http://127.0.0.1:5000":         "http://127.0.0.1:5000",
		"http://localhost:5000/":        "http://localhost:5000",
		"http://LOCALHOST:5000":         "http://LOCALHOST:5000",
		"http://[::1]:8080/mlflow/x/":   "http://[::1]:8080/mlflow/x",
		"https://127.0.0.1/prefix/path": "https://127.0.0.1/prefix/path",
	}
	for in, want := range ok {
		got, err := checkLoopbackURL(in)
		if err != nil || got != want {
			t.Errorf("checkLoopbackURL(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{
		"http://example.com", "http://10.0.0.1:5000", "http://127.0.0.2:5000", "http://0.0.0.0:5000",
		"http://localhost.example.com", "ftp://127.0.0.1", "127.0.0.1:5000", "http://u:p@127.0.0.1",
		"http://127.0.0.1:5000/?q=1", "http://[::2]:80",
	} {
		if _, err := checkLoopbackURL(in); err == nil {
			t.Errorf("checkLoopbackURL(%q) accepted a non-loopback or odd URL", in)
		}
	}
}

func TestLoopbackOnlyDialControl(t *testing.T) {
	for _, a := range []string{"127.0.0.1:80", "[::1]:80", "127.8.9.1:1"} {
		if err := loopbackOnly("tcp", a, nil); err != nil {
			t.Errorf("loopbackOnly(%s) = %v", a, err)
		}
	}
	for _, a := range []string{"10.1.2.3:80", "[2001:db8::1]:443", "93.184.216.34:80"} {
		if err := loopbackOnly("tcp", a, nil); err == nil {
			t.Errorf("loopbackOnly(%s) accepted a remote address", a)
		}
	}
}

func TestPercentile(t *testing.T) {
	var l []time.Duration
	for i := 1; i <= 100; i++ {
		l = append(l, time.Duration(i)*time.Millisecond)
	}
	for p, want := range map[float64]time.Duration{50: 50 * time.Millisecond, 95: 95 * time.Millisecond, 99: 99 * time.Millisecond, 100: 100 * time.Millisecond} {
		if got := percentile(l, p); got != want {
			t.Errorf("percentile(1..100ms, %v) = %v, want %v", p, got, want)
		}
	}
	if got := percentile(l[:1], 99); got != time.Millisecond {
		t.Errorf("percentile of one sample = %v", got)
	}
	if got := percentile(nil, 50); got != 0 {
		t.Errorf("percentile of nothing = %v", got)
	}
}

func TestSelectWorkloads(t *testing.T) {
	all, err := selectWorkloads("all")
	if err != nil || len(all) != len(allWorkloads) {
		t.Fatalf("all: %d, %v", len(all), err)
	}
	two, err := selectWorkloads("log-batch, get-run,log-batch")
	if err != nil || len(two) != 2 || two[0].name != "log-batch" || two[1].name != "get-run" {
		t.Fatalf("two: %v, %v", two, err)
	}
	if _, err := selectWorkloads("get-runs"); err == nil {
		t.Fatal("an unknown workload was accepted")
	}
}

// fakeServer answers just enough for the setup phase; runs/get answers a
// 500 with a JSON body, every other path 404.
func fakeServer(t *testing.T) (*httptest.Server, *atomic.Int64) {
	var n, getRuns atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == "POST" && r.Header.Get("Content-Type") != "application/json" {
			http.Error(w, "no content type", 400)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/api/2.0/mlflow/experiments/create":
			fmt.Fprintf(w, `{"experiment_id":"%d"}`, n.Add(1))
		case "/api/2.0/mlflow/runs/create":
			fmt.Fprintf(w, `{"run":{"info":{"run_id":"r%d"}}}`, n.Add(1))
		case "/api/2.0/mlflow/runs/log-batch", "/api/2.0/mlflow/runs/log-metric":
			fmt.Fprint(w, `{}`)
		case "/api/2.0/mlflow/runs/get":
			getRuns.Add(1)
			w.WriteHeader(500)
			fmt.Fprint(w, `{"error_code":"INTERNAL_ERROR","message":"boom"}`)
		default:
			w.WriteHeader(404)
			fmt.Fprint(w, `{"error_code":"ENDPOINT_NOT_FOUND"}`)
		}
	}))
	t.Cleanup(srv.Close)
	return srv, &getRuns
}

func TestErrorsAreCountedAndReported(t *testing.T) {
	srv, getRuns := fakeServer(t)
	out := filepath.Join(t.TempDir(), "r.json")
	var stdout, stderr bytes.Buffer
	code, err := run(context.Background(), []string{
		"-url", srv.URL, "-label", "fake", "-workloads", "get-run,create-run", "-runs", "5", "-write-runs", "2",
		"-experiments", "1", "-duration", "300ms", "-warmup", "0", "-concurrency", "2", "-q", "-o", out,
	}, &stdout, &stderr)
	if err != nil || code != 1 {
		t.Fatalf("run = %d, %v (want exit code 1); stderr:\n%s", code, err, stderr.String())
	}
	reps, err := readReports(out)
	if err != nil || len(reps) != 1 {
		t.Fatalf("readReports: %v, %v", reps, err)
	}
	r := reps[0]
	if r.Server != "fake" || len(r.Workloads) != 2 {
		t.Fatalf("report: %+v", r)
	}
	gr, cr := r.Workloads[0], r.Workloads[1]
	// The pre-measurement check of get-run fails, then every request errs.
	if gr.Name != "get-run" || gr.Requests == 0 || gr.Errors != gr.Requests || gr.ErrorsByKind["HTTP 500"] != gr.Errors ||
		!strings.Contains(gr.FirstError, "boom") || gr.Check == "" || gr.RPS != 0 {
		t.Errorf("get-run result: %+v", gr)
	}
	if getRuns.Load() != gr.Requests+1 {
		t.Errorf("server saw %d runs/get, report says %d (+1 check)", getRuns.Load(), gr.Requests)
	}
	// runs/create answers 200 with a run_id: no errors.
	if cr.Name != "create-run" || cr.Requests == 0 || cr.Errors != 0 || cr.RPS <= 0 || cr.P50ms <= 0 {
		t.Errorf("create-run result: %+v", cr)
	}
	if !strings.Contains(stdout.String(), "first: GET /api/2.0/mlflow/runs/get: HTTP 500") {
		t.Errorf("the table does not show the first error:\n%s", stdout.String())
	}
}

func TestRequestBoundAndCompare(t *testing.T) {
	srv, _ := fakeServer(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "both.json")
	var stdout, stderr bytes.Buffer
	code, err := run(context.Background(), []string{
		"-target", "a=" + srv.URL, "-target", "b=" + strings.Replace(srv.URL, "127.0.0.1", "localhost", 1),
		"-workloads", "create-run", "-runs", "2", "-write-runs", "1", "-experiments", "0",
		"-duration", "10s", "-requests", "25", "-warmup", "0", "-q", "-o", out,
	}, &stdout, &stderr)
	if err != nil || code != 0 {
		t.Fatalf("run = %d, %v; stderr:\n%s", code, err, stderr.String())
	}
	reps, err := readReports(out)
	if err != nil || len(reps) != 2 {
		t.Fatalf("readReports: %d, %v", len(reps), err)
	}
	for _, r := range reps {
		if len(r.Workloads) != 1 || r.Workloads[0].Requests != 25 {
			t.Errorf("%s: want exactly 25 requests: %+v", r.Server, r.Workloads)
		}
	}
	if !strings.Contains(stdout.String(), "req/s ratio") {
		t.Errorf("no comparison table:\n%s", stdout.String())
	}
	// compare on two single-server files.
	for i, r := range reps {
		b, _ := json.Marshal(r)
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprint(i, ".json")), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	stdout.Reset()
	code, err = run(context.Background(), []string{"compare", "-markdown", filepath.Join(dir, "0.json"), filepath.Join(dir, "1.json")}, &stdout, &stderr)
	if err != nil || code != 0 || !strings.Contains(stdout.String(), "| create-run |") {
		t.Fatalf("compare = %d, %v:\n%s", code, err, stdout.String())
	}
}

func TestRefusesRemoteTarget(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code, err := run(context.Background(), []string{"-url", "http://192.0.2.1:5000", "-duration", "1s"}, &stdout, &stderr)
	if err == nil || code != 2 || !strings.Contains(err.Error(), "loopback") {
		t.Fatalf("run = %d, %v", code, err)
	}
	code, err = run(context.Background(), []string{"-target", "x=http://example.com", "-duration", "1s"}, &stdout, &stderr)
	if err == nil || code != 2 {
		t.Fatalf("run with a remote -target = %d, %v", code, err)
	}
}

func TestBearerToken(t *testing.T) {
	srv, _ := fakeServer(t)
	var unauth atomic.Int64
	gate := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer s3cret-token" || !strings.HasPrefix(r.URL.Path, "/g/p/tracking/") {
			unauth.Add(1)
			w.WriteHeader(401)
			fmt.Fprint(w, `{"error_code":"UNAUTHENTICATED"}`)
			return
		}
		r.URL.Path = strings.TrimPrefix(r.URL.Path, "/g/p/tracking")
		srv.Config.Handler.ServeHTTP(w, r)
	}))
	t.Cleanup(gate.Close)
	t.Setenv("LOADGEN_TEST_TOKEN", "s3cret-token")
	args := []string{"-target", "ours=" + gate.URL + "/g/p/tracking/", "-token-env", "ours=LOADGEN_TEST_TOKEN",
		"-workloads", "create-run", "-runs", "2", "-write-runs", "1", "-experiments", "0",
		"-requests", "10", "-warmup", "0", "-q", "-json"}
	var stdout, stderr bytes.Buffer
	code, err := run(context.Background(), args, &stdout, &stderr)
	if err != nil || code != 0 || unauth.Load() != 0 {
		t.Fatalf("run = %d, %v, %d unauthenticated requests; stderr:\n%s\nstdout:\n%s", code, err, unauth.Load(), stderr.String(), stdout.String())
	}
	code, err = run(context.Background(), append(args, "-token-env", "other=LOADGEN_TEST_TOKEN"), &stdout, &stderr)
	if err == nil || code != 2 {
		t.Fatalf("a -token-env for an unknown target was accepted: %d, %v", code, err)
	}
	t.Setenv("LOADGEN_TEST_TOKEN", "")
	code, err = run(context.Background(), args, &stdout, &stderr)
	if err == nil || code != 2 || !strings.Contains(err.Error(), "LOADGEN_TEST_TOKEN") {
		t.Fatalf("an empty token variable was accepted: %d, %v", code, err)
	}
}
