package search

import "strconv"

// ExperimentsQuery describes one page of a search_experiments request in
// the default workspace.
type ExperimentsQuery struct {
	Dialect string   // DialectSQLite or DialectPostgres
	Stages  []string // lifecycle stages; none means ["active"]
	Filter  string   // MLflow filter string
	OrderBy []string // MLflow order_by clauses
	// Offset and Limit page the result (Limit = max_results+1 to detect a
	// next page); Limit <= 0 means no limit.
	Offset, Limit int
	// Extra is an optional SQL condition ANDed into the WHERE clause; it
	// may refer to the columns of "experiments". ExtraArgs are its
	// arguments.
	Extra     string
	ExtraArgs []any
}

// experimentColumns are the columns ExperimentsQuery selects, in order.
const experimentColumns = "experiments.experiment_id, experiments.name, experiments.artifact_location, " +
	"experiments.lifecycle_stage, experiments.creation_time, experiments.last_update_time"

// SQL returns one SELECT statement, with "?" placeholders, listing the
// experiments' columns (experiment_id, name, artifact_location,
// lifecycle_stage, creation_time, last_update_time) in MLflow's order:
// by default creation_time DESC, experiment_id ASC; with an order_by that
// does not name experiment_id, experiment_id DESC breaks ties. Filter and
// order_by errors are INVALID_PARAMETER_VALUE; an unknown dialect is an
// untyped error.
func (q ExperimentsQuery) SQL() (string, []any, error) {
	if err := checkDialect(q.Dialect); err != nil {
		return "", nil, err
	}
	clauses, err := ParseExperimentFilter(q.Filter)
	if err != nil {
		return "", nil, err
	}
	orderBy := q.OrderBy
	if len(orderBy) == 0 {
		orderBy = []string{"creation_time DESC", "experiment_id ASC"}
	}
	order, err := ParseExperimentOrderBy(orderBy)
	if err != nil {
		return "", nil, err
	}

	s := &sqlBuilder{dialect: q.Dialect}
	s.sql("SELECT ", experimentColumns, " FROM experiments WHERE experiments.workspace = 'default'",
		" AND experiments.lifecycle_stage IN ")
	s.list(stagesOrActive(q.Stages))
	for i, c := range clauses {
		s.sql(" AND ")
		s.experimentCondition(c, "f"+strconv.Itoa(i+1))
	}
	if q.Extra != "" {
		s.sql(" AND (", q.Extra, ")")
		s.args = append(s.args, q.ExtraArgs...)
	}
	s.sql(" ORDER BY ")
	idUsed := false
	for i, o := range order {
		if i > 0 {
			s.sql(", ")
		}
		dir := " ASC"
		if !o.Ascending {
			dir = " DESC"
		}
		s.sql("experiments.", o.Key, dir)
		idUsed = idUsed || o.Key == "experiment_id"
	}
	if !idUsed {
		s.sql(", experiments.experiment_id DESC")
	}
	s.limitOffset(q.Limit, q.Offset)
	return s.b.String(), s.args, nil
}

// experimentCondition writes the WHERE condition of one clause; tag
// clauses are EXISTS on experiment_tags.
func (s *sqlBuilder) experimentCondition(c Clause, alias string) {
	if c.Entity == EntityAttribute {
		if c.Key == "experiment_id" {
			s.sql("experiments.experiment_id ", c.Comparator, " ")
			if c.Value.Kind != ListValue {
				s.id(c.Value.Int)
				return
			}
			ids := make([]int64, len(c.Value.List))
			for i, v := range c.Value.List {
				ids[i], _ = experimentID(v) // checked by ParseExperimentFilter
			}
			s.ids(ids)
			return
		}
		s.compare("experiments."+c.Key, c.Comparator, c.Value, c.Key != "name")
		return
	}
	if c.Comparator == "IS NULL" {
		s.sql("NOT ")
	}
	s.sql("EXISTS (SELECT 1 FROM experiment_tags AS ", alias, " WHERE ", alias,
		".experiment_id = experiments.experiment_id AND ", alias, ".key = ")
	s.arg(c.Key)
	if c.Comparator != "IS NULL" && c.Comparator != "IS NOT NULL" {
		s.sql(" AND ")
		s.compare(alias+".value", c.Comparator, c.Value, false)
	}
	s.sql(")")
}
