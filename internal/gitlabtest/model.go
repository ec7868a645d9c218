package gitlabtest

import (
	"cmp"
	"crypto/rand"
	"fmt"
	"slices"
	"strings"
	"time"
)

// GitLab access levels, as the REST API spells them.
const (
	NoAccess   = 0
	Minimal    = 5
	Guest      = 10
	Planner    = 15
	Reporter   = 20
	Developer  = 30
	Maintainer = 40
	Owner      = 50
)

// User is a GitLab user of the double.
type User struct {
	ID       int64 // assigned by AddUser
	Username string
	Name     string // default: Username
	Email    string // default: <username>@example.com
	Admin    bool
}

// Project is a GitLab project of the double.
type Project struct {
	ID         int64  // assigned by AddProject
	Path       string // path with namespace, "a/b/c/proj"
	Name       string // default: last path segment
	Visibility string // "private" (default), "internal", "public"
	Topics     []string
}

// Group is a GitLab group of the double.
type Group struct {
	ID         int64
	Path       string // full path, "a/b/c"
	Visibility string
}

type user struct {
	User
	created time.Time
}

type group struct {
	Group
	parent  *group
	members map[int64]int // user id → access level
}

type project struct {
	Project
	namespace *group // nil for a personal project
	owner     *user  // the namespace owner of a personal project
	members   map[int64]int
	shares    map[*group]int // group the project is shared with → max access level
	created   time.Time
}

type tokenKind int

const (
	personalToken tokenKind = iota + 1
	oauthToken
	jobToken
)

type token struct {
	kind    tokenKind
	user    *user
	project *project // job tokens: the job's project
	jobID   int64
	revoked bool
}

// newSecret returns a random token with GitLab's prefix for its kind.
func newSecret(prefix string) string { return prefix + rand.Text() }

// AddUser adds a user and returns it with its id.
func (s *Server) AddUser(u User) User {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u.Username == "" {
		panic("gitlabtest: AddUser: empty username")
	}
	if _, dup := s.usersByName[strings.ToLower(u.Username)]; dup {
		panic("gitlabtest: AddUser: duplicate username " + u.Username)
	}
	s.nextID++
	u.ID = s.nextID
	u.Name = cmp.Or(u.Name, u.Username)
	u.Email = cmp.Or(u.Email, strings.ToLower(u.Username)+"@example.com")
	uu := &user{User: u, created: s.clock}
	s.users[u.ID] = uu
	s.usersByName[strings.ToLower(u.Username)] = uu
	return u
}

// AddGroup adds a group, creating missing ancestors with the same
// visibility ("" means "private"), and returns it.
func (s *Server) AddGroup(path, visibility string) Group {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.groupLocked(path, cmp.Or(visibility, "private")).Group
}

func (s *Server) groupLocked(path, visibility string) *group {
	path = strings.Trim(path, "/")
	if path == "" {
		panic("gitlabtest: empty group path")
	}
	if g, ok := s.groups[strings.ToLower(path)]; ok {
		return g
	}
	var parent *group
	if i := strings.LastIndex(path, "/"); i >= 0 {
		parent = s.groupLocked(path[:i], visibility)
	}
	s.nextID++
	g := &group{Group: Group{ID: s.nextID, Path: path, Visibility: visibility}, parent: parent, members: map[int64]int{}}
	s.groups[strings.ToLower(path)] = g
	return g
}

// AddProject adds a project and returns it with its id. Its namespace is a
// user's (personal project, "alice/proj": alice becomes its Owner) when the
// path has two segments and the first is a username without a group of that
// name; otherwise a group, created with its ancestors if missing.
func (s *Server) AddProject(p Project) Project {
	s.mu.Lock()
	defer s.mu.Unlock()
	p.Path = strings.Trim(p.Path, "/")
	i := strings.LastIndex(p.Path, "/")
	if i <= 0 {
		panic("gitlabtest: AddProject: want <namespace>/<project>, got " + p.Path)
	}
	if _, dup := s.projectsByPath[strings.ToLower(p.Path)]; dup {
		panic("gitlabtest: AddProject: duplicate path " + p.Path)
	}
	p.Visibility = cmp.Or(p.Visibility, "private")
	p.Name = cmp.Or(p.Name, p.Path[i+1:])
	p.Topics = slices.Clone(p.Topics)
	s.nextProjectID++
	p.ID = s.nextProjectID
	pp := &project{Project: p, members: map[int64]int{}, shares: map[*group]int{}, created: s.clock}
	ns := p.Path[:i]
	if owner, ok := s.usersByName[strings.ToLower(ns)]; ok && !strings.Contains(ns, "/") && s.groups[strings.ToLower(ns)] == nil {
		pp.owner = owner
		pp.members[owner.ID] = Owner
	} else {
		pp.namespace = s.groupLocked(ns, "public")
	}
	s.projects[p.ID] = pp
	s.projectsByPath[strings.ToLower(p.Path)] = pp
	return p
}

// AddGroupMember makes username a direct member of the group with level;
// subgroups and their projects inherit it.
func (s *Server) AddGroupMember(groupPath, username string, level int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g, ok := s.groups[strings.ToLower(strings.Trim(groupPath, "/"))]
	if !ok {
		panic("gitlabtest: no group " + groupPath)
	}
	g.members[s.userLocked(username).ID] = level
}

