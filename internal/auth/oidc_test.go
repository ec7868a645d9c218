package auth

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/csgroup-oss/mlflow-sharinghub-go/internal/auth/oidctest"
)

var ada = oidctest.User{Subject: "42", Username: "ada", Name: "Ada Lovelace", Email: "ada@example.com"}

// clock is a settable time source shared by the server's parts.
type clock struct {
	mu  sync.Mutex
	off time.Duration
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.off)
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.off += d
}

// env is our server behind a reverse proxy that serves it at /mlflow (as
// SharingHub deployments do), signing in against the OIDC double.
type env struct {
	idp      *oidctest.Provider
	sessions *Sessions
	oidc     *OIDC
	pages    *Pages
	clock    *clock
	base     string // external URL of our server: http://127.0.0.1:port/mlflow
}

type envConfig struct {
	clientSecret string // what our server believes; the provider's is "s3cret"
}

func newEnv(t *testing.T, cfg envConfig) *env {
	t.Helper()
	var proxy http.Handler
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { proxy.ServeHTTP(w, r) }))
	t.Cleanup(front.Close)
	e := &env{base: front.URL + "/mlflow", clock: &clock{}}

	e.idp = oidctest.Start(t, oidctest.Config{
		ClientID:     "mlflow-app",
		ClientSecret: "s3cret",
		User:         ada,
		RedirectURIs: []string{e.base + "/auth/authorize"},
	})
	var err error
	e.sessions, err = NewSessions(testKey, time.Hour, "")
	if err != nil {
		t.Fatal(err)
	}
	e.sessions.now = e.clock.Now
	secret := cfg.clientSecret
	if secret == "" {
		secret = "s3cret"
	}
	e.oidc, err = NewOIDC(context.Background(), OIDCConfig{
		Issuer:       e.idp.URL + "/", // a trailing slash in GITLAB_URL is fine
		ClientID:     "mlflow-app",
		ClientSecret: secret,
		Sessions:     e.sessions,
		HTTPClient:   e.idp.Client(),
		Logger:       slog.New(slog.NewTextHandler(t.Output(), nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	e.oidc.now = e.clock.Now
	e.pages = &Pages{Sessions: e.sessions, OIDC: e.oidc}

	mux := http.NewServeMux()
	for _, rt := range e.pages.Routes() {
		mux.HandleFunc(rt.Pattern, rt.Handler)
	}
	// Everything else stands for the tracking server: it answers with the
	// credential it sees, or asks for one.
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		c, err := FromRequest(r, e.sessions, e.pages.Options)
		if err != nil || c.Kind == Anonymous {
			e.pages.Unauthenticated(w, r, err)
			return
		}
		fmt.Fprintf(w, "%s:%s", c.Kind, c.Secret)
	})
	app := httptest.NewServer(e.oidc.RefreshSession(mux))
	t.Cleanup(app.Close)
	target, _ := url.Parse(app.URL)
	proxy = &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
		pr.SetURL(target)
		pr.Out.URL.Path = strings.TrimPrefix(pr.In.URL.Path, "/mlflow")
		pr.Out.URL.RawPath = ""
		pr.SetXForwarded()
		pr.Out.Header.Set("X-Forwarded-Prefix", "/mlflow")
	}}
	return e
}

// browser returns a client with a cookie jar; follow says whether it
// follows redirects.
func (e *env) browser(t *testing.T, follow bool) (*http.Client, http.CookieJar) {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	c := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	if !follow {
		c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	}
	return c, jar
}

