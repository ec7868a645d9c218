package gitlabtest

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
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// OIDC endpoint names, for Calls.
const (
	EndpointOIDCDiscovery = "GET /.well-known/openid-configuration"
	EndpointOIDCKeys      = "GET /oauth/discovery/keys"
	EndpointOIDCAuthorize = "GET /oauth/authorize"
	EndpointOIDCToken     = "POST /oauth/token"
	EndpointOIDCUserinfo  = "GET /oauth/userinfo"
)

// GitLabSessionCookie is the cookie of a browser signed in to the double
// (GitLab's own session cookie name); OIDC.SessionCookie makes one.
const GitLabSessionCookie = "_gitlab_session"

// OAuthApp is an OAuth application registered on the double (GitLab:
// Admin area or user settings → Applications).
type OAuthApp struct {
	ClientID, ClientSecret string
	// RedirectURIs are the registered callback URLs; GitLab accepts only
	// these, compared exactly.
	RedirectURIs []string
}

// OIDC is GitLab's OpenID Connect provider on the double, shaped like
// GitLab's: discovery at /.well-known/openid-configuration with the GitLab
// URL as issuer, JWKS at /oauth/discovery/keys, /oauth/authorize (which
// signs in the user of the browser's GitLab session cookie and approves at
// once), /oauth/token (authorization_code with PKCE, refresh_token) and
// /oauth/userinfo. The access tokens it issues are OAuth tokens of the
// double: GET /api/v4/user and the other API endpoints accept them. The
// endpoints obey the outage switch and are counted by Calls.
type OIDC struct {
	gl  *Server
	key *rsa.PrivateKey
	kid string

	mu       sync.Mutex
	apps     map[string]OAuthApp
	sessions map[string]string // GitLab session cookie → username
	codes    map[string]oauthCode
	refresh  map[string]oauthRefresh
	access   map[string]string // access token → refresh token issued with it
}

type oauthCode struct {
	username    string
	clientID    string
	redirectURI string
	challenge   string
	nonce       string
	scope       string
	expires     time.Time
}

type oauthRefresh struct {
	username, clientID, scope, accessToken string
}

// EnableOIDC adds the OpenID Connect endpoints to the double with the given
// applications registered, and returns the provider.
func (s *Server) EnableOIDC(apps ...OAuthApp) *OIDC {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic("gitlabtest: generate the OIDC key: " + err.Error())
	}
	o := &OIDC{
		gl:       s,
		key:      key,
		kid:      rand.Text()[:12],
		apps:     map[string]OAuthApp{},
		sessions: map[string]string{},
		codes:    map[string]oauthCode{},
		refresh:  map[string]oauthRefresh{},
		access:   map[string]string{},
	}
	for _, a := range apps {
		o.AddApp(a)
	}
	s.Handle(EndpointOIDCDiscovery, http.HandlerFunc(o.discovery))
	s.Handle(EndpointOIDCKeys, http.HandlerFunc(o.jwks))
	s.Handle(EndpointOIDCAuthorize, http.HandlerFunc(o.authorize))
	s.Handle(EndpointOIDCToken, http.HandlerFunc(o.token))
	s.Handle(EndpointOIDCUserinfo, http.HandlerFunc(o.userinfo))
	return o
}

// AddApp registers (or replaces) an OAuth application.
func (o *OIDC) AddApp(a OAuthApp) {
	o.mu.Lock()
	defer o.mu.Unlock()
	a.RedirectURIs = slices.Clone(a.RedirectURIs)
	o.apps[a.ClientID] = a
}

// SessionCookie signs username in to GitLab and returns the session cookie
// a browser would then hold for the GitLab URL.
func (o *OIDC) SessionCookie(username string) *http.Cookie {
	o.gl.UserID(username) // panics for an unknown user
	v := rand.Text()
	o.mu.Lock()
	o.sessions[v] = username
	o.mu.Unlock()
	return &http.Cookie{Name: GitLabSessionCookie, Value: v, Path: "/", HttpOnly: true}
}

// TokenOwner returns the user an access token was issued to by the token
// endpoint.
func (o *OIDC) TokenOwner(accessToken string) (username string, ok bool) {
	o.mu.Lock()
	_, issued := o.access[accessToken]
	o.mu.Unlock()
	if !issued {
		return "", false
	}
	o.gl.mu.Lock()
	defer o.gl.mu.Unlock()
	t := o.gl.tokens[accessToken]
	if t == nil || t.revoked {
		return "", false
	}
	return t.user.Username, true
}

