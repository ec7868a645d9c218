// Package search turns MLflow search requests into SQL: it parses filter
// strings, order_by clauses and page tokens exactly as MLflow 3.18 does
// (same accepted inputs, same meaning, same error messages) and builds one
// SELECT per page for search_runs and search_experiments that returns the
// rows MLflow's SQL store returns, in the same order, on SQLite and on
// PostgreSQL. It does no I/O.
//
// MLflow parses filters with the Python library sqlparse and inspects the
// token tree it builds; lexer.go, split.go, tree.go and group.go reproduce
// that tree (checked against sqlparse itself, testdata/sqlparse_trees.json),
// so that odd inputs are accepted or rejected as MLflow does. On top of it,
// filter.go holds the grammar shared by every MLflow search (an AND-only
// list of comparisons) and the Clause AST; runs_filter.go and
// experiments_filter.go apply the rules of each search. The expected answers
// in testdata were produced by running MLflow itself (see the gen_*.py
// scripts there).
package search