func get(t *testing.T, c *http.Client, u string, header ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest("GET", u, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", browserAccept)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

func sessionCookie(jar http.CookieJar, base string) *http.Cookie {
	u, _ := url.Parse(base + "/")
	for _, c := range jar.Cookies(u) {
		if c.Name == DefaultSessionCookie {
			return c
		}
	}
	return nil
}

func TestLoginFlow(t *testing.T) {
	e := newEnv(t, envConfig{})
	c, jar := e.browser(t, true)

	// Not signed in: the login page, with a link that comes back here.
	res, body := get(t, c, e.base+"/g/p/tracking/")
	if res.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "Sign in with GitLab") ||
		!strings.Contains(body, "/mlflow/auth/login?next="+url.QueryEscape("/mlflow/g/p/tracking/")) {
		t.Fatalf("before sign-in: %d\n%s", res.StatusCode, body)
	}

	// login → GitLab authorize (auto-approved) → callback → next.
	res, body = get(t, c, e.base+"/auth/login?next="+url.QueryEscape("/mlflow/g/p/tracking/#/experiments"))
	if res.StatusCode != http.StatusOK || res.Request.URL.String() != e.base+"/g/p/tracking/#/experiments" {
		t.Fatalf("after sign-in: %d at %s\n%s", res.StatusCode, res.Request.URL, body)
	}
	tok, ok := strings.CutPrefix(body, "token:")
	if !ok {
		t.Fatalf("the server sees %q, want a token", body)
	}
	if iss, ok := e.idp.AccessToken(tok); !ok || iss.User != ada {
		t.Fatalf("the session carries %q, not the access token GitLab issued to ada", tok)
	}
	sc := sessionCookie(jar, e.base)
	if sc == nil {
		t.Fatal("no session cookie")
	}
	if strings.Contains(sc.Value, tok) {
		t.Fatal("the session cookie shows the token in clear")
	}
	if ck := flowCookieIn(jar, e.base); ck != nil {
		t.Errorf("the login state cookie outlived the callback: %v", ck)
	}

	// The session works for API calls from the same browser too.
	res, body = get(t, c, e.base+"/g/p/tracking/ajax-api/2.0/mlflow/experiments/search")
	if res.StatusCode != http.StatusOK || body != "token:"+tok {
		t.Errorf("ajax call: %d %q", res.StatusCode, body)
	}

	// /auth/ shows who we are.
	res, body = get(t, c, e.base+"/auth/")
	if res.StatusCode != http.StatusOK || !strings.Contains(body, "Ada Lovelace") || !strings.Contains(body, "@ada") ||
		!strings.Contains(body, `href="/mlflow/auth/logout"`) || strings.Contains(body, "Sign in with") {
		t.Errorf("/auth/: %d\n%s", res.StatusCode, body)
	}
	res, body = get(t, c, e.base+"/auth")
	if res.StatusCode != http.StatusOK || !strings.Contains(body, "Ada Lovelace") {
		t.Errorf("/auth: %d\n%s", res.StatusCode, body)
	}

	// Logout clears the session and lands on the sign-in page.
	res, body = get(t, c, e.base+"/auth/logout")
	if res.Request.URL.String() != e.base+"/auth/" || !strings.Contains(body, "Sign in with GitLab") {
		t.Errorf("after logout: at %s\n%s", res.Request.URL, body)
	}
	if sessionCookie(jar, e.base) != nil {
		t.Error("session cookie still there after logout")
	}
	if res, _ := get(t, c, e.base+"/g/p/tracking/"); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("after logout: %d, want 401", res.StatusCode)
	}
}

func flowCookieIn(jar http.CookieJar, base string) *http.Cookie {
	u, _ := url.Parse(base + "/auth/authorize")
	for _, c := range jar.Cookies(u) {
		if c.Name == DefaultSessionCookie+"-login" {
			return c
		}
	}
	return nil
}

