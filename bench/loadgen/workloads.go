package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// workload is one kind of request, measured on its own.
type workload struct {
	name string
	desc string
	// build prepares request number seq (0, 1, ... over warm-up and
	// measurement of this workload); rng belongs to the calling worker.
	build func(ds *dataset, seq int64, rng *rand.Rand) request
	// validate, if set, checks the body of each 200 answer (keep it cheap:
	// the load generator shares the CPU with the server).
	validate func(body []byte) error
	// check, if set, runs once before the measurement and checks that the
	// server answers this workload's request correctly.
	check func(ctx context.Context, c *client, ds *dataset) error
	// post, if set, runs once after the measurement with the sequence
	// numbers of the requests that succeeded, to check that the writes
	// really happened.
	post func(ctx context.Context, c *client, ds *dataset, ok []int64) error
}

func jsonBody(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

const (
	logBatchMetrics = 100
	logBatchParams  = 10
	logBatchTags    = 10
	logMetricKeys   = 10
)

// allWorkloads in the order "all" runs them: reads first, then writes (the
// writes go to a separate experiment, so they do not change what the reads
// see).
var allWorkloads = []workload{
	{
		name: "get-run",
		desc: "GET runs/get of a random run of the read experiment (20 params, 14 tags, 10 metrics)",
		build: func(ds *dataset, _ int64, rng *rand.Rand) request {
			id := ds.readRuns[rng.IntN(len(ds.readRuns))]
			return request{method: "GET", path: "/api/2.0/mlflow/runs/get", query: url.Values{"run_id": {id}}}
		},
		check: checkGetRun,
	},
	{
		name: "get-history",
		desc: "GET metrics/get-history of one metric key with 1000 points (max_results=25000, as the Python client)",
		build: func(ds *dataset, _ int64, _ *rand.Rand) request {
			return request{method: "GET", path: "/api/2.0/mlflow/metrics/get-history", query: url.Values{
				"run_id": {ds.historyRun}, "run_uuid": {ds.historyRun}, "metric_key": {historyKey}, "max_results": {"25000"},
			}}
		},
		check: checkHistory,
	},
	{
		name: "search-runs",
		desc: "POST runs/search, filter \"" + searchFilter + "\", order_by " + searchOrderBy + ", max_results 100",
		build: func(ds *dataset, _ int64, _ *rand.Rand) request {
			return request{method: "POST", path: "/api/2.0/mlflow/runs/search", body: jsonBody(map[string]any{
				"experiment_ids": []string{ds.readExp}, "filter": searchFilter, "run_view_type": "ACTIVE_ONLY",
				"max_results": 100, "order_by": []string{searchOrderBy},
			})}
		},
		check: checkSearchFiltered,
	},
	{
		name: "search-runs-1000",
		desc: "POST runs/search, no filter, max_results 1000 (one page with every run of the read experiment)",
		build: func(ds *dataset, _ int64, _ *rand.Rand) request {
			return request{method: "POST", path: "/api/2.0/mlflow/runs/search", body: jsonBody(map[string]any{
				"experiment_ids": []string{ds.readExp}, "run_view_type": "ACTIVE_ONLY", "max_results": 1000,
			})}
		},
		check: checkSearchAll,
	},
	{
		name: "search-experiments",
		desc: "POST experiments/search, view_type ACTIVE_ONLY, max_results 100",
		build: func(*dataset, int64, *rand.Rand) request {
			return request{method: "POST", path: "/api/2.0/mlflow/experiments/search", body: jsonBody(map[string]any{
				"view_type": "ACTIVE_ONLY", "max_results": 100,
			})}
		},
		check: checkSearchExperiments,
	},
	{
		name: "log-metric",
		desc: "POST runs/log-metric: one metric (10 keys, new step each time) on the write runs, round robin",
		build: func(ds *dataset, seq int64, rng *rand.Rand) request {
			id := ds.writeRuns[seq%int64(len(ds.writeRuns))]
			return request{method: "POST", path: "/api/2.0/mlflow/runs/log-metric", body: jsonBody(map[string]any{
				"run_id": id, "run_uuid": id, "key": logMetricKey(ds, seq), "value": rng.Float64(),
				"timestamp": time.Now().UnixMilli(), "step": seq,
			})}
		},
		post: postLogMetric,
	},
	{
		name: "log-batch",
		desc: "POST runs/log-batch: 100 metrics + 10 new params + 10 tags on the write runs, round robin",
		build: func(ds *dataset, seq int64, rng *rand.Rand) request {
			id := ds.writeRuns[seq%int64(len(ds.writeRuns))]
			now := time.Now().UnixMilli()
			b := logBatchReq{RunID: id}
			for k := 0; k < logBatchMetrics; k++ {
				b.Metrics = append(b.Metrics, metric{Key: "lb_m" + strconv.Itoa(k), Value: rng.Float64(), Timestamp: now, Step: seq})
			}
			for k := 0; k < logBatchParams; k++ {
				// A new key every time: params are immutable, and logging a
				// different value for an existing key is an error.
				b.Params = append(b.Params, kv{fmt.Sprintf("lb%d_p%d", seq, k), "value-" + strconv.Itoa(k)})
			}
			for k := 0; k < logBatchTags; k++ {
				b.Tags = append(b.Tags, kv{"lb_t" + strconv.Itoa(k), "tag-" + strconv.FormatInt(seq, 10)})
			}
			return request{method: "POST", path: "/api/2.0/mlflow/runs/log-batch", body: jsonBody(b)}
		},
		post: postLogBatch,
	},
	{
		name: "create-run",
		desc: "POST runs/create in the write experiment, with the Python client's context tags",
		build: func(ds *dataset, seq int64, _ *rand.Rand) request {
			return request{method: "POST", path: "/api/2.0/mlflow/runs/create",
				body: jsonBody(newCreateRun(ds.writeExp, "created-"+strconv.FormatInt(seq, 10), time.Now().UnixMilli()))}
		},
		validate: func(body []byte) error {
			if !bytes.Contains(body, []byte(`"run_id"`)) {
				return fmt.Errorf("runs/create answer has no run_id: %s", truncate(string(body), 300))
			}
			return nil
		},
	},
}

func logMetricKey(ds *dataset, seq int64) string {
	return "lm" + strconv.FormatInt((seq/int64(len(ds.writeRuns)))%logMetricKeys, 10)
}

func selectWorkloads(spec string) ([]workload, error) {
	spec = strings.TrimSpace(spec)
	if spec == "" || spec == "all" {
		return allWorkloads, nil
	}
	var out []workload
	seen := map[string]bool{}
	for _, name := range strings.Split(spec, ",") {
		name = strings.TrimSpace(name)
		if name == "" || seen[name] {
			continue
		}
		found := false
		for _, w := range allWorkloads {
			if w.name == name {
				out, found = append(out, w), true
			}
		}
		if !found {
			var names []string
			for _, w := range allWorkloads {
				names = append(names, w.name)
			}
			return nil, fmt.Errorf("unknown workload %q (known: %s)", name, strings.Join(names, ", "))
		}
		seen[name] = true
	}
	return out, nil
}

// ---------------------------------------------------------------------------
// Measurement

type workloadResult struct {
	Name           string           `json:"name"`
	Description    string           `json:"description"`
	Requests       int64            `json:"requests"`
	Errors         int64            `json:"errors"`
	ErrorsByKind   map[string]int64 `json:"errors_by_kind,omitempty"`
	FirstError     string           `json:"first_error,omitempty"`
	WarmupRequests int64            `json:"warmup_requests"`
	WarmupErrors   int64            `json:"warmup_errors"`
	ElapsedS       float64          `json:"elapsed_s"`
	RPS            float64          `json:"rps"` // successful requests per second
	MeanMs         float64          `json:"mean_ms"`
	P50ms          float64          `json:"p50_ms"`
	P95ms          float64          `json:"p95_ms"`
	P99ms          float64          `json:"p99_ms"`
	MaxMs          float64          `json:"max_ms"`
	// ClientCPU is the CPU time of this load generator during the
	// measurement, as a share of one core (1.0 = one core busy): it runs on
	// the same machine as the server and takes that CPU from it.
	ClientCPU float64 `json:"client_cpu_cores"`
	Check     string  `json:"check_error,omitempty"`
}

type phaseResult struct {
	requests, errors int64
	byKind           map[string]int64
	firstError       string
	latencies        []time.Duration // successful requests only
	okSeqs           []int64
	elapsed          time.Duration
}

// runPhase runs w on o.concurrency workers until d has passed or limit
// requests have been sent (limit 0: no limit).
func runPhase(ctx context.Context, c *client, ds *dataset, w workload, o options, seq *atomic.Int64, d time.Duration, limit int64, phase uint64) phaseResult {
	var (
		mu    sync.Mutex
		res   = phaseResult{byKind: map[string]int64{}}
		count atomic.Int64
		wg    sync.WaitGroup
	)
	start := time.Now()
	deadline := start.Add(d)
	for i := 0; i < o.concurrency; i++ {
		wg.Add(1)
		go func(worker uint64) {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(o.seed, phase<<32|worker))
			var (
				lat     []time.Duration
				oks     []int64
				n, nerr int64
				kinds   = map[string]int64{}
				first   string
			)
			for ctx.Err() == nil && time.Now().Before(deadline) {
				if limit > 0 && count.Add(1) > limit {
					break
				}
				s := seq.Add(1) - 1
				req := w.build(ds, s, rng)
				t0 := time.Now()
				body, err := c.do(ctx, req)
				el := time.Since(t0)
				if err == nil && w.validate != nil {
					err = w.validate(body)
				}
				n++
				if err != nil {
					nerr++
					kind := "transport"
					if ae, ok := err.(*apiError); ok {
						kind = "HTTP " + strconv.Itoa(ae.status)
						if ae.status == 200 {
							kind = "bad body"
						}
					}
					kinds[kind]++
					if first == "" {
						first = err.Error()
					}
					continue
				}
				lat = append(lat, el)
				if w.post != nil {
					oks = append(oks, s)
				}
			}
			mu.Lock()
			defer mu.Unlock()
			res.requests += n
			res.errors += nerr
			for k, v := range kinds {
				res.byKind[k] += v
			}
			if res.firstError == "" {
				res.firstError = first
			}
			res.latencies = append(res.latencies, lat...)
			res.okSeqs = append(res.okSeqs, oks...)
		}(uint64(i))
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	return res
}

func measure(ctx context.Context, c *client, ds *dataset, w workload, o options) workloadResult {
	var seq atomic.Int64
	out := workloadResult{Name: w.name, Description: w.desc}
	var okSeqs []int64
	if o.warmup > 0 {
		wu := runPhase(ctx, c, ds, w, o, &seq, o.warmup, 0, 1)
		out.WarmupRequests, out.WarmupErrors = wu.requests, wu.errors
		if wu.firstError != "" {
			out.FirstError = "(warm-up) " + wu.firstError
		}
		okSeqs = append(okSeqs, wu.okSeqs...)
	}
	cpu0 := processCPU()
	m := runPhase(ctx, c, ds, w, o, &seq, o.duration, o.maxRequests, 2)
	if m.elapsed > 0 {
		out.ClientCPU = (processCPU() - cpu0).Seconds() / m.elapsed.Seconds()
	}
	okSeqs = append(okSeqs, m.okSeqs...)
	out.Requests, out.Errors = m.requests, m.errors
	if len(m.byKind) > 0 {
		out.ErrorsByKind = m.byKind
	}
	if m.firstError != "" {
		out.FirstError = m.firstError
	}
	out.ElapsedS = m.elapsed.Seconds()
	if m.elapsed > 0 {
		out.RPS = float64(len(m.latencies)) / m.elapsed.Seconds()
	}
	lat := m.latencies
	if len(lat) > 0 {
		sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
		var sum time.Duration
		for _, l := range lat {
			sum += l
		}
		out.MeanMs = ms(sum / time.Duration(len(lat)))
		out.P50ms = ms(percentile(lat, 50))
		out.P95ms = ms(percentile(lat, 95))
		out.P99ms = ms(percentile(lat, 99))
		out.MaxMs = ms(lat[len(lat)-1])
	}
	if w.post != nil && ctx.Err() == nil {
		if err := w.post(ctx, c, ds, okSeqs); err != nil {
			out.Check = "after the run: " + err.Error()
		}
	}
	return out
}

// percentile is the nearest-rank percentile of sorted latencies.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(p/100*float64(len(sorted)) + 0.999999999)
	if rank < 1 {
		rank = 1
	}
	if rank > len(sorted) {
		rank = len(sorted)
	}
	return sorted[rank-1]
}

