package search

import (
	"strings"

	"github.com/csgroup-oss/mlflow-sharinghub-go/internal/mlflow"
)

// Run search vocabulary (MLflow's SearchUtils).
var (
	runEntities = []string{"metric", "parameter", "tag", "attribute", "dataset"}
	// runEntityAliases maps every accepted entity prefix to its entity.
	runEntityAliases = map[string]Entity{
		"metric": EntityMetric, "metrics": EntityMetric,
		"parameter": EntityParam, "parameters": EntityParam, "param": EntityParam, "params": EntityParam,
		"tag": EntityTag, "tags": EntityTag,
		"attribute": EntityAttribute, "attr": EntityAttribute, "attributes": EntityAttribute, "run": EntityAttribute,
		"dataset": EntityDataset, "datasets": EntityDataset,
	}
	runSearchAttributes = []string{"artifact_uri", "end_time", "run_id", "run_name", "start_time", "status", "user_id",
		"created", "Created", "run name", "Run name", "Run Name"}
	runOrderAttributes = []string{"artifact_uri", "end_time", "run_id", "run_name", "start_time", "status", "user_id",
		"created", "Created"}
	runNumericAttributes = []string{"start_time", "end_time", "created", "Created"}
	datasetKeys          = []string{"name", "digest", "context"}

	metricComparators           = []string{">", ">=", "!=", "=", "<", "<="}
	paramComparators            = []string{"!=", "=", "LIKE", "ILIKE", "IS NULL", "IS NOT NULL"}
	tagComparators              = paramComparators
	stringAttributeComparators  = []string{"!=", "=", "LIKE", "ILIKE", "IN", "NOT IN"}
	numericAttributeComparators = metricComparators
	datasetComparators          = stringAttributeComparators
)

// translateKeyAlias maps the alternative attribute names to the real ones.
func translateKeyAlias(key string) string {
	switch key {
	case "created", "Created":
		return "start_time"
	case "run name", "Run name", "Run Name":
		return "run_name"
	}
	return key
}

// ParseRunFilter parses a search_runs filter string and checks each clause
// as MLflow's SQL store does. The empty string has no clauses (a blank one
// is an error in MLflow too). Errors are INVALID_PARAMETER_VALUE with
// MLflow's messages, except a list compared with something other than IN /
// NOT IN, which is BAD_REQUEST as in MLflow (whose driver rejects it).
func ParseRunFilter(filter string) ([]Clause, error) {
	clauses, err := parseRunFilter(filter)
	if err != nil {
		return nil, err
	}
	if err := checkRunClauses(clauses); err != nil {
		return nil, err
	}
	return clauses, nil
}

// parseRunFilter is SearchUtils.parse_search_filter: syntax, identifiers
// and values. Keys are not yet translated nor comparators upper-cased.
func parseRunFilter(filter string) ([]Clause, error) {
	comps, err := comparisons(filter, quoteInvalid)
	if err != nil {
		return nil, err
	}
	out := make([]Clause, 0, len(comps))
	for _, c := range comps {
		nullTest, err := c.checkShape()
		if err != nil {
			return nil, err
		}
		entity, key, err := runIdentifier(c.toks[0].text(), runSearchAttributes)
		if err != nil {
			return nil, err
		}
		if nullTest {
			if entity != EntityTag && entity != EntityParam {
				return nil, mlflow.InvalidParam("IS NULL / IS NOT NULL is only supported for tags and params, not for '%s' '%s'",
					entity, key)
			}
			out = append(out, Clause{Entity: entity, Key: key, Comparator: pyUpper(c.toks[1].text())})
			continue
		}
		v, err := runValue(entity, key, c.toks[2], runNumericAttributes, []string{"run_id"})
		if err != nil {
			return nil, err
		}
		out = append(out, Clause{Entity: entity, Key: key, Comparator: c.toks[1].text(), Value: v})
	}
	return out, nil
}

// runIdentifier is SearchUtils._get_identifier: "entity.key" split at the
// first dot, or a bare attribute name.
func runIdentifier(ident string, attributes []string) (Entity, string, error) {
	entityText, key, dotted := strings.Cut(ident, ".")
	if !dotted {
		entityText, key = "attribute", ident
	}
	entityText = trimBackticks(entityText)
	entity, ok := runEntityAliases[entityText]
	if !ok {
		return "", "", mlflow.InvalidParam("Invalid entity type '%s'. Valid values are %s", entityText, pyListRepr(runEntities))
	}
	key = trimBackticks(stripQuotes(key))
	switch {
	case entity == EntityAttribute && !contains(attributes, key):
		return "", "", mlflow.InvalidParam("Invalid attribute key '%s' specified. Valid keys are '%s'", key, setRepr(attributes...))
	case entity == EntityDataset && !contains(datasetKeys, key):
		return "", "", mlflow.InvalidParam("Invalid dataset key '%s' specified. Valid keys are '%s'", key, setRepr(datasetKeys...))
	}
	return entity, key, nil
}

