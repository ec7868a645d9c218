package search

import (
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MLflow reads a parenthesized list such as ('a', "b") with Python's
// ast.literal_eval and quotes Python reprs in several messages. This file
// holds the small part of Python's literal syntax and repr that those
// paths need.

// pyValue is a Python literal: string, bytes, int, float, bool, None,
// tuple or list.
type pyValue struct {
	kind  pyKind
	str   string // str, or the raw bytes of a bytes literal
	num   *big.Int
	float float64
	items []pyValue
}

type pyKind uint8

const (
	pyStr pyKind = iota
	pyBytes
	pyInt
	pyFloat
	pyBool // num is 0 or 1
	pyNone
	pyTuple
	pyList
)

// errLiteral means the text is not a literal we can evaluate; MLflow's
// callers report it as an ill-formed list.
var errLiteral = fmt.Errorf("not a Python literal")

// pyLiteralEval evaluates text as ast.literal_eval would, for the literal
// kinds above.
func pyLiteralEval(text string) (pyValue, error) {
	p := &pyParser{s: strings.TrimLeft(text, " \t")}
	v, err := p.expr()
	if err != nil {
		return pyValue{}, err
	}
	p.skip()
	if p.i != len(p.s) {
		return pyValue{}, errLiteral
	}
	return v, nil
}

type pyParser struct {
	s     string
	i     int
	depth int // bracket nesting: newlines only count as space inside brackets
}

func (p *pyParser) skip() {
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case c == ' ' || c == '\t' || c == '\f':
			p.i++
		case (c == '\n' || c == '\r') && p.depth > 0:
			p.i++
		case c == '\\' && (strings.HasPrefix(p.s[p.i:], "\\\n") || strings.HasPrefix(p.s[p.i:], "\\\r")):
			p.i += 2
		case c == '#':
			for p.i < len(p.s) && p.s[p.i] != '\n' && p.s[p.i] != '\r' {
				p.i++
			}
		default:
			return
		}
	}
}

func (p *pyParser) peek() byte {
	p.skip()
	if p.i < len(p.s) {
		return p.s[p.i]
	}
	return 0
}

func (p *pyParser) expr() (pyValue, error) {
	switch c := p.peek(); {
	case c == '-' || c == '+':
		p.i++
		v, err := p.expr()
		if err != nil || (v.kind != pyInt && v.kind != pyFloat) {
			return pyValue{}, errLiteral
		}
		if c == '-' {
			if v.kind == pyInt {
				v.num = new(big.Int).Neg(v.num)
			} else {
				v.float = -v.float
			}
		}
		return v, nil
	case c == '(' || c == '[':
		return p.sequence(c)
	case c >= '0' && c <= '9', c == '.':
		return p.number()
	case c == '\'' || c == '"':
		return p.strings()
	case c == '_' || c >= 0x80 || unicode.IsLetter(rune(c)):
		start := p.i
		for p.i < len(p.s) {
			r, n := utf8.DecodeRuneInString(p.s[p.i:])
			if r != '_' && !unicode.IsLetter(r) && !unicode.IsDigit(r) {
				break
			}
			p.i += n
		}
		name := p.s[start:p.i]
		if p.i < len(p.s) && (p.s[p.i] == '\'' || p.s[p.i] == '"') {
			p.i = start
			return p.strings()
		}
		switch name {
		case "True":
			return pyValue{kind: pyBool, num: big.NewInt(1)}, nil
		case "False":
			return pyValue{kind: pyBool, num: big.NewInt(0)}, nil
		case "None":
			return pyValue{kind: pyNone}, nil
		}
	}
	return pyValue{}, errLiteral
}

func (p *pyParser) sequence(open byte) (pyValue, error) {
	closing := byte(')')
	kind := pyTuple
	if open == '[' {
		closing, kind = ']', pyList
	}
	p.i++
	p.depth++
	defer func() { p.depth-- }()
	var items []pyValue
	comma := false
	for {
		if p.peek() == closing {
			p.i++
			break
		}
		if len(items) > 0 && !comma {
			return pyValue{}, errLiteral
		}
		v, err := p.expr()
		if err != nil {
			return pyValue{}, err
		}
		items = append(items, v)
		comma = false
		if p.peek() == ',' {
			p.i++
			comma = true
		}
	}
	if kind == pyTuple && len(items) == 1 && !comma {
		return items[0], nil // (x) is just x
	}
	return pyValue{kind: kind, items: items}, nil
}

