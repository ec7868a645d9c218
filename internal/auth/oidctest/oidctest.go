// Package oidctest is an OpenID Connect provider double shaped like GitLab's
// (same endpoint paths, claims and token response), for testing the browser
// sign-in end to end: discovery, JWKS (an RSA key generated at start),
// an authorization endpoint that auto-approves the configured user and
// redirects back with code and state, and a token endpoint that checks the
// client secret, the redirect_uri and the PKCE (S256) verifier and returns an
// RS256-signed ID token carrying the nonce, an access token and a refresh
// token. Knobs make it misbehave on purpose (wrong issuer, nonce, key...).
//
// It depends on nothing but the standard library, so it can be folded into
// the GitLab API double later.
package oidctest

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// User is the user the provider signs in.
type User struct {
	Subject  string // "sub": GitLab uses the numeric user id
	Username string // "nickname" and "preferred_username"
	Name     string
	Email    string
}

// Config configures a Provider.
type Config struct {
	ClientID, ClientSecret string
	// User is signed in by every authorization request (auto-approve).
	User User
	// RedirectURIs, if set, are the only redirect_uri values accepted, as
	// GitLab accepts only the application's registered callback URLs.
	RedirectURIs []string
	// AccessTokenTTL is the access token lifetime; 0 means two hours, as
	// on GitLab.
	AccessTokenTTL time.Duration
}

// Issued is an access token the provider handed out.
type Issued struct {
	User   User
	Expiry time.Time
}

// Provider is a running OIDC provider double. Its methods are safe for
// concurrent use.
type Provider struct {
	// URL is the issuer and base URL ("http://127.0.0.1:port").
	URL string

	server *httptest.Server
	key    *rsa.PrivateKey
	kid    string

	mu         sync.Mutex
	cfg        Config
	codes      map[string]grant
	refresh    map[string]User
	access     map[string]Issued
	mutate     func(claims map[string]any)
	signKey    *rsa.PrivateKey
	tokenCalls int
	authCalls  int
	tokenErrs  []string
}

// grant is an authorization code's context.
type grant struct {
	user        User
	clientID    string
	redirectURI string
	challenge   string
	nonce       string
	scope       string
	expires     time.Time
}

// Start runs a provider until the test ends.
func Start(tb testing.TB, cfg Config) *Provider {
	tb.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		tb.Fatalf("oidctest: generate key: %v", err)
	}
	p := &Provider{
		key:     key,
		kid:     randomString(8),
		cfg:     cfg,
		codes:   map[string]grant{},
		refresh: map[string]User{},
		access:  map[string]Issued{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", p.discovery)
	mux.HandleFunc("GET /oauth/discovery/keys", p.jwks)
	mux.HandleFunc("GET /oauth/authorize", p.authorize)
	mux.HandleFunc("POST /oauth/token", p.token)
	mux.HandleFunc("GET /oauth/userinfo", p.userinfo)
	p.server = httptest.NewServer(mux)
	p.URL = p.server.URL
	tb.Cleanup(p.server.Close)
	return p
}

// Client returns an HTTP client for the provider.
func (p *Provider) Client() *http.Client { return p.server.Client() }

// SetUser changes the user the next authorizations sign in.
func (p *Provider) SetUser(u User) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cfg.User = u
}

// SetAccessTokenTTL changes the lifetime of the next access tokens.
func (p *Provider) SetAccessTokenTTL(d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cfg.AccessTokenTTL = d
}

// MutateIDToken installs f to change the claims of the next ID tokens
// before they are signed (a wrong "iss", "aud", "nonce", "exp"...); nil
// removes it.
func (p *Provider) MutateIDToken(f func(claims map[string]any)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.mutate = f
}

// SignWithUnknownKey makes the next ID tokens carry a signature by a key
// that is not in the JWKS (same kid).
func (p *Provider) SignWithUnknownKey(on bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.signKey = nil
	if on {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		p.signKey = k
	}
}

// AccessToken reports to whom an access token was issued and until when.
func (p *Provider) AccessToken(token string) (Issued, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	i, ok := p.access[token]
	return i, ok
}

// TokenRequests returns how many token endpoint requests were served.
func (p *Provider) TokenRequests() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.tokenCalls
}

// TokenErrors returns the error descriptions the token endpoint answered
// with, oldest first.
func (p *Provider) TokenErrors() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.tokenErrs)
}

// AuthorizeRequests returns how many authorization requests were served.
func (p *Provider) AuthorizeRequests() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.authCalls
}

