package search

// The grouping passes of sqlparse (sqlparse/engine/grouping.py), which turn
// the flat token list of a statement into the tree MLflow inspects.

// group runs sqlparse's grouping passes, in its order.
func group(st *node) (err error) {
	steps := []func(*node) error{
		wrap(groupComments),
		func(l *node) error { return groupMatching(l, clsSquareBrackets, 0) },
		func(l *node) error { return groupMatching(l, clsParenthesis, 0) },
		func(l *node) error { return groupMatching(l, clsCase, 0) },
		func(l *node) error { return groupMatching(l, clsIf, 0) },
		func(l *node) error { return groupMatching(l, clsFor, 0) },
		func(l *node) error { return groupMatching(l, clsBegin, 0) },
		wrap(groupOver),
		wrap(groupFunctions),
		wrap(groupWhere),
		groupPeriod,
		groupArrays,
		wrap(groupIdentifier),
		wrap(groupOrder),
		groupTypecasts,
		groupTZCasts,
		groupTypedLiteral,
		groupOperator,
		groupComparison,
		groupAs,
		wrap(groupAliased),
		groupAssignment,
		wrap(alignComments),
		groupIdentifierList,
		wrap(groupValues),
	}
	for _, step := range steps {
		if err := step(st); err != nil {
			return err
		}
	}
	return nil
}

func wrap(f func(*node)) func(*node) error {
	return func(l *node) error { f(l); return nil }
}

func groupComments(l *node) {
	recurse(l, func(l *node) {
		tidx, tok := tokenNextBy(l, -1, func(t *node) bool { return t.typeIn(ttComment) })
		for tok != nil {
			eidx, end := tokenNextBy(l, tidx-1, func(t *node) bool { return !(t.typeIn(ttComment) || t.isNewline()) })
			if end == nil {
				break
			}
			eidx, _ = tokenPrev(l, eidx, false)
			groupTokens(l, clsComment, tidx, eidx, false)
			tidx, tok = tokenNextBy(l, tidx, func(t *node) bool { return t.typeIn(ttComment) })
		}
	}, clsComment)
}

// openClose returns the opening and closing matchers of a delimited group.
func openClose(cls class) (open, closing func(*node) bool) {
	kw := func(values ...string) func(*node) bool {
		return func(t *node) bool { return t.match(ttKeyword, values...) }
	}
	switch cls {
	case clsSquareBrackets:
		return func(t *node) bool { return t.match(ttPunctuation, "[") },
			func(t *node) bool { return t.match(ttPunctuation, "]") }
	case clsParenthesis:
		return func(t *node) bool { return t.match(ttPunctuation, "(") },
			func(t *node) bool { return t.match(ttPunctuation, ")") }
	case clsCase:
		return kw("CASE"), kw("END")
	case clsIf:
		return kw("IF"), kw("END IF")
	case clsFor:
		return kw("FOR", "FOREACH"), kw("END LOOP")
	default: // clsBegin
		return kw("BEGIN"), kw("END")
	}
}

// groupMatching is sqlparse's _group_matching.
func groupMatching(l *node, cls class, depth int) error {
	if depth > maxGroupingDepth || len(l.kids) > maxGroupingTokens {
		return errParse
	}
	open, closing := openClose(cls)
	var opens []int
	offset := 0
	for i, t := range append([]*node(nil), l.kids...) {
		tidx := i - offset
		if t.isWhitespace() {
			continue
		}
		if t.isGroup() && t.cls != cls {
			if err := groupMatching(t, cls, depth+1); err != nil {
				return err
			}
			continue
		}
		if open(t) {
			opens = append(opens, tidx)
		} else if closing(t) {
			if len(opens) == 0 {
				continue
			}
			o := opens[len(opens)-1]
			opens = opens[:len(opens)-1]
			groupTokens(l, cls, o, tidx, false)
			offset += tidx - o
		}
	}
	return nil
}

func groupOver(l *node) {
	recurse(l, func(l *node) {
		isOver := func(t *node) bool { return t.match(ttKeyword, "OVER") }
		tidx, tok := tokenNextBy(l, -1, isOver)
		for tok != nil {
			nidx, next := tokenNext(l, tidx, true, false)
			if next.is(clsParenthesis) || next.typeIn(ttName) {
				groupTokens(l, clsOver, tidx, nidx, false)
			}
			tidx, tok = tokenNextBy(l, tidx, isOver)
		}
	}, clsOver)
}

