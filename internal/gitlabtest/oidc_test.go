package gitlabtest

import (
	"context"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// TestOIDCCodeFlow signs a user in with the authorization code flow and
// PKCE, verifies the ID token against the discovered JWKS, and uses the
// access token on the REST API, as the server's browser sign-in does.
func TestOIDCCodeFlow(t *testing.T) {
	s := New()
	t.Cleanup(s.Close)
	s.AddUser(User{Username: "ada", Name: "Ada Lovelace"})
	const callback = "http://mlflow.example/auth/authorize"
	o := s.EnableOIDC(OAuthApp{ClientID: "app", ClientSecret: "s3cret", RedirectURIs: []string{callback}})

	ctx := oidc.ClientContext(context.Background(), s.Client())
	p, err := oidc.NewProvider(ctx, s.URL) // fails unless the issuer is the GitLab URL
	if err != nil {
		t.Fatal(err)
	}
	ep := p.Endpoint()
	ep.AuthStyle = oauth2.AuthStyleInHeader // no retry with the other style: a code is single-use
	cfg := &oauth2.Config{ClientID: "app", ClientSecret: "s3cret", Endpoint: ep, RedirectURL: callback,
		Scopes: []string{oidc.ScopeOpenID, "read_api"}}
	verifier := oauth2.GenerateVerifier()
	authURL := cfg.AuthCodeURL("st4te", oidc.Nonce("n0nce"), oauth2.S256ChallengeOption(verifier))

	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	location := func(u string) *url.URL {
		t.Helper()
		res, err := browser.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		loc, err := res.Location()
		if res.StatusCode != http.StatusFound || err != nil {
			t.Fatalf("GET %s: %d %v, want a redirect", u, res.StatusCode, err)
		}
		return loc
	}

	// Not signed in to GitLab: the GitLab sign-in page.
	if loc := location(authURL); loc.String() != s.URL+"/users/sign_in" {
		t.Fatalf("authorize without a GitLab session redirects to %s", loc)
	}
	gl, _ := url.Parse(s.URL)
	jar.SetCookies(gl, []*http.Cookie{o.SessionCookie("ada")})
	loc := location(authURL)
	if got := loc.Scheme + "://" + loc.Host + loc.Path; got != callback || loc.Query().Get("state") != "st4te" {
		t.Fatalf("authorize redirects to %s", loc)
	}
	code := loc.Query().Get("code")

	if _, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(oauth2.GenerateVerifier())); err == nil {
		t.Fatal("a wrong PKCE verifier was accepted")
	}
	// The code is single-use, even after a failed exchange: sign in again.
	code = location(authURL).Query().Get("code")
	tok, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := p.Verifier(&oidc.Config{ClientID: "app"}).Verify(ctx, raw)
	if err != nil {
		t.Fatal(err)
	}
	var claims struct {
		Nickname string `json:"nickname"`
		Name     string `json:"name"`
	}
	if err := idt.Claims(&claims); err != nil {
		t.Fatal(err)
	}
	if idt.Nonce != "n0nce" || claims.Nickname != "ada" || claims.Name != "Ada Lovelace" || idt.Subject != "1" {
		t.Errorf("ID token: nonce %q sub %q claims %+v", idt.Nonce, idt.Subject, claims)
	}
	if who, ok := o.TokenOwner(tok.AccessToken); !ok || who != "ada" {
		t.Errorf("TokenOwner = %q, %v", who, ok)
	}
	code2, _, body := get(t, s.URL+"/api/v4/user", "Authorization", "Bearer "+tok.AccessToken)
	if code2 != http.StatusOK || field(body, "username") != "ada" {
		t.Errorf("GET /user with the OAuth token: %d %v", code2, body)
	}
	if n := s.Calls(EndpointOIDCToken); n != 2 {
		t.Errorf("token endpoint calls = %d, want 2", n)
	}

	// Refresh rotates the tokens and revokes the old access token.
	fresh, err := cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
	if err != nil {
		t.Fatal(err)
	}
	if st, _, _ := get(t, s.URL+"/api/v4/user", "Authorization", "Bearer "+tok.AccessToken); st != http.StatusUnauthorized {
		t.Errorf("old access token after refresh: %d, want 401", st)
	}
	if st, _, _ := get(t, s.URL+"/api/v4/user", "Authorization", "Bearer "+fresh.AccessToken); st != http.StatusOK {
		t.Errorf("refreshed access token: %d, want 200", st)
	}

	// An unregistered redirect_uri is an error page, never a redirect.
	bad := *cfg
	bad.RedirectURL = "http://evil.example/cb"
	res, err := browser.Get(bad.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier)))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusBadRequest {
		t.Errorf("unregistered redirect_uri: %d, want 400", res.StatusCode)
	}
}
