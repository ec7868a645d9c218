package search

import (
	"strings"

	"github.com/csgroup-oss/mlflow-sharinghub-go/internal/mlflow"
)

// OrderClause is one order_by clause: sort by Entity.Key, ascending or not.
type OrderClause struct {
	Entity    Entity
	Key       string // attribute aliases resolved (created → start_time)
	Ascending bool
}

// ParseRunOrderBy parses search_runs order_by clauses ("metrics.acc DESC",
// "params.`a b`", "start_time", ...). Errors are INVALID_PARAMETER_VALUE,
// except a field named twice, which MLflow reports as INTERNAL_ERROR.
func ParseRunOrderBy(orderBy []string) ([]OrderClause, error) {
	var out []OrderClause
	for _, ob := range orderBy {
		ident, asc, err := orderByIdentifier(ob)
		if err != nil {
			return nil, err
		}
		entity, key, err := runIdentifier(strings.TrimFunc(ident, isSpace), runOrderAttributes)
		if err != nil {
			return nil, err
		}
		key = translateKeyAlias(key)
		if entity == EntityDataset {
			return nil, mlflow.InvalidParam("Invalid identifier type '%s'", entity)
		}
		for _, o := range out {
			if o.Entity == entity && o.Key == key {
				return nil, mlflow.Errorf(mlflow.InternalError, "`order_by` contains duplicate fields: %s", pyListRepr(orderBy))
			}
		}
		out = append(out, OrderClause{Entity: entity, Key: key, Ascending: asc})
	}
	return out, nil
}

// ParseExperimentOrderBy parses search_experiments order_by clauses on
// name, experiment_id, creation_time and last_update_time. Errors are
// INVALID_PARAMETER_VALUE.
func ParseExperimentOrderBy(orderBy []string) ([]OrderClause, error) {
	var out []OrderClause
	for _, ob := range orderBy {
		ident, asc, err := orderByIdentifier(ob)
		if err != nil {
			return nil, err
		}
		entity, key, err := experimentIdentifier(strings.TrimFunc(ident, isSpace), experimentAttributes)
		if err != nil {
			return nil, err
		}
		out = append(out, OrderClause{Entity: entity, Key: key, Ascending: asc})
	}
	for _, o := range out {
		if o.Entity != EntityAttribute {
			return nil, mlflow.InvalidParam("Invalid order_by entity: %s", o.Entity)
		}
	}
	return out, nil
}

// orderByIdentifier is SearchUtils._parse_order_by_string: the identifier
// text of one clause and its direction.
func orderByIdentifier(orderBy string) (string, bool, error) {
	stmts, err := parseSQL(orderBy)
	if err != nil {
		return "", false, mlflow.InvalidParam("Error on parsing order_by clause '%s'", orderBy)
	}
	unparsable := mlflow.InvalidParam("Invalid order_by clause '%s'. Could not be parsed.", orderBy)
	if len(stmts) != 1 {
		return "", false, unparsable
	}
	toks := stmts[0].kids
	isTimestamp := func(t *node) bool { return t.tt == ttBuiltin && t.text() == "timestamp" }
	var value string
	switch {
	case len(toks) == 1 && toks[0].is(clsIdentifier):
		value = toks[0].text()
	case len(toks) == 1 && isTimestamp(toks[0]):
		value = "timestamp"
	case isTimestamp(toks[0]) && allWhitespace(toks[1:len(toks)-1]) && toks[len(toks)-1].tt == ttOrder:
		value = "timestamp " + toks[len(toks)-1].text()
	default:
		return "", false, unparsable
	}
	words, err := shlexSplit(strings.ReplaceAll(value, "`", `"`))
	if err != nil {
		return "", false, unparsable
	}
	switch {
	case len(words) > 2:
		return "", false, unparsable
	case len(words) == 2:
		switch strings.ToLower(words[1]) {
		case "asc":
			return words[0], true, nil
		case "desc":
			return words[0], false, nil
		}
		return "", false, mlflow.InvalidParam("Invalid ordering key in order_by clause '%s'.", orderBy)
	}
	return value, true, nil
}

func allWhitespace(toks []*node) bool {
	for _, t := range toks {
		if !t.isWhitespace() {
			return false
		}
	}
	return true
}

// shlexSplit is Python's shlex.split in POSIX mode: whitespace-separated
// words, with '...' and "..." quoting and backslash escapes.
func shlexSplit(s string) ([]string, error) {
	var out []string
	var cur strings.Builder
	inWord := false
	rs := []rune(s)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch {
		case r == ' ' || r == '\t' || r == '\r' || r == '\n':
			if inWord {
				out = append(out, cur.String())
				cur.Reset()
				inWord = false
			}
		case r == '\\':
			if i+1 >= len(rs) {
				return nil, errLiteral // No escaped character
			}
			i++
			cur.WriteRune(rs[i])
			inWord = true
		case r == '\'' || r == '"':
			inWord = true
			closed := false
			for i++; i < len(rs); i++ {
				c := rs[i]
				if c == r {
					closed = true
					break
				}
				if r == '"' && c == '\\' && i+1 < len(rs) && (rs[i+1] == '"' || rs[i+1] == '\\') {
					i++
					c = rs[i]
				}
				cur.WriteRune(c)
			}
			if !closed {
				return nil, errLiteral // No closing quotation
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if inWord {
		out = append(out, cur.String())
	}
	return out, nil
}
