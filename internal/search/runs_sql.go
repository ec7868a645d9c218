package search

import "strconv"

// RunsQuery describes one page of a search_runs request.
type RunsQuery struct {
	Dialect       string   // DialectSQLite or DialectPostgres
	ExperimentIDs []int64  // runs of these experiments; none selects nothing
	Stages        []string // lifecycle stages; none means ["active"]
	Filter        string   // MLflow filter string
	OrderBy       []string // MLflow order_by clauses
	// Offset and Limit page the result; the store passes Limit =
	// max_results+1 to detect a next page. Limit <= 0 means no limit.
	Offset, Limit int
	// Extra is an optional SQL condition ANDed into the WHERE clause (the
	// tenancy scope); it may refer to the columns of "runs". ExtraArgs are
	// its arguments.
	Extra     string
	ExtraArgs []any
}

// runColumns are the columns RunsQuery selects, in order.
const runColumns = "runs.run_uuid, runs.experiment_id, runs.name, runs.user_id, runs.status, " +
	"runs.start_time, runs.end_time, runs.artifact_uri, runs.lifecycle_stage"

// runAttributeColumns maps run attributes to columns of "runs".
var runAttributeColumns = map[string]string{
	"run_id": "run_uuid", "run_name": "name", "user_id": "user_id", "status": "status",
	"start_time": "start_time", "end_time": "end_time", "artifact_uri": "artifact_uri",
}

// SQL returns one SELECT statement, with "?" placeholders, that lists the
// runs' columns (run_uuid, experiment_id, name, user_id, status,
// start_time, end_time, artifact_uri, lifecycle_stage) in the order
// MLflow's SQL store returns them. Filter and order_by errors are
// INVALID_PARAMETER_VALUE (a duplicated order_by field is INTERNAL_ERROR,
// as in MLflow); an unknown dialect is an untyped error.
func (q RunsQuery) SQL() (string, []any, error) {
	if err := checkDialect(q.Dialect); err != nil {
		return "", nil, err
	}
	// MLflow parses the filter, then order_by, then checks comparators.
	clauses, err := parseRunFilter(q.Filter)
	if err != nil {
		return "", nil, err
	}
	order, err := ParseRunOrderBy(q.OrderBy)
	if err != nil {
		return "", nil, err
	}
	if err := checkRunClauses(clauses); err != nil {
		return "", nil, err
	}

	s := &sqlBuilder{dialect: q.Dialect}
	s.sql("SELECT ", runColumns, " FROM runs")
	var orderTerms []string
	startTimeUsed := false
	for i, o := range order {
		dir := ""
		if !o.Ascending {
			dir = " DESC"
		}
		if o.Entity == EntityAttribute {
			col := "runs." + runAttributeColumns[o.Key]
			startTimeUsed = startTimeUsed || o.Key == "start_time"
			orderTerms = append(orderTerms, "CASE WHEN "+col+" IS NULL THEN 1 ELSE 0 END", col+dir)
			continue
		}
		alias := "o" + strconv.Itoa(i+1)
		s.sql(" LEFT JOIN ", entityTable(o.Entity), " AS ", alias, " ON ", alias, ".run_uuid = runs.run_uuid AND ",
			alias, ".key = ")
		s.arg(o.Key)
		rank := "CASE WHEN " + alias + ".value IS NULL THEN 1 ELSE 0 END"
		if o.Entity == EntityMetric {
			// NaN sorts after numbers and before missing values, both ways.
			rank = "CASE WHEN " + alias + ".is_nan = true THEN 1 WHEN " + alias + ".value IS NULL THEN 2 ELSE 0 END"
		}
		orderTerms = append(orderTerms, rank, alias+".value"+dir)
	}
	if !startTimeUsed {
		orderTerms = append(orderTerms, "runs.start_time DESC")
	}
	orderTerms = append(orderTerms, "runs.run_uuid")

	s.sql(" WHERE ")
	if len(q.ExperimentIDs) == 0 {
		s.sql("1 = 0")
	} else {
		s.sql("runs.experiment_id IN ")
		s.ids(q.ExperimentIDs)
	}
	s.sql(" AND runs.lifecycle_stage IN ")
	s.list(stagesOrActive(q.Stages))
	for i, c := range clauses {
		s.sql(" AND ")
		s.runCondition(c, "f"+strconv.Itoa(i+1))
	}
	if q.Extra != "" {
		s.sql(" AND (", q.Extra, ")")
		s.args = append(s.args, q.ExtraArgs...)
	}
	s.sql(" ORDER BY ")
	for i, t := range orderTerms {
		if i > 0 {
			s.sql(", ")
		}
		s.sql(t)
	}
	s.limitOffset(q.Limit, q.Offset)
	return s.b.String(), s.args, nil
}

