package search

import (
	"strings"

	"github.com/csgroup-oss/mlflow-sharinghub-go/internal/mlflow"
)

// Registry search vocabulary (MLflow's SearchModelUtils and
// SearchModelVersionUtils).
var (
	modelAttributes          = []string{"name"}
	modelListKeys            = []string{"name"}
	versionAttributes        = []string{"name", "version_number", "run_id", "source_path"}
	versionNumericAttributes = []string{"version_number", "creation_timestamp", "last_updated_timestamp"}
	versionListKeys          = []string{"name", "run_id"}
	registryTagComparators   = []string{"=", "!=", "LIKE", "ILIKE"}
	registryStringComparator = []string{"=", "!=", "LIKE", "ILIKE", "IN", "NOT IN"}

	modelOrderKeys       = []string{"timestamp", "last_updated_timestamp", "name"}
	modelOrderRecommend  = []string{"name", "timestamp"}
	versionOrderKeys     = []string{"name", "version_number", "creation_timestamp", "last_updated_timestamp"}
	versionAttributeCols = map[string]string{
		"name": "name", "run_id": "run_id", "source_path": "source", "version_number": "version",
		"creation_timestamp": "creation_time", "last_updated_timestamp": "last_updated_time",
	}
)

// IsPromptTag is the tag that marks registered models and versions as
// prompts; searches leave prompts out unless the filter asks for them.
const IsPromptTag = "mlflow.prompt.is_prompt"

// ParseRegisteredModelFilter parses a search_registered_models filter and
// checks its comparators as MLflow's SQL store does: attribute name (= !=
// LIKE ILIKE IN NOT IN) and tags (= != LIKE ILIKE). Errors are
// INVALID_PARAMETER_VALUE with MLflow's messages.
func ParseRegisteredModelFilter(filter string) ([]Clause, error) {
	clauses, err := parseRegistryFilter(filter, false)
	if err != nil {
		return nil, err
	}
	return clauses, checkModelClauses(clauses)
}

// ParseModelVersionFilter parses a search_model_versions filter and checks
// it as MLflow's SQL store does: attributes name, run_id, source_path
// (strings) and version_number (numeric), and tags. version_number values
// are IntValue after the check.
func ParseModelVersionFilter(filter string) ([]Clause, error) {
	clauses, err := parseRegistryFilter(filter, true)
	if err != nil {
		return nil, err
	}
	return clauses, checkVersionClauses(clauses)
}

// parseRegistryFilter is SearchModelUtils / SearchModelVersionUtils
// parse_search_filter: syntax, identifiers and values.
func parseRegistryFilter(filter string, versions bool) ([]Clause, error) {
	comps, err := comparisons(filter, bareInvalid)
	if err != nil {
		return nil, err
	}
	attrs, listKeys, what := modelAttributes, modelListKeys, "registered model"
	if versions {
		attrs, listKeys, what = versionAttributes, versionListKeys, "model version"
	}
	out := make([]Clause, 0, len(comps))
	for _, c := range comps {
		nullTest, err := c.checkShape()
		if err != nil {
			return nil, err
		}
		if nullTest {
			return nil, mlflow.InvalidParam("IS NULL / IS NOT NULL is not supported for %s search.", what)
		}
		entity, key, err := registryIdentifier(c.toks[0].text(), attrs)
		if err != nil {
			return nil, err
		}
		v, err := registryValue(entity, key, c.toks[2], listKeys, versions)
		if err != nil {
			return nil, err
		}
		out = append(out, Clause{Entity: entity, Key: key, Comparator: pyUpper(c.toks[1].text()), Value: v})
	}
	return out, nil
}

// registryIdentifier is _get_model_search_identifier: the attribute key is
// checked before quotes and backticks are removed.
func registryIdentifier(ident string, attrs []string) (Entity, string, error) {
	entity := EntityAttribute
	entityText, key, dotted := strings.Cut(ident, ".")
	if !dotted {
		key = ident
	} else {
		switch entityText {
		case "attribute":
		case "tag", "tags":
			entity = EntityTag
		default:
			return "", "", mlflow.InvalidParam("Invalid entity type '%s'. Valid entity types are ('attribute', 'tag', 'tags')", entityText)
		}
	}
	if entity == EntityAttribute && !contains(attrs, key) {
		return "", "", mlflow.InvalidParam("Invalid attribute key '%s' specified. Valid keys are '%s'", key, setRepr(attrs...))
	}
	return entity, trimBackticks(stripQuotes(key)), nil
}

// registryValue is the registry searches' _get_value.
func registryValue(entity Entity, key string, t *node, listKeys []string, versions bool) (Value, error) {
	kind := operandOf(t)
	if kind == opString || kind == opIdentifier {
		s, err := quotedString(t.text())
		return Value{Kind: StringValue, Str: s, Raw: t.text()}, err
	}
	if entity == EntityTag {
		return Value{}, mlflow.InvalidParam("Expected a quoted string value for tag (e.g. 'my-value'). Got value %s", t.text())
	}
	switch {
	case kind == opParens:
		if !contains(listKeys, key) {
			return Value{}, mlflow.InvalidParam("Only %s attributes support comparison with a list of quoted string values.",
				pyListRepr(sortedCopy(listKeys)))
		}
		l, err := stringList(t.text())
		return Value{Kind: ListValue, List: l, Raw: t.text()}, err
	case versions && (kind == opInteger || kind == opFloat):
		if !contains(versionNumericAttributes, key) {
			return Value{}, mlflow.InvalidParam("Only the '%s' attributes support comparison with numeric values.",
				setRepr(versionNumericAttributes...))
		}
		return numberValue(t.text(), kind), nil
	}
	return Value{}, mlflow.InvalidParam("Expected a quoted string value or a list of quoted string values for attributes. Got value %s", t.text())
}

