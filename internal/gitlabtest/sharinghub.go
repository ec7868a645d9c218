package gitlabtest

import (
	"cmp"
	"crypto/rand"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
)

// SharingHub endpoint names, for (*SharingHub).Calls.
const (
	EndpointAuthInfo = "GET /api/auth/info"
	EndpointCheck    = "GET /api/check/:path"
)

// SharingHubOptions configures the SharingHub double.
type SharingHubOptions struct {
	// CookieName is the session cookie; default "sharinghub-session".
	CookieName string
	// DefaultToken is a GitLab token SharingHub uses for requests without a
	// token (GITLAB_OAUTH_DEFAULT_TOKEN); empty: none.
	DefaultToken string
	// AllowPublic lets requests without any token through as anonymous
	// GitLab visitors (GITLAB_ALLOW_PUBLIC).
	AllowPublic bool
	// Categories maps a STAC category id to the GitLab topic that puts a
	// project in it; default {"ai-model": "sharinghub:aimodel",
	// "dataset": "sharinghub:dataset"}.
	Categories map[string]string
	// CategoryObjects sends categories as objects ({"id": ..., "title": ...}),
	// as SharingHub releases before 0.4 did, instead of ids.
	CategoryObjects bool
}

// SharingHub is a SharingHub server double in front of a GitLab double. It
// serves GET /api/auth/info and GET /api/check/<path>?info=true as
// sharinghub-server 0.4 does: the token comes from the gitlab_token query
// parameter, the X-Gitlab-Token header, the signed-in session, the default
// token, or (with AllowPublic) none; access_level is 4 for Maintainer+ or
// admin, 3 for Developer, 2 when the caller can download the code
// (Reporter+, or any reader of a public or internal project), 1 otherwise.
type SharingHub struct {
	// URL is the base URL, the SHARINGHUB_URL to configure.
	URL string

	*front
	gl   *Server
	opts SharingHubOptions

	mu       sync.Mutex
	sessions map[string]string // cookie value → GitLab token ("" = not signed in)
	calls    map[string]int
}

// NewSharingHub starts a SharingHub double backed by gl; Close it when done.
func NewSharingHub(gl *Server, opts SharingHubOptions) *SharingHub {
	opts.CookieName = cmp.Or(opts.CookieName, "sharinghub-session")
	if opts.Categories == nil {
		opts.Categories = map[string]string{"ai-model": "sharinghub:aimodel", "dataset": "sharinghub:dataset"}
	}
	h := &SharingHub{gl: gl, opts: opts, sessions: map[string]string{}, calls: map[string]int{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/auth/info", h.authInfo)
	mux.HandleFunc("GET /api/check/{path...}", h.check)
	h.front = newFront(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := "other"
		switch {
		case r.URL.Path == "/api/auth/info":
			name = EndpointAuthInfo
		case strings.HasPrefix(r.URL.Path, "/api/check/"):
			name = EndpointCheck
		}
		h.mu.Lock()
		h.calls[name]++
		h.mu.Unlock()
		o, release := h.front.state()
		if serveOutage(w, r, o, release) {
			return
		}
		mux.ServeHTTP(w, r)
	}))
	h.URL = h.ts.URL
	return h
}

// Close releases hung requests and shuts the server down.
func (h *SharingHub) Close() { h.front.close() }

// SetOutage flips SharingHub's outage switch (GitLab's is separate: with
// GitLab down, SharingHub answers 500).
func (h *SharingHub) SetOutage(o Outage) { h.front.set(o) }

// Calls returns how many requests endpoint received.
func (h *SharingHub) Calls(endpoint string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.calls[endpoint]
}

// ResetCalls zeroes the call counters.
func (h *SharingHub) ResetCalls() {
	h.mu.Lock()
	defer h.mu.Unlock()
	clear(h.calls)
}

// Login returns the session cookie value of a browser signed in to
// SharingHub with the GitLab OAuth token gitlabToken.
func (h *SharingHub) Login(gitlabToken string) string {
	h.mu.Lock()
	defer h.mu.Unlock()
	c := "shs-" + rand.Text()
	h.sessions[c] = gitlabToken
	return c
}

