package oidctest

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// noFollow is a client that shows redirects instead of following them.
func noFollow(p *Provider) *http.Client {
	c := *p.Client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &c
}

const verifier = "0123456789012345678901234567890123456789abc" // 43 characters

func authorizeURL(p *Provider, mod func(url.Values)) string {
	q := url.Values{
		"client_id":             {"app"},
		"response_type":         {"code"},
		"redirect_uri":          {"https://app.example/cb"},
		"scope":                 {"openid profile"},
		"state":                 {"st"},
		"nonce":                 {"no"},
		"code_challenge":        {b64sha256(verifier)},
		"code_challenge_method": {"S256"},
	}
	if mod != nil {
		mod(q)
	}
	return p.URL + "/oauth/authorize?" + q.Encode()
}

func TestAuthorizeChecks(t *testing.T) {
	p := Start(t, Config{ClientID: "app", ClientSecret: "sec", RedirectURIs: []string{"https://app.example/cb"}})
	c := noFollow(p)
	tests := []struct {
		name      string
		mod       func(url.Values)
		wantCode  int
		wantError string // error in the redirect back
	}{
		{"ok", nil, http.StatusFound, ""},
		{"unknown client", func(q url.Values) { q.Set("client_id", "x") }, http.StatusBadRequest, ""},
		{"unregistered redirect", func(q url.Values) { q.Set("redirect_uri", "https://evil.example/cb") }, http.StatusBadRequest, ""},
		{"no PKCE", func(q url.Values) { q.Del("code_challenge") }, http.StatusFound, "invalid_request"},
		{"plain PKCE", func(q url.Values) { q.Set("code_challenge_method", "plain") }, http.StatusFound, "invalid_request"},
		{"no openid", func(q url.Values) { q.Set("scope", "api") }, http.StatusFound, "invalid_scope"},
		{"no state", func(q url.Values) { q.Del("state") }, http.StatusFound, "invalid_request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := c.Get(authorizeURL(p, tt.mod))
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != tt.wantCode {
				t.Fatalf("status %d, want %d", res.StatusCode, tt.wantCode)
			}
			if tt.wantCode != http.StatusFound {
				return
			}
			loc, _ := url.Parse(res.Header.Get("Location"))
			if got := loc.Query().Get("error"); got != tt.wantError {
				t.Errorf("error %q, want %q", got, tt.wantError)
			}
			if tt.wantError == "" && (loc.Query().Get("code") == "" || loc.Query().Get("state") != "st") {
				t.Errorf("redirect %s lacks code or state", loc)
			}
		})
	}
}

func TestTokenPostAuthAndRefresh(t *testing.T) {
	p := Start(t, Config{ClientID: "app", ClientSecret: "sec", User: User{Subject: "7", Username: "bob"}})
	c := noFollow(p)
	res, err := c.Get(authorizeURL(p, nil))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	loc, _ := url.Parse(res.Header.Get("Location"))
	token := func(form url.Values) (int, map[string]any) {
		res, err := c.PostForm(p.URL+"/oauth/token", form)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var body map[string]any
		_ = json.NewDecoder(res.Body).Decode(&body)
		return res.StatusCode, body
	}
	status, body := token(url.Values{"grant_type": {"authorization_code"}, "code": {loc.Query().Get("code")},
		"redirect_uri": {"https://app.example/cb"}, "code_verifier": {verifier},
		"client_id": {"app"}, "client_secret": {"sec"}})
	if status != http.StatusOK || body["id_token"] == nil || strings.Count(body["id_token"].(string), ".") != 2 {
		t.Fatalf("code exchange with client_secret_post: %d %v", status, body)
	}
	at, rt := body["access_token"].(string), body["refresh_token"].(string)
	if i, ok := p.AccessToken(at); !ok || i.User.Username != "bob" {
		t.Errorf("access token not recorded: %v %v", i, ok)
	}

	// userinfo.
	req, _ := http.NewRequest("GET", p.URL+"/oauth/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+at)
	res, err = c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Errorf("userinfo: %d", res.StatusCode)
	}

	// Refresh rotates: the old refresh token works once.
	refresh := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {"app"}, "client_secret": {"sec"}}
	if status, body := token(refresh); status != http.StatusOK || body["access_token"] == at {
		t.Fatalf("refresh: %d %v", status, body)
	}
	if status, body := token(refresh); status != http.StatusBadRequest || body["error"] != "invalid_grant" {
		t.Fatalf("second refresh with the same token: %d %v", status, body)
	}
}
