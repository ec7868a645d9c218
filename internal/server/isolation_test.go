package server

import (
	"cmp"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/csgroup-oss/mlflow-sharinghub-go/internal/gitlabtest"
	"github.com/csgroup-oss/mlflow-sharinghub-go/internal/store"
)

// The isolation suite is generated from the route table: every route
// (under every path it is served at) × every caller (each GitLab role on
// project A, a Developer whose role is inherited from the top-level group,
// Minimal access, a non-member, anonymous) × every scope (A's tracking URI;
// A's URI naming project B's resources; B's URI; the global scope naming A's
// and B's resources). Each case checks the status and error code, and that
// the answer carries nothing of B's that the request did not name itself.
// A route without an isolationSpecs entry fails the suite: a new route is
// covered the day it is added, or the build is red.

// member is a caller of the isolation suite.
type member struct {
	name  string
	level int    // effective access level on project A; -1: anonymous
	cred  string // how the token is sent: "" Bearer, "basic" (password), "job" (JOB-TOKEN of a CI job of A)
}

func (m member) anonymous() bool { return m.level < 0 }
func (m member) reads() bool     { return m.level >= gitlabtest.Guest }
func (m member) writes() bool    { return m.level >= gitlabtest.Developer }

// isolationMembers are the callers; "groupdev" is a Developer only through
// the top-level group "grp", which GitLab's project permissions field does
// not show.
var isolationMembers = []member{
	{name: "owner", level: gitlabtest.Owner},
	{name: "maintainer", level: gitlabtest.Maintainer},
	{name: "developer", level: gitlabtest.Developer},
	{name: "groupdev", level: gitlabtest.Developer},
	{name: "reporter", level: gitlabtest.Reporter},
	{name: "planner", level: gitlabtest.Planner},
	{name: "guest", level: gitlabtest.Guest},
	{name: "minimal", level: gitlabtest.Minimal},
	{name: "outsider", level: gitlabtest.NoAccess},
	{name: "anonymous", level: -1},
	{name: "reporter-basic", level: gitlabtest.Reporter, cred: "basic"}, // MLFLOW_TRACKING_USERNAME/PASSWORD
	{name: "ci-job", level: gitlabtest.Developer, cred: "job"},          // a CI job token of A: Developer there, nothing elsewhere
}

// scopeKind is where a case sends its request and whose resources it names.
type scopeKind int

const (
	scopeOwn         scopeKind = iota // A's URI, A's resources
	scopeOther                        // A's URI, B's resources (ids, names)
	scopeForeign                      // B's URI, B's resources
	scopeGlobal                       // global scope, A's resources
	scopeGlobalOther                  // global scope, B's resources
)

var scopeKinds = []scopeKind{scopeOwn, scopeOther, scopeForeign, scopeGlobal, scopeGlobalOther}

func (s scopeKind) String() string {
	return [...]string{"own", "other-resources", "other-uri", "global", "global-other-resources"}[s]
}

// refs are the resources a case names.
type refs struct {
	expID, expName, expFull  string // expName: as the request names it (no suffix in project scope)
	runID                    string
	deletedExpID, deletedRun string
	metricKey, metricValue   string
	expTagKey, runTagKey     string
	dataset                  string
	modelID                  string // a logged model of the experiment, tagged runTagKey
	createName, newName      string // for create and rename
	home                     string // what the scope's home page shows
}

// routeSpec says how to build a request for a route and what its answer is
// when the named resources are not visible.
type routeSpec struct {
	// build returns the GET parameters (url.Values) or the POST body; nil
	// for a route that takes none.
	build func(r refs) any
	// search: a reference the caller cannot see matches nothing (200 with
	// only visible results), as MLflow answers for unknown ids; otherwise it
	// is 404 RESOURCE_DOES_NOT_EXIST.
	search bool
	// otherStatus and otherCode, when set, are the answer to a caller
	// allowed in A who names B's resource in A's URI.
	otherStatus int
	otherCode   string
	// has returns what an allowed read of A's resources must contain.
	has func(r refs) string
	// fresh asks for a fixture of its own for each allowed write (the
	// route changes or consumes it); deletedExp and deletedRun are included.
	fresh bool
	// path turns a route pattern with wildcards into a path to request;
	// nil: the pattern must have none but a trailing "{$}".
	path func(pattern string, r refs) string
	// signed: a public route that answers 403 PERMISSION_DENIED to any
	// request without a valid URL signature (multipart part uploads).
	signed bool
}

