package store

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/csgroup-oss/mlflow-sharinghub-go/internal/mlflow"
	"github.com/csgroup-oss/mlflow-sharinghub-go/internal/tracking"
)

// countRows counts the rows of table matching where.
func countRows(t *testing.T, s *Store, table, where string, args ...any) int {
	t.Helper()
	var n int
	if err := s.queryRow(context.Background(), `SELECT COUNT(*) FROM `+table+` WHERE `+where, args...).Scan(&n); err != nil {
		t.Fatalf("count %s: %v", table, err)
	}
	return n
}

// gcFixture fills a run with every kind of child row: metrics (one linked
// to a logged model), params, tags, a dataset input, a model output.
func gcFixture(t *testing.T, s *Store, exp int64) (run, model string) {
	t.Helper()
	ctx := context.Background()
	run = mustRun(t, s, exp)
	m, err := s.CreateLoggedModel(ctx, all, NewLoggedModel{ID: tracking.NewLoggedModelID(), ExperimentID: exp, Name: "m",
		SourceRunID: run, Params: []mlflow.KeyValue{{Key: "p", Value: "1"}}, Tags: []mlflow.KeyValue{{Key: "t", Value: "1"}}})
	if err != nil {
		t.Fatal(err)
	}
	model = m.Info.ModelID
	if err := s.LogBatch(ctx, all, run, tracking.Batch{
		Metrics: []tracking.MetricPoint{{Key: "acc", Value: 1, Timestamp: 1, Step: 0, ModelID: model}, {Key: "loss", Value: 2, Timestamp: 2}},
		Params:  []mlflow.KeyValue{{Key: "alpha", Value: "1"}},
		Tags:    []mlflow.KeyValue{{Key: "k", Value: "v"}},
	}); err != nil {
		t.Fatal(err)
	}
	in := []mlflow.DatasetInput{{Tags: []mlflow.KeyValue{{Key: DatasetContextTag, Value: "train"}},
		Dataset: mlflow.Dataset{Name: "ds", Digest: "d-" + run[:6], SourceType: "local", Source: "/tmp/ds"}}}
	if err := s.LogInputs(ctx, all, run, in, []string{model}, tracking.NewID); err != nil {
		t.Fatal(err)
	}
	if err := s.LogOutputs(ctx, all, run, []mlflow.ModelOutput{{ModelID: model, Step: 1}}, tracking.NewID); err != nil {
		t.Fatal(err)
	}
	return run, model
}

// runRows counts what is left of a run.
func runRows(t *testing.T, s *Store, run string) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, table := range []string{"runs", "metrics", "latest_metrics", "params", "tags"} {
		out[table] = countRows(t, s, table, `run_uuid = ?`, run)
	}
	out["logged_model_metrics"] = countRows(t, s, "logged_model_metrics", `run_id = ?`, run)
	out["inputs"] = countRows(t, s, "inputs", `source_id = ? OR destination_id = ?`, run, run)
	return out
}

