package server

import (
	"fmt"
	"math"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/csgroup-oss/mlflow-sharinghub-go/internal/gitlabtest"
)

// outageWorld is A and B with a Developer of both (dev), a Reporter of A
// and an experiment in A.
type outageWorld struct {
	*world
	a, b          gitlabtest.Project
	dev, reporter string
}

func newOutageWorld(t *testing.T, opts worldOptions) *outageWorld {
	t.Helper()
	w := newWorld(t, opts)
	ow := &outageWorld{world: w, a: w.project("grp/sub/alpha"), b: w.project("other/beta")}
	ow.dev, ow.reporter = w.user("dev"), w.user("reporter")
	w.gl.AddProjectMember(ow.a.Path, "dev", gitlabtest.Developer)
	w.gl.AddProjectMember(ow.b.Path, "dev", gitlabtest.Developer)
	w.gl.AddProjectMember(ow.a.Path, "reporter", gitlabtest.Reporter)
	return ow
}

// search asks for A's (or B's) experiments.
func (ow *outageWorld) search(token string, p *gitlabtest.Project) reply {
	base := ""
	if p != nil {
		base = trackingURI(*p)
	}
	return ow.api(token, "GET", base, "/experiments/search", url.Values{"max_results": {"1"}})
}

func wantUnavailable(t *testing.T, what string, r reply) {
	t.Helper()
	if r.status != http.StatusServiceUnavailable || r.errorCode() != "TEMPORARILY_UNAVAILABLE" {
		t.Errorf("%s: %d %s, want 503 TEMPORARILY_UNAVAILABLE (never an answer from a decision not made)", what, r.status, r.raw)
	}
}

func wantStatus(t *testing.T, what string, r reply, status int) {
	t.Helper()
	if r.status != status {
		t.Errorf("%s: %d %s, want %d", what, r.status, r.raw, status)
	}
}

// TestOutageFailsClosed: with GitLab down, a decision the cache does not
// hold fresh is 503, whatever the way GitLab fails; a fresh decision is
// served from the cache; when GitLab returns, decisions recover at once
// (failures were not cached).
func TestOutageFailsClosed(t *testing.T) {
	for _, mode := range []gitlabtest.Outage{gitlabtest.Down503, gitlabtest.DownRefuse, gitlabtest.DownDrop, gitlabtest.DownHang} {
		t.Run(mode.String(), func(t *testing.T) {
			ow := newOutageWorld(t, worldOptions{gitlabTimeout: 300 * time.Millisecond})
			a, b := ow.a, ow.b
			wantStatus(t, "warm-up", ow.search(ow.dev, &a), http.StatusOK)
			stranger := ow.gl.NewToken("reporter") // a valid token never seen by the server

			ow.gl.SetOutage(mode)
			// Fresh decisions are served from the cache, writes included.
			wantStatus(t, "cached read", ow.search(ow.dev, &a), http.StatusOK)
			r := ow.api(ow.dev, "POST", trackingURI(a), "/experiments/create", obj{"name": "during-outage"})
			wantStatus(t, "cached write", r, http.StatusOK)

			// Cold decisions fail closed.
			wantUnavailable(t, "cold caller", ow.search(ow.reporter, &a))
			wantUnavailable(t, "cold project", ow.search(ow.dev, &b))
			wantUnavailable(t, "cold global scope", ow.search(ow.dev, nil))
			wantUnavailable(t, "cold token", ow.search(stranger, &a))
			wantUnavailable(t, "unknown token", ow.search("glpat-not-a-token", &a))
			wantUnavailable(t, "anonymous", ow.search("", &a))
			wantUnavailable(t, "cold caller write", ow.api(ow.reporter, "POST", trackingURI(a), "/experiments/create", obj{"name": "x"}))
			// ...and stay so: the failure is not cached as a denial.
			wantUnavailable(t, "cold caller again", ow.search(ow.reporter, &a))
			wantStatus(t, "health", ow.do(request{method: "GET", path: "/health"}), http.StatusOK)

			ow.gl.SetOutage(gitlabtest.Up)
			wantStatus(t, "recovered caller", ow.search(ow.reporter, &a), http.StatusOK)
			wantStatus(t, "recovered project", ow.search(ow.dev, &b), http.StatusOK)
			wantStatus(t, "recovered global", ow.search(ow.dev, nil), http.StatusOK)
			wantStatus(t, "recovered token", ow.search(stranger, &a), http.StatusOK)
			wantStatus(t, "recovered unknown token", ow.search("glpat-not-a-token", &a), http.StatusUnauthorized)
			wantStatus(t, "recovered anonymous", ow.search("", &a), http.StatusUnauthorized)
			wantStatus(t, "recovered reporter write", ow.api(ow.reporter, "POST", trackingURI(a), "/experiments/create", obj{"name": "x"}), http.StatusForbidden)
		})
	}
}

