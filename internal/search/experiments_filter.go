package search

import (
	"math"
	"strings"

	"github.com/csgroup-oss/mlflow-sharinghub-go/internal/mlflow"
)

// Experiment search vocabulary (MLflow's SearchExperimentsUtils).
var (
	experimentEntities          = []string{"attribute", "attributes", "tag", "tags"}
	experimentAttributes        = []string{"name", "experiment_id", "creation_time", "last_update_time"}
	experimentNumericAttributes = []string{"creation_time", "last_update_time"}
)

// ParseExperimentFilter parses a search_experiments filter string and
// checks each clause as MLflow's SQL store does. Attributes are name,
// experiment_id (IntValue or a ListValue of decimal strings),
// creation_time and last_update_time; tags are compared as strings.
// Errors are INVALID_PARAMETER_VALUE with MLflow's messages (BAD_REQUEST for
// a list compared with = or !=, as in MLflow).
func ParseExperimentFilter(filter string) ([]Clause, error) {
	comps, err := comparisons(filter, bareInvalid)
	if err != nil {
		return nil, err
	}
	out := make([]Clause, 0, len(comps))
	for _, c := range comps {
		nullTest, err := c.checkShape()
		if err != nil {
			return nil, err
		}
		entity, key, err := experimentIdentifier(c.toks[0].text(), experimentAttributes)
		if err != nil {
			return nil, err
		}
		if nullTest {
			if entity != EntityTag {
				return nil, mlflow.InvalidParam("IS NULL / IS NOT NULL is only supported for tags, not for attribute '%s'", key)
			}
			out = append(out, Clause{Entity: entity, Key: key, Comparator: pyUpper(c.toks[1].text())})
			continue
		}
		v, err := runValue(entity, key, c.toks[2], experimentNumericAttributes, []string{"experiment_id"})
		if err != nil {
			return nil, err
		}
		out = append(out, Clause{Entity: entity, Key: key, Comparator: c.toks[1].text(), Value: v})
	}
	for i := range out {
		if err := checkExperimentClause(&out[i]); err != nil {
			return nil, err
		}
	}
	for _, c := range out {
		if err := checkListUse(c); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// experimentIdentifier is SearchExperimentsUtils._get_identifier. Unlike
// runs, the entity is checked before backticks are removed.
func experimentIdentifier(ident string, attributes []string) (Entity, string, error) {
	entity := EntityAttribute
	entityText, key, dotted := strings.Cut(ident, ".")
	if !dotted {
		key = ident
	} else {
		if !contains(experimentEntities, entityText) {
			return "", "", mlflow.InvalidParam("Invalid entity type '%s'. Valid entity types are ('attribute', 'attributes', 'tag', 'tags')",
				entityText)
		}
		entity = runEntityAliases[entityText]
	}
	key = trimBackticks(stripQuotes(key))
	if entity == EntityAttribute && !contains(attributes, key) {
		return "", "", mlflow.InvalidParam("Invalid attribute key '%s' specified. Valid keys are '%s'", key, setRepr(attributes...))
	}
	return entity, key, nil
}

// checkExperimentClause is the store's _get_search_experiments_filter_clauses
// check for one clause: it upper-cases the comparator and converts
// experiment ids and times to integers.
func checkExperimentClause(c *Clause) error {
	c.Comparator = pyUpper(c.Comparator)
	op := c.Comparator
	if c.Entity == EntityTag {
		if op == "IS NULL" || op == "IS NOT NULL" {
			return nil
		}
		if op != "=" && op != "!=" && op != "LIKE" && op != "ILIKE" {
			return mlflow.InvalidParam("Invalid comparator for tag: %s", op)
		}
		return nil
	}
	switch {
	case c.Key == "experiment_id":
		if op != "=" && op != "!=" && op != "IN" && op != "NOT IN" {
			return mlflow.InvalidParam("Invalid comparator for experiment_id: %s", op)
		}
		if c.Value.Kind == ListValue {
			for _, s := range c.Value.List {
				if _, err := experimentID(s); err != nil {
					return err
				}
			}
		} else {
			id, err := experimentID(c.Value.Str)
			if err != nil {
				return err
			}
			c.Value = Value{Kind: IntValue, Int: id, Float: float64(id), Raw: c.Value.Raw}
		}
	case !contains(experimentNumericAttributes, c.Key):
		if !contains(stringAttributeComparators, op) {
			return mlflow.InvalidParam("Invalid comparator '%s' not one of '%s'", op, setRepr(stringAttributeComparators...))
		}
		if op != "=" && op != "!=" && op != "LIKE" && op != "ILIKE" {
			return mlflow.InvalidParam("Invalid comparator for string attribute: %s", op)
		}
	default:
		if !contains(numericAttributeComparators, op) {
			return mlflow.InvalidParam("Invalid comparator '%s' not one of '%s", op, setRepr(stringAttributeComparators...))
		}
		if c.Value.Kind == FloatValue {
			return mlflow.InvalidParam("Invalid value for numeric attribute '%s': %s", c.Key, pyStrRepr(pyFloatRepr(c.Value.Float)))
		}
	}
	return nil
}

// experimentID is MLflow's _parse_experiment_id for a string.
func experimentID(s string) (int64, error) {
	n, ok := pyIntFromString(s)
	if !ok {
		return 0, mlflow.InvalidParam("Invalid experiment ID '%s'. Experiment ID must be a valid integer.", s)
	}
	if !n.IsInt64() {
		if n.Sign() > 0 {
			return math.MaxInt64, nil
		}
		return math.MinInt64, nil
	}
	return n.Int64(), nil
}