// discovery serves GET /.well-known/openid-configuration.
func (o *OIDC) discovery(w http.ResponseWriter, _ *http.Request) {
	base := o.gl.URL
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                base,
		"authorization_endpoint":                base + "/oauth/authorize",
		"token_endpoint":                        base + "/oauth/token",
		"revocation_endpoint":                   base + "/oauth/revoke",
		"introspection_endpoint":                base + "/oauth/introspect",
		"userinfo_endpoint":                     base + "/oauth/userinfo",
		"jwks_uri":                              base + "/oauth/discovery/keys",
		"scopes_supported":                      []string{"api", "read_api", "read_user", "openid", "profile", "email"},
		"response_types_supported":              []string{"code"},
		"response_modes_supported":              []string{"query", "fragment", "form_post"},
		"grant_types_supported":                 []string{"authorization_code", "password", "client_credentials", "refresh_token"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"claim_types_supported":                 []string{"normal"},
		"claims_supported": []string{"iss", "sub", "aud", "exp", "iat", "sub_legacy", "name", "nickname",
			"preferred_username", "email", "email_verified", "website", "profile", "picture", "groups"},
		"code_challenge_methods_supported": []string{"plain", "S256"},
	})
}

// jwks serves GET /oauth/discovery/keys.
func (o *OIDC) jwks(w http.ResponseWriter, _ *http.Request) {
	pub := o.key.PublicKey
	writeJSON(w, http.StatusOK, map[string]any{"keys": []map[string]string{{
		"kty": "RSA", "alg": "RS256", "use": "sig", "kid": o.kid,
		"n": b64(pub.N.Bytes()), "e": b64(big.NewInt(int64(pub.E)).Bytes()),
	}}})
}

// authorize serves GET /oauth/authorize. Like GitLab, it answers an unknown
// client or redirect_uri with an error page (never a redirect), sends a
// browser without a GitLab session to the sign-in page, and otherwise
// redirects back to redirect_uri with code and state, or with an error.
func (o *OIDC) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	o.mu.Lock()
	app, known := o.apps[q.Get("client_id")]
	var username string
	if c, err := r.Cookie(GitLabSessionCookie); err == nil {
		username = o.sessions[c.Value]
	}
	o.mu.Unlock()
	redirectURI := q.Get("redirect_uri")
	if !known {
		http.Error(w, "Client authentication failed due to unknown client.", http.StatusUnauthorized)
		return
	}
	u, err := url.Parse(redirectURI)
	if err != nil || !slices.Contains(app.RedirectURIs, redirectURI) {
		http.Error(w, "The redirect uri included is not valid.", http.StatusBadRequest)
		return
	}
	if username == "" {
		http.Redirect(w, r, o.gl.URL+"/users/sign_in", http.StatusFound)
		return
	}
	back := func(params url.Values) {
		params.Set("state", q.Get("state"))
		u.RawQuery = params.Encode()
		http.Redirect(w, r, u.String(), http.StatusFound)
	}
	scopes := strings.Fields(q.Get("scope"))
	switch {
	case q.Get("response_type") != "code":
		back(url.Values{"error": {"unsupported_response_type"}, "error_description": {"The authorization server does not support this response type."}})
	case !slices.Contains(scopes, "openid"):
		back(url.Values{"error": {"invalid_scope"}, "error_description": {"The requested scope is invalid, unknown, or malformed."}})
	case q.Get("code_challenge") != "" && q.Get("code_challenge_method") != "S256" && q.Get("code_challenge_method") != "plain":
		back(url.Values{"error": {"invalid_request"}, "error_description": {"Code challenge method is not supported."}})
	default:
		code := rand.Text()
		o.mu.Lock()
		o.codes[code] = oauthCode{
			username: username, clientID: app.ClientID, redirectURI: redirectURI,
			challenge: q.Get("code_challenge"), nonce: q.Get("nonce"), scope: strings.Join(scopes, " "),
			expires: time.Now().Add(10 * time.Minute),
		}
		o.mu.Unlock()
		back(url.Values{"code": {code}})
	}
}

