package server

import (
	"cmp"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/csgroup-oss/mlflow-sharinghub-go/internal/gitlabtest"
)

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
