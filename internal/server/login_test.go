package server

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/csgroup-oss/mlflow-sharinghub-go/internal/auth"
	"github.com/csgroup-oss/mlflow-sharinghub-go/internal/gitlabtest"
)

// The browser sign-in end to end: our server in GitLab mode with GitLab
// OpenID Connect configured, against the OIDC endpoints of the GitLab
// double (the issuer is the GitLab URL, as in production), the session
// then used by the browser for the web UI's ajax-api calls with the user's
// GitLab role.

const browserAccept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"

// browser is a web browser: a cookie jar, no automatic redirects.
type browser struct {
	t      *testing.T
	client *http.Client
	jar    http.CookieJar
	header http.Header // sent with every request (proxy headers)
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &browser{t: t, jar: jar, header: http.Header{}, client: &http.Client{
		Jar: jar, Timeout: 20 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// signedInToGitLab gives the browser a GitLab session of username.
func (b *browser) signedInToGitLab(w *world, username string) {
	u, _ := url.Parse(w.gl.URL)
	b.jar.SetCookies(u, []*http.Cookie{w.glOIDC.SessionCookie(username)})
}

// get loads a page (accept: HTML) or, with accept set, an API resource.
func (b *browser) get(rawURL string, accept ...string) (*http.Response, string) {
	b.t.Helper()
	return b.send("GET", rawURL, "", accept...)
}

func (b *browser) send(method, rawURL, jsonBody string, accept ...string) (*http.Response, string) {
	b.t.Helper()
	var body io.Reader
	if jsonBody != "" {
		body = strings.NewReader(jsonBody)
	}
	req, err := http.NewRequest(method, rawURL, body)
	if err != nil {
		b.t.Fatal(err)
	}
	for k, v := range b.header {
		req.Header[k] = v
	}
	req.Header.Set("Accept", browserAccept)
	if len(accept) > 0 {
		req.Header.Set("Accept", accept[0])
	}
	if jsonBody != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := b.client.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", method, rawURL, err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return res, string(raw)
}

// redirect fails unless res is a redirect, and returns its Location as
// sent (a relative reference stays relative).
func redirect(t *testing.T, what string, res *http.Response, body string) *url.URL {
	t.Helper()
	loc, err := url.Parse(res.Header.Get("Location"))
	if res.StatusCode < 300 || res.StatusCode > 399 || err != nil || loc.String() == "" {
		t.Fatalf("%s: %d (%v), want a redirect\n%s", what, res.StatusCode, err, body)
	}
	return loc
}

// signIn runs /auth/login?next=... → GitLab → /auth/authorize and returns
// where the callback sends the browser.
func (b *browser) signIn(w *world, next string) *url.URL {
	b.t.Helper()
	res, body := b.get(w.http.URL + auth.PathLogin + "?next=" + url.QueryEscape(next))
	authorize := redirect(b.t, "login", res, body)
	res, body = b.get(authorize.String())
	callback := redirect(b.t, "GitLab authorize", res, body)
	res, body = b.get(callback.String())
	return redirect(b.t, "callback", res, body)
}

func newLoginWorld(t *testing.T, opts worldOptions) (*world, gitlabtest.Project, gitlabtest.Project) {
	t.Helper()
	opts.oidc = true
	w := newWorld(t, opts)
	a, b := w.project("grp/sub/alpha"), w.project("other/beta")
	w.user("ada")
	w.gl.AddProjectMember(a.Path, "ada", gitlabtest.Developer)
	w.user("rex")
	w.gl.AddProjectMember(a.Path, "rex", gitlabtest.Reporter)
	w.user("bob")
	w.gl.AddProjectMember(b.Path, "bob", gitlabtest.Owner)
	w.mustAPI(w.tokens["ada"], "POST", trackingURI(a), "/experiments/create", obj{"name": "alpha-first"})
	w.mustAPI(w.tokens["bob"], "POST", trackingURI(b), "/experiments/create", obj{"name": "beta-secret"})
	return w, a, b
}

// TestBrowserProjectPageAsksToSignIn: a browser without a session opening
// a project's tracking URI gets the sign-in page (or, with
// LOGIN_AUTO_REDIRECT, the redirect to the sign-in), coming back there.
func TestBrowserProjectPageAsksToSignIn(t *testing.T) {
	for _, auto := range []bool{false, true} {
		name := map[bool]string{false: "login page", true: "auto redirect"}[auto]
		t.Run(name, func(t *testing.T) {
			w, a, _ := newLoginWorld(t, worldOptions{autoRedirect: auto})
			page := trackingURI(a) + "/"
			for _, prefix := range []string{"", proxyPrefix} {
				br := newBrowser(t)
				if prefix != "" {
					br.header.Set("X-Forwarded-Proto", "https")
					br.header.Set("X-Forwarded-Host", proxyHost)
					br.header.Set("X-Forwarded-Prefix", prefix)
				}
				res, body := br.get(w.http.URL + page)
				login := prefix + auth.PathLogin + "?next=" + url.QueryEscape(prefix+page)
				switch {
				case auto:
					if loc := res.Header.Get("Location"); res.StatusCode != http.StatusFound || loc != login {
						t.Errorf("GET %s%s: %d %v, want 302 to %s\n%s", prefix, page, res.StatusCode, loc, login, body)
					}
				default:
					if res.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "Sign in with GitLab") ||
						!strings.Contains(body, `href="`+login+`"`) {
						t.Errorf("GET %s%s: %d, want 401 and the sign-in page linking to %s\n%s", prefix, page, res.StatusCode, login, body)
					}
				}
			}
		})
	}
}

func TestBrowserLogin(t *testing.T) {
	w, a, b := newLoginWorld(t, worldOptions{})
	search := w.http.URL + trackingURI(a) + "/ajax-api/2.0/mlflow/experiments/search?max_results=100"
	const jsonAccept = "application/json, text/plain, */*" // what the MLflow web UI sends

	br := newBrowser(t)
	// Without a session, the web UI's API calls are refused with 401, and
	// the sign-in page offers GitLab.
	res, body := br.get(search, jsonAccept)
	if res.StatusCode != http.StatusUnauthorized || res.Header.Get("WWW-Authenticate") != `Bearer realm="mlflow"` ||
		!strings.Contains(body, "UNAUTHENTICATED") {
		t.Errorf("ajax search before sign-in: %d %s", res.StatusCode, body)
	}
	res, body = br.get(w.http.URL + "/auth/")
	if res.StatusCode != http.StatusOK || !strings.Contains(body, `href="/auth/login"`) {
		t.Errorf("/auth/ before sign-in: %d\n%s", res.StatusCode, body)
	}

	// /auth/login sends the browser to GitLab with PKCE, state and nonce
	// and our callback as redirect_uri.
	next := trackingURI(a) + "/#/experiments"
	res, body = br.get(w.http.URL + auth.PathLogin + "?next=" + url.QueryEscape(next))
	authorize := redirect(t, "login", res, body)
	q := authorize.Query()
	if got := authorize.Scheme + "://" + authorize.Host + authorize.Path; got != w.gl.URL+"/oauth/authorize" {
		t.Errorf("login redirects to %s, want GitLab's authorize endpoint", got)
	}
	if q.Get("client_id") != testClientID || q.Get("redirect_uri") != w.http.URL+auth.PathCallback ||
		q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" || q.Get("state") == "" ||
		q.Get("nonce") == "" || !strings.Contains(" "+q.Get("scope")+" ", " openid ") {
		t.Errorf("authorize request %v", q)
	}
	// GitLab asks the browser to sign in there first.
	res, body = br.get(authorize.String())
	if loc := redirect(t, "authorize, signed out of GitLab", res, body); loc.String() != w.gl.URL+"/users/sign_in" {
		t.Errorf("authorize without a GitLab session goes to %s", loc)
	}
	br.signedInToGitLab(w, "ada")
	res, body = br.get(authorize.String())
	callback := redirect(t, "authorize", res, body)
	if got := callback.Scheme + "://" + callback.Host + callback.Path; got != w.http.URL+auth.PathCallback {
		t.Fatalf("GitLab sends the browser back to %s", callback)
	}
	res, body = br.get(callback.String())
	if loc := redirect(t, "callback", res, body); loc.String() != next {
		t.Errorf("after sign-in the browser goes to %s, want %s", loc, next)
	}

	// The page it was going to now opens.
	res, body = br.get(w.http.URL + trackingURI(a) + "/")
	if res.StatusCode != http.StatusOK || !strings.Contains(body, "MLFLOW_TRACKING_URI="+w.http.URL+trackingURI(a)+"/") {
		t.Errorf("project page after sign-in: %d\n%s", res.StatusCode, body)
	}

	// The session works for the web UI's calls, with ada's GitLab role.
	res, body = br.get(search, jsonAccept)
	if res.StatusCode != http.StatusOK || !strings.Contains(body, "alpha-first") || strings.Contains(body, "beta-secret") {
		t.Errorf("ajax search after sign-in: %d %s", res.StatusCode, body)
	}
	res, body = br.send("POST", w.http.URL+trackingURI(a)+"/ajax-api/2.0/mlflow/experiments/create", `{"name":"from-the-browser"}`, jsonAccept)
	if res.StatusCode != http.StatusOK {
		t.Errorf("ajax create as a Developer: %d %s", res.StatusCode, body)
	}
	res, body = br.get(w.http.URL+trackingURI(b)+"/ajax-api/2.0/mlflow/experiments/search", jsonAccept)
	if res.StatusCode != http.StatusNotFound || strings.Contains(body, "beta-secret") {
		t.Errorf("ajax search of another project: %d %s", res.StatusCode, body)
	}
	res, body = br.get(w.http.URL+"/ajax-api/2.0/mlflow/experiments/search", jsonAccept)
	if res.StatusCode != http.StatusOK || !strings.Contains(body, "from-the-browser") || strings.Contains(body, "beta-secret") {
		t.Errorf("ajax global search: %d %s", res.StatusCode, body)
	}

	// /auth/ shows who is signed in.
	res, body = br.get(w.http.URL + "/auth/")
	if res.StatusCode != http.StatusOK || !strings.Contains(body, "User ada") || !strings.Contains(body, "@ada") ||
		!strings.Contains(body, `href="/auth/logout"`) {
		t.Errorf("/auth/ after sign-in: %d\n%s", res.StatusCode, body)
	}

	// A Reporter signed in the same way reads but cannot write.
	rex := newBrowser(t)
	rex.signedInToGitLab(w, "rex")
	if loc := rex.signIn(w, trackingURI(a)+"/"); loc.String() != trackingURI(a)+"/" {
		t.Errorf("rex lands on %s", loc)
	}
	res, body = rex.get(search, jsonAccept)
	if res.StatusCode != http.StatusOK || !strings.Contains(body, "from-the-browser") {
		t.Errorf("ajax search as a Reporter: %d %s", res.StatusCode, body)
	}
	res, body = rex.send("POST", w.http.URL+trackingURI(a)+"/ajax-api/2.0/mlflow/experiments/create", `{"name":"rex"}`, jsonAccept)
	if res.StatusCode != http.StatusForbidden || !strings.Contains(body, "PERMISSION_DENIED") {
		t.Errorf("ajax create as a Reporter: %d %s", res.StatusCode, body)
	}

	// Sign-out clears the session: the same browser is anonymous again.
	res, body = br.get(w.http.URL + auth.PathLogout)
	if loc := redirect(t, "logout", res, body); loc.String() != "/auth/" {
		t.Errorf("logout goes to %s", loc)
	}
	u, _ := url.Parse(w.http.URL)
	for _, c := range br.jar.Cookies(u) {
		if c.Name == auth.DefaultSessionCookie {
			t.Errorf("session cookie still set after logout")
		}
	}
	res, body = br.get(search, jsonAccept)
	if res.StatusCode != http.StatusUnauthorized {
		t.Errorf("ajax search after logout: %d %s", res.StatusCode, body)
	}
	res, body = br.get(w.http.URL + "/auth/")
	if strings.Contains(body, "User ada") || !strings.Contains(body, "Sign in with GitLab") {
		t.Errorf("/auth/ after logout: %d\n%s", res.StatusCode, body)
	}
	// rex's session is his own and still works.
	if res, body := rex.get(search, jsonAccept); res.StatusCode != http.StatusOK {
		t.Errorf("rex after ada's logout: %d %s", res.StatusCode, body)
	}
	if n := w.gl.Calls(gitlabtest.EndpointOIDCToken); n != 2 {
		t.Errorf("token endpoint called %d times for two sign-ins", n)
	}
}

// proxyBrowser is a browser reaching the server through a reverse proxy
// at https://mlflow.example.com/mlflow: requests go to the server with
// the proxy's headers and without the prefix; cookies are kept by hand
// (they are Secure and scoped to the external path).
type proxyBrowser struct {
	*browser
	w       *world
	cookies map[string]*http.Cookie
}

const (
	proxyHost   = "mlflow.example.com"
	proxyPrefix = "/mlflow"
	proxyBase   = "https://" + proxyHost + proxyPrefix
)

func newProxyBrowser(t *testing.T, w *world) *proxyBrowser {
	b := newBrowser(t)
	b.header.Set("X-Forwarded-Proto", "https")
	b.header.Set("X-Forwarded-Host", proxyHost)
	b.header.Set("X-Forwarded-Prefix", proxyPrefix)
	b.header.Set("X-Forwarded-For", "203.0.113.9")
	b.client.Jar = nil
	return &proxyBrowser{browser: b, w: w, cookies: map[string]*http.Cookie{}}
}

// get requests the external path (under /mlflow) through the proxy.
func (p *proxyBrowser) get(externalPath string, accept ...string) (*http.Response, string) {
	p.t.Helper()
	path, ok := strings.CutPrefix(externalPath, proxyPrefix)
	if !ok {
		p.t.Fatalf("%s is not under %s", externalPath, proxyPrefix)
	}
	var pairs []string
	for _, c := range p.cookies {
		if c.Path == "" || strings.HasPrefix(externalPath, c.Path) {
			pairs = append(pairs, c.Name+"="+c.Value)
		}
	}
	p.header.Del("Cookie")
	if len(pairs) > 0 {
		p.header.Set("Cookie", strings.Join(pairs, "; "))
	}
	res, body := p.browser.get(p.w.http.URL+path, accept...)
	for _, c := range res.Cookies() {
		if !c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode {
			p.t.Errorf("cookie %s set without Secure, HttpOnly or SameSite=Lax behind an HTTPS proxy: %s", c.Name, c)
		}
		if c.MaxAge < 0 {
			delete(p.cookies, c.Name)
		} else {
			p.cookies[c.Name] = c
		}
	}
	return res, body
}

func TestBrowserLoginBehindProxy(t *testing.T) {
	w, a, _ := newLoginWorld(t, worldOptions{redirectURIs: []string{proxyBase + auth.PathCallback}})
	br := newProxyBrowser(t, w)
	glBrowser := newBrowser(t)
	glBrowser.signedInToGitLab(w, "ada")

	// X-Script-Name, which the Python plugin read, works as the prefix too.
	legacy := newBrowser(t)
	legacy.header.Set("X-Forwarded-Proto", "https")
	legacy.header.Set("X-Forwarded-Host", proxyHost)
	legacy.header.Set("X-Script-Name", proxyPrefix)
	res, body := legacy.get(w.http.URL + auth.PathLogin)
	if got := redirect(t, "login with X-Script-Name", res, body).Query().Get("redirect_uri"); got != proxyBase+auth.PathCallback {
		t.Errorf("redirect_uri with X-Script-Name: %q, want %q", got, proxyBase+auth.PathCallback)
	}

	res, body = br.get(proxyPrefix + "/auth/")
	if !strings.Contains(body, `href="`+proxyPrefix+`/auth/login"`) ||
		!strings.Contains(body, proxyBase+"/&lt;project path&gt;/tracking/") {
		t.Errorf("/auth/ behind the proxy: %d\n%s", res.StatusCode, body)
	}

	signIn := func(next string) string {
		t.Helper()
		res, body := br.get(proxyPrefix + auth.PathLogin + "?next=" + url.QueryEscape(next))
		authorize := redirect(t, "login", res, body)
		if got := authorize.Query().Get("redirect_uri"); got != proxyBase+auth.PathCallback {
			t.Fatalf("redirect_uri %q, want the external callback %q", got, proxyBase+auth.PathCallback)
		}
		if c := br.cookies[auth.DefaultSessionCookie+"-login"]; c == nil || c.Path != proxyPrefix+"/auth" {
			t.Errorf("login state cookie %v, want one scoped to %s/auth", c, proxyPrefix)
		}
		res, body = glBrowser.get(authorize.String())
		callback := redirect(t, "GitLab authorize", res, body)
		if got := callback.Scheme + "://" + callback.Host + callback.Path; got != proxyBase+auth.PathCallback {
			t.Fatalf("GitLab sends the browser to %s", got)
		}
		res, body = br.get(callback.Path + "?" + callback.RawQuery)
		return redirect(t, "callback", res, body).String()
	}

	next := proxyPrefix + trackingURI(a) + "/"
	if got := signIn(next); got != next {
		t.Errorf("after sign-in behind the proxy the browser goes to %s, want %s", got, next)
	}
	if c := br.cookies[auth.DefaultSessionCookie]; c == nil || c.Path != proxyPrefix {
		t.Fatalf("session cookie %v, want one scoped to %s", c, proxyPrefix)
	}
	res, body = br.get(next)
	if res.StatusCode != http.StatusOK || !strings.Contains(body, "MLFLOW_TRACKING_URI="+proxyBase+trackingURI(a)+"/") {
		t.Errorf("project page behind the proxy: %d, want the external tracking URI\n%s", res.StatusCode, body)
	}
	res, body = br.get(proxyPrefix+trackingURI(a)+"/ajax-api/2.0/mlflow/experiments/search", "application/json")
	if res.StatusCode != http.StatusOK || !strings.Contains(body, "alpha-first") {
		t.Errorf("ajax search behind the proxy: %d %s", res.StatusCode, body)
	}
	res, body = br.get(proxyPrefix + "/auth/")
	if !strings.Contains(body, "User ada") || !strings.Contains(body, `href="`+proxyPrefix+`/auth/logout"`) {
		t.Errorf("/auth/ signed in behind the proxy: %d\n%s", res.StatusCode, body)
	}

	// The post-login redirect never leaves our site.
	for _, evil := range []string{"https://evil.example/", "//evil.example/x", "/elsewhere/not-under-prefix"} {
		if got := signIn(evil); got != proxyPrefix+"/" {
			t.Errorf("next=%s: the callback redirects to %s, want %s/", evil, got, proxyPrefix)
		}
	}

	res, body = br.get(proxyPrefix + auth.PathLogout)
	if loc := redirect(t, "logout", res, body); loc.String() != proxyPrefix+"/auth/" {
		t.Errorf("logout behind the proxy goes to %s", loc)
	}
	if c := br.cookies[auth.DefaultSessionCookie]; c != nil {
		t.Errorf("session cookie kept after logout: %v", c)
	}
	res, _ = br.get(proxyPrefix+trackingURI(a)+"/ajax-api/2.0/mlflow/experiments/search", "application/json")
	if res.StatusCode != http.StatusUnauthorized {
		t.Errorf("ajax search after logout behind the proxy: %d", res.StatusCode)
	}
}