// isolationSpecs has one entry per route of routes(), keyed by method and
// path (or raw path).
func isolationSpecs() map[string]routeSpec {
	expQ := func(r refs) any { return url.Values{"experiment_id": {r.expID}} }
	runQ := func(r refs) any { return url.Values{"run_id": {r.runID}} }
	expName := func(r refs) string { return r.expFull }
	runIDOf := func(r refs) string { return r.runID }
	searchExp := func(r refs) any {
		return url.Values{"filter": {"name = '" + r.expFull + "'"}, "max_results": {"1000"}}
	}
	return withRegistrySpecs(withArtifactSpecs(map[string]routeSpec{ // artifact routes: artifacts_test.go; registry: registry_isolation_test.go
		"GET /health":  {},
		"GET /version": {},
		// The tracking URI's home page: the project's, or the global view.
		"GET /{$}": {search: true, has: func(r refs) string { return r.home }},

		"POST /mlflow/experiments/create": {
			build: func(r refs) any {
				return obj{"name": r.createName, "tags": []obj{kv("created", "yes")}}
			},
			// Another project's suffix is refused, naming the expected one.
			otherStatus: http.StatusBadRequest, otherCode: "INVALID_PARAMETER_VALUE",
		},
		"GET /mlflow/experiments/get":         {build: expQ, has: expName},
		"GET /mlflow/experiments/get-by-name": {build: func(r refs) any { return url.Values{"experiment_name": {r.expName}} }, has: expName},
		"GET /mlflow/experiments/search":      {build: searchExp, search: true, has: expName},
		"POST /mlflow/experiments/search": {
			build:  func(r refs) any { return obj{"max_results": 1000, "view_type": "ALL"} },
			search: true, has: expName,
		},
		"POST /mlflow/experiments/update": {
			build: func(r refs) any { return obj{"experiment_id": r.expID, "new_name": r.newName} }, fresh: true,
		},
		"POST /mlflow/experiments/delete":  {build: func(r refs) any { return obj{"experiment_id": r.expID} }, fresh: true},
		"POST /mlflow/experiments/restore": {build: func(r refs) any { return obj{"experiment_id": r.deletedExpID} }, fresh: true},
		"POST /mlflow/experiments/set-experiment-tag": {
			build: func(r refs) any { return obj{"experiment_id": r.expID, "key": "newtag", "value": "v"} }, fresh: true,
		},
		"POST /mlflow/experiments/delete-experiment-tag": {
			build: func(r refs) any { return obj{"experiment_id": r.expID, "key": r.expTagKey} }, fresh: true,
		},
		"POST /mlflow/experiments/search-datasets": {
			build:  func(r refs) any { return obj{"experiment_ids": []string{r.expID}} },
			search: true, has: func(r refs) string { return r.dataset },
		},

		"POST /mlflow/runs/create": {
			build: func(r refs) any { return obj{"experiment_id": r.expID, "run_name": "new-run", "start_time": 5} }, fresh: true,
		},
		"GET /mlflow/runs/get": {build: runQ, has: runIDOf},
		"POST /mlflow/runs/update": {
			build: func(r refs) any { return obj{"run_id": r.runID, "status": "FINISHED", "end_time": 2000} }, fresh: true,
		},
		"POST /mlflow/runs/delete":  {build: func(r refs) any { return obj{"run_id": r.runID} }, fresh: true},
		"POST /mlflow/runs/restore": {build: func(r refs) any { return obj{"run_id": r.deletedRun} }, fresh: true},
		"POST /mlflow/runs/search": {
			build:  func(r refs) any { return obj{"experiment_ids": []string{r.expID}, "run_view_type": "ALL"} },
			search: true, has: runIDOf,
		},
		"POST /mlflow/runs/log-metric": {
			build: func(r refs) any { return obj{"run_id": r.runID, "key": "m2", "value": 1.5, "timestamp": 5, "step": 1} }, fresh: true,
		},
		"POST /mlflow/runs/log-parameter": {
			build: func(r refs) any { return obj{"run_id": r.runID, "key": "p2", "value": "v"} }, fresh: true,
		},
		"POST /mlflow/runs/set-tag": {
			build: func(r refs) any { return obj{"run_id": r.runID, "key": "t2", "value": "v"} }, fresh: true,
		},
		"POST /mlflow/runs/delete-tag": {
			build: func(r refs) any { return obj{"run_id": r.runID, "key": r.runTagKey} }, fresh: true,
		},
		"POST /mlflow/runs/log-batch": {
			build: func(r refs) any {
				return obj{"run_id": r.runID, "params": []obj{kv("p3", "v")}, "tags": []obj{kv("t3", "v")},
					"metrics": []obj{{"key": "m3", "value": 2, "timestamp": 6, "step": 0}}}
			},
			fresh: true,
		},
		"POST /mlflow/runs/log-inputs": {
			build: func(r refs) any {
				return obj{"run_id": r.runID, "datasets": []obj{{
					"tags":    []obj{kv(store.DatasetContextTag, "eval")},
					"dataset": obj{"name": "ds2", "digest": "d2", "source_type": "local", "source": "/tmp/ds2"},
				}}}
			},
			fresh: true,
		},
		"POST /mlflow/runs/outputs": {
			build: func(r refs) any { return obj{"run_id": r.runID, "models": []obj{{"model_id": "m-0123", "step": 1}}} }, fresh: true,
		},

		"GET /mlflow/metrics/get-history": {
			build: func(r refs) any { return url.Values{"run_id": {r.runID}, "metric_key": {r.metricKey}} },
			has:   func(r refs) string { return r.metricValue },
		},
		"GET /mlflow/metrics/get-history-bulk": {
			build: func(r refs) any { return url.Values{"run_id": {r.runID}, "metric_key": {r.metricKey}} },
			has:   func(r refs) string { return r.metricValue },
		},
		"GET /mlflow/metrics/get-history-bulk-interval": {
			build: func(r refs) any { return url.Values{"run_ids": {r.runID}, "metric_key": {r.metricKey}} },
			has:   func(r refs) string { return r.metricValue },
		},

		// Logged models (MLflow 3) and the 2.x log-model.
		"POST /mlflow/logged-models": {
			build: func(r refs) any {
				return obj{"experiment_id": r.expID, "name": "newmodel", "source_run_id": r.runID, "tags": []obj{kv("t", "v")}}
			},
			fresh: true,
		},
		"POST /mlflow/logged-models/search": {
			build:  func(r refs) any { return obj{"experiment_ids": []string{r.expID}, "filter": "name LIKE '%model'"} },
			search: true, has: func(r refs) string { return r.modelID },
		},
		"GET /mlflow/logged-models/{model_id}": {path: modelPath, has: func(r refs) string { return r.modelID }},
		"PATCH /mlflow/logged-models/{model_id}": {
			path: modelPath, build: func(r refs) any { return obj{"model_id": r.modelID, "status": "LOGGED_MODEL_READY"} }, fresh: true,
		},
		"DELETE /mlflow/logged-models/{model_id}": {path: modelPath, fresh: true},
		"PATCH /mlflow/logged-models/{model_id}/tags": {
			path: modelPath, build: func(r refs) any { return obj{"model_id": r.modelID, "tags": []obj{kv("t9", "v")}} }, fresh: true,
		},
		"DELETE /mlflow/logged-models/{model_id}/tags/{tag_key}": {path: modelPath, fresh: true},
		"POST /mlflow/logged-models/{model_id}/params": {
			path: modelPath, build: func(r refs) any { return obj{"model_id": r.modelID, "params": []obj{kv("p9", "v")}} }, fresh: true,
		},
		"POST /mlflow/runs/log-model": {
			build: func(r refs) any {
				return obj{"run_id": r.runID, "model_json": `{"run_id": "` + r.runID + `", "artifact_path": "model", ` +
					`"utc_time_created": "2024-01-01 00:00:00", "flavors": {"python_function": {}}}`}
			},
			fresh: true,
		},
	}))
}

// modelPath fills the logged-model route wildcards: the model and its tag.
func modelPath(pattern string, r refs) string {
	p := strings.ReplaceAll(pattern, "{model_id}", r.modelID)
	return strings.ReplaceAll(p, "{tag_key}", r.runTagKey)
}

// routeKey names a route in isolationSpecs.
func routeKey(rt route) string { return rt.method + " " + cmp.Or(rt.path, rt.raw) }

// expectIsolation is the answer a case must get: status and error code.
func expectIsolation(rt route, spec routeSpec, m member, sc scopeKind) (int, string) {
	const notFound, denied = "RESOURCE_DOES_NOT_EXIST", "PERMISSION_DENIED"
	missing := func() (int, string) {
		if spec.search {
			return http.StatusOK, ""
		}
		return http.StatusNotFound, notFound
	}
	if spec.signed {
		return http.StatusForbidden, denied
	}
	if rt.rule == rulePublic {
		return http.StatusOK, ""
	}
	if m.anonymous() {
		return http.StatusUnauthorized, "UNAUTHENTICATED"
	}
	write := rt.rule != ruleRead
	switch sc {
	case scopeForeign:
		return http.StatusNotFound, notFound
	case scopeGlobal, scopeGlobalOther:
		switch {
		case write:
			return http.StatusForbidden, denied
		case sc == scopeGlobal && m.reads():
			return http.StatusOK, ""
		}
		return missing()
	}
	switch {
	case !m.reads():
		return http.StatusNotFound, notFound
	case write && !m.writes():
		return http.StatusForbidden, denied
	case sc == scopeOwn:
		return http.StatusOK, ""
	case spec.otherStatus != 0:
		return spec.otherStatus, spec.otherCode
	}
	return missing()
}

// leakCheck finds project B's data in an answer.
type leakCheck struct {
	secrets []string        // never in any answer (values no request carries)
	names   []string        // B's names and run ids: only where the request names them
	expIDs  map[string]bool // B's experiment ids
}

