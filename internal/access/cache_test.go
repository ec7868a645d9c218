package access

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/csgroup-oss/mlflow-sharinghub-go/internal/gitlabtest"
	"github.com/google/go-cmp/cmp"
)

// fakeProvider counts calls and answers from a table; calls block while
// gate is open (non-nil and not closed).
type fakeProvider struct {
	mu      sync.Mutex
	calls   map[string]int // "auth", "project <secret> <path>", "projects"
	err     error          // returned by every call when set
	gate    chan struct{}
	panicky bool
}

func newFake() *fakeProvider { return &fakeProvider{calls: map[string]int{}} }

func (f *fakeProvider) enter(what string) error {
	f.mu.Lock()
	f.calls[what]++
	gate, err, panicky := f.gate, f.err, f.panicky
	f.mu.Unlock()
	if gate != nil {
		<-gate
	}
	if panicky {
		panic("boom")
	}
	return err
}

func (f *fakeProvider) count(what string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[what]
}

func (f *fakeProvider) set(fn func(f *fakeProvider)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}

func (f *fakeProvider) Authenticate(_ context.Context, c Credential) (Principal, error) {
	if err := f.enter("auth"); err != nil {
		return Principal{}, err
	}
	return Principal{Username: "u-" + c.Secret}, nil
}

func (f *fakeProvider) Project(_ context.Context, c Credential, path string) (Grant, error) {
	if err := f.enter("project " + c.Secret + " " + path); err != nil {
		return Grant{}, err
	}
	if strings.HasPrefix(path, "missing") {
		return Grant{}, fmt.Errorf("fake: %w", ErrNotFound)
	}
	return Grant{Project: Project{ID: int64(len(path)), Path: path}, Role: Developer}, nil
}

func (f *fakeProvider) Projects(_ context.Context, c Credential) ([]Grant, error) {
	if err := f.enter("projects"); err != nil {
		return nil, err
	}
	return []Grant{{Project: Project{ID: 1, Path: "a/b"}, Role: Guest}}, nil
}

// fakeClock is a settable clock for Cache.now.
type fakeClock struct{ ns atomic.Int64 }

func (c *fakeClock) now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *fakeClock) advance(d time.Duration) { c.ns.Add(int64(d)) }

func newTestCache(p Provider, ttl time.Duration, max int) (*Cache, *fakeClock) {
	clk := &fakeClock{}
	clk.ns.Store(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	c := NewCache(p, ttl, max)
	c.now = clk.now
	return c, clk
}

var ctx = context.Background()

func TestCacheTTL(t *testing.T) {
	f := newFake()
	c, clk := newTestCache(f, 30*time.Second, 100)
	alice := tok("alice")
	for range 3 {
		if g, err := c.Project(ctx, alice, "g/p"); err != nil || g.Role != Developer {
			t.Fatal(g, err)
		}
	}
	clk.advance(30*time.Second - time.Nanosecond)
	c.Project(ctx, alice, "g/p")
	if n := f.count("project alice g/p"); n != 1 {
		t.Fatalf("provider calls within the TTL = %d, want 1", n)
	}
	clk.advance(time.Nanosecond)
	c.Project(ctx, alice, "g/p")
	if n := f.count("project alice g/p"); n != 2 {
		t.Fatalf("provider calls after the TTL = %d, want 2", n)
	}
	// Keys: credential kind and secret, and path, all count.
	c.Project(ctx, tok("bob"), "g/p")
	c.Project(ctx, Credential{Kind: KindSharingHubCookie, Secret: "alice"}, "g/p")
	c.Project(ctx, alice, "g/q")
	c.Authenticate(ctx, alice)
	c.Authenticate(ctx, alice)
	c.Projects(ctx, alice)
	c.Projects(ctx, alice)
	want := CacheStats{Hits: 5, Misses: 7, ProviderCalls: 7, Entries: 6}
	if diff := cmp.Diff(want, c.Stats()); diff != "" {
		t.Errorf("stats (-want +got):\n%s", diff)
	}
	// Projects hands out copies.
	gs, _ := c.Projects(ctx, alice)
	gs[0].Role = Owner
	if gs, _ := c.Projects(ctx, alice); gs[0].Role != Guest {
		t.Error("a caller's change to a Projects result reached the cache")
	}
	c.Purge()
	c.Project(ctx, alice, "g/p")
	if n := f.count("project alice g/p"); n != 4 { // 2 + the cookie with the same secret + 1
		t.Errorf("after Purge: provider calls = %d, want 4", n)
	}
}

func TestCacheBounded(t *testing.T) {
	f := newFake()
	c, _ := newTestCache(f, time.Hour, 3)
	alice := tok("alice")
	for _, p := range []string{"g/0", "g/1", "g/2"} {
		c.Project(ctx, alice, p)
	}
	c.Project(ctx, alice, "g/0") // g/0 is now the most recent; g/1 the least
	c.Project(ctx, alice, "g/3") // evicts g/1
	c.Project(ctx, alice, "g/4") // evicts g/2
	if s := c.Stats(); s.Entries != 3 || s.Evictions != 2 {
		t.Errorf("stats = %+v, want 3 entries, 2 evictions", s)
	}
	var held []string
	for k := range c.entries {
		held = append(held, k.path)
	}
	slices.Sort(held)
	if diff := cmp.Diff([]string{"g/0", "g/3", "g/4"}, held); diff != "" {
		t.Errorf("entries held (-want +got), least recently used evicted first:\n%s", diff)
	}
	for i := range 1000 {
		c.Authenticate(ctx, tok(fmt.Sprint(i)))
	}
	if s := c.Stats(); s.Entries != 3 {
		t.Errorf("entries after 1000 credentials = %d, want 3", s.Entries)
	}
}

func TestCacheCollapse(t *testing.T) {
	f := newFake()
	gate := make(chan struct{})
	f.set(func(f *fakeProvider) { f.gate = gate })
	c, _ := newTestCache(f, 30*time.Second, 100)
	const n = 50
	var wg sync.WaitGroup
	grants := make([]Grant, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() { grants[i], errs[i] = c.Project(ctx, tok("alice"), "g/p") })
	}
	// Wait until every goroutine has looked up, then let the one call finish.
	for c.Stats().Misses < n {
		time.Sleep(time.Millisecond)
	}
	close(gate)
	wg.Wait()
	for i := range n {
		if errs[i] != nil || grants[i].Role != Developer {
			t.Fatalf("goroutine %d: %v, %v", i, grants[i], errs[i])
		}
	}
	if got := f.count("project alice g/p"); got != 1 {
		t.Errorf("provider calls = %d, want 1 for %d concurrent cold lookups", got, n)
	}
	if s := c.Stats(); s.ProviderCalls != 1 || s.Collapsed != n-1 {
		t.Errorf("stats = %+v", s)
	}
}

