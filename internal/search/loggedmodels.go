package search

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/csgroup-oss/mlflow-sharinghub-go/internal/mlflow"
)

// Logged model search (MLflow 3's search_logged_models): its own filter
// grammar (mlflow/utils/search_logged_model_utils.py), order_by objects,
// dataset restrictions and a page token that repeats the request.

// loggedModelColumns maps the attributes a filter or order_by may name to
// columns of logged_models (aliases resolved first).
var loggedModelColumns = map[string]string{
	"model_id": "model_id", "experiment_id": "experiment_id", "name": "name",
	"artifact_location": "artifact_location", "creation_timestamp_ms": "creation_timestamp_ms",
	"last_updated_timestamp_ms": "last_updated_timestamp_ms", "status": "status",
	"lifecycle_stage": "lifecycle_stage", "model_type": "model_type", "source_run_id": "source_run_id",
	"status_message": "status_message",
}

// loggedModelAliases are SqlLoggedModel.ALIASES.
var loggedModelAliases = map[string]string{
	"creation_time":          "creation_timestamp_ms",
	"creation_timestamp":     "creation_timestamp_ms",
	"last_updated_timestamp": "last_updated_timestamp_ms",
}

func loggedModelAlias(s string) string {
	if a, ok := loggedModelAliases[s]; ok {
		return a
	}
	return s
}

var (
	loggedModelIdentifier = regexp.MustCompile(`^([a-z]+)\.(.+)$`)
	numericOps            = []string{"<", "<=", ">", ">=", "=", "!="}
	stringOps             = []string{"=", "!=", "LIKE", "ILIKE", "IN", "NOT IN"}
)

// LoggedModelClause is one comparison of a logged-model filter.
type LoggedModelClause struct {
	Entity Entity // EntityAttribute, EntityMetric, EntityParam or EntityTag
	Key    string // attribute column (aliases resolved), or metric/param/tag key
	Op     string // upper-cased
	Value  Value  // FloatValue for numeric entities, StringValue or ListValue otherwise
	// Statuses holds the stored numbers of the status values named.
	Statuses []int
}

// StatusLookup maps a status named in a filter ('READY', ...) to its stored
// number; the tracking package provides it.
type StatusLookup func(string) (int, bool)

// ParseLoggedModelFilter parses a search_logged_models filter as MLflow
// does: comparisons joined by AND, identifiers "metrics.k", "params.k",
// "tags.k", "attributes.x" or a bare attribute. Errors are
// INVALID_PARAMETER_VALUE. Unknown attributes, which make MLflow fail with
// an internal error, are refused as invalid parameters.
func ParseLoggedModelFilter(filter string, statuses StatusLookup) ([]LoggedModelClause, error) {
	if filter == "" {
		return nil, nil
	}
	stmts, err := parseSQL(filter)
	if err != nil {
		return nil, mlflow.InvalidParam("Invalid filter string: %s. %v", pyStrRepr(filter), err)
	}
	if len(stmts) != 1 {
		return nil, mlflow.InvalidParam("Invalid filter string: %s. Expected a single SQL expression.", pyStrRepr(filter))
	}
	var out []LoggedModelClause
	for _, t := range joinInComparisons(stmts[0].kids) {
		switch {
		case t.is(clsComparison):
			var parts []string
			for _, k := range t.kids {
				if !k.isWhitespace() {
					parts = append(parts, k.text())
				}
			}
			if len(parts) != 3 {
				return nil, mlflow.InvalidParam("Invalid comparison: %s. Expected a comparison with 3 tokens.", t.text())
			}
			c, err := loggedModelClause(parts[0], pyUpper(parts[1]), parts[2], statuses)
			if err != nil {
				return nil, err
			}
			out = append(out, c)
		case pyUpper(strings.TrimSpace(t.text())) == "AND":
		default:
			return nil, mlflow.InvalidParam("Invalid filter string: %s. Expected a list of comparisons separated by "+
				"'AND' (e.g. 'metrics.loss > 0.1 AND params.lr = 0.01').", pyStrRepr(filter))
		}
	}
	return out, nil
}