func (p *pyParser) number() (pyValue, error) {
	start := p.i
	s := p.s
	digitsOf := func(ok func(byte) bool) bool {
		n := 0
		for p.i < len(s) {
			if ok(s[p.i]) {
				p.i++
				n++
				continue
			}
			if s[p.i] == '_' && n > 0 && p.i+1 < len(s) && ok(s[p.i+1]) {
				p.i++
				continue
			}
			break
		}
		return n > 0
	}
	dec := func(c byte) bool { return c >= '0' && c <= '9' }
	if s[p.i] == '0' && p.i+1 < len(s) && strings.ContainsRune("xXoObB", rune(s[p.i+1])) {
		base := map[byte]int{'x': 16, 'X': 16, 'o': 8, 'O': 8, 'b': 2, 'B': 2}[s[p.i+1]]
		p.i += 2
		if p.i < len(s) && s[p.i] == '_' {
			p.i++
		}
		ok := func(c byte) bool {
			d, err := strconv.ParseUint(string(c), base, 8)
			return err == nil && int(d) < base
		}
		if !digitsOf(ok) {
			return pyValue{}, errLiteral
		}
		n, good := new(big.Int).SetString(strings.ReplaceAll(s[start+2:p.i], "_", ""), base)
		if !good || p.identAfter() {
			return pyValue{}, errLiteral
		}
		return pyValue{kind: pyInt, num: n}, nil
	}
	isFloat := false
	intPart := digitsOf(dec)
	if p.i < len(s) && s[p.i] == '.' {
		p.i++
		isFloat = true
		frac := digitsOf(dec)
		if !intPart && !frac {
			return pyValue{}, errLiteral
		}
	}
	if p.i < len(s) && (s[p.i] == 'e' || s[p.i] == 'E') {
		save := p.i
		p.i++
		if p.i < len(s) && (s[p.i] == '+' || s[p.i] == '-') {
			p.i++
		}
		if digitsOf(dec) {
			isFloat = true
		} else {
			p.i = save
		}
	}
	if p.identAfter() {
		return pyValue{}, errLiteral // 1j (complex), 1abc, ...
	}
	text := strings.ReplaceAll(s[start:p.i], "_", "")
	if isFloat {
		f, err := strconv.ParseFloat(text, 64)
		if err != nil && !isRangeErr(err) {
			return pyValue{}, errLiteral
		}
		return pyValue{kind: pyFloat, float: f}, nil
	}
	if len(text) > 1 && text[0] == '0' && strings.Trim(text, "0") != "" {
		return pyValue{}, errLiteral // 01 is a syntax error
	}
	n, _ := new(big.Int).SetString(text, 10)
	return pyValue{kind: pyInt, num: n}, nil
}

func (p *pyParser) identAfter() bool {
	if p.i >= len(p.s) {
		return false
	}
	r, _ := utf8.DecodeRuneInString(p.s[p.i:])
	return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r)
}

func isRangeErr(err error) bool {
	ne, ok := err.(*strconv.NumError)
	return ok && ne.Err == strconv.ErrRange
}

// strings reads one or more adjacent string literals (implicit
// concatenation).
func (p *pyParser) strings() (pyValue, error) {
	var out pyValue
	n := 0
	for {
		c := p.peek()
		if c != '\'' && c != '"' && !strings.ContainsRune("rRuUbBfFtT", rune(c)) {
			break
		}
		save := p.i
		v, err := p.oneString()
		if err == errNotString {
			p.i = save
			break
		}
		if err != nil {
			return pyValue{}, err
		}
		if n > 0 && v.kind != out.kind {
			return pyValue{}, errLiteral // cannot mix bytes and nonbytes literals
		}
		out.kind = v.kind
		out.str += v.str
		n++
	}
	if n == 0 {
		return pyValue{}, errLiteral
	}
	return out, nil
}

var errNotString = fmt.Errorf("not a string literal")

