// Command loadgen drives an MLflow-compatible tracking server over HTTP and
// reports throughput and latency per workload.
//
// It only ever talks to loopback addresses (127.0.0.1, localhost, ::1): the
// base URL is checked, and every connection is checked again after name
// resolution, so a benchmark can never hit a shared or remote server.
//
// Usage:
//
//	loadgen [flags]                       set up a data set, then measure workloads
//	loadgen compare [flags] A.json B.json print the ratios A/B of two -o/-json results
//	loadgen wait -url URL [-timeout 60s]  wait until URL/health answers 200 "OK"
//	loadgen freeport                      print a free TCP port on 127.0.0.1
//
// Run "loadgen -h" for the flags. bench/README.md describes the workloads.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	code, err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		if code == 0 {
			code = 2
		}
	}
	os.Exit(code)
}

// run is the whole program. It returns the exit code: 0 when everything was
// measured without errors, 1 when a workload saw errors or a check failed,
// 2 when the benchmark could not run at all.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) (int, error) {
	if len(args) > 0 {
		switch args[0] {
		case "compare":
			return compareMain(args[1:], stdout, stderr)
		case "wait":
			return waitMain(ctx, args[1:], stderr)
		case "freeport":
			return freePortMain(stdout)
		}
	}
	return benchMain(ctx, args, stdout, stderr)
}

// options are the flags of the benchmark proper.
type options struct {
	baseURL      string
	workloads    string
	concurrency  int
	duration     time.Duration
	warmup       time.Duration
	maxRequests  int64
	runs         int
	writeRuns    int
	steps        int
	historyLen   int
	experiments  int
	timeout      time.Duration
	seed         uint64
	label        string
	jsonOut      bool
	outFile      string
	quiet        bool
	listWorkload bool
	targets      []target
	tokenEnv     map[string]string // target label ("" = every target) -> environment variable
}

