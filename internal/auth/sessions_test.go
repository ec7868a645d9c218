package auth

import (
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

const time1s = time.Second

var testKey = []byte("0123456789abcdef0123456789abcdef")

func mustSessions(tb testing.TB) *Sessions {
	tb.Helper()
	s, err := NewSessions(testKey, time.Hour, "")
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// saveCookie saves sess through s and returns the cookie written.
func saveCookie(tb testing.TB, s *Sessions, r *http.Request, sess Session) *http.Cookie {
	tb.Helper()
	rec := httptest.NewRecorder()
	if err := s.Save(rec, r, sess); err != nil {
		tb.Fatal(err)
	}
	cs := rec.Result().Cookies()
	if len(cs) != 1 {
		tb.Fatalf("Save wrote %d cookies", len(cs))
	}
	return cs[0]
}

func loadWith(s *Sessions, c *http.Cookie) (Session, error) {
	r := httptest.NewRequest("GET", "/", nil)
	r.AddCookie(c)
	return s.Load(r)
}

func TestSessionRoundTrip(t *testing.T) {
	s := mustSessions(t)
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	s.now = func() time.Time { return now }
	in := Session{
		AccessToken:  "at-1",
		RefreshToken: "rt-1",
		TokenExpiry:  now.Add(2 * time.Hour),
		Username:     "ada",
		Name:         "Ada Lovelace",
	}
	c := saveCookie(t, s, httptest.NewRequest("GET", "/", nil), in)
	if strings.Contains(c.Value, "ada") || strings.Contains(c.Value, "at-1") {
		t.Fatalf("cookie value %q is not opaque", c.Value)
	}
	got, err := loadWith(s, c)
	if err != nil {
		t.Fatal(err)
	}
	want := in
	want.IssuedAt, want.ExpiresAt = now, now.Add(time.Hour)
	if diff := cmp.Diff(want, got, cmpopts.EquateApproxTime(0)); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}

	// Another replica with the same SECRET_KEY accepts it.
	other, err := NewSessions(testKey, time.Hour, "")
	if err != nil {
		t.Fatal(err)
	}
	other.now = s.now
	if _, err := loadWith(other, c); err != nil {
		t.Errorf("another replica with the same key: %v", err)
	}
}

func TestSessionCookieAttributes(t *testing.T) {
	s := mustSessions(t)
	tests := []struct {
		name       string
		headers    map[string]string
		wantSecure bool
		wantPath   string
	}{
		{"plain http", nil, false, "/"},
		{"https via proxy", map[string]string{"X-Forwarded-Proto": "https"}, true, "/"},
		{"prefix", map[string]string{"X-Forwarded-Prefix": "/mlflow/"}, false, "/mlflow"},
		{"script name", map[string]string{"X-Script-Name": "/mlflow", "X-Forwarded-Proto": "https"}, true, "/mlflow"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/x", nil)
			for k, v := range tt.headers {
				r.Header.Set(k, v)
			}
			c := saveCookie(t, s, r, Session{AccessToken: "a"})
			if c.Name != DefaultSessionCookie || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode ||
				c.Secure != tt.wantSecure || c.Path != tt.wantPath || c.MaxAge != 3600 {
				t.Errorf("cookie %+v: want HttpOnly, SameSite=Lax, Secure=%v, Path=%s, MaxAge=3600",
					c, tt.wantSecure, tt.wantPath)
			}
		})
	}
	rec := httptest.NewRecorder()
	s.Clear(rec, httptest.NewRequest("GET", "/", nil))
	if c := rec.Result().Cookies()[0]; c.MaxAge >= 0 || c.Value != "" {
		t.Errorf("Clear wrote %+v, want a deleting cookie", c)
	}
}

