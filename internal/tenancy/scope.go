package tenancy

import (
	"slices"
	"strconv"
	"strings"
)

// Scope is what one request may see.
type Scope struct {
	// All disables tenancy: every experiment is visible (single-tenant use
	// and the store's own tests).
	All bool
	// ProjectID and ProjectPath are set in project scope
	// (/<path>/tracking/...).
	ProjectID   int64
	ProjectPath string
	// Readable lists the projects visible in the global scope.
	Readable []int64
}

// Unscoped is the scope without tenancy.
var Unscoped = Scope{All: true}

// Project returns the scope of one project.
func Project(id int64, path string) Scope { return Scope{ProjectID: id, ProjectPath: path} }

// Global returns the read-only scope over the given projects.
func Global(readable []int64) Scope { return Scope{Readable: readable} }

// IsProject reports whether the scope is one project.
func (s Scope) IsProject() bool { return !s.All && s.ProjectID != 0 }

// Sees reports whether a resource owned by projectID (0: none, like
// experiment 0) is visible in the scope.
func (s Scope) Sees(projectID int64) bool {
	switch {
	case s.All:
		return true
	case projectID == 0:
		return false
	case s.ProjectID != 0:
		return projectID == s.ProjectID
	}
	return slices.Contains(s.Readable, projectID)
}

// SeesName reports whether an experiment or registered model with this
// stored name is visible in the scope.
func (s Scope) SeesName(name string) bool { return s.Sees(OwnerOf(name)) }

// NameCondition returns an SQL condition on column (a name column holding
// suffixed names) that keeps the scope's rows, and its parameters. The
// suffix is matched with LIKE on " (<id>)"; digits and parentheses are not
// LIKE wildcards, so the pattern is exact.
func (s Scope) NameCondition(column string) (string, []any) {
	switch {
	case s.All:
		return "", nil
	case s.ProjectID != 0:
		return column + " LIKE ?", []any{"%" + Suffix(s.ProjectID)}
	case len(s.Readable) == 0:
		return "1 = 0", nil
	}
	parts := make([]string, len(s.Readable))
	args := make([]any, len(s.Readable))
	for i, id := range s.Readable {
		parts[i] = column + " LIKE ?"
		args[i] = "%" + Suffix(id)
	}
	return "(" + strings.Join(parts, " OR ") + ")", args
}

// ExperimentCondition limits a query on "experiments" to the scope.
func (s Scope) ExperimentCondition() (string, []any) {
	return s.NameCondition("experiments.name")
}

// RunCondition limits a query on "runs" to the scope, through the owning
// experiment.
func (s Scope) RunCondition() (string, []any) {
	cond, args := s.NameCondition("experiments.name")
	if cond == "" {
		return "", nil
	}
	return "runs.experiment_id IN (SELECT experiments.experiment_id FROM experiments WHERE " + cond + ")", args
}

// String describes the scope for logs.
func (s Scope) String() string {
	switch {
	case s.All:
		return "all"
	case s.ProjectID != 0:
		return s.ProjectPath + " (" + strconv.FormatInt(s.ProjectID, 10) + ")"
	}
	return "global"
}