// discovery serves GET /.well-known/openid-configuration.
func (p *Provider) discovery(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                p.URL,
		"authorization_endpoint":                p.URL + "/oauth/authorize",
		"token_endpoint":                        p.URL + "/oauth/token",
		"userinfo_endpoint":                     p.URL + "/oauth/userinfo",
		"jwks_uri":                              p.URL + "/oauth/discovery/keys",
		"scopes_supported":                      []string{"api", "read_api", "read_user", "openid", "profile", "email"},
		"response_types_supported":              []string{"code"},
		"response_modes_supported":              []string{"query", "fragment"},
		"grant_types_supported":                 []string{"authorization_code", "refresh_token"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"code_challenge_methods_supported":      []string{"plain", "S256"},
		"claims_supported": []string{"iss", "sub", "aud", "exp", "iat", "nonce", "name", "nickname",
			"preferred_username", "email", "email_verified"},
	})
}

// jwks serves GET /oauth/discovery/keys.
func (p *Provider) jwks(w http.ResponseWriter, _ *http.Request) {
	pub := p.key.PublicKey
	writeJSON(w, http.StatusOK, map[string]any{"keys": []map[string]string{{
		"kty": "RSA",
		"alg": "RS256",
		"use": "sig",
		"kid": p.kid,
		"n":   b64(pub.N.Bytes()),
		"e":   b64(big.NewInt(int64(pub.E)).Bytes()),
	}}})
}

// authorize serves GET /oauth/authorize: it validates the request and
// redirects back at once with a code, as if the user had approved.
func (p *Provider) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	p.mu.Lock()
	p.authCalls++
	cfg := p.cfg
	p.mu.Unlock()
	if q.Get("client_id") != cfg.ClientID {
		http.Error(w, "unknown client_id", http.StatusBadRequest)
		return
	}
	redirectURI := q.Get("redirect_uri")
	u, err := url.Parse(redirectURI)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
		(len(cfg.RedirectURIs) > 0 && !slices.Contains(cfg.RedirectURIs, redirectURI)) {
		http.Error(w, "redirect_uri is not registered", http.StatusBadRequest)
		return
	}
	back := func(params url.Values) {
		params.Set("state", q.Get("state"))
		u.RawQuery = params.Encode()
		http.Redirect(w, r, u.String(), http.StatusFound)
	}
	fail := func(code, desc string) {
		back(url.Values{"error": {code}, "error_description": {desc}})
	}
	switch {
	case q.Get("response_type") != "code":
		fail("unsupported_response_type", "response_type must be code")
	case !slices.Contains(strings.Fields(q.Get("scope")), "openid"):
		fail("invalid_scope", "scope must include openid")
	case q.Get("state") == "":
		fail("invalid_request", "state is required by this double")
	case q.Get("code_challenge") == "" || q.Get("code_challenge_method") != "S256":
		fail("invalid_request", "PKCE with code_challenge_method=S256 is required by this double")
	default:
		code := randomString(32)
		p.mu.Lock()
		p.codes[code] = grant{
			user:        cfg.User,
			clientID:    cfg.ClientID,
			redirectURI: redirectURI,
			challenge:   q.Get("code_challenge"),
			nonce:       q.Get("nonce"),
			scope:       q.Get("scope"),
			expires:     time.Now().Add(10 * time.Minute),
		}
		p.mu.Unlock()
		back(url.Values{"code": {code}})
	}
}

