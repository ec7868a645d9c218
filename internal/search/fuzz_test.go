package search

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/csgroup-oss/mlflow-sharinghub-go/internal/mlflow"
)

// checkFuzzErr fails unless err is nil or an *mlflow.Error.
func checkFuzzErr(t *testing.T, in string, err error) {
	t.Helper()
	var me *mlflow.Error
	if err != nil && !errors.As(err, &me) {
		t.Fatalf("%q: error %v (%T) is not an *mlflow.Error", in, err, err)
	}
}

// checkFuzzSQL builds the queries for parsed input on both dialects and
// checks that placeholders and arguments agree.
func checkFuzzSQL(t *testing.T, in string, build func(dialect string) (string, []any, error)) {
	t.Helper()
	for _, d := range []string{DialectSQLite, DialectPostgres} {
		text, args, err := build(d)
		if err != nil {
			t.Fatalf("%q parsed but SQL() failed on %s: %v", in, d, err)
		}
		if n := strings.Count(text, "?"); n != len(args) {
			t.Fatalf("%q on %s: %d placeholders, %d args\n%s", in, d, n, len(args), text)
		}
	}
}

var filterSeeds = []string{
	"", " ", "metrics.acc > 0.5", "metrics.`a b` <= -1e3 AND params.lr = '0.1'", `tags."x y" LIKE "%a%"`,
	"tags.t IS NULL and params.p is not null", "run_id IN ('a', \"b\") and run_id NOT IN ('c',)",
	"attributes.status ILIKE 'fin%' and start_time >= 1.5", "`Run Name` = 'x' and created < 5",
	"datasets.context IN ('train') AND datasets.name != 'd'", "run_id IN ()", "run_id IN ('a' 1)",
	"metrics.a > 1 OR x", "a = 1; b = 2", "((((x))))", "CASE WHEN a THEN b END", "x IN (SELECT 1)",
	"tags.x = 'it''s' and tags.y = 'a\\'b'", "/* c */ tags.x = 'a' -- d\n", "$$x$$ = $a$y$a$", "metrics.a = 0x1F",
	"name = 'e' and experiment_id IN ('1') and creation_time > 5 and tags.k = 'v'", "run_id IN (r'\\d', b'x', f'y')",
	"tags.é = 'ü' AND tags.ınx ın ('a')", "metrics.a > 12abc", "[a] = 1", "x::int = 1", "a.b.c.d = 'e'",
}

func FuzzParseRunFilter(f *testing.F) {
	for _, s := range filterSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, filter string) {
		if toks := lex(filter); utf8.ValidString(filter) && joinLexemes(toks) != filter {
			t.Fatalf("lexer lost text: %q", filter)
		}
		clauses, err := ParseRunFilter(filter)
		checkFuzzErr(t, filter, err)
		if err == nil {
			for _, c := range clauses {
				if c.Comparator != pyUpper(c.Comparator) {
					t.Fatalf("%q: comparator %q not upper-cased", filter, c.Comparator)
				}
			}
			checkFuzzSQL(t, filter, func(d string) (string, []any, error) {
				return RunsQuery{Dialect: d, ExperimentIDs: []int64{1}, Filter: filter, Limit: 2}.SQL()
			})
		}
		_, err = ParseExperimentFilter(filter)
		checkFuzzErr(t, filter, err)
		if err == nil {
			checkFuzzSQL(t, filter, func(d string) (string, []any, error) {
				return ExperimentsQuery{Dialect: d, Filter: filter, Limit: 2}.SQL()
			})
		}
	})
}

func FuzzParseOrderBy(f *testing.F) {
	for _, s := range []string{
		"", "metrics.acc", "metrics.acc DESC", "params.`a b` asc", `tags."x y" DESC`, "start_time", "Created desc",
		"run_name", "attr.end_time", "datasets.name", "metrics.a DESC ASC", "metrics.a, metrics.b", "timestamp DESC",
		"name", "experiment_id DESC", "tags.t", "metrics.'a", "metrics.\"a", "metrics.`a\\", "metrics.a\\",
		"  x  ", "(metrics.a)", "metrics.a;", "metrics.a NULLS LAST",
	} {
		f.Add(s, "metrics.acc")
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		orderBy := []string{a, b}
		_, err := ParseRunOrderBy(orderBy)
		checkFuzzErr(t, a+" | "+b, err)
		if err == nil {
			checkFuzzSQL(t, a+" | "+b, func(d string) (string, []any, error) {
				return RunsQuery{Dialect: d, ExperimentIDs: []int64{1}, OrderBy: orderBy, Limit: 2}.SQL()
			})
		}
		_, err = ParseExperimentOrderBy(orderBy)
		checkFuzzErr(t, a+" | "+b, err)
		if err == nil {
			checkFuzzSQL(t, a+" | "+b, func(d string) (string, []any, error) {
				return ExperimentsQuery{Dialect: d, OrderBy: orderBy, Limit: 2}.SQL()
			})
		}
	})
}

func FuzzDecodeOffset(f *testing.F) {
	for _, s := range []string{"", "eyJvZmZzZXQiOiAxMDAwfQ==", "abc", "e30=", "eyJvZmZzZXQiOiAwfQ==", "=a", "!!"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, token string) {
		n, err := DecodeOffset(token)
		checkFuzzErr(t, token, err)
		if err == nil && token != "" && n == 0 {
			t.Fatalf("%q: offset 0 accepted", token)
		}
	})
}

func joinLexemes(toks []lexeme) string {
	var b strings.Builder
	for _, t := range toks {
		b.WriteString(t.val)
	}
	return b.String()
}
