package access

import (
	"fmt"
	"strconv"
	"strings"
)

// Role is a GitLab access level. The zero value is NoAccess.
type Role int

// The GitLab access levels, lowest first.
const (
	NoAccess   Role = 0  // not a member, or no access at all
	Minimal    Role = 5  // GitLab "Minimal access": sees nothing of the project
	Guest      Role = 10 // read
	Planner    Role = 15 // read
	Reporter   Role = 20 // read
	Developer  Role = 30 // create, read, update, delete
	Maintainer Role = 40 // create, read, update, delete
	Owner      Role = 50 // create, read, update, delete
)

// roleNames maps every named level to the name GitLab shows.
var roleNames = map[Role]string{
	NoAccess:   "No access",
	Minimal:    "Minimal access",
	Guest:      "Guest",
	Planner:    "Planner",
	Reporter:   "Reporter",
	Developer:  "Developer",
	Maintainer: "Maintainer",
	Owner:      "Owner",
}

// Roles lists the named roles from NoAccess to Owner.
func Roles() []Role {
	return []Role{NoAccess, Minimal, Guest, Planner, Reporter, Developer, Maintainer, Owner}
}

// String returns the role's GitLab name ("Developer", "Minimal access", ...),
// or "Role(n)" for a level GitLab does not name.
func (r Role) String() string {
	if n, ok := roleNames[r]; ok {
		return n
	}
	return "Role(" + strconv.Itoa(int(r)) + ")"
}

// Allows reports whether role r may do action a (design.md §4): Developer,
// Maintainer and Owner may create, read, update and delete; Guest, Planner
// and Reporter may only read; Minimal access and no access may do nothing.
// Levels between the named ones behave like the named level below them.
func (r Role) Allows(a Action) bool {
	need := a.MinRole()
	return need != NoAccess && r >= need
}

// ParseRole reads a role from its name (case-insensitive: "developer",
// "Minimal access" or "minimal", "no access" or "none") or from its numeric
// access level ("30"). Only the named levels are accepted.
func ParseRole(s string) (Role, error) {
	t := strings.ToLower(strings.Join(strings.Fields(s), " "))
	switch t {
	case "none", "no access", "no_access":
		return NoAccess, nil
	case "minimal", "minimal access", "minimal_access":
		return Minimal, nil
	}
	for r, n := range roleNames {
		if strings.ToLower(n) == t {
			return r, nil
		}
	}
	if n, err := strconv.Atoi(t); err == nil {
		if _, ok := roleNames[Role(n)]; ok {
			return Role(n), nil
		}
	}
	return 0, fmt.Errorf("unknown role %q (want Owner, Maintainer, Developer, Reporter, Planner, Guest, Minimal access, No access or their levels 50, 40, 30, 20, 15, 10, 5, 0)", s)
}

// Action is what a request does to a project's resources.
type Action int

// The four actions every route declares one of.
const (
	Create Action = iota + 1
	Read
	Update
	Delete
)

// String returns "create", "read", "update" or "delete".
func (a Action) String() string {
	switch a {
	case Create:
		return "create"
	case Read:
		return "read"
	case Update:
		return "update"
	case Delete:
		return "delete"
	}
	return "Action(" + strconv.Itoa(int(a)) + ")"
}

// MinRole returns the lowest role allowed to do a: Guest for Read, Developer
// for Create, Update and Delete. An unknown action returns NoAccess, which
// Allows treats as allowed to nobody. Use it in "needs at least the
// Developer role" messages.
func (a Action) MinRole() Role {
	switch a {
	case Read:
		return Guest
	case Create, Update, Delete:
		return Developer
	}
	return NoAccess
}
