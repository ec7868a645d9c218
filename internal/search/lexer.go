package search

import (
	"sort"
	"strings"
	"unicode"
)

// MLflow hands filter and order_by strings to sqlparse and then inspects the
// token tree it gets back. Which inputs MLflow accepts, and the text of most
// of its errors, follow from how sqlparse tokenizes and groups the string, so
// this file and group.go reproduce sqlparse 0.6.1 (the version MLflow 3.18
// installs) closely enough to give the same tree for any input.

// ttype is a sqlparse token type written as its dotted path below "Token".
// A type is "in" another when it equals it or descends from it.
type ttype string

const (
	ttNone        ttype = "" // groups carry no token type
	ttWhitespace  ttype = "Text.Whitespace"
	ttNewline     ttype = "Text.Whitespace.Newline"
	ttComment     ttype = "Comment"
	ttCommentHint ttype = "Comment.Single.Hint"
	ttCommentLine ttype = "Comment.Single"
	ttMultiline   ttype = "Comment.Multiline"
	ttMultiHint   ttype = "Comment.Multiline.Hint"
	ttAssignment  ttype = "Assignment"
	ttPunctuation ttype = "Punctuation"
	ttWildcard    ttype = "Wildcard"
	ttName        ttype = "Name"
	ttPlaceholder ttype = "Name.Placeholder"
	ttBuiltin     ttype = "Name.Builtin"
	ttCommand     ttype = "Generic.Command"
	ttKeyword     ttype = "Keyword"
	ttDML         ttype = "Keyword.DML"
	ttDDL         ttype = "Keyword.DDL"
	ttDCL         ttype = "Keyword.DCL"
	ttCTE         ttype = "Keyword.CTE"
	ttOrder       ttype = "Keyword.Order"
	ttTZCast      ttype = "Keyword.TZCast"
	ttLiteral     ttype = "Literal"
	ttNumber      ttype = "Literal.Number"
	ttHex         ttype = "Literal.Number.Hexadecimal"
	ttFloat       ttype = "Literal.Number.Float"
	ttInteger     ttype = "Literal.Number.Integer"
	ttString      ttype = "Literal.String"
	ttSingle      ttype = "Literal.String.Single"
	ttSymbol      ttype = "Literal.String.Symbol"
	ttOperator    ttype = "Operator"
	ttComparison  ttype = "Operator.Comparison"
	ttError       ttype = "Error"
)

// in reports whether t is parent or one of its descendants.
func (t ttype) in(parent ttype) bool {
	return t != ttNone && (t == parent || strings.HasPrefix(string(t), string(parent)+"."))
}

// lexeme is one token of the lexer's output.
type lexeme struct {
	tt  ttype
	val string
}

var keywords = func() map[string]ttype {
	m := make(map[string]ttype)
	for tt, words := range keywordLists {
		for _, w := range strings.Fields(words) {
			m[w] = tt
		}
	}
	return m
}()

// Character classes of Python's re module with IGNORECASE|UNICODE.

func isWord(r rune) bool { return r == '_' || unicode.IsLetter(r) || unicode.IsNumber(r) }

func isDigit(r rune) bool { return unicode.IsDigit(r) }

func isSpace(r rune) bool { return unicode.IsSpace(r) || (r >= 0x1c && r <= 0x1f) }

// isNameStart is [A-ZÀ-Ü] matched case-insensitively.
func isNameStart(r rune) bool {
	switch {
	case r >= 'A' && r <= 'Z', r >= 'a' && r <= 'z':
		return true
	case r >= 0xC0 && r <= 0xDC, r >= 0xE0 && r <= 0xFC && r != 0xF7:
		return true
	}
	return r == 0x130 || r == 0x131 || r == 0x17F || r == 0x212A || r == 0x212B
}

// foldEq reports whether r matches the upper-case ASCII letter or symbol c
// under Python's case-insensitive matching.
func foldEq(r rune, c byte) bool {
	if r == rune(c) {
		return true
	}
	if c < 'A' || c > 'Z' {
		return false
	}
	if r == rune(c+'a'-'A') {
		return true
	}
	switch c {
	case 'I':
		return r == 0x130 || r == 0x131
	case 'K':
		return r == 0x212A
	case 'S':
		return r == 0x17F
	}
	return false
}

