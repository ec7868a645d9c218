package access

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// DefaultSessionCookie is SharingHub's session cookie name
// (SHARINGHUB_SESSION_COOKIE).
const DefaultSessionCookie = "sharinghub-session"

// DefaultStacCollection is the category a project must be in
// (SHARINGHUB_STAC_COLLECTION).
const DefaultStacCollection = "ai-model"

// SharingHubOptions tunes a SharingHub provider.
type SharingHubOptions struct {
	// SessionCookieName is the name the cookie credential is forwarded
	// under; empty means DefaultSessionCookie.
	SessionCookieName string
	// DefaultToken (SHARINGHUB_AUTH_DEFAULT_TOKEN): SharingHub is configured
	// with a default token, and anonymous callers are asked about with it
	// (by sending SharingHub no credential at all).
	DefaultToken bool
	// StacCollection: a project must list this category. Empty disables the
	// check; start from DefaultSharingHubOptions to get "ai-model".
	StacCollection string
	// Timeout bounds each SharingHub call; zero means DefaultTimeout.
	Timeout time.Duration
}

// DefaultSharingHubOptions returns the reference plugin's defaults.
func DefaultSharingHubOptions() SharingHubOptions {
	return SharingHubOptions{SessionCookieName: DefaultSessionCookie, StacCollection: DefaultStacCollection}
}

// SharingHub is a Provider that asks a SharingHub server, and only these
// endpoints:
//
//	GET /api/auth/info                            is the caller signed in
//	GET /api/check/<url-encoded path>?info=true   {id, name, path, access_level, categories}
//
// A SharingHub cookie is forwarded as a cookie, a token as the
// X-Gitlab-Token header; job tokens are refused with ErrUnauthenticated.
// An anonymous caller is forwarded without credentials: SharingHub then
// uses its default token, if it has one, or public access, if it allows it.
//
// access_level maps 0 → no access (ErrNotFound), 1 → Guest, 2 → Reporter
// (both read), 3 → Developer, 4 → Maintainer (both read and write), as the
// reference plugin does. The project must carry the StacCollection category;
// categories are read whether SharingHub sends them as ids (0.4: "ai-model")
// or as objects ({"id": "ai-model", ...}, earlier releases).
//
// SharingHub's /api/auth/info only echoes the access token, so the Principal
// of a signed-in caller has no name (Username is ""): SharingHub does not say
// who you are, only what you may do.
//
// SharingHub answers HTTP 500 "Category not found" for a project in no
// category; that is ErrNotFound here, other 5xx are ErrUnavailable.
//
// SharingHub has no endpoint to list a caller's projects: Projects returns
// an empty list. The global scope in SharingHub mode therefore shows
// nothing unless the server checks candidate projects itself (see Among).
type SharingHub struct {
	up     *upstream
	opts   SharingHubOptions
	cookie string
}

var _ Provider = (*SharingHub)(nil)

// NewSharingHub returns a provider for the SharingHub at baseURL
// (SHARINGHUB_URL, e.g. "https://sharinghub.example.com"). A nil httpClient
// means a default client.
func NewSharingHub(baseURL string, httpClient *http.Client, opts SharingHubOptions) (*SharingHub, error) {
	up, err := newUpstream("sharinghub", baseURL, httpClient, opts.Timeout)
	if err != nil {
		return nil, err
	}
	if opts.SessionCookieName == "" {
		opts.SessionCookieName = DefaultSessionCookie
	}
	if c := (&http.Cookie{Name: opts.SessionCookieName, Value: "x"}); c.Valid() != nil {
		return nil, fmt.Errorf("sharinghub session cookie name %q: %v", opts.SessionCookieName, c.Valid())
	}
	return &SharingHub{up: up, opts: opts, cookie: opts.SessionCookieName}, nil
}

// auth returns how to present c to SharingHub.
func (s *SharingHub) auth(c Credential) (func(*http.Request), error) {
	switch c.Kind {
	case KindAnonymous:
		return nil, nil
	case KindToken:
		if c.Secret == "" {
			break
		}
		return func(r *http.Request) { r.Header.Set("X-Gitlab-Token", c.Secret) }, nil
	case KindSharingHubCookie:
		if c.Secret == "" {
			break
		}
		return func(r *http.Request) { r.AddCookie(&http.Cookie{Name: s.cookie, Value: c.Secret}) }, nil
	default:
		return nil, fmt.Errorf("sharinghub: %s credentials are not accepted in SharingHub mode: %w", c.Kind, ErrUnauthenticated)
	}
	return nil, fmt.Errorf("sharinghub: empty %s: %w", c.Kind, ErrUnauthenticated)
}

// shAuthInfo is the /api/auth/info reply. SharingHub 0.4 sends only
// {"access_token": ...}, which we neither keep nor log; the identity fields
// are read if a SharingHub ever sends them.
type shAuthInfo struct {
	User *struct {
		ID       int64  `json:"id"`
		Username string `json:"username"`
		Name     string `json:"name"`
		Email    string `json:"email"`
	} `json:"user"`
}