func groupFunctions(l *node) {
	recurse(l, func(l *node) {
		var hasCreate, hasTable, hasAs bool
		for _, t := range l.kids {
			if t.isGroup() {
				continue // no group at this stage spells one of these words
			}
			switch pyUpper(t.raw) {
			case "CREATE":
				hasCreate = true
			case "TABLE":
				hasTable = true
			case "AS":
				hasAs = true
			}
		}
		if hasCreate && hasTable && !hasAs {
			return
		}
		isName := func(t *node) bool { return t.typeIn(ttName) }
		tidx, tok := tokenNextBy(l, -1, isName)
		for tok != nil {
			nidx, next := tokenNext(l, tidx, true, false)
			if next.is(clsParenthesis) {
				eidx := nidx
				if oidx, over := tokenNext(l, nidx, true, false); over.is(clsOver) {
					eidx = oidx
				}
				groupTokens(l, clsFunction, tidx, eidx, false)
			}
			tidx, tok = tokenNextBy(l, tidx, isName)
		}
	}, clsFunction)
}

func groupWhere(l *node) {
	recurse(l, func(l *node) {
		isOpen := func(t *node) bool { return t.match(ttKeyword, "WHERE") }
		isClose := func(t *node) bool {
			return t.match(ttKeyword, "ORDER BY", "GROUP BY", "LIMIT", "UNION", "UNION ALL", "EXCEPT",
				"INTERSECT", "HAVING", "RETURNING", "INTO")
		}
		tidx, tok := tokenNextBy(l, -1, isOpen)
		for tok != nil {
			eidx, end := tokenNextBy(l, tidx, isClose)
			if end == nil {
				eidx = len(l.kids) - 1
				if l.is(clsParenthesis, clsSquareBrackets) {
					eidx = len(l.kids) - 2
				}
			} else {
				eidx--
			}
			groupTokens(l, clsWhere, tidx, eidx, false)
			tidx, tok = tokenNextBy(l, tidx, isOpen)
		}
	}, clsWhere)
}

func groupIdentifier(l *node) {
	recurse(l, func(l *node) {
		pred := func(t *node) bool { return t.typeIs(ttSymbol, ttName) }
		tidx, tok := tokenNextBy(l, -1, pred)
		for tok != nil {
			groupTokens(l, clsIdentifier, tidx, tidx, false)
			tidx, tok = tokenNextBy(l, tidx, pred)
		}
	}, clsIdentifier)
}

func groupOrder(l *node) {
	recurse(l, func(l *node) {
		pred := func(t *node) bool { return t.typeIn(ttOrder) }
		tidx, tok := tokenNextBy(l, -1, pred)
		for tok != nil {
			pidx, prev := tokenPrev(l, tidx, true)
			if prev.is(clsIdentifier) || prev.typeIn(ttNumber) {
				groupTokens(l, clsIdentifier, pidx, tidx, false)
				tidx = pidx
			}
			tidx, tok = tokenNextBy(l, tidx, pred)
		}
	}, clsIdentifier)
}

func groupAliased(l *node) {
	recurse(l, func(l *node) {
		pred := func(t *node) bool {
			return t.is(clsParenthesis, clsFunction, clsCase, clsIdentifier, clsOperation, clsComparison) ||
				t.typeIn(ttNumber)
		}
		tidx, tok := tokenNextBy(l, -1, pred)
		for tok != nil {
			nidx, next := tokenNext(l, tidx, true, false)
			if next.is(clsIdentifier) {
				groupTokens(l, clsIdentifier, tidx, nidx, true)
			}
			tidx, tok = tokenNextBy(l, tidx, pred)
		}
	})
}

func alignComments(l *node) {
	recurse(l, func(l *node) {
		pred := func(t *node) bool { return t.is(clsComment) }
		tidx, tok := tokenNextBy(l, -1, pred)
		for tok != nil {
			pidx, prev := tokenPrev(l, tidx, true)
			if prev != nil && prev.isGroup() {
				groupTokens(l, clsTokenList, pidx, tidx, true)
				tidx = pidx
			}
			tidx, tok = tokenNextBy(l, tidx, pred)
		}
	})
}