func benchMain(ctx context.Context, args []string, stdout, stderr io.Writer) (int, error) {
	var o options
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.baseURL, "url", "http://127.0.0.1:5000", "base URL of the tracking server (loopback only: 127.0.0.1, localhost or [::1])")
	fs.StringVar(&o.workloads, "workloads", "all", "comma-separated workloads to measure, or \"all\" (see -list)")
	fs.StringVar(&o.workloads, "workload", "all", "alias of -workloads")
	fs.IntVar(&o.concurrency, "concurrency", 4, "concurrent clients (also used for the setup phase)")
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "measuring time per workload (the bound that usually applies)")
	fs.DurationVar(&o.warmup, "warmup", time.Second, "unmeasured warm-up time per workload (0 to skip)")
	fs.Int64Var(&o.maxRequests, "requests", 0, "maximum measured requests per workload (0: only -duration bounds it)")
	fs.IntVar(&o.runs, "runs", 200, "runs created in the read experiment during setup")
	fs.IntVar(&o.writeRuns, "write-runs", 32, "runs created in the write experiment (targets of log-batch and log-metric)")
	fs.IntVar(&o.steps, "steps", 5, "steps logged per metric key in the setup runs")
	fs.IntVar(&o.historyLen, "history-points", 1000, "points of the metric read by get-history (at most 1000)")
	fs.IntVar(&o.experiments, "experiments", 20, "extra experiments created for search-experiments")
	fs.DurationVar(&o.timeout, "timeout", 60*time.Second, "timeout of one HTTP request")
	fs.Uint64Var(&o.seed, "seed", 1, "seed of the generated data and of the request choices")
	fs.StringVar(&o.label, "label", "", "name of the server in the report (default: the URL)")
	fs.BoolVar(&o.jsonOut, "json", false, "print the report as JSON on stdout instead of a table")
	fs.StringVar(&o.outFile, "o", "", "also write the JSON report to this file")
	fs.BoolVar(&o.quiet, "q", false, "no progress messages on stderr")
	fs.BoolVar(&o.listWorkload, "list", false, "list the workloads and exit")
	o.tokenEnv = map[string]string{}
	fs.Func("token-env", "`[label=]NAME`: send \"Authorization: Bearer $NAME\" (the token is read from the environment\nvariable NAME, never from the command line) to the target with that label, or to every target", func(v string) error {
		label, name, ok := strings.Cut(v, "=")
		if !ok {
			label, name = "", v
		}
		if name == "" {
			return fmt.Errorf("want [label=]NAME, got %q", v)
		}
		o.tokenEnv[label] = name
		return nil
	})
	fs.Func("target", "`label=URL` of a server to measure; repeat it to measure several servers in one run, interleaved\n(workload by workload, one server at a time); replaces -url and -label. With two targets, the\ntables end with the ratios first/second.", func(v string) error {
		label, u, ok := strings.Cut(v, "=")
		if !ok || label == "" || u == "" {
			return fmt.Errorf("want label=URL, got %q", v)
		}
		if _, err := checkLoopbackURL(u); err != nil {
			return err
		}
		o.targets = append(o.targets, target{label: label, url: u})
		return nil
	})
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: loadgen [flags]\n       loadgen compare [-markdown] OURS.json REFERENCE.json\n       loadgen wait -url URL [-timeout 60s]\n       loadgen freeport\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2, err
	}
	if fs.NArg() > 0 {
		return 2, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if o.listWorkload {
		for _, w := range allWorkloads {
			fmt.Fprintf(stdout, "%-20s %s\n", w.name, w.desc)
		}
		return 0, nil
	}
	if err := o.validate(); err != nil {
		return 2, err
	}
	selected, err := selectWorkloads(o.workloads)
	if err != nil {
		return 2, err
	}
	if len(o.targets) == 0 {
		o.targets = []target{{label: o.label, url: o.baseURL}}
	}
	logf := func(format string, a ...any) {
		if !o.quiet {
			fmt.Fprintf(stderr, "loadgen: "+format+"\n", a...)
		}
	}

	// Every target is set up first; then each workload is measured on one
	// target after the other (never at the same time), alternating the
	// order, so that a change in background load hits all targets alike.
	type state struct {
		c   *client
		ds  *dataset
		rep report
	}
	states := make([]*state, len(o.targets))
	for i, t := range o.targets {
		c, err := newClient(t.url, o.concurrency, o.timeout)
		if err != nil {
			return 2, err
		}
		if t.label == "" {
			t.label = c.base
		}
		env, ok := o.tokenEnv[t.label]
		if !ok {
			env = o.tokenEnv[""]
		}
		if env != "" {
			if c.token = os.Getenv(env); c.token == "" {
				return 2, fmt.Errorf("-token-env: environment variable %s is empty or not set", env)
			}
		}
		states[i] = &state{c: c, rep: report{
			Server:      t.label,
			BaseURL:     c.base,
			StartedAt:   time.Now().UTC().Format(time.RFC3339),
			Concurrency: o.concurrency,
			Duration:    o.duration.String(),
			Warmup:      o.warmup.String(),
			MaxRequests: o.maxRequests,
			Runs:        o.runs,
			Seed:        o.seed,
			GoVersion:   runtime.Version(),
			NumCPU:      runtime.NumCPU(),
		}}
	}
	for label := range o.tokenEnv {
		found := label == ""
		for _, s := range states {
			found = found || s.rep.Server == label
		}
		if !found {
			return 2, fmt.Errorf("-token-env names target %q, which is not a -target label", label)
		}
	}
	for _, s := range states {
		label := s.rep.Server
		logf("%s: setup (%d runs x (%d params, %d tags, %d metric keys x %d steps), %d write runs, %d extra experiments, history of %d points)",
			label, o.runs, numParams, numTags, numMetricKeys, o.steps, o.writeRuns, o.experiments, o.historyLen)
		ds, st, err := setup(ctx, s.c, o, logf)
		s.ds, s.rep.Setup = ds, st
		if err != nil {
			return 2, fmt.Errorf("setup against %s (%s): %w", label, s.c.base, err)
		}
		logf("%s: setup done in %.1fs (%d requests)", label, st.Seconds, st.Requests)
	}

	code := 0
	for wi, w := range selected {
		for k := range states {
			if err := ctx.Err(); err != nil {
				return 2, err
			}
			s := states[k]
			if wi%2 == 1 {
				s = states[len(states)-1-k]
			}
			label := s.rep.Server
			check := ""
			if w.check != nil {
				if err := w.check(ctx, s.c, s.ds); err != nil {
					check = err.Error()
					code = 1
				}
			}
			logf("%s: %s: measuring for %s at concurrency %d", label, w.name, o.duration, o.concurrency)
			res := measure(ctx, s.c, s.ds, w, o)
			if res.Check != "" {
				check = strings.TrimPrefix(check+"; "+res.Check, "; ")
			}
			res.Check = check
			if res.Errors > 0 || res.WarmupErrors > 0 || res.Check != "" {
				code = 1
			}
			logf("%s: %s: %d requests, %d errors, %.1f req/s, p50 %.2f ms, p95 %.2f ms%s",
				label, w.name, res.Requests, res.Errors, res.RPS, res.P50ms, res.P95ms, checkSuffix(res.Check))
			s.rep.Workloads = append(s.rep.Workloads, res)
		}
	}
	var reps []report
	for _, s := range states {
		s.rep.FinishedAt = time.Now().UTC().Format(time.RFC3339)
		reps = append(reps, s.rep)
	}
	var doc any = reps[0]
	if len(reps) > 1 {
		doc = multiReport{Reports: reps}
	}
	if o.outFile != "" {
		if err := writeJSON(o.outFile, doc); err != nil {
			return 2, err
		}
	}
	if o.jsonOut {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(doc); err != nil {
			return 2, err
		}
		return code, nil
	}
	for i, r := range reps {
		if i > 0 {
			fmt.Fprintln(stdout)
		}
		printReport(stdout, r)
	}
	if len(reps) == 2 {
		fmt.Fprintln(stdout)
		printCompare(stdout, reps[0], reps[1], false)
	}
	return code, nil
}

