package auth

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// DefaultScopes are the scopes the Python plugin asked GitLab for; GitLab
// OAuth applications registered for it allow exactly these. Every GitLab
// call this server makes is a read, so an operator registering a new
// application may narrow "api" to "read_api".
var DefaultScopes = []string{"openid", "email", "read_user", "profile", "api"}

// Paths of the sign-in routes, below the external prefix.
const (
	PathIndex    = "/auth/"
	PathLogin    = "/auth/login"
	PathCallback = "/auth/authorize"
	PathLogout   = "/auth/logout"
)

const (
	flowTTL       = 10 * time.Minute // how long a sign-in may take
	providerWait  = 30 * time.Second // timeout of each call to GitLab
	refreshMargin = 2 * time.Minute  // refresh tokens expiring sooner than this
	refreshKeep   = time.Minute      // share a refresh result this long
)

// OIDCConfig configures GitLab OpenID Connect sign-in.
type OIDCConfig struct {
	// Issuer is GITLAB_URL; its /.well-known/openid-configuration must
	// name it as issuer (a trailing slash is ignored).
	Issuer string
	// ClientID and ClientSecret are GITLAB_OAUTH_CLIENT_ID/SECRET.
	ClientID, ClientSecret string
	// Scopes default to DefaultScopes; "openid" is added if missing.
	Scopes []string
	// Sessions keeps the signed-in session and the login state; required.
	Sessions *Sessions
	// HTTPClient talks to GitLab (discovery, JWKS, token endpoint); nil
	// means a client with a 30-second timeout.
	HTTPClient *http.Client
	// Logger receives sign-in failures; nil discards them.
	Logger *slog.Logger
}

// OIDC runs GitLab sign-in: authorization code flow with PKCE (S256), state
// and nonce, the ID token verified (signature against the issuer's JWKS,
// issuer, audience, expiry, nonce, at_hash) before the access token is put in
// the session cookie.
type OIDC struct {
	provider *oidc.Provider
	endpoint oauth2.Endpoint
	verifier *oidc.IDTokenVerifier
	cfg      OIDCConfig
	client   *http.Client
	sessions *Sessions
	log      *slog.Logger
	now      func() time.Time

	mu        sync.Mutex
	refreshes map[[32]byte]*refreshCall
}

// NewOIDC discovers the issuer's endpoints and keys location and returns the
// sign-in handlers. It fails when the issuer cannot be reached or its
// discovery document names another issuer.
func NewOIDC(ctx context.Context, cfg OIDCConfig) (*OIDC, error) {
	cfg.Issuer = strings.TrimSuffix(cfg.Issuer, "/")
	var p []string
	if cfg.Issuer == "" {
		p = append(p, "the issuer (GITLAB_URL) is empty")
	}
	if cfg.ClientID == "" || cfg.ClientSecret == "" {
		p = append(p, "GITLAB_OAUTH_CLIENT_ID and GITLAB_OAUTH_CLIENT_SECRET are both needed")
	}
	if cfg.Sessions == nil {
		p = append(p, "no session store (SECRET_KEY not set?)")
	}
	if len(p) > 0 {
		return nil, fmt.Errorf("GitLab sign-in: %s", strings.Join(p, "; "))
	}
	if len(cfg.Scopes) == 0 {
		cfg.Scopes = DefaultScopes
	}
	hasOpenID := false
	for _, s := range cfg.Scopes {
		hasOpenID = hasOpenID || s == oidc.ScopeOpenID
	}
	if !hasOpenID {
		cfg.Scopes = append([]string{oidc.ScopeOpenID}, cfg.Scopes...)
	}
	client := cfg.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: providerWait}
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	provider, err := oidc.NewProvider(oidc.ClientContext(ctx, client), cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("GitLab sign-in: discover %s/.well-known/openid-configuration: %w", cfg.Issuer, err)
	}
	endpoint := provider.Endpoint()
	if endpoint.AuthURL == "" || endpoint.TokenURL == "" {
		return nil, fmt.Errorf("GitLab sign-in: %s/.well-known/openid-configuration has no authorization or token endpoint", cfg.Issuer)
	}
	endpoint.AuthStyle = authStyle(provider)
	o := &OIDC{
		provider:  provider,
		endpoint:  endpoint,
		cfg:       cfg,
		client:    client,
		sessions:  cfg.Sessions,
		log:       log,
		now:       time.Now,
		refreshes: map[[32]byte]*refreshCall{},
	}
	// The key set fetches JWKS with client, in the background context:
	// keys outlive any one request.
	o.verifier = provider.VerifierContext(oidc.ClientContext(context.Background(), client),
		&oidc.Config{ClientID: cfg.ClientID, Now: func() time.Time { return o.now() }})
	return o, nil
}

