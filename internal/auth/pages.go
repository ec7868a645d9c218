package auth

import (
	"bytes"
	"context"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
)

// Identity is who a credential belongs to, as shown on the sign-in page.
type Identity struct {
	Username string
	Name     string
}

// Pages serves the /auth/ routes in whichever sign-in mode is configured
// and answers unauthenticated requests (Unauthenticated). Set at most one
// of OIDC (GitLab mode with GITLAB_OAUTH_CLIENT_ID/SECRET) and SharingHub
// (SharingHub mode); with neither, browsers cannot sign in and the pages say
// to use an access token.
type Pages struct {
	// Sessions is the session store (nil without GitLab sign-in).
	Sessions *Sessions
	// OIDC is GitLab sign-in, or nil.
	OIDC *OIDC
	// SharingHub is SharingHub sign-in, or nil.
	SharingHub *SharingHubLogin
	// Options are FromRequest's options.
	Options Options
	// AutoRedirect is LOGIN_AUTO_REDIRECT: send browsers without
	// credentials straight to the sign-in instead of the sign-in page.
	AutoRedirect bool
	// WhoAmI, if set, names the owner of a credential that is not a
	// session of ours (a token, a SharingHub cookie) on the /auth/ page;
	// the role provider can answer it. Errors show as "not recognised".
	WhoAmI func(ctx context.Context, c Credential) (Identity, error)
	// TokenHelp replaces DefaultTokenHelp (static mode, whose tokens are
	// not GitLab's).
	TokenHelp string
	// Logger receives page failures; nil discards them.
	Logger *slog.Logger
}

// Route is one of the sign-in routes, for the server's route table. All of
// them are public: they are how a caller gets credentials.
type Route struct {
	Pattern string // a Go 1.22 http.ServeMux pattern
	Handler http.HandlerFunc
}

// Routes returns the sign-in routes: GET /auth, /auth/, /auth/login,
// /auth/authorize and /auth/logout.
func (p *Pages) Routes() []Route {
	return []Route{
		{"GET /auth", p.Index},
		{"GET /auth/{$}", p.Index},
		{"GET " + PathLogin, p.Login},
		{"GET " + PathCallback, p.Callback},
		{"GET " + PathLogout, p.Logout},
	}
}

func (p *Pages) tokenHelp() string {
	if p.TokenHelp != "" {
		return p.TokenHelp
	}
	return DefaultTokenHelp
}

func (p *Pages) loginAvailable() bool { return p.OIDC != nil || p.SharingHub != nil }

func (p *Pages) logger() *slog.Logger {
	if p.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return p.Logger
}

// Index answers GET /auth and GET /auth/: a plain page that shows who the
// caller is (the session's GitLab user, or WhoAmI's answer for other
// credentials) with a sign-out link, or a "Sign in with ..." link.
func (p *Pages) Index(w http.ResponseWriter, r *http.Request) {
	d := pageData{Next: r.URL.Query().Get("next")}
	if p.Sessions != nil {
		if s, err := p.Sessions.Load(r); err == nil && s.AccessToken != "" && !s.tokenExpired(p.Sessions.now()) {
			d.User = &Identity{Username: s.Username, Name: s.Name}
			d.SignedInWith, d.signedInByCookie = "GitLab", true
		}
	}
	if d.User == nil {
		c, err := FromRequest(r, p.Sessions, p.Options)
		switch {
		case err != nil:
			d.Message = err.Error() + "."
		case c.Kind != Anonymous && p.WhoAmI != nil:
			id, err := p.WhoAmI(r.Context(), c)
			if err != nil {
				p.logger().InfoContext(r.Context(), "auth page: credential not recognised", "credential", c, "err", err)
				d.Message = "Your credentials (" + c.Kind.String() + ") were not recognised."
			} else {
				d.User = &id
				d.SignedInWith = "a " + c.Kind.String()
				if c.Kind == SharingHubCookie {
					d.SignedInWith, d.signedInByCookie = "SharingHub", true
				}
			}
		case c.Kind != Anonymous:
			d.Message = "You present a " + c.Kind.String() + "."
		}
	}
	p.render(w, r, http.StatusOK, d)
}

// Login answers GET /auth/login?next=<path>: GitLab or SharingHub sign-in,
// or, with neither configured, the sign-in page with status 404.
func (p *Pages) Login(w http.ResponseWriter, r *http.Request) {
	switch {
	case p.OIDC != nil:
		p.OIDC.Login(w, r)
	case p.SharingHub != nil:
		p.SharingHub.Login(w, r)
	default:
		p.render(w, r, http.StatusNotFound, pageData{Message: "Browser sign-in is not configured on this server."})
	}
}

