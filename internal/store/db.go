// Package store is the SQL store: MLflow's own schema on SQLite or
// PostgreSQL, hand-written SQL in one file per entity.
//
// Every statement is written with "?" placeholders; the dialect rebinds them
// for PostgreSQL. Writes go through WithTx; reads use the read pool.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/csgroup-oss/mlflow-sharinghub-go/internal/mlflow"
)

// Dialect names.
const (
	SQLite   = "sqlite"
	Postgres = "postgres"
)

// Store is the SQL store. It is safe for concurrent use.
type Store struct {
	dialect string
	write   *sql.DB // SQLite: one connection, the only writer
	read    *sql.DB // SQLite: a pool of readers; PostgreSQL: same as write
	now     func() time.Time
	// DefaultArtifactRoot is the root under which experiment artifact
	// locations are made (mlflow-artifacts:/ by default).
	DefaultArtifactRoot string
}

// Options configure Open.
type Options struct {
	// DefaultArtifactRoot, e.g. "mlflow-artifacts:/".
	DefaultArtifactRoot string
	// Now replaces the clock (tests).
	Now func() time.Time
}

// Open connects to uri (sqlite:///path, sqlite:////abs/path,
// postgresql://user:pass@host:port/db), initialises an empty database to
// MLflow's schema, and refuses a database at another schema revision.
func Open(ctx context.Context, uri string, opts Options) (*Store, error) {
	s := &Store{now: opts.Now, DefaultArtifactRoot: opts.DefaultArtifactRoot}
	if s.now == nil {
		s.now = time.Now
	}
	if s.DefaultArtifactRoot == "" {
		s.DefaultArtifactRoot = "mlflow-artifacts:/"
	}
	var err error
	switch {
	case strings.HasPrefix(uri, "sqlite://"):
		err = s.openSQLite(uri)
	case strings.HasPrefix(uri, "postgresql://"), strings.HasPrefix(uri, "postgres://"),
		strings.HasPrefix(uri, "postgresql+psycopg2://"), strings.HasPrefix(uri, "postgresql+psycopg://"):
		err = s.openPostgres(uri)
	default:
		return nil, fmt.Errorf("unsupported backend store URI %q: use sqlite:///<file> or postgresql://user:pass@host:port/db", redact(uri))
	}
	if err != nil {
		return nil, err
	}
	if err := s.ensureSchema(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// Dialect returns SQLite or Postgres.
func (s *Store) Dialect() string { return s.dialect }

// Close closes the connection pools.
func (s *Store) Close() error {
	err := s.write.Close()
	if s.read != s.write {
		err = errors.Join(err, s.read.Close())
	}
	return err
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error { return s.read.PingContext(ctx) }

// SQLitePath returns the file path of a sqlite:// URI as SQLAlchemy reads
// it: sqlite:///rel.db is relative, sqlite:////abs.db absolute.
func SQLitePath(uri string) (string, error) {
	rest := strings.TrimPrefix(uri, "sqlite://")
	if rest == "" || rest == "/" {
		return "", fmt.Errorf("sqlite URI %q names no file; in-memory databases are not supported", uri)
	}
	if !strings.HasPrefix(rest, "/") {
		return "", fmt.Errorf("sqlite URI %q must be sqlite:///<file>", uri)
	}
	p := rest[1:]
	if i := strings.IndexByte(p, '?'); i >= 0 {
		p = p[:i]
	}
	if p == ":memory:" || p == "" {
		return "", fmt.Errorf("sqlite URI %q: in-memory databases are not supported", uri)
	}
	return p, nil
}

func (s *Store) openSQLite(uri string) error {
	path, err := SQLitePath(uri)
	if err != nil {
		return err
	}
	if dir := filepath.Dir(path); dir != "" {
		if _, err := os.Stat(dir); err != nil {
			return fmt.Errorf("sqlite database folder %s: %w", dir, err)
		}
	}
	pragmas := "_pragma=foreign_keys(1)&_pragma=busy_timeout(20000)&_pragma=journal_mode(WAL)" +
		"&_pragma=synchronous(NORMAL)&_pragma=case_sensitive_like(1)"
	dsn := "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + pragmas
	w, err := sql.Open("sqlite", dsn+"&_txlock=immediate")
	if err != nil {
		return err
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxIdleTime(0)
	w.SetConnMaxLifetime(0)
	r, err := sql.Open("sqlite", dsn+"&mode=ro")
	if err != nil {
		w.Close()
		return err
	}
	r.SetMaxOpenConns(8)
	r.SetMaxIdleConns(8)
	s.dialect, s.write, s.read = SQLite, w, r
	return nil
}

func (s *Store) openPostgres(uri string) error {
	// SQLAlchemy-style driver suffixes are accepted for MLflow compatibility.
	for _, p := range []string{"postgresql+psycopg2://", "postgresql+psycopg://"} {
		if strings.HasPrefix(uri, p) {
			uri = "postgresql://" + strings.TrimPrefix(uri, p)
		}
	}
	db, err := sql.Open("pgx", uri)
	if err != nil {
		return fmt.Errorf("open %s: %w", redact(uri), err)
	}
	db.SetMaxOpenConns(16)
	db.SetMaxIdleConns(16)
	db.SetConnMaxIdleTime(5 * time.Minute)
	s.dialect, s.write, s.read = Postgres, db, db
	return nil
}

// redact hides the password of a database URI for messages and logs.
func redact(uri string) string {
	u, err := url.Parse(uri)
	if err != nil || u.User == nil {
		return uri
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}

// Redact hides the password of a database URI.
func Redact(uri string) string { return redact(uri) }

// rebind turns "?" placeholders into "$1, $2, ..." for PostgreSQL. Our SQL
// never has a "?" inside a literal: every value is a parameter.
func (s *Store) rebind(q string) string {
	if s.dialect != Postgres {
		return q
	}
	return Rebind(q)
}

// Rebind turns "?" placeholders into PostgreSQL's numbered ones.
func Rebind(q string) string {
	var b strings.Builder
	b.Grow(len(q) + 16)
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(fmt.Sprint(n))
			continue
		}
		b.WriteByte(q[i])
	}
	return b.String()
}

// querier is what both *sql.DB and *sql.Tx offer.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Tx is a write transaction. Its helpers rebind placeholders.
type Tx struct {
	s  *Store
	tx *sql.Tx
}

func (t *Tx) exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return t.tx.ExecContext(ctx, t.s.rebind(q), args...)
}

func (t *Tx) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return t.tx.QueryContext(ctx, t.s.rebind(q), args...)
}

func (t *Tx) queryRow(ctx context.Context, q string, args ...any) *sql.Row {
	return t.tx.QueryRowContext(ctx, t.s.rebind(q), args...)
}

// WithTx runs fn in one write transaction: committed when fn returns nil,
// rolled back otherwise. On SQLite the transaction starts IMMEDIATE, so
// writers queue instead of failing.
func (s *Store) WithTx(ctx context.Context, fn func(tx *Tx) error) error {
	sqltx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return mapErr(fmt.Errorf("begin: %w", err))
	}
	tx := &Tx{s: s, tx: sqltx}
	if err := fn(tx); err != nil {
		_ = sqltx.Rollback()
		return mapErr(err)
	}
	if err := sqltx.Commit(); err != nil {
		return mapErr(fmt.Errorf("commit: %w", err))
	}
	return nil
}