func TestLoginRedirectURIAndPKCE(t *testing.T) {
	e := newEnv(t, envConfig{})
	c, _ := e.browser(t, false)
	res, _ := get(t, c, e.base+"/auth/login")
	if res.StatusCode != http.StatusFound {
		t.Fatalf("login: %d", res.StatusCode)
	}
	loc, err := url.Parse(res.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	q := loc.Query()
	if got := loc.Scheme + "://" + loc.Host + loc.Path; got != e.idp.URL+"/oauth/authorize" {
		t.Errorf("authorize endpoint %s", got)
	}
	for k, want := range map[string]string{
		"response_type":         "code",
		"client_id":             "mlflow-app",
		"redirect_uri":          e.base + "/auth/authorize",
		"scope":                 "openid email read_user profile api",
		"code_challenge_method": "S256",
	} {
		if q.Get(k) != want {
			t.Errorf("%s = %q, want %q", k, q.Get(k), want)
		}
	}
	for _, k := range []string{"state", "nonce", "code_challenge"} {
		if len(q.Get(k)) < 43 {
			t.Errorf("%s = %q: want at least 256 bits", k, q.Get(k))
		}
	}
	if q.Get("state") == q.Get("nonce") {
		t.Error("state and nonce are the same value")
	}
	if cc := res.Header.Get("Cache-Control"); !strings.Contains(cc, "no-store") {
		t.Errorf("Cache-Control %q", cc)
	}
}

func TestCallbackRejects(t *testing.T) {
	otherChallenge := func() string {
		s := sha256.Sum256([]byte(strings.Repeat("x", 64)))
		return base64.RawURLEncoding.EncodeToString(s[:])
	}()
	tests := []struct {
		name       string
		setup      func(e *env)
		authorize  func(q url.Values) // changes the authorization request
		callback   func(q url.Values) // changes GitLab's redirect back
		freshJar   bool               // the callback arrives in another browser
		wantStatus int
		wantIdPErr string // what the token endpoint must have refused with
	}{
		{name: "control: untouched flow signs in", wantStatus: http.StatusSeeOther},
		{name: "bad state", callback: func(q url.Values) { q.Set("state", q.Get("state")+"x") }, wantStatus: http.StatusBadRequest},
		{name: "no state", callback: func(q url.Values) { q.Del("state") }, wantStatus: http.StatusBadRequest},
		{name: "no code", callback: func(q url.Values) { q.Del("code") }, wantStatus: http.StatusBadRequest},
		{name: "forged code", callback: func(q url.Values) { q.Set("code", "forged") }, wantStatus: http.StatusUnauthorized,
			wantIdPErr: "invalid_grant: unknown, used or expired code"},
		{name: "other browser (no login state cookie)", freshJar: true, wantStatus: http.StatusBadRequest},
		{name: "bad PKCE: challenge swapped in the authorization request",
			authorize: func(q url.Values) { q.Set("code_challenge", otherChallenge) }, wantStatus: http.StatusUnauthorized,
			wantIdPErr: "invalid_grant: PKCE verification failed"},
		{name: "GitLab says access_denied", callback: func(q url.Values) {
			q.Del("code")
			q.Set("error", "access_denied")
		}, wantStatus: http.StatusUnauthorized},
		{name: "wrong nonce", setup: func(e *env) {
			e.idp.MutateIDToken(func(c map[string]any) { c["nonce"] = "not-the-nonce" })
		}, wantStatus: http.StatusUnauthorized},
		{name: "no nonce", setup: func(e *env) {
			e.idp.MutateIDToken(func(c map[string]any) { delete(c, "nonce") })
		}, wantStatus: http.StatusUnauthorized},
		{name: "wrong issuer", setup: func(e *env) {
			e.idp.MutateIDToken(func(c map[string]any) { c["iss"] = "https://gitlab.evil.example" })
		}, wantStatus: http.StatusUnauthorized},
		{name: "wrong audience", setup: func(e *env) {
			e.idp.MutateIDToken(func(c map[string]any) { c["aud"] = "another-app" })
		}, wantStatus: http.StatusUnauthorized},
		{name: "expired ID token", setup: func(e *env) {
			e.idp.MutateIDToken(func(c map[string]any) { c["exp"] = time.Now().Add(-time.Hour).Unix() })
		}, wantStatus: http.StatusUnauthorized},
		{name: "signed by an unknown key", setup: func(e *env) { e.idp.SignWithUnknownKey(true) }, wantStatus: http.StatusUnauthorized},
		{name: "at_hash of another access token", setup: func(e *env) {
			e.idp.MutateIDToken(func(c map[string]any) { c["at_hash"] = "AAAAAAAAAAAAAAAAAAAAAA" })
		}, wantStatus: http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, envConfig{})
			if tt.setup != nil {
				tt.setup(e)
			}
			c, jar := e.browser(t, false)
			res, _ := get(t, c, e.base+"/auth/login?next=/mlflow/g/p/tracking/")
			authURL, _ := url.Parse(res.Header.Get("Location"))
			if tt.authorize != nil {
				q := authURL.Query()
				tt.authorize(q)
				authURL.RawQuery = q.Encode()
			}
			res, body := get(t, c, authURL.String())
			if res.StatusCode != http.StatusFound {
				t.Fatalf("authorize: %d %s", res.StatusCode, body)
			}
			cbURL, _ := url.Parse(res.Header.Get("Location"))
			if tt.callback != nil {
				q := cbURL.Query()
				tt.callback(q)
				cbURL.RawQuery = q.Encode()
			}
			cb, cbJar := c, jar
			if tt.freshJar {
				cb, cbJar = e.browser(t, false)
			}
			res, body = get(t, cb, cbURL.String())
			if res.StatusCode != tt.wantStatus {
				t.Fatalf("callback: %d, want %d\n%s", res.StatusCode, tt.wantStatus, body)
			}
			if errs := e.idp.TokenErrors(); tt.wantIdPErr != "" && !slices.Equal(errs, []string{tt.wantIdPErr}) ||
				tt.wantIdPErr == "" && len(errs) > 0 {
				t.Errorf("token endpoint errors %q, want [%s]", errs, tt.wantIdPErr)
			}
			if tt.wantStatus == http.StatusSeeOther {
				if loc := res.Header.Get("Location"); loc != "/mlflow/g/p/tracking/" {
					t.Errorf("redirect to %q", loc)
				}
				if sessionCookie(cbJar, e.base) == nil {
					t.Error("no session after a good flow")
				}
				// The same callback again is refused: the login state is one use.
				res, _ = get(t, cb, cbURL.String())
				if res.StatusCode != http.StatusBadRequest {
					t.Errorf("replayed callback: %d, want 400", res.StatusCode)
				}
				return
			}
			if sessionCookie(cbJar, e.base) != nil {
				t.Error("a session cookie was set by a rejected sign-in")
			}
			if !strings.Contains(body, "Sign-in failed") || !strings.Contains(body, `href="/mlflow/auth/login"`) {
				t.Errorf("error page:\n%s", body)
			}
			if res, _ := get(t, cb, e.base+"/g/p/tracking/"); res.StatusCode != http.StatusUnauthorized {
				t.Errorf("after a rejected sign-in the server answers %d, want 401", res.StatusCode)
			}
		})
	}
}