func newLeakCheck(b seeded) leakCheck {
	l := leakCheck{secrets: []string{b.secret()}, expIDs: map[string]bool{}}
	for step := range 3 {
		var v float64
		fmt.Sscan(b.metricValue, &v)
		l.secrets = append(l.secrets, fmt.Sprint(v+float64(step)))
	}
	l.names = append(l.names, b.metricKey, b.expTagKey, b.runTagKey, b.deletedRun)
	for _, e := range append([]seededExp{b.deletedExp}, b.exps...) {
		l.expIDs[e.id] = true
		l.names = append(l.names, e.name, e.base)
		l.names = append(l.names, e.runs...)
		if e.model != "" {
			l.names = append(l.names, e.model)
		}
	}
	return l
}

// find returns what of B's the answer to rq carries.
func (l leakCheck) find(rq request, res reply) []string {
	sent := rq.text()
	body := string(res.raw)
	var leaks []string
	for _, s := range l.secrets {
		if strings.Contains(body, s) {
			leaks = append(leaks, fmt.Sprintf("value %q", s))
		}
	}
	for _, n := range l.names {
		if strings.Contains(body, n) && !strings.Contains(sent, n) {
			leaks = append(leaks, fmt.Sprintf("name %q", n))
		}
	}
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if s, ok := x.(string); ok && k == "experiment_id" && l.expIDs[s] {
					leaks = append(leaks, fmt.Sprintf("experiment %s", s))
				}
				if s, ok := x.(string); ok && k == "message" {
					for id := range l.expIDs {
						re := regexp.MustCompile(`(^|\D)` + id + `(\D|$)`)
						if re.MatchString(s) && !re.MatchString(sent) {
							leaks = append(leaks, fmt.Sprintf("experiment id %s in message", id))
						}
					}
				}
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	if res.body != nil {
		walk(res.body)
	}
	return leaks
}

// isolationWorld is the world of the suite: projects A and B, the callers,
// and seeds in both.
type isolationWorld struct {
	*world
	a, b       gitlabtest.Project
	aSeed      seeded
	bSeed      seeded
	ownerB     string
	leaks      leakCheck
	aMetricVal float64
}

func newIsolationWorld(t *testing.T) *isolationWorld {
	t.Helper()
	w := newWorld(t, worldOptions{})
	iw := &isolationWorld{world: w, aMetricVal: 314159.25}
	iw.a = w.project("grp/sub/alpha")
	iw.b = w.project("other/beta")
	for _, m := range isolationMembers {
		switch {
		case m.anonymous():
		case m.cred == "basic":
			w.tokens[m.name] = w.gl.NewToken("reporter")
		case m.cred == "job":
			w.tokens[m.name] = w.gl.NewJobToken("developer", iw.a.Path)
		case m.name == "groupdev":
			w.user(m.name)
			w.gl.AddGroupMember("grp", m.name, m.level)
		case m.level == gitlabtest.NoAccess:
			w.user(m.name)
		default:
			w.user(m.name)
			w.gl.AddProjectMember(iw.a.Path, m.name, m.level)
		}
	}
	iw.ownerB = w.user("bowner")
	w.gl.AddProjectMember(iw.b.Path, "bowner", gitlabtest.Owner)
	for _, m := range isolationMembers {
		if !m.anonymous() && m.cred == "" && w.gl.Role(m.name, iw.a.Path) != max(m.level, 0) {
			t.Fatalf("%s has level %d on A, want %d", m.name, w.gl.Role(m.name, iw.a.Path), m.level)
		}
	}
	// A's data first, so that B's experiment ids are not A's or the
	// project ids.
	iw.aSeed = w.seed(w.tokens["owner"], iw.a, "alpha", iw.aMetricVal, 3)
	iw.bSeed = w.seed(iw.ownerB, iw.b, "beta", 271828.5, 2)
	w.seedRegistryAll(w.tokens["owner"], iw.a, iw.aSeed) // registry_isolation_test.go
	w.seedRegistryAll(iw.ownerB, iw.b, iw.bSeed)
	iw.leaks = newLeakCheck(iw.bSeed)
	return iw
}

// refsOf names the first experiment and run of a seed; suffixed says
// whether names carry the project suffix.
func refsOf(s seeded, suffixed bool) refs {
	e := s.exps[0]
	r := refs{
		expID: e.id, expName: e.base, expFull: e.name, runID: e.runs[0],
		deletedExpID: s.deletedExp.id, deletedRun: s.deletedRun,
		metricKey: s.metricKey, metricValue: s.metricValue, expTagKey: s.expTagKey, runTagKey: s.runTagKey,
		dataset: s.dataset, modelID: e.model,
	}
	if suffixed {
		r.expName = e.name
	}
	return r
}

// freshRefs makes a fixture in A for one allowed write.
func (iw *isolationWorld) freshRefs() refs {
	iw.t.Helper()
	owner := iw.tokens["owner"]
	n := iw.uniq()
	e := iw.seedExperiment(owner, iw.a, iw.aSeed, fmt.Sprintf("alphafx-%d", n), iw.aMetricVal)
	iw.seedRegistry(owner, iw.a, iw.aSeed, e)
	dr := iw.newRun(owner, iw.a, e.id, "alphasecret-deleted-run")
	iw.mustAPI(owner, "POST", trackingURI(iw.a), "/runs/delete", obj{"run_id": dr})
	de := str(iw.mustAPI(owner, "POST", trackingURI(iw.a), "/experiments/create", obj{"name": fmt.Sprintf("alphafx-deleted-%d", n)}), "experiment_id")
	iw.mustAPI(owner, "POST", trackingURI(iw.a), "/experiments/delete", obj{"experiment_id": de})
	s := iw.aSeed
	s.exps = []seededExp{e}
	s.deletedExp = seededExp{id: de}
	s.deletedRun = dr
	return refsOf(s, false)
}

// runCase runs one case and reports what is wrong with its answer.
func (iw *isolationWorld) runCase(t *testing.T, rt route, path string, spec routeSpec, m member, sc scopeKind) {
	t.Helper()
	wantStatus, wantCode := expectIsolation(rt, spec, m, sc)
	var r refs
	switch sc {
	case scopeOwn:
		if spec.fresh && wantStatus == http.StatusOK {
			r = iw.freshRefs()
		} else {
			r = refsOf(iw.aSeed, false)
		}
		r.createName = fmt.Sprintf("created-%d", iw.uniq())
		r.home = iw.a.Path + "/tracking/"
	case scopeGlobal:
		r = refsOf(iw.aSeed, true)
		r.createName = fmt.Sprintf("created-%d", iw.uniq())
		r.home = "all your projects"
	default:
		r = refsOf(iw.bSeed, true)
		r.createName = r.expFull // B's name, with B's suffix
	}
	r.newName = fmt.Sprintf("renamed-%d", iw.uniq())

	base := ""
	switch sc {
	case scopeOwn, scopeOther:
		base = trackingURI(iw.a)
	case scopeForeign:
		base = trackingURI(iw.b)
	}
	rq := iw.request(t, rt, base, path, spec, m, r)
	res := iw.do(rq)
	what := fmt.Sprintf("%s as %s (%s)", rq.method+" "+rq.path, m.name, sc)
	if res.status != wantStatus || res.errorCode() != wantCode {
		t.Errorf("%s: %d %s, want %d %s\n%s", what, res.status, res.errorCode(), wantStatus, wantCode, truncateBody(res.raw))
	}
	if wantStatus == http.StatusUnauthorized && res.header.Get("WWW-Authenticate") != `Bearer realm="mlflow"` {
		t.Errorf("%s: 401 without WWW-Authenticate: Bearer realm=\"mlflow\" (got %q)", what, res.header.Get("WWW-Authenticate"))
	}
	if leaks := iw.leaks.find(rq, res); len(leaks) > 0 {
		t.Errorf("%s: the answer carries project B's %s\n%s", what, strings.Join(leaks, ", "), truncateBody(res.raw))
	}
	if spec.has != nil && res.status == http.StatusOK && (sc == scopeOwn || sc == scopeGlobal) && m.reads() {
		if want := spec.has(r); !strings.Contains(string(res.raw), want) {
			t.Errorf("%s: the answer lacks %q\n%s", what, want, truncateBody(res.raw))
		}
	}
}

