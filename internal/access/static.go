package access

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// StaticConfig declares projects, users and memberships for the Static
// provider. It is the JSON document LoadStatic reads
// (--projects-file / MLFLOW_SHARINGHUB_PROJECTS_FILE):
//
//	{
//	  "projects": [
//	    {"id": 1, "path": "demo/project", "name": "Demo", "visibility": "private", "topics": ["ai-model"]},
//	    {"id": 2, "path": "lab/vision/detector", "visibility": "internal"}
//	  ],
//	  "users": [
//	    {"username": "alice", "name": "Alice", "email": "alice@example.com", "token": "alice-secret-token"},
//	    {"username": "bob", "tokens": ["sha256:<hex of sha256(token)>", "another-plain-token"]},
//	    {"username": "root", "admin": true, "token": "root-secret-token"}
//	  ],
//	  "memberships": [
//	    {"user": "alice", "project": "demo/project", "role": "Developer"},
//	    {"user": "bob", "project": 1, "role": 20}
//	  ]
//	}
//
// Projects: id (positive, unique), path (namespace/project, at least two
// segments of letters, digits, '_', '.', '-'; unique ignoring case), name
// (default: last path segment), visibility ("private" (default), "internal",
// "public"), topics. Users: username (unique ignoring case), optional id
// (unique; assigned when absent), name, email, admin, and tokens: "token"
// and/or "tokens", each either the token itself (at least 8 characters, no
// spaces) or "sha256:" and the hex SHA-256 of it, unique across users.
// Memberships: user (a username), project (a path or an id), role (a name:
// Owner, Maintainer, Developer, Reporter, Planner, Guest, Minimal access,
// No access, ignoring case; or a level: 50, 40, 30, 20, 15, 10, 5, 0), at
// most one per user and project. Unknown fields are errors.
//
// Access follows GitLab: the membership role, Owner for admins, and read
// (Guest) on public projects for anyone and on internal projects for any
// authenticated user. STATIC_FORMAT.md documents the same format.
type StaticConfig struct {
	Projects    []StaticProject    `json:"projects"`
	Users       []StaticUser       `json:"users"`
	Memberships []StaticMembership `json:"memberships"`
}

// StaticProject is one project of a StaticConfig.
type StaticProject struct {
	ID         int64    `json:"id"`
	Path       string   `json:"path"`
	Name       string   `json:"name,omitempty"`
	Visibility string   `json:"visibility,omitempty"`
	Topics     []string `json:"topics,omitempty"`
}

// StaticUser is one user of a StaticConfig.
type StaticUser struct {
	ID       int64    `json:"id,omitempty"`
	Username string   `json:"username"`
	Name     string   `json:"name,omitempty"`
	Email    string   `json:"email,omitempty"`
	Admin    bool     `json:"admin,omitempty"`
	Token    string   `json:"token,omitempty"`
	Tokens   []string `json:"tokens,omitempty"`
}

// StaticMembership is one user's role on one project. In JSON, project and
// role may be strings or numbers.
type StaticMembership struct {
	User    string `json:"user"`
	Project string `json:"project"` // path or numeric id
	Role    string `json:"role"`    // name or numeric level
}