func TestCacheCallerCancel(t *testing.T) {
	f := newFake()
	gate := make(chan struct{})
	f.set(func(f *fakeProvider) { f.gate = gate })
	c, _ := newTestCache(f, 30*time.Second, 100)
	cctx, cancel := context.WithCancel(ctx)
	done := make(chan error)
	go func() { _, err := c.Project(cctx, tok("alice"), "g/p"); done <- err }()
	for c.Stats().ProviderCalls < 1 {
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled caller: err = %v", err)
	}
	close(gate) // the call completes for whoever asks next
	for c.Stats().Entries < 1 {
		time.Sleep(time.Millisecond)
	}
	if _, err := c.Project(ctx, tok("alice"), "g/p"); err != nil || f.count("project alice g/p") != 1 {
		t.Errorf("after the cancelled lookup: %v, %d calls", err, f.count("project alice g/p"))
	}
}

func TestCacheErrors(t *testing.T) {
	f := newFake()
	c, clk := newTestCache(f, 30*time.Second, 100)
	alice := tok("alice")

	// Denials are cached like grants.
	for range 3 {
		if _, err := c.Project(ctx, alice, "missing/x"); !errors.Is(err, ErrNotFound) {
			t.Fatal(err)
		}
	}
	f.set(func(f *fakeProvider) { f.err = fmt.Errorf("fake: %w", ErrUnauthenticated) })
	for range 3 {
		if _, err := c.Authenticate(ctx, tok("bob")); !errors.Is(err, ErrUnauthenticated) {
			t.Fatal(err)
		}
	}
	if f.count("project alice missing/x") != 1 || f.count("auth") != 1 {
		t.Errorf("denials not cached: %v", f.calls)
	}

	// Fresh entry + outage: answered from the cache.
	f.set(func(f *fakeProvider) { f.err = nil })
	c.Project(ctx, alice, "g/p")
	f.set(func(f *fakeProvider) { f.err = fmt.Errorf("fake: %w", ErrUnavailable) })
	clk.advance(29 * time.Second)
	if g, err := c.Project(ctx, alice, "g/p"); err != nil || !g.Allows(Update) {
		t.Errorf("outage with a fresh entry: %v, %v; want the cached grant", g, err)
	}
	// Expired + outage: ErrUnavailable, every time (not cached), never a stale allow.
	clk.advance(time.Second)
	for i := range 3 {
		if g, err := c.Project(ctx, alice, "g/p"); !errors.Is(err, ErrUnavailable) || g.Allows(Read) {
			t.Errorf("outage, no fresh entry, try %d: %v, %v; want ErrUnavailable", i, g, err)
		}
	}
	if n := f.count("project alice g/p"); n != 4 {
		t.Errorf("provider calls = %d, want 4 (outage answers are not cached)", n)
	}
	// Unclassified errors are not cached either.
	f.set(func(f *fakeProvider) { f.err = errors.New("weird") })
	c.Project(ctx, alice, "g/other")
	c.Project(ctx, alice, "g/other")
	if n := f.count("project alice g/other"); n != 2 {
		t.Errorf("unclassified error cached: %d calls", n)
	}
	// Recovery.
	f.set(func(f *fakeProvider) { f.err = nil })
	if g, err := c.Project(ctx, alice, "g/p"); err != nil || g.Role != Developer {
		t.Errorf("recovered: %v, %v", g, err)
	}
	// A panicking provider is an outage, not a crash.
	f.set(func(f *fakeProvider) { f.panicky = true })
	if _, err := c.Project(ctx, alice, "g/panic"); !errors.Is(err, ErrUnavailable) {
		t.Errorf("panic: err = %v, want ErrUnavailable", err)
	}
}