// pyUpper is Python's str.upper for the characters that matter here: Go's
// per-rune mapping plus the special cases that expand to ASCII.
func pyUpper(s string) string {
	if !strings.ContainsAny(s, "ßﬀﬁﬂﬃﬄﬅﬆ") {
		return strings.ToUpper(s)
	}
	r := strings.NewReplacer("ß", "SS", "ﬀ", "FF", "ﬁ", "FI", "ﬂ", "FL", "ﬃ", "FFI", "ﬄ", "FFL", "ﬅ", "ST", "ﬆ", "ST")
	return strings.ToUpper(r.Replace(s))
}

// scanner holds the text being tokenized as runes, since Python indexes
// strings by code point and the lexer's look-behinds see the previous one.
type scanner struct {
	rs []rune
	// qend caches, per quote character, where a quoted token resumed at
	// each position ends (see quoted).
	qend map[rune][]int
	// dollars lists, per $tag$ delimiter, the positions it starts at.
	dollars map[string][]int
	// closers lists the positions of "*/".
	closers []int
}

func (s *scanner) at(i int) rune {
	if i < 0 || i >= len(s.rs) {
		return -1
	}
	return s.rs[i]
}

// lit matches the upper-case literal word case-insensitively at i and
// returns the position after it, or -1.
func (s *scanner) lit(i int, word string) int {
	if i < 0 {
		return -1
	}
	for j := 0; j < len(word); j++ {
		if !foldEq(s.at(i+j), word[j]) {
			return -1
		}
	}
	return i + len(word)
}

// spaces matches \s+ at i and returns the position after it, or -1.
func (s *scanner) spaces(i int) int {
	if i < 0 || !isSpace(s.at(i)) {
		return -1
	}
	for isSpace(s.at(i)) {
		i++
	}
	return i
}

// words matches \w* at i.
func (s *scanner) words(i int) int {
	for isWord(s.at(i)) {
		i++
	}
	return i
}

func (s *scanner) digits(i int) int {
	for isDigit(s.at(i)) {
		i++
	}
	return i
}

// boundary is \b at i.
func (s *scanner) boundary(i int) bool {
	if i < 0 {
		return false
	}
	return isWord(s.at(i-1)) != isWord(s.at(i))
}

// litB matches word followed by \b.
func (s *scanner) litB(i int, word string) int {
	if e := s.lit(i, word); e >= 0 && s.boundary(e) {
		return e
	}
	return -1
}

// wordsB matches "w1\s+w2\s+...wn\b".
func (s *scanner) wordsB(i int, words ...string) int {
	for k, w := range words {
		if k > 0 {
			if i = s.spaces(i); i < 0 {
				return -1
			}
		}
		if i = s.lit(i, w); i < 0 {
			return -1
		}
	}
	if !s.boundary(i) {
		return -1
	}
	return i
}

// anyB tries each alternative word followed by \b, in order.
func (s *scanner) anyB(i int, words ...string) int {
	for _, w := range words {
		if e := s.litB(i, w); e >= 0 {
			return e
		}
	}
	return -1
}

// quoted matches q(qq|\\q|[^q])*q at i, with the backtracking order of
// Python's regex engine: another repetition is always tried before the
// closing quote, and alternatives in the order written. With escapes false
// the \\q alternative is absent (backticks). Where a match resumed at
// position k ends depends on k alone, so it is computed once per text,
// right to left, which keeps the lexer linear on any input.
func (s *scanner) quoted(i int, q rune, escapes bool) int {
	if s.at(i) != q || i+1 >= len(s.rs) {
		return -1
	}
	end, ok := s.qend[q]
	if !ok {
		n := len(s.rs)
		end = make([]int, n+2)
		end[n], end[n+1] = -1, -1
		for k := n - 1; k >= 0; k-- {
			r := s.rs[k]
			e := -1
			if r == q && s.at(k+1) == q {
				e = end[k+2]
			}
			if e < 0 && escapes && r == '\\' && s.at(k+1) == q {
				e = end[k+2]
			}
			if e < 0 && r != q {
				e = end[k+1]
			}
			if e < 0 && r == q {
				e = k + 1
			}
			end[k] = e
		}
		if s.qend == nil {
			s.qend = make(map[rune][]int)
		}
		s.qend[q] = end
	}
	return end[i+1]
}