// UnmarshalJSON accepts numbers for project and role, and refuses unknown
// fields.
func (m *StaticMembership) UnmarshalJSON(b []byte) error {
	var raw struct {
		User    string          `json:"user"`
		Project json.RawMessage `json:"project"`
		Role    json.RawMessage `json:"role"`
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(&raw); err != nil {
		return err
	}
	m.User = raw.User
	var err error
	if m.Project, err = stringOrNumber(raw.Project); err != nil {
		return fmt.Errorf("project: %w", err)
	}
	if m.Role, err = stringOrNumber(raw.Role); err != nil {
		return fmt.Errorf("role: %w", err)
	}
	return nil
}

// stringOrNumber reads a JSON string or integer as a string.
func stringOrNumber(b json.RawMessage) (string, error) {
	if len(b) == 0 || string(b) == "null" {
		return "", nil
	}
	var s string
	if json.Unmarshal(b, &s) == nil {
		return s, nil
	}
	var n int64
	if json.Unmarshal(b, &n) == nil {
		return strconv.FormatInt(n, 10), nil
	}
	return "", fmt.Errorf("want a string or an integer, got %s", b)
}

// StaticError lists every problem found in a static configuration.
type StaticError struct {
	File     string   // the file name, "" for NewStatic
	Problems []string // each "field: problem", e.g. `memberships[2].user: unknown user "carol"`
}

// Error prints one problem a line, each prefixed with the file name.
func (e *StaticError) Error() string {
	var b strings.Builder
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteByte('\n')
		}
		if e.File != "" {
			b.WriteString(e.File + ": ")
		}
		b.WriteString(p)
	}
	return b.String()
}

// Static is a Provider that answers from a StaticConfig. Projects lists
// every project the caller can read, public and internal ones included.
// Only KindToken and anonymous credentials are accepted.
type Static struct {
	users    []Principal
	projects []Project
	byToken  map[[sha256.Size]byte]int // token hash → users index
	byPath   map[string]int            // lower-case path → projects index
	byID     map[int64]int             // project id → projects index
	roles    map[[2]int]Role           // {user, project} index → role
}

var _ Provider = (*Static)(nil)