// authStyle picks how the client authenticates to the token endpoint from
// the discovery document, once: oauth2's auto-detection would send each
// failed code exchange twice, and an authorization code is single-use.
// client_secret_basic is the OIDC default when the document says nothing.
func authStyle(p *oidc.Provider) oauth2.AuthStyle {
	var meta struct {
		Methods []string `json:"token_endpoint_auth_methods_supported"`
	}
	if err := p.Claims(&meta); err != nil || len(meta.Methods) == 0 {
		return oauth2.AuthStyleInHeader
	}
	for _, m := range meta.Methods {
		if m == "client_secret_basic" {
			return oauth2.AuthStyleInHeader
		}
	}
	for _, m := range meta.Methods {
		if m == "client_secret_post" {
			return oauth2.AuthStyleInParams
		}
	}
	return oauth2.AuthStyleInHeader
}

// oauth returns the OAuth 2 client configuration for redirectURI.
func (o *OIDC) oauth(redirectURI string) *oauth2.Config {
	return &oauth2.Config{
		ClientID:     o.cfg.ClientID,
		ClientSecret: o.cfg.ClientSecret,
		Endpoint:     o.endpoint,
		RedirectURL:  redirectURI,
		Scopes:       o.cfg.Scopes,
	}
}

// providerContext is a context for calls to GitLab that uses o.client.
func (o *OIDC) providerContext(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx = context.WithValue(ctx, oauth2.HTTPClient, o.client)
	ctx = oidc.ClientContext(ctx, o.client)
	return context.WithTimeout(ctx, providerWait)
}

// loginFlow is the state of one sign-in, sealed in a short-lived cookie
// between Login and Callback.
type loginFlow struct {
	State       string `json:"s"`
	Nonce       string `json:"n"`
	Verifier    string `json:"v"`
	Next        string `json:"x"`
	RedirectURI string `json:"r"`
}

func (o *OIDC) flowCookie() string { return o.sessions.name + "-login" }

func flowPath(r *http.Request) string {
	_, _, prefix := ExternalBase(r)
	return prefix + "/auth"
}

// Login answers GET /auth/login?next=<path>: it redirects to GitLab's
// authorization endpoint, keeping state, nonce, PKCE verifier and the
// (validated) next path in a sealed cookie for ten minutes.
func (o *OIDC) Login(w http.ResponseWriter, r *http.Request) {
	_, _, prefix := ExternalBase(r)
	flow := loginFlow{
		State:       randomString(),
		Nonce:       randomString(),
		Verifier:    oauth2.GenerateVerifier(),
		Next:        SafeNext(r.URL.Query().Get("next"), prefix),
		RedirectURI: ExternalURL(r, PathCallback),
	}
	value, err := o.sessions.seal("login", flow, flowTTL)
	if err != nil {
		o.log.ErrorContext(r.Context(), "sign-in: seal the login state", "err", err)
		renderMessage(w, r, http.StatusInternalServerError, "Sign-in failed",
			"The server could not start the sign-in. Try again later.", "")
		return
	}
	o.sessions.setCookie(w, r, o.flowCookie(), value, flowPath(r), flowTTL)
	authURL := o.oauth(flow.RedirectURI).AuthCodeURL(flow.State,
		oidc.Nonce(flow.Nonce), oauth2.S256ChallengeOption(flow.Verifier))
	http.Redirect(w, r, authURL, http.StatusFound)
}