func (s *Store) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	rows, err := s.read.QueryContext(ctx, s.rebind(q), args...)
	return rows, mapErr(err)
}

func (s *Store) queryRow(ctx context.Context, q string, args ...any) *sql.Row {
	return s.read.QueryRowContext(ctx, s.rebind(q), args...)
}

// errUnique marks a unique or primary-key violation from either driver.
var errUnique = errors.New("unique constraint violated")

// mapErr is the one place driver errors become store errors: MLflow errors
// pass through, unique violations are wrapped with errUnique, connection
// trouble becomes TEMPORARILY_UNAVAILABLE, and the rest stays untyped
// (INTERNAL_ERROR at the edge).
func mapErr(err error) error {
	if err == nil {
		return nil
	}
	var me *mlflow.Error
	if errors.As(err, &me) {
		return err
	}
	if isUnique(err) {
		return fmt.Errorf("%w: %w", errUnique, err)
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
			return &mlflow.Error{Code: mlflow.TemporarilyUnavailable, Message: "The database is busy; try again."}
		}
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case pe.Code == "22001":
			return mlflow.InvalidParam("A value is longer than its database column allows: %s", pe.Message)
		case pe.Code == "23514", pe.Code == "23503", pe.Code == "22P02", pe.Code == "22003":
			return mlflow.InvalidParam("The database refused the value: %s", pe.Message)
		case strings.HasPrefix(pe.Code, "08"), pe.Code == "57P01", pe.Code == "40001", pe.Code == "40P01", pe.Code == "53300":
			return &mlflow.Error{Code: mlflow.TemporarilyUnavailable, Message: "The database is unavailable or busy; try again."}
		}
	}
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) {
		return &mlflow.Error{Code: mlflow.TemporarilyUnavailable, Message: "The database is unavailable; try again."}
	}
	return err
}

func isUnique(err error) bool {
	var se *sqlite.Error
	if errors.As(err, &se) {
		c := se.Code()
		return c == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY || c == sqlite3.SQLITE_CONSTRAINT_UNIQUE
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "23505"
	}
	return false
}

// nowMillis is the store clock in epoch milliseconds.
func (s *Store) nowMillis() int64 { return s.now().UnixMilli() }

// placeholders returns "?, ?, ?" for n values.
func placeholders(n int) string {
	if n <= 0 {
		return ""
	}
	return strings.Repeat("?, ", n-1) + "?"
}