var (
	pathSegment  = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]*$`)
	sha256Token  = regexp.MustCompile(`^sha256:[0-9a-fA-F]{64}$`)
	minTokenSize = 8
)

// LoadStatic reads and validates a static configuration file. Problems are
// reported as a *StaticError naming the file and the field: every JSON
// problem (syntax, unknown field, wrong type) if there is any, else every
// validation problem.
func LoadStatic(path string) (*Static, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	cfg, problems := decodeStatic(b)
	if problems == nil {
		var s *Static
		s, problems = buildStatic(cfg)
		if problems == nil {
			return s, nil
		}
	}
	return nil, &StaticError{File: path, Problems: problems}
}

// NewStatic validates cfg and returns a provider for it; a problem is
// reported as a *StaticError.
func NewStatic(cfg StaticConfig) (*Static, error) {
	s, problems := buildStatic(cfg)
	if problems != nil {
		return nil, &StaticError{Problems: problems}
	}
	return s, nil
}

// Dev returns the `server --dev` configuration: one private project
// demo/project (id 1), whose Owner is user "dev", and that user's token,
// freshly random, for the caller to print.
func Dev() (*Static, string) {
	token := "dev-" + rand.Text()
	s, err := NewStatic(StaticConfig{
		Projects: []StaticProject{{ID: 1, Path: "demo/project", Name: "Demo project", Visibility: "private"}},
		Users:    []StaticUser{{ID: 1, Username: "dev", Name: "Developer (dev mode)", Email: "dev@localhost", Token: token}},
		Memberships: []StaticMembership{
			{User: "dev", Project: "demo/project", Role: Owner.String()},
		},
	})
	if err != nil {
		panic("access.Dev: " + err.Error())
	}
	return s, token
}

// decodeStatic parses the JSON document element by element, so that
// problems name their field.
func decodeStatic(b []byte) (StaticConfig, []string) {
	var raw struct {
		Projects    []json.RawMessage `json:"projects"`
		Users       []json.RawMessage `json:"users"`
		Memberships []json.RawMessage `json:"memberships"`
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(&raw); err != nil {
		return StaticConfig{}, []string{jsonProblem(b, "", err)}
	}
	if d.More() {
		return StaticConfig{}, []string{"trailing data after the JSON document"}
	}
	var cfg StaticConfig
	var problems []string
	decodeEach(raw.Projects, "projects", &cfg.Projects, &problems)
	decodeEach(raw.Users, "users", &cfg.Users, &problems)
	decodeEach(raw.Memberships, "memberships", &cfg.Memberships, &problems)
	return cfg, problems
}

// decodeEach decodes every element of a list into out, recording problems
// as "<list>[i]...".
func decodeEach[T any](items []json.RawMessage, list string, out *[]T, problems *[]string) {
	for i, item := range items {
		var v T
		d := json.NewDecoder(bytes.NewReader(item))
		d.DisallowUnknownFields()
		if err := d.Decode(&v); err != nil {
			*problems = append(*problems, jsonProblem(item, fmt.Sprintf("%s[%d]", list, i), err))
			continue
		}
		*out = append(*out, v)
	}
}

// jsonProblem turns a decoding error into "field: problem".
func jsonProblem(b []byte, at string, err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		line, col := lineCol(b, se.Offset)
		return fmt.Sprintf("%sline %d, column %d: %v", prefix(at), line, col, se)
	case errors.As(err, &te):
		field := te.Field
		if at != "" && field != "" {
			field = at + "." + field
		} else if field == "" {
			field = at
		}
		return fmt.Sprintf("%swant %s, got JSON %s", prefix(field), te.Type, te.Value)
	}
	msg := strings.TrimPrefix(err.Error(), "json: ")
	if at == "" {
		return msg
	}
	return at + ": " + msg
}

// prefix returns "field: ", or "" for no field.
func prefix(field string) string {
	if field == "" {
		return ""
	}
	return field + ": "
}

// lineCol converts a byte offset to 1-based line and column.
func lineCol(b []byte, off int64) (int, int) {
	off = min(max(off, 0), int64(len(b)))
	before := b[:off]
	line := bytes.Count(before, []byte("\n")) + 1
	col := int(off) - bytes.LastIndexByte(before, '\n') - 1 // Offset is just past the bad byte
	return line, max(col, 1)
}

// buildStatic validates cfg and indexes it.
func buildStatic(cfg StaticConfig) (*Static, []string) {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	s := &Static{
		byToken: map[[sha256.Size]byte]int{},
		byPath:  map[string]int{},
		byID:    map[int64]int{},
		roles:   map[[2]int]Role{},
	}

	if len(cfg.Projects) == 0 {
		bad("projects: none declared")
	}
	for i, sp := range cfg.Projects {
		at := fmt.Sprintf("projects[%d]", i)
		p := Project{ID: sp.ID, Path: sp.Path, Name: sp.Name, Visibility: cmp.Or(sp.Visibility, "private"), Topics: slices.Clone(sp.Topics)}
		if p.ID <= 0 {
			bad("%s.id: must be a positive integer, got %d", at, p.ID)
		} else if j, dup := s.byID[p.ID]; dup {
			bad("%s.id: %d already used by projects[%d]", at, p.ID, j)
		}
		if msg := checkProjectPath(p.Path); msg != "" {
			bad("%s.path: %s", at, msg)
		} else if j, dup := s.byPath[strings.ToLower(p.Path)]; dup {
			bad("%s.path: %q already used by projects[%d] (paths are compared ignoring case)", at, p.Path, j)
		}
		switch p.Visibility {
		case "private", "internal", "public":
		default:
			bad("%s.visibility: %q is not one of private, internal, public", at, sp.Visibility)
		}
		for k, t := range p.Topics {
			if strings.TrimSpace(t) == "" {
				bad("%s.topics[%d]: empty topic", at, k)
			}
		}
		if p.Name == "" {
			p.Name = p.Path[strings.LastIndex(p.Path, "/")+1:]
		}
		s.projects = append(s.projects, p)
		if _, dup := s.byID[p.ID]; !dup && p.ID > 0 {
			s.byID[p.ID] = i
		}
		if _, dup := s.byPath[strings.ToLower(p.Path)]; !dup && p.Path != "" {
			s.byPath[strings.ToLower(p.Path)] = i
		}
	}

	byName := map[string]int{}
	ids := map[int64]int{}
	var maxID int64
	for _, su := range cfg.Users {
		maxID = max(maxID, su.ID)
	}
	tokenOwner := map[[sha256.Size]byte]string{}
	for i, su := range cfg.Users {
		at := fmt.Sprintf("users[%d]", i)
		u := Principal{ID: su.ID, Username: su.Username, Name: cmp.Or(su.Name, su.Username), Email: su.Email, Admin: su.Admin}
		switch {
		case u.Username == "":
			bad("%s.username: missing", at)
		case !pathSegment.MatchString(u.Username):
			bad("%s.username: %q: use letters, digits, '_', '.', '-'", at, u.Username)
		default:
			if j, dup := byName[strings.ToLower(u.Username)]; dup {
				bad("%s.username: %q already used by users[%d] (usernames are compared ignoring case)", at, u.Username, j)
			} else {
				byName[strings.ToLower(u.Username)] = i
			}
		}
		switch {
		case u.ID < 0:
			bad("%s.id: must be positive, got %d", at, u.ID)
		case u.ID == 0:
			maxID++
			u.ID = maxID
		default:
			if j, dup := ids[u.ID]; dup {
				bad("%s.id: %d already used by users[%d]", at, u.ID, j)
			}
			ids[u.ID] = i
		}
		if u.Email != "" && !strings.Contains(u.Email, "@") {
			bad("%s.email: %q is not an email address", at, u.Email)
		}
		tokens := su.Tokens
		field := func(k int) string { return fmt.Sprintf("%s.tokens[%d]", at, k) }
		if su.Token != "" {
			tokens = append([]string{su.Token}, tokens...)
			field = func(k int) string {
				if k == 0 {
					return at + ".token"
				}
				return fmt.Sprintf("%s.tokens[%d]", at, k-1)
			}
		}
		for k, t := range tokens {
			h, msg := tokenHash(t)
			if msg != "" {
				bad("%s: %s", field(k), msg)
				continue
			}
			if owner, dup := tokenOwner[h]; dup {
				bad("%s: token already given to %s", field(k), owner)
				continue
			}
			tokenOwner[h] = fmt.Sprintf("users[%d] (%s)", i, u.Username)
			s.byToken[h] = i
		}
		s.users = append(s.users, u)
	}

	seen := map[[2]int]int{}
	for i, m := range cfg.Memberships {
		at := fmt.Sprintf("memberships[%d]", i)
		ui, uok := byName[strings.ToLower(m.User)]
		if m.User == "" {
			bad("%s.user: missing", at)
		} else if !uok {
			bad("%s.user: unknown user %q", at, m.User)
		}
		pi, pok := -1, false
		if m.Project == "" {
			bad("%s.project: missing", at)
		} else {
			pi, pok = s.lookup(m.Project)
			if !pok {
				bad("%s.project: unknown project %q", at, m.Project)
			}
		}
		role, err := ParseRole(m.Role)
		if m.Role == "" {
			bad("%s.role: missing", at)
		} else if err != nil {
			bad("%s.role: %v", at, err)
		}
		if !uok || !pok || err != nil {
			continue
		}
		k := [2]int{ui, pi}
		if j, dup := seen[k]; dup {
			bad("%s: user %q already has a role on %q in memberships[%d]", at, m.User, s.projects[pi].Path, j)
			continue
		}
		seen[k] = i
		s.roles[k] = role
	}
	if problems != nil {
		return nil, problems
	}
	return s, nil
}

// checkProjectPath returns what is wrong with a project path, or "".
func checkProjectPath(p string) string {
	if p == "" {
		return "missing"
	}
	segs := strings.Split(p, "/")
	if len(segs) < 2 {
		return fmt.Sprintf("%q: want <namespace>/<project>, e.g. \"group/project\"", p)
	}
	for _, s := range segs {
		if !pathSegment.MatchString(s) {
			return fmt.Sprintf("%q: segment %q: use letters, digits, '_', '.', '-', not starting with '.' or '-'", p, s)
		}
	}
	return ""
}

// tokenHash returns the SHA-256 a presented token must hash to, or what is
// wrong with the declared token.
func tokenHash(t string) ([sha256.Size]byte, string) {
	var h [sha256.Size]byte
	switch {
	case strings.HasPrefix(t, "sha256:"):
		if !sha256Token.MatchString(t) {
			return h, "want sha256: followed by 64 hex digits"
		}
		hex.Decode(h[:], []byte(strings.ToLower(t[len("sha256:"):])))
		return h, ""
	case strings.TrimSpace(t) == "":
		return h, "empty token"
	case strings.ContainsFunc(t, func(r rune) bool { return r <= ' ' || r == 0x7f }):
		return h, "a token cannot contain spaces or control characters"
	case len(t) < minTokenSize:
		return h, fmt.Sprintf("token shorter than %d characters", minTokenSize)
	}
	return sha256.Sum256([]byte(t)), ""
}

// lookup finds a project by path (ignoring case) or id.
func (s *Static) lookup(ref string) (int, bool) {
	if id, ok := numericID(ref); ok {
		i, found := s.byID[id]
		return i, found
	}
	i, found := s.byPath[strings.ToLower(strings.Trim(ref, "/"))]
	return i, found
}

// user returns the users index for c, -1 for anonymous.
func (s *Static) user(c Credential) (int, error) {
	switch c.Kind {
	case KindAnonymous:
		return -1, nil
	case KindToken:
		if i, ok := s.byToken[sha256.Sum256([]byte(c.Secret))]; ok && c.Secret != "" {
			return i, nil
		}
		return 0, fmt.Errorf("static: unknown token: %w", ErrUnauthenticated)
	}
	return 0, fmt.Errorf("static: %s credentials are not accepted with a projects file: %w", c.Kind, ErrUnauthenticated)
}

// Authenticate implements Provider.
func (s *Static) Authenticate(_ context.Context, c Credential) (Principal, error) {
	ui, err := s.user(c)
	if err != nil {
		return Principal{}, err
	}
	if ui < 0 {
		return Principal{Anonymous: true}, nil
	}
	return s.users[ui], nil
}

// grant is user ui's access on project pi (ui -1: anonymous).
func (s *Static) grant(ui, pi int) Grant {
	p := s.projects[pi]
	who := Principal{Anonymous: true}
	role := NoAccess
	if ui >= 0 {
		who = s.users[ui]
		role = s.roles[[2]int{ui, pi}]
		if who.Admin {
			role = Owner
		}
	}
	role = max(role, visibilityRole(p.Visibility, who))
	p.Topics = slices.Clone(p.Topics)
	return Grant{Project: p, Role: role}
}

// Project implements Provider.
func (s *Static) Project(_ context.Context, c Credential, path string) (Grant, error) {
	ui, err := s.user(c)
	if err != nil {
		return Grant{}, err
	}
	pi, ok := s.lookup(path)
	if !ok {
		return Grant{}, fmt.Errorf("static: no project %q: %w", path, ErrNotFound)
	}
	g := s.grant(ui, pi)
	if !g.Allows(Read) {
		return Grant{}, fmt.Errorf("static: project %s: role %s cannot read: %w", g.Project.Path, g.Role, ErrNotFound)
	}
	return g, nil
}

// Projects implements Provider: every readable project, sorted by path.
func (s *Static) Projects(_ context.Context, c Credential) ([]Grant, error) {
	ui, err := s.user(c)
	if err != nil {
		return nil, err
	}
	out := []Grant{}
	for pi := range s.projects {
		if g := s.grant(ui, pi); g.Allows(Read) {
			out = append(out, g)
		}
	}
	slices.SortFunc(out, func(a, b Grant) int { return strings.Compare(a.Project.Path, b.Project.Path) })
	return out, nil
}
