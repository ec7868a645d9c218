package access

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// GitLabOptions tunes a GitLab provider.
type GitLabOptions struct {
	// MandatoryTopics (GITLAB_MANDATORY_TOPICS): a project lacking any of
	// these topics is treated as not found. Compared case-insensitively.
	MandatoryTopics []string
	// Timeout bounds each GitLab call; zero means DefaultTimeout (10 s).
	Timeout time.Duration
	// MaxProjects caps the global-scope listing; zero means 10,000.
	MaxProjects int
}

// GitLab is a Provider that asks a GitLab instance through REST API v4, and
// only these endpoints, so that any GitLab with API v4 works:
//
//	GET /api/v4/user                                   who the token belongs to
//	GET /api/v4/projects/:id                           id, path, visibility, topics, permissions
//	GET /api/v4/projects/:id/members/all/:user_id      effective role, incl. inherited and shared-group roles
//	GET /api/v4/projects?min_access_level=10&page=N    the global view, paged by 100
//	GET /api/v4/job                                    a CI/CD job token's job
//
// Tokens (KindToken) are sent as "Authorization: Bearer", which GitLab
// accepts for OAuth and for personal, project and group access tokens.
// Anonymous callers are sent without credentials. SharingHub cookies are
// refused with ErrUnauthenticated.
//
// The role on a project is the highest of permissions.project_access,
// permissions.group_access and the members/all access level (GitLab's
// permissions field misses roles inherited from ancestor groups and from
// groups the project is shared with); a GitLab administrator is Owner
// everywhere. A public project is readable (as Guest) by anyone, an internal
// one by any authenticated user.
//
// A CI/CD job token (KindJobToken) is good for its job's project only, with
// the Developer role: GitLab gives the token the role of the user who runs
// the pipeline, running a pipeline takes at least Developer, and the token
// is never allowed more here. Job tokens cannot read project details on a
// standard GitLab, so the job's project path comes from the job's web_url
// and, unless the project is public, its topics are unknown: with
// MandatoryTopics set, a job token only works on public projects.
//
// Projects lists the projects where the caller is a member with at least
// Guest (min_access_level=10, inherited and shared memberships included,
// GitLab's own semantics); public and internal projects the caller is not a
// member of are readable by URL but not listed. An anonymous caller's list is
// empty; a job token's list is its project.
type GitLab struct {
	up          *upstream
	topics      []string
	maxProjects int
}

var (
	_ Provider = (*GitLab)(nil)
	_ resolver = (*GitLab)(nil)
)

// NewGitLab returns a provider for the GitLab at baseURL (GITLAB_URL, e.g.
// "https://gitlab.example.com"). A nil httpClient means a default client.
func NewGitLab(baseURL string, httpClient *http.Client, opts GitLabOptions) (*GitLab, error) {
	up, err := newUpstream("gitlab", baseURL, httpClient, opts.Timeout)
	if err != nil {
		return nil, err
	}
	g := &GitLab{up: up, maxProjects: opts.MaxProjects}
	for _, t := range opts.MandatoryTopics {
		if t = strings.TrimSpace(t); t != "" {
			g.topics = append(g.topics, t)
		}
	}
	if g.maxProjects <= 0 {
		g.maxProjects = 10000
	}
	return g, nil
}

// GitLab REST API v4 replies, as far as we read them.
type (
	glUser struct {
		ID          int64  `json:"id"`
		Username    string `json:"username"`
		Name        string `json:"name"`
		Email       string `json:"email"`
		PublicEmail string `json:"public_email"`
		IsAdmin     bool   `json:"is_admin"`
	}
	glAccess struct {
		AccessLevel int `json:"access_level"`
	}
	glProject struct {
		ID                int64    `json:"id"`
		Name              string   `json:"name"`
		PathWithNamespace string   `json:"path_with_namespace"`
		Visibility        string   `json:"visibility"`
		Topics            []string `json:"topics"`
		TagList           []string `json:"tag_list"` // GitLab < 14 called topics tag_list
		Permissions       *struct {
			ProjectAccess *glAccess `json:"project_access"`
			GroupAccess   *glAccess `json:"group_access"`
		} `json:"permissions"`
	}
	glMember struct {
		ID              int64  `json:"id"`
		AccessLevel     int    `json:"access_level"`
		MembershipState string `json:"membership_state"`
	}
	glJob struct {
		ID       int64  `json:"id"`
		WebURL   string `json:"web_url"`
		Pipeline struct {
			ProjectID int64 `json:"project_id"`
		} `json:"pipeline"`
		User *glUser `json:"user"`
	}
)