// AddProjectMember makes username a direct member of the project.
func (s *Server) AddProjectMember(projectPath, username string, level int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.projectLocked(projectPath).members[s.userLocked(username).ID] = level
}

// ShareProject shares the project with a group ("invite group"): the
// group's members, inherited ones included, get their role capped at level.
func (s *Server) ShareProject(projectPath, groupPath string, level int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g, ok := s.groups[strings.ToLower(strings.Trim(groupPath, "/"))]
	if !ok {
		panic("gitlabtest: no group " + groupPath)
	}
	s.projectLocked(projectPath).shares[g] = level
}

// SetTopics replaces a project's topics.
func (s *Server) SetTopics(projectPath string, topics ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.projectLocked(projectPath).Topics = slices.Clone(topics)
}

// SetVisibility changes a project's visibility.
func (s *Server) SetVisibility(projectPath, visibility string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.projectLocked(projectPath).Visibility = visibility
}

func (s *Server) userLocked(username string) *user {
	u, ok := s.usersByName[strings.ToLower(username)]
	if !ok {
		panic("gitlabtest: no user " + username)
	}
	return u
}

func (s *Server) projectLocked(path string) *project {
	p, ok := s.projectsByPath[strings.ToLower(strings.Trim(path, "/"))]
	if !ok {
		panic("gitlabtest: no project " + path)
	}
	return p
}

// NewToken returns a new personal access token ("glpat-...") of username.
// GitLab accepts it as PRIVATE-TOKEN and as Authorization: Bearer.
func (s *Server) NewToken(username string) string {
	return s.addToken(username, personalToken, "glpat-", nil)
}

// NewOAuthToken returns a new OAuth access token of username, as the OIDC
// login would get. GitLab accepts it as Authorization: Bearer only.
func (s *Server) NewOAuthToken(username string) string {
	return s.addToken(username, oauthToken, "gloas-", nil)
}

// NewJobToken returns the CI/CD job token ("glcbt-...") of a running job of
// projectPath whose pipeline username started.
func (s *Server) NewJobToken(username, projectPath string) string {
	s.mu.Lock()
	p := s.projectLocked(projectPath)
	s.mu.Unlock()
	return s.addToken(username, jobToken, "glcbt-", p)
}

func (s *Server) addToken(username string, kind tokenKind, prefix string, p *project) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := &token{kind: kind, user: s.userLocked(username), project: p}
	if kind == jobToken {
		s.nextJobID++
		t.jobID = s.nextJobID
	}
	secret := newSecret(prefix)
	s.tokens[secret] = t
	return secret
}

// RevokeToken makes a token invalid (for a job token: the job finished).
func (s *Server) RevokeToken(secret string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t, ok := s.tokens[secret]; ok {
		t.revoked = true
	}
}

// UserID returns the id of a user.
func (s *Server) UserID(username string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.userLocked(username).ID
}

// Role returns username's effective access level on the project, as
// GET /projects/:id/members/all/:user_id reports it (0: not a member).
// Admins have no role from being admins.
func (s *Server) Role(username, projectPath string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.effective(s.userLocked(username), s.projectLocked(projectPath))
}

// effective is the highest of direct membership, memberships in the
// namespace group and its ancestors, and memberships (direct or inherited)
// of groups the project is shared with, capped at the share's level.
func (s *Server) effective(u *user, p *project) int {
	if u == nil {
		return NoAccess
	}
	level := p.members[u.ID]
	for g := p.namespace; g != nil; g = g.parent {
		level = max(level, g.members[u.ID])
	}
	for sg, limit := range p.shares {
		for g := sg; g != nil; g = g.parent {
			level = max(level, min(g.members[u.ID], limit))
		}
	}
	return level
}

// visible reports whether u (nil: anonymous) can see p at all.
func (s *Server) visible(u *user, p *project) bool {
	switch {
	case p.Visibility == "public":
		return true
	case u == nil:
		return false
	case u.Admin, p.Visibility == "internal":
		return true
	}
	return s.effective(u, p) >= Guest
}

// permissions is GitLab's project "permissions" field, with its gap:
// project_access is the direct project membership only and group_access the
// direct membership of the project's own group only; roles inherited from
// ancestor groups and from shared groups do not show.
func (s *Server) permissions(u *user, p *project) map[string]any {
	access := func(level int) any {
		if level == 0 {
			return nil
		}
		return map[string]any{"access_level": level, "notification_level": 3}
	}
	var ga int
	if p.namespace != nil {
		ga = p.namespace.members[u.ID]
	}
	return map[string]any{"project_access": access(p.members[u.ID]), "group_access": access(ga)}
}

// lookupProject finds a project by numeric id or path (ignoring case).
func (s *Server) lookupProject(ref string) *project {
	var id int64
	if _, err := fmt.Sscan(ref, &id); err == nil && fmt.Sprint(id) == ref {
		return s.projects[id]
	}
	return s.projectsByPath[strings.ToLower(ref)]
}
