package auth

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

const browserAccept = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"

func TestIsAPIClient(t *testing.T) {
	tests := []struct {
		name    string
		method  string
		path    string
		headers map[string]string
		want    bool
	}{
		{"mlflow client", "GET", "/g/p/tracking/", map[string]string{"User-Agent": "mlflow-python-client/2.14.1"}, true},
		{"mlflow client 3", "GET", "/", map[string]string{"User-Agent": "mlflow-python-client/3.18.0", "Accept": "*/*"}, true},
		{"json accept", "GET", "/", map[string]string{"Accept": "application/json"}, true},
		{"json accept with params", "GET", "/", map[string]string{"Accept": "application/json; charset=utf-8"}, true},
		{"axios accept", "GET", "/", map[string]string{"Accept": "application/json, text/plain, */*"}, true},
		{"problem+json", "GET", "/", map[string]string{"Accept": "application/problem+json"}, true},
		{"json content type", "POST", "/", map[string]string{"Content-Type": "application/json"}, true},
		{"xhr", "GET", "/", map[string]string{"X-Requested-With": "XMLHttpRequest"}, true},
		{"api path", "GET", "/api/2.0/mlflow/experiments/search", map[string]string{"Accept": browserAccept}, true},
		{"ajax-api path", "GET", "/ajax-api/2.0/mlflow/runs/get", nil, true},
		{"project api path", "GET", "/a/b/c/tracking/api/2.0/mlflow/runs/get", map[string]string{"Accept": browserAccept}, true},
		{"project ajax-api path", "POST", "/a/tracking/ajax-api/2.0/mlflow/runs/search", nil, true},
		{"artifacts api", "PUT", "/a/tracking/api/2.0/mlflow-artifacts/artifacts/1/x", map[string]string{"User-Agent": "python-requests/2.32"}, true},

		{"browser page", "GET", "/g/p/tracking/", map[string]string{"Accept": browserAccept, "User-Agent": "Mozilla/5.0"}, false},
		{"browser root", "GET", "/", map[string]string{"Accept": browserAccept}, false},
		{"browser asking html and json", "GET", "/", map[string]string{"Accept": "text/html, application/json"}, false},
		{"no accept at all", "GET", "/g/p/tracking/", nil, false},
		{"curl default", "GET", "/", map[string]string{"Accept": "*/*", "User-Agent": "curl/8"}, false},
		{"mlflow in the UA but not the client prefix", "GET", "/", map[string]string{"User-Agent": "my-mlflow-python-client/1"}, false},
		{"project named api is not the api", "GET", "/api-group/p/tracking/", map[string]string{"Accept": browserAccept}, false},
		{"bad accept ignored", "GET", "/", map[string]string{"Accept": ";;;"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, tt.path, nil)
			for k, v := range tt.headers {
				r.Header.Set(k, v)
			}
			if got := IsAPIClient(r); got != tt.want {
				t.Errorf("IsAPIClient = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestUnauthenticatedAPIClient(t *testing.T) {
	p := &Pages{AutoRedirect: true, SharingHub: &SharingHubLogin{URL: "https://hub.example"}}
	r := httptest.NewRequest("POST", "/g/p/tracking/api/2.0/mlflow/runs/create", nil)
	r.Header.Set("User-Agent", "mlflow-python-client/3.18.0")
	rec := httptest.NewRecorder()
	p.Unauthenticated(rec, r, nil)
	res := rec.Result()
	if res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("status %d, want 401", res.StatusCode)
	}
	if got := res.Header.Get("WWW-Authenticate"); got != `Bearer realm="mlflow"` {
		t.Errorf("WWW-Authenticate = %q", got)
	}
	if ct := res.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	var body map[string]string
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	if body["error_code"] != "UNAUTHENTICATED" || !strings.Contains(body["message"], "MLFLOW_TRACKING_TOKEN") ||
		!strings.Contains(body["message"], "GitLab access token") || len(body) != 2 {
		t.Errorf("body = %v", body)
	}

	// A malformed credential says what was wrong, then how to fix it.
	rec = httptest.NewRecorder()
	_, err := FromRequest(func() *http.Request { r.Header.Set("Authorization", "Bearer"); return r }(), nil, Options{})
	p.Unauthenticated(rec, r, err)
	_ = json.NewDecoder(rec.Result().Body).Decode(&body)
	if !strings.HasPrefix(body["message"], "malformed credentials: Authorization: Bearer: the token is empty. ") ||
		!strings.Contains(body["message"], "MLFLOW_TRACKING_TOKEN") {
		t.Errorf("message = %q", body["message"])
	}

	// Static mode's own help.
	p.TokenHelp = "Use a token from the projects file."
	rec = httptest.NewRecorder()
	p.Unauthenticated(rec, r, nil)
	_ = json.NewDecoder(rec.Result().Body).Decode(&body)
	if body["message"] != p.TokenHelp {
		t.Errorf("message = %q", body["message"])
	}
}

func TestUnauthenticatedBrowser(t *testing.T) {
	browser := func() *http.Request {
		r := httptest.NewRequest("GET", "/g/p/tracking/?x=1", nil)
		r.Header.Set("Accept", browserAccept)
		r.Header.Set("X-Forwarded-Prefix", "/mlflow")
		return r
	}
	hub := &SharingHubLogin{URL: "https://hub.example"}

	t.Run("auto redirect", func(t *testing.T) {
		rec := httptest.NewRecorder()
		(&Pages{AutoRedirect: true, SharingHub: hub}).Unauthenticated(rec, browser(), nil)
		want := "/mlflow/auth/login?next=" + url.QueryEscape("/mlflow/g/p/tracking/?x=1")
		if rec.Code != http.StatusFound || rec.Header().Get("Location") != want {
			t.Errorf("got %d Location %q, want 302 %q", rec.Code, rec.Header().Get("Location"), want)
		}
	})
	t.Run("login page", func(t *testing.T) {
		rec := httptest.NewRecorder()
		(&Pages{SharingHub: hub}).Unauthenticated(rec, browser(), nil)
		body := rec.Body.String()
		link := fmt.Sprintf(`href="/mlflow/auth/login?next=%s"`, url.QueryEscape("/mlflow/g/p/tracking/?x=1"))
		if rec.Code != http.StatusUnauthorized || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") ||
			!strings.Contains(body, "Sign in with SharingHub") || !strings.Contains(body, strings.ReplaceAll(link, "&", "&amp;")) {
			t.Errorf("got %d %q:\n%s", rec.Code, rec.Header().Get("Content-Type"), body)
		}
	})
	t.Run("auto redirect without a sign-in gives the page", func(t *testing.T) {
		rec := httptest.NewRecorder()
		(&Pages{AutoRedirect: true}).Unauthenticated(rec, browser(), nil)
		if rec.Code != http.StatusUnauthorized || strings.Contains(rec.Body.String(), "Sign in with") ||
			!strings.Contains(rec.Body.String(), "MLFLOW_TRACKING_TOKEN") {
			t.Errorf("got %d:\n%s", rec.Code, rec.Body.String())
		}
	})
	t.Run("html is escaped", func(t *testing.T) {
		r := browser()
		r.Header.Set("Authorization", `Token <script>`)
		_, err := FromRequest(r, nil, Options{})
		rec := httptest.NewRecorder()
		(&Pages{}).Unauthenticated(rec, r, err)
		if strings.Contains(rec.Body.String(), "<script>") {
			t.Errorf("unescaped: %s", rec.Body.String())
		}
	})
}