// project converts a GitLab project reply.
func (p glProject) project() Project {
	topics := p.Topics
	if topics == nil {
		topics = p.TagList
	}
	return Project{ID: p.ID, Path: p.PathWithNamespace, Name: p.Name, Visibility: p.Visibility, Topics: topics}
}

// permissionsRole is the highest of the project's permissions fields.
func (p glProject) permissionsRole() Role {
	r := NoAccess
	if p.Permissions != nil {
		if a := p.Permissions.ProjectAccess; a != nil {
			r = max(r, Role(a.AccessLevel))
		}
		if a := p.Permissions.GroupAccess; a != nil {
			r = max(r, Role(a.AccessLevel))
		}
	}
	return r
}

// authFor returns how to present c to GitLab.
func authFor(c Credential) func(*http.Request) {
	switch c.Kind {
	case KindToken:
		return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+c.Secret) }
	case KindJobToken:
		return func(r *http.Request) { r.Header.Set("JOB-TOKEN", c.Secret) }
	}
	return nil
}

// accepts refuses credential kinds GitLab cannot check, and empty secrets.
func (g *GitLab) accepts(c Credential) error {
	switch c.Kind {
	case KindAnonymous:
		return nil
	case KindToken, KindJobToken:
		if c.Secret != "" {
			return nil
		}
		return fmt.Errorf("gitlab: empty %s: %w", c.Kind, ErrUnauthenticated)
	}
	return fmt.Errorf("gitlab: %s credentials are not accepted in GitLab mode: %w", c.Kind, ErrUnauthenticated)
}

// Authenticate implements Provider with GET /api/v4/user (tokens) or
// GET /api/v4/job (job tokens).
func (g *GitLab) Authenticate(ctx context.Context, c Credential) (Principal, error) {
	if err := g.accepts(c); err != nil {
		return Principal{}, err
	}
	switch c.Kind {
	case KindToken:
		return g.user(ctx, c)
	case KindJobToken:
		j, err := g.job(ctx, c)
		if err != nil {
			return Principal{}, err
		}
		return j.principal(), nil
	}
	return Principal{Anonymous: true}, nil
}

// Project implements Provider.
func (g *GitLab) Project(ctx context.Context, c Credential, path string) (Grant, error) {
	who, err := g.Authenticate(ctx, c)
	if err != nil {
		return Grant{}, err
	}
	return g.projectAs(ctx, c, who, path)
}

// Projects implements Provider.
func (g *GitLab) Projects(ctx context.Context, c Credential) ([]Grant, error) {
	who, err := g.Authenticate(ctx, c)
	if err != nil {
		return nil, err
	}
	return g.projectsAs(ctx, c, who)
}

// user asks GET /api/v4/user.
func (g *GitLab) user(ctx context.Context, c Credential) (Principal, error) {
	const ep = "/api/v4/user"
	r, err := g.up.get(ctx, ep, authFor(c))
	if err != nil {
		return Principal{}, err
	}
	switch r.status {
	case http.StatusOK:
	case http.StatusUnauthorized:
		return Principal{}, fmt.Errorf("gitlab GET %s: token refused (HTTP 401): %w", ep, ErrUnauthenticated)
	case http.StatusForbidden:
		return Principal{}, fmt.Errorf("gitlab GET %s: token lacks a scope to read the user (HTTP 403; want read_api or api): %w", ep, ErrUnauthenticated)
	default:
		return Principal{}, g.up.unexpected(ep, r)
	}
	var u glUser
	if err := g.up.decode(ep, r, &u); err != nil {
		return Principal{}, err
	}
	if u.ID <= 0 {
		return Principal{}, fmt.Errorf("gitlab GET %s: reply has no user id: %w", ep, ErrUnavailable)
	}
	email := cmp.Or(u.Email, u.PublicEmail)
	return Principal{ID: u.ID, Username: u.Username, Name: u.Name, Email: email, Admin: u.IsAdmin}, nil
}

