package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/csgroup-oss/mlflow-sharinghub-go/internal/access"
	"github.com/csgroup-oss/mlflow-sharinghub-go/internal/auth"
	"github.com/csgroup-oss/mlflow-sharinghub-go/internal/gitlabtest"
	"github.com/csgroup-oss/mlflow-sharinghub-go/internal/store"
)

// This file is the harness of the tenancy, isolation, outage and sign-in
// tests: the real server on a real SQLite database, its roles coming from
// the GitLab double through the real GitLab provider and cache, wired as
// cmd/mlflow-sharinghub's buildHandler wires them.

// world is one running server with its GitLab double.
type world struct {
	t      testing.TB
	gl     *gitlabtest.Server
	cache  *access.Cache
	st     *store.Store
	srv    *Server
	http   *httptest.Server
	oidc   *auth.OIDC        // nil unless worldOptions.oidc
	glOIDC *gitlabtest.OIDC  // nil unless worldOptions.oidc
	tokens map[string]string // username → personal access token
	seq    atomic.Int64
}

// worldOptions tune newWorld.
type worldOptions struct {
	ttl           time.Duration // PROJECT_CACHE_TIMEOUT; 0 means 10 minutes
	gitlabTimeout time.Duration // per GitLab call; 0 means the provider's default
	oidc          bool          // GitLab sign-in (GITLAB_OAUTH_CLIENT_ID/SECRET, SECRET_KEY)
	autoRedirect  bool          // LOGIN_AUTO_REDIRECT
	redirectURIs  []string      // extra registered callback URLs (behind a proxy)
	log           io.Writer     // receives the server's log as JSON lines; nil: errors to the test log
}

// OAuth application of the sign-in tests.
const (
	testClientID     = "mlflow-sharinghub"
	testClientSecret = "gloas-client-secret"
)

// newWorld starts the GitLab double and the server.
func newWorld(t testing.TB, opts worldOptions) *world {
	t.Helper()
	gl := gitlabtest.New()
	t.Cleanup(gl.Close)
	w := &world{t: t, gl: gl, tokens: map[string]string{}}

	st, err := store.Open(context.Background(), "sqlite:///"+filepath.Join(t.TempDir(), "mlflow.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	w.st = st

	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if tt, ok := t.(*testing.T); ok {
		log = slog.New(slog.NewTextHandler(tt.Output(), &slog.HandlerOptions{Level: slog.LevelError}))
	}
	if opts.log != nil {
		log = slog.New(slog.NewJSONHandler(opts.log, nil))
	}
	gp, err := access.NewGitLab(gl.URL, gl.Client(), access.GitLabOptions{Timeout: opts.gitlabTimeout})
	if err != nil {
		t.Fatal(err)
	}
	ttl := opts.ttl
	if ttl == 0 {
		ttl = 10 * time.Minute
	}
	w.cache = access.NewCache(gp, ttl, 0)

	pages := &auth.Pages{AutoRedirect: opts.autoRedirect, Logger: log}
	pages.WhoAmI = func(ctx context.Context, c auth.Credential) (auth.Identity, error) {
		who, err := w.cache.Authenticate(ctx, AccessCredential(c))
		return auth.Identity{Username: who.Username, Name: who.Name}, err
	}
	// The server's URL is known only once it listens: start it on a
	// handler that is filled in below.
	var handler http.Handler
	w.http = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) { handler.ServeHTTP(rw, r) }))
	t.Cleanup(w.http.Close)

	var sessions *auth.Sessions
	if opts.oidc {
		sessions, err = auth.NewSessions([]byte("0123456789abcdef0123456789abcdef"), time.Hour, "")
		if err != nil {
			t.Fatal(err)
		}
		pages.Sessions = sessions
		w.glOIDC = gl.EnableOIDC(gitlabtest.OAuthApp{ClientID: testClientID, ClientSecret: testClientSecret,
			RedirectURIs: append([]string{w.http.URL + auth.PathCallback}, opts.redirectURIs...)})
		w.oidc, err = auth.NewOIDC(context.Background(), auth.OIDCConfig{Issuer: gl.URL, ClientID: testClientID,
			ClientSecret: testClientSecret, Sessions: sessions, HTTPClient: gl.Client(), Logger: log})
		if err != nil {
			t.Fatal(err)
		}
		pages.OIDC = w.oidc
	}
	w.srv = New(st, log, Options{Provider: w.cache, Sessions: sessions, Pages: pages, ProjectTag: "project"})
	handler = w.srv
	if w.oidc != nil {
		handler = w.oidc.RefreshSession(w.srv)
	}
	return w
}