func groupValues(l *node) {
	tidx, tok := tokenNextBy(l, -1, func(t *node) bool { return t.match(ttKeyword, "VALUES") })
	start, end := tidx, -1
	for tok != nil {
		if tok.is(clsParenthesis) {
			end = tidx
		}
		tidx, tok = tokenNext(l, tidx, true, false)
	}
	if end != -1 {
		groupTokens(l, clsValues, start, end, true)
	}
}

// grouper describes one use of sqlparse's generic _group: a middle token
// (match) joined with its neighbours into a group of class cls.
type grouper struct {
	cls       class
	match     func(*node) bool
	validPrev func(*node) bool
	validNext func(*node) bool
	// post returns the range to group from the indexes of the previous,
	// matched and next tokens.
	post    func(l *node, pidx, tidx, nidx int) (int, int)
	extend  bool
	recurse bool
}

func notNil(t *node) bool { return t != nil }

func aroundMatch(_ *node, pidx, _, nidx int) (int, int) { return pidx, nidx }

// isDelimiter reports whether t opens or closes l itself.
func isDelimiter(l, t *node) bool {
	if t == nil || !l.is(clsParenthesis, clsSquareBrackets, clsCase, clsIf, clsFor, clsBegin) || len(l.kids) == 0 {
		return false
	}
	return t == l.kids[0] || t == l.kids[len(l.kids)-1]
}

// run is sqlparse's _group.
func (g grouper) run(l *node, depth int) error {
	if depth > maxGroupingDepth || len(l.kids) > maxGroupingTokens {
		return errParse
	}
	offset := 0
	pidx, prev := -1, (*node)(nil)
	for i, t := range append([]*node(nil), l.kids...) {
		tidx := i - offset
		if tidx < 0 || t.isWhitespace() {
			continue
		}
		if g.recurse && t.isGroup() && t.cls != g.cls {
			if err := g.run(t, depth+1); err != nil {
				return err
			}
		}
		if g.match(t) {
			nidx, next := tokenNext(l, tidx, true, false)
			if prev != nil && g.validPrev(prev) && g.validNext(next) && !isDelimiter(l, prev) && !isDelimiter(l, next) {
				from, to := g.post(l, pidx, tidx, nidx)
				grp := groupTokens(l, g.cls, from, to, g.extend)
				offset += to - from
				pidx, prev = from, grp
				continue
			}
		}
		pidx, prev = tidx, t
	}
	return nil
}

func groupPeriod(l *node) error {
	return grouper{
		cls: clsIdentifier,
		match: func(t *node) bool {
			return t.match(ttPunctuation, ".") || t.match(ttOperator, "->") || t.match(ttOperator, "->>")
		},
		validPrev: func(t *node) bool { return t.is(clsSquareBrackets, clsIdentifier) || t.typeIs(ttName, ttSymbol) },
		validNext: func(*node) bool { return true },
		post: func(l *node, pidx, tidx, nidx int) (int, int) {
			var next *node
			if nidx >= 0 {
				next = l.kids[nidx]
			}
			if next.is(clsSquareBrackets, clsFunction) || next.typeIs(ttName, ttSymbol, ttWildcard, ttSingle) {
				return pidx, nidx
			}
			return pidx, tidx
		},
		extend: true, recurse: true,
	}.run(l, 0)
}

func groupArrays(l *node) error {
	return grouper{
		cls:   clsIdentifier,
		match: func(t *node) bool { return t.is(clsSquareBrackets) },
		validPrev: func(t *node) bool {
			return t.is(clsSquareBrackets, clsIdentifier, clsFunction) || t.typeIs(ttName, ttSymbol)
		},
		validNext: func(*node) bool { return true },
		post:      func(_ *node, pidx, tidx, _ int) (int, int) { return pidx, tidx },
		extend:    true, recurse: false,
	}.run(l, 0)
}

func groupTypecasts(l *node) error {
	return grouper{
		cls: clsIdentifier, match: func(t *node) bool { return t.match(ttPunctuation, "::") },
		validPrev: notNil, validNext: notNil, post: aroundMatch, extend: true, recurse: true,
	}.run(l, 0)
}

func groupTZCasts(l *node) error {
	return grouper{
		cls: clsIdentifier, match: func(t *node) bool { return t.tt == ttTZCast },
		validPrev: notNil,
		validNext: func(t *node) bool {
			return t != nil && (t.isWhitespace() || t.match(ttKeyword, "AS") || t.match(ttSingle))
		},
		post: aroundMatch, extend: true, recurse: true,
	}.run(l, 0)
}

