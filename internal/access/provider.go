package access

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
)

// The error kinds a Provider returns; test them with errors.Is. Provider
// errors wrap exactly one of them, with detail that never contains a secret.
var (
	// ErrNotFound: the project does not exist, fails a gate (mandatory
	// topics, STAC category), or the caller cannot read it. Callers answer
	// 404 RESOURCE_DOES_NOT_EXIST (or 401 for an anonymous caller).
	ErrNotFound = errors.New("project not found")
	// ErrUnauthenticated: the credential was refused (unknown, expired or
	// revoked token, or a kind this provider does not accept). Callers
	// answer 401 UNAUTHENTICATED.
	ErrUnauthenticated = errors.New("credential not accepted")
	// ErrUnavailable: the upstream (GitLab, SharingHub) could not answer:
	// network error, timeout, 5xx, 429, unreadable reply. Callers answer
	// 503 TEMPORARILY_UNAVAILABLE and allow nothing.
	ErrUnavailable = errors.New("access provider unavailable")
)

// CredentialKind says how a credential was presented.
type CredentialKind int

// The credential kinds.
const (
	// KindAnonymous: no credential at all.
	KindAnonymous CredentialKind = iota
	// KindToken: a GitLab personal, project or group access token or an
	// OAuth access token, whether it came as Authorization: Bearer, as the
	// password of Authorization: Basic, as PRIVATE-TOKEN, or from a
	// signed-in browser session.
	KindToken
	// KindJobToken: a GitLab CI/CD job token (JOB-TOKEN header).
	KindJobToken
	// KindSharingHubCookie: the value of SharingHub's session cookie.
	KindSharingHubCookie
)

// String names the kind: "anonymous", "token", "job-token", "sharinghub-cookie".
func (k CredentialKind) String() string {
	switch k {
	case KindAnonymous:
		return "anonymous"
	case KindToken:
		return "token"
	case KindJobToken:
		return "job-token"
	case KindSharingHubCookie:
		return "sharinghub-cookie"
	}
	return "CredentialKind(" + strconv.Itoa(int(k)) + ")"
}

// Credential is what the caller presented. Its Secret is never logged:
// formatting a Credential with fmt or log/slog prints only its kind.
type Credential struct {
	Kind   CredentialKind
	Secret string // the token or cookie value; empty for KindAnonymous
}

// Anonymous is the credential of a caller who presented none.
var Anonymous = Credential{Kind: KindAnonymous}

// Format prints the kind only, for every verb, so that a Credential logged
// by mistake (even inside a struct, with %+v or %#v) leaks nothing.
func (c Credential) Format(f fmt.State, verb rune) {
	fmt.Fprintf(f, "Credential(%s)", c.Kind)
}

// String returns "Credential(<kind>)"; the secret is left out.
func (c Credential) String() string { return fmt.Sprint(c) }

// LogValue logs the kind only.
func (c Credential) LogValue() slog.Value { return slog.StringValue(c.Kind.String()) }

// Principal is the authenticated caller.
type Principal struct {
	ID       int64  // GitLab user id (0 when the provider does not know it)
	Username string // may be empty in SharingHub mode: SharingHub does not say who you are
	Name     string
	Email    string
	// Admin is a GitLab administrator: Owner on every project.
	Admin bool
	// Anonymous is set for a caller without credentials.
	Anonymous bool
	// JobProjectID is set for a CI/CD job token: the job's project, the only
	// project the credential may be used for.
	JobProjectID int64
}

// Project is a GitLab project as far as access decisions need it.
type Project struct {
	ID         int64
	Path       string   // path with namespace, e.g. "group/sub/proj"
	Name       string   // display name
	Visibility string   // "public", "internal", "private", or "" when the provider does not say
	Topics     []string // GitLab topics (GitLab and static providers)
	Categories []string // SharingHub categories (SharingHub provider)
}

// Grant is the caller's effective access on one project.
type Grant struct {
	Project Project
	Role    Role
}

// Allows reports whether the grant permits action a.
func (g Grant) Allows(a Action) bool { return g.Role.Allows(a) }

// Provider answers access questions from GitLab, SharingHub or a static file.
// Implementations are safe for concurrent use.
type Provider interface {
	// Authenticate checks credential c and says who presented it. An
	// anonymous credential yields a Principal with Anonymous set and no
	// error. Errors: ErrUnauthenticated, ErrUnavailable.
	Authenticate(ctx context.Context, c Credential) (Principal, error)
	// Project returns c's effective access on the project with the given
	// path ("group/sub/proj") or numeric id ("42"). Errors: ErrNotFound
	// (also when c cannot read the project), ErrUnauthenticated (c was
	// refused), ErrUnavailable. A returned Grant always allows Read.
	Project(ctx context.Context, c Credential, path string) (Grant, error)
	// Projects returns every project c can read, for the read-only global
	// scope, sorted by path. Which projects a provider can enumerate is
	// documented on each provider. Errors: ErrUnauthenticated, ErrUnavailable.
	Projects(ctx context.Context, c Credential) ([]Grant, error)
}

// resolver is implemented by providers whose Project and Projects need the
// caller's identity. The cache passes them its cached Principal so that a
// project lookup does not authenticate the caller again upstream.
type resolver interface {
	projectAs(ctx context.Context, c Credential, who Principal, path string) (Grant, error)
	projectsAs(ctx context.Context, c Credential, who Principal) ([]Grant, error)
}

// cleanPath validates a project reference (a path with namespace or a
// numeric id) and strips surrounding slashes. It refuses empty, "." and ".."
// segments and control characters, so that no crafted reference reaches an
// upstream URL.
func cleanPath(path string) (string, error) {
	p := strings.Trim(path, "/")
	if p == "" {
		return "", fmt.Errorf("empty project path: %w", ErrNotFound)
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return "", fmt.Errorf("project path %q: bad segment: %w", path, ErrNotFound)
		}
	}
	for _, r := range p {
		if r < 0x20 || r == 0x7f || r == '?' || r == '#' || r == '\\' {
			return "", fmt.Errorf("project path %q: bad character: %w", path, ErrNotFound)
		}
	}
	return p, nil
}

// numericID returns the id if path is a project id rather than a path.
func numericID(path string) (int64, bool) {
	id, err := strconv.ParseInt(path, 10, 64)
	return id, err == nil && id > 0
}

// matches reports whether a project reference (path or id) names project p.
// GitLab paths are case-insensitive.
func (p Project) matches(ref string) bool {
	if id, ok := numericID(ref); ok {
		return id == p.ID
	}
	return strings.EqualFold(ref, p.Path)
}

// isNotFound reports whether err is ErrNotFound.
func isNotFound(err error) bool { return errors.Is(err, ErrNotFound) }