func TestCacheZeroTTL(t *testing.T) {
	f := newFake()
	c, _ := newTestCache(f, 0, 0)
	c.Project(ctx, tok("alice"), "g/p")
	c.Project(ctx, tok("alice"), "g/p")
	if n := f.count("project alice g/p"); n != 2 || c.Stats().Entries != 0 {
		t.Errorf("ttl 0: %d calls, %d entries; want 2, 0", n, c.Stats().Entries)
	}
}

func TestCacheKeysHoldNoSecret(t *testing.T) {
	c, _ := newTestCache(newFake(), time.Minute, 10)
	secret := "glpat-very-secret-value"
	c.Project(ctx, tok(secret), "g/p")
	for k := range c.entries {
		if s := fmt.Sprintf("%v %x", k, k.cred); strings.Contains(s, secret) || strings.Contains(s, fmt.Sprintf("%x", secret)) {
			t.Errorf("key holds the secret: %s", s)
		}
	}
}

// TestCacheGitLab checks the cache in front of the real GitLab provider: the
// caller is authenticated once per TTL, not once per project, and an outage
// is answered from fresh entries only.
func TestCacheGitLab(t *testing.T) {
	w := newWorld(t)
	c, clk := newTestCache(newGitLab(t, w, GitLabOptions{Timeout: time.Second}), 30*time.Second, 1000)
	dev := w.token("developer")
	for range 5 {
		for _, p := range []string{deepProject, "pub/open", "ml/untagged"} {
			if _, err := c.Project(ctx, dev, p); err != nil {
				t.Fatal(err)
			}
		}
		c.Projects(ctx, dev)
	}
	calls := map[string]int{}
	for _, e := range []string{gitlabtest.EndpointUser, gitlabtest.EndpointProject, gitlabtest.EndpointMember, gitlabtest.EndpointProjects} {
		calls[e] = w.gl.Calls(e)
	}
	want := map[string]int{gitlabtest.EndpointUser: 1, gitlabtest.EndpointProject: 3, gitlabtest.EndpointMember: 3, gitlabtest.EndpointProjects: 1}
	if diff := cmp.Diff(want, calls); diff != "" {
		t.Errorf("GitLab calls for 5 rounds (-want +got):\n%s", diff)
	}

	w.gl.SetOutage(gitlabtest.Down503)
	if g, err := c.Project(ctx, dev, deepProject); err != nil || g.Role != Developer {
		t.Errorf("outage, fresh entry: %v, %v", g.Role, err)
	}
	clk.advance(31 * time.Second)
	if _, err := c.Project(ctx, dev, deepProject); !errors.Is(err, ErrUnavailable) {
		t.Errorf("outage, expired entry: err = %v, want ErrUnavailable", err)
	}
	if _, err := c.Authenticate(ctx, dev); !errors.Is(err, ErrUnavailable) {
		t.Errorf("outage, Authenticate: err = %v, want ErrUnavailable", err)
	}
	w.gl.SetOutage(gitlabtest.Up)
	if g, err := c.Project(ctx, dev, deepProject); err != nil || g.Role != Developer {
		t.Errorf("recovered: %v, %v", g.Role, err)
	}
	// A revoked token is refused on the project lookup too, once its cached identity expires.
	w.gl.RevokeToken(w.tokens["reporter"])
	if _, err := c.Project(ctx, w.token("reporter"), deepProject); !errors.Is(err, ErrUnauthenticated) {
		t.Errorf("revoked: err = %v, want ErrUnauthenticated", err)
	}
}

