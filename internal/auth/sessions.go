package auth

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// DefaultSessionCookie is the session cookie name, the one the Python plugin
// used (its Flask cookies do not decrypt here and are ignored).
const DefaultSessionCookie = "mlflow-session"

// DefaultSessionLifetime is Flask's PERMANENT_SESSION_LIFETIME default.
const DefaultSessionLifetime = 31 * 24 * time.Hour

// maxCookieBytes keeps a cookie under the 4096-byte browser limit with room
// for its attributes.
const maxCookieBytes = 3800

// Session is what a signed-in browser carries, encrypted, in its session
// cookie: the GitLab OAuth tokens and who they belong to.
type Session struct {
	AccessToken  string    `json:"at"`
	RefreshToken string    `json:"rt,omitempty"`
	TokenExpiry  time.Time `json:"te,omitzero"` // expiry of AccessToken; zero if GitLab did not say
	Username     string    `json:"u,omitempty"`
	Name         string    `json:"n,omitempty"`
	// IssuedAt and ExpiresAt are those of the cookie; Save sets them.
	IssuedAt  time.Time `json:"-"`
	ExpiresAt time.Time `json:"-"`
}

// tokenExpired reports whether the access token is known to be expired.
func (s Session) tokenExpired(now time.Time) bool {
	return !s.TokenExpiry.IsZero() && !now.Before(s.TokenExpiry)
}

// Errors Sessions.Load returns.
var (
	// ErrNoSession means the request has no session cookie.
	ErrNoSession = errors.New("no session cookie")
	// ErrInvalidSession means a cookie was there but was tampered with,
	// encrypted with another SECRET_KEY, or not ours.
	ErrInvalidSession = errors.New("invalid session cookie")
	// ErrSessionExpired means the cookie was valid but is past its expiry.
	ErrSessionExpired = errors.New("session expired")
)

// Sessions seals session data into cookies with AES-256-GCM under a key
// derived from SECRET_KEY with HKDF-SHA256, so any replica given the same
// SECRET_KEY reads any replica's cookies and nothing needs to be stored
// server-side. Each sealed value carries its issue and expiry times and is
// bound (as GCM additional data) to its purpose and cookie name, so a login
// state cookie can never be replayed as a session.
type Sessions struct {
	aead     cipher.AEAD
	lifetime time.Duration
	name     string
	now      func() time.Time
}

// NewSessions returns the session store for cookie cookieName ("" means
// DefaultSessionCookie) whose sessions last lifetime (PERMANENT_SESSION_LIFETIME;
// 0 means DefaultSessionLifetime). secretKey is SECRET_KEY; it must be at
// least MinSecretKeyLen bytes.
func NewSessions(secretKey []byte, lifetime time.Duration, cookieName string) (*Sessions, error) {
	if err := ValidateSecretKey(secretKey); err != nil {
		return nil, err
	}
	if lifetime < 0 {
		return nil, fmt.Errorf("session lifetime %s is negative", lifetime)
	}
	if lifetime == 0 {
		lifetime = DefaultSessionLifetime
	}
	if cookieName == "" {
		cookieName = DefaultSessionCookie
	}
	if !validCookieName(cookieName) {
		return nil, fmt.Errorf("session cookie name %q is not a valid cookie name", cookieName)
	}
	key, err := hkdf.Key(sha256.New, secretKey, []byte("mlflow-sharinghub cookie encryption"), "aes-256-gcm v1", 32)
	if err != nil {
		return nil, fmt.Errorf("derive the session key: %w", err)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Sessions{aead: aead, lifetime: lifetime, name: cookieName, now: time.Now}, nil
}

// CookieName returns the session cookie's name.
func (s *Sessions) CookieName() string { return s.name }

// Lifetime returns how long a session lasts.
func (s *Sessions) Lifetime() time.Duration { return s.lifetime }

// Save writes sess as the session cookie, valid for the session lifetime
// from now: HttpOnly, SameSite=Lax, Secure when the client came over HTTPS,
// scoped to the external prefix.
func (s *Sessions) Save(w http.ResponseWriter, r *http.Request, sess Session) error {
	value, err := s.seal("session", sess, s.lifetime)
	if err != nil {
		return err
	}
	s.setCookie(w, r, s.name, value, cookiePath(r), s.lifetime)
	return nil
}

// Load returns the request's session. It fails with ErrNoSession,
// ErrInvalidSession or ErrSessionExpired. A session refreshed earlier in the
// same request (OIDC.RefreshSession) wins over the cookie.
func (s *Sessions) Load(r *http.Request) (Session, error) {
	if sess, ok := r.Context().Value(sessionKey{}).(Session); ok {
		return sess, nil
	}
	err := ErrNoSession
	for _, c := range r.CookiesNamed(s.name) {
		var sess Session
		iat, exp, e := s.open("session", c.Value, &sess)
		if e == nil {
			sess.IssuedAt, sess.ExpiresAt = iat, exp
			return sess, nil
		}
		if err == ErrNoSession || errors.Is(e, ErrSessionExpired) {
			err = e
		}
	}
	return Session{}, err
}

// Clear removes the session cookie.
func (s *Sessions) Clear(w http.ResponseWriter, r *http.Request) {
	s.setCookie(w, r, s.name, "", cookiePath(r), -1)
}

// sessionKey is the context key of a session refreshed during the request.
type sessionKey struct{}

// withSession returns r carrying sess as its current session.
func withSession(r *http.Request, sess Session) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), sessionKey{}, sess))
}