func loggedModelClause(ident, op, value string, statuses StatusLookup) (LoggedModelClause, error) {
	c := LoggedModelClause{Op: op}
	if m := loggedModelIdentifier.FindStringSubmatch(ident); m != nil {
		key := strings.Trim(m[2], "`")
		switch m[1] {
		case "attributes":
			c.Entity, c.Key = EntityAttribute, key
		case "metrics":
			c.Entity, c.Key = EntityMetric, key
		case "params":
			c.Entity, c.Key = EntityParam, key
		case "tags":
			c.Entity, c.Key = EntityTag, key
		default:
			return c, mlflow.InvalidParam("Invalid entity type: %s. Expected one of ['attributes', 'metrics', 'params', 'tags'].",
				pyStrRepr(m[1]))
		}
	} else {
		c.Entity, c.Key = EntityAttribute, strings.Trim(loggedModelAlias(ident), "`")
	}
	entityText := map[Entity]string{EntityAttribute: "attributes", EntityMetric: "metrics", EntityParam: "params",
		EntityTag: "tags"}[c.Entity] + "." + c.Key
	if c.Entity == EntityAttribute {
		// MLflow does not check the alias of an "attributes.x" identifier.
		if _, ok := loggedModelColumns[c.Key]; !ok {
			return c, mlflow.InvalidParam("Invalid attribute key '%s' specified. Valid keys are %s", c.Key,
				setRepr("name", "model_id", "model_type", "status", "source_run_id", "creation_time",
					"creation_timestamp", "last_updated_timestamp"))
		}
	}
	numeric := c.Entity == EntityMetric ||
		(c.Entity == EntityAttribute && (c.Key == "creation_timestamp_ms" || c.Key == "last_updated_timestamp_ms"))
	ops := stringOps
	if numeric {
		ops = numericOps
	}
	if !contains(ops, op) {
		return c, mlflow.InvalidParam("Invalid comparison operator for %s: %s. Expected one of %s.",
			entityText, pyStrRepr(op), pyTupleRepr(ops))
	}
	switch {
	case numeric:
		f, err := strconv.ParseFloat(strings.TrimSpace(strings.ReplaceAll(value, "_", "")), 64)
		if err != nil {
			return c, mlflow.InvalidParam("Invalid filter value for %s: could not convert string to float: %s",
				entityText, pyStrRepr(value))
		}
		c.Value = Value{Kind: FloatValue, Float: f, Raw: value}
	case strings.HasPrefix(value, "(") && strings.HasSuffix(value, ")"):
		l, err := stringList(value)
		if err != nil {
			return c, err
		}
		c.Value = Value{Kind: ListValue, List: l, Raw: value}
	default:
		c.Value = Value{Kind: StringValue, Str: strings.Trim(value, "'"), Raw: value}
	}
	isIn := op == "IN" || op == "NOT IN"
	if isIn != (c.Value.Kind == ListValue) {
		if isIn {
			return c, mlflow.InvalidParam("Comparator '%s' requires a list of values.", op)
		}
		return c, mlflow.InvalidParam("Comparator '%s' cannot compare with a list of values: %s", op, value)
	}
	if c.Entity == EntityAttribute && c.Key == "status" {
		if op != "=" && op != "!=" && op != "IN" && op != "NOT IN" {
			return c, mlflow.InvalidParam("Invalid comparison operator for status: %s", op)
		}
		names := c.Value.List
		if !isIn {
			names = []string{c.Value.Str}
		}
		for _, n := range names {
			v, ok := statuses(n)
			if !ok {
				bad := pyStrRepr(c.Value.Str)
				if isIn {
					bad = pyTupleRepr(c.Value.List)
				}
				return c, mlflow.InvalidParam("Unknown model status in filter: %s", bad)
			}
			c.Statuses = append(c.Statuses, v)
		}
	}
	return c, nil
}