// user adds a GitLab user with a personal access token.
func (w *world) user(name string) string {
	w.t.Helper()
	if tok, ok := w.tokens[name]; ok {
		return tok
	}
	w.gl.AddUser(gitlabtest.User{Username: name, Name: "User " + name})
	w.tokens[name] = w.gl.NewToken(name)
	return w.tokens[name]
}

// project adds a private GitLab project.
func (w *world) project(path string) gitlabtest.Project {
	w.t.Helper()
	return w.gl.AddProject(gitlabtest.Project{Path: path})
}

// uniq returns a number not returned before in this world.
func (w *world) uniq() int64 { return w.seq.Add(1) }

// trackingURI returns the tracking URI path of a project ("" for the global
// scope), without trailing slash.
func trackingURI(p gitlabtest.Project) string { return "/" + p.Path + "/tracking" }

// reply is a server answer.
type reply struct {
	status int
	header http.Header
	raw    []byte
	body   map[string]any // nil unless the body is a JSON object
}

// errorCode returns the MLflow error code of the reply, "" if none.
func (r reply) errorCode() string {
	c, _ := r.body["error_code"].(string)
	return c
}

// request is one API call.
type request struct {
	method string
	path   string     // full path on the server
	query  url.Values // GET parameters
	body   any        // POST JSON body
	token  string     // Bearer token; "" for anonymous
	header http.Header
}

// text is the request as the leak checks read it: what the caller itself
// sent (so that an answer echoing it is not a leak).
func (rq request) text() string {
	b, _ := json.Marshal(rq.body)
	q, _ := json.Marshal(rq.query)
	return rq.path + " " + string(q) + " " + string(b)
}