// lex splits text into sqlparse tokens.
func lex(text string) []lexeme {
	s := &scanner{rs: []rune(text)}
	var out []lexeme
	for pos := 0; pos < len(s.rs); {
		end, tt := s.next(pos)
		if end <= pos {
			end, tt = pos+1, ttError
		}
		out = append(out, lexeme{tt: tt, val: string(s.rs[pos:end])})
		pos = end
	}
	return out
}

// next returns the end and type of the token starting at pos; end <= pos
// means no rule matched.
func (s *scanner) next(pos int) (int, ttype) {
	if e, tt := s.delimited(pos); e > 0 {
		return e, tt
	}
	r := s.at(pos)
	// Comments: (--|# )\+?.*?(\r\n|\r|\n|$)
	if (r == '-' && s.at(pos+1) == '-') || (r == '#' && s.at(pos+1) == ' ') {
		i, tt := pos+2, ttCommentLine
		if s.at(i) == '+' {
			tt = ttCommentHint
		}
		for ; i < len(s.rs); i++ {
			if s.rs[i] == '\r' {
				if s.at(i+1) == '\n' {
					return i + 2, tt
				}
				return i + 1, tt
			}
			if s.rs[i] == '\n' {
				return i + 1, tt
			}
		}
		return i, tt
	}
	switch {
	case r == '\r' && s.at(pos+1) == '\n':
		return pos + 2, ttNewline
	case r == '\r' || r == '\n':
		return pos + 1, ttNewline
	case isSpace(r):
		return pos + 1, ttWhitespace
	case r == ':' && s.at(pos+1) == '=':
		return pos + 2, ttAssignment
	case r == ':' && s.at(pos+1) == ':':
		return pos + 2, ttPunctuation
	case r == '*':
		return pos + 1, ttWildcard
	case r == '`' || r == '´':
		if e := s.quoted(pos, r, false); e > 0 {
			return e, ttName
		}
	case r == '?':
		return pos + 1, ttPlaceholder
	case r == '%':
		i := pos + 1
		if s.at(i) == '(' {
			if j := s.words(i + 1); j > i+1 && s.at(j) == ')' && foldEq(s.at(j+1), 'S') {
				return j + 2, ttPlaceholder
			}
		}
		if foldEq(s.at(i), 'S') {
			return i + 1, ttPlaceholder
		}
	}
	if (r == '$' || r == ':' || r == '?') && !isWord(s.at(pos-1)) {
		if e := s.words(pos + 1); e > pos+1 {
			return e, ttPlaceholder
		}
	}
	if r == '\\' {
		if e := s.words(pos + 1); e > pos+1 {
			return e, ttCommand
		}
	}
	if e := s.anyB(pos, "CASE", "IN", "VALUES", "USING", "FROM", "AS"); e > 0 {
		return e, ttKeyword
	}
	if r == '@' || r == '#' {
		// (@|##|#)[A-ZÀ-Ü]\w+
		p := pos + 1
		if r == '#' && s.at(p) == '#' {
			p++
		}
		if isNameStart(s.at(p)) && s.words(p+1) > p+1 {
			return s.words(p + 1), ttName
		}
	}
	if isNameStart(r) {
		w := s.words(pos + 1)
		// Name followed by "." (optionally after spaces) but not by a digit.
		j := w
		for isSpace(s.at(j)) {
			j++
		}
		if s.at(j) == '.' && !isDigit(s.at(j+1)) {
			return w, ttName
		}
		if s.at(pos-1) == '.' {
			return w, ttName
		}
		if s.at(w) == '(' {
			return w, ttName
		}
	}
	if e, tt := s.number(pos); e > 0 {
		return e, tt
	}
	if r == '\'' {
		if e := s.quoted(pos, '\'', true); e > 0 {
			return e, ttSingle
		}
	}
	if r == '"' {
		if e := s.quoted(pos, '"', true); e > 0 {
			return e, ttSymbol
		}
	}
	if r == '[' {
		p := s.at(pos - 1)
		if !isWord(p) && p != ']' && p != ')' {
			j := pos + 1
			for j < len(s.rs) && s.rs[j] != '[' && s.rs[j] != ']' {
				j++
			}
			if j > pos+1 && s.at(j) == ']' {
				return j + 1, ttName
			}
		}
	}
	if e, tt := s.keywordPhrase(pos); e > 0 {
		return e, tt
	}
	if isWord(r) {
		e := pos + 1
		for c := s.at(e); isWord(c) || c == '$' || c == '#'; c = s.at(e) {
			e++
		}
		if tt, ok := keywords[pyUpper(string(s.rs[pos:e]))]; ok {
			return e, tt
		}
		return e, ttName
	}
	if strings.ContainsRune(";:()[],.", r) {
		return pos + 1, ttPunctuation
	}
	switch {
	case r == '-' && s.at(pos+1) == '>':
		if s.at(pos+2) == '>' {
			return pos + 3, ttOperator
		}
		return pos + 2, ttOperator
	case r == '#' && s.at(pos+1) == '>':
		if s.at(pos+2) == '>' {
			return pos + 3, ttOperator
		}
		return pos + 2, ttOperator
	case r == '@' && s.at(pos+1) == '>', r == '<' && s.at(pos+1) == '@':
		return pos + 2, ttOperator
	case r == '-':
		return pos + 1, ttOperator
	case r == '#' && s.at(pos+1) == '-':
		return pos + 2, ttOperator
	}
	if strings.ContainsRune("<>=~!", r) {
		e := pos
		for e < len(s.rs) && strings.ContainsRune("<>=~!", s.rs[e]) {
			e++
		}
		return e, ttComparison
	}
	if strings.ContainsRune("+/@#%^&|-", r) {
		e := pos
		for e < len(s.rs) && strings.ContainsRune("+/@#%^&|-", s.rs[e]) {
			e++
		}
		return e, ttOperator
	}
	return -1, ttError
}

