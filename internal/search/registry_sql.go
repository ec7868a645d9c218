package search

import "strconv"

// RegisteredModelsQuery describes one page of a search_registered_models
// request in the default workspace.
type RegisteredModelsQuery struct {
	Dialect string   // DialectSQLite or DialectPostgres
	Filter  string   // MLflow filter string
	OrderBy []string // MLflow order_by clauses
	// Offset and Limit page the result (Limit = max_results+1 to detect a
	// next page); Limit <= 0 means no limit.
	Offset, Limit int
	// Extra is an optional SQL condition ANDed into the WHERE clause (the
	// tenancy scope); it may refer to the columns of "registered_models".
	Extra     string
	ExtraArgs []any
}

// RegisteredModelColumns are the columns RegisteredModelsQuery selects, in order.
const RegisteredModelColumns = "registered_models.name, registered_models.creation_time, " +
	"registered_models.last_updated_time, registered_models.description"

// SQL returns one SELECT statement, with "?" placeholders, listing
// RegisteredModelColumns in MLflow's order (the order_by clauses, then
// name ASC). Prompts (models tagged mlflow.prompt.is_prompt = 'true') are
// left out unless the filter asks for them. Errors are
// INVALID_PARAMETER_VALUE (INTERNAL_ERROR for a duplicated order_by
// column, BAD_REQUEST for a misused list, as in MLflow).
func (q RegisteredModelsQuery) SQL() (string, []any, error) {
	if err := checkDialect(q.Dialect); err != nil {
		return "", nil, err
	}
	clauses, err := parseRegistryFilter(q.Filter, false)
	if err != nil {
		return "", nil, err
	}
	order, err := ParseRegisteredModelOrderBy(q.OrderBy)
	if err != nil {
		return "", nil, err
	}
	if err := checkModelClauses(clauses); err != nil {
		return "", nil, err
	}
	s := &sqlBuilder{dialect: q.Dialect}
	s.sql("SELECT ", RegisteredModelColumns, " FROM registered_models WHERE registered_models.workspace = 'default'")
	s.registryConditions(clauses, "registered_models", "registered_model_tags", []string{"name"})
	if q.Extra != "" {
		s.sql(" AND (", q.Extra, ")")
		s.args = append(s.args, q.ExtraArgs...)
	}
	s.orderBy("registered_models", order, []OrderClause{{Key: "name", Ascending: true}})
	s.limitOffset(q.Limit, q.Offset)
	return s.b.String(), s.args, nil
}

// ModelVersionsQuery describes one page of a search_model_versions request
// in the default workspace.
type ModelVersionsQuery struct {
	Dialect       string
	Filter        string
	OrderBy       []string // none: last_updated_timestamp DESC, name ASC, version_number DESC
	Offset, Limit int
	// Extra is an optional condition on the columns of "model_versions".
	Extra     string
	ExtraArgs []any
}

// ModelVersionColumns are the columns ModelVersionsQuery selects, in order.
const ModelVersionColumns = "model_versions.name, model_versions.version, model_versions.creation_time, " +
	"model_versions.last_updated_time, model_versions.description, model_versions.user_id, " +
	"model_versions.current_stage, model_versions.source, model_versions.run_id, model_versions.status, " +
	"model_versions.status_message, model_versions.run_link, model_versions.storage_location"

// SQL returns one SELECT statement listing ModelVersionColumns of the
// versions that are not soft-deleted, in MLflow's order (the order_by
// clauses, then name ASC and version DESC). Prompt versions are left out
// unless the filter asks for them.
func (q ModelVersionsQuery) SQL() (string, []any, error) {
	if err := checkDialect(q.Dialect); err != nil {
		return "", nil, err
	}
	clauses, err := ParseModelVersionFilter(q.Filter)
	if err != nil {
		return "", nil, err
	}
	orderBy := q.OrderBy
	if len(orderBy) == 0 {
		orderBy = []string{"last_updated_timestamp DESC", "name ASC", "version_number DESC"}
	}
	order, err := ParseModelVersionOrderBy(orderBy)
	if err != nil {
		return "", nil, err
	}
	s := &sqlBuilder{dialect: q.Dialect}
	s.sql("SELECT ", ModelVersionColumns, " FROM model_versions WHERE model_versions.workspace = 'default'",
		" AND model_versions.current_stage != 'Deleted_Internal'")
	s.registryConditions(clauses, "model_versions", "model_version_tags", []string{"name", "version"})
	if q.Extra != "" {
		s.sql(" AND (", q.Extra, ")")
		s.args = append(s.args, q.ExtraArgs...)
	}
	s.orderBy("model_versions", order, []OrderClause{{Key: "name", Ascending: true}, {Key: "version"}})
	s.limitOffset(q.Limit, q.Offset)
	return s.b.String(), s.args, nil
}

// registryConditions writes the filter of a registry search: attribute
// comparisons, one EXISTS per tag key (all of the key's comparisons on
// the same tag row, as MLflow's grouped tag join), and the prompt
// anti-join unless the filter asks for prompts (which then drops the
// filter's own comparisons on the prompt tag, as MLflow does).
func (s *sqlBuilder) registryConditions(clauses []Clause, table, tagTable string, keyCols []string) {
	prompts := QueriesPrompts(clauses)
	var tagKeys []string
	byKey := map[string][]Clause{}
	for _, c := range clauses {
		if c.Entity == EntityAttribute {
			s.sql(" AND ")
			col := table + "." + versionAttributeCols[c.Key]
			if c.Key == "version_number" {
				s.sql(col, " ", c.Comparator, " ")
				s.id(c.Value.Int)
				continue
			}
			s.compare(col, c.Comparator, c.Value, false)
			continue
		}
		if !prompts && c.Key == IsPromptTag {
			continue
		}
		if _, ok := byKey[c.Key]; !ok {
			tagKeys = append(tagKeys, c.Key)
		}
		byKey[c.Key] = append(byKey[c.Key], c)
	}
	join := func(alias string) string {
		out := ""
		for _, k := range keyCols {
			out += " AND " + alias + "." + k + " = " + table + "." + k
		}
		return out
	}
	for i, k := range tagKeys {
		alias := "t" + strconv.Itoa(i+1)
		s.sql(" AND EXISTS (SELECT 1 FROM ", tagTable, " AS ", alias, " WHERE ", alias, ".workspace = ", table, ".workspace",
			join(alias), " AND ", alias, ".key = ")
		s.arg(k)
		for _, c := range byKey[k] {
			s.sql(" AND ")
			s.compare(alias+".value", c.Comparator, c.Value, false)
		}
		s.sql(")")
	}
	if !prompts {
		s.sql(" AND NOT EXISTS (SELECT 1 FROM ", tagTable, " AS p WHERE p.workspace = ", table, ".workspace AND p.name = ",
			table, ".name AND p.key = ")
		s.arg(IsPromptTag)
		s.sql(" AND p.value = ")
		s.arg("true")
		s.sql(")")
	}
}

// orderBy writes ORDER BY with the clauses, then each tie-breaker whose
// column the clauses do not name.
func (s *sqlBuilder) orderBy(table string, order, tieBreak []OrderClause) {
	s.sql(" ORDER BY ")
	used := map[string]bool{}
	first := true
	write := func(o OrderClause) {
		if !first {
			s.sql(", ")
		}
		first = false
		dir := " ASC"
		if !o.Ascending {
			dir = " DESC"
		}
		s.sql(table, ".", o.Key, dir)
		used[o.Key] = true
	}
	for _, o := range order {
		write(o)
	}
	for _, o := range tieBreak {
		if !used[o.Key] {
			write(o)
		}
	}
}