// do sends rq to the server.
func (w *world) do(rq request) reply {
	w.t.Helper()
	u := w.http.URL + rq.path
	if len(rq.query) > 0 {
		u += "?" + rq.query.Encode()
	}
	var rd io.Reader
	if rq.body != nil {
		b, err := json.Marshal(rq.body)
		if err != nil {
			w.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(rq.method, u, rd)
	if err != nil {
		w.t.Fatal(err)
	}
	for k, vs := range rq.header {
		req.Header[k] = vs
	}
	if rq.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if rq.token != "" {
		req.Header.Set("Authorization", "Bearer "+rq.token)
	}
	res, err := w.http.Client().Do(req)
	if err != nil {
		w.t.Fatalf("%s %s: %v", rq.method, rq.path, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		w.t.Fatalf("%s %s: %v", rq.method, rq.path, err)
	}
	out := reply{status: res.StatusCode, header: res.Header, raw: raw}
	if len(raw) > 0 && raw[0] == '{' {
		if err := json.Unmarshal(raw, &out.body); err != nil {
			w.t.Fatalf("%s %s: bad JSON %q", rq.method, rq.path, raw)
		}
	}
	return out
}

// api calls an MLflow API route (path below /api/2.0/mlflow) at base (a
// tracking URI path or "" for the global scope): GET with query
// parameters, POST with a JSON body.
func (w *world) api(token, method, base, route string, args any) reply {
	w.t.Helper()
	rq := request{method: method, path: base + "/api/2.0/mlflow" + route, token: token}
	if method == http.MethodGet {
		rq.query, _ = args.(url.Values)
	} else {
		rq.body = args
	}
	return w.do(rq)
}

// mustAPI is api that fails the test unless the answer is 200.
func (w *world) mustAPI(token, method, base, route string, args any) map[string]any {
	w.t.Helper()
	r := w.api(token, method, base, route, args)
	if r.status != http.StatusOK {
		w.t.Fatalf("%s %s%s: %d %s", method, base, route, r.status, r.raw)
	}
	return r.body
}

// obj is a JSON object literal.
type obj = map[string]any

// kv is an MLflow key/value pair.
func kv(k, v string) obj { return obj{"key": k, "value": v} }

// dig follows keys and indexes through decoded JSON.
func dig(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = m[k]
		case int:
			s, ok := v.([]any)
			if !ok || k >= len(s) {
				return nil
			}
			v = s[k]
		}
	}
	return v
}

// str is dig for a string.
func str(v any, path ...any) string {
	s, _ := dig(v, path...).(string)
	return s
}

// list is dig for an array.
func list(v any, path ...any) []any {
	s, _ := dig(v, path...).([]any)
	return s
}

// seededExp is an experiment made by seed, with its runs.
type seededExp struct {
	id, name, base string // id, stored (suffixed) name, name as created
	runs           []string
	model          string // a logged model of the first run, with a param, a tag and a metric
}

// seeded is the data seed made in one project.
type seeded struct {
	mark        string // prefix of every name ("alpha", "beta")
	exps        []seededExp
	deletedExp  seededExp // a deleted experiment, for restore
	deletedRun  string    // a deleted run of exps[0], for restore
	metricKey   string
	metricValue string // as JSON writes it
	expTagKey   string
	runTagKey   string
	dataset     string
}

// secret is the marker of values that are never part of a request:
// finding it in an answer to anyone but the project's members is a leak.
func (s seeded) secret() string { return s.mark + "secret" }

// seed creates n experiments in project p as the member with token, each
// with an experiment tag, one run with params, metrics (three steps), tags
// and a dataset input; plus a deleted run in the first one and a deleted
// experiment. Names and values start with mark; values carry
// mark+"secret".
func (w *world) seed(token string, p gitlabtest.Project, mark string, metricValue float64, n int) seeded {
	w.t.Helper()
	s := seeded{
		mark: mark, metricKey: mark + "metric", metricValue: strconv.FormatFloat(metricValue, 'f', -1, 64),
		expTagKey: mark + "exptag", runTagKey: mark + "tag", dataset: mark + "secret-dataset",
	}
	for i := range n {
		s.exps = append(s.exps, w.seedExperiment(token, p, s, fmt.Sprintf("%sexp-%d", mark, i), metricValue))
	}
	run := w.newRun(token, p, s.exps[0].id, mark+"secret-deleted-run")
	w.mustAPI(token, "POST", trackingURI(p), "/runs/delete", obj{"run_id": run})
	s.deletedRun = run
	s.deletedExp = w.seedExperiment(token, p, s, mark+"exp-deleted", metricValue)
	w.mustAPI(token, "POST", trackingURI(p), "/experiments/delete", obj{"experiment_id": s.deletedExp.id})
	return s
}

// seedExperiment creates one experiment of seed s named base, with a run
// and its data.
func (w *world) seedExperiment(token string, p gitlabtest.Project, s seeded, base string, metricValue float64) seededExp {
	w.t.Helper()
	base2 := trackingURI(p)
	id := str(w.mustAPI(token, "POST", base2, "/experiments/create", obj{
		"name": base, "tags": []obj{kv(s.expTagKey, s.secret()+"-exptag-value")},
	}), "experiment_id")
	name := str(w.mustAPI(token, "GET", base2, "/experiments/get", url.Values{"experiment_id": {id}}), "experiment", "name")
	run := w.newRun(token, p, id, s.secret()+"-run")
	var metrics []obj
	for step := range 3 {
		metrics = append(metrics, obj{"key": s.metricKey, "value": metricValue + float64(step), "timestamp": 1000 + step, "step": step})
	}
	w.mustAPI(token, "POST", base2, "/runs/log-batch", obj{
		"run_id":  run,
		"params":  []obj{kv(s.secret()+"_param", s.secret()+"-param-value")},
		"metrics": metrics,
		"tags":    []obj{kv(s.runTagKey, s.secret()+"-tag-value")},
	})
	w.mustAPI(token, "POST", base2, "/runs/log-inputs", obj{"run_id": run, "datasets": []obj{{
		"tags":    []obj{kv(store.DatasetContextTag, "training")},
		"dataset": obj{"name": s.dataset, "digest": s.secret() + "digest", "source_type": "local", "source": s.secret() + "-source"},
	}}})
	model := str(w.mustAPI(token, "POST", base2, "/logged-models", obj{
		"experiment_id": id, "name": s.mark + "model", "source_run_id": run,
		"params": []obj{kv(s.secret()+"_mparam", s.secret()+"-mparam-value")},
		"tags":   []obj{kv(s.runTagKey, s.secret()+"-mtag-value")},
	}), "model", "info", "model_id")
	w.mustAPI(token, "POST", base2, "/runs/log-batch", obj{"run_id": run, "metrics": []obj{
		{"key": s.metricKey, "value": metricValue, "timestamp": 1000, "step": 0, "model_id": model},
	}})
	return seededExp{id: id, name: name, base: base, runs: []string{run}, model: model}
}

// newRun creates a run and returns its id.
func (w *world) newRun(token string, p gitlabtest.Project, expID, name string) string {
	w.t.Helper()
	out := w.mustAPI(token, "POST", trackingURI(p), "/runs/create", obj{"experiment_id": expID, "run_name": name, "start_time": 1000})
	return str(out, "run", "info", "run_id")
}

// snapshot reads everything a seed holds, as its project's Owner sees it,
// to prove afterwards that nobody else changed it.
func (w *world) snapshot(token string, p gitlabtest.Project, s seeded) map[string]any {
	w.t.Helper()
	base := trackingURI(p)
	exps := append([]seededExp{s.deletedExp}, s.exps...)
	snap := map[string]any{}
	var ids []string
	for _, e := range exps {
		ids = append(ids, e.id)
		snap["experiment "+e.id] = w.mustAPI(token, "GET", base, "/experiments/get", url.Values{"experiment_id": {e.id}})
	}
	runs := w.mustAPI(token, "POST", base, "/runs/search", obj{"experiment_ids": ids, "run_view_type": "ALL", "max_results": 1000})
	snap["runs"] = runs
	for _, r := range list(runs, "runs") {
		id := str(r, "info", "run_id")
		snap["history "+id] = w.mustAPI(token, "GET", base, "/metrics/get-history", url.Values{"run_id": {id}, "metric_key": {s.metricKey}})
	}
	snap["datasets"] = w.mustAPI(token, "POST", base, "/experiments/search-datasets", obj{"experiment_ids": ids})
	for _, e := range exps {
		if e.model != "" {
			snap["model "+e.model] = w.mustAPI(token, "GET", base, "/logged-models/"+e.model, url.Values{"allow_deleted": {"true"}})
		}
	}
	return snap
}

func truncateBody(b []byte) string {
	if len(b) > 600 {
		return string(b[:600]) + "…"
	}
	return string(b)
}

func suffix(p gitlabtest.Project) string { return fmt.Sprintf(" (%d)", p.ID) }

// wantError fails unless r is the MLflow error code with a message
// containing each of msg.
func wantError(t *testing.T, what string, r reply, status int, code string, msg ...string) {
	t.Helper()
	if r.status != status || r.errorCode() != code {
		t.Errorf("%s: %d %s, want %d %s (%s)", what, r.status, r.errorCode(), status, code, r.raw)
		return
	}
	for _, m := range msg {
		if !strings.Contains(str(r.body, "message"), m) {
			t.Errorf("%s: message %q lacks %q", what, str(r.body, "message"), m)
		}
	}
}

func tagsOf(exp any) map[string]string {
	out := map[string]string{}
	for _, t := range list(exp, "tags") {
		out[str(t, "key")] = str(t, "value")
	}
	return out
}

// pages follows next_page_token from the first page and returns the ids
// (idKey) of every page, failing if a page other than the last is short.
func pages(t *testing.T, w *world, token, method, base, route string, args obj, list0, idKey string, pageSize int) [][]string {
	t.Helper()
	var out [][]string
	tokenSeen := map[string]bool{}
	for i := 0; i < 100; i++ {
		r := w.api(token, method, base, route, args)
		if r.status != http.StatusOK {
			t.Fatalf("%s%s page %d: %d %s", base, route, i+1, r.status, r.raw)
		}
		var ids []string
		for _, e := range list(r.body, list0) {
			ids = append(ids, str(dig(e, "info"), idKey)+str(e, idKey))
		}
		out = append(out, ids)
		next := str(r.body, "next_page_token")
		if next == "" {
			return out
		}
		if len(ids) != pageSize {
			t.Errorf("%s%s page %d has %d items and a next page: pages are not full", base, route, i+1, len(ids))
		}
		if tokenSeen[next] {
			t.Fatalf("page token %q repeats", next)
		}
		tokenSeen[next] = true
		args = cloneObj(args)
		args["page_token"] = next
	}
	t.Fatal("more than 100 pages")
	return nil
}

func cloneObj(o obj) obj {
	c := obj{}
	for k, v := range o {
		c[k] = v
	}
	return c
}

func lens(pp [][]string) []int {
	var n []int
	for _, p := range pp {
		n = append(n, len(p))
	}
	return n
}

// syncBuffer is a bytes.Buffer safe for the server's concurrent writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// accessLog returns the access-log lines ("request") written so far.
func (b *syncBuffer) accessLog() []map[string]any {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []map[string]any
	for _, line := range strings.Split(b.buf.String(), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) == nil && m["msg"] == "request" {
			out = append(out, m)
		}
	}
	return out
}