// TestOutageStaleDecisionNotServed: an expired decision is not an answer.
func TestOutageStaleDecisionNotServed(t *testing.T) {
	const ttl = 800 * time.Millisecond
	ow := newOutageWorld(t, worldOptions{ttl: ttl})
	a := ow.a
	wantStatus(t, "warm-up", ow.search(ow.dev, &a), http.StatusOK)
	ow.gl.SetOutage(gitlabtest.Down503)
	wantStatus(t, "fresh", ow.search(ow.dev, &a), http.StatusOK)
	time.Sleep(ttl + 100*time.Millisecond)
	wantUnavailable(t, "stale", ow.search(ow.dev, &a))
	ow.gl.SetOutage(gitlabtest.Up)
	wantStatus(t, "recovered", ow.search(ow.dev, &a), http.StatusOK)
}

// TestOutageRoleChangeAfterTTL: a decision is re-asked after the TTL, so a
// removed member loses access within PROJECT_CACHE_TIMEOUT.
func TestOutageRoleChangeAfterTTL(t *testing.T) {
	const ttl = 800 * time.Millisecond
	ow := newOutageWorld(t, worldOptions{ttl: ttl})
	a := ow.a
	wantStatus(t, "member", ow.search(ow.reporter, &a), http.StatusOK)
	ow.gl.AddProjectMember(a.Path, "reporter", gitlabtest.NoAccess)
	wantStatus(t, "removed, cached", ow.search(ow.reporter, &a), http.StatusOK)
	time.Sleep(ttl + 100*time.Millisecond)
	wantStatus(t, "removed, after the TTL", ow.search(ow.reporter, &a), http.StatusNotFound)
}

// loadResult is what a load run measured.
type loadResult struct {
	requests      int64
	statuses      map[int]int64
	providerCalls uint64
	gitlabCalls   int
	elapsed       time.Duration
}