// token serves POST /oauth/token.
func (o *OIDC) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", "The request is missing a required parameter.")
		return
	}
	id, secret, basic := r.BasicAuth()
	if basic {
		id, _ = url.QueryUnescape(id)
		secret, _ = url.QueryUnescape(secret)
	} else {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	o.mu.Lock()
	app, known := o.apps[id]
	o.mu.Unlock()
	if !known || subtle.ConstantTimeCompare([]byte(secret), []byte(app.ClientSecret)) != 1 {
		oauthError(w, http.StatusUnauthorized, "invalid_client", "Client authentication failed due to unknown client, no client authentication included, or unsupported authentication method.")
		return
	}
	invalidGrant := func() {
		oauthError(w, http.StatusBadRequest, "invalid_grant", "The provided authorization grant is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client.")
	}
	switch r.PostForm.Get("grant_type") {
	case "authorization_code":
		code := r.PostForm.Get("code")
		o.mu.Lock()
		g, ok := o.codes[code]
		delete(o.codes, code) // single use
		o.mu.Unlock()
		verifier := r.PostForm.Get("code_verifier")
		switch {
		case !ok || time.Now().After(g.expires) || g.clientID != id || r.PostForm.Get("redirect_uri") != g.redirectURI:
			invalidGrant()
		case g.challenge != "" && b64(sha256Sum(verifier)) != g.challenge:
			invalidGrant()
		default:
			o.issue(w, app, g.username, g.nonce, g.scope, true)
		}
	case "refresh_token":
		rt := r.PostForm.Get("refresh_token")
		o.mu.Lock()
		g, ok := o.refresh[rt]
		delete(o.refresh, rt) // rotated, as GitLab does
		o.mu.Unlock()
		if !ok || g.clientID != id {
			invalidGrant()
			return
		}
		o.gl.RevokeToken(g.accessToken)
		o.issue(w, app, g.username, "", g.scope, false)
	default:
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type", "The authorization grant type is not supported by the authorization server.")
	}
}

// issue answers a token request with new tokens for username; idToken says
// whether an ID token goes with them (the code grant with scope openid).
func (o *OIDC) issue(w http.ResponseWriter, app OAuthApp, username, nonce, scope string, idToken bool) {
	at := o.gl.NewOAuthToken(username)
	rt := rand.Text()
	o.mu.Lock()
	o.refresh[rt] = oauthRefresh{username: username, clientID: app.ClientID, scope: scope, accessToken: at}
	o.access[at] = rt
	o.mu.Unlock()
	now := time.Now()
	resp := map[string]any{
		"access_token":  at,
		"token_type":    "Bearer",
		"expires_in":    7200,
		"refresh_token": rt,
		"scope":         scope,
		"created_at":    now.Unix(),
	}
	if idToken {
		claims := o.claims(username)
		claims["aud"] = app.ClientID
		claims["exp"] = now.Add(2 * time.Minute).Unix()
		claims["iat"] = now.Unix()
		claims["auth_time"] = now.Unix()
		if nonce != "" {
			claims["nonce"] = nonce
		}
		signed, err := o.sign(claims)
		if err != nil {
			oauthError(w, http.StatusInternalServerError, "server_error", err.Error())
			return
		}
		resp["id_token"] = signed
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, resp)
}

// claims are the user claims GitLab puts in ID tokens and userinfo.
func (o *OIDC) claims(username string) map[string]any {
	o.gl.mu.Lock()
	defer o.gl.mu.Unlock()
	u := o.gl.userLocked(username)
	return map[string]any{
		"iss":                o.gl.URL,
		"sub":                strconv.FormatInt(u.ID, 10),
		"sub_legacy":         b64(sha256Sum("legacy:" + u.Username)),
		"name":               u.Name,
		"nickname":           u.Username,
		"preferred_username": u.Username,
		"email":              u.Email,
		"email_verified":     true,
		"profile":            o.gl.URL + "/" + u.Username,
		"picture":            o.gl.URL + "/uploads/-/system/user/avatar/" + strconv.FormatInt(u.ID, 10) + "/avatar.png",
		"groups_direct":      []string{},
	}
}

// userinfo serves GET /oauth/userinfo for a Bearer access token.
func (o *OIDC) userinfo(w http.ResponseWriter, r *http.Request) {
	tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	username, ok := o.TokenOwner(tok)
	if !ok {
		w.Header().Set("WWW-Authenticate", `Bearer realm="Doorkeeper", error="invalid_token", error_description="The access token is invalid"`)
		oauthError(w, http.StatusUnauthorized, "invalid_token", "The access token is invalid")
		return
	}
	c := o.claims(username)
	delete(c, "iss")
	writeJSON(w, http.StatusOK, c)
}

// sign returns the compact RS256 JWS of claims.
func (o *OIDC) sign(claims map[string]any) (string, error) {
	header, err := json.Marshal(map[string]string{"alg": "RS256", "typ": "JWT", "kid": o.kid})
	if err != nil {
		return "", err
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	signing := b64(header) + "." + b64(payload)
	sum := sha256Sum(signing)
	sig, err := rsa.SignPKCS1v15(rand.Reader, o.key, crypto.SHA256, sum)
	if err != nil {
		return "", err
	}
	return signing + "." + b64(sig), nil
}

func oauthError(w http.ResponseWriter, status int, code, desc string) {
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, status, map[string]string{"error": code, "error_description": desc})
}

func sha256Sum(s string) []byte {
	sum := sha256.Sum256([]byte(s))
	return sum[:]
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }
