package search

import (
	"fmt"
	"strings"
)

// DialectSQLite and DialectPostgres name the SQL dialects of RunsQuery and
// ExperimentsQuery. Placeholders are "?" in both; the store rebinds them
// for PostgreSQL. SQLite connections must enable case_sensitive_like, as
// MLflow does, for LIKE to be case-sensitive.
const (
	DialectSQLite   = "sqlite"
	DialectPostgres = "postgres"
)

func checkDialect(d string) error {
	if d != DialectSQLite && d != DialectPostgres {
		return fmt.Errorf("search: unknown SQL dialect %q", d)
	}
	return nil
}

// sqlBuilder accumulates SQL text and its arguments in text order.
type sqlBuilder struct {
	dialect string
	b       strings.Builder
	args    []any
}

func (s *sqlBuilder) sql(parts ...string) {
	for _, p := range parts {
		s.b.WriteString(p)
	}
}

// arg writes a placeholder for v.
func (s *sqlBuilder) arg(v any) {
	s.b.WriteString("?")
	s.args = append(s.args, v)
}

// list writes "(?, ?, ...)".
func (s *sqlBuilder) list(vs []any) {
	s.sql("(")
	for i, v := range vs {
		if i > 0 {
			s.sql(", ")
		}
		s.arg(v)
	}
	s.sql(")")
}

// limitOffset writes the paging clause; limit <= 0 means no limit.
func (s *sqlBuilder) limitOffset(limit, offset int) {
	offset = max(offset, 0)
	switch {
	case limit > 0:
		s.sql(" LIMIT ")
		s.arg(limit)
	case s.dialect == DialectSQLite:
		s.sql(" LIMIT -1") // SQLite needs a LIMIT before OFFSET
	}
	s.sql(" OFFSET ")
	s.arg(offset)
}

// compare writes "col <op> value" with MLflow's semantics for each
// comparator (reference §3.9): = and != and LIKE are native (SQLite runs
// with case_sensitive_like on), ILIKE is lower() LIKE lower() on SQLite.
// intCol marks integer columns: on PostgreSQL a float operand is cast so
// that the comparison stays numeric.
func (s *sqlBuilder) compare(col, op string, v Value, intCol bool) {
	switch op {
	case "ILIKE":
		if s.dialect == DialectPostgres {
			s.sql(col, " ILIKE ")
			s.arg(v.Str)
		} else {
			s.sql("lower(", col, ") LIKE lower(")
			s.arg(v.Str)
			s.sql(")")
		}
	case "IN", "NOT IN":
		vs := make([]any, len(v.List))
		for i, x := range v.List {
			vs[i] = x
		}
		s.sql(col, " ", op, " ")
		s.list(vs)
	default: // = != < <= > >= LIKE
		s.sql(col, " ", op, " ")
		s.value(v, intCol)
	}
}

// value writes one operand.
func (s *sqlBuilder) value(v Value, intCol bool) {
	switch v.Kind {
	case IntValue:
		s.arg(v.Int)
	case FloatValue:
		if intCol && s.dialect == DialectPostgres {
			s.sql("CAST(")
			s.arg(v.Float)
			s.sql(" AS DOUBLE PRECISION)")
			return
		}
		s.arg(v.Float)
	default:
		s.arg(v.Str)
	}
}

// ids writes "(?, ?, ...)" for experiment ids. Experiment ids are INTEGER
// columns; on PostgreSQL each argument is cast to BIGINT so that an id
// beyond the int4 range simply matches nothing (as in MLflow) instead of
// failing to bind.
func (s *sqlBuilder) ids(ids []int64) {
	s.sql("(")
	for i, id := range ids {
		if i > 0 {
			s.sql(", ")
		}
		s.id(id)
	}
	s.sql(")")
}

// id writes one experiment id argument (see ids).
func (s *sqlBuilder) id(id int64) {
	if s.dialect == DialectPostgres {
		s.sql("CAST(")
		s.arg(id)
		s.sql(" AS BIGINT)")
		return
	}
	s.arg(id)
}

// stagesOrActive returns the lifecycle stages to select, active only when
// none are given (MLflow's default view type).
func stagesOrActive(stages []string) []any {
	if len(stages) == 0 {
		return []any{"active"}
	}
	out := make([]any, len(stages))
	for i, s := range stages {
		out[i] = s
	}
	return out
}