// TestCacheSteadyLoad measures provider calls under steady load: 10
// credentials × 5 projects, 10,000 lookups spread evenly over a simulated
// window of 2×TTL. The provider should see about 2 calls per (credential,
// project), not one per lookup.
func TestCacheSteadyLoad(t *testing.T) {
	const (
		creds, projects, lookups = 10, 5, 10000
		ttl                      = 30 * time.Second
	)
	run := func(t *testing.T, p Provider) (*Cache, time.Duration) {
		c, clk := newTestCache(p, ttl, 1000)
		rng := rand.New(rand.NewPCG(1, 2))
		step := 2 * ttl / lookups
		start := time.Now()
		for range lookups {
			cr := rng.IntN(creds)
			pr := rng.IntN(projects)
			if _, err := c.Project(ctx, tok(fmt.Sprintf("user-%d-token", cr)), fmt.Sprintf("load/p%d", pr)); err != nil {
				t.Fatal(err)
			}
			clk.advance(step)
		}
		return c, time.Since(start)
	}

	t.Run("fake", func(t *testing.T) {
		f := newFake()
		c, took := run(t, f)
		total, perKeyMax := 0, 0
		for k, n := range f.calls {
			if strings.HasPrefix(k, "project ") {
				total += n
				perKeyMax = max(perKeyMax, n)
			}
		}
		keys := creds * projects
		t.Logf("fake provider: %d lookups, %d keys, %d provider calls (%.2f per key, max %d), hits %d, took %v",
			lookups, keys, total, float64(total)/float64(keys), perKeyMax, c.Stats().Hits, took)
		if total > 3*keys || perKeyMax > 3 {
			t.Errorf("provider calls = %d (max %d per key), want about %d (2 per key)", total, perKeyMax, 2*keys)
		}
	})

	t.Run("gitlab", func(t *testing.T) {
		gl := gitlabtest.New()
		defer gl.Close()
		var tokens []string
		for i := range creds {
			name := fmt.Sprintf("user%d", i)
			gl.AddUser(gitlabtest.User{Username: name})
			tokens = append(tokens, gl.NewToken(name))
		}
		gl.AddGroup("load", "private")
		for i := range projects {
			gl.AddProject(gitlabtest.Project{Path: fmt.Sprintf("load/p%d", i)})
		}
		for i := range creds {
			gl.AddGroupMember("load", fmt.Sprintf("user%d", i), gitlabtest.Reporter)
		}
		// Route the test's credential names to the real tokens.
		g, err := NewGitLab(gl.URL, nil, GitLabOptions{})
		if err != nil {
			t.Fatal(err)
		}
		p := &renameTokens{Provider: g, g: g, tokens: tokens}
		c, took := run(t, p)
		user, proj, member := gl.Calls(gitlabtest.EndpointUser), gl.Calls(gitlabtest.EndpointProject), gl.Calls(gitlabtest.EndpointMember)
		keys := creds * projects
		t.Logf("GitLab double: %d lookups, %d (credential, project) keys; HTTP calls: GET /user %d (%.1f per credential), "+
			"GET /projects/:id %d (%.2f per key), members/all %d; cache %+v; took %v",
			lookups, keys, user, float64(user)/creds, proj, float64(proj)/float64(keys), member, c.Stats(), took)
		if proj > 3*keys || member > 3*keys || user > 3*creds {
			t.Errorf("too many GitLab calls: user %d, project %d, member %d", user, proj, member)
		}
	})
}

// renameTokens maps "user-<i>-token" credentials to the double's tokens, and
// keeps GitLab's resolver so the cache passes identities through.
type renameTokens struct {
	Provider
	g      *GitLab
	tokens []string
}

func (r *renameTokens) real(c Credential) Credential {
	var i int
	fmt.Sscanf(c.Secret, "user-%d-token", &i)
	return Credential{Kind: c.Kind, Secret: r.tokens[i]}
}

func (r *renameTokens) Authenticate(ctx context.Context, c Credential) (Principal, error) {
	return r.g.Authenticate(ctx, r.real(c))
}

func (r *renameTokens) projectAs(ctx context.Context, c Credential, who Principal, path string) (Grant, error) {
	return r.g.projectAs(ctx, r.real(c), who, path)
}

func (r *renameTokens) projectsAs(ctx context.Context, c Credential, who Principal) ([]Grant, error) {
	return r.g.projectsAs(ctx, r.real(c), who)
}

// BenchmarkCacheHit measures a cached Project lookup under parallel load.
func BenchmarkCacheHit(b *testing.B) {
	c := NewCache(newFake(), time.Hour, 1000)
	creds := make([]Credential, 10)
	for i := range creds {
		creds[i] = tok(fmt.Sprintf("user-%d-token", i))
		for p := range 5 {
			c.Project(ctx, creds[i], fmt.Sprintf("load/p%d", p))
		}
	}
	paths := []string{"load/p0", "load/p1", "load/p2", "load/p3", "load/p4"}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, err := c.Project(ctx, creds[i%10], paths[i%5]); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.ReportMetric(float64(c.Stats().ProviderCalls), "provider-calls")
}
