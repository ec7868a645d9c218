package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Shape of each run of the read experiment.
const (
	numParams     = 20
	numTags       = 10
	numMetricKeys = 10
	historyKey    = "loss_history"
)

// Filter and order of the search-runs workload; setup makes the data so that
// we know which runs must come back.
const (
	searchFilter  = "metrics.m0 > 0.5 and params.p1 = 'v1'"
	searchOrderBy = "metrics.m0 DESC"
)

// dataset is what setup created on the server.
type dataset struct {
	prefix     string
	readExp    string   // experiment of the runs read by search-runs and get-run
	writeExp   string   // experiment that write workloads add to
	readRuns   []string // run ids of the read experiment, by creation index
	writeRuns  []string // targets of log-batch and log-metric
	historyRun string   // run with historyLen points of metric historyKey
	historyLen int
	numExps    int // experiments created (read + write + extra)

	// expectedM0 are the latest m0 values of the runs matching searchFilter,
	// sorted in descending order.
	expectedM0 []float64
}

type setupStats struct {
	Seconds  float64 `json:"seconds"`
	Requests int64   `json:"requests"`
}

// Wire shapes (proto field names, see the MLflow HTTP API reference §5).
type kv struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

type metric struct {
	Key       string  `json:"key"`
	Value     float64 `json:"value"`
	Timestamp int64   `json:"timestamp"`
	Step      int64   `json:"step"`
}

type logBatchReq struct {
	RunID   string   `json:"run_id"`
	Metrics []metric `json:"metrics,omitempty"`
	Params  []kv     `json:"params,omitempty"`
	Tags    []kv     `json:"tags,omitempty"`
}

type createRunReq struct {
	ExperimentID string `json:"experiment_id"`
	UserID       string `json:"user_id,omitempty"`
	RunName      string `json:"run_name,omitempty"`
	StartTime    int64  `json:"start_time"`
	Tags         []kv   `json:"tags,omitempty"`
}

type runResp struct {
	Run struct {
		Info struct {
			RunID        string `json:"run_id"`
			ExperimentID string `json:"experiment_id"`
		} `json:"info"`
		Data struct {
			Metrics []metric `json:"metrics"`
			Params  []kv     `json:"params"`
			Tags    []kv     `json:"tags"`
		} `json:"data"`
	} `json:"run"`
}

func newCreateRun(expID, name string, startMs int64) createRunReq {
	return createRunReq{
		ExperimentID: expID,
		UserID:       "bench",
		RunName:      name,
		StartTime:    startMs,
		// The context tags the Python client sends with every new run.
		Tags: []kv{
			{"mlflow.user", "bench"},
			{"mlflow.source.name", "loadgen"},
			{"mlflow.source.type", "LOCAL"},
			{"mlflow.runName", name},
		},
	}
}

// readRunData is the deterministic content of read run i.
func readRunData(seed uint64, i, steps int, baseMs int64) (params, tags []kv, metrics []metric) {
	rng := rand.New(rand.NewPCG(seed, uint64(i)+1))
	for k := 0; k < numParams; k++ {
		// p1 is "v1" for one run in three, which searchFilter selects.
		params = append(params, kv{"p" + strconv.Itoa(k), "v" + strconv.Itoa(i%(k+2))})
	}
	for k := 0; k < numTags; k++ {
		tags = append(tags, kv{"t" + strconv.Itoa(k), "tag-value-" + strconv.Itoa(i%5)})
	}
	for s := 0; s < steps; s++ {
		for k := 0; k < numMetricKeys; k++ {
			metrics = append(metrics, metric{Key: "m" + strconv.Itoa(k), Value: rng.Float64(), Timestamp: baseMs + int64(s), Step: int64(s)})
		}
	}
	return params, tags, metrics
}

