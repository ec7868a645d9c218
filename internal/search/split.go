package search

import (
	"errors"
	"strings"
)

// errParse stands for sqlparse's SQLParseError (its grouping limits).
var errParse = errors.New("sqlparse: grouping limit exceeded")

const (
	maxGroupingDepth  = 100
	maxGroupingTokens = 10000
)

// parseSQL is sqlparse.parse: split into statements and group each one.
func parseSQL(text string) ([]*node, error) {
	stmts := splitStatements(lex(text))
	for _, st := range stmts {
		if err := group(st); err != nil {
			return nil, err
		}
	}
	return stmts, nil
}

// splitStatements is sqlparse's StatementSplitter.
func splitStatements(toks []lexeme) []*node {
	var out []*node
	sp := splitter{}
	var cur []*node
	consumeWS := false
	for _, t := range toks {
		if consumeWS && t.tt != ttWhitespace && t.tt != ttCommentLine {
			out = append(out, newGroup(clsStatement, cur))
			cur, consumeWS, sp = nil, false, splitter{}
		}
		sp.level += sp.change(t.tt, t.val)
		cur = append(cur, &node{tt: t.tt, raw: t.val})
		switch {
		case t.tt == ttPunctuation && t.val == ";":
			sp.seenBegin = false
			if sp.level <= 0 && !sp.inBegin() {
				consumeWS = true
			}
		case t.tt == ttKeyword && firstField(t.val) == "GO":
			consumeWS = true
		case t.tt != ttWhitespace && t.tt != ttNewline && t.tt != ttCommentLine && t.tt != ttMultiline &&
			!(t.tt == ttKeyword && pyUpper(t.val) == "BEGIN"):
			sp.seenBegin = false
		}
	}
	if len(cur) > 0 {
		for _, n := range cur {
			if !n.isWhitespace() {
				out = append(out, newGroup(clsStatement, cur))
				break
			}
		}
	}
	return out
}

func firstField(s string) string {
	if f := strings.Fields(s); len(f) > 0 {
		return f[0]
	}
	return ""
}

// splitter tracks the block nesting that keeps sqlparse from splitting at
// a semicolon inside BEGIN ... END and similar constructs.
type splitter struct {
	blocks      []string
	unconfirmed string
	isCreate    bool
	seenBegin   bool
	level       int
}

func (s *splitter) inBegin() bool {
	for _, b := range s.blocks {
		if b == "BEGIN" {
			return true
		}
	}
	return false
}

func (s *splitter) top() string {
	if len(s.blocks) == 0 {
		return ""
	}
	return s.blocks[len(s.blocks)-1]
}

func (s *splitter) pop() { s.blocks = s.blocks[:len(s.blocks)-1] }

// blockEnds maps the closing keywords of nested blocks to their openers.
var blockEnds = map[string]string{"END IF": "IF", "END FOR": "FOR", "END WHILE": "WHILE", "END CASE": "CASE"}

func (s *splitter) change(tt ttype, val string) int {
	if tt == ttPunctuation && val == ";" {
		s.unconfirmed = ""
		if s.seenBegin {
			s.seenBegin = false
			if s.top() == "BEGIN" {
				s.pop()
				return -1
			}
		}
		return 0
	}
	if tt == ttPunctuation && val == "(" {
		return 1
	}
	if tt == ttPunctuation && val == ")" {
		return -1
	}
	if !tt.in(ttKeyword) {
		return 0
	}
	u := pyUpper(val)
	if tt == ttDDL && strings.HasPrefix(u, "CREATE") {
		s.isCreate = true
		return 0
	}
	if u == "DECLARE" && s.isCreate && len(s.blocks) == 0 {
		s.blocks = append(s.blocks, "DECLARE")
		return 1
	}
	if u == "BEGIN" {
		s.seenBegin = true
		if s.top() == "DECLARE" {
			s.pop()
			s.blocks = append(s.blocks, "BEGIN")
			return 0
		}
		s.blocks = append(s.blocks, "BEGIN")
		return 1
	}
	if s.seenBegin && tt == ttKeyword {
		switch u {
		case "TRANSACTION", "WORK", "TRAN", "DISTRIBUTED", "DEFERRED", "IMMEDIATE", "EXCLUSIVE":
			s.seenBegin = false
			if s.top() == "BEGIN" {
				s.pop()
				return -1
			}
			return 0
		}
	}
	if s.inBegin() {
		switch u {
		case "FOR", "WHILE":
			s.unconfirmed = u
			return 0
		case "LOOP", "DO":
			if s.unconfirmed == "FOR" || s.unconfirmed == "WHILE" {
				s.blocks = append(s.blocks, s.unconfirmed)
				s.unconfirmed = ""
				return 1
			}
			if u == "LOOP" {
				s.blocks = append(s.blocks, "LOOP")
				return 1
			}
		case "IF", "CASE":
			s.blocks = append(s.blocks, u)
			return 1
		}
	}
	switch {
	case blockEnds[u] != "":
		if s.top() == blockEnds[u] {
			s.pop()
			return -1
		}
	case u == "END LOOP":
		if t := s.top(); t == "LOOP" || t == "FOR" || t == "WHILE" {
			s.pop()
			return -1
		}
	case u == "END":
		if len(s.blocks) > 0 {
			s.pop()
		}
		return -1
	}
	return 0
}