// runValue is SearchUtils._get_value for the given numeric attributes and
// attributes that accept lists.
func runValue(entity Entity, key string, t *node, numeric, listKeys []string) (Value, error) {
	kind := operandOf(t)
	str := func() (Value, error) {
		s, err := quotedString(t.text())
		return Value{Kind: StringValue, Str: s, Raw: t.text()}, err
	}
	list := func() (Value, error) {
		l, err := stringList(t.text())
		return Value{Kind: ListValue, List: l, Raw: t.text()}, err
	}
	switch entity {
	case EntityMetric:
		if kind != opInteger && kind != opFloat {
			return Value{}, mlflow.InvalidParam("Expected numeric value type for metric. Found %s", t.text())
		}
		v := numberValue(t.text(), opFloat)
		return v, nil
	case EntityParam, EntityTag:
		if kind == opString || kind == opIdentifier {
			return str()
		}
		return Value{}, mlflow.InvalidParam("Expected a quoted string value for %s (e.g. 'my-value'). Got value %s",
			entity, t.text())
	case EntityAttribute:
		switch {
		case contains(numeric, key):
			if kind != opInteger && kind != opFloat {
				return Value{}, mlflow.InvalidParam("Expected numeric value type for numeric attribute: %s. Found %s", key, t.text())
			}
			return numberValue(t.text(), kind), nil
		case kind == opString || kind == opIdentifier:
			return str()
		case kind == opParens:
			if !contains(listKeys, key) {
				return Value{}, mlflow.InvalidParam("Only %s attributes support comparison with a list of quoted string values.",
					pyListRepr(listKeys))
			}
			return list()
		}
		return Value{}, mlflow.InvalidParam("Expected a quoted string value for attributes. Got value %s", t.text())
	default: // dataset
		switch kind {
		case opString, opIdentifier:
			return str()
		case opParens:
			return list()
		}
		return Value{}, mlflow.InvalidParam("Expected a quoted string value for dataset attributes. Got value %s", t.text())
	}
}

// checkRunClauses is the comparator check of the SQL store's
// _get_sqlalchemy_filter_clauses. It upper-cases comparators and resolves
// attribute aliases in place. Its messages reproduce MLflow's, including
// the ones that lack a closing quote or list the wrong set.
func checkRunClauses(clauses []Clause) error {
	for i := range clauses {
		c := &clauses[i]
		c.Comparator = pyUpper(c.Comparator)
		c.Key = translateKeyAlias(c.Key)
		op := c.Comparator
		switch c.Entity {
		case EntityAttribute:
			if !contains(runNumericAttributes, c.Key) {
				if !contains(stringAttributeComparators, op) {
					return mlflow.InvalidParam("Invalid comparator '%s' not one of '%s'", op, setRepr(stringAttributeComparators...))
				}
			} else if !contains(numericAttributeComparators, op) {
				return mlflow.InvalidParam("Invalid comparator '%s' not one of '%s", op, setRepr(stringAttributeComparators...))
			}
		case EntityMetric:
			if !contains(metricComparators, op) {
				return mlflow.InvalidParam("Invalid comparator '%s' not one of '%s", op, setRepr(metricComparators...))
			}
		case EntityParam:
			if !contains(paramComparators, op) {
				return mlflow.InvalidParam("Invalid comparator '%s' not one of '%s'", op, setRepr(paramComparators...))
			}
		case EntityTag:
			if !contains(tagComparators, op) {
				return mlflow.InvalidParam("Invalid comparator '%s' not one of '%s", op, setRepr(tagComparators...))
			}
		case EntityDataset:
			if !contains(datasetComparators, op) {
				return mlflow.InvalidParam("Invalid comparator '%s' not one of '%s", op, setRepr(datasetComparators...))
			}
		}
	}
	for _, c := range clauses {
		if err := checkListUse(c); err != nil {
			return err
		}
	}
	return nil
}

// checkListUse rejects a list with a comparator other than IN / NOT IN
// (and IN / NOT IN without a list). MLflow lets these through to the
// database driver, which cannot bind a tuple: the request fails with
// BAD_REQUEST once the query runs, after every other check.
func checkListUse(c Clause) error {
	isIn := c.Comparator == "IN" || c.Comparator == "NOT IN"
	switch {
	case c.Value.Kind == ListValue && !isIn:
		return mlflow.Errorf(mlflow.BadRequest, "Comparator '%s' cannot compare with a list of values: %s", c.Comparator, c.Value.Raw)
	case isIn && c.Value.Kind != ListValue:
		return mlflow.Errorf(mlflow.BadRequest, "Comparator '%s' requires a list of values.", c.Comparator)
	}
	return nil
}

// pyListRepr formats a Python list of strings.
func pyListRepr(items []string) string {
	parts := make([]string, len(items))
	for i, it := range items {
		parts[i] = pyStrRepr(it)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}
