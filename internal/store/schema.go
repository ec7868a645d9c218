package store

import (
	"context"
	"database/sql"
	_ "embed"
	"errors"
	"fmt"
	"strings"
)

// The DDL of MLflow's schema at the alembic head of the pinned release,
// dumped from databases that `mlflow db upgrade` created
// (scripts/dump-schema.sh regenerates them).
var (
	//go:embed schema/sqlite.sql
	sqliteSchema string
	//go:embed schema/postgres.sql
	postgresSchema string
	//go:embed schema/head.txt
	headFile string
)

// SchemaHead is the alembic revision this server reads and writes.
var SchemaHead = strings.TrimSpace(headFile)

// extraIndexes are indexes for our own queries. MLflow tolerates extra
// indexes; columns are never changed.
var extraIndexes = []string{
	`CREATE INDEX IF NOT EXISTS msh_runs_experiment_stage_start ON runs (experiment_id, lifecycle_stage, start_time)`,
	`CREATE INDEX IF NOT EXISTS msh_latest_metrics_key_value ON latest_metrics (key, value)`,
	`CREATE INDEX IF NOT EXISTS msh_inputs_destination ON inputs (destination_id, destination_type)`,
}

// ensureSchema initialises an empty database to the pinned schema, accepts
// one already at SchemaHead, and refuses anything else with a message that
// tells the operator what to do.
func (s *Store) ensureSchema(ctx context.Context) error {
	has, err := s.tableExists(ctx, "alembic_version")
	if err != nil {
		return fmt.Errorf("inspect database: %w", err)
	}
	if !has {
		other, err := s.tableExists(ctx, "experiments")
		if err != nil {
			return fmt.Errorf("inspect database: %w", err)
		}
		if other {
			return errors.New("the database has MLflow tables but no alembic_version table; " +
				"run 'mlflow db upgrade <database_uri>' with MLflow to bring it to a known schema first")
		}
		if err := s.createSchema(ctx); err != nil {
			return fmt.Errorf("initialise database schema: %w", err)
		}
	} else {
		var found string
		err := s.write.QueryRowContext(ctx, "SELECT version_num FROM alembic_version").Scan(&found)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("read alembic_version: %w", err)
		}
		if found != SchemaHead {
			return fmt.Errorf("the database schema is at revision %q but this server expects %q (MLflow %s). "+
				"If the database is older, take a backup and run 'mlflow db upgrade <database_uri>' with MLflow %s; "+
				"if it is newer, upgrade mlflow-sharinghub to a release that supports it",
				found, SchemaHead, MLflowVersion, MLflowVersion)
		}
	}
	for _, q := range extraIndexes {
		if _, err := s.write.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("create index: %w", err)
		}
	}
	return s.ensureDefaultExperiment(ctx)
}

// MLflowVersion is the MLflow release whose schema and API this server follows.
const MLflowVersion = "3.18.0"

func (s *Store) tableExists(ctx context.Context, name string) (bool, error) {
	var q string
	if s.dialect == Postgres {
		q = `SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = $1`
	} else {
		q = `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?`
	}
	var n int
	if err := s.write.QueryRowContext(ctx, q, name).Scan(&n); err != nil {
		return false, err
	}
	return n > 0, nil
}

func (s *Store) createSchema(ctx context.Context) error {
	ddl := sqliteSchema
	if s.dialect == Postgres {
		ddl = postgresSchema
	}
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if s.dialect == Postgres {
		// The whole script in one simple-protocol call.
		if _, err := tx.ExecContext(ctx, ddl); err != nil {
			return err
		}
	} else {
		for _, stmt := range splitSQL(ddl) {
			if _, err := tx.ExecContext(ctx, stmt); err != nil {
				return fmt.Errorf("%w in %.80s", err, stmt)
			}
		}
	}
	return tx.Commit()
}

// splitSQL splits a SQLite dump into statements. Statements end with ";" at
// the end of a line; trigger bodies (BEGIN ... END;) are kept whole.
func splitSQL(script string) []string {
	var out []string
	var cur strings.Builder
	inTrigger := false
	for _, line := range strings.Split(script, "\n") {
		trimmed := strings.TrimSpace(line)
		if cur.Len() == 0 && (trimmed == "" || strings.HasPrefix(trimmed, "--")) {
			continue
		}
		cur.WriteString(line)
		cur.WriteByte('\n')
		upper := strings.ToUpper(trimmed)
		if strings.HasPrefix(upper, "CREATE TRIGGER") {
			inTrigger = true
		}
		if !strings.HasSuffix(trimmed, ";") {
			continue
		}
		if inTrigger && !strings.HasPrefix(upper, "END") {
			continue
		}
		inTrigger = false
		out = append(out, cur.String())
		cur.Reset()
	}
	if strings.TrimSpace(cur.String()) != "" {
		out = append(out, cur.String())
	}
	return out
}

// ensureDefaultExperiment inserts experiment 0 "Default" when it is missing,
// as MLflow's server does at start-up.
func (s *Store) ensureDefaultExperiment(ctx context.Context) error {
	var n int
	if err := s.write.QueryRowContext(ctx, s.rebind(`SELECT count(*) FROM experiments WHERE experiment_id = 0`)).Scan(&n); err != nil {
		return fmt.Errorf("look up default experiment: %w", err)
	}
	if n > 0 {
		return nil
	}
	now := s.nowMillis()
	_, err := s.write.ExecContext(ctx, s.rebind(`INSERT INTO experiments
		(experiment_id, name, artifact_location, lifecycle_stage, creation_time, last_update_time, workspace)
		VALUES (0, 'Default', ?, 'active', ?, ?, 'default')`),
		appendURIPath(s.DefaultArtifactRoot, "0"), now, now)
	if err != nil && !isUnique(err) {
		return fmt.Errorf("create default experiment: %w", err)
	}
	return nil
}

// appendURIPath joins path segments onto a URI the way MLflow's
// append_to_uri_path does: exactly one "/" between parts, and a scheme-only
// root such as "mlflow-artifacts:/" gives "mlflow-artifacts:/0".
func appendURIPath(root string, parts ...string) string {
	out := root
	for _, p := range parts {
		p = strings.TrimLeft(p, "/")
		if p == "" {
			continue
		}
		if strings.HasSuffix(out, "/") {
			out += p
		} else {
			out += "/" + p
		}
	}
	return out
}