// request builds the request of a case: route pattern path under base,
// naming the resources r, with m's credentials.
func (iw *isolationWorld) request(t *testing.T, rt route, base, path string, spec routeSpec, m member, r refs) request {
	t.Helper()
	if spec.path != nil {
		path = spec.path(path, r)
	} else {
		path = strings.TrimSuffix(path, "{$}")
	}
	if strings.ContainsAny(path, "{}") {
		t.Fatalf("route pattern %s has wildcards: give its isolationSpecs entry a path function", path)
	}
	// As an API client: anonymous callers get the JSON 401 (browsers get
	// the sign-in page instead, see login_test.go).
	rq := request{method: rt.method, path: base + path, header: http.Header{"Accept": {"application/json"}}}
	switch tok := iw.tokens[m.name]; m.cred {
	case "basic":
		rq.header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte("reporter:"+tok)))
	case "job":
		rq.header.Set("Job-Token", tok)
	default:
		rq.token = tok
	}
	if spec.build != nil {
		switch args := spec.build(r).(type) {
		case url.Values:
			rq.query = args
		default:
			rq.body = args
		}
	}
	return rq
}

// TestIsolation is the isolation suite generated from the route table.
func TestIsolation(t *testing.T) {
	iw := newIsolationWorld(t)
	before := iw.snapshot(iw.ownerB, iw.b, iw.bSeed)
	aBefore := iw.snapshot(iw.tokens["owner"], iw.a, iw.aSeed)

	specs := isolationSpecs()
	used := map[string]bool{}
	var cases atomic.Int64
	paths := 0
	t.Run("cases", func(t *testing.T) {
		for _, rt := range routes() {
			key := routeKey(rt)
			spec, ok := specs[key]
			if !ok {
				t.Errorf("route %s has no isolation case: add it to isolationSpecs (isolation_test.go)", key)
				continue
			}
			used[key] = true
			for _, p := range rt.paths() {
				paths++
				t.Run(rt.method+" "+p, func(t *testing.T) {
					for _, m := range isolationMembers {
						for _, sc := range scopeKinds {
							cases.Add(1)
							iw.runCase(t, rt, p, spec, m, sc)
						}
					}
				})
			}
		}
	})
	for key := range specs {
		if !used[key] {
			t.Errorf("isolationSpecs has %s, which is not in the route table", key)
		}
	}

	if diff := gocmp.Diff(before, iw.snapshot(iw.ownerB, iw.b, iw.bSeed)); diff != "" {
		t.Errorf("project B's data changed during the suite (-before +after):\n%s", diff)
	}
	if diff := gocmp.Diff(aBefore, iw.snapshot(iw.tokens["owner"], iw.a, iw.aSeed)); diff != "" {
		t.Errorf("project A's seed changed during the suite (-before +after):\n%s", diff)
	}
	t.Logf("isolation cases: %d = %d route paths (%d routes) × %d callers × %d scopes",
		cases.Load(), paths, len(routes()), len(isolationMembers), len(scopeKinds))
	st := iw.cache.Stats()
	t.Logf("access cache: %d hits, %d provider calls; GitLab double: %d calls", st.Hits, st.ProviderCalls, iw.gl.TotalCalls())
}

// TestIsolationNoExistenceOracle: naming another project's resource (by
// id or name, in A's URI or the global scope) or using another project's
// URI answers exactly as naming a resource or project that does not exist
// — same status, code, message and body but for the name itself — so that
// nobody learns which ids, names or project paths exist elsewhere.
func TestIsolationNoExistenceOracle(t *testing.T) {
	iw := newIsolationWorld(t)
	specs := isolationSpecs()
	real := refsOf(iw.bSeed, true)
	ghost := real
	ghost.expID, ghost.deletedExpID = "987654", "987655"
	ghost.expFull = "ghostexp" + suffix(iw.b)
	ghost.expName = ghost.expFull
	ghost.runID, ghost.deletedRun = "deadbeefdeadbeefdeadbeefdeadbeef", "feedfacefeedfacefeedfacefeedface"
	ghost.modelID = "m-0badc0de0badc0de0badc0de0badc0de"
	for _, r := range []*refs{&real, &ghost} {
		r.createName, r.newName = r.expFull, "renamed-oracle"
	}
	const ghostPath = "nope/ghost"
	ghostURI := "/" + ghostPath + "/tracking"
	normalize := func(s string, r refs) string {
		for _, x := range []struct{ from, to string }{
			{r.expFull, "<name>"}, {r.expFull[:strings.LastIndex(r.expFull, " (")], "<name>"},
			{r.runID, "<run>"}, {r.deletedRun, "<run>"}, {r.modelID, "<model>"},
			{iw.b.Path, "<project>"}, {ghostPath, "<project>"},
		} {
			s = strings.ReplaceAll(s, x.from, x.to)
		}
		for _, id := range []string{r.expID, r.deletedExpID} {
			s = regexp.MustCompile(`(^|\D)`+id+`(\D|$)`).ReplaceAllString(s, "${1}<id>${2}")
		}
		return s
	}
	callers := map[string]bool{"developer": true, "reporter": true, "outsider": true, "anonymous": true, "ci-job": true}
	n := 0
	for _, rt := range routes() {
		spec, ok := specs[routeKey(rt)]
		if !ok {
			t.Errorf("route %s has no isolation case", routeKey(rt))
			continue
		}
		path := rt.paths()[0]
		for _, m := range isolationMembers {
			if !callers[m.name] {
				continue
			}
			for _, c := range []struct {
				scope               string
				realBase, ghostBase string
			}{
				{"A's URI", trackingURI(iw.a), trackingURI(iw.a)},
				{"global", "", ""},
				{"project URI", trackingURI(iw.b), ghostURI},
			} {
				n++
				rqReal := iw.request(t, rt, c.realBase, path, spec, m, real)
				rqGhost := iw.request(t, rt, c.ghostBase, path, spec, m, ghost)
				resReal, resGhost := iw.do(rqReal), iw.do(rqGhost)
				got, want := normalize(string(resReal.raw), real), normalize(string(resGhost.raw), ghost)
				if resReal.status != resGhost.status || got != want {
					t.Errorf("%s %s as %s (%s): B's resource answers %d %s\nbut a missing one answers %d %s",
						rt.method, path, m.name, c.scope, resReal.status, truncateBody([]byte(got)), resGhost.status, truncateBody([]byte(want)))
				}
			}
		}
	}
	t.Logf("%d comparisons", n)
}