func TestCallbackWrongClientSecret(t *testing.T) {
	e := newEnv(t, envConfig{clientSecret: "wrong"})
	c, jar := e.browser(t, true)
	res, body := get(t, c, e.base+"/auth/login")
	if res.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "GitLab refused") || sessionCookie(jar, e.base) != nil {
		t.Fatalf("%d\n%s", res.StatusCode, body)
	}
	if errs := e.idp.TokenErrors(); !slices.Equal(errs, []string{"invalid_client: client authentication failed"}) {
		t.Errorf("token endpoint errors %q", errs)
	}
}

func TestLoginOpenRedirect(t *testing.T) {
	e := newEnv(t, envConfig{})
	for _, next := range []string{"//evil.example/x", "https://evil.example/", `/\evil.example`, "/other-app/", "/mlflow/../x", "/\t/evil.example"} {
		t.Run(next, func(t *testing.T) {
			c, _ := e.browser(t, true)
			res, _ := get(t, c, e.base+"/auth/login?next="+url.QueryEscape(next))
			if got := res.Request.URL.String(); got != e.base+"/" {
				t.Errorf("landed at %s, want %s/", got, e.base)
			}
		})
	}
}

func TestNewOIDCRejectsIssuerMismatch(t *testing.T) {
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"issuer":"https://other.example","authorization_endpoint":"%[1]s/a","token_endpoint":"%[1]s/t","jwks_uri":"%[1]s/k"}`, srv.URL)
	}))
	defer srv.Close()
	s := mustSessions(t)
	_, err := NewOIDC(context.Background(), OIDCConfig{Issuer: srv.URL, ClientID: "c", ClientSecret: "s", Sessions: s})
	if err == nil || !strings.Contains(err.Error(), "issuer") {
		t.Fatalf("err = %v, want an issuer mismatch", err)
	}
	_, err = NewOIDC(context.Background(), OIDCConfig{Issuer: srv.URL, ClientID: "c"})
	if err == nil || !strings.Contains(err.Error(), "GITLAB_OAUTH_CLIENT_SECRET") || !strings.Contains(err.Error(), "SECRET_KEY") {
		t.Fatalf("err = %v", err)
	}
	_, err = NewOIDC(context.Background(), OIDCConfig{Issuer: "http://127.0.0.1:1", ClientID: "c", ClientSecret: "s", Sessions: s})
	if err == nil || !strings.Contains(err.Error(), "openid-configuration") {
		t.Fatalf("unreachable issuer: err = %v", err)
	}
}

func TestRefreshSession(t *testing.T) {
	e := newEnv(t, envConfig{})
	// GitLab tokens that expire within the refresh margin.
	e.idp.SetAccessTokenTTL(time.Minute)
	c, jar := e.browser(t, true)
	res, body := get(t, c, e.base+"/auth/login?next=/mlflow/x")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("sign-in: %d %s", res.StatusCode, body)
	}
	first, _ := strings.CutPrefix(body, "token:")
	old := sessionCookie(jar, e.base)
	e.idp.SetAccessTokenTTL(2 * time.Hour)
	calls := e.idp.TokenRequests()

	// Many concurrent requests with the old cookie share one refresh.
	plain := &http.Client{Timeout: 10 * time.Second}
	const n = 8
	got := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			req, _ := http.NewRequest("GET", e.base+"/g/p/tracking/", nil)
			req.AddCookie(old)
			res, err := plain.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			defer res.Body.Close()
			b, _ := io.ReadAll(res.Body)
			got[i] = string(b)
			if len(res.Cookies()) == 0 {
				t.Errorf("request %d: no refreshed session cookie", i)
			}
		})
	}
	wg.Wait()
	if d := e.idp.TokenRequests() - calls; d != 1 {
		t.Errorf("%d refreshes for %d concurrent requests, want 1", d, n)
	}
	fresh, _ := strings.CutPrefix(got[0], "token:")
	for i, g := range got {
		if g != got[0] {
			t.Errorf("request %d saw %q, request 0 %q", i, g, got[0])
		}
	}
	if fresh == first || fresh == "" {
		t.Fatalf("token not refreshed: %q", fresh)
	}
	if iss, ok := e.idp.AccessToken(fresh); !ok || iss.User != ada {
		t.Fatalf("refreshed token %q unknown to GitLab", fresh)
	}

	// The new cookie needs no refresh.
	res, body = get(t, c, e.base+"/g/p/tracking/")
	if body != "token:"+fresh || e.idp.TokenRequests()-calls != 1 {
		t.Errorf("after refresh: %q, %d token requests", body, e.idp.TokenRequests()-calls)
	}

	// Later, the old cookie's refresh token is spent and its access token
	// expired: the request goes on signed out; it does not fail.
	e.clock.Advance(5 * time.Minute)
	req, _ := http.NewRequest("GET", e.base+"/g/p/tracking/", nil)
	req.Header.Set("Accept", browserAccept)
	req.AddCookie(old)
	res, err := plain.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized {
		t.Errorf("old cookie after a failed refresh: %d, want 401", res.StatusCode)
	}
}

func TestPagesIndexOtherCredentials(t *testing.T) {
	p := &Pages{
		SharingHub: &SharingHubLogin{URL: "https://hub.example"},
		Options:    Options{SharingHub: true},
		WhoAmI: func(_ context.Context, c Credential) (Identity, error) {
			if c.Secret == "good" {
				return Identity{Username: "bob", Name: "Bob"}, nil
			}
			return Identity{}, fmt.Errorf("401 from SharingHub")
		},
	}
	tests := []struct {
		name   string
		header [2]string
		cookie *http.Cookie
		want   []string
	}{
		{"anonymous", [2]string{}, nil, []string{"Sign in with SharingHub"}},
		{"token", [2]string{"Authorization", "Bearer good"}, nil, []string{"Signed in with a token as <strong>Bob</strong> (@bob)"}},
		{"sharinghub cookie", [2]string{}, &http.Cookie{Name: "sharinghub-session", Value: "good"}, []string{"with SharingHub as <strong>Bob</strong>", `href="/auth/logout"`}},
		{"unknown token", [2]string{"PRIVATE-TOKEN", "bad"}, nil, []string{"were not recognised", "Sign in with SharingHub"}},
		{"malformed", [2]string{"Authorization", "Basic !"}, nil, []string{"not base64"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/auth/", nil)
			if tt.header[0] != "" {
				r.Header.Set(tt.header[0], tt.header[1])
			}
			if tt.cookie != nil {
				r.AddCookie(tt.cookie)
			}
			rec := httptest.NewRecorder()
			p.Index(rec, r)
			for _, w := range tt.want {
				if !strings.Contains(rec.Body.String(), w) {
					t.Errorf("page lacks %q:\n%s", w, rec.Body.String())
				}
			}
		})
	}
}

func TestSharingHubLogin(t *testing.T) {
	p := &Pages{SharingHub: &SharingHubLogin{URL: "https://hub.example/"}}
	for _, tt := range []struct{ next, want string }{
		{"/mlflow/g/p/tracking/", "https://mlflow.example/mlflow/g/p/tracking/"},
		{"//evil.example", "https://mlflow.example/mlflow/"},
		{"", "https://mlflow.example/mlflow/"},
	} {
		r := httptest.NewRequest("GET", "/auth/login?next="+url.QueryEscape(tt.next), nil)
		r.Header.Set("X-Forwarded-Proto", "https")
		r.Header.Set("X-Forwarded-Host", "mlflow.example")
		r.Header.Set("X-Forwarded-Prefix", "/mlflow")
		rec := httptest.NewRecorder()
		p.Login(rec, r)
		want := "https://hub.example/api/auth/login?redirect_uri=" + url.QueryEscape(tt.want)
		if rec.Code != http.StatusFound || rec.Header().Get("Location") != want {
			t.Errorf("next %q: %d %q, want %q", tt.next, rec.Code, rec.Header().Get("Location"), want)
		}
	}
	rec := httptest.NewRecorder()
	p.Logout(rec, httptest.NewRequest("GET", "/auth/logout", nil))
	if rec.Header().Get("Location") != "https://hub.example/api/auth/logout" {
		t.Errorf("logout to %q", rec.Header().Get("Location"))
	}
	// The callback is GitLab mode's only.
	rec = httptest.NewRecorder()
	p.Callback(rec, httptest.NewRequest("GET", "/auth/authorize?code=x", nil))
	if rec.Code != http.StatusNotFound {
		t.Errorf("callback in SharingHub mode: %d", rec.Code)
	}
}

func TestPagesWithoutBrowserSignIn(t *testing.T) {
	p := &Pages{TokenHelp: "Use a token from the projects file."}
	for _, path := range []string{"/auth/login", "/auth/authorize"} {
		rec := httptest.NewRecorder()
		r := httptest.NewRequest("GET", path, nil)
		if path == "/auth/login" {
			p.Login(rec, r)
		} else {
			p.Callback(rec, r)
		}
		if rec.Code != http.StatusNotFound || !strings.Contains(rec.Body.String(), "projects file") {
			t.Errorf("%s: %d\n%s", path, rec.Code, rec.Body.String())
		}
	}
	rec := httptest.NewRecorder()
	p.Logout(rec, httptest.NewRequest("GET", "/auth/logout", nil))
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/auth/" {
		t.Errorf("logout: %d %q", rec.Code, rec.Header().Get("Location"))
	}
}