// number matches the hexadecimal, float and integer rules, in that order.
func (s *scanner) number(pos int) (int, ttype) {
	p := pos
	if s.at(p) == '-' {
		p++
	}
	// -?0x[\dA-F]+
	if s.at(p) == '0' && foldEq(s.at(p+1), 'X') {
		e := p + 2
		for c := s.at(e); isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); c = s.at(e) {
			e++
		}
		if e > p+2 {
			return e, ttHex
		}
	}
	// -?\d+(\.\d+)?E-?\d+
	if d := s.digits(p); d > p {
		e := d
		if s.at(e) == '.' {
			if f := s.digits(e + 1); f > e+1 && foldEq(s.at(f), 'E') {
				e = f
			}
		}
		if foldEq(s.at(e), 'E') {
			x := e + 1
			if s.at(x) == '-' && isDigit(s.at(x+1)) {
				x++
			}
			if f := s.digits(x); f > x {
				return f, ttFloat
			}
		}
	}
	// (?![_A-ZÀ-Ü])-?(\d+(\.\d*)|\.\d+)(?![_A-ZÀ-Ü])
	okAfter := func(i int) bool { c := s.at(i); return c != '_' && !isNameStart(c) }
	if d := s.digits(p); d > p && s.at(d) == '.' {
		for e := s.digits(d + 1); e >= d+1; e-- {
			if okAfter(e) {
				return e, ttFloat
			}
		}
	}
	if s.at(p) == '.' {
		for e := s.digits(p + 1); e >= p+2; e-- {
			if okAfter(e) {
				return e, ttFloat
			}
		}
	}
	// (?![_A-ZÀ-Ü])-?\d+(?![_A-ZÀ-Ü])
	for e := s.digits(p); e >= p+1; e-- {
		if okAfter(e) {
			return e, ttInteger
		}
	}
	return -1, ttError
}