// entityTable is the table holding a run's metrics, params or tags.
func entityTable(e Entity) string {
	switch e {
	case EntityMetric:
		return "latest_metrics"
	case EntityParam:
		return "params"
	}
	return "tags"
}

// runCondition writes the WHERE condition of one clause. Everything but
// plain attributes is an EXISTS on the child table, so a run matches at
// most once and no DISTINCT is needed.
func (s *sqlBuilder) runCondition(c Clause, alias string) {
	switch c.Entity {
	case EntityAttribute:
		if c.Key == "run_name" {
			// MLflow matches run_name against the mlflow.runName tag.
			s.sql("EXISTS (SELECT 1 FROM tags AS ", alias, " WHERE ", alias, ".run_uuid = runs.run_uuid AND ",
				alias, ".key = ")
			s.arg("mlflow.runName")
			s.sql(" AND ")
			s.compare(alias+".value", c.Comparator, c.Value, false)
			s.sql(")")
			return
		}
		col := runAttributeColumns[c.Key]
		s.compare("runs."+col, c.Comparator, c.Value, col == "start_time" || col == "end_time")
	case EntityDataset:
		s.sql("EXISTS (SELECT 1 FROM inputs AS ", alias, "i JOIN datasets AS ", alias, "d ON ", alias,
			"d.dataset_uuid = ", alias, "i.source_id")
		if c.Key == "context" {
			s.sql(" JOIN input_tags AS ", alias, "t ON ", alias, "t.input_uuid = ", alias, "i.input_uuid")
		}
		s.sql(" WHERE ", alias, "i.destination_id = runs.run_uuid AND ", alias, "i.destination_type = 'RUN' AND ",
			alias, "i.source_type = 'DATASET' AND ")
		if c.Key == "context" {
			s.sql(alias, "t.name = ")
			s.arg("mlflow.data.context")
			s.sql(" AND ")
			s.compare(alias+"t.value", c.Comparator, c.Value, false)
		} else {
			s.compare(alias+"d."+c.Key, c.Comparator, c.Value, false)
		}
		s.sql(")")
	default: // metric, param, tag
		if c.Comparator == "IS NULL" {
			s.sql("NOT ")
		}
		s.sql("EXISTS (SELECT 1 FROM ", entityTable(c.Entity), " AS ", alias, " WHERE ", alias,
			".run_uuid = runs.run_uuid AND ", alias, ".key = ")
		s.arg(c.Key)
		switch {
		case c.Comparator == "IS NULL" || c.Comparator == "IS NOT NULL":
		case c.Entity == EntityMetric:
			// A NaN metric is stored as 0 with is_nan set: it satisfies only !=.
			v := c.Value
			if c.Comparator == "!=" {
				s.sql(" AND (", alias, ".value != ")
				s.arg(v.Float)
				s.sql(" OR ", alias, ".is_nan = true)")
			} else {
				s.sql(" AND ", alias, ".value ", c.Comparator, " ")
				s.arg(v.Float)
				s.sql(" AND ", alias, ".is_nan = false")
			}
		default:
			s.sql(" AND ")
			s.compare(alias+".value", c.Comparator, c.Value, false)
		}
		s.sql(")")
	}
}