// envelope is the sealed plaintext.
type envelope struct {
	IssuedAt  int64           `json:"iat"`
	ExpiresAt int64           `json:"exp"`
	Data      json.RawMessage `json:"d"`
}

// sealVersion prefixes every sealed value, so the format can change.
const sealVersion = 1

// seal encrypts v for purpose, valid for ttl.
func (s *Sessions) seal(purpose string, v any, ttl time.Duration) (string, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("encode %s cookie: %w", purpose, err)
	}
	iat := s.now().Truncate(time.Second)
	exp := iat.Add(ttl)
	plain, err := json.Marshal(envelope{IssuedAt: iat.Unix(), ExpiresAt: exp.Unix(), Data: data})
	if err != nil {
		return "", err
	}
	buf := make([]byte, 1+s.aead.NonceSize(), 1+s.aead.NonceSize()+len(plain)+s.aead.Overhead())
	buf[0] = sealVersion
	if _, err := rand.Read(buf[1:]); err != nil {
		return "", err
	}
	buf = s.aead.Seal(buf, buf[1:], plain, s.additionalData(purpose))
	value := base64.RawURLEncoding.EncodeToString(buf)
	if len(value) > maxCookieBytes {
		return "", fmt.Errorf("%s cookie would be %d bytes, over the %d-byte limit", purpose, len(value), maxCookieBytes)
	}
	return value, nil
}

// open decrypts a value sealed for purpose into v.
func (s *Sessions) open(purpose, value string, v any) (iat, exp time.Time, err error) {
	if value == "" {
		return iat, exp, ErrNoSession
	}
	raw, err := base64.RawURLEncoding.DecodeString(value)
	ns := s.aead.NonceSize()
	if err != nil || len(raw) < 1+ns+s.aead.Overhead() || raw[0] != sealVersion {
		return iat, exp, ErrInvalidSession
	}
	plain, err := s.aead.Open(nil, raw[1:1+ns], raw[1+ns:], s.additionalData(purpose))
	if err != nil {
		return iat, exp, ErrInvalidSession
	}
	var env envelope
	if err := json.Unmarshal(plain, &env); err != nil {
		return iat, exp, ErrInvalidSession
	}
	iat, exp = time.Unix(env.IssuedAt, 0), time.Unix(env.ExpiresAt, 0)
	now := s.now()
	if !now.Before(exp) || now.Add(time.Minute).Before(iat) {
		return iat, exp, ErrSessionExpired
	}
	if err := json.Unmarshal(env.Data, v); err != nil {
		return iat, exp, ErrInvalidSession
	}
	return iat, exp, nil
}

func (s *Sessions) additionalData(purpose string) []byte {
	return []byte("mlflow-sharinghub/" + purpose + "/" + s.name)
}

// setCookie writes a cookie with our attributes; maxAge < 0 deletes it.
func (s *Sessions) setCookie(w http.ResponseWriter, r *http.Request, name, value, path string, maxAge time.Duration) {
	c := &http.Cookie{
		Name:     name,
		Value:    value,
		Path:     path,
		HttpOnly: true,
		Secure:   isHTTPS(r),
		SameSite: http.SameSiteLaxMode,
	}
	if maxAge < 0 {
		c.MaxAge = -1
		c.Expires = time.Unix(0, 0)
	} else {
		c.MaxAge = int(maxAge / time.Second)
		c.Expires = s.now().Add(maxAge).UTC()
	}
	http.SetCookie(w, c)
	w.Header().Set("Cache-Control", "no-store")
}

func validCookieName(n string) bool {
	for i := 0; i < len(n); i++ {
		c := n[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`()<>@,;:\"/[]?={}`, c) >= 0 {
			return false
		}
	}
	return n != ""
}