func TestSessionRejects(t *testing.T) {
	s := mustSessions(t)
	now := time.Now()
	s.now = func() time.Time { return now }
	c := saveCookie(t, s, httptest.NewRequest("GET", "/", nil), Session{AccessToken: "a"})
	raw, err := base64.RawURLEncoding.DecodeString(c.Value)
	if err != nil {
		t.Fatal(err)
	}

	// Every single flipped bit is detected: version byte, nonce, ciphertext, tag.
	for i := range raw {
		b := append([]byte(nil), raw...)
		b[i] ^= 0x01
		if _, err := loadWith(s, &http.Cookie{Name: c.Name, Value: base64.RawURLEncoding.EncodeToString(b)}); !errors.Is(err, ErrInvalidSession) {
			t.Fatalf("byte %d flipped: err = %v, want ErrInvalidSession", i, err)
		}
	}
	for _, v := range []string{"x", "!!!", "", base64.RawURLEncoding.EncodeToString(raw[:20]), c.Value + "A"} {
		if _, err := loadWith(s, &http.Cookie{Name: c.Name, Value: v}); err == nil {
			t.Errorf("value %q accepted", v)
		}
	}

	// Wrong key.
	other, err := NewSessions([]byte("another-secret-key-of-32-bytes!!"), time.Hour, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := loadWith(other, c); !errors.Is(err, ErrInvalidSession) {
		t.Errorf("wrong key: err = %v, want ErrInvalidSession", err)
	}

	// Same key, another cookie name: the value is bound to its name.
	renamed, err := NewSessions(testKey, time.Hour, "other")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := loadWith(renamed, &http.Cookie{Name: "other", Value: c.Value}); !errors.Is(err, ErrInvalidSession) {
		t.Errorf("other cookie name: err = %v, want ErrInvalidSession", err)
	}

	// A login-state cookie is not a session, even with the same key and name.
	flow, err := s.seal("login", loginFlow{State: "s"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := loadWith(s, &http.Cookie{Name: c.Name, Value: flow}); !errors.Is(err, ErrInvalidSession) {
		t.Errorf("login cookie as session: err = %v, want ErrInvalidSession", err)
	}

	// Expiry: valid until the lifetime has passed, then rejected.
	now = now.Add(time.Hour - time.Second)
	if _, err := loadWith(s, c); err != nil {
		t.Errorf("just before expiry: %v", err)
	}
	now = now.Add(time.Second)
	if _, err := loadWith(s, c); !errors.Is(err, ErrSessionExpired) {
		t.Errorf("at expiry: err = %v, want ErrSessionExpired", err)
	}
	// Issued in the future (clock skew beyond a minute): rejected.
	now = now.Add(-time.Hour - 2*time.Minute)
	if _, err := loadWith(s, c); !errors.Is(err, ErrSessionExpired) {
		t.Errorf("issued in the future: err = %v, want ErrSessionExpired", err)
	}

	// No cookie.
	if _, err := s.Load(httptest.NewRequest("GET", "/", nil)); !errors.Is(err, ErrNoSession) {
		t.Errorf("no cookie: err = %v, want ErrNoSession", err)
	}
}

func TestSessionDuplicateCookiesFirstValidWins(t *testing.T) {
	s := mustSessions(t)
	good := saveCookie(t, s, httptest.NewRequest("GET", "/", nil), Session{AccessToken: "good"})
	r := httptest.NewRequest("GET", "/", nil)
	r.AddCookie(&http.Cookie{Name: good.Name, Value: "garbage"})
	r.AddCookie(good)
	got, err := s.Load(r)
	if err != nil || got.AccessToken != "good" {
		t.Fatalf("got %+v, %v", got, err)
	}
}

func TestSessionTooBig(t *testing.T) {
	s := mustSessions(t)
	err := s.Save(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil),
		Session{AccessToken: strings.Repeat("a", 4000)})
	if err == nil || !strings.Contains(err.Error(), "limit") {
		t.Fatalf("err = %v, want the size limit", err)
	}
}

func TestNewSessions(t *testing.T) {
	if _, err := NewSessions([]byte("short"), 0, ""); err == nil || !strings.Contains(err.Error(), "at least 16") {
		t.Errorf("short key: err = %v", err)
	}
	if _, err := NewSessions(nil, 0, ""); err == nil {
		t.Error("empty key accepted")
	}
	if _, err := NewSessions(testKey, -time.Second, ""); err == nil {
		t.Error("negative lifetime accepted")
	}
	if _, err := NewSessions(testKey, 0, "bad name"); err == nil {
		t.Error("bad cookie name accepted")
	}
	s, err := NewSessions(testKey, 0, "")
	if err != nil {
		t.Fatal(err)
	}
	if s.Lifetime() != 31*24*time.Hour || s.CookieName() != "mlflow-session" {
		t.Errorf("defaults: lifetime %s, cookie %q", s.Lifetime(), s.CookieName())
	}
}
