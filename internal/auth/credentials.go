// Package auth turns an HTTP request into the caller's credential and runs
// browser sign-in: GitLab OpenID Connect (authorization code + PKCE) with a
// session kept in an encrypted cookie, or a redirect to SharingHub's login.
//
// What a credential may do is not decided here: the role providers in
// internal/access take the Credential and ask GitLab, SharingHub or the
// static projects file.
//
// OIDC is done with github.com/coreos/go-oidc/v3 and golang.org/x/oauth2
// rather than by hand. ID-token verification (JOSE parsing, algorithm
// pinning, JWKS fetching and key rotation, issuer/audience/expiry checks) is
// exactly the code where a home-grown subset fails open in subtle ways; these
// two libraries are small, have no transitive dependencies beyond go-jose, and
// are what the Go community uses for this. The session cookie, by contrast, is
// plain AES-GCM from the standard library (sessions.go).
package auth

import (
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
)

// Kind says what sort of secret a Credential carries.
type Kind int

// The credential kinds, mirroring access.Credential.
const (
	// Anonymous is a request without credentials.
	Anonymous Kind = iota
	// Token is a GitLab personal, project, group or OAuth access token (or a
	// static-mode token), from Authorization: Bearer, Authorization: Basic,
	// PRIVATE-TOKEN or our own session cookie.
	Token
	// JobToken is a GitLab CI job token, from JOB-TOKEN or from Basic auth
	// with the user name gitlab-ci-token.
	JobToken
	// SharingHubCookie is the value of SharingHub's session cookie, to be
	// forwarded to SharingHub as is.
	SharingHubCookie
)

// String returns the kind's name, for logs.
func (k Kind) String() string {
	switch k {
	case Anonymous:
		return "anonymous"
	case Token:
		return "token"
	case JobToken:
		return "job-token"
	case SharingHubCookie:
		return "sharinghub-cookie"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Credential is what the caller presented. Secret is empty for Anonymous.
// Its String and LogValue methods never reveal Secret.
type Credential struct {
	Kind   Kind
	Secret string
}

// String describes c without its secret.
func (c Credential) String() string { return c.Kind.String() }

// LogValue keeps the secret out of structured logs.
func (c Credential) LogValue() slog.Value { return slog.StringValue(c.Kind.String()) }

// DefaultSharingHubCookie is SharingHub's session cookie name
// (SHARINGHUB_SESSION_COOKIE's default).
const DefaultSharingHubCookie = "sharinghub-session"

// JobTokenUser is the Basic-auth user name that marks the password as a
// GitLab CI job token, as GitLab itself does (gitlab-ci-token:$CI_JOB_TOKEN).
const JobTokenUser = "gitlab-ci-token"

// Options says which cookies FromRequest reads.
type Options struct {
	// SharingHub is true in SharingHub mode (SHARINGHUB_URL set); only then
	// is SharingHub's session cookie read.
	SharingHub bool
	// SharingHubCookie is the SharingHub session cookie name
	// (SHARINGHUB_SESSION_COOKIE); "" means DefaultSharingHubCookie.
	SharingHubCookie string
}

func (o Options) sharingHubCookie() string {
	if o.SharingHubCookie == "" {
		return DefaultSharingHubCookie
	}
	return o.SharingHubCookie
}

// ErrMalformedCredentials is wrapped by every error FromRequest returns: the
// request carried credentials we cannot read. Answer 401; never fall back to
// anonymous, which would silently run a misconfigured client with less (or,
// on a public project, different) access than it asked for.
var ErrMalformedCredentials = errors.New("malformed credentials")

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrMalformedCredentials, fmt.Sprintf(format, args...))
}