// job asks GET /api/v4/job with the job token.
func (g *GitLab) job(ctx context.Context, c Credential) (glJob, error) {
	const ep = "/api/v4/job"
	r, err := g.up.get(ctx, ep, authFor(c))
	if err != nil {
		return glJob{}, err
	}
	switch r.status {
	case http.StatusOK:
	case http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound:
		return glJob{}, fmt.Errorf("gitlab GET %s: job token refused (HTTP %d; is the job still running?): %w", ep, r.status, ErrUnauthenticated)
	default:
		return glJob{}, g.up.unexpected(ep, r)
	}
	var j glJob
	if err := g.up.decode(ep, r, &j); err != nil {
		return glJob{}, err
	}
	if j.Pipeline.ProjectID <= 0 || j.User == nil || j.User.ID <= 0 {
		return glJob{}, fmt.Errorf("gitlab GET %s: reply lacks pipeline.project_id or user: %w", ep, ErrUnavailable)
	}
	return j, nil
}

// principal is the job's user, limited to the job's project.
func (j glJob) principal() Principal {
	u := j.User
	return Principal{ID: u.ID, Username: u.Username, Name: u.Name, Email: cmp.Or(u.PublicEmail, u.Email), JobProjectID: j.Pipeline.ProjectID}
}

// projectPath reads the job's project path from its web_url,
// "<gitlab>/<project path>/-/jobs/<id>", dropping base's path prefix (a
// GitLab installed under a relative URL root).
func (j glJob) projectPath(base string) string {
	u, err := url.Parse(j.WebURL)
	if err != nil {
		return ""
	}
	p := u.Path
	i := strings.LastIndex(p, "/-/jobs/")
	if i < 0 {
		return ""
	}
	p = p[:i]
	if b, err := url.Parse(base); err == nil && b.Path != "" && strings.HasPrefix(p, b.Path+"/") {
		p = p[len(b.Path):]
	}
	p, err = cleanPath(p)
	if err != nil {
		return ""
	}
	return p
}

// projectAs implements resolver: c's grant on path, c being who.
func (g *GitLab) projectAs(ctx context.Context, c Credential, who Principal, path string) (Grant, error) {
	if err := g.accepts(c); err != nil {
		return Grant{}, err
	}
	path, err := cleanPath(path)
	if err != nil {
		return Grant{}, err
	}
	if c.Kind == KindJobToken {
		return g.jobProject(ctx, c, path)
	}
	ep := "/api/v4/projects/" + url.PathEscape(path)
	r, err := g.up.get(ctx, ep, authFor(c))
	if err != nil {
		return Grant{}, err
	}
	switch r.status {
	case http.StatusOK:
	case http.StatusUnauthorized:
		return Grant{}, fmt.Errorf("gitlab GET %s: token refused (HTTP 401): %w", ep, ErrUnauthenticated)
	case http.StatusNotFound, http.StatusForbidden, http.StatusBadRequest:
		return Grant{}, fmt.Errorf("gitlab GET %s: HTTP %d: %w", ep, r.status, ErrNotFound)
	default:
		return Grant{}, g.up.unexpected(ep, r)
	}
	var gp glProject
	if err := g.up.decode(ep, r, &gp); err != nil {
		return Grant{}, err
	}
	if gp.ID <= 0 || gp.PathWithNamespace == "" {
		return Grant{}, fmt.Errorf("gitlab GET %s: reply lacks id or path_with_namespace: %w", ep, ErrUnavailable)
	}
	p := gp.project()
	if err := g.checkTopics(p); err != nil {
		return Grant{}, err
	}
	role := NoAccess
	switch {
	case who.Anonymous:
	case who.Admin:
		role = Owner
	default:
		role = gp.permissionsRole()
		if role < Owner {
			m, err := g.memberRole(ctx, c, p.ID, who.ID)
			if err != nil {
				return Grant{}, err
			}
			role = max(role, m)
		}
	}
	role = max(role, visibilityRole(p.Visibility, who))
	if !role.Allows(Read) {
		return Grant{}, fmt.Errorf("gitlab: project %s: role %s cannot read: %w", p.Path, role, ErrNotFound)
	}
	return Grant{Project: p, Role: role}, nil
}