func groupTypedLiteral(l *node) error {
	err := grouper{
		cls:       clsTypedLiteral,
		match:     func(t *node) bool { return t.match(ttBuiltin) || t.match(ttKeyword, "TIMESTAMP") },
		validPrev: notNil,
		validNext: func(t *node) bool { return t.match(ttSingle) },
		post:      func(_ *node, _, tidx, nidx int) (int, int) { return tidx, nidx },
		extend:    false, recurse: true,
	}.run(l, 0)
	if err != nil {
		return err
	}
	return grouper{
		cls:       clsTypedLiteral,
		match:     func(t *node) bool { return t.is(clsTypedLiteral) },
		validPrev: notNil,
		validNext: func(t *node) bool {
			return t.match(ttKeyword, "DAY", "HOUR", "MINUTE", "MONTH", "SECOND", "YEAR")
		},
		post:   func(_ *node, _, tidx, nidx int) (int, int) { return tidx, nidx },
		extend: true, recurse: true,
	}.run(l, 0)
}

// operand is the operand test shared by operations and comparisons.
func operand(t *node, classes ...class) bool {
	return t.is(classes...) ||
		t.typeIs(ttNumber, ttInteger, ttFloat, ttString, ttSingle, ttSymbol, ttName, ttPlaceholder)
}

func groupOperator(l *node) error {
	valid := func(t *node) bool {
		return operand(t, clsSquareBrackets, clsParenthesis, clsFunction, clsIdentifier, clsOperation, clsTypedLiteral) ||
			t.match(ttKeyword, "CURRENT_DATE", "CURRENT_TIME", "CURRENT_TIMESTAMP")
	}
	return grouper{
		cls:       clsOperation,
		match:     func(t *node) bool { return t.typeIs(ttOperator, ttWildcard) },
		validPrev: valid, validNext: valid,
		post: func(l *node, pidx, tidx, nidx int) (int, int) {
			l.kids[tidx].tt = ttOperator
			return pidx, nidx
		},
		extend: false, recurse: true,
	}.run(l, 0)
}

func groupComparison(l *node) error {
	valid := func(t *node) bool {
		return operand(t, clsParenthesis, clsFunction, clsIdentifier, clsOperation, clsTypedLiteral) ||
			(t != nil && t.isKeyword() && t.normalized() == "NULL")
	}
	return grouper{
		cls: clsComparison, match: func(t *node) bool { return t.tt == ttComparison },
		validPrev: valid, validNext: valid, post: aroundMatch, extend: false, recurse: true,
	}.run(l, 0)
}

func groupAs(l *node) error {
	return grouper{
		cls:       clsIdentifier,
		match:     func(t *node) bool { return t.isKeyword() && t.normalized() == "AS" },
		validPrev: func(t *node) bool { return t.normalized() == "NULL" || !t.isKeyword() },
		validNext: func(t *node) bool { return t != nil && !t.typeIs(ttDML, ttDDL, ttCTE) },
		post:      aroundMatch, extend: true, recurse: true,
	}.run(l, 0)
}

func groupAssignment(l *node) error {
	valid := func(t *node) bool { return t != nil && t.tt != ttKeyword }
	return grouper{
		cls: clsAssignment, match: func(t *node) bool { return t.match(ttAssignment, ":=") },
		validPrev: valid, validNext: valid,
		post: func(l *node, pidx, _, nidx int) (int, int) {
			if sidx, _ := tokenNextBy(l, nidx, func(t *node) bool { return t.match(ttPunctuation, ";") }); sidx > 0 {
				nidx = sidx
			}
			return pidx, nidx
		},
		extend: true, recurse: true,
	}.run(l, 0)
}

func groupIdentifierList(l *node) error {
	valid := func(t *node) bool {
		return t.is(clsFunction, clsCase, clsIdentifier, clsComparison, clsIdentifierList, clsOperation) ||
			t.match(ttKeyword, "null", "role") ||
			t.typeIs(ttNumber, ttInteger, ttFloat, ttString, ttSingle, ttSymbol, ttName, ttPlaceholder,
				ttKeyword, ttComment, ttWildcard)
	}
	return grouper{
		cls: clsIdentifierList, match: func(t *node) bool { return t.match(ttPunctuation, ",") },
		validPrev: valid, validNext: valid, post: aroundMatch, extend: true, recurse: true,
	}.run(l, 0)
}