func (p *pyParser) oneString() (pyValue, error) {
	start := p.i
	for p.i < len(p.s) && strings.ContainsRune("rRuUbBfFtT", rune(p.s[p.i])) {
		p.i++
	}
	prefix := strings.ToLower(p.s[start:p.i])
	if p.i >= len(p.s) || (p.s[p.i] != '\'' && p.s[p.i] != '"') {
		return pyValue{}, errNotString
	}
	switch prefix {
	case "", "r", "u", "b", "br", "rb":
	default:
		return pyValue{}, errLiteral // f-strings and t-strings are not literals
	}
	raw := strings.Contains(prefix, "r")
	kind := pyStr
	if strings.Contains(prefix, "b") {
		kind = pyBytes
	}
	q := p.s[p.i : p.i+1]
	if strings.HasPrefix(p.s[p.i:], q+q+q) {
		q = q + q + q
	}
	p.i += len(q)
	var b strings.Builder
	for {
		if p.i >= len(p.s) {
			return pyValue{}, errLiteral
		}
		if strings.HasPrefix(p.s[p.i:], q) {
			p.i += len(q)
			break
		}
		r, n := utf8.DecodeRuneInString(p.s[p.i:])
		if len(q) == 1 && (r == '\n' || r == '\r') {
			return pyValue{}, errLiteral
		}
		if kind == pyBytes && r >= 0x80 {
			return pyValue{}, errLiteral
		}
		if r != '\\' {
			b.WriteRune(r)
			p.i += n
			continue
		}
		if p.i+1 >= len(p.s) {
			return pyValue{}, errLiteral
		}
		if raw {
			// A backslash keeps the next character, quote included.
			r2, n2 := utf8.DecodeRuneInString(p.s[p.i+1:])
			b.WriteRune('\\')
			b.WriteRune(r2)
			p.i += 1 + n2
			continue
		}
		if err := p.escape(&b, kind); err != nil {
			return pyValue{}, err
		}
	}
	return pyValue{kind: kind, str: b.String()}, nil
}

// escape decodes the backslash escape at p.i into b.
func (p *pyParser) escape(b *strings.Builder, kind pyKind) error {
	s := p.s
	c := s[p.i+1]
	p.i += 2
	hex := func(n int) (rune, error) {
		if p.i+n > len(s) {
			return 0, errLiteral
		}
		v, err := strconv.ParseUint(s[p.i:p.i+n], 16, 32)
		if err != nil || strings.ContainsAny(s[p.i:p.i+n], "+-_") {
			return 0, errLiteral
		}
		p.i += n
		return rune(v), nil
	}
	put := func(r rune) {
		if kind == pyBytes {
			b.WriteByte(byte(r))
		} else {
			b.WriteRune(r)
		}
	}
	switch c {
	case '\n':
	case '\r':
		if p.i < len(s) && s[p.i] == '\n' {
			p.i++
		}
	case '\\', '\'', '"':
		b.WriteByte(c)
	case 'a':
		b.WriteByte('\a')
	case 'b':
		b.WriteByte('\b')
	case 'f':
		b.WriteByte('\f')
	case 'n':
		b.WriteByte('\n')
	case 'r':
		b.WriteByte('\r')
	case 't':
		b.WriteByte('\t')
	case 'v':
		b.WriteByte('\v')
	case '0', '1', '2', '3', '4', '5', '6', '7':
		v := rune(c - '0')
		for k := 0; k < 2 && p.i < len(s) && s[p.i] >= '0' && s[p.i] <= '7'; k++ {
			v = v*8 + rune(s[p.i]-'0')
			p.i++
		}
		if kind == pyBytes {
			v &= 0xff
		}
		put(v)
	case 'x':
		r, err := hex(2)
		if err != nil {
			return err
		}
		put(r)
	case 'u', 'U':
		if kind == pyBytes {
			b.WriteByte('\\')
			b.WriteByte(c)
			return nil
		}
		n := 4
		if c == 'U' {
			n = 8
		}
		r, err := hex(n)
		if err != nil || r > unicode.MaxRune {
			return errLiteral
		}
		b.WriteString(string([]rune{r}))
	case 'N':
		if kind == pyBytes {
			b.WriteString(`\N`)
			return nil
		}
		return errLiteral // named escapes need the Unicode name table
	default:
		// Unknown escapes keep their backslash.
		b.WriteByte('\\')
		p.i--
	}
	return nil
}