// processCPU is the user+system CPU time used by this process so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func ms(d time.Duration) float64 {
	return float64(d.Microseconds()) / 1000
}

// ---------------------------------------------------------------------------
// Correctness checks: a fast wrong answer must not look like a win.

func checkGetRun(ctx context.Context, c *client, ds *dataset) error {
	i := 1 // p1 = "v1"
	if len(ds.readRuns) < 2 {
		i = 0
	}
	var out runResp
	if err := c.call(ctx, "GET", "/api/2.0/mlflow/runs/get", url.Values{"run_id": {ds.readRuns[i]}}, nil, &out); err != nil {
		return err
	}
	d := out.Run.Data
	if len(d.Params) != numParams || len(d.Metrics) != numMetricKeys || len(d.Tags) < numTags {
		return fmt.Errorf("runs/get: %d params, %d metrics, %d tags; want %d, %d, >= %d",
			len(d.Params), len(d.Metrics), len(d.Tags), numParams, numMetricKeys, numTags)
	}
	for _, p := range d.Params {
		if want := "v" + strconv.Itoa(i%(mustAtoi(p.Key[1:])+2)); p.Value != want {
			return fmt.Errorf("runs/get: param %s = %q, want %q", p.Key, p.Value, want)
		}
	}
	return nil
}

