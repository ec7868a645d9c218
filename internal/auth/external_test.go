package auth

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestExternalBase(t *testing.T) {
	tests := []struct {
		name                          string
		host                          string
		tls                           bool
		headers                       map[string]string
		wantScheme, wantHost, wantPfx string
	}{
		{"direct", "localhost:5000", false, nil, "http", "localhost:5000", ""},
		{"direct tls", "h.example", true, nil, "https", "h.example", ""},
		{"proto", "h", false, map[string]string{"X-Forwarded-Proto": "https"}, "https", "h", ""},
		{"proto upper case", "h", false, map[string]string{"X-Forwarded-Proto": "HTTPS"}, "https", "h", ""},
		{"proto list, first wins", "h", false, map[string]string{"X-Forwarded-Proto": "https, http"}, "https", "h", ""},
		{"proto junk ignored", "h", true, map[string]string{"X-Forwarded-Proto": "javascript"}, "https", "h", ""},
		{"proto http over tls hop", "h", true, map[string]string{"X-Forwarded-Proto": "http"}, "http", "h", ""},
		{"host", "internal:5000", false, map[string]string{"X-Forwarded-Host": "hub.example.com"}, "http", "hub.example.com", ""},
		{"host with port", "i", false, map[string]string{"X-Forwarded-Host": "hub.example.com:8443"}, "http", "hub.example.com:8443", ""},
		{"host ipv6", "i", false, map[string]string{"X-Forwarded-Host": "[::1]:8080"}, "http", "[::1]:8080", ""},
		{"host list", "i", false, map[string]string{"X-Forwarded-Host": "a.example, b.internal"}, "http", "a.example", ""},
		{"host with path ignored", "i", false, map[string]string{"X-Forwarded-Host": "evil.com/x"}, "http", "i", ""},
		{"host with userinfo ignored", "i", false, map[string]string{"X-Forwarded-Host": "a@evil.com"}, "http", "i", ""},
		{"prefix", "h", false, map[string]string{"X-Forwarded-Prefix": "/mlflow"}, "http", "h", "/mlflow"},
		{"prefix trailing slash", "h", false, map[string]string{"X-Forwarded-Prefix": "/mlflow/"}, "http", "h", "/mlflow"},
		{"prefix without leading slash", "h", false, map[string]string{"X-Forwarded-Prefix": "mlflow"}, "http", "h", "/mlflow"},
		{"prefix nested", "h", false, map[string]string{"X-Forwarded-Prefix": "/a/b"}, "http", "h", "/a/b"},
		{"prefix root", "h", false, map[string]string{"X-Forwarded-Prefix": "/"}, "http", "h", ""},
		{"prefix list", "h", false, map[string]string{"X-Forwarded-Prefix": "/outer,/inner"}, "http", "h", "/outer"},
		{"script name", "h", false, map[string]string{"X-Script-Name": "/mlflow"}, "http", "h", "/mlflow"},
		{"forwarded prefix beats script name", "h", false, map[string]string{"X-Forwarded-Prefix": "/a", "X-Script-Name": "/b"}, "http", "h", "/a"},
		{"prefix double slash ignored", "h", false, map[string]string{"X-Forwarded-Prefix": "//evil.com"}, "http", "h", ""},
		{"prefix dot-dot ignored", "h", false, map[string]string{"X-Forwarded-Prefix": "/a/../b"}, "http", "h", ""},
		{"prefix backslash ignored", "h", false, map[string]string{"X-Forwarded-Prefix": `/\evil.com`}, "http", "h", ""},
		{"prefix with query ignored, script name used", "h", false, map[string]string{"X-Forwarded-Prefix": "/a?x", "X-Script-Name": "/b"}, "http", "h", "/b"},
		{"all together", "10.0.0.5:5000", false, map[string]string{"X-Forwarded-Proto": "https", "X-Forwarded-Host": "sharinghub.example.com",
			"X-Forwarded-Prefix": "/mlflow"}, "https", "sharinghub.example.com", "/mlflow"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/x", nil)
			r.Host = tt.host
			if tt.tls {
				r.TLS = &tls.ConnectionState{}
			} else {
				r.TLS = nil
			}
			for k, v := range tt.headers {
				r.Header.Set(k, v)
			}
			s, h, p := ExternalBase(r)
			if s != tt.wantScheme || h != tt.wantHost || p != tt.wantPfx {
				t.Errorf("ExternalBase = %q, %q, %q; want %q, %q, %q", s, h, p, tt.wantScheme, tt.wantHost, tt.wantPfx)
			}
		})
	}
}

