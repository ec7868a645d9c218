package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"text/tabwriter"
)

// report is the JSON document of one loadgen run (flag -json or -o).
type report struct {
	Server      string           `json:"server"`
	BaseURL     string           `json:"base_url"`
	StartedAt   string           `json:"started_at"`
	FinishedAt  string           `json:"finished_at"`
	Concurrency int              `json:"concurrency"`
	Duration    string           `json:"duration"`
	Warmup      string           `json:"warmup"`
	MaxRequests int64            `json:"max_requests"`
	Runs        int              `json:"runs"`
	Seed        uint64           `json:"seed"`
	GoVersion   string           `json:"go_version"`
	NumCPU      int              `json:"num_cpu"`
	Setup       setupStats       `json:"setup"`
	Workloads   []workloadResult `json:"workloads"`
}

func printReport(w io.Writer, r report) {
	fmt.Fprintf(w, "server %s (%s), concurrency %d, %s per workload (+%s warm-up), %d runs, started %s\n",
		r.Server, r.BaseURL, r.Concurrency, r.Duration, r.Warmup, r.Runs, r.StartedAt)
	fmt.Fprintf(w, "setup: %d requests in %.1fs; \"loadgen CPU\" is this client's own CPU use in cores (it shares the machine)\n\n", r.Setup.Requests, r.Setup.Seconds)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "workload\trequests\terrors\treq/s\tp50 ms\tp95 ms\tp99 ms\tmax ms\tloadgen CPU\t")
	for _, x := range r.Workloads {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.1f\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f\t\n",
			x.Name, x.Requests, x.Errors, x.RPS, x.P50ms, x.P95ms, x.P99ms, x.MaxMs, x.ClientCPU)
	}
	tw.Flush()
	printProblems(w, r)
}

func printProblems(w io.Writer, r report) {
	for _, x := range r.Workloads {
		if x.Errors > 0 || x.WarmupErrors > 0 {
			fmt.Fprintf(w, "\n%s: %s: %d errors (+%d in warm-up) %v; first: %s\n",
				r.Server, x.Name, x.Errors, x.WarmupErrors, x.ErrorsByKind, x.FirstError)
		}
		if x.Check != "" {
			fmt.Fprintf(w, "\n%s: %s: CHECK FAILED: %s\n", r.Server, x.Name, x.Check)
		}
	}
}

// multiReport is the JSON document of a run with several -target flags.
type multiReport struct {
	Reports []report `json:"reports"`
}

// readReports reads a single-server report or a multiReport.
func readReports(path string) ([]report, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var m multiReport
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(m.Reports) > 0 {
		return m.Reports, nil
	}
	var r report
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return []report{r}, nil
}

// compareMain prints the ratios of two reports: the first (ours) over the
// second (the reference).
func compareMain(args []string, stdout, stderr io.Writer) (int, error) {
	fs := flag.NewFlagSet("loadgen compare", flag.ContinueOnError)
	fs.SetOutput(stderr)
	md := fs.Bool("markdown", false, "print a Markdown table")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: loadgen compare [-markdown] OURS.json REFERENCE.json\n       loadgen compare [-markdown] BOTH.json   (a report of a run with two -target flags)\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2, err
	}
	var reps []report
	for _, p := range fs.Args() {
		r, err := readReports(p)
		if err != nil {
			return 2, err
		}
		reps = append(reps, r...)
	}
	if len(reps) != 2 {
		fs.Usage()
		return 2, fmt.Errorf("need exactly two reports, got %d", len(reps))
	}
	if !printCompare(stdout, reps[0], reps[1], *md) {
		return 1, nil
	}
	return 0, nil
}

