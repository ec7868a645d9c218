package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// TestServerRunsAndShutsDown starts the real program on a free port, polls
// /health, then cancels the context as SIGTERM would and expects a clean exit.
func TestServerRunsAndShutsDown(t *testing.T) {
	port := freePort(t)
	dir := t.TempDir()
	env := map[string]string{"MLFLOW_BACKEND_STORE_URI": "sqlite:///" + filepath.Join(dir, "m.db")}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	var stdout, stderr syncBuffer
	go func() {
		done <- run(ctx, []string{"server", "--dev", "--port", strconv.Itoa(port), "--artifacts-destination", dir},
			func(k string) string { return env[k] }, &stdout, &stderr)
	}()
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(base + "/health")
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if string(b) == "OK" {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("server did not become healthy: %v\n%s", err, stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	// --dev printed a tracking URI and an Owner token that work.
	out := stdout.String()
	token := between(out, "MLFLOW_TRACKING_TOKEN=", "\n")
	if !strings.Contains(out, base+"/demo/project/tracking/") || token == "" {
		t.Fatalf("--dev output lacks the tracking URI or token:\n%s", out)
	}
	req, _ := http.NewRequest("POST", base+"/demo/project/tracking/api/2.0/mlflow/experiments/create",
		strings.NewReader(`{"name":"first"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("create experiment with the printed token: %v %v", resp, err)
	}
	resp.Body.Close()
	// Without the token, an API client is told to set MLFLOW_TRACKING_TOKEN.
	resp, err = http.Get(base + "/demo/project/tracking/api/2.0/mlflow/experiments/get-by-name?experiment_name=first")
	if err != nil || resp.StatusCode != 401 || resp.Header.Get("WWW-Authenticate") == "" {
		t.Fatalf("anonymous call: %v %v", resp, err)
	}
	resp.Body.Close()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run returned %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("server did not shut down")
	}
}

// syncBuffer is a bytes.Buffer safe for the server goroutine and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func between(s, start, end string) string {
	i := strings.Index(s, start)
	if i < 0 {
		return ""
	}
	s = s[i+len(start):]
	if j := strings.Index(s, end); j >= 0 {
		return s[:j]
	}
	return s
}

func TestCommandLine(t *testing.T) {
	var out, errOut bytes.Buffer
	if err := run(context.Background(), []string{"version"}, func(string) string { return "" }, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "MLflow 3.18") {
		t.Errorf("version output %q", out.String())
	}
	out.Reset()
	err := run(context.Background(), []string{"server", "--help"}, func(string) string { return "" }, &out, &errOut)
	if err == nil || !strings.Contains(out.String(), "--backend-store-uri") || !strings.Contains(out.String(), "MLFLOW_BACKEND_STORE_URI") {
		t.Errorf("help: err %v, output %q", err, out.String())
	}
	if err := run(context.Background(), []string{"bogus"}, func(string) string { return "" }, &out, &errOut); err == nil {
		t.Error("unknown command accepted")
	}
	err = run(context.Background(), []string{"server"}, func(string) string { return "" }, &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "no role provider is configured") || !strings.Contains(err.Error(), "--dev") {
		t.Errorf("no provider: %v", err)
	}
	err = run(context.Background(), []string{"server", "--dev", "--backend-store-uri", "mysql://x"}, func(string) string { return "" }, &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "unsupported backend store URI") {
		t.Errorf("bad backend: %v", err)
	}
	err = run(context.Background(), []string{"server"}, func(k string) string {
		if k == "MLFLOW_PORT" {
			return "notanumber"
		}
		return ""
	}, &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "MLFLOW_PORT") {
		t.Errorf("bad env port: %v", err)
	}
}