// Callback answers GET /auth/authorize, GitLab's redirect back (GitLab
// mode only; 404 otherwise).
func (p *Pages) Callback(w http.ResponseWriter, r *http.Request) {
	if p.OIDC == nil {
		p.render(w, r, http.StatusNotFound, pageData{Message: "Browser sign-in with GitLab is not configured on this server."})
		return
	}
	p.OIDC.Callback(w, r)
}

// Logout answers GET /auth/logout: it ends the session (ours, or
// SharingHub's by redirecting there) and lands on the sign-in page.
func (p *Pages) Logout(w http.ResponseWriter, r *http.Request) {
	switch {
	case p.OIDC != nil:
		p.OIDC.Logout(w, r)
	case p.SharingHub != nil:
		p.SharingHub.Logout(w, r)
	default:
		if p.Sessions != nil {
			p.Sessions.Clear(w, r)
		}
		_, _, prefix := ExternalBase(r)
		http.Redirect(w, r, prefix+PathIndex, http.StatusSeeOther)
	}
}

// pageData fills the page template.
type pageData struct {
	Title        string
	User         *Identity
	SignedInWith string
	Message      string
	Next         string // where to go after sign-in; validated by render

	signedInByCookie bool // our session or SharingHub's: signing out means something

	// Set by render.
	Provider  string
	LoginURL  string
	LogoutURL string
	HomeURL   string
	TokenHelp string
	Tracking  string
}

// render writes the sign-in page.
func (p *Pages) render(w http.ResponseWriter, r *http.Request, status int, d pageData) {
	scheme, host, prefix := ExternalBase(r)
	switch {
	case p.OIDC != nil:
		d.Provider = "GitLab"
	case p.SharingHub != nil:
		d.Provider = "SharingHub"
	}
	if d.Provider != "" {
		d.LoginURL = prefix + PathLogin
		if d.Next != "" {
			d.LoginURL += "?next=" + url.QueryEscape(SafeNext(d.Next, prefix))
		}
	}
	if d.signedInByCookie && p.loginAvailable() {
		d.LogoutURL = prefix + PathLogout
	}
	d.HomeURL = prefix + "/"
	d.TokenHelp = p.tokenHelp()
	d.Tracking = scheme + "://" + host + prefix + "/<project path>/tracking/"
	writePage(w, status, d)
}

// renderMessage writes a page with one message and, if retry is set, a
// link to it (a path below the prefix).
func renderMessage(w http.ResponseWriter, r *http.Request, status int, title, msg, retry string) {
	_, _, prefix := ExternalBase(r)
	d := pageData{Title: title, Message: msg, HomeURL: prefix + "/"}
	if retry != "" {
		d.LoginURL, d.Provider = prefix+retry, "GitLab"
	}
	writePage(w, status, d)
}

func writePage(w http.ResponseWriter, status int, d pageData) {
	var buf bytes.Buffer
	if err := pageTemplate.Execute(&buf, d); err != nil {
		http.Error(w, "could not render the page", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

var pageTemplate = template.Must(template.New("auth").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>MLflow SharingHub – sign in</title>
<style>
body{font-family:system-ui,sans-serif;background:#0b3574;display:flex;justify-content:center;align-items:center;min-height:90vh;margin:0}
main{background:#fff;border-radius:1.5em;padding:2em 2.5em;max-width:36em;text-align:center}
h1{color:#0b3574;margin-top:0}
.btn{display:inline-block;padding:.6em 1.3em;border-radius:2em;color:#fff;background:#2272b4;text-decoration:none;margin:.3em}
.btn.out{background:#9e102c}
.note{color:#444;font-size:.9em;text-align:left}
code{background:#eee;padding:0 .2em;border-radius:.2em;word-break:break-all}
</style>
</head>
<body>
<main>
<h1>MLflow SharingHub</h1>
{{with .Title}}<h2>{{.}}</h2>{{end}}
{{with .Message}}<p class="msg">{{.}}</p>{{end}}
{{if .User}}
<p>Signed in{{with .SignedInWith}} with {{.}}{{end}} as <strong>{{if .User.Name}}{{.User.Name}}{{else}}{{.User.Username}}{{end}}</strong>{{if and .User.Name .User.Username}} (@{{.User.Username}}){{end}}.</p>
<p><a class="btn" href="{{.HomeURL}}">Open MLflow</a>{{with .LogoutURL}} <a class="btn out" href="{{.}}">Sign out</a>{{end}}</p>
{{else}}
{{with .LoginURL}}<p><a class="btn" href="{{.}}">Sign in with {{$.Provider}}</a></p>{{end}}
{{end}}
{{if .Tracking}}<div class="note">
<p>Tracking URI of a project: <code>{{.Tracking}}</code></p>
<p>{{.TokenHelp}}</p>
</div>{{end}}
</main>
</body>
</html>
`))
