package search

import (
	"encoding/json"
	"fmt"
	"os"
	"testing"
)

var classNames = map[class]string{
	clsToken: "Token", clsTokenList: "TokenList", clsStatement: "Statement", clsIdentifier: "Identifier",
	clsIdentifierList: "IdentifierList", clsTypedLiteral: "TypedLiteral", clsParenthesis: "Parenthesis",
	clsSquareBrackets: "SquareBrackets", clsAssignment: "Assignment", clsIf: "If", clsFor: "For",
	clsComparison: "Comparison", clsComment: "Comment", clsWhere: "Where", clsOver: "Over", clsCase: "Case",
	clsFunction: "Function", clsBegin: "Begin", clsOperation: "Operation", clsValues: "Values",
}

func dumpTree(n *node, depth int, out *[]string) {
	*out = append(*out, fmt.Sprintf("%d|%s|%s|%s", depth, classNames[n.cls], n.tt, n.text()))
	for _, k := range n.kids {
		dumpTree(k, depth+1, out)
	}
}

// TestSQLParseTrees checks the sqlparse port against trees dumped by the
// real sqlparse (testdata/dump_trees.py).
func TestSQLParseTrees(t *testing.T) {
	path := "testdata/sqlparse_trees.json"
	if p := os.Getenv("SQLPARSE_TREES"); p != "" {
		path = p
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var cases [][2]json.RawMessage
	if err := json.Unmarshal(data, &cases); err != nil {
		t.Fatal(err)
	}
	fails := 0
	for _, c := range cases {
		var in string
		if err := json.Unmarshal(c[0], &in); err != nil {
			t.Fatal(err)
		}
		var want []string
		wantErr := json.Unmarshal(c[1], &want) != nil
		stmts, err := parseSQL(in)
		if wantErr || err != nil {
			if wantErr != (err != nil) {
				t.Errorf("parseSQL(%q): err = %v, want error %v", in, err, wantErr)
			}
			continue
		}
		var got []string
		for _, st := range stmts {
			dumpTree(st, 0, &got)
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			fails++
			if fails <= 5 {
				t.Errorf("parseSQL(%q):\n got %q\nwant %q", in, got, want)
			}
		}
	}
	if fails > 0 {
		t.Errorf("%d of %d trees differ", fails, len(cases))
	}
}