// visibilityRole is the read access visibility alone gives: public projects
// to anyone, internal ones to authenticated users.
func visibilityRole(visibility string, who Principal) Role {
	switch {
	case visibility == "public":
		return Guest
	case visibility == "internal" && !who.Anonymous && who.JobProjectID == 0:
		return Guest
	}
	return NoAccess
}

// memberRole asks GET /api/v4/projects/:id/members/all/:user_id; a 404 means
// no membership.
func (g *GitLab) memberRole(ctx context.Context, c Credential, projectID, userID int64) (Role, error) {
	if userID <= 0 {
		return NoAccess, nil
	}
	ep := "/api/v4/projects/" + strconv.FormatInt(projectID, 10) + "/members/all/" + strconv.FormatInt(userID, 10)
	r, err := g.up.get(ctx, ep, authFor(c))
	if err != nil {
		return NoAccess, err
	}
	switch r.status {
	case http.StatusOK:
	case http.StatusNotFound, http.StatusForbidden:
		return NoAccess, nil
	case http.StatusUnauthorized:
		return NoAccess, fmt.Errorf("gitlab GET %s: token refused (HTTP 401): %w", ep, ErrUnauthenticated)
	default:
		return NoAccess, g.up.unexpected(ep, r)
	}
	var m glMember
	if err := g.up.decode(ep, r, &m); err != nil {
		return NoAccess, err
	}
	if m.MembershipState != "" && m.MembershipState != "active" {
		return NoAccess, nil // e.g. "awaiting": not a member yet
	}
	return Role(m.AccessLevel), nil
}

// jobProject answers for a job token: its job's project, as Developer.
func (g *GitLab) jobProject(ctx context.Context, c Credential, path string) (Grant, error) {
	j, err := g.job(ctx, c)
	if err != nil {
		return Grant{}, err
	}
	pid := j.Pipeline.ProjectID
	jobPath := j.projectPath(g.up.base)
	p := Project{ID: pid, Path: jobPath}
	if !p.matches(path) {
		return Grant{}, fmt.Errorf("gitlab: job token of project %d used for %q: %w", pid, path, ErrNotFound)
	}
	// Standard GitLab ignores JOB-TOKEN here and answers as to an anonymous
	// caller (public projects only); a GitLab allowing job tokens on this
	// endpoint answers for any visibility. Either way the reply, if any,
	// has the topics and canonical path.
	ep := "/api/v4/projects/" + strconv.FormatInt(pid, 10)
	r, err := g.up.get(ctx, ep, authFor(c))
	if err != nil {
		return Grant{}, err
	}
	switch r.status {
	case http.StatusOK:
		var gp glProject
		if err := g.up.decode(ep, r, &gp); err != nil {
			return Grant{}, err
		}
		if gp.ID != pid || gp.PathWithNamespace == "" {
			return Grant{}, fmt.Errorf("gitlab GET %s: reply is for another project: %w", ep, ErrUnavailable)
		}
		p = gp.project()
	case http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound:
		if len(g.topics) > 0 {
			return Grant{}, fmt.Errorf("gitlab: project %d: a job token cannot show the project's topics, and mandatory topics are set: %w", pid, ErrNotFound)
		}
		if jobPath == "" {
			return Grant{}, fmt.Errorf("gitlab GET /api/v4/job: cannot read the project path from web_url %q: %w", j.WebURL, ErrUnavailable)
		}
		p.Name = jobPath[strings.LastIndex(jobPath, "/")+1:]
	default:
		return Grant{}, g.up.unexpected(ep, r)
	}
	if err := g.checkTopics(p); err != nil {
		return Grant{}, err
	}
	return Grant{Project: p, Role: Developer}, nil
}

