package search

import (
	"strings"
	"testing"

	"github.com/csgroup-oss/mlflow-sharinghub-go/internal/mlflow"
	"github.com/google/go-cmp/cmp"
)

const runsSelect = "SELECT runs.run_uuid, runs.experiment_id, runs.name, runs.user_id, runs.status, runs.start_time, " +
	"runs.end_time, runs.artifact_uri, runs.lifecycle_stage FROM runs"

func TestRunsQuerySQL(t *testing.T) {
	tests := []struct {
		name     string
		q        RunsQuery
		sql      string
		args     []any
		postgres string // when the PostgreSQL text differs
	}{
		{
			name: "defaults",
			q:    RunsQuery{ExperimentIDs: []int64{1}, Limit: 11},
			sql: runsSelect + " WHERE runs.experiment_id IN (?) AND runs.lifecycle_stage IN (?)" +
				" ORDER BY runs.start_time DESC, runs.run_uuid LIMIT ? OFFSET ?",
			args: []any{int64(1), "active", 11, 0},
			postgres: runsSelect + " WHERE runs.experiment_id IN (CAST(? AS BIGINT)) AND runs.lifecycle_stage IN (?)" +
				" ORDER BY runs.start_time DESC, runs.run_uuid LIMIT ? OFFSET ?",
		},
		{
			name: "metric filter and order, extra scope",
			q: RunsQuery{ExperimentIDs: []int64{1, 2}, Stages: []string{"active", "deleted"},
				Filter: "metrics.acc != 0.5", OrderBy: []string{"metrics.acc DESC"}, Offset: 20, Limit: 11,
				Extra: "runs.experiment_id IN (SELECT experiment_id FROM scope WHERE project = ?)", ExtraArgs: []any{"p"}},
			sql: runsSelect + " LEFT JOIN latest_metrics AS o1 ON o1.run_uuid = runs.run_uuid AND o1.key = ?" +
				" WHERE runs.experiment_id IN (?, ?) AND runs.lifecycle_stage IN (?, ?)" +
				" AND EXISTS (SELECT 1 FROM latest_metrics AS f1 WHERE f1.run_uuid = runs.run_uuid AND f1.key = ?" +
				" AND (f1.value != ? OR f1.is_nan = true))" +
				" AND (runs.experiment_id IN (SELECT experiment_id FROM scope WHERE project = ?))" +
				" ORDER BY CASE WHEN o1.is_nan = true THEN 1 WHEN o1.value IS NULL THEN 2 ELSE 0 END, o1.value DESC," +
				" runs.start_time DESC, runs.run_uuid LIMIT ? OFFSET ?",
			args: []any{"acc", int64(1), int64(2), "active", "deleted", "acc", 0.5, "p", 11, 20},
		},
		{
			name: "string comparisons",
			q: RunsQuery{ExperimentIDs: []int64{1}, Filter: "params.lr ILIKE 'a%' and run_name LIKE 'r%' and " +
				"tags.t IS NULL and run_id IN ('x', 'y')", OrderBy: []string{"start_time", "tags.t DESC"}},
			sql: runsSelect + " LEFT JOIN tags AS o2 ON o2.run_uuid = runs.run_uuid AND o2.key = ?" +
				" WHERE runs.experiment_id IN (?) AND runs.lifecycle_stage IN (?)" +
				" AND EXISTS (SELECT 1 FROM params AS f1 WHERE f1.run_uuid = runs.run_uuid AND f1.key = ? AND lower(f1.value) LIKE lower(?))" +
				" AND EXISTS (SELECT 1 FROM tags AS f2 WHERE f2.run_uuid = runs.run_uuid AND f2.key = ? AND f2.value LIKE ?)" +
				" AND NOT EXISTS (SELECT 1 FROM tags AS f3 WHERE f3.run_uuid = runs.run_uuid AND f3.key = ?)" +
				" AND runs.run_uuid IN (?, ?)" +
				" ORDER BY CASE WHEN runs.start_time IS NULL THEN 1 ELSE 0 END, runs.start_time," +
				" CASE WHEN o2.value IS NULL THEN 1 ELSE 0 END, o2.value DESC, runs.run_uuid LIMIT -1 OFFSET ?",
			args: []any{"t", int64(1), "active", "lr", "a%", "mlflow.runName", "r%", "t", "x", "y", 0},
			postgres: runsSelect + " LEFT JOIN tags AS o2 ON o2.run_uuid = runs.run_uuid AND o2.key = ?" +
				" WHERE runs.experiment_id IN (CAST(? AS BIGINT)) AND runs.lifecycle_stage IN (?)" +
				" AND EXISTS (SELECT 1 FROM params AS f1 WHERE f1.run_uuid = runs.run_uuid AND f1.key = ? AND f1.value ILIKE ?)" +
				" AND EXISTS (SELECT 1 FROM tags AS f2 WHERE f2.run_uuid = runs.run_uuid AND f2.key = ? AND f2.value LIKE ?)" +
				" AND NOT EXISTS (SELECT 1 FROM tags AS f3 WHERE f3.run_uuid = runs.run_uuid AND f3.key = ?)" +
				" AND runs.run_uuid IN (?, ?)" +
				" ORDER BY CASE WHEN runs.start_time IS NULL THEN 1 ELSE 0 END, runs.start_time," +
				" CASE WHEN o2.value IS NULL THEN 1 ELSE 0 END, o2.value DESC, runs.run_uuid OFFSET ?",
		},
		{
			name: "datasets and numbers",
			q: RunsQuery{ExperimentIDs: []int64{3}, Filter: "datasets.context = 'train' and datasets.name NOT IN ('d') " +
				"and start_time > 1.5 and end_time <= 9", Limit: 2},
			sql: runsSelect + " WHERE runs.experiment_id IN (?) AND runs.lifecycle_stage IN (?)" +
				" AND EXISTS (SELECT 1 FROM inputs AS f1i JOIN datasets AS f1d ON f1d.dataset_uuid = f1i.source_id" +
				" JOIN input_tags AS f1t ON f1t.input_uuid = f1i.input_uuid WHERE f1i.destination_id = runs.run_uuid" +
				" AND f1i.destination_type = 'RUN' AND f1i.source_type = 'DATASET' AND f1t.name = ? AND f1t.value = ?)" +
				" AND EXISTS (SELECT 1 FROM inputs AS f2i JOIN datasets AS f2d ON f2d.dataset_uuid = f2i.source_id" +
				" WHERE f2i.destination_id = runs.run_uuid AND f2i.destination_type = 'RUN' AND f2i.source_type = 'DATASET'" +
				" AND f2d.name NOT IN (?))" +
				" AND runs.start_time > ? AND runs.end_time <= ?" +
				" ORDER BY runs.start_time DESC, runs.run_uuid LIMIT ? OFFSET ?",
			args: []any{int64(3), "active", "mlflow.data.context", "train", "d", 1.5, int64(9), 2, 0},
		},
		{
			name: "no experiments",
			q:    RunsQuery{Limit: 5},
			sql: runsSelect + " WHERE 1 = 0 AND runs.lifecycle_stage IN (?)" +
				" ORDER BY runs.start_time DESC, runs.run_uuid LIMIT ? OFFSET ?",
			args: []any{"active", 5, 0},
		},
	}
	for _, tt := range tests {
		for _, d := range []string{DialectSQLite, DialectPostgres} {
			t.Run(tt.name+"/"+d, func(t *testing.T) {
				q := tt.q
				q.Dialect = d
				got, args, err := q.SQL()
				if err != nil {
					t.Fatal(err)
				}
				want := tt.sql
				if d == DialectPostgres && tt.postgres != "" {
					want = tt.postgres
				}
				if d == DialectPostgres && tt.postgres == "" {
					// Only the casts differ.
					want = strings.ReplaceAll(want, "runs.experiment_id IN (?, ?)", "runs.experiment_id IN (CAST(? AS BIGINT), CAST(? AS BIGINT))")
					want = strings.ReplaceAll(want, "runs.experiment_id IN (?)", "runs.experiment_id IN (CAST(? AS BIGINT))")
					want = strings.ReplaceAll(want, "runs.start_time > ?", "runs.start_time > CAST(? AS DOUBLE PRECISION)")
				}
				if got != want {
					t.Errorf("SQL:\n got %s\nwant %s", got, want)
				}
				if diff := cmp.Diff(tt.args, args); diff != "" {
					t.Errorf("args (-want +got)\n%s", diff)
				}
				if n := strings.Count(got, "?"); n != len(args) {
					t.Errorf("%d placeholders, %d args", n, len(args))
				}
			})
		}
	}
}