// Callback answers GET /auth/authorize, where GitLab sends the browser
// back: it checks state against the login cookie, exchanges the code with
// the PKCE verifier, verifies the ID token and its nonce, stores the access
// token in the session cookie and redirects to the next path given to Login.
// Every failure leaves the browser signed out, with a page that says what
// went wrong and offers to sign in again.
func (o *OIDC) Callback(w http.ResponseWriter, r *http.Request) {
	fail := func(status int, msg string, logMsg string, err error) {
		o.log.InfoContext(r.Context(), "sign-in failed: "+logMsg, "err", err)
		renderMessage(w, r, status, "Sign-in failed", msg, PathLogin)
	}
	var flow loginFlow
	c, err := r.Cookie(o.flowCookie())
	if err == nil {
		_, _, err = o.sessions.open("login", c.Value, &flow)
	}
	// One use only, whatever happens next.
	o.sessions.setCookie(w, r, o.flowCookie(), "", flowPath(r), -1)
	if err != nil {
		fail(http.StatusBadRequest, "This sign-in has expired or was started in another browser. Sign in again.",
			"no valid login state cookie", err)
		return
	}
	q := r.URL.Query()
	if e := q.Get("error"); e != "" {
		fail(http.StatusUnauthorized, "GitLab did not sign you in: "+truncate(e+" "+q.Get("error_description"), 200),
			"provider returned an error", errors.New(e))
		return
	}
	if subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(flow.State)) != 1 {
		fail(http.StatusBadRequest, "This sign-in does not match the one this browser started. Sign in again.",
			"state mismatch", nil)
		return
	}
	code := q.Get("code")
	if code == "" {
		fail(http.StatusBadRequest, "GitLab sent no authorization code. Sign in again.", "no code", nil)
		return
	}
	ctx, cancel := o.providerContext(r.Context())
	defer cancel()
	tok, err := o.oauth(flow.RedirectURI).Exchange(ctx, code, oauth2.VerifierOption(flow.Verifier))
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) {
			fail(http.StatusUnauthorized, "GitLab refused the sign-in. Sign in again.", "code exchange refused", err)
		} else {
			fail(http.StatusBadGateway, "GitLab could not be reached to finish the sign-in. Try again later.",
				"code exchange failed", err)
		}
		return
	}
	rawID, _ := tok.Extra("id_token").(string)
	if rawID == "" {
		fail(http.StatusUnauthorized, "GitLab sent no ID token (is the openid scope allowed for this application?).",
			"no id_token", nil)
		return
	}
	idt, err := o.verifier.Verify(ctx, rawID)
	if err != nil {
		fail(http.StatusUnauthorized, "GitLab's answer could not be verified. Sign in again.", "ID token rejected", err)
		return
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(flow.Nonce)) != 1 {
		fail(http.StatusUnauthorized, "GitLab's answer could not be verified. Sign in again.", "nonce mismatch", nil)
		return
	}
	if idt.AccessTokenHash != "" {
		if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
			fail(http.StatusUnauthorized, "GitLab's answer could not be verified. Sign in again.", "at_hash mismatch", err)
			return
		}
	}
	var claims struct {
		Nickname          string `json:"nickname"`
		PreferredUsername string `json:"preferred_username"`
		Name              string `json:"name"`
	}
	if err := idt.Claims(&claims); err != nil {
		fail(http.StatusUnauthorized, "GitLab's answer could not be read. Sign in again.", "ID token claims", err)
		return
	}
	sess := Session{
		AccessToken:  tok.AccessToken,
		RefreshToken: tok.RefreshToken,
		TokenExpiry:  tok.Expiry,
		Username:     cmp.Or(claims.PreferredUsername, claims.Nickname, idt.Subject),
		Name:         claims.Name,
	}
	if err := o.sessions.Save(w, r, sess); err != nil {
		o.log.ErrorContext(r.Context(), "sign-in: save the session", "err", err)
		renderMessage(w, r, http.StatusInternalServerError, "Sign-in failed",
			"The server could not store the session. Try again later.", PathLogin)
		return
	}
	_, _, prefix := ExternalBase(r)
	http.Redirect(w, r, SafeNext(flow.Next, prefix), http.StatusSeeOther)
}