func TestGC(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		clock := time.UnixMilli(1_000_000_000)
		s.now = func() time.Time { return clock }
		exp := mustExperiment(t, s, "gc")
		keep, keepModel := gcFixture(t, s, exp)
		gone, goneModel := gcFixture(t, s, exp)
		if err := s.DeleteRun(ctx, all, gone); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteLoggedModel(ctx, all, goneModel); err != nil {
			t.Fatal(err)
		}
		var deletedURIs []string
		var mu sync.Mutex
		opts := GCOptions{DeleteArtifacts: func(_ context.Context, uri string) error {
			mu.Lock()
			defer mu.Unlock()
			deletedURIs = append(deletedURIs, uri)
			return nil
		}}

		// Explicit ids must name deleted resources.
		o := opts
		o.RunIDs = []string{keep, gone}
		_, err := s.GC(ctx, o)
		wantCode(t, err, mlflow.InvalidParameterValue)
		if !strings.Contains(err.Error(), keep) || strings.Contains(err.Error(), gone) {
			t.Errorf("error %q should name %s only", err, keep)
		}
		o = opts
		o.LoggedModelIDs = []string{keepModel}
		_, err = s.GC(ctx, o)
		wantCode(t, err, mlflow.InvalidParameterValue)
		o = opts
		o.ExperimentIDs = []int64{exp}
		_, err = s.GC(ctx, o)
		wantCode(t, err, mlflow.InvalidParameterValue)
		o = opts
		o.RunIDs = []string{"0123456789abcdef0123456789abcdef"}
		_, err = s.GC(ctx, o)
		wantCode(t, err, mlflow.ResourceDoesNotExist)

		// Too young for --older-than.
		clock = clock.Add(time.Hour)
		o = opts
		o.OlderThanMillis = (2 * time.Hour).Milliseconds()
		o.RunIDs = []string{gone}
		_, err = s.GC(ctx, o)
		wantCode(t, err, mlflow.InvalidParameterValue)
		o.RunIDs = nil
		if res, err := s.GC(ctx, o); err != nil || res != (GCResult{}) {
			t.Fatalf("gc older than 2h = %+v, %v; want nothing", res, err)
		}
		if len(deletedURIs) != 0 {
			t.Errorf("artifacts deleted too early: %v", deletedURIs)
		}

		// Old enough (a repeated id counts once).
		o.OlderThanMillis = (30 * time.Minute).Milliseconds()
		o.RunIDs = []string{gone, gone}
		o.LoggedModelIDs = []string{goneModel}
		res, err := s.GC(ctx, o)
		if err != nil {
			t.Fatal(err)
		}
		if res != (GCResult{Runs: 1, LoggedModels: 1}) {
			t.Errorf("gc = %+v", res)
		}
		zero := map[string]int{"runs": 0, "metrics": 0, "latest_metrics": 0, "params": 0, "tags": 0, "logged_model_metrics": 0, "inputs": 0}
		if diff := cmp.Diff(zero, runRows(t, s, gone)); diff != "" {
			t.Errorf("rows left of the gc'ed run (-want +got):\n%s", diff)
		}
		kept := map[string]int{"runs": 1, "metrics": 2, "latest_metrics": 2, "params": 1, "tags": 2, "logged_model_metrics": 1, "inputs": 3}
		if diff := cmp.Diff(kept, runRows(t, s, keep)); diff != "" {
			t.Errorf("rows of the kept run (-want +got):\n%s", diff)
		}
		for _, table := range []string{"logged_models", "logged_model_params", "logged_model_tags", "logged_model_metrics"} {
			if n := countRows(t, s, table, `model_id = ?`, goneModel); n != 0 {
				t.Errorf("%s rows of the gc'ed model: %d", table, n)
			}
			if n := countRows(t, s, table, `model_id = ?`, keepModel); n == 0 {
				t.Errorf("%s rows of the kept model are gone", table)
			}
		}
		if n := countRows(t, s, "inputs", `source_id = ? OR destination_id = ?`, goneModel, goneModel); n != 0 {
			t.Errorf("edges of the gc'ed model: %d", n)
		}
		sort.Strings(deletedURIs)
		want := []string{fmt.Sprintf("mlflow-artifacts:/%d/%s/artifacts", exp, gone), fmt.Sprintf("mlflow-artifacts:/%d/models/%s/artifacts", exp, goneModel)}
		sort.Strings(want)
		if diff := cmp.Diff(want, deletedURIs); diff != "" {
			t.Errorf("artifact URIs deleted (-want +got):\n%s", diff)
		}

		// A deleted experiment goes whole: runs (active ones too), models,
		// datasets, tags, artifacts.
		exp2 := mustExperiment(t, s, "gc2")
		r2, m2 := gcFixture(t, s, exp2)
		if err := s.SetExperimentTag(ctx, all, exp2, "k", "v"); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteExperiment(ctx, all, exp2); err != nil {
			t.Fatal(err)
		}
		deletedURIs = nil
		o = opts
		o.ExperimentIDs = []int64{exp2}
		if res, err := s.GC(ctx, o); err != nil || res != (GCResult{Runs: 1, Experiments: 1}) {
			t.Fatalf("gc experiment = %+v, %v", res, err)
		}
		if diff := cmp.Diff(zero, runRows(t, s, r2)); diff != "" {
			t.Errorf("rows left of the experiment's run (-want +got):\n%s", diff)
		}
		for _, table := range []string{"experiments", "experiment_tags", "datasets", "logged_models", "logged_model_params", "logged_model_tags", "logged_model_metrics"} {
			if n := countRows(t, s, table, `experiment_id = ?`, exp2); n != 0 {
				t.Errorf("%s rows of the gc'ed experiment: %d", table, n)
			}
		}
		if n := countRows(t, s, "inputs", `source_id = ? OR destination_id = ?`, m2, m2); n != 0 {
			t.Errorf("edges of the experiment's model: %d", n)
		}
		if n := countRows(t, s, "experiments", `experiment_id = ?`, exp); n != 1 {
			t.Errorf("the other experiment is gone")
		}
		if !contains(deletedURIs, fmt.Sprintf("mlflow-artifacts:/%d", exp2)) || !contains(deletedURIs, fmt.Sprintf("mlflow-artifacts:/%d/%s/artifacts", exp2, r2)) {
			t.Errorf("artifact URIs deleted: %v", deletedURIs)
		}
		// Nothing left to do.
		if res, err := s.GC(ctx, opts); err != nil || res != (GCResult{}) {
			t.Errorf("second gc = %+v, %v", res, err)
		}
	})
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// insertMetricRows puts n metric rows in run straight through SQL.
func insertMetricRows(t *testing.T, s *Store, run string, n int) {
	t.Helper()
	ctx := context.Background()
	const per = 500
	q := `INSERT INTO metrics (key, value, timestamp, run_uuid, step, is_nan) VALUES ` +
		strings.TrimSuffix(strings.Repeat(`(?, ?, ?, ?, ?, ?), `, per), ", ")
	err := s.WithTx(ctx, func(tx *Tx) error {
		args := make([]any, 0, per*6)
		for i := 0; i < n; i += per {
			args = args[:0]
			for j := i; j < i+per; j++ {
				args = append(args, "m"+fmt.Sprint(j%10), float64(j), int64(j), run, int64(j), false)
			}
			if _, err := tx.exec(ctx, q, args...); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// vmHWM is the process's peak resident set (Linux), "" elsewhere.
func vmHWM() string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			return strings.TrimSpace(strings.TrimPrefix(line, "VmHWM:"))
		}
	}
	return ""
}

// TestGCBigRunFlatMemory: gc of a run with many metric rows keeps the Go
// heap flat. 200,000 rows always; 2,000,000 with MLFLOW_SHARINGHUB_BIG=1.
func TestGCBigRunFlatMemory(t *testing.T) {
	n := 200_000
	if os.Getenv("MLFLOW_SHARINGHUB_BIG") == "1" {
		n = 2_000_000
	}
	forEachBackend(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		exp := mustExperiment(t, s, "big")
		run := mustRun(t, s, exp)
		insertMetricRows(t, s, run, n)
		if err := s.DeleteRun(ctx, all, run); err != nil {
			t.Fatal(err)
		}
		runtime.GC()
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		hwmBefore := vmHWM()

		var peak uint64
		stop := make(chan struct{})
		done := make(chan struct{})
		go func() {
			defer close(done)
			tick := time.NewTicker(2 * time.Millisecond)
			defer tick.Stop()
			var ms runtime.MemStats
			for {
				select {
				case <-stop:
					return
				case <-tick.C:
					runtime.ReadMemStats(&ms)
					peak = max(peak, ms.HeapInuse)
				}
			}
		}()
		start := time.Now()
		res, err := s.GC(ctx, GCOptions{RunIDs: []string{run}})
		close(stop)
		<-done
		if err != nil {
			t.Fatal(err)
		}
		var after runtime.MemStats
		runtime.ReadMemStats(&after)
		growth := int64(peak) - int64(before.HeapInuse)
		t.Logf("gc of %d metric rows in %v: heap in use %d MB before, peak %d MB (+%d MB), total allocated %d MB; VmHWM %s -> %s",
			n, time.Since(start).Round(time.Millisecond), before.HeapInuse>>20, peak>>20, growth>>20,
			(after.TotalAlloc-before.TotalAlloc)>>20, hwmBefore, vmHWM())
		if res.Runs != 1 || countRows(t, s, "metrics", `run_uuid = ?`, run) != 0 {
			t.Errorf("gc = %+v, metrics left %d", res, countRows(t, s, "metrics", `run_uuid = ?`, run))
		}
		if growth > 32<<20 {
			t.Errorf("heap grew by %d MB during gc, want < 32 MB", growth>>20)
		}
	})
}