func TestExternalURL(t *testing.T) {
	r := httptest.NewRequest("GET", "/auth/login", nil)
	r.Host = "10.0.0.5:5000"
	r.Header.Set("X-Forwarded-Proto", "https")
	r.Header.Set("X-Forwarded-Host", "hub.example.com")
	r.Header.Set("X-Forwarded-Prefix", "/mlflow")
	if got, want := ExternalURL(r, PathCallback), "https://hub.example.com/mlflow/auth/authorize"; got != want {
		t.Errorf("ExternalURL = %q, want %q", got, want)
	}
}

func TestSafeNext(t *testing.T) {
	tests := []struct {
		next, prefix, want string
	}{
		{"", "", "/"},
		{"", "/mlflow", "/mlflow/"},
		{"/", "", "/"},
		{"/a/b/tracking/", "", "/a/b/tracking/"},
		{"/a/b/tracking/#/experiments/3", "", "/a/b/tracking/#/experiments/3"},
		{"/a/tracking/?x=1&y=2", "", "/a/tracking/?x=1&y=2"},
		{"/mlflow/a/tracking/", "/mlflow", "/mlflow/a/tracking/"},
		{"/mlflow", "/mlflow", "/mlflow"},
		{"/a/%2F%2Fevil.com", "", "/a/%2F%2Fevil.com"}, // a path, not a host

		// Rejected: not a relative path on our host.
		{"//evil.com", "", "/"},
		{"//evil.com/x", "/mlflow", "/mlflow/"},
		{"///evil.com", "", "/"},
		{`/\evil.com`, "", "/"},
		{`\\evil.com`, "", "/"},
		{`/a\b`, "", "/"},
		{"https://evil.com", "", "/"},
		{"https://ourhost/x", "", "/"},
		{"http:/evil.com", "", "/"},
		{"javascript:alert(1)", "", "/"},
		{"evil.com", "", "/"},
		{"a/b", "", "/"},
		{"/\t/evil.com", "", "/"},
		{"/\n/evil.com", "", "/"},
		{"/\r\nSet-Cookie: x=y", "", "/"},
		{"/%zz", "", "/"},
		// Outside the prefix.
		{"/other-app/", "/mlflow", "/mlflow/"},
		{"/mlflowx/", "/mlflow", "/mlflow/"},
		{"/mlflow/../other/", "/mlflow", "/mlflow/"},
		{"/mlflow/./a/../../x", "/mlflow", "/mlflow/"},
	}
	for _, tt := range tests {
		if got := SafeNext(tt.next, tt.prefix); got != tt.want {
			t.Errorf("SafeNext(%q, %q) = %q, want %q", tt.next, tt.prefix, got, tt.want)
		}
	}
}

func TestRequestPath(t *testing.T) {
	r := httptest.NewRequest("GET", "/g/p/tracking/?x=1", nil)
	r.Header.Set("X-Forwarded-Prefix", "/mlflow")
	// A router that strips the project part rewrites r.URL, not RequestURI.
	r2 := r.Clone(r.Context())
	r2.URL.Path = "/"
	if got, want := requestPath(r2), "/mlflow/g/p/tracking/?x=1"; got != want {
		t.Errorf("requestPath = %q, want %q", got, want)
	}
	r3 := &http.Request{Method: "GET", URL: r.URL, Header: http.Header{}} // no RequestURI (client-made)
	if got, want := requestPath(r3), "/g/p/tracking/?x=1"; got != want {
		t.Errorf("requestPath without RequestURI = %q, want %q", got, want)
	}
}