// TestIsolationCoversEveryRegisteredPattern proves the server registers no
// handler outside the route table (and the public sign-in routes), so that
// walking routes() walks everything.
func TestIsolationCoversEveryRegisteredPattern(t *testing.T) {
	w := newWorld(t, worldOptions{})
	want := map[string]bool{}
	for _, rt := range routes() {
		for _, p := range rt.paths() {
			want[rt.method+" "+p] = true
		}
	}
	var extra []string
	for pattern, rl := range w.srv.rules {
		if want[pattern] {
			continue
		}
		if strings.HasPrefix(pattern, "GET /auth") && rl == rulePublic {
			continue // sign-in pages: public, tested by login_test.go
		}
		extra = append(extra, pattern)
	}
	sort.Strings(extra)
	if len(extra) > 0 {
		t.Errorf("patterns registered outside routes(): %v", extra)
	}
}

// tenancyWorld is A and B with a Developer in each.
type tenancyWorld struct {
	*world
	a, b       gitlabtest.Project
	aDev, bDev string
}

func newTenancyWorld(t *testing.T) *tenancyWorld {
	t.Helper()
	w := newWorld(t, worldOptions{})
	tw := &tenancyWorld{world: w, a: w.project("grp/sub/alpha"), b: w.project("other/beta")}
	tw.aDev, tw.bDev = w.user("adev"), w.user("bdev")
	w.gl.AddProjectMember(tw.a.Path, "adev", gitlabtest.Developer)
	w.gl.AddProjectMember(tw.b.Path, "bdev", gitlabtest.Developer)
	return tw
}

func TestTenancyOwnershipTag(t *testing.T) {
	tw := newTenancyWorld(t)
	owner := tw.user("aowner")
	tw.gl.AddProjectMember(tw.a.Path, "aowner", gitlabtest.Owner)
	a := trackingURI(tw.a)
	id := str(tw.mustAPI(tw.aDev, "POST", a, "/experiments/create", obj{
		"name": "owned", "tags": []obj{kv("project", "other/beta"), kv("note", "kept")},
	}), "experiment_id")
	get := func() map[string]string {
		return tagsOf(tw.mustAPI(tw.aDev, "GET", a, "/experiments/get", url.Values{"experiment_id": {id}})["experiment"])
	}
	if diff := gocmp.Diff(map[string]string{"project": tw.a.Path, "note": "kept"}, get()); diff != "" {
		t.Errorf("tags after create (-want +got):\n%s", diff)
	}
	for _, c := range []struct {
		name, token, route string
		body               obj
	}{
		{"set by a Developer", tw.aDev, "/experiments/set-experiment-tag", obj{"experiment_id": id, "key": "project", "value": "other/beta"}},
		{"set by the Owner", owner, "/experiments/set-experiment-tag", obj{"experiment_id": id, "key": "project", "value": tw.a.Path + "x"}},
		{"set to the same value", owner, "/experiments/set-experiment-tag", obj{"experiment_id": id, "key": "project", "value": tw.a.Path}},
		{"delete by a Developer", tw.aDev, "/experiments/delete-experiment-tag", obj{"experiment_id": id, "key": "project"}},
		{"delete by the Owner", owner, "/experiments/delete-experiment-tag", obj{"experiment_id": id, "key": "project"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			wantError(t, c.route, tw.api(c.token, "POST", a, c.route, c.body), http.StatusForbidden, "PERMISSION_DENIED", "'project' tag")
		})
	}
	// Other tags stay the caller's to change.
	tw.mustAPI(tw.aDev, "POST", a, "/experiments/set-experiment-tag", obj{"experiment_id": id, "key": "note", "value": "changed"})
	if diff := gocmp.Diff(map[string]string{"project": tw.a.Path, "note": "changed"}, get()); diff != "" {
		t.Errorf("tags at the end (-want +got):\n%s", diff)
	}
}

func TestTenancyNameCompletion(t *testing.T) {
	tw := newTenancyWorld(t)
	a, b := trackingURI(tw.a), trackingURI(tw.b)
	full := "baseline" + suffix(tw.a)
	id := str(tw.mustAPI(tw.aDev, "POST", a, "/experiments/create", obj{"name": "baseline"}), "experiment_id")
	bID := str(tw.mustAPI(tw.bDev, "POST", b, "/experiments/create", obj{"name": "baseline"}), "experiment_id")
	if id == bID {
		t.Fatal("both projects got the same experiment")
	}
	if got := str(tw.mustAPI(tw.aDev, "GET", a, "/experiments/get", url.Values{"experiment_id": {id}}), "experiment", "name"); got != full {
		t.Errorf("stored name %q, want %q", got, full)
	}
	// mlflow.set_experiment("baseline") asks get-by-name first: with and
	// without the suffix it finds the same experiment.
	for _, name := range []string{"baseline", full} {
		out := tw.mustAPI(tw.aDev, "GET", a, "/experiments/get-by-name", url.Values{"experiment_name": {name}})
		if str(out, "experiment", "experiment_id") != id || str(out, "experiment", "name") != full {
			t.Errorf("get-by-name %q = %v, want experiment %s named %q", name, out["experiment"], id, full)
		}
	}
	out := tw.mustAPI(tw.bDev, "GET", b, "/experiments/get-by-name", url.Values{"experiment_name": {"baseline"}})
	if str(out, "experiment", "experiment_id") != bID {
		t.Errorf("B's get-by-name finds %v, want B's experiment %s", out["experiment"], bID)
	}
	for _, name := range []string{"baseline", full} {
		wantError(t, "create "+name+" again", tw.api(tw.aDev, "POST", a, "/experiments/create", obj{"name": name}),
			http.StatusBadRequest, "RESOURCE_ALREADY_EXISTS")
	}
	// Another project's suffix is refused, naming the expected suffix.
	other := "baseline" + suffix(tw.b)
	wantError(t, "create with B's suffix", tw.api(tw.aDev, "POST", a, "/experiments/create", obj{"name": other}),
		http.StatusBadRequest, "INVALID_PARAMETER_VALUE", `"`+full+`"`)
	wantError(t, "get-by-name with B's suffix", tw.api(tw.aDev, "GET", a, "/experiments/get-by-name", url.Values{"experiment_name": {other}}),
		http.StatusNotFound, "RESOURCE_DOES_NOT_EXIST")
	wantError(t, "rename with B's suffix", tw.api(tw.aDev, "POST", a, "/experiments/update", obj{"experiment_id": id, "new_name": "moved" + suffix(tw.b)}),
		http.StatusBadRequest, "INVALID_PARAMETER_VALUE", `"moved`+suffix(tw.a)+`"`)
	// Rename completes the name too; searches answer stored names.
	tw.mustAPI(tw.aDev, "POST", a, "/experiments/update", obj{"experiment_id": id, "new_name": "renamed"})
	exps := list(tw.mustAPI(tw.aDev, "POST", a, "/experiments/search", obj{}), "experiments")
	var names []string
	for _, e := range exps {
		names = append(names, str(e, "name"))
	}
	if diff := gocmp.Diff([]string{"renamed" + suffix(tw.a)}, names); diff != "" {
		t.Errorf("A's experiments after rename (-want +got):\n%s", diff)
	}
	if got := str(tw.mustAPI(tw.bDev, "GET", b, "/experiments/get", url.Values{"experiment_id": {bID}}), "experiment", "name"); got != "baseline"+suffix(tw.b) {
		t.Errorf("B's experiment is now %q", got)
	}
}