// printCompare prints the table of ratios a/b. It returns false when a
// workload had errors or failed checks on either side.
func printCompare(stdout io.Writer, a, b report, md bool) bool {
	if a.Concurrency != b.Concurrency || a.Duration != b.Duration || a.Runs != b.Runs || a.MaxRequests != b.MaxRequests || a.Seed != b.Seed {
		fmt.Fprintf(stdout, "WARNING: the two runs used different parameters (concurrency %d/%d, duration %s/%s, runs %d/%d, requests %d/%d, seed %d/%d)\n",
			a.Concurrency, b.Concurrency, a.Duration, b.Duration, a.Runs, b.Runs, a.MaxRequests, b.MaxRequests, a.Seed, b.Seed)
	}
	byName := map[string]workloadResult{}
	for _, x := range b.Workloads {
		byName[x.Name] = x
	}

	header := []string{"workload", a.Server + " req/s", b.Server + " req/s", "req/s ratio",
		a.Server + " p50 ms", b.Server + " p50 ms", "p50 ratio", a.Server + " p95 ms", b.Server + " p95 ms", "p95 ratio", "errors"}
	var rows [][]string
	logSum, logN := 0.0, 0
	problems := false
	for _, x := range a.Workloads {
		y, ok := byName[x.Name]
		if !ok {
			continue
		}
		errs := fmt.Sprintf("%d/%d", x.Errors+x.WarmupErrors, y.Errors+y.WarmupErrors)
		clean := x.Errors+x.WarmupErrors == 0 && y.Errors+y.WarmupErrors == 0 && x.Check == "" && y.Check == ""
		if !clean {
			errs += " !"
			problems = true
		}
		if clean && x.RPS > 0 && y.RPS > 0 {
			logSum += math.Log(x.RPS / y.RPS)
			logN++
		}
		rows = append(rows, []string{x.Name,
			f1(x.RPS), f1(y.RPS), ratio(x.RPS, y.RPS),
			f2(x.P50ms), f2(y.P50ms), ratio(x.P50ms, y.P50ms),
			f2(x.P95ms), f2(y.P95ms), ratio(x.P95ms, y.P95ms), errs})
	}
	rows = append(rows, []string{"(setup time)", fmt.Sprintf("%.1fs", a.Setup.Seconds), fmt.Sprintf("%.1fs", b.Setup.Seconds),
		ratio(b.Setup.Seconds, a.Setup.Seconds), "", "", "", "", "", "", ""})

	if md {
		fmt.Fprintln(stdout, "| "+strings.Join(header, " | ")+" |")
		seps := make([]string, len(header))
		for i := range seps {
			seps[i] = "---:"
		}
		seps[0] = "---"
		fmt.Fprintln(stdout, "|"+strings.Join(seps, "|")+"|")
		for _, r := range rows {
			fmt.Fprintln(stdout, "| "+strings.Join(r, " | ")+" |")
		}
	} else {
		tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, strings.Join(header, "\t")+"\t")
		for _, r := range rows {
			fmt.Fprintln(tw, strings.Join(r, "\t")+"\t")
		}
		tw.Flush()
	}
	fmt.Fprintf(stdout, "\nRatios are %[1]s/%[2]s: a req/s ratio above 1 means %[1]s served more requests per second;\n"+
		"a p50/p95 ratio below 1 means %[1]s answered sooner. Setup ratio: %[2]s time / %[1]s time (above 1: %[1]s faster).\n",
		a.Server, b.Server)
	if logN > 0 {
		fmt.Fprintf(stdout, "Geometric mean of the req/s ratios over %d error-free workloads: %.2fx\n", logN, math.Exp(logSum/float64(logN)))
	}
	if problems {
		fmt.Fprintln(stdout, "\n\"!\" marks errors or failed checks; those ratios are not comparable:")
		printProblems(stdout, a)
		printProblems(stdout, b)
	}
	return !problems
}

func ratio(a, b float64) string {
	if a <= 0 || b <= 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.2fx", a/b)
}

func f1(v float64) string { return fmt.Sprintf("%.1f", v) }
func f2(v float64) string { return fmt.Sprintf("%.2f", v) }
