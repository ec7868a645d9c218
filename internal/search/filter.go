package search

import (
	"math"
	"math/big"
	"sort"
	"strconv"
	"strings"

	"github.com/csgroup-oss/mlflow-sharinghub-go/internal/mlflow"
)

// Entity is what a filter or order_by clause refers to.
type Entity string

// Entities, named as MLflow names them after resolving aliases.
const (
	EntityMetric    Entity = "metric"
	EntityParam     Entity = "parameter"
	EntityTag       Entity = "tag"
	EntityAttribute Entity = "attribute"
	EntityDataset   Entity = "dataset"
)

// ValueKind says which field of a Value holds the operand.
type ValueKind uint8

// Value kinds. NoValue is the operand of IS NULL and IS NOT NULL.
const (
	NoValue ValueKind = iota
	StringValue
	IntValue
	FloatValue
	ListValue
)

// Value is the right-hand side of a filter clause.
type Value struct {
	Kind  ValueKind
	Str   string   // StringValue: the text between the quotes, not unescaped (as MLflow)
	Int   int64    // IntValue (clamped to the int64 range)
	Float float64  // FloatValue; for IntValue, the same number as a float
	List  []string // ListValue: the strings of a parenthesized list
	Raw   string   // the value token as written
}

// Clause is one comparison of a filter: Entity.Key Comparator Value.
type Clause struct {
	Entity Entity
	// Key is the metric, param or tag key, or the attribute name after
	// alias resolution (created → start_time, "run name" → run_name).
	Key string
	// Comparator is upper-cased: = != < <= > >= LIKE ILIKE IN NOT IN
	// IS NULL IS NOT NULL.
	Comparator string
	Value      Value
}

// operandKind classifies the token on the right of a comparison the way
// MLflow's _get_value does.
type operandKind uint8

const (
	opOther operandKind = iota
	opString
	opIdentifier
	opInteger
	opFloat
	opParens
)

// comparison is a comparison token as MLflow sees it: its non-whitespace
// children.
type comparison struct{ toks []*node }

func operandOf(t *node) operandKind {
	switch {
	case t.typeIs(ttSingle):
		return opString
	case t.is(clsIdentifier):
		return opIdentifier
	case t.typeIs(ttInteger):
		return opInteger
	case t.typeIs(ttFloat):
		return opFloat
	case t.is(clsParenthesis):
		return opParens
	}
	return opOther
}

// invalidStyle is how "Invalid clause(s)" lists the offending tokens:
// quoted for runs, bare for experiments and the registry.
type invalidStyle bool

const (
	quoteInvalid invalidStyle = true
	bareInvalid  invalidStyle = false
)

// comparisons is the part of parse_search_filter shared by every MLflow
// search: parse with sqlparse, require a single statement made of
// comparisons joined by AND, and return the comparisons in order.
func comparisons(filter string, style invalidStyle) ([]comparison, error) {
	if filter == "" {
		return nil, nil
	}
	stmts, err := parseSQL(filter)
	if err != nil {
		return nil, mlflow.InvalidParam("Error on parsing filter '%s'", filter)
	}
	if len(stmts) == 0 {
		return nil, mlflow.InvalidParam("Invalid filter '%s'. Could not be parsed.", filter)
	}
	if len(stmts) > 1 {
		return nil, mlflow.InvalidParam("Search filter contained multiple expression %s. Provide AND-ed expression list.",
			pyStrRepr(filter))
	}
	toks := joinInComparisons(stmts[0].kids)
	var invalid []string
	var out []comparison
	for _, t := range toks {
		switch {
		case t.is(clsComparison):
			var c comparison
			for _, k := range t.kids {
				if !k.isWhitespace() {
					c.toks = append(c.toks, k)
				}
			}
			out = append(out, c)
		case t.isWhitespace(), t.match(ttKeyword, "AND"):
		default:
			if style == quoteInvalid {
				invalid = append(invalid, "'"+t.text()+"'")
			} else {
				invalid = append(invalid, t.text())
			}
		}
	}
	if len(invalid) > 0 {
		return nil, mlflow.InvalidParam("Invalid clause(s) in filter string: %s", strings.Join(invalid, ", "))
	}
	return out, nil
}