func TestTenancyDefaultExperimentInvisible(t *testing.T) {
	tw := newTenancyWorld(t)
	a := trackingURI(tw.a)
	tw.mustAPI(tw.aDev, "POST", a, "/experiments/create", obj{"name": "mine"})
	for _, base := range []string{a, ""} {
		scope := cmp.Or(base, "global")
		wantError(t, scope+": get experiment 0", tw.api(tw.aDev, "GET", base, "/experiments/get", url.Values{"experiment_id": {"0"}}),
			http.StatusNotFound, "RESOURCE_DOES_NOT_EXIST")
		wantError(t, scope+": get-by-name Default", tw.api(tw.aDev, "GET", base, "/experiments/get-by-name", url.Values{"experiment_name": {"Default"}}),
			http.StatusNotFound, "RESOURCE_DOES_NOT_EXIST")
		for _, e := range list(tw.mustAPI(tw.aDev, "POST", base, "/experiments/search", obj{"view_type": "ALL"}), "experiments") {
			if str(e, "experiment_id") == "0" {
				t.Errorf("%s: search lists experiment 0: %v", scope, e)
			}
		}
		if runs := list(tw.mustAPI(tw.aDev, "POST", base, "/runs/search", obj{"experiment_ids": []string{"0"}}), "runs"); len(runs) != 0 {
			t.Errorf("%s: runs of experiment 0: %v", scope, runs)
		}
	}
	wantError(t, "create run without experiment", tw.api(tw.aDev, "POST", a, "/runs/create", obj{"run_name": "r"}),
		http.StatusNotFound, "RESOURCE_DOES_NOT_EXIST")
	wantError(t, "create run in experiment 0", tw.api(tw.aDev, "POST", a, "/runs/create", obj{"experiment_id": "0"}),
		http.StatusNotFound, "RESOURCE_DOES_NOT_EXIST")
	for _, route := range []string{"/experiments/delete", "/experiments/restore"} {
		wantError(t, route+" 0", tw.api(tw.aDev, "POST", a, route, obj{"experiment_id": "0"}), http.StatusNotFound, "RESOURCE_DOES_NOT_EXIST")
	}
	wantError(t, "rename 0", tw.api(tw.aDev, "POST", a, "/experiments/update", obj{"experiment_id": "0", "new_name": "mine2"}),
		http.StatusNotFound, "RESOURCE_DOES_NOT_EXIST")
	wantError(t, "tag 0", tw.api(tw.aDev, "POST", a, "/experiments/set-experiment-tag", obj{"experiment_id": "0", "key": "k", "value": "v"}),
		http.StatusNotFound, "RESOURCE_DOES_NOT_EXIST")
}

func TestTenancySearchPagesFilteredInSQL(t *testing.T) {
	tw := newTenancyWorld(t)
	a, b := trackingURI(tw.a), trackingURI(tw.b)
	both := tw.user("both")
	tw.gl.AddProjectMember(tw.a.Path, "both", gitlabtest.Reporter)
	tw.gl.AddProjectMember(tw.b.Path, "both", gitlabtest.Reporter)

	// B has 30 experiments, A 5, created interleaved so that A's are
	// spread among B's in id and name order.
	var aExps, bExps []string
	for i := range 35 {
		name := fmt.Sprintf("exp-%02d", i)
		if i%7 == 3 {
			aExps = append(aExps, str(tw.mustAPI(tw.aDev, "POST", a, "/experiments/create", obj{"name": name}), "experiment_id"))
		} else {
			bExps = append(bExps, str(tw.mustAPI(tw.bDev, "POST", b, "/experiments/create", obj{"name": name}), "experiment_id"))
		}
	}
	if len(aExps) != 5 || len(bExps) != 30 {
		t.Fatalf("%d and %d experiments", len(aExps), len(bExps))
	}
	sortedIDs := func(ids []string) []string {
		s := slices.Clone(ids)
		slices.Sort(s)
		return s
	}
	flat := func(pp [][]string) []string { return sortedIDs(slices.Concat(pp...)) }

	for _, c := range []struct {
		name string
		args obj
	}{
		{"default order", obj{"max_results": 2}},
		{"by name", obj{"max_results": 2, "order_by": []string{"name ASC"}}},
		{"filter matching both projects", obj{"max_results": 2, "filter": "name LIKE 'exp-%'", "order_by": []string{"name DESC"}}},
	} {
		t.Run("experiments "+c.name, func(t *testing.T) {
			pp := pages(t, tw.world, tw.aDev, "POST", a, "/experiments/search", c.args, "experiments", "experiment_id", 2)
			if diff := gocmp.Diff([]int{2, 2, 1}, lens(pp)); diff != "" {
				t.Errorf("page sizes (-want +got):\n%s", diff)
			}
			if diff := gocmp.Diff(sortedIDs(aExps), flat(pp)); diff != "" {
				t.Errorf("experiments over all pages (-want +got):\n%s", diff)
			}
			// The same through GET, the way the web UI asks.
			q := url.Values{"max_results": {"2"}}
			r := tw.api(tw.aDev, "GET", a, "/experiments/search", q)
			if n := len(list(r.body, "experiments")); r.status != 200 || n != 2 || str(r.body, "next_page_token") == "" {
				t.Errorf("GET search: %d, %d experiments, token %q", r.status, n, str(r.body, "next_page_token"))
			}
		})
	}

	// Runs: one experiment of A with 5 runs, B's 30 runs started in
	// between; A's URI asked for A's and B's experiments.
	var aRuns []string
	for i := range 35 {
		if i%7 == 3 {
			out := tw.mustAPI(tw.aDev, "POST", a, "/runs/create", obj{"experiment_id": aExps[0], "start_time": 1000 + i})
			aRuns = append(aRuns, str(out, "run", "info", "run_id"))
		} else {
			tw.mustAPI(tw.bDev, "POST", b, "/runs/create", obj{"experiment_id": bExps[i%len(bExps)], "start_time": 1000 + i})
		}
	}
	ids := slices.Concat(aExps, bExps)
	for _, c := range []struct {
		name string
		args obj
	}{
		{"default order", obj{"experiment_ids": ids, "max_results": 2}},
		{"by start time", obj{"experiment_ids": ids, "max_results": 2, "order_by": []string{"attributes.start_time ASC"}}},
		{"filter", obj{"experiment_ids": ids, "max_results": 2, "filter": "attributes.status = 'RUNNING'"}},
	} {
		t.Run("runs "+c.name, func(t *testing.T) {
			pp := pages(t, tw.world, tw.aDev, "POST", a, "/runs/search", c.args, "runs", "run_id", 2)
			if diff := gocmp.Diff([]int{2, 2, 1}, lens(pp)); diff != "" {
				t.Errorf("page sizes (-want +got):\n%s", diff)
			}
			if diff := gocmp.Diff(sortedIDs(aRuns), flat(pp)); diff != "" {
				t.Errorf("runs over all pages (-want +got):\n%s", diff)
			}
		})
	}

	// Filters that match every row of the database still stay in scope.
	t.Run("filters matching everything", func(t *testing.T) {
		for _, f := range []string{"name LIKE '%'", "name ILIKE '%EXP%'", "tags.project LIKE '%'", "tags.project = 'other/beta'",
			"name != 'none'", "creation_time > 0", "last_update_time >= 0"} {
			pp := pages(t, tw.world, tw.aDev, "POST", a, "/experiments/search", obj{"filter": f, "view_type": "ALL", "max_results": 1000}, "experiments", "experiment_id", 1000)
			want := sortedIDs(aExps)
			if strings.Contains(f, "other/beta") {
				want = nil
			}
			if diff := gocmp.Diff(want, flat(pp)); diff != "" {
				t.Errorf("experiments filter %q (-want +got):\n%s", f, diff)
			}
		}
		for _, f := range []string{"attributes.run_name LIKE '%'", "attributes.start_time > 0", "attributes.status != 'KILLED'",
			"tags.mlflow.runName ILIKE '%'", "attributes.run_id != ''"} {
			pp := pages(t, tw.world, tw.aDev, "POST", a, "/runs/search", obj{"experiment_ids": ids, "filter": f, "run_view_type": "ALL", "max_results": 1000}, "runs", "run_id", 1000)
			if diff := gocmp.Diff(sortedIDs(aRuns), flat(pp)); diff != "" {
				t.Errorf("runs filter %q (-want +got):\n%s", f, diff)
			}
		}
	})

	// The global scope spans what the caller can read, in SQL too.
	t.Run("global", func(t *testing.T) {
		pp := pages(t, tw.world, tw.aDev, "POST", "", "/experiments/search", obj{"max_results": 2}, "experiments", "experiment_id", 2)
		if diff := gocmp.Diff(sortedIDs(aExps), flat(pp)); diff != "" {
			t.Errorf("A's Developer, global (-want +got):\n%s", diff)
		}
		pp = pages(t, tw.world, both, "POST", "", "/experiments/search", obj{"max_results": 7}, "experiments", "experiment_id", 7)
		if diff := gocmp.Diff(sortedIDs(slices.Concat(aExps, bExps)), flat(pp)); diff != "" {
			t.Errorf("member of both, global (-want +got):\n%s", diff)
		}
		if diff := gocmp.Diff([]int{7, 7, 7, 7, 7}, lens(pp)); diff != "" {
			t.Errorf("member of both, page sizes (-want +got):\n%s", diff)
		}
		pp = pages(t, tw.world, tw.aDev, "POST", "", "/runs/search", obj{"experiment_ids": ids, "max_results": 2}, "runs", "run_id", 2)
		if diff := gocmp.Diff(sortedIDs(aRuns), flat(pp)); diff != "" {
			t.Errorf("A's Developer, global runs (-want +got):\n%s", diff)
		}
	})
}

