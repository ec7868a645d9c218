package store

import (
	"context"
	"strings"
	"testing"
)

func TestSchemaInitialisesEmptyDatabase(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			uri := b.uri(t)
			s := mustOpen(t, uri)
			var head string
			if err := s.read.QueryRow("SELECT version_num FROM alembic_version").Scan(&head); err != nil {
				t.Fatal(err)
			}
			if head != SchemaHead {
				t.Errorf("alembic_version = %q, want %q", head, SchemaHead)
			}
			e, err := s.GetExperiment(context.Background(), all, 0)
			if err != nil {
				t.Fatal(err)
			}
			if e.Name != "Default" || e.ArtifactLocation != "mlflow-artifacts:/0" || e.LifecycleStage != "active" {
				t.Errorf("default experiment = %+v", e)
			}
			// The MLflow tables this server writes all exist.
			for _, tbl := range []string{"experiments", "experiment_tags", "runs", "metrics", "latest_metrics",
				"params", "tags", "datasets", "inputs", "input_tags", "logged_models", "registered_models",
				"model_versions", "workspaces", "trace_info"} {
				ok, err := s.tableExists(context.Background(), tbl)
				if err != nil || !ok {
					t.Errorf("table %s missing (err %v)", tbl, err)
				}
			}
			s.Close()
			// Reopening a database at the head keeps it as is.
			s2 := mustOpen(t, uri)
			var n int
			if err := s2.read.QueryRow("SELECT count(*) FROM experiments").Scan(&n); err != nil || n != 1 {
				t.Errorf("experiments after reopen = %d (err %v), want 1", n, err)
			}
		})
	}
}

func TestSchemaRefusesOtherRevision(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			uri := b.uri(t)
			s := mustOpen(t, uri)
			if _, err := s.write.Exec("UPDATE alembic_version SET version_num = 'abc123older'"); err != nil {
				t.Fatal(err)
			}
			s.Close()
			_, err := Open(context.Background(), uri, Options{})
			if err == nil {
				t.Fatal("Open accepted a database at another revision")
			}
			for _, want := range []string{"abc123older", SchemaHead, "mlflow db upgrade"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not mention %q", err, want)
				}
			}
		})
	}
}

func TestSplitSQLKeepsTriggerWhole(t *testing.T) {
	stmts := splitSQL(sqliteSchema)
	var trigger string
	for _, s := range stmts {
		if strings.Contains(s, "CREATE TRIGGER") {
			trigger = s
		}
	}
	if !strings.HasSuffix(strings.TrimSpace(trigger), "END;") {
		t.Fatalf("trigger statement split badly: %q", trigger)
	}
}

func TestAppendURIPath(t *testing.T) {
	for _, c := range []struct{ root, want string }{
		{"mlflow-artifacts:/", "mlflow-artifacts:/7/r/artifacts"},
		{"mlflow-artifacts:", "mlflow-artifacts:/7/r/artifacts"},
		{"s3://b/p/", "s3://b/p/7/r/artifacts"},
		{"/data/mlruns", "/data/mlruns/7/r/artifacts"},
	} {
		if got := appendURIPath(c.root, "7", "r", "artifacts"); got != c.want {
			t.Errorf("appendURIPath(%q) = %q, want %q", c.root, got, c.want)
		}
	}
}

func TestRebind(t *testing.T) {
	if got := Rebind("a = ? AND b IN (?, ?)"); got != "a = $1 AND b IN ($2, $3)" {
		t.Errorf("Rebind = %q", got)
	}
}

func TestSQLitePath(t *testing.T) {
	for uri, want := range map[string]string{
		"sqlite:///mlflow.db":       "mlflow.db",
		"sqlite:////abs/mlflow.db":  "/abs/mlflow.db",
		"sqlite:///a/b.db?mode=rwc": "a/b.db",
	} {
		got, err := SQLitePath(uri)
		if err != nil || got != want {
			t.Errorf("SQLitePath(%q) = %q, %v; want %q", uri, got, err, want)
		}
	}
	for _, bad := range []string{"sqlite://", "sqlite:///:memory:", "sqlite://rel.db"} {
		if _, err := SQLitePath(bad); err == nil {
			t.Errorf("SQLitePath(%q) accepted", bad)
		}
	}
}