func TestExperimentsQuerySQL(t *testing.T) {
	const sel = "SELECT experiments.experiment_id, experiments.name, experiments.artifact_location, " +
		"experiments.lifecycle_stage, experiments.creation_time, experiments.last_update_time FROM experiments " +
		"WHERE experiments.workspace = 'default' AND experiments.lifecycle_stage IN (?)"
	tests := []struct {
		q    ExperimentsQuery
		sql  string
		args []any
	}{
		{ExperimentsQuery{Dialect: DialectSQLite, Limit: 101},
			sel + " ORDER BY experiments.creation_time DESC, experiments.experiment_id ASC LIMIT ? OFFSET ?",
			[]any{"active", 101, 0}},
		{ExperimentsQuery{Dialect: DialectSQLite, OrderBy: []string{"name"}, Offset: 3, Limit: 2},
			sel + " ORDER BY experiments.name ASC, experiments.experiment_id DESC LIMIT ? OFFSET ?",
			[]any{"active", 2, 3}},
		{ExperimentsQuery{Dialect: DialectSQLite, Filter: "name ILIKE 'a%' and tags.k != 'v' and tags.x is not null" +
			" and experiment_id = '4' and creation_time >= 5", OrderBy: []string{"experiment_id DESC", "name"}, Limit: 2},
			sel + " AND lower(experiments.name) LIKE lower(?)" +
				" AND EXISTS (SELECT 1 FROM experiment_tags AS f2 WHERE f2.experiment_id = experiments.experiment_id AND f2.key = ? AND f2.value != ?)" +
				" AND EXISTS (SELECT 1 FROM experiment_tags AS f3 WHERE f3.experiment_id = experiments.experiment_id AND f3.key = ?)" +
				" AND experiments.experiment_id = ? AND experiments.creation_time >= ?" +
				" ORDER BY experiments.experiment_id DESC, experiments.name ASC LIMIT ? OFFSET ?",
			[]any{"active", "a%", "k", "v", "x", int64(4), int64(5), 2, 0}},
		{ExperimentsQuery{Dialect: DialectPostgres, Stages: []string{"deleted"}, Filter: "name ILIKE 'a%' and experiment_id IN ('1', '2')",
			Extra: "experiments.experiment_id > ?", ExtraArgs: []any{0}, Limit: 2},
			sel + " AND experiments.name ILIKE ? AND experiments.experiment_id IN (CAST(? AS BIGINT), CAST(? AS BIGINT))" +
				" AND (experiments.experiment_id > ?)" +
				" ORDER BY experiments.creation_time DESC, experiments.experiment_id ASC LIMIT ? OFFSET ?",
			[]any{"deleted", "a%", int64(1), int64(2), 0, 2, 0}},
	}
	for _, tt := range tests {
		got, args, err := tt.q.SQL()
		if err != nil {
			t.Fatal(err)
		}
		if got != tt.sql {
			t.Errorf("SQL:\n got %s\nwant %s", got, tt.sql)
		}
		if diff := cmp.Diff(tt.args, args); diff != "" {
			t.Errorf("args (-want +got)\n%s", diff)
		}
	}
}