func TestTenancyGlobalScope(t *testing.T) {
	tw := newTenancyWorld(t)
	a, b := trackingURI(tw.a), trackingURI(tw.b)
	users := map[string]string{}
	for _, u := range []struct {
		name   string
		aLevel int
		bLevel int
	}{
		{"a-reporter", gitlabtest.Reporter, 0},
		{"b-guest", 0, gitlabtest.Guest},
		{"both", gitlabtest.Guest, gitlabtest.Owner},
		{"a-minimal", gitlabtest.Minimal, 0},
		{"nobody", 0, 0},
	} {
		users[u.name] = tw.user(u.name)
		if u.aLevel > 0 {
			tw.gl.AddProjectMember(tw.a.Path, u.name, u.aLevel)
		}
		if u.bLevel > 0 {
			tw.gl.AddProjectMember(tw.b.Path, u.name, u.bLevel)
		}
	}
	aID := str(tw.mustAPI(tw.aDev, "POST", a, "/experiments/create", obj{"name": "in-a"}), "experiment_id")
	bID := str(tw.mustAPI(tw.bDev, "POST", b, "/experiments/create", obj{"name": "in-b"}), "experiment_id")
	aName, bName := "in-a"+suffix(tw.a), "in-b"+suffix(tw.b)
	run := str(tw.mustAPI(tw.aDev, "POST", a, "/runs/create", obj{"experiment_id": aID}), "run", "info", "run_id")

	for _, c := range []struct {
		user string
		want []string
	}{
		{"a-reporter", []string{aName}},
		{"b-guest", []string{bName}},
		{"both", []string{aName, bName}},
		{"a-minimal", nil},
		{"nobody", nil},
	} {
		t.Run(c.user, func(t *testing.T) {
			var names []string
			for _, e := range list(tw.mustAPI(users[c.user], "POST", "", "/experiments/search", obj{"view_type": "ALL"}), "experiments") {
				names = append(names, str(e, "name"))
			}
			slices.Sort(names)
			if diff := gocmp.Diff(c.want, names); diff != "" {
				t.Errorf("global experiments (-want +got):\n%s", diff)
			}
			for id, name := range map[string]string{aID: aName, bID: bName} {
				r := tw.api(users[c.user], "GET", "", "/experiments/get", url.Values{"experiment_id": {id}})
				if slices.Contains(c.want, name) {
					if r.status != http.StatusOK || str(r.body, "experiment", "name") != name {
						t.Errorf("global get %s: %d %s", id, r.status, r.raw)
					}
				} else {
					wantError(t, "global get "+id, r, http.StatusNotFound, "RESOURCE_DOES_NOT_EXIST")
				}
			}
		})
	}
	wantError(t, "anonymous global search", tw.api("", "POST", "", "/experiments/search", obj{}), http.StatusUnauthorized, "UNAUTHENTICATED")

	// Writes in the global scope are refused, even to an Owner, and say
	// where to write instead.
	owner := users["both"]
	for _, c := range []struct {
		route string
		body  obj
	}{
		{"/experiments/create", obj{"name": "global-" + bName}},
		{"/experiments/create", obj{"name": "plain"}},
		{"/experiments/update", obj{"experiment_id": bID, "new_name": "x"}},
		{"/experiments/delete", obj{"experiment_id": bID}},
		{"/experiments/set-experiment-tag", obj{"experiment_id": bID, "key": "project", "value": "x"}},
		{"/runs/create", obj{"experiment_id": bID}},
		{"/runs/log-metric", obj{"run_id": run, "key": "m", "value": 1, "timestamp": 1}},
	} {
		wantError(t, "global "+c.route, tw.api(owner, "POST", "", c.route, c.body), http.StatusForbidden, "PERMISSION_DENIED", "tracking URI")
	}
	if n := len(list(tw.mustAPI(owner, "POST", b, "/experiments/search", obj{"view_type": "ALL"}), "experiments")); n != 1 {
		t.Errorf("B has %d experiments after the refused global writes, want 1", n)
	}
}

