package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/csgroup-oss/mlflow-sharinghub-go/internal/tenancy"
)

// pgEnv names the PostgreSQL DSN the suite also runs against.
const pgEnv = "MLFLOW_SHARINGHUB_TEST_PG"

// backend is one database the store suite runs on.
type backend struct {
	name string
	// uri returns the URI of a fresh, empty database for one test.
	uri func(t *testing.T) string
}

// backends returns SQLite always and PostgreSQL when MLFLOW_SHARINGHUB_TEST_PG
// is set. In CI (CI=true) the PostgreSQL DSN is mandatory: the suite fails
// rather than skip.
func backends(t *testing.T) []backend {
	t.Helper()
	out := []backend{{name: "sqlite", uri: func(t *testing.T) string {
		return "sqlite:///" + filepath.Join(t.TempDir(), "mlflow.db")
	}}}
	dsn := os.Getenv(pgEnv)
	if dsn == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not set: CI must run the store suite on PostgreSQL", pgEnv)
		}
		return out
	}
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatalf("open %s: %v", pgEnv, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := admin.PingContext(ctx); err != nil {
		t.Fatalf("cannot reach PostgreSQL at %s=%s: %v", pgEnv, Redact(dsn), err)
	}
	t.Cleanup(func() { admin.Close() })
	out = append(out, backend{name: "postgres", uri: func(t *testing.T) string {
		return freshPGDatabase(t, admin, dsn)
	}})
	return out
}

// freshPGDatabase creates an empty database for one test and drops it after.
func freshPGDatabase(t *testing.T, admin *sql.DB, dsn string) string {
	t.Helper()
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "msh_test_" + hex.EncodeToString(b[:])
	if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatalf("create database: %v", err)
	}
	t.Cleanup(func() {
		_, _ = admin.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
	})
	return replaceDBName(dsn, name)
}

// replaceDBName swaps the database of a postgresql:// DSN.
func replaceDBName(dsn, name string) string {
	rest := dsn
	query := ""
	if i := strings.IndexByte(rest, '?'); i >= 0 {
		rest, query = rest[:i], rest[i:]
	}
	scheme := strings.Index(rest, "://") + 3
	slash := strings.IndexByte(rest[scheme:], '/')
	if slash < 0 {
		return rest + "/" + name + query
	}
	return rest[:scheme+slash] + "/" + name + query
}

// forEachBackend runs fn against a fresh store on every backend.
func forEachBackend(t *testing.T, fn func(t *testing.T, s *Store)) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			s := mustOpen(t, b.uri(t))
			fn(t, s)
		})
	}
}

func mustOpen(t testing.TB, uri string) *Store {
	t.Helper()
	s, err := Open(context.Background(), uri, Options{})
	if err != nil {
		t.Fatalf("open %s: %v", Redact(uri), err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// all is the scope without tenancy, for tests of MLflow's own semantics.
var all = tenancy.Unscoped