func mustAtoi(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		return -1
	}
	return n
}

type historyResp struct {
	Metrics       []metric `json:"metrics"`
	NextPageToken string   `json:"next_page_token"`
}

func getHistory(ctx context.Context, c *client, run, key string) ([]metric, error) {
	var all []metric
	token := ""
	for page := 0; page < 1000; page++ {
		q := url.Values{"run_id": {run}, "run_uuid": {run}, "metric_key": {key}, "max_results": {"25000"}}
		if token != "" {
			q.Set("page_token", token)
		}
		var out historyResp
		if err := c.call(ctx, "GET", "/api/2.0/mlflow/metrics/get-history", q, nil, &out); err != nil {
			return nil, err
		}
		all = append(all, out.Metrics...)
		if token = out.NextPageToken; token == "" {
			return all, nil
		}
	}
	return nil, fmt.Errorf("get-history: more than 1000 pages")
}

func checkHistory(ctx context.Context, c *client, ds *dataset) error {
	var out historyResp
	q := url.Values{"run_id": {ds.historyRun}, "run_uuid": {ds.historyRun}, "metric_key": {historyKey}, "max_results": {"25000"}}
	if err := c.call(ctx, "GET", "/api/2.0/mlflow/metrics/get-history", q, nil, &out); err != nil {
		return err
	}
	if len(out.Metrics) != ds.historyLen || out.NextPageToken != "" {
		return fmt.Errorf("get-history: %d points (next_page_token %q), want %d in one page", len(out.Metrics), out.NextPageToken, ds.historyLen)
	}
	return nil
}