// Authenticate implements Provider with GET /api/auth/info. A 401 there
// (no session, expired session, or only the default token) is
// ErrUnauthenticated.
func (s *SharingHub) Authenticate(ctx context.Context, c Credential) (Principal, error) {
	auth, err := s.auth(c)
	if err != nil {
		return Principal{}, err
	}
	if c.Kind == KindAnonymous {
		return Principal{Anonymous: true}, nil
	}
	const ep = "/api/auth/info"
	r, err := s.up.get(ctx, ep, auth)
	if err != nil {
		return Principal{}, err
	}
	switch r.status {
	case http.StatusOK:
	case http.StatusUnauthorized, http.StatusForbidden:
		return Principal{}, fmt.Errorf("sharinghub GET %s: not signed in (HTTP %d): %w", ep, r.status, ErrUnauthenticated)
	default:
		return Principal{}, s.up.unexpected(ep, r)
	}
	var info shAuthInfo
	if err := s.up.decode(ep, r, &info); err != nil {
		return Principal{}, err
	}
	var p Principal
	if u := info.User; u != nil {
		p = Principal{ID: u.ID, Username: u.Username, Name: u.Name, Email: u.Email}
	}
	return p, nil
}

// shCategory is a category as an id ("ai-model") or an object with an id.
type shCategory string

// UnmarshalJSON accepts "ai-model" and {"id": "ai-model", ...}.
func (c *shCategory) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*c = shCategory(s)
		return nil
	}
	var o struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(b, &o); err != nil {
		return fmt.Errorf("category is neither a string nor an object with an id: %s", b)
	}
	*c = shCategory(o.ID)
	return nil
}

// shProject is the /api/check/<path>?info=true reply.
type shProject struct {
	ID          int64        `json:"id"`
	Name        string       `json:"name"`
	Path        string       `json:"path"`
	AccessLevel *int         `json:"access_level"`
	Categories  []shCategory `json:"categories"`
}

// sharingHubRoles maps SharingHub access levels to roles, as the plugin does.
var sharingHubRoles = map[int]Role{0: NoAccess, 1: Guest, 2: Reporter, 3: Developer, 4: Maintainer}

// Project implements Provider with GET /api/check/<path>?info=true.
func (s *SharingHub) Project(ctx context.Context, c Credential, path string) (Grant, error) {
	auth, err := s.auth(c)
	if err != nil {
		return Grant{}, err
	}
	path, err = cleanPath(path)
	if err != nil {
		return Grant{}, err
	}
	ep := "/api/check/" + url.PathEscape(path) + "?info=true"
	r, err := s.up.get(ctx, ep, auth)
	if err != nil {
		return Grant{}, err
	}
	switch r.status {
	case http.StatusOK:
	case http.StatusUnauthorized:
		return Grant{}, fmt.Errorf("sharinghub GET %s: not signed in (HTTP 401): %w", ep, ErrUnauthenticated)
	case http.StatusNotFound, http.StatusForbidden, http.StatusBadRequest:
		return Grant{}, fmt.Errorf("sharinghub GET %s: HTTP %d: %w", ep, r.status, ErrNotFound)
	case http.StatusInternalServerError:
		if categoryless(r.body) {
			return Grant{}, fmt.Errorf("sharinghub GET %s: project is in no SharingHub category: %w", ep, ErrNotFound)
		}
		return Grant{}, s.up.unexpected(ep, r)
	default:
		return Grant{}, s.up.unexpected(ep, r)
	}
	var sp shProject
	if err := s.up.decode(ep, r, &sp); err != nil {
		return Grant{}, err
	}
	if sp.ID <= 0 || sp.AccessLevel == nil {
		return Grant{}, fmt.Errorf("sharinghub GET %s: reply lacks id or access_level: %w", ep, ErrUnavailable)
	}
	p := Project{ID: sp.ID, Name: sp.Name, Path: sp.Path}
	if p.Path == "" || strings.Trim(p.Path, "/") != p.Path {
		p.Path = path // SharingHub echoes the path asked for; keep ours if it did not
	}
	for _, c := range sp.Categories {
		p.Categories = append(p.Categories, string(c))
	}
	if want := s.opts.StacCollection; want != "" && !slices.Contains(p.Categories, want) {
		return Grant{}, fmt.Errorf("sharinghub: project %s is not in category %q: %w", p.Path, want, ErrNotFound)
	}
	role, ok := sharingHubRoles[*sp.AccessLevel]
	if !ok || !role.Allows(Read) {
		return Grant{}, fmt.Errorf("sharinghub: project %s: access_level %d gives no read: %w", p.Path, *sp.AccessLevel, ErrNotFound)
	}
	return Grant{Project: p, Role: role}, nil
}

// Projects implements Provider: SharingHub cannot list projects, so the
// list is empty (after checking c is acceptable).
func (s *SharingHub) Projects(ctx context.Context, c Credential) ([]Grant, error) {
	if _, err := s.auth(c); err != nil {
		return nil, err
	}
	return []Grant{}, nil
}

// categoryless recognises SharingHub's answer for a GitLab project whose
// topics match no SharingHub category: HTTP 500 with
// {"detail": "Category not found in [...]"} (sharinghub-server 0.4,
// get_categories_from_topics). Such a project is not in any collection, so
// it fails the category gate: not found rather than unavailable.
func categoryless(body []byte) bool {
	var e struct {
		Detail string `json:"detail"`
	}
	return json.Unmarshal(body, &e) == nil && strings.HasPrefix(e.Detail, "Category not found")
}