// target is one server to measure.
type target struct{ label, url string }

func checkSuffix(check string) string {
	if check == "" {
		return ""
	}
	return " (CHECK FAILED: " + check + ")"
}

func (o *options) validate() error {
	switch {
	case o.concurrency < 1 || o.concurrency > 256:
		return errors.New("-concurrency must be between 1 and 256")
	case o.duration <= 0 && o.maxRequests <= 0:
		return errors.New("give a positive -duration or -requests: the run must be bounded")
	case o.duration > time.Hour:
		return errors.New("-duration is at most 1h")
	case o.warmup < 0:
		return errors.New("-warmup must not be negative")
	case o.runs < 1 || o.runs > 100000:
		return errors.New("-runs must be between 1 and 100000")
	case o.writeRuns < 1:
		return errors.New("-write-runs must be at least 1")
	case o.steps < 1 || numMetricKeys*o.steps > 1000-numParams-numTags:
		return fmt.Errorf("-steps must be between 1 and %d (one log-batch holds at most 1000 items)", (1000-numParams-numTags)/numMetricKeys)
	case o.historyLen < 1 || o.historyLen > 1000:
		return errors.New("-history-points must be between 1 and 1000")
	case o.experiments < 0:
		return errors.New("-experiments must not be negative")
	case o.timeout <= 0:
		return errors.New("-timeout must be positive")
	}
	if o.duration <= 0 {
		// Bounded by -requests only; still keep a generous time cap.
		o.duration = time.Hour
	}
	return nil
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// waitMain waits until <url>/health answers 200 with body "OK".
func waitMain(ctx context.Context, args []string, stderr io.Writer) (int, error) {
	fs := flag.NewFlagSet("loadgen wait", flag.ContinueOnError)
	fs.SetOutput(stderr)
	base := fs.String("url", "", "base URL of the server (loopback only)")
	timeout := fs.Duration("timeout", 60*time.Second, "how long to wait")
	if err := fs.Parse(args); err != nil {
		return 2, err
	}
	c, err := newClient(*base, 1, 2*time.Second)
	if err != nil {
		return 2, err
	}
	deadline := time.Now().Add(*timeout)
	last := ""
	for time.Now().Before(deadline) {
		status, body, err := c.raw(ctx, "GET", "/health", nil, nil)
		switch {
		case err != nil:
			last = err.Error()
		case status == 200 && strings.TrimSpace(string(body)) == "OK":
			return 0, nil
		default:
			last = fmt.Sprintf("HTTP %d %q", status, truncate(string(body), 200))
		}
		select {
		case <-ctx.Done():
			return 2, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	return 1, fmt.Errorf("%s/health not OK after %s (last: %s)", c.base, *timeout, last)
}

// freePortMain prints a TCP port that was free on 127.0.0.1 a moment ago.
func freePortMain(stdout io.Writer) (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 2, err
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	fmt.Fprintln(stdout, port)
	return 0, nil
}