// keywordPhrase matches the multi-word keyword and operator rules that sit
// between the string rules and the bare-word rule.
func (s *scanner) keywordPhrase(pos int) (int, ttype) {
	// ((LEFT\s+|RIGHT\s+|FULL\s+)?(INNER\s+|OUTER\s+|STRAIGHT\s+)?|(CROSS\s+|NATURAL\s+)?)?JOIN\b
	word := func(i int, alts ...string) int {
		for _, a := range alts {
			if e := s.spaces(s.lit(i, a)); e > 0 {
				return e
			}
		}
		return -1
	}
	{
		a := word(pos, "LEFT", "RIGHT", "FULL")
		var starts []int
		if a > 0 {
			if b := word(a, "INNER", "OUTER", "STRAIGHT"); b > 0 {
				starts = append(starts, b)
			}
			starts = append(starts, a)
		}
		if b := word(pos, "INNER", "OUTER", "STRAIGHT"); b > 0 {
			starts = append(starts, b)
		}
		starts = append(starts, pos)
		if c := word(pos, "CROSS", "NATURAL"); c > 0 {
			starts = append(starts, c)
		}
		for _, st := range starts {
			if e := s.litB(st, "JOIN"); e > 0 {
				return e, ttKeyword
			}
		}
	}
	// END(\s+IF|\s+LOOP|\s+WHILE|\s+FOR|\s+CASE)?\b
	if e := s.lit(pos, "END"); e > 0 {
		for _, w := range []string{"IF", "LOOP", "WHILE", "FOR", "CASE"} {
			if f := s.litB(s.spaces(e), w); f > 0 {
				return f, ttKeyword
			}
		}
		if s.boundary(e) {
			return e, ttKeyword
		}
	}
	if e := s.wordsB(pos, "IF", "NOT", "EXISTS"); e > 0 {
		return e, ttKeyword
	}
	if e := s.wordsB(pos, "IF", "EXISTS"); e > 0 {
		return e, ttKeyword
	}
	if e := s.wordsB(pos, "NOT", "NULL"); e > 0 {
		return e, ttKeyword
	}
	// (ASC|DESC)(\s+NULLS\s+(FIRST|LAST))?\b, then NULLS\s+(FIRST|LAST)\b
	for _, w := range []string{"ASC", "DESC"} {
		if e := s.lit(pos, w); e > 0 {
			for _, fl := range []string{"FIRST", "LAST"} {
				if f := s.wordsB(s.spaces(e), "NULLS", fl); f > 0 {
					return f, ttOrder
				}
			}
			if s.boundary(e) {
				return e, ttOrder
			}
		}
	}
	for _, fl := range []string{"FIRST", "LAST"} {
		if e := s.wordsB(pos, "NULLS", fl); e > 0 {
			return e, ttOrder
		}
	}
	if e := s.wordsB(pos, "UNION", "ALL"); e > 0 {
		return e, ttKeyword
	}
	if e := s.lit(pos, "CREATE"); e > 0 {
		if f := s.wordsB(s.spaces(e), "OR", "REPLACE"); f > 0 {
			return f, ttDDL
		}
		if s.boundary(e) {
			return e, ttDDL
		}
	}
	if e := s.wordsB(pos, "DOUBLE", "PRECISION"); e > 0 {
		return e, ttBuiltin
	}
	for _, p := range [][]string{{"GROUP", "BY"}, {"ORDER", "BY"}, {"PRIMARY", "KEY"}, {"HANDLER", "FOR"}} {
		if e := s.wordsB(pos, p...); e > 0 {
			return e, ttKeyword
		}
	}
	// GO(\s\d+)\b
	if e := s.lit(pos, "GO"); e > 0 && isSpace(s.at(e)) {
		if f := s.digits(e + 1); f > e+1 && s.boundary(f) {
			return f, ttKeyword
		}
	}
	// (LATERAL\s+VIEW\s+)(EXPLODE|INLINE|PARSE_URL_TUPLE|POSEXPLODE|STACK)\b
	if e := s.spaces(s.lit(s.spaces(s.lit(pos, "LATERAL")), "VIEW")); e > 0 {
		if f := s.anyB(e, "EXPLODE", "INLINE", "PARSE_URL_TUPLE", "POSEXPLODE", "STACK"); f > 0 {
			return f, ttKeyword
		}
	}
	// (AT|WITH')\s+TIME\s+ZONE\s+'[^']+'
	for _, w := range []string{"AT", "WITH'"} {
		e := s.spaces(s.lit(s.spaces(s.lit(s.spaces(s.lit(pos, w)), "TIME")), "ZONE"))
		if e > 0 && s.at(e) == '\'' {
			j := e + 1
			for j < len(s.rs) && s.rs[j] != '\'' {
				j++
			}
			if j > e+1 && s.at(j) == '\'' {
				return j + 1, ttTZCast
			}
		}
	}
	// (NOT\s+)?(LIKE|ILIKE|RLIKE)\b and (NOT\s+)?(REGEXP)(\s+(BINARY))?\b
	for _, st := range []int{s.spaces(s.lit(pos, "NOT")), pos} {
		if st < 0 {
			continue
		}
		if e := s.anyB(st, "LIKE", "ILIKE", "RLIKE"); e > 0 {
			return e, ttComparison
		}
	}
	for _, st := range []int{s.spaces(s.lit(pos, "NOT")), pos} {
		if st < 0 {
			continue
		}
		if e := s.lit(st, "REGEXP"); e > 0 {
			if f := s.litB(s.spaces(e), "BINARY"); f > 0 {
				return f, ttComparison
			}
			if s.boundary(e) {
				return e, ttComparison
			}
		}
	}
	return -1, ttError
}

