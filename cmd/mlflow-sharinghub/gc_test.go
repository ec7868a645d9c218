package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/csgroup-oss/mlflow-sharinghub-go/internal/store"
	"github.com/csgroup-oss/mlflow-sharinghub-go/internal/tenancy"
	"github.com/csgroup-oss/mlflow-sharinghub-go/internal/tracking"
)

func TestParseOlderThan(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"30d", 30 * 24 * time.Hour, true},
		{"8h", 8 * time.Hour, true},
		{"2d8h5m20s", 56*time.Hour + 5*time.Minute + 20*time.Second, true},
		{"2m4s", 2*time.Minute + 4*time.Second, true},
		{"1.5h", 90 * time.Minute, true},
		{"", 0, false},
		{"5", 0, false},
		{"1h2d", 0, false},
		{"-1d", 0, false},
		{"1w", 0, false},
	} {
		got, err := parseOlderThan(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("parseOlderThan(%q) = %v, %v; want %v ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func TestProxiedStorePath(t *testing.T) {
	for in, want := range map[string]string{
		"mlflow-artifacts:/5/abc/artifacts":         "5/abc/artifacts",
		"mlflow-artifacts://host:5000/5/abc":        "5/abc",
		"mlflow-artifacts:/":                        "",
		"mlflow-artifacts:/5/../..":                 "",
		"s3://bucket/5/abc":                         "",
		"file:///tmp/x":                             "",
		"mlflow-artifacts:/5/models/m-1/artifacts/": "5/models/m-1/artifacts",
	} {
		got, ok := proxiedStorePath(in)
		if got != want || ok != (want != "") {
			t.Errorf("proxiedStorePath(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
}

// TestGCCommand runs the gc subcommand on a SQLite database and a local
// artifact folder: a deleted run goes with its files, an active one stays,
// and an explicit id that is not deleted is an error naming it.
func TestGCCommand(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	uri := "sqlite:///" + filepath.Join(dir, "m.db")
	arts := filepath.Join(dir, "artifacts")
	st, err := store.Open(ctx, uri, store.Options{DefaultArtifactRoot: "mlflow-artifacts:/"})
	if err != nil {
		t.Fatal(err)
	}
	expS, err := st.CreateExperiment(ctx, "gc", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	exp, _ := strconv.ParseInt(expS, 10, 64)
	newRun := func() string {
		id := tracking.NewID()
		if _, err := st.CreateRun(ctx, tenancy.Unscoped, store.NewRun{ID: id, ExperimentID: exp, Name: "r", StartTime: 1}); err != nil {
			t.Fatal(err)
		}
		f := filepath.Join(arts, expS, id, "artifacts", "model", "model.pkl")
		if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(f, []byte("bytes"), 0o644); err != nil {
			t.Fatal(err)
		}
		return id
	}
	keep, gone := newRun(), newRun()
	if err := st.DeleteRun(ctx, tenancy.Unscoped, gone); err != nil {
		t.Fatal(err)
	}
	st.Close()

	env := map[string]string{"MLFLOW_BACKEND_STORE_URI": uri, "MLFLOW_ARTIFACTS_DESTINATION": arts}
	getenv := func(k string) string { return env[k] }
	var out, errOut bytes.Buffer
	err = run(ctx, []string{"gc", "--run-ids", keep + "," + gone}, getenv, &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), keep) || strings.Contains(err.Error(), gone) {
		t.Fatalf("gc of an active run: err = %v, want an error naming %s only", err, keep)
	}
	if err := run(ctx, []string{"gc", "--older-than", "nonsense"}, getenv, &out, &errOut); err == nil {
		t.Errorf("gc --older-than nonsense: no error")
	}
	out.Reset()
	if err := run(ctx, []string{"gc", "--older-than", "1d"}, getenv, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "0 runs") {
		t.Errorf("gc --older-than 1d deleted something: %s", out.String())
	}
	if _, err := os.Stat(filepath.Join(arts, expS, gone)); err != nil {
		t.Errorf("the young run's files are gone: %v", err)
	}
	out.Reset()
	if err := run(ctx, []string{"gc"}, getenv, &out, &errOut); err != nil {
		t.Fatalf("gc: %v (%s)", err, errOut.String())
	}
	if !strings.Contains(out.String(), "Run with ID "+gone+" has been permanently deleted.") {
		t.Errorf("gc output: %s", out.String())
	}
	if _, err := os.Stat(filepath.Join(arts, expS, gone, "artifacts")); !os.IsNotExist(err) {
		t.Errorf("the deleted run's files are still there: %v", err)
	}
	if _, err := os.Stat(filepath.Join(arts, expS, keep, "artifacts", "model", "model.pkl")); err != nil {
		t.Errorf("the active run's files: %v", err)
	}
	st, err = store.Open(ctx, uri, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.GetRun(ctx, tenancy.Unscoped, gone); err == nil {
		t.Errorf("the deleted run is still in the database")
	}
	if _, err := st.GetRun(ctx, tenancy.Unscoped, keep); err != nil {
		t.Errorf("the active run: %v", err)
	}
}