// joinInComparisons merges "x IN (...)", "x NOT IN (...)", "x IS NULL" and
// "x IS NOT NULL" token runs into comparison groups, dropping whitespace,
// as MLflow's _join_in_comparison_tokens does.
func joinInComparisons(toks []*node) []*node {
	var nws []*node
	for _, t := range toks {
		if !t.isWhitespace() {
			nws = append(nws, t)
		}
	}
	var out []*node
	for i := 0; i < len(nws); {
		if len(nws)-i < 3 {
			out = append(out, nws[i:]...)
			break
		}
		first := nws[i]
		if !first.is(clsIdentifier) {
			out = append(out, first)
			i++
			continue
		}
		second, third := nws[i+1], nws[i+2]
		switch {
		case second.match(ttKeyword, "IN") && third.is(clsParenthesis):
			out = append(out, newGroup(clsComparison, []*node{first, second, third}))
			i += 3
			continue
		case second.match(ttKeyword, "IS") && third.match(ttKeyword, "NULL"):
			out = append(out, newGroup(clsComparison, []*node{first, {tt: ttKeyword, raw: "IS NULL"}}))
			i += 3
			continue
		case second.match(ttKeyword, "IS") && third.tt == ttKeyword && pyUpper(third.text()) == "NOT NULL":
			out = append(out, newGroup(clsComparison, []*node{first, {tt: ttKeyword, raw: "IS NOT NULL"}}))
			i += 3
			continue
		}
		if i+3 >= len(nws) {
			out = append(out, first, second, third)
			break
		}
		fourth := nws[i+3]
		if second.match(ttKeyword, "NOT") && third.match(ttKeyword, "IN") && fourth.is(clsParenthesis) {
			out = append(out, newGroup(clsComparison, []*node{first, {tt: ttKeyword, raw: "NOT IN"}, fourth}))
		} else {
			out = append(out, first, second, third, fourth)
		}
		i += 4
	}
	return out
}

// checkShape is MLflow's _validate_comparison: an identifier and a null
// test, or three tokens starting with an identifier. It reports whether
// the comparison is a null test.
func (c comparison) checkShape() (nullTest bool, err error) {
	if len(c.toks) == 2 {
		if op := pyUpper(c.toks[1].text()); op == "IS NULL" || op == "IS NOT NULL" {
			if !c.toks[0].is(clsIdentifier) {
				return false, mlflow.InvalidParam("Invalid comparison clause. Expected 'Identifier' found '%s'", c.toks[0].text())
			}
			return true, nil
		}
	}
	if len(c.toks) != 3 {
		return false, mlflow.InvalidParam("Invalid comparison clause. Expected 3 tokens found %d", len(c.toks))
	}
	if !c.toks[0].is(clsIdentifier) {
		return false, mlflow.InvalidParam("Invalid comparison clause. Expected 'Identifier' found '%s'", c.toks[0].text())
	}
	return false, nil
}

// isQuoted reports whether s is at least two characters wrapped in q.
func isQuoted(s, q string) bool {
	return len(s) >= 2 && strings.HasPrefix(s, q) && strings.HasSuffix(s, q)
}

// trimBackticks removes one pair of surrounding backticks.
func trimBackticks(s string) string {
	if isQuoted(s, "`") {
		return s[1 : len(s)-1]
	}
	return s
}

// stripQuotes removes one pair of surrounding single or double quotes.
func stripQuotes(s string) string {
	if isQuoted(s, "'") || isQuoted(s, `"`) {
		return s[1 : len(s)-1]
	}
	return s
}

// quotedString is _strip_quotes with expect_quoted_value=True.
func quotedString(s string) (string, error) {
	if isQuoted(s, "'") || isQuoted(s, `"`) {
		return s[1 : len(s)-1], nil
	}
	return "", mlflow.InvalidParam("Parameter value is either not quoted or unidentified quote types used for "+
		"string value %s. Use either single or double quotes.", s)
}

// stringList reads a parenthesized list of strings (_parse_list_from_sql_token).
func stringList(text string) ([]string, error) {
	v, err := pyLiteralEval(text)
	if err != nil {
		return nil, mlflow.InvalidParam("While parsing a list in the query, expected a non-empty list of string " +
			"values, but got ill-formed list.")
	}
	if v.kind != pyTuple {
		v = pyValue{kind: pyTuple, items: []pyValue{v}}
	}
	if len(v.items) == 0 {
		return nil, mlflow.InvalidParam("While parsing a list in the query, expected a non-empty list of string " +
			"values, but got empty list")
	}
	out := make([]string, len(v.items))
	for i, it := range v.items {
		if it.kind != pyStr {
			return nil, mlflow.InvalidParam("While parsing a list in the query, expected string value, punctuation, "+
				"or whitespace, but got different type in list: %s", pyRepr(v))
		}
		out[i] = it.str
	}
	return out, nil
}

// numberValue converts an Integer or Float token as Python's int() and
// float() would.
func numberValue(text string, kind operandKind) Value {
	t := asciiNumber(text)
	if kind == opInteger {
		n, ok := new(big.Int).SetString(t, 10)
		if !ok {
			n = new(big.Int)
		}
		v := Value{Kind: IntValue, Raw: text}
		switch {
		case n.IsInt64():
			v.Int = n.Int64()
		case n.Sign() > 0:
			v.Int = math.MaxInt64
		default:
			v.Int = math.MinInt64
		}
		v.Float, _ = new(big.Float).SetInt(n).Float64()
		return v
	}
	f, _ := strconv.ParseFloat(t, 64)
	return Value{Kind: FloatValue, Float: f, Raw: text}
}

// setRepr formats a Python set of strings. Python's order depends on string
// hashing, which varies between processes; ours is sorted.
func setRepr(items ...string) string {
	s := append([]string(nil), items...)
	sort.Strings(s)
	parts := make([]string, len(s))
	for i, it := range s {
		parts[i] = pyStrRepr(it)
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

func contains(set []string, s string) bool {
	for _, x := range set {
		if x == s {
			return true
		}
	}
	return false
}