// FromRequest returns the caller's credential, taking the first present of:
// Authorization: Bearer <token> (what MLFLOW_TRACKING_TOKEN sends);
// Authorization: Basic with the token as password (MLFLOW_TRACKING_USERNAME
// and MLFLOW_TRACKING_PASSWORD; user gitlab-ci-token makes it a job token);
// PRIVATE-TOKEN; JOB-TOKEN; our session cookie (when sessions is not nil);
// SharingHub's session cookie (when opts.SharingHub); else Anonymous.
//
// A header that is present but unreadable — an unknown Authorization scheme,
// an empty token, bad base64, a Basic value without a password, a token with
// spaces or control characters, a repeated header — is an error wrapping
// ErrMalformedCredentials whose text can be shown to the caller. A session
// cookie that is tampered with, expired or from another SECRET_KEY is
// ignored, as is a session whose GitLab token has expired (see
// OIDC.RefreshSession).
func FromRequest(r *http.Request, sessions *Sessions, opts Options) (Credential, error) {
	if vals := r.Header.Values("Authorization"); len(vals) > 0 {
		if len(vals) > 1 {
			return Credential{}, malformed("more than one Authorization header")
		}
		return fromAuthorization(vals[0])
	}
	for _, h := range []struct {
		name string
		kind Kind
	}{{"Private-Token", Token}, {"Job-Token", JobToken}} {
		vals := r.Header.Values(h.name)
		if len(vals) == 0 {
			continue
		}
		if len(vals) > 1 {
			return Credential{}, malformed("more than one %s header", strings.ToUpper(h.name))
		}
		if err := checkToken(vals[0]); err != nil {
			return Credential{}, malformed("%s header: %v", strings.ToUpper(h.name), err)
		}
		return Credential{Kind: h.kind, Secret: vals[0]}, nil
	}
	if sessions != nil {
		if s, err := sessions.Load(r); err == nil && s.AccessToken != "" && !s.tokenExpired(sessions.now()) {
			return Credential{Kind: Token, Secret: s.AccessToken}, nil
		}
	}
	if opts.SharingHub {
		if c, err := r.Cookie(opts.sharingHubCookie()); err == nil && c.Value != "" {
			return Credential{Kind: SharingHubCookie, Secret: c.Value}, nil
		}
	}
	return Credential{Kind: Anonymous}, nil
}

// fromAuthorization reads one Authorization header value.
func fromAuthorization(v string) (Credential, error) {
	scheme, rest, _ := strings.Cut(strings.TrimSpace(v), " ")
	rest = strings.TrimSpace(rest)
	switch {
	case strings.EqualFold(scheme, "Bearer"):
		if err := checkToken(rest); err != nil {
			return Credential{}, malformed("Authorization: Bearer: %v", err)
		}
		return Credential{Kind: Token, Secret: rest}, nil
	case strings.EqualFold(scheme, "Basic"):
		raw, err := base64.StdEncoding.DecodeString(rest)
		if err != nil || rest == "" {
			return Credential{}, malformed("Authorization: Basic: the value is not base64 of user:password")
		}
		user, pass, ok := strings.Cut(string(raw), ":")
		if !ok {
			return Credential{}, malformed("Authorization: Basic: no ':' between user and password")
		}
		if err := checkToken(pass); err != nil {
			return Credential{}, malformed("Authorization: Basic: the password must be an access token "+
				"(set MLFLOW_TRACKING_PASSWORD to it): %v", err)
		}
		if user == JobTokenUser {
			return Credential{Kind: JobToken, Secret: pass}, nil
		}
		return Credential{Kind: Token, Secret: pass}, nil
	case scheme == "":
		return Credential{}, malformed("empty Authorization header")
	}
	return Credential{}, malformed("Authorization scheme %q is not supported: use Bearer "+
		"(MLFLOW_TRACKING_TOKEN) or Basic (MLFLOW_TRACKING_USERNAME/MLFLOW_TRACKING_PASSWORD)", truncate(scheme, 20))
}

// checkToken accepts a non-empty token made of visible ASCII, so that it can
// be forwarded as a header value and compared as given.
func checkToken(t string) error {
	if t == "" {
		return errors.New("the token is empty")
	}
	if len(t) > 4096 {
		return errors.New("the token is longer than 4096 bytes")
	}
	for i := 0; i < len(t); i++ {
		if c := t[i]; c <= ' ' || c >= 0x7f {
			return errors.New("the token contains spaces or control or non-ASCII characters")
		}
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