// setup creates the experiments and runs the workloads use.
func setup(ctx context.Context, c *client, o options, logf func(string, ...any)) (*dataset, setupStats, error) {
	start := time.Now()
	var nreq atomic.Int64
	call := func(method, path string, in, out any) error {
		nreq.Add(1)
		return c.call(ctx, method, path, nil, in, out)
	}
	stats := func() setupStats {
		return setupStats{Seconds: time.Since(start).Seconds(), Requests: nreq.Load()}
	}

	ds := &dataset{
		prefix:     fmt.Sprintf("loadgen-%s-%04x", time.Now().UTC().Format("20060102T150405.000"), rand.Uint32()&0xffff),
		historyLen: o.historyLen,
	}
	createExp := func(name string) (string, error) {
		var out struct {
			ExperimentID string `json:"experiment_id"`
		}
		if err := call("POST", "/api/2.0/mlflow/experiments/create", map[string]any{"name": name}, &out); err != nil {
			return "", err
		}
		if out.ExperimentID == "" {
			return "", fmt.Errorf("experiments/create %q answered no experiment_id", name)
		}
		return out.ExperimentID, nil
	}
	createRun := func(exp, name string) (string, error) {
		var out runResp
		if err := call("POST", "/api/2.0/mlflow/runs/create", newCreateRun(exp, name, time.Now().UnixMilli()), &out); err != nil {
			return "", err
		}
		if out.Run.Info.RunID == "" {
			return "", fmt.Errorf("runs/create answered no run_id")
		}
		return out.Run.Info.RunID, nil
	}

	var err error
	if ds.readExp, err = createExp(ds.prefix + "-read"); err != nil {
		return nil, stats(), err
	}
	if ds.writeExp, err = createExp(ds.prefix + "-write"); err != nil {
		return nil, stats(), err
	}
	ds.numExps = 2
	if err := forEach(ctx, o.experiments, o.concurrency, func(i int) error {
		_, err := createExp(fmt.Sprintf("%s-extra-%03d", ds.prefix, i))
		return err
	}); err != nil {
		return nil, stats(), err
	}
	ds.numExps += o.experiments

	// Read runs: create, then one log-batch with all params, tags and metrics.
	baseMs := time.Now().UnixMilli()
	ds.readRuns = make([]string, o.runs)
	var done atomic.Int64
	if err := forEach(ctx, o.runs, o.concurrency, func(i int) error {
		id, err := createRun(ds.readExp, fmt.Sprintf("read-%05d", i))
		if err != nil {
			return err
		}
		ds.readRuns[i] = id
		p, t, m := readRunData(o.seed, i, o.steps, baseMs)
		if err := call("POST", "/api/2.0/mlflow/runs/log-batch", logBatchReq{RunID: id, Params: p, Tags: t, Metrics: m}, nil); err != nil {
			return err
		}
		if n := done.Add(1); n%100 == 0 {
			logf("setup: %d/%d runs", n, o.runs)
		}
		return nil
	}); err != nil {
		return nil, stats(), err
	}
	for i := 0; i < o.runs; i++ {
		_, _, m := readRunData(o.seed, i, o.steps, baseMs)
		if i%3 != 1 {
			continue
		}
		last := m[len(m)-numMetricKeys] // m0 at the last step
		if last.Key != "m0" {
			panic("readRunData layout changed")
		}
		if last.Value > 0.5 {
			ds.expectedM0 = append(ds.expectedM0, last.Value)
		}
	}
	sort.Sort(sort.Reverse(sort.Float64Slice(ds.expectedM0)))

	// Write runs, and the run holding the long metric history.
	ds.writeRuns = make([]string, o.writeRuns)
	if err := forEach(ctx, o.writeRuns, o.concurrency, func(i int) error {
		id, err := createRun(ds.writeExp, fmt.Sprintf("write-%05d", i))
		ds.writeRuns[i] = id
		return err
	}); err != nil {
		return nil, stats(), err
	}
	if ds.historyRun, err = createRun(ds.writeExp, "history"); err != nil {
		return nil, stats(), err
	}
	rng := rand.New(rand.NewPCG(o.seed, 0))
	hist := make([]metric, o.historyLen)
	for s := range hist {
		hist[s] = metric{Key: historyKey, Value: rng.Float64(), Timestamp: baseMs + int64(s), Step: int64(s)}
	}
	if err := call("POST", "/api/2.0/mlflow/runs/log-batch", logBatchReq{RunID: ds.historyRun, Metrics: hist}, nil); err != nil {
		return nil, stats(), err
	}
	return ds, stats(), nil
}

// forEach calls f(0..n-1) on conc goroutines and returns the first error;
// after an error no new call starts.
func forEach(ctx context.Context, n, conc int, f func(i int) error) error {
	var (
		next     atomic.Int64
		wg       sync.WaitGroup
		once     sync.Once
		firstErr error
		failed   atomic.Bool
	)
	for w := 0; w < conc; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !failed.Load() && ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := f(i); err != nil {
					once.Do(func() { firstErr = err })
					failed.Store(true)
					return
				}
			}
		}()
	}
	wg.Wait()
	if firstErr == nil {
		return ctx.Err()
	}
	return firstErr
}