// TestQueryErrors checks which error MLflow reports first when several
// parts of a request are wrong.
func TestQueryErrors(t *testing.T) {
	_, _, err := RunsQuery{Dialect: "mysql"}.SQL()
	if err == nil || mlflow.CodeOf(err) != mlflow.InternalError {
		t.Errorf("unknown dialect: %v", err)
	}
	// Syntax errors in the filter come first, then order_by, then
	// comparators.
	_, _, err = RunsQuery{Dialect: DialectSQLite, Filter: "bogus = 'x'", OrderBy: []string{"nope"}}.SQL()
	wantErr(t, err, mlflow.InvalidParameterValue, "Invalid attribute key 'bogus' specified. Valid keys are '{'Created', 'Run Name', 'Run name', 'artifact_uri', 'created', 'end_time', 'run name', 'run_id', 'run_name', 'start_time', 'status', 'user_id'}'")
	_, _, err = RunsQuery{Dialect: DialectSQLite, Filter: "metrics.a ~ 1", OrderBy: []string{"metrics.b foo"}}.SQL()
	wantErr(t, err, mlflow.InvalidParameterValue, "Invalid ordering key in order_by clause 'metrics.b foo'.")
	_, _, err = RunsQuery{Dialect: DialectSQLite, Filter: "metrics.a ~ 1"}.SQL()
	wantErr(t, err, mlflow.InvalidParameterValue, "Invalid comparator '~' not one of '{'!=', '<', '<=', '=', '>', '>='}")
	// For experiments, comparators are checked before order_by.
	_, _, err = ExperimentsQuery{Dialect: DialectSQLite, Filter: "tags.t < 'a'", OrderBy: []string{"nope"}}.SQL()
	wantErr(t, err, mlflow.InvalidParameterValue, "Invalid comparator for tag: <")
}
