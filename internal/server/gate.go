package server

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/csgroup-oss/mlflow-sharinghub-go/internal/access"
	"github.com/csgroup-oss/mlflow-sharinghub-go/internal/auth"
	"github.com/csgroup-oss/mlflow-sharinghub-go/internal/mlflow"
	"github.com/csgroup-oss/mlflow-sharinghub-go/internal/tenancy"
)

// target is where a request goes after its path is split: the project it
// names (empty in the global scope) and the route path below it.
type target struct {
	project string
	rest    string
}

// splitPath finds the scope of a path. "/<project path>/tracking/<rest>"
// is project scope; anything else is global. A project path has at least
// two segments (namespace/project). Groups and projects may themselves be
// named "tracking": of the possible splits, the leftmost one whose rest is
// a known route wins, else the leftmost possible one.
func splitPath(path string, known func(rest string) bool) target {
	segs := strings.Split(strings.TrimPrefix(path, "/"), "/")
	first := -1
	for i := 2; i < len(segs); i++ {
		if segs[i] != "tracking" || hasEmpty(segs[:i]) {
			continue
		}
		rest := "/" + strings.Join(segs[i+1:], "/")
		if known(rest) {
			return target{project: strings.Join(segs[:i], "/"), rest: rest}
		}
		if first < 0 {
			first = i
		}
	}
	if first >= 0 {
		return target{project: strings.Join(segs[:first], "/"), rest: "/" + strings.Join(segs[first+1:], "/")}
	}
	return target{rest: path}
}

func hasEmpty(segs []string) bool {
	for _, s := range segs {
		if s == "" {
			return true
		}
	}
	return false
}

// match finds the route for r with its path replaced by rest; ok is false
// when only the catch-all matches.
func (s *Server) match(r *http.Request, rest string) (h http.Handler, pattern string, ok bool) {
	r2 := new(http.Request)
	*r2 = *r
	u := *r.URL
	u.Path, u.RawPath = rest, ""
	r2.URL = &u
	h, pattern = s.mux.Handler(r2)
	return h, pattern, pattern != "" && pattern != "/"
}

// gate authenticates the caller, resolves the project of the scope, and
// checks the route's access rule. It returns the scope the handler runs in.
// Errors: UNAUTHENTICATED (401), RESOURCE_DOES_NOT_EXIST (404: no read
// access), PERMISSION_DENIED (403: read but not this action, or a write in
// the global scope), TEMPORARILY_UNAVAILABLE (503: provider down).
func (s *Server) gate(ctx context.Context, r *http.Request, t target, rl rule) (tenancy.Scope, *access.Principal, error) {
	if s.opts.Provider == nil {
		return tenancy.Unscoped, nil, nil
	}
	cred, err := auth.FromRequest(r, s.opts.Sessions, s.opts.AuthOptions)
	if err != nil {
		return tenancy.Scope{}, nil, errUnauthenticated{err}
	}
	ac := accessCredential(cred)
	who, err := s.opts.Provider.Authenticate(ctx, ac)
	if errors.Is(err, access.ErrUnauthenticated) && ac.Kind == access.KindSharingHubCookie && s.opts.AnonymousFallback {
		ac = access.Anonymous
		who, err = s.opts.Provider.Authenticate(ctx, ac)
	}
	if err != nil {
		return tenancy.Scope{}, nil, providerError(err, ac)
	}
	if t.project == "" {
		if who.Anonymous {
			return tenancy.Scope{}, &who, errUnauthenticated{}
		}
		if rl.action() != access.Read {
			return tenancy.Scope{}, &who, mlflow.Errorf(mlflow.PermissionDenied,
				"The global view is read-only: use a project's tracking URI, <host>/<project path>/tracking/, to %s.", rl)
		}
		grants, err := s.opts.Provider.Projects(ctx, ac)
		if err == nil && s.opts.GlobalFromData {
			var paths []string
			if paths, err = s.store.OwnerProjects(ctx, s.opts.ProjectTag); err == nil {
				grants, err = access.Among(ctx, s.opts.Provider, ac, paths)
			}
		}
		if err != nil {
			return tenancy.Scope{}, &who, providerError(err, ac)
		}
		ids := make([]int64, len(grants))
		for i, g := range grants {
			ids[i] = g.Project.ID
		}
		return tenancy.Global(ids), &who, nil
	}
	g, err := s.opts.Provider.Project(ctx, ac, t.project)
	if err != nil {
		if errors.Is(err, access.ErrNotFound) && who.Anonymous {
			return tenancy.Scope{}, &who, errUnauthenticated{}
		}
		if errors.Is(err, access.ErrNotFound) {
			return tenancy.Scope{}, &who, mlflow.NotFound("Project '%s' does not exist or you have no access to it.", t.project)
		}
		return tenancy.Scope{}, &who, providerError(err, ac)
	}
	if !g.Allows(access.Read) {
		return tenancy.Scope{}, &who, mlflow.NotFound("Project '%s' does not exist or you have no access to it.", t.project)
	}
	if !g.Allows(rl.action()) {
		if who.Anonymous {
			return tenancy.Scope{}, &who, errUnauthenticated{}
		}
		return tenancy.Scope{}, &who, mlflow.Errorf(mlflow.PermissionDenied,
			"Permission denied: to %s in project '%s' you need the %s role or higher; you have %s.",
			rl, g.Project.Path, rl.action().MinRole(), g.Role)
	}
	sc := tenancy.Project(g.Project.ID, g.Project.Path)
	return sc, &who, nil
}

// errUnauthenticated asks the caller to sign in: 401 for API clients, the
// login page for browsers.
type errUnauthenticated struct{ cause error }

func (e errUnauthenticated) Error() string {
	if e.cause != nil {
		return "unauthenticated: " + e.cause.Error()
	}
	return "unauthenticated"
}

func (e errUnauthenticated) Unwrap() error { return e.cause }

// providerError maps a provider failure to the answer: refused credentials
// are 401, an unreachable provider is 503 (never allow on error).
func providerError(err error, c access.Credential) error {
	switch {
	case errors.Is(err, access.ErrUnauthenticated):
		return errUnauthenticated{err}
	case errors.Is(err, access.ErrUnavailable):
		return mlflow.Errorf(mlflow.TemporarilyUnavailable,
			"The permission service (GitLab/SharingHub) is unavailable; try again shortly.")
	case errors.Is(err, access.ErrNotFound):
		return mlflow.NotFound("Project does not exist or you have no access to it.")
	}
	return err
}

// accessCredential converts a credential read from the request into the
// provider's kind of credential.
func accessCredential(c auth.Credential) access.Credential {
	switch c.Kind {
	case auth.Token:
		return access.Credential{Kind: access.KindToken, Secret: c.Secret}
	case auth.JobToken:
		return access.Credential{Kind: access.KindJobToken, Secret: c.Secret}
	case auth.SharingHubCookie:
		return access.Credential{Kind: access.KindSharingHubCookie, Secret: c.Secret}
	}
	return access.Anonymous
}

// AccessCredential is accessCredential for the program's wiring (WhoAmI).
func AccessCredential(c auth.Credential) access.Credential { return accessCredential(c) }
