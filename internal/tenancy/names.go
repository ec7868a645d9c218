// Package tenancy holds the rules that partition one MLflow database between
// GitLab projects: name suffixes, ownership, and the SQL conditions that
// keep a request inside its scope. It is pure: no I/O.
package tenancy

import (
	"regexp"
	"strconv"

	"github.com/csgroup-oss/mlflow-sharinghub-go/internal/mlflow"
)

// suffixRe matches a trailing " (<digits>)".
var suffixRe = regexp.MustCompile(`^(.*) \((\d+)\)$`)

// Suffix returns " (<id>)".
func Suffix(projectID int64) string {
	return " (" + strconv.FormatInt(projectID, 10) + ")"
}

// ParseSuffix splits "name (42)" into "name" and 42; ok is false when the
// name carries no suffix.
func ParseSuffix(name string) (base string, projectID int64, ok bool) {
	m := suffixRe.FindStringSubmatch(name)
	if m == nil {
		return name, 0, false
	}
	id, err := strconv.ParseInt(m[2], 10, 64)
	if err != nil {
		return name, 0, false
	}
	return m[1], id, true
}

// OwnerOf returns the project id carried in a stored name, 0 when none.
func OwnerOf(name string) int64 {
	_, id, _ := ParseSuffix(name)
	return id
}

// CompleteName applies the naming rule in project scope: a name without
// suffix gets the project's; a name with the project's suffix is kept; a
// name with another project's suffix is refused, saying which suffix is
// expected.
func CompleteName(name string, projectID int64) (string, error) {
	if _, id, ok := ParseSuffix(name); ok {
		if id == projectID {
			return name, nil
		}
		return "", mlflow.InvalidParam("The name %q carries the suffix of project %d, but this tracking URI is "+
			"project %d: use %q or leave the suffix out and it is added for you.",
			name, id, projectID, suffixRe.ReplaceAllString(name, "$1")+Suffix(projectID))
	}
	return name + Suffix(projectID), nil
}

// LookupName is the name a lookup in the scope searches for: in project
// scope the name completed with the project's suffix; ok is false when the
// name carries another project's suffix (which then does not exist here).
func (s Scope) LookupName(name string) (string, bool) {
	if !s.IsProject() {
		return name, true
	}
	full, err := CompleteName(name, s.ProjectID)
	return full, err == nil
}