// token serves POST /oauth/token for the authorization_code and
// refresh_token grants.
func (p *Provider) token(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	p.tokenCalls++
	cfg := p.cfg
	p.mu.Unlock()
	if err := r.ParseForm(); err != nil {
		p.tokenError(w, http.StatusBadRequest, "invalid_request", "bad form")
		return
	}
	id, secret, ok := r.BasicAuth()
	if ok {
		// RFC 6749 §2.3.1: both are form-urlencoded inside Basic.
		id, _ = url.QueryUnescape(id)
		secret, _ = url.QueryUnescape(secret)
	} else {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	if id != cfg.ClientID || subtle.ConstantTimeCompare([]byte(secret), []byte(cfg.ClientSecret)) != 1 {
		p.tokenError(w, http.StatusUnauthorized, "invalid_client", "client authentication failed")
		return
	}
	switch r.PostForm.Get("grant_type") {
	case "authorization_code":
		code := r.PostForm.Get("code")
		p.mu.Lock()
		g, ok := p.codes[code]
		delete(p.codes, code) // single use, even when the request fails
		p.mu.Unlock()
		verifier := r.PostForm.Get("code_verifier")
		switch {
		case !ok || time.Now().After(g.expires):
			p.tokenError(w, http.StatusBadRequest, "invalid_grant", "unknown, used or expired code")
		case g.clientID != id:
			p.tokenError(w, http.StatusBadRequest, "invalid_grant", "code issued to another client")
		case r.PostForm.Get("redirect_uri") != g.redirectURI:
			p.tokenError(w, http.StatusBadRequest, "invalid_grant", "redirect_uri does not match")
		case len(verifier) < 43 || len(verifier) > 128 ||
			subtle.ConstantTimeCompare([]byte(b64sha256(verifier)), []byte(g.challenge)) != 1:
			p.tokenError(w, http.StatusBadRequest, "invalid_grant", "PKCE verification failed")
		default:
			p.issue(w, cfg, g.user, g.nonce, g.scope)
		}
	case "refresh_token":
		rt := r.PostForm.Get("refresh_token")
		p.mu.Lock()
		u, ok := p.refresh[rt]
		delete(p.refresh, rt) // rotated, as GitLab does
		p.mu.Unlock()
		if !ok {
			p.tokenError(w, http.StatusBadRequest, "invalid_grant", "unknown or used refresh token")
			return
		}
		p.issue(w, cfg, u, "", "")
	default:
		p.tokenError(w, http.StatusBadRequest, "unsupported_grant_type", "grant_type not supported")
	}
}

// issue answers a token request with new tokens for u.
func (p *Provider) issue(w http.ResponseWriter, cfg Config, u User, nonce, scope string) {
	ttl := cfg.AccessTokenTTL
	if ttl == 0 {
		ttl = 2 * time.Hour
	}
	now := time.Now()
	at, rt := randomString(32), randomString(32)
	claims := map[string]any{
		"iss":                p.URL,
		"sub":                u.Subject,
		"aud":                cfg.ClientID,
		"exp":                now.Add(2 * time.Minute).Unix(),
		"iat":                now.Unix(),
		"auth_time":          now.Unix(),
		"name":               u.Name,
		"nickname":           u.Username,
		"preferred_username": u.Username,
		"email":              u.Email,
		"email_verified":     true,
		"at_hash":            b64(sha256Sum(at)[:16]),
	}
	if nonce != "" {
		claims["nonce"] = nonce
	}
	p.mu.Lock()
	p.access[at] = Issued{User: u, Expiry: now.Add(ttl)}
	p.refresh[rt] = u
	mutate, key := p.mutate, p.signKey
	p.mu.Unlock()
	if mutate != nil {
		mutate(claims)
	}
	if key == nil {
		key = p.key
	}
	idToken, err := signRS256(key, p.kid, claims)
	if err != nil {
		p.tokenError(w, http.StatusInternalServerError, "server_error", err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token":  at,
		"token_type":    "Bearer",
		"expires_in":    int(ttl / time.Second),
		"refresh_token": rt,
		"scope":         scope,
		"created_at":    now.Unix(),
		"id_token":      idToken,
	})
}

// userinfo serves GET /oauth/userinfo for a Bearer access token.
func (p *Provider) userinfo(w http.ResponseWriter, r *http.Request) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	i, found := p.AccessToken(tok)
	if !ok || !found || time.Now().After(i.Expiry) {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		oauthError(w, http.StatusUnauthorized, "invalid_token", "the access token is invalid")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"sub": i.User.Subject, "name": i.User.Name, "nickname": i.User.Username,
		"preferred_username": i.User.Username, "email": i.User.Email,
	})
}

// signRS256 returns a compact JWS of claims.
func signRS256(key *rsa.PrivateKey, kid string, claims map[string]any) (string, error) {
	header, err := json.Marshal(map[string]string{"alg": "RS256", "typ": "JWT", "kid": kid})
	if err != nil {
		return "", err
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	signing := b64(header) + "." + b64(payload)
	sum := sha256Sum(signing)
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		return "", err
	}
	return signing + "." + b64(sig), nil
}

func (p *Provider) tokenError(w http.ResponseWriter, status int, code, desc string) {
	p.mu.Lock()
	p.tokenErrs = append(p.tokenErrs, code+": "+desc)
	p.mu.Unlock()
	oauthError(w, status, code, desc)
}

func oauthError(w http.ResponseWriter, status int, code, desc string) {
	writeJSON(w, status, map[string]string{"error": code, "error_description": desc})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func sha256Sum(s string) []byte {
	sum := sha256.Sum256([]byte(s))
	return sum[:]
}

func b64sha256(s string) string { return b64(sha256Sum(s)) }

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func randomString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b64(b)
}