// TestAccessLogNamesTheProject: the access-log line of a request sent to a
// project's tracking URI names that project, whether the request was
// served or refused (a refusal logged as "global" hides, in an audit, which
// project someone tried to reach).
func TestAccessLogNamesTheProject(t *testing.T) {
	var logs syncBuffer
	w := newWorld(t, worldOptions{log: &logs})
	a := w.project("grp/sub/alpha")
	w.user("reporter")
	w.gl.AddProjectMember(a.Path, "reporter", gitlabtest.Reporter)
	w.user("outsider")
	cold := w.gl.NewToken("reporter")
	search := trackingURI(a) + "/api/2.0/mlflow/experiments/search"
	for _, c := range []struct {
		name   string
		rq     request
		status int
		outage bool
	}{
		{"served", request{method: "GET", path: search, token: w.tokens["reporter"]}, http.StatusOK, false},
		{"no read", request{method: "GET", path: search, token: w.tokens["outsider"]}, http.StatusNotFound, false},
		{"read-only write", request{method: "POST", path: trackingURI(a) + "/api/2.0/mlflow/experiments/create",
			body: obj{"name": "x"}, token: w.tokens["reporter"]}, http.StatusForbidden, false},
		{"anonymous", request{method: "GET", path: search}, http.StatusUnauthorized, false},
		{"provider down", request{method: "GET", path: search, token: cold}, http.StatusServiceUnavailable, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.outage {
				w.gl.SetOutage(gitlabtest.Down503)
				defer w.gl.SetOutage(gitlabtest.Up)
			}
			c.rq.header = http.Header{"X-Request-Id": {"log-" + strings.ReplaceAll(c.name, " ", "-")}}
			if r := w.do(c.rq); r.status != c.status {
				t.Fatalf("%d %s, want %d", r.status, r.raw, c.status)
			}
			var line map[string]any
			for range 50 {
				for _, l := range logs.accessLog() {
					if l["request_id"] == c.rq.header.Get("X-Request-Id") {
						line = l
					}
				}
				if line != nil {
					break
				}
				time.Sleep(10 * time.Millisecond)
			}
			if line == nil {
				t.Fatal("no access-log line")
			}
			if p, _ := line["project"].(string); !strings.Contains(p, a.Path) {
				t.Errorf("access log of %s %s (%d) has project=%q, want it to name %s", c.rq.method, c.rq.path, c.status, p, a.Path)
			}
		})
	}
}

// TestTenancyPublicAndInternalProjects: a public project is readable by
// anyone, an internal one by any signed-in user; writing takes a role, and
// a caller without credentials is asked to sign in (401), not told it
// lacks a role it was never asked to prove.
func TestTenancyPublicAndInternalProjects(t *testing.T) {
	w := newWorld(t, worldOptions{})
	pub, intl := w.project("open/public-proj"), w.project("corp/internal-proj")
	w.gl.SetVisibility(pub.Path, "public")
	w.gl.SetVisibility(intl.Path, "internal")
	owner, outsider := w.user("owner"), w.user("outsider")
	w.gl.AddProjectMember(pub.Path, "owner", gitlabtest.Owner)
	w.gl.AddProjectMember(intl.Path, "owner", gitlabtest.Owner)
	w.mustAPI(owner, "POST", trackingURI(pub), "/experiments/create", obj{"name": "public-exp"})
	w.mustAPI(owner, "POST", trackingURI(intl), "/experiments/create", obj{"name": "internal-exp"})
	for _, c := range []struct {
		name          string
		p             gitlabtest.Project
		token         string
		read          int
		write         int
		readC, writeC string
	}{
		{"public, anonymous", pub, "", 200, 401, "", "UNAUTHENTICATED"},
		{"public, signed in", pub, outsider, 200, 403, "", "PERMISSION_DENIED"},
		{"internal, anonymous", intl, "", 401, 401, "UNAUTHENTICATED", "UNAUTHENTICATED"},
		{"internal, signed in", intl, outsider, 200, 403, "", "PERMISSION_DENIED"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := w.api(c.token, "POST", trackingURI(c.p), "/experiments/search", obj{})
			if r.status != c.read || r.errorCode() != c.readC {
				t.Errorf("read: %d %s, want %d %s", r.status, r.raw, c.read, c.readC)
			}
			r = w.api(c.token, "POST", trackingURI(c.p), "/experiments/create", obj{"name": "x"})
			if r.status != c.write || r.errorCode() != c.writeC {
				t.Errorf("write: %d %s, want %d %s", r.status, r.raw, c.write, c.writeC)
			}
		})
	}
}

// TestTrackingURIForms: a project's tracking URI works nested, with or
// without a trailing slash, URL-encoded or not, in any letter case, and
// for groups and projects themselves named "tracking"; each form reaches
// that project and no other.
func TestTrackingURIForms(t *testing.T) {
	w := newWorld(t, worldOptions{})
	a := w.project("grp/sub/alpha")
	tr := w.project("tracking/tracking")     // a group and a project named tracking
	deep := w.project("a/b/c/tracking/proj") // a subgroup named tracking
	dev := w.user("dev")
	for _, p := range []gitlabtest.Project{a, tr, deep} {
		w.gl.AddProjectMember(p.Path, "dev", gitlabtest.Developer)
		w.mustAPI(dev, "POST", trackingURI(p), "/experiments/create", obj{"name": "in " + strings.ReplaceAll(p.Path, "/", "-")})
	}
	for _, c := range []struct {
		path string
		want gitlabtest.Project
	}{
		{"/grp/sub/alpha/tracking/api/2.0/mlflow/experiments/search", a},
		{"/grp%2Fsub%2Falpha/tracking/api/2.0/mlflow/experiments/search", a},
		{"/grp/sub%2Falpha/tracking/ajax-api/2.0/mlflow/experiments/search", a},
		{"/GRP/Sub/Alpha/tracking/api/2.0/mlflow/experiments/search", a},
		{"/tracking/tracking/tracking/api/2.0/mlflow/experiments/search", tr},
		{"/a/b/c/tracking/proj/tracking/api/2.0/mlflow/experiments/search", deep},
	} {
		t.Run(c.path, func(t *testing.T) {
			r := w.do(request{method: "GET", path: c.path, token: dev})
			var names []string
			for _, e := range list(r.body, "experiments") {
				names = append(names, str(e, "name"))
			}
			want := []string{"in " + strings.ReplaceAll(c.want.Path, "/", "-") + suffix(c.want)}
			if r.status != http.StatusOK || !slices.Equal(names, want) {
				t.Errorf("%d %v, want %v (%s)", r.status, names, want, r.raw)
			}
		})
	}
	// Created through another spelling, an experiment still records the
	// project's canonical path and id.
	id := str(w.mustAPI(dev, "POST", "/GRP/Sub/Alpha/tracking", "/experiments/create", obj{"name": "spelled"}), "experiment_id")
	e := w.mustAPI(dev, "GET", trackingURI(a), "/experiments/get", url.Values{"experiment_id": {id}})["experiment"]
	if str(e, "name") != "spelled"+suffix(a) || tagsOf(e)["project"] != a.Path {
		t.Errorf("experiment created at /GRP/Sub/Alpha/tracking: %v", e)
	}
	for _, home := range []string{"/grp/sub/alpha/tracking", "/grp/sub/alpha/tracking/", "/grp%2Fsub%2Falpha/tracking/"} {
		r := w.do(request{method: "GET", path: home, token: dev})
		if r.status != http.StatusOK || !strings.Contains(string(r.raw), a.Path) {
			t.Errorf("GET %s: %d %s", home, r.status, truncateBody(r.raw))
		}
	}
}
