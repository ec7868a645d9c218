package search

import "strings"

// sqlparse's token tree: MLflow's filter and order_by checks walk the tree
// sqlparse builds, so ours has the same shape. The node kinds, navigation
// helpers and grouping passes (group.go) keep sqlparse's names so that the
// two can be read side by side; the code is our own.

// class is the kind of a token-tree node: a plain token or a group.
type class uint8

const (
	clsToken class = iota
	clsTokenList
	clsStatement
	clsIdentifier
	clsIdentifierList
	clsTypedLiteral
	clsParenthesis
	clsSquareBrackets
	clsAssignment
	clsIf
	clsFor
	clsComparison
	clsComment
	clsWhere
	clsOver
	clsCase
	clsFunction
	clsBegin
	clsOperation
	clsValues
)

// node is a token (cls == clsToken) or a group of tokens.
type node struct {
	cls  class
	tt   ttype
	raw  string // a token's text; a group's text once computed
	done bool   // raw holds a group's text
	kids []*node
}

// text returns the text n covers. A group's text is computed on first use
// and kept until the group is extended, which keeps grouping linear in the
// common case (sqlparse builds every group's text eagerly).
func (n *node) text() string {
	if n.cls == clsToken || n.done {
		return n.raw
	}
	var b strings.Builder
	for _, k := range n.kids {
		b.WriteString(k.text())
	}
	n.raw, n.done = b.String(), true
	return n.raw
}

func (n *node) isGroup() bool      { return n.cls != clsToken }
func (n *node) isWhitespace() bool { return n.tt.in(ttWhitespace) }
func (n *node) isKeyword() bool    { return n.tt.in(ttKeyword) }
func (n *node) isNewline() bool    { return n.tt.in(ttNewline) }

func (n *node) normalized() string {
	if n.isKeyword() {
		return pyUpper(n.raw)
	}
	return n.text()
}

// match is sqlparse's Token.match: the exact type and, when values are
// given, one of them (case-insensitively for keywords).
func (n *node) match(tt ttype, values ...string) bool {
	if n == nil || n.tt != tt {
		return false
	}
	if len(values) == 0 {
		return true
	}
	norm := n.normalized()
	for _, v := range values {
		if n.isKeyword() {
			v = strings.ToUpper(v)
		}
		if norm == v {
			return true
		}
	}
	return false
}

// is reports whether n is one of the given group classes.
func (n *node) is(classes ...class) bool {
	if n == nil {
		return false
	}
	for _, c := range classes {
		if n.cls == c || (c == clsTokenList && n.isGroup()) {
			return true
		}
	}
	return false
}

// typeIs compares the token type exactly against a set (sqlparse passes a
// tuple there, and tuple membership is equality, not descent).
func (n *node) typeIs(types ...ttype) bool {
	if n == nil || n.tt == ttNone {
		return false
	}
	for _, t := range types {
		if n.tt == t {
			return true
		}
	}
	return false
}

// typeIn reports whether n's type descends from parent.
func (n *node) typeIn(parent ttype) bool { return n != nil && n.tt.in(parent) }

func newGroup(cls class, kids []*node) *node {
	return &node{cls: cls, kids: kids}
}

// Token-list navigation (sqlparse's TokenList methods). Indexes are -1
// where sqlparse returns None.

func tokenNext(l *node, idx int, skipWS, skipCM bool) (int, *node) {
	if idx < 0 {
		return -1, nil
	}
	for i := idx + 1; i < len(l.kids); i++ {
		if !skipped(l.kids[i], skipWS, skipCM) {
			return i, l.kids[i]
		}
	}
	return -1, nil
}

func tokenPrev(l *node, idx int, skipWS bool) (int, *node) {
	if idx < 0 {
		return -1, nil
	}
	for i := idx - 1; i >= 0; i-- {
		if !skipped(l.kids[i], skipWS, false) {
			return i, l.kids[i]
		}
	}
	return -1, nil
}

func skipped(t *node, skipWS, skipCM bool) bool {
	return (skipWS && t.isWhitespace()) || (skipCM && (t.typeIn(ttComment) || t.cls == clsComment))
}

// tokenNextBy returns the first token after idx for which pred holds.
func tokenNextBy(l *node, idx int, pred func(*node) bool) (int, *node) {
	for i := idx + 1; i < len(l.kids); i++ {
		if pred(l.kids[i]) {
			return i, l.kids[i]
		}
	}
	return -1, nil
}

// groupTokens replaces l.kids[start..end] with one group of class cls, or
// appends them to the start token when extend is set and it already is one.
func groupTokens(l *node, cls class, start, end int, extend bool) *node {
	first := l.kids[start]
	if extend && first.is(cls) {
		first.kids = append(first.kids, l.kids[start+1:end+1]...)
		first.done = false
		l.kids = append(l.kids[:start+1], l.kids[end+1:]...)
		return first
	}
	g := newGroup(cls, append([]*node(nil), l.kids[start:end+1]...))
	l.kids[start] = g
	if end > start {
		l.kids = append(l.kids[:start+1], l.kids[end+1:]...)
	}
	return g
}

// recurse applies f to every sublist not of the excluded classes, depth
// first, then to l (sqlparse's @recurse decorator).
func recurse(l *node, f func(*node), exclude ...class) {
	for _, k := range l.kids {
		if k.isGroup() && !k.is(exclude...) {
			recurse(k, f, exclude...)
		}
	}
	f(l)
}
