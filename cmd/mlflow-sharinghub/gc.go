package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/csgroup-oss/mlflow-sharinghub-go/internal/artifacts"
	"github.com/csgroup-oss/mlflow-sharinghub-go/internal/config"
	"github.com/csgroup-oss/mlflow-sharinghub-go/internal/store"
)

const gcUsage = `Usage: mlflow-sharinghub gc [options]

Permanently deletes soft-deleted runs, experiments and logged models, with
their artifacts, like "mlflow gc". Without ids, every deleted resource old
enough; with ids, exactly those, which must be deleted (with --run-ids or
--logged-model-ids and no --experiment-ids, deleted experiments old enough
go too, as with mlflow gc).

Options:
`

// gc is the gc subcommand.
func gc(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	def := config.Default()
	fs := flag.NewFlagSet("gc", flag.ContinueOnError)
	fs.SetOutput(stderr)
	envOr := func(k, d string) string {
		if v := getenv(k); v != "" {
			return v
		}
		return d
	}
	backend := fs.String("backend-store-uri", envOr("MLFLOW_BACKEND_STORE_URI", def.BackendStoreURI),
		"database: sqlite:///<file> or postgresql://user:pass@host:port/db (env MLFLOW_BACKEND_STORE_URI)")
	dest := fs.String("artifacts-destination", envOr("MLFLOW_ARTIFACTS_DESTINATION", def.ArtifactsDestination),
		"where proxied artifacts are stored: a folder or s3://bucket/prefix (env MLFLOW_ARTIFACTS_DESTINATION)")
	olderThan := fs.String("older-than", "", "only resources deleted at least this long ago, e.g. 30d, 8h, 2d8h5m20s")
	runIDs := fs.String("run-ids", "", "comma-separated run ids")
	expIDs := fs.String("experiment-ids", "", "comma-separated experiment ids")
	modelIDs := fs.String("logged-model-ids", "", "comma-separated logged model ids")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), gcUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return config.ErrHelp
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("gc: unexpected argument %q", fs.Arg(0))
	}
	opts := store.GCOptions{RunIDs: splitIDs(*runIDs), LoggedModelIDs: splitIDs(*modelIDs)}
	if *olderThan != "" {
		d, err := parseOlderThan(*olderThan)
		if err != nil {
			return err
		}
		opts.OlderThanMillis = d.Milliseconds()
	}
	for _, id := range splitIDs(*expIDs) {
		n, err := strconv.ParseInt(id, 10, 64)
		if err != nil {
			return fmt.Errorf("gc: invalid experiment id %q", id)
		}
		opts.ExperimentIDs = append(opts.ExperimentIDs, n)
	}

	st, err := store.Open(ctx, *backend, store.Options{})
	if err != nil {
		return fmt.Errorf("backend store %s: %w", store.Redact(*backend), err)
	}
	defer st.Close()
	arts, err := artifacts.Open(ctx, *dest, getenv)
	if err != nil {
		return fmt.Errorf("artifacts destination %s: %w", *dest, err)
	}
	if c, ok := arts.(io.Closer); ok {
		defer c.Close()
	}
	opts.DeleteArtifacts = func(ctx context.Context, uri string) error {
		p, ok := proxiedStorePath(uri)
		if !ok {
			fmt.Fprintf(stderr, "gc: skipping the artifacts at %s: not an mlflow-artifacts:/ location this server stores\n", uri)
			return nil
		}
		return arts.Delete(ctx, p)
	}
	opts.Progress = func(kind, id string) {
		fmt.Fprintf(stdout, "%s%s with ID %s has been permanently deleted.\n", strings.ToUpper(kind[:1]), kind[1:], id)
	}
	res, err := st.GC(ctx, opts)
	fmt.Fprintf(stdout, "gc: %d runs, %d logged models, %d experiments permanently deleted.\n",
		res.Runs, res.LoggedModels, res.Experiments)
	return err
}

// splitIDs splits a comma-separated list; "" is no list (nil).
func splitIDs(s string) []string {
	if strings.TrimSpace(s) == "" {
		return nil
	}
	var out []string
	for _, id := range strings.Split(s, ",") {
		if id = strings.TrimSpace(id); id != "" {
			out = append(out, id)
		}
	}
	return out
}

// olderThanRE is mlflow gc's --older-than grammar: days, hours, minutes,
// seconds, each optional, in that order, decimals allowed.
var olderThanRE = regexp.MustCompile(`^(?:([.\d]+?)d)?(?:([.\d]+?)h)?(?:([.\d]+?)m)?(?:([.\d]+?)s)?$`)

// parseOlderThan parses --older-than ("30d", "2d8h5m20s", "1.5h").
func parseOlderThan(s string) (time.Duration, error) {
	m := olderThanRE.FindStringSubmatch(s)
	bad := fmt.Errorf("gc: could not parse any time information from %q. Examples of valid strings: '8h', '2d8h5m20s', '2m4s'", s)
	if m == nil || s == "" {
		return 0, bad
	}
	units := []time.Duration{24 * time.Hour, time.Hour, time.Minute, time.Second}
	var total float64
	for i, u := range units {
		if m[i+1] == "" {
			continue
		}
		v, err := strconv.ParseFloat(m[i+1], 64)
		if err != nil || math.IsInf(v, 0) {
			return 0, bad
		}
		total += v * float64(u)
	}
	if total > math.MaxInt64 {
		return 0, bad
	}
	return time.Duration(total), nil
}

// proxiedStorePath is the artifact store path of an mlflow-artifacts:
// URI ("mlflow-artifacts:/5/abc/artifacts" or with a host); false for any
// other URI, or one that names the store's root or an unsafe path.
func proxiedStorePath(uri string) (string, bool) {
	rest, ok := strings.CutPrefix(uri, "mlflow-artifacts:")
	if !ok {
		return "", false
	}
	if strings.HasPrefix(rest, "//") {
		rest = rest[2:]
		i := strings.IndexByte(rest, '/')
		if i < 0 {
			return "", false
		}
		rest = rest[i:]
	}
	p := strings.Trim(rest, "/")
	if p == "" || artifacts.ValidatePath(p) != nil {
		return "", false
	}
	return p, true
}