type searchRunsResp struct {
	Runs []struct {
		Info struct {
			RunID        string `json:"run_id"`
			ExperimentID string `json:"experiment_id"`
		} `json:"info"`
		Data struct {
			Metrics []metric `json:"metrics"`
			Params  []kv     `json:"params"`
		} `json:"data"`
	} `json:"runs"`
	NextPageToken string `json:"next_page_token"`
}

func checkSearchFiltered(ctx context.Context, c *client, ds *dataset) error {
	var out searchRunsResp
	in := map[string]any{"experiment_ids": []string{ds.readExp}, "filter": searchFilter, "run_view_type": "ACTIVE_ONLY",
		"max_results": 100, "order_by": []string{searchOrderBy}}
	if err := c.call(ctx, "POST", "/api/2.0/mlflow/runs/search", nil, in, &out); err != nil {
		return err
	}
	want := min(len(ds.expectedM0), 100)
	if len(out.Runs) != want {
		return fmt.Errorf("runs/search %q: %d runs, want %d", searchFilter, len(out.Runs), want)
	}
	if (len(ds.expectedM0) > 100) != (out.NextPageToken != "") {
		return fmt.Errorf("runs/search %q: next_page_token %q with %d matching runs", searchFilter, out.NextPageToken, len(ds.expectedM0))
	}
	for i, r := range out.Runs {
		m0, p1 := -1.0, ""
		for _, m := range r.Data.Metrics {
			if m.Key == "m0" {
				m0 = m.Value
			}
		}
		for _, p := range r.Data.Params {
			if p.Key == "p1" {
				p1 = p.Value
			}
		}
		if p1 != "v1" || m0 != ds.expectedM0[i] {
			return fmt.Errorf("runs/search %q order_by %s: run #%d has m0=%v p1=%q, want m0=%v p1=\"v1\"",
				searchFilter, searchOrderBy, i, m0, p1, ds.expectedM0[i])
		}
	}
	return nil
}