// pyTupleRepr formats a Python tuple of strings.
func pyTupleRepr(items []string) string {
	parts := make([]string, len(items))
	for i, it := range items {
		parts[i] = pyStrRepr(it)
	}
	if len(parts) == 1 {
		return "(" + parts[0] + ",)"
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

// LoggedModelDataset restricts metrics to a dataset. As in MLflow, a
// dataset given without a digest matches only metrics without one.
type LoggedModelDataset struct {
	Name   string
	Digest string // "" matches metrics whose dataset_digest is NULL
}

// LoggedModelOrder is one order_by object.
type LoggedModelOrder struct {
	FieldName     string
	Ascending     bool
	DatasetName   string
	DatasetDigest string
}

// LoggedModelsQuery describes one page of a search_logged_models request.
type LoggedModelsQuery struct {
	Dialect       string
	ExperimentIDs []int64
	Filter        string
	Statuses      StatusLookup
	Datasets      []LoggedModelDataset
	OrderBy       []LoggedModelOrder
	Offset, Limit int
	// Extra is a condition on "lm" (logged_models) ANDed into WHERE: the
	// tenancy scope. ExtraArgs are its arguments.
	Extra     string
	ExtraArgs []any
}

// LoggedModelColumns are the columns LoggedModelsQuery selects, in order.
const LoggedModelColumns = "lm.model_id, lm.experiment_id, lm.name, lm.artifact_location, lm.creation_timestamp_ms, " +
	"lm.last_updated_timestamp_ms, lm.status, lm.model_type, lm.source_run_id, lm.status_message"

// SQL returns the one SELECT of a page of logged models, ordered as
// MLflow's SQL store orders them. Errors are INVALID_PARAMETER_VALUE.
func (q LoggedModelsQuery) SQL() (string, []any, error) {
	if err := checkDialect(q.Dialect); err != nil {
		return "", nil, err
	}
	for _, d := range q.Datasets {
		if d.Name == "" {
			return "", nil, mlflow.InvalidParam("`dataset_name` in the `datasets` clause must be specified.")
		}
	}
	statuses := q.Statuses
	if statuses == nil {
		statuses = func(string) (int, bool) { return 0, false }
	}
	clauses, err := ParseLoggedModelFilter(q.Filter, statuses)
	if err != nil {
		return "", nil, err
	}
	s := &sqlBuilder{dialect: q.Dialect}
	s.sql("SELECT ", LoggedModelColumns, " FROM logged_models AS lm")
	var order []string
	hasCreation, hasModelID := false, false
	for i, o := range q.OrderBy {
		dir := ""
		if !o.Ascending {
			dir = " DESC"
		}
		if !strings.Contains(o.FieldName, ".") {
			name := loggedModelAlias(o.FieldName)
			col, ok := loggedModelColumns[name]
			if !ok {
				return "", nil, mlflow.InvalidParam("Invalid order by field name: %s", o.FieldName)
			}
			hasCreation = hasCreation || col == "creation_timestamp_ms"
			hasModelID = hasModelID || col == "model_id"
			order = append(order, "CASE WHEN lm."+col+" IS NULL THEN 1 ELSE 0 END", "lm."+col+dir)
			continue
		}
		entity, name, _ := strings.Cut(o.FieldName, ".")
		if entity != "metrics" {
			return "", nil, mlflow.InvalidParam("Invalid order by field name: %s. Only metrics are supported.", o.FieldName)
		}
		alias := "o" + strconv.Itoa(i+1)
		s.sql(" LEFT JOIN ")
		s.latestMetric(name, q.Datasets, o.DatasetName, o.DatasetDigest, q.ExperimentIDs)
		s.sql(" AS ", alias, " ON ", alias, ".model_id = lm.model_id")
		order = append(order, "CASE WHEN "+alias+".metric_value IS NULL THEN 1 ELSE 0 END", alias+".metric_value"+dir)
	}
	if !hasCreation {
		order = append(order, "lm.creation_timestamp_ms DESC")
	}
	if !hasModelID {
		order = append(order, "lm.model_id")
	}

	s.sql(" WHERE lm.lifecycle_stage != 'deleted' AND ")
	if len(q.ExperimentIDs) == 0 {
		s.sql("1 = 0")
	} else {
		s.sql("lm.experiment_id IN ")
		s.ids(q.ExperimentIDs)
	}
	hasMetricFilter := false
	for i, c := range clauses {
		s.sql(" AND ")
		alias := "f" + strconv.Itoa(i+1)
		switch c.Entity {
		case EntityAttribute:
			s.loggedModelAttribute(c)
		case EntityMetric:
			hasMetricFilter = true
			s.sql("lm.model_id IN (SELECT ", alias, ".model_id FROM ")
			s.latestMetric(c.Key, q.Datasets, "", "", q.ExperimentIDs)
			s.sql(" AS ", alias, " WHERE ")
			s.compare(alias+".metric_value", c.Op, c.Value, false)
			s.sql(")")
		case EntityParam, EntityTag:
			table, key, val := "logged_model_params", "param_key", "param_value"
			if c.Entity == EntityTag {
				table, key, val = "logged_model_tags", "tag_key", "tag_value"
			}
			s.sql("EXISTS (SELECT 1 FROM ", table, " AS ", alias, " WHERE ", alias, ".model_id = lm.model_id AND ",
				alias, ".", key, " = ")
			s.arg(c.Key)
			s.sql(" AND ")
			s.compare(alias+"."+val, c.Op, c.Value, false)
			s.sql(")")
		}
	}
	if len(q.Datasets) > 0 && !hasMetricFilter {
		s.sql(" AND EXISTS (SELECT 1 FROM logged_model_metrics AS dm WHERE dm.model_id = lm.model_id AND ")
		s.datasets("dm", q.Datasets)
		s.sql(")")
	}
	if q.Extra != "" {
		s.sql(" AND (", q.Extra, ")")
		s.args = append(s.args, q.ExtraArgs...)
	}
	s.sql(" ORDER BY ", strings.Join(order, ", "))
	s.limitOffset(q.Limit, q.Offset)
	return s.b.String(), s.args, nil
}

// loggedModelAttribute writes the condition of an attribute clause.
func (s *sqlBuilder) loggedModelAttribute(c LoggedModelClause) {
	col := "lm." + c.Key
	switch c.Key {
	case "status":
		vals := make([]any, len(c.Statuses))
		for i, v := range c.Statuses {
			vals[i] = v
		}
		if c.Op == "IN" || c.Op == "NOT IN" {
			s.sql(col, " ", c.Op, " ")
			s.list(vals)
			return
		}
		s.sql(col, " ", c.Op, " ")
		s.arg(vals[0])
	case "creation_timestamp_ms", "last_updated_timestamp_ms":
		s.compare(col, c.Op, c.Value, true)
	case "experiment_id":
		s.compare("CAST("+col+" AS VARCHAR(32))", c.Op, c.Value, false)
	default:
		s.compare(col, c.Op, c.Value, false)
	}
}

// latestMetric writes a subquery with the latest value (highest step, then
// timestamp, then value) of one metric per logged model of the
// experiments, among the rows of the given datasets.
func (s *sqlBuilder) latestMetric(name string, datasets []LoggedModelDataset, dsName, dsDigest string, expIDs []int64) {
	s.sql("(SELECT r.model_id, r.metric_value FROM (SELECT m.model_id, m.metric_value, row_number() OVER ",
		"(PARTITION BY m.model_id, m.metric_name ORDER BY m.metric_step DESC, m.metric_timestamp_ms DESC, ",
		"m.metric_value DESC) AS rn FROM logged_model_metrics AS m WHERE m.metric_name = ")
	s.arg(name)
	if len(datasets) > 0 {
		s.sql(" AND ")
		s.datasets("m", datasets)
	}
	if dsName != "" {
		s.sql(" AND m.dataset_name = ")
		s.arg(dsName)
	}
	if dsDigest != "" {
		s.sql(" AND m.dataset_digest = ")
		s.arg(dsDigest)
	}
	s.sql(" AND m.model_id IN (SELECT model_id FROM logged_models WHERE ")
	if len(expIDs) == 0 {
		s.sql("1 = 0")
	} else {
		s.sql("experiment_id IN ")
		s.ids(expIDs)
	}
	s.sql(")) r WHERE r.rn = 1)")
}

// datasets writes MLflow's dataset filter on metric rows of alias.
func (s *sqlBuilder) datasets(alias string, ds []LoggedModelDataset) {
	s.sql("(")
	for i, d := range ds {
		if i > 0 {
			s.sql(" OR ")
		}
		s.sql("(", alias, ".dataset_name = ")
		s.arg(d.Name)
		if d.Digest == "" {
			s.sql(" AND ", alias, ".dataset_digest IS NULL)")
		} else {
			s.sql(" AND ", alias, ".dataset_digest = ")
			s.arg(d.Digest)
			s.sql(")")
		}
	}
	s.sql(")")
}

// LoggedModelsToken is the page token of search_logged_models: base64 of
// the JSON of the request's experiment ids, filter and order_by, and the
// offset of the next page.
type LoggedModelsToken struct {
	ExperimentIDs []string
	Filter        string             // "" is None
	OrderBy       []LoggedModelOrder // nil is None
	Offset        int
}

// Encode writes the token as MLflow does (Python's json.dumps of the
// dataclass, then base64).
func (t LoggedModelsToken) Encode() string {
	var b strings.Builder
	b.WriteString(`{"experiment_ids": [`)
	for i, id := range t.ExperimentIDs {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(mlflow.PyJSONString(id))
	}
	b.WriteString(`], "filter_string": `)
	b.WriteString(pyJSONOptString(t.Filter))
	b.WriteString(`, "order_by": `)
	if len(t.OrderBy) == 0 {
		b.WriteString("null")
	} else {
		b.WriteString("[")
		for i, o := range t.OrderBy {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, `{"field_name": %s, "ascending": %t, "dataset_name": %s, "dataset_digest": %s}`,
				mlflow.PyJSONString(o.FieldName), o.Ascending, pyJSONOptString(o.DatasetName), pyJSONOptString(o.DatasetDigest))
		}
		b.WriteString("]")
	}
	fmt.Fprintf(&b, `, "offset": %d}`, t.Offset)
	return base64.StdEncoding.EncodeToString([]byte(b.String()))
}

// DecodeLoggedModelsToken reads a page token and checks that it was made
// for this request (same experiment ids, filter and order_by), returning
// the offset. The empty token is offset 0. Errors: INVALID_PARAMETER_VALUE.
func DecodeLoggedModelsToken(token string, req LoggedModelsToken) (int, error) {
	if token == "" {
		return 0, nil
	}
	raw, ok := pyB64Decode(token)
	var t struct {
		ExperimentIDs []string `json:"experiment_ids"`
		Filter        *string  `json:"filter_string"`
		OrderBy       []struct {
			FieldName     *string `json:"field_name"`
			Ascending     *bool   `json:"ascending"`
			DatasetName   *string `json:"dataset_name"`
			DatasetDigest *string `json:"dataset_digest"`
		} `json:"order_by"`
		Offset *int `json:"offset"`
	}
	if !ok {
		return 0, mlflow.InvalidParam("Invalid page token: %s. Could not base64-decode it.", token)
	}
	if err := json.Unmarshal(raw, &t); err != nil {
		return 0, mlflow.InvalidParam("Invalid page token: %s. %v", token, err)
	}
	if !equalStrings(t.ExperimentIDs, req.ExperimentIDs) {
		return 0, mlflow.InvalidParam("Experiment IDs in the page token do not match the requested experiment IDs. "+
			"Expected: %s. Found: %s", pyListReprOrNone(req.ExperimentIDs, true), pyListReprOrNone(t.ExperimentIDs, t.ExperimentIDs != nil))
	}
	filter := ""
	if t.Filter != nil {
		filter = *t.Filter
	}
	if filter != req.Filter {
		return 0, mlflow.InvalidParam("Filter string in the page token does not match the requested filter string. "+
			"Expected: %s. Found: %s", noneOr(req.Filter), noneOr(filter))
	}
	var got []LoggedModelOrder
	sameOrder := len(t.OrderBy) == len(req.OrderBy)
	for i, o := range t.OrderBy {
		g := LoggedModelOrder{}
		if o.FieldName != nil {
			g.FieldName = *o.FieldName
		}
		if o.Ascending != nil {
			g.Ascending = *o.Ascending
		}
		if o.DatasetName != nil {
			g.DatasetName = *o.DatasetName
		}
		if o.DatasetDigest != nil {
			g.DatasetDigest = *o.DatasetDigest
		}
		got = append(got, g)
		if sameOrder && (g != req.OrderBy[i] || o.Ascending == nil) {
			sameOrder = false
		}
	}
	if !sameOrder {
		return 0, mlflow.InvalidParam("Order by in the page token does not match the requested order by. "+
			"Expected: %s. Found: %s", orderRepr(req.OrderBy), orderRepr(got))
	}
	if t.Offset == nil || *t.Offset < 0 {
		return 0, nil
	}
	return *t.Offset, nil
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func pyListReprOrNone(l []string, present bool) string {
	if !present {
		return "None"
	}
	return pyListRepr(l)
}

func noneOr(s string) string {
	if s == "" {
		return "None"
	}
	return s
}

func pyOptRepr(s string) string {
	if s == "" {
		return "None"
	}
	return pyStrRepr(s)
}

func orderRepr(order []LoggedModelOrder) string {
	if len(order) == 0 {
		return "None"
	}
	parts := make([]string, len(order))
	for i, o := range order {
		asc := "False"
		if o.Ascending {
			asc = "True"
		}
		parts[i] = fmt.Sprintf("{'field_name': %s, 'ascending': %s, 'dataset_name': %s, 'dataset_digest': %s}",
			pyStrRepr(o.FieldName), asc, pyOptRepr(o.DatasetName), pyOptRepr(o.DatasetDigest))
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

func pyJSONOptString(s string) string {
	if s == "" {
		return "null"
	}
	return mlflow.PyJSONString(s)
}