// pyRepr formats v as Python's repr does.
func pyRepr(v pyValue) string {
	switch v.kind {
	case pyStr:
		return pyStrRepr(v.str)
	case pyBytes:
		return pyBytesRepr([]byte(v.str))
	case pyInt:
		return v.num.String()
	case pyFloat:
		return pyFloatRepr(v.float)
	case pyBool:
		if v.num.Sign() != 0 {
			return "True"
		}
		return "False"
	case pyNone:
		return "None"
	}
	parts := make([]string, len(v.items))
	for i, it := range v.items {
		parts[i] = pyRepr(it)
	}
	if v.kind == pyList {
		return "[" + strings.Join(parts, ", ") + "]"
	}
	if len(parts) == 1 {
		return "(" + parts[0] + ",)"
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

// pyStrRepr is repr() of a Python str.
func pyStrRepr(s string) string {
	q := byte('\'')
	if strings.Contains(s, "'") && !strings.Contains(s, `"`) {
		q = '"'
	}
	var b strings.Builder
	b.WriteByte(q)
	for _, r := range s {
		switch {
		case r == '\\' || r == rune(q):
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == utf8.RuneError:
			b.WriteString(`\ufffd`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case !unicode.IsPrint(r):
			switch {
			case r <= 0xff:
				fmt.Fprintf(&b, `\x%02x`, r)
			case r <= 0xffff:
				fmt.Fprintf(&b, `\u%04x`, r)
			default:
				fmt.Fprintf(&b, `\U%08x`, r)
			}
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte(q)
	return b.String()
}

// pyBytesRepr is repr() of Python bytes.
func pyBytesRepr(bs []byte) string {
	q := byte('\'')
	if strings.ContainsRune(string(bs), '\'') && !strings.ContainsRune(string(bs), '"') {
		q = '"'
	}
	var b strings.Builder
	b.WriteString("b")
	b.WriteByte(q)
	for _, c := range bs {
		switch {
		case c == '\\' || c == q:
			b.WriteByte('\\')
			b.WriteByte(c)
		case c == '\t':
			b.WriteString(`\t`)
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\r':
			b.WriteString(`\r`)
		case c < 0x20 || c >= 0x7f:
			fmt.Fprintf(&b, `\x%02x`, c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte(q)
	return b.String()
}

// pyFloatRepr is repr() of a Python float: the shortest round-trip digits,
// in positional notation when the exponent is in [-4, 16), else in
// scientific notation with a two-digit exponent.
func pyFloatRepr(f float64) string {
	switch {
	case math.IsNaN(f):
		return "nan"
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	e := strconv.FormatFloat(f, 'e', -1, 64) // d.ddde±XX
	mant, expText, _ := strings.Cut(e, "e")
	exp, _ := strconv.Atoi(expText)
	sign := ""
	if strings.HasPrefix(mant, "-") {
		sign, mant = "-", mant[1:]
	}
	digits := strings.Replace(mant, ".", "", 1)
	if exp < -4 || exp >= 16 {
		m := digits[:1]
		if len(digits) > 1 {
			m += "." + digits[1:]
		}
		es := "+"
		if exp < 0 {
			es, exp = "-", -exp
		}
		return fmt.Sprintf("%s%se%s%02d", sign, m, es, exp)
	}
	if exp < 0 {
		return sign + "0." + strings.Repeat("0", -exp-1) + digits
	}
	if len(digits) <= exp+1 {
		return sign + digits + strings.Repeat("0", exp+1-len(digits)) + ".0"
	}
	return sign + digits[:exp+1] + "." + digits[exp+1:]
}

// pyIntFromString is Python's int(str): optional surrounding whitespace,
// a sign, decimal digits (any script) with single underscores between
// them.
func pyIntFromString(s string) (*big.Int, bool) {
	s = strings.TrimFunc(s, isSpace)
	neg := false
	if s != "" && (s[0] == '+' || s[0] == '-') {
		neg = s[0] == '-'
		s = s[1:]
	}
	var b strings.Builder
	prevDigit := false
	for _, r := range s {
		switch {
		case unicode.IsDigit(r):
			b.WriteRune('0' + asciiDigit(r))
			prevDigit = true
		case r == '_' && prevDigit:
			prevDigit = false
		default:
			return nil, false
		}
	}
	if b.Len() == 0 || !prevDigit {
		return nil, false
	}
	n, ok := new(big.Int).SetString(b.String(), 10)
	if ok && neg {
		n.Neg(n)
	}
	return n, ok
}

// asciiDigit returns the value of a decimal digit of any script.
func asciiDigit(r rune) rune {
	if r >= '0' && r <= '9' {
		return r - '0'
	}
	// Decimal digits come in whole runs of ten, each starting at its zero,
	// and runs may follow each other directly.
	z := r
	for unicode.IsDigit(z - 1) {
		z--
	}
	return (r - z) % 10
}

// asciiNumber rewrites the digits of a number token to ASCII so that Go's
// parsers accept what Python's int() and float() accept.
func asciiNumber(s string) string {
	var b strings.Builder
	for _, r := range s {
		if unicode.IsDigit(r) {
			b.WriteRune('0' + asciiDigit(r))
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}