func checkSearchAll(ctx context.Context, c *client, ds *dataset) error {
	var out searchRunsResp
	in := map[string]any{"experiment_ids": []string{ds.readExp}, "run_view_type": "ACTIVE_ONLY", "max_results": 1000}
	if err := c.call(ctx, "POST", "/api/2.0/mlflow/runs/search", nil, in, &out); err != nil {
		return err
	}
	want := min(len(ds.readRuns), 1000)
	if len(out.Runs) != want {
		return fmt.Errorf("runs/search max_results 1000: %d runs, want %d", len(out.Runs), want)
	}
	for _, r := range out.Runs {
		if len(r.Data.Params) != numParams || len(r.Data.Metrics) != numMetricKeys {
			return fmt.Errorf("runs/search: run %s has %d params and %d metrics, want %d and %d",
				r.Info.RunID, len(r.Data.Params), len(r.Data.Metrics), numParams, numMetricKeys)
		}
	}
	return nil
}

func checkSearchExperiments(ctx context.Context, c *client, ds *dataset) error {
	var out struct {
		Experiments []struct {
			ExperimentID string `json:"experiment_id"`
			Name         string `json:"name"`
		} `json:"experiments"`
	}
	in := map[string]any{"view_type": "ACTIVE_ONLY", "max_results": 100}
	if err := c.call(ctx, "POST", "/api/2.0/mlflow/experiments/search", nil, in, &out); err != nil {
		return err
	}
	if want := min(ds.numExps, 100); len(out.Experiments) < want {
		return fmt.Errorf("experiments/search: %d experiments, want at least %d", len(out.Experiments), want)
	}
	return nil
}

// postLogBatch checks that the params of every successful log-batch to the
// first write run are there.
func postLogBatch(ctx context.Context, c *client, ds *dataset, ok []int64) error {
	want := 0
	for _, s := range ok {
		if s%int64(len(ds.writeRuns)) == 0 {
			want += logBatchParams
		}
	}
	var out runResp
	if err := c.call(ctx, "GET", "/api/2.0/mlflow/runs/get", url.Values{"run_id": {ds.writeRuns[0]}}, nil, &out); err != nil {
		return err
	}
	got := 0
	for _, p := range out.Run.Data.Params {
		if strings.HasPrefix(p.Key, "lb") {
			got++
		}
	}
	if got != want {
		return fmt.Errorf("run %s has %d log-batch params, want %d", ds.writeRuns[0], got, want)
	}
	return nil
}

// postLogMetric checks the history of one key of the first write run.
func postLogMetric(ctx context.Context, c *client, ds *dataset, ok []int64) error {
	want := 0
	for _, s := range ok {
		if s%int64(len(ds.writeRuns)) == 0 && logMetricKey(ds, s) == "lm0" {
			want++
		}
	}
	h, err := getHistory(ctx, c, ds.writeRuns[0], "lm0")
	if err != nil {
		return err
	}
	if len(h) != want {
		return fmt.Errorf("run %s metric lm0 has %d points, want %d", ds.writeRuns[0], len(h), want)
	}
	return nil
}