func sortedCopy(s []string) []string {
	out := append([]string(nil), s...)
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j] < out[j-1]; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// checkModelClauses is the comparator check of
// _get_search_registered_model_filter_query.
func checkModelClauses(clauses []Clause) error {
	for _, c := range clauses {
		if c.Entity == EntityAttribute {
			if !contains(registryStringComparator, c.Comparator) {
				return mlflow.InvalidParam("Invalid comparator for attribute: %s", c.Comparator)
			}
		} else if !contains(registryTagComparators, c.Comparator) {
			return mlflow.InvalidParam("Invalid comparator for tag: %s", c.Comparator)
		}
	}
	for _, c := range clauses {
		if err := checkListUse(c); err != nil {
			return err
		}
	}
	return nil
}

// checkVersionClauses is the check of _get_search_model_versions_filter_clauses;
// it turns version_number values into IntValue.
func checkVersionClauses(clauses []Clause) error {
	for i := range clauses {
		c := &clauses[i]
		switch {
		case c.Entity == EntityTag:
			if !contains(registryTagComparators, c.Comparator) {
				return mlflow.InvalidParam("Invalid comparator for tag: %s", c.Comparator)
			}
		case contains(versionNumericAttributes, c.Key):
			if !contains(numericAttributeComparators, c.Comparator) {
				return mlflow.InvalidParam("Invalid comparator for attribute %s: %s", c.Key, c.Comparator)
			}
			switch c.Value.Kind {
			case FloatValue:
				return mlflow.InvalidParam("Invalid value for numeric attribute '%s': %s", c.Key, pyFloatRepr(c.Value.Float))
			case StringValue:
				n, ok := pyIntFromString(c.Value.Str)
				if !ok {
					return mlflow.InvalidParam("Invalid value for numeric attribute '%s': %s", c.Key, pyStrRepr(c.Value.Str))
				}
				v := numberValue(n.String(), opInteger)
				v.Raw = c.Value.Raw
				c.Value = v
			case ListValue:
				return mlflow.InvalidParam("Invalid value for numeric attribute '%s': %s", c.Key, c.Value.Raw)
			}
		default:
			if !contains(registryStringComparator, c.Comparator) ||
				((c.Comparator == "IN" || c.Comparator == "NOT IN") && c.Key != "run_id" && c.Key != "name") {
				return mlflow.InvalidParam("Invalid comparator for attribute: %s", c.Comparator)
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

// QueriesPrompts is MLflow's _is_querying_prompt: the first clause on the
// prompt tag decides whether prompts are searched (= 'true' or != 'false').
func QueriesPrompts(clauses []Clause) bool {
	for _, c := range clauses {
		if c.Entity != EntityTag || c.Key != IsPromptTag {
			continue
		}
		v := strings.ToLower(c.Value.Str)
		return (c.Comparator == "=" && v == "true") || (c.Comparator == "!=" && v == "false")
	}
	return false
}

// ParseRegisteredModelOrderBy parses search_registered_models order_by:
// name, timestamp or last_updated_timestamp (the last two sort by
// last_updated_time). Keys are returned as column names of
// registered_models. Errors are INVALID_PARAMETER_VALUE, and
// INTERNAL_ERROR for a column named twice, as in MLflow.
func ParseRegisteredModelOrderBy(orderBy []string) ([]OrderClause, error) {
	var out []OrderClause
	for _, ob := range orderBy {
		ident, asc, err := orderByIdentifier(ob)
		if err != nil {
			return nil, err
		}
		key := strings.TrimFunc(ident, isSpace)
		if !contains(modelOrderKeys, key) {
			return nil, mlflow.InvalidParam("Invalid order by key '%s' specified. Valid keys are '%s'", key, setRepr(modelOrderRecommend...))
		}
		col := "name"
		if key != "name" {
			col = "last_updated_time"
		}
		for _, o := range out {
			if o.Key == col {
				return nil, mlflow.Errorf(mlflow.InternalError, "`order_by` contains duplicate fields: %s", pyListRepr(orderBy))
			}
		}
		out = append(out, OrderClause{Entity: EntityAttribute, Key: col, Ascending: asc})
	}
	return out, nil
}

// ParseModelVersionOrderBy parses search_model_versions order_by: name,
// version_number, creation_timestamp, last_updated_timestamp. Keys are
// returned as column names of model_versions.
func ParseModelVersionOrderBy(orderBy []string) ([]OrderClause, error) {
	var out []OrderClause
	for _, ob := range orderBy {
		ident, asc, err := orderByIdentifier(ob)
		if err != nil {
			return nil, err
		}
		_, key, err := experimentIdentifier(strings.TrimFunc(ident, isSpace), versionOrderKeys)
		if err != nil {
			return nil, err
		}
		if !contains(versionOrderKeys, key) {
			return nil, mlflow.InvalidParam("Invalid order by key '%s' specified. Valid keys are %s", key, setRepr(versionOrderKeys...))
		}
		col := versionAttributeCols[key]
		for _, o := range out {
			if o.Key == col {
				return nil, mlflow.Errorf(mlflow.InternalError, "`order_by` contains duplicate fields: %s", pyListRepr(orderBy))
			}
		}
		out = append(out, OrderClause{Entity: EntityAttribute, Key: col, Ascending: asc})
	}
	return out, nil
}