// delimited handles the two constructs sqlparse pairs up before running its
// regular expressions: /* ... */ comments and $tag$ ... $tag$ literals.
func (s *scanner) delimited(pos int) (int, ttype) {
	r := s.at(pos)
	if r == '/' && s.at(pos+1) == '*' {
		open, tt := pos+2, ttMultiline
		if s.at(pos+2) == '+' {
			open, tt = pos+3, ttMultiHint
		}
		if s.closers == nil {
			s.closers = []int{}
			for i := 0; i+1 < len(s.rs); i++ {
				if s.rs[i] == '*' && s.rs[i+1] == '/' {
					s.closers = append(s.closers, i)
				}
			}
		}
		if k := sort.SearchInts(s.closers, open); k < len(s.closers) {
			return s.closers[k] + 2, tt
		}
		return -1, ttError
	}
	if r != '$' {
		return -1, ttError
	}
	p := s.at(pos - 1)
	if isWord(p) || p == '"' || p == '$' {
		return -1, ttError
	}
	tag := s.dollarTag(pos)
	if tag < 0 {
		return -1, ttError
	}
	if s.dollars == nil {
		s.dollars = make(map[string][]int)
		for i, c := range s.rs {
			if c == '$' {
				if e := s.dollarTag(i); e > 0 {
					d := string(s.rs[i:e])
					s.dollars[d] = append(s.dollars[d], i)
				}
			}
		}
	}
	starts := s.dollars[string(s.rs[pos:tag])]
	if k := sort.SearchInts(starts, tag); k < len(starts) {
		return starts[k] + (tag - pos), ttLiteral
	}
	return -1, ttError
}

// dollarTag matches \$(?:[_A-ZÀ-Ü]\w*)?\$ at i.
func (s *scanner) dollarTag(i int) int {
	if s.at(i) != '$' {
		return -1
	}
	if c := s.at(i + 1); c == '_' || isNameStart(c) {
		if e := s.words(i + 2); s.at(e) == '$' {
			return e + 1
		}
	}
	if s.at(i+1) == '$' {
		return i + 2
	}
	return -1
}