// load sends requests through the server from workers goroutines, spread
// evenly over every (token, project) pair, until n requests are sent or d
// has passed (whichever is set).
func (w *world) load(tokens []string, projects []gitlabtest.Project, workers, n int, d time.Duration) loadResult {
	w.t.Helper()
	before, glBefore := w.cache.Stats(), w.gl.TotalCalls()
	var sent atomic.Int64
	var mu sync.Mutex
	statuses := map[int]int64{}
	start := time.Now()
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := w.http.Client()
			for {
				i := sent.Add(1) - 1
				if (n > 0 && i >= int64(n)) || (d > 0 && time.Since(start) >= d) {
					return
				}
				tok := tokens[i%int64(len(tokens))]
				p := projects[(i/int64(len(tokens)))%int64(len(projects))]
				req, _ := http.NewRequest("GET", w.http.URL+trackingURI(p)+"/api/2.0/mlflow/experiments/search?max_results=1", nil)
				req.Header.Set("Authorization", "Bearer "+tok)
				res, err := client.Do(req)
				status := 0
				if err == nil {
					status = res.StatusCode
					res.Body.Close()
				}
				mu.Lock()
				statuses[status]++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	after := w.cache.Stats()
	var total int64
	for _, c := range statuses {
		total += c
	}
	return loadResult{requests: total, statuses: statuses, providerCalls: after.ProviderCalls - before.ProviderCalls,
		gitlabCalls: w.gl.TotalCalls() - glBefore, elapsed: time.Since(start)}
}

// loadWorld has 5 users, each a Developer of 3 projects.
func loadWorld(t *testing.T, ttl time.Duration) (*world, []string, []gitlabtest.Project) {
	t.Helper()
	w := newWorld(t, worldOptions{ttl: ttl})
	projects := []gitlabtest.Project{w.project("grp/sub/alpha"), w.project("other/beta"), w.project("third/gamma")}
	var tokens []string
	for i := range 5 {
		name := fmt.Sprintf("user%d", i)
		tokens = append(tokens, w.user(name))
		for _, p := range projects {
			w.gl.AddProjectMember(p.Path, name, gitlabtest.Developer)
		}
	}
	return w, tokens, projects
}

// TestProviderCallsUnderLoad measures how often the provider (and GitLab)
// is asked under steady load: about once per credential and project per
// TTL, not once per request.
func TestProviderCallsUnderLoad(t *testing.T) {
	t.Run("within one TTL", func(t *testing.T) {
		w, tokens, projects := loadWorld(t, 10*time.Minute)
		r := w.load(tokens, projects, 8, 2000, 0)
		keys := len(tokens) * len(projects)
		// One Authenticate per token and one Project per (token, project),
		// each made once however many requests arrive together.
		wantProvider := uint64(len(tokens) + keys)
		// GitLab: GET /user per token; GET /projects/:id and
		// GET /projects/:id/members/all/:user_id per (token, project).
		wantGitLab := len(tokens) + 2*keys
		t.Logf("%d requests in %v with %d tokens × %d projects, TTL 10m: %d provider calls (%.2f per (credential, project)), %d GitLab calls; statuses %v",
			r.requests, r.elapsed.Round(time.Millisecond), len(tokens), len(projects), r.providerCalls,
			float64(r.providerCalls-uint64(len(tokens)))/float64(keys), r.gitlabCalls, r.statuses)
		if r.statuses[http.StatusOK] != 2000 {
			t.Errorf("statuses %v, want 2000 × 200", r.statuses)
		}
		if r.providerCalls != wantProvider {
			t.Errorf("%d provider calls, want %d", r.providerCalls, wantProvider)
		}
		if r.gitlabCalls != wantGitLab {
			t.Errorf("%d GitLab calls, want %d", r.gitlabCalls, wantGitLab)
		}
	})
	t.Run("over several TTLs", func(t *testing.T) {
		const ttl = time.Second
		w, tokens, projects := loadWorld(t, ttl)
		r := w.load(tokens, projects, 8, 0, 3*ttl+ttl/2)
		keys := len(tokens) * len(projects)
		periods := float64(r.elapsed) / float64(ttl)
		windows := math.Ceil(periods)
		t.Logf("%d requests in %v (%.1f TTLs of %v; %.0f requests per (credential, project) per TTL): "+
			"%d provider calls = %.2f per cache key (%d tokens + %d (token, project)) per TTL window (%v windows), %d GitLab calls; statuses %v",
			r.requests, r.elapsed.Round(time.Millisecond), periods, ttl, float64(r.requests)/float64(keys)/periods,
			r.providerCalls, float64(r.providerCalls)/float64(len(tokens)+keys)/windows, len(tokens), keys, windows, r.gitlabCalls, r.statuses)
		if r.statuses[http.StatusOK] != r.requests {
			t.Errorf("statuses %v, want all 200", r.statuses)
		}
		// Each key is asked at most once per TTL, plus the first time.
		if max := uint64(float64(len(tokens)+keys) * (periods + 1)); r.providerCalls > max {
			t.Errorf("%d provider calls, want at most %d", r.providerCalls, max)
		}
		if r.providerCalls < uint64(len(tokens)+keys) {
			t.Errorf("%d provider calls, want at least %d", r.providerCalls, len(tokens)+keys)
		}
	})
}

// TestOutageOneEndpointFailing: when only one GitLab endpoint fails, the
// decision fails closed too: a member whose role shows only in
// members/all is not taken for a non-member (404) nor let in.
func TestOutageOneEndpointFailing(t *testing.T) {
	for _, c := range []struct {
		endpoint string
		status   int
		global   bool
	}{
		{gitlabtest.EndpointMember, http.StatusInternalServerError, false},
		{gitlabtest.EndpointMember, http.StatusTooManyRequests, false},
		{gitlabtest.EndpointProject, http.StatusBadGateway, false},
		{gitlabtest.EndpointUser, http.StatusInternalServerError, false},
		{gitlabtest.EndpointProjects, http.StatusInternalServerError, true},
	} {
		t.Run(fmt.Sprintf("%s %d", c.endpoint, c.status), func(t *testing.T) {
			ow := newOutageWorld(t, worldOptions{})
			a := ow.a
			ow.user("inherited")
			ow.gl.AddGroupMember("grp", "inherited", gitlabtest.Developer)
			ow.gl.FailEndpoint(c.endpoint, c.status)
			p := &a
			if c.global {
				p = nil
			}
			wantUnavailable(t, "inherited Developer", ow.search(ow.tokens["inherited"], p))
			if !c.global {
				wantUnavailable(t, "inherited Developer write", ow.api(ow.tokens["inherited"], "POST", trackingURI(a), "/experiments/create", obj{"name": "x"}))
			}
			ow.gl.FailEndpoint(c.endpoint, 0)
			wantStatus(t, "recovered", ow.search(ow.tokens["inherited"], p), http.StatusOK)
			if !c.global {
				wantStatus(t, "recovered write", ow.api(ow.tokens["inherited"], "POST", trackingURI(a), "/experiments/create", obj{"name": "x"}), http.StatusOK)
			}
		})
	}
}