// Visitor returns the session cookie value of a browser that visited
// SharingHub without signing in (SharingHub sets the cookie for everyone).
func (h *SharingHub) Visitor() string { return h.Login("") }

// Logout ends a session.
func (h *SharingHub) Logout(cookie string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.sessions[cookie] = ""
}

func detail(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"detail": msg})
}

// token resolves the GitLab token as sharinghub-server's get_gitlab_token.
func (h *SharingHub) token(r *http.Request) (string, bool) {
	if t := r.URL.Query().Get("gitlab_token"); t != "" {
		return t, true
	}
	if t := r.Header.Get("X-Gitlab-Token"); t != "" {
		return t, true
	}
	if c, err := r.Cookie(h.opts.CookieName); err == nil {
		h.mu.Lock()
		t := h.sessions[c.Value]
		h.mu.Unlock()
		if t != "" {
			return t, true
		}
	}
	if h.opts.DefaultToken != "" {
		return h.opts.DefaultToken, true
	}
	return "", h.opts.AllowPublic
}

// authInfo serves GET /api/auth/info: it echoes the token, without checking
// it, and refuses the default token.
func (h *SharingHub) authInfo(w http.ResponseWriter, r *http.Request) {
	t, ok := h.token(r)
	switch {
	case !ok:
		detail(w, http.StatusUnauthorized, "Missing token, either use login, or pass it as header or query")
	case h.opts.DefaultToken != "" && t == h.opts.DefaultToken:
		detail(w, http.StatusUnauthorized, "Not authenticated, but server default token is enabled. Missing user token, either use login, or pass it as header or query")
	default:
		writeJSON(w, http.StatusOK, map[string]string{"access_token": t})
	}
}

// check serves GET /api/check/<path or id>[?info=true].
func (h *SharingHub) check(w http.ResponseWriter, r *http.Request) {
	t, ok := h.token(r)
	if !ok {
		detail(w, http.StatusUnauthorized, "Missing token, either use login, or pass it as header or query")
		return
	}
	ref := strings.Trim(r.PathValue("path"), "/")
	if ref == "" {
		detail(w, http.StatusBadRequest, "Bad Request")
		return
	}
	gl := h.gl
	gitlabDown := gl.outageState() != Up
	gl.mu.Lock()
	var u *user
	if t != "" {
		tk := gl.tokens[t]
		if tk == nil || tk.revoked || tk.kind == jobToken {
			gl.mu.Unlock()
			detail(w, http.StatusUnauthorized, "HTTP 401 | POST "+gl.URL+"/api/graphql: {\"errors\":[{\"message\":\"Invalid token\"}]}")
			return
		}
		u = tk.user
	}
	p := gl.lookupProject(ref)
	if gitlabDown {
		gl.mu.Unlock()
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(http.StatusInternalServerError)
		w.Write([]byte("Internal Server Error"))
		return
	}
	if p == nil || !gl.visible(u, p) {
		gl.mu.Unlock()
		detail(w, http.StatusNotFound, "Not Found")
		return
	}
	level := 1
	role := gl.effective(u, p)
	switch {
	case u != nil && (u.Admin || role >= Maintainer):
		level = 4
	case role >= Developer:
		level = 3
	case role >= Reporter || p.Visibility == "public" || (p.Visibility == "internal" && u != nil):
		level = 2
	}
	id, name, path, topics := p.ID, p.Name, p.Path, slices.Clone(p.Topics)
	gl.mu.Unlock()

	var cats []any
	for _, id := range slices.Sorted(maps.Keys(h.opts.Categories)) {
		if !slices.Contains(topics, h.opts.Categories[id]) {
			continue
		}
		if h.opts.CategoryObjects {
			cats = append(cats, map[string]any{"id": id, "title": id, "gitlab_topic": h.opts.Categories[id], "features": map[string]string{"mlflow": "enable"}})
		} else {
			cats = append(cats, id)
		}
	}
	if len(cats) == 0 {
		detail(w, http.StatusInternalServerError, fmt.Sprintf("Category not found in %q", topics))
		return
	}
	if r.URL.Query().Get("info") != "true" {
		w.WriteHeader(http.StatusOK)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": id, "name": name, "path": path, "access_level": level, "categories": cats})
}