// Logout answers GET /auth/logout: it clears the session cookie and
// redirects to the sign-in page.
func (o *OIDC) Logout(w http.ResponseWriter, r *http.Request) {
	o.sessions.Clear(w, r)
	_, _, prefix := ExternalBase(r)
	http.Redirect(w, r, prefix+PathIndex, http.StatusSeeOther)
}

// RefreshSession is middleware that renews the GitLab access token of a
// session about to expire (GitLab OAuth tokens last two hours, sessions a
// month) with its refresh token, writes the new session cookie, and lets the
// rest of the request see the new token. Concurrent requests carrying the
// same refresh token share one refresh (GitLab rotates refresh tokens, so a
// second one would fail); a failed refresh leaves the request as it came, so
// that the expired token reads as no session.
func (o *OIDC) RefreshSession(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sess, err := o.sessions.Load(r)
		if err != nil || sess.RefreshToken == "" || sess.TokenExpiry.IsZero() ||
			o.now().Add(refreshMargin).Before(sess.TokenExpiry) {
			next.ServeHTTP(w, r)
			return
		}
		fresh, err := o.refresh(r.Context(), sess)
		if err != nil {
			o.log.InfoContext(r.Context(), "session refresh failed", "user", sess.Username, "err", err)
			next.ServeHTTP(w, r)
			return
		}
		if err := o.sessions.Save(w, r, fresh); err != nil {
			o.log.ErrorContext(r.Context(), "session refresh: save the session", "err", err)
		}
		next.ServeHTTP(w, withSession(r, fresh))
	})
}

type refreshCall struct {
	done chan struct{}
	at   time.Time
	sess Session
	err  error
}

// refresh exchanges sess's refresh token, once per refresh token: callers
// arriving during the exchange or up to refreshKeep after it get its result.
func (o *OIDC) refresh(ctx context.Context, sess Session) (Session, error) {
	key := sha256.Sum256([]byte(sess.RefreshToken))
	o.mu.Lock()
	now := o.now()
	for k, c := range o.refreshes {
		select {
		case <-c.done:
			if now.Sub(c.at) > refreshKeep {
				delete(o.refreshes, k)
			}
		default:
		}
	}
	if c, ok := o.refreshes[key]; ok {
		o.mu.Unlock()
		select {
		case <-c.done:
			return c.sess, c.err
		case <-ctx.Done():
			return Session{}, ctx.Err()
		}
	}
	c := &refreshCall{done: make(chan struct{}), at: now}
	o.refreshes[key] = c
	o.mu.Unlock()

	// The exchange serves every waiter: it must not die with this request.
	pctx, cancel := o.providerContext(context.WithoutCancel(ctx))
	defer cancel()
	tok, err := o.oauth("").TokenSource(pctx, &oauth2.Token{RefreshToken: sess.RefreshToken}).Token()
	if err == nil {
		c.sess = Session{
			AccessToken:  tok.AccessToken,
			RefreshToken: cmp.Or(tok.RefreshToken, sess.RefreshToken),
			TokenExpiry:  tok.Expiry,
			Username:     sess.Username,
			Name:         sess.Name,
		}
	}
	c.err = err
	o.mu.Lock()
	c.at = o.now()
	o.mu.Unlock()
	close(c.done)
	return c.sess, c.err
}

// randomString returns 256 random bits, base64url-encoded.
func randomString() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b)
}
