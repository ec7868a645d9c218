package server

import (
	"cmp"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"sync/atomic"
	"testing"

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