// checkTopics applies GITLAB_MANDATORY_TOPICS.
func (g *GitLab) checkTopics(p Project) error {
	for _, want := range g.topics {
		if !slices.ContainsFunc(p.Topics, func(t string) bool { return strings.EqualFold(t, want) }) {
			return fmt.Errorf("gitlab: project %s lacks mandatory topic %q: %w", p.Path, want, ErrNotFound)
		}
	}
	return nil
}

// projectsAs implements resolver: every project c can read, for the global
// scope.
func (g *GitLab) projectsAs(ctx context.Context, c Credential, who Principal) ([]Grant, error) {
	if err := g.accepts(c); err != nil {
		return nil, err
	}
	switch {
	case c.Kind == KindJobToken:
		gr, err := g.jobProject(ctx, c, strconv.FormatInt(who.JobProjectID, 10))
		if err != nil {
			if isNotFound(err) {
				return []Grant{}, nil
			}
			return nil, err
		}
		return []Grant{gr}, nil
	case who.Anonymous:
		return []Grant{}, nil
	}
	const perPage = 100
	var out []Grant
	seen := map[int64]bool{}
	for page := 1; page > 0; {
		ep := "/api/v4/projects?min_access_level=10&per_page=" + strconv.Itoa(perPage) + "&page=" + strconv.Itoa(page)
		r, err := g.up.get(ctx, ep, authFor(c))
		if err != nil {
			return nil, err
		}
		switch r.status {
		case http.StatusOK:
		case http.StatusUnauthorized:
			return nil, fmt.Errorf("gitlab GET %s: token refused (HTTP 401): %w", ep, ErrUnauthenticated)
		default:
			return nil, g.up.unexpected(ep, r)
		}
		var items []glProject
		if err := g.up.decode(ep, r, &items); err != nil {
			return nil, err
		}
		for _, gp := range items {
			if gp.ID <= 0 || seen[gp.ID] {
				continue
			}
			seen[gp.ID] = true
			p := gp.project()
			if g.checkTopics(p) != nil {
				continue
			}
			// min_access_level=10 guarantees at least Guest, inherited
			// and shared memberships included; permissions may show less.
			role := max(gp.permissionsRole(), Guest)
			if who.Admin {
				role = Owner
			}
			out = append(out, Grant{Project: p, Role: role})
		}
		if len(out) >= g.maxProjects {
			out = out[:g.maxProjects]
			break
		}
		page = nextPage(r.header, page, len(items), perPage)
	}
	slices.SortFunc(out, func(a, b Grant) int { return strings.Compare(a.Project.Path, b.Project.Path) })
	if out == nil {
		out = []Grant{}
	}
	return out, nil
}

// nextPage follows GitLab's pagination headers: X-Next-Page (empty on the
// last page), else X-Total-Pages, else "a full page means maybe more". It
// returns 0 when there is no next page.
func nextPage(h http.Header, page, got, perPage int) int {
	if got == 0 {
		return 0
	}
	if v, ok := h["X-Next-Page"]; ok {
		n, err := strconv.Atoi(strings.TrimSpace(strings.Join(v, "")))
		if err != nil || n <= page {
			return 0
		}
		return n
	}
	if v := h.Get("X-Total-Pages"); v != "" {
		if total, err := strconv.Atoi(v); err == nil {
			if page < total {
				return page + 1
			}
			return 0
		}
	}
	if got < perPage {
		return 0
	}
	return page + 1
}
