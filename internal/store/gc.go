package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/csgroup-oss/mlflow-sharinghub-go/internal/mlflow"
)

// Garbage collection (mlflow-sharinghub gc): the permanent deletion of
// soft-deleted runs, experiments and logged models, like `mlflow gc`. Rows
// go in bulk SQL, children before parents (foreign-key order); the big
// per-run tables are deleted in chunks of gcChunk rows, each chunk its own
// transaction, so neither the process nor the database transaction grows
// with a run's metric history. A run's row goes last: an interrupted gc
// leaves the run deleted-but-present, and the next gc finishes it.

// gcChunk is how many rows one chunked DELETE removes.
const gcChunk = 20000

// gcPage is how many ids are read at a time when listing what to delete.
const gcPage = 500

// GCOptions says what GC deletes. Without ids, every deleted resource
// whose deletion is older than OlderThanMillis; with ids, exactly those,
// which must be deleted (and old enough when OlderThanMillis > 0).
type GCOptions struct {
	// OlderThanMillis: only resources deleted (runs: deleted_time;
	// experiments: last_update_time; logged models:
	// last_updated_timestamp_ms) at least this long ago. 0: any age.
	OlderThanMillis int64
	RunIDs          []string
	ExperimentIDs   []int64
	LoggedModelIDs  []string
	// DeleteArtifacts removes the artifacts under an artifact URI (a run's
	// artifact_uri, a logged model's or an experiment's
	// artifact_location) before its rows go; nil keeps artifacts.
	DeleteArtifacts func(ctx context.Context, uri string) error
	// Progress, when set, is told of each resource deleted ("run",
	// "logged model", "experiment" and its id).
	Progress func(kind, id string)
}

// GCResult counts what GC deleted.
type GCResult struct {
	Runs, Experiments, LoggedModels int
}

// GC permanently deletes soft-deleted runs (with their metrics, latest
// metrics, params, tags, input and output edges, logged-model metrics and
// artifacts), logged models (tags, params, metrics, edges, artifacts) and
// experiments (all their runs first, then tags, datasets, logged models,
// artifacts), as `mlflow gc` does: with explicit ids and no
// ExperimentIDs, every deleted experiment old enough goes too.
// Errors: RESOURCE_DOES_NOT_EXIST (an explicit id), INVALID_PARAMETER_VALUE
// (an explicit id that is not deleted, or not old enough).
func (s *Store) GC(ctx context.Context, o GCOptions) (GCResult, error) {
	var res GCResult
	o.RunIDs, o.LoggedModelIDs, o.ExperimentIDs = uniq(o.RunIDs), uniq(o.LoggedModelIDs), uniq(o.ExperimentIDs)
	threshold := s.nowMillis() - o.OlderThanMillis
	progress := func(kind, id string) {
		if o.Progress != nil {
			o.Progress(kind, id)
		}
	}

	// Check every explicit id before deleting anything.
	if err := s.gcCheckRuns(ctx, o, threshold); err != nil {
		return res, err
	}
	if err := s.gcCheckModels(ctx, o, threshold); err != nil {
		return res, err
	}
	if err := s.gcCheckExperiments(ctx, o, threshold); err != nil {
		return res, err
	}

	// Runs.
	runs := o.RunIDs
	if runs == nil {
		var err error
		runs, err = s.gcIDs(ctx, `SELECT run_uuid FROM runs WHERE lifecycle_stage = 'deleted'
			AND deleted_time IS NOT NULL AND deleted_time <= ?`, threshold)
		if err != nil {
			return res, err
		}
	}
	for _, id := range runs {
		if err := s.gcRun(ctx, id, o.DeleteArtifacts); err != nil {
			return res, err
		}
		res.Runs++
		progress("run", id)
	}

	// Logged models.
	models := o.LoggedModelIDs
	if models == nil {
		var err error
		models, err = s.gcIDs(ctx, `SELECT model_id FROM logged_models WHERE lifecycle_stage = 'deleted'
			AND last_updated_timestamp_ms <= ?`, threshold)
		if err != nil {
			return res, err
		}
	}
	for _, id := range models {
		if err := s.gcLoggedModel(ctx, id, o.DeleteArtifacts); err != nil {
			return res, err
		}
		res.LoggedModels++
		progress("logged model", id)
	}

	// Experiments.
	exps := o.ExperimentIDs
	if exps == nil {
		q := `SELECT experiment_id FROM experiments WHERE lifecycle_stage = 'deleted'`
		args := []any{}
		if o.OlderThanMillis > 0 {
			q += ` AND last_update_time < ?`
			args = append(args, threshold)
		}
		ids, err := s.gcIDs(ctx, q, args...)
		if err != nil {
			return res, err
		}
		for _, id := range ids {
			n, err := strconv.ParseInt(id, 10, 64)
			if err != nil {
				return res, fmt.Errorf("gc: experiment id %q: %w", id, err)
			}
			exps = append(exps, n)
		}
	}
	for _, id := range exps {
		n, err := s.gcExperiment(ctx, id, o.DeleteArtifacts, progress)
		res.Runs += n
		if err != nil {
			return res, err
		}
		res.Experiments++
		progress("experiment", strconv.FormatInt(id, 10))
	}
	return res, nil
}

// gcIDs reads one column of ids. The ids of deleted resources are short
// strings; a few million of them fit in memory, their rows do not.
func (s *Store) gcIDs(ctx context.Context, q string, args ...any) ([]string, error) {
	rows, err := s.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("gc: list: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("gc: list: %w", err)
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

func (s *Store) gcCheckRuns(ctx context.Context, o GCOptions, threshold int64) error {
	var notDeleted, tooYoung []string
	for _, id := range o.RunIDs {
		var stage sql.NullString
		var deleted sql.NullInt64
		err := s.queryRow(ctx, `SELECT lifecycle_stage, deleted_time FROM runs WHERE run_uuid = ?`, id).Scan(&stage, &deleted)
		if errors.Is(err, sql.ErrNoRows) {
			return mlflow.NotFound("Run with id=%s not found", id)
		}
		if err != nil {
			return fmt.Errorf("gc: run %s: %w", id, err)
		}
		switch {
		case stage.String != mlflow.StageDeleted:
			notDeleted = append(notDeleted, id)
		case o.OlderThanMillis > 0 && (!deleted.Valid || deleted.Int64 > threshold):
			tooYoung = append(tooYoung, id)
		}
	}
	if len(notDeleted) > 0 {
		return mlflow.InvalidParam("Runs %s are not in the deleted lifecycle stage. Only runs in the deleted lifecycle stage can be permanently deleted.",
			strings.Join(notDeleted, ", "))
	}
	if len(tooYoung) > 0 {
		return mlflow.InvalidParam("Runs %s are not older than the required age.", strings.Join(tooYoung, ", "))
	}
	return nil
}

func (s *Store) gcCheckModels(ctx context.Context, o GCOptions, threshold int64) error {
	var notDeleted, tooYoung []string
	for _, id := range o.LoggedModelIDs {
		var stage sql.NullString
		var updated sql.NullInt64
		err := s.queryRow(ctx, `SELECT lifecycle_stage, last_updated_timestamp_ms FROM logged_models WHERE model_id = ?`, id).
			Scan(&stage, &updated)
		if errors.Is(err, sql.ErrNoRows) {
			return loggedModelNotFound(id)
		}
		if err != nil {
			return fmt.Errorf("gc: logged model %s: %w", id, err)
		}
		switch {
		case stage.String != mlflow.StageDeleted:
			notDeleted = append(notDeleted, id)
		case o.OlderThanMillis > 0 && updated.Int64 > threshold:
			tooYoung = append(tooYoung, id)
		}
	}
	if len(notDeleted) > 0 {
		return mlflow.InvalidParam("Logged models %s are not in the deleted lifecycle stage. Only logged models in the deleted lifecycle stage can be permanently deleted.",
			strings.Join(notDeleted, ", "))
	}
	if len(tooYoung) > 0 {
		return mlflow.InvalidParam("Logged models %s are not older than the required age.", strings.Join(tooYoung, ", "))
	}
	return nil
}

func (s *Store) gcCheckExperiments(ctx context.Context, o GCOptions, threshold int64) error {
	var notDeleted, tooYoung []string
	for _, id := range o.ExperimentIDs {
		var stage sql.NullString
		var updated sql.NullInt64
		err := s.queryRow(ctx, `SELECT lifecycle_stage, last_update_time FROM experiments WHERE experiment_id = ?`, id).
			Scan(&stage, &updated)
		if errors.Is(err, sql.ErrNoRows) {
			return mlflow.NotFound("No Experiment with id=%d exists", id)
		}
		if err != nil {
			return fmt.Errorf("gc: experiment %d: %w", id, err)
		}
		switch {
		case stage.String != mlflow.StageDeleted:
			notDeleted = append(notDeleted, fmt.Sprint(id))
		case o.OlderThanMillis > 0 && (!updated.Valid || updated.Int64 >= threshold):
			tooYoung = append(tooYoung, fmt.Sprint(id))
		}
	}
	if len(notDeleted) > 0 {
		return mlflow.InvalidParam("Experiments %s are not in the deleted lifecycle stage. Only experiments in the deleted lifecycle stage can be hard-deleted.",
			strings.Join(notDeleted, ", "))
	}
	if len(tooYoung) > 0 {
		return mlflow.InvalidParam("Experiments %s are not older than the required age.", strings.Join(tooYoung, ", "))
	}
	return nil
}

// gcChunked runs `DELETE FROM table WHERE <where>` gcChunk rows at a time,
// one transaction per chunk, until no row is left. Rows are picked by
// SQLite's rowid or PostgreSQL's ctid.
func (s *Store) gcChunked(ctx context.Context, table, where string, args ...any) error {
	rowid := "rowid"
	if s.dialect == Postgres {
		rowid = "ctid"
	}
	q := fmt.Sprintf(`DELETE FROM %s WHERE %s IN (SELECT %s FROM %s WHERE %s LIMIT %d)`,
		table, rowid, rowid, table, where, gcChunk)
	for {
		var n int64
		err := s.WithTx(ctx, func(tx *Tx) error {
			r, err := tx.exec(ctx, q, args...)
			if err != nil {
				return err
			}
			n, err = r.RowsAffected()
			return err
		})
		if err != nil {
			return fmt.Errorf("gc: delete from %s: %w", table, err)
		}
		if n < gcChunk {
			return nil
		}
	}
}

// gcEdges deletes the input/output edges (and their tags) where the
// entity is the source (srcType) or the destination (dstType).
func (s *Store) gcEdges(ctx context.Context, id, srcType, dstType string) error {
	edges := `(source_type = ? AND source_id = ?) OR (destination_type = ? AND destination_id = ?)`
	if err := s.gcChunked(ctx, "input_tags", `input_uuid IN (SELECT input_uuid FROM inputs WHERE `+edges+`)`,
		srcType, id, dstType, id); err != nil {
		return err
	}
	return s.gcChunked(ctx, "inputs", edges, srcType, id, dstType, id)
}

// gcRun deletes one run: artifacts, then child rows, then the run.
func (s *Store) gcRun(ctx context.Context, id string, deleteArtifacts func(context.Context, string) error) error {
	var uri sql.NullString
	err := s.queryRow(ctx, `SELECT artifact_uri FROM runs WHERE run_uuid = ?`, id).Scan(&uri)
	if errors.Is(err, sql.ErrNoRows) {
		return nil // gone meanwhile
	}
	if err != nil {
		return fmt.Errorf("gc: run %s: %w", id, err)
	}
	if deleteArtifacts != nil && uri.String != "" {
		if err := deleteArtifacts(ctx, uri.String); err != nil {
			return fmt.Errorf("gc: artifacts of run %s: %w", id, err)
		}
	}
	for _, table := range []string{"metrics", "latest_metrics", "params", "tags"} {
		if err := s.gcChunked(ctx, table, `run_uuid = ?`, id); err != nil {
			return err
		}
	}
	if err := s.gcChunked(ctx, "logged_model_metrics", `run_id = ?`, id); err != nil {
		return err
	}
	if err := s.gcEdges(ctx, id, "RUN_OUTPUT", "RUN"); err != nil {
		return err
	}
	if err := s.gcEdges(ctx, id, "RUN_INPUT", "RUN"); err != nil {
		return err
	}
	return s.WithTx(ctx, func(tx *Tx) error {
		_, err := tx.exec(ctx, `DELETE FROM runs WHERE run_uuid = ?`, id)
		return err
	})
}

// gcLoggedModel deletes one logged model: artifacts, child rows, edges,
// then the model.
func (s *Store) gcLoggedModel(ctx context.Context, id string, deleteArtifacts func(context.Context, string) error) error {
	var loc sql.NullString
	err := s.queryRow(ctx, `SELECT artifact_location FROM logged_models WHERE model_id = ?`, id).Scan(&loc)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("gc: logged model %s: %w", id, err)
	}
	if deleteArtifacts != nil && loc.String != "" {
		if err := deleteArtifacts(ctx, loc.String); err != nil {
			return fmt.Errorf("gc: artifacts of logged model %s: %w", id, err)
		}
	}
	for _, table := range []string{"logged_model_metrics", "logged_model_params", "logged_model_tags"} {
		if err := s.gcChunked(ctx, table, `model_id = ?`, id); err != nil {
			return err
		}
	}
	if err := s.gcEdges(ctx, id, "MODEL", "MODEL_OUTPUT"); err != nil {
		return err
	}
	if err := s.gcEdges(ctx, id, "MODEL", "MODEL_INPUT"); err != nil {
		return err
	}
	return s.WithTx(ctx, func(tx *Tx) error {
		_, err := tx.exec(ctx, `DELETE FROM logged_models WHERE model_id = ?`, id)
		return err
	})
}

// gcExperiment deletes one experiment: every run (paged), logged models,
// tags, datasets and their edges, artifacts, then the experiment. It
// returns how many runs it deleted.
func (s *Store) gcExperiment(ctx context.Context, id int64, deleteArtifacts func(context.Context, string) error,
	progress func(kind, id string)) (int, error) {
	var loc sql.NullString
	err := s.queryRow(ctx, `SELECT artifact_location FROM experiments WHERE experiment_id = ?`, id).Scan(&loc)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("gc: experiment %d: %w", id, err)
	}
	n := 0
	for {
		runs, err := s.gcIDs(ctx, fmt.Sprintf(`SELECT run_uuid FROM runs WHERE experiment_id = ? LIMIT %d`, gcPage), id)
		if err != nil {
			return n, err
		}
		for _, r := range runs {
			if err := s.gcRun(ctx, r, deleteArtifacts); err != nil {
				return n, err
			}
			n++
			progress("run", r)
		}
		if len(runs) < gcPage {
			break
		}
	}
	for {
		models, err := s.gcIDs(ctx, fmt.Sprintf(`SELECT model_id FROM logged_models WHERE experiment_id = ? LIMIT %d`, gcPage), id)
		if err != nil {
			return n, err
		}
		for _, m := range models {
			// The experiment's artifacts go whole below.
			if err := s.gcLoggedModel(ctx, m, nil); err != nil {
				return n, err
			}
		}
		if len(models) < gcPage {
			break
		}
	}
	if err := s.gcChunked(ctx, "input_tags", `input_uuid IN (SELECT input_uuid FROM inputs WHERE source_type = 'DATASET'
		AND source_id IN (SELECT dataset_uuid FROM datasets WHERE experiment_id = ?))`, id); err != nil {
		return n, err
	}
	if err := s.gcChunked(ctx, "inputs", `source_type = 'DATASET'
		AND source_id IN (SELECT dataset_uuid FROM datasets WHERE experiment_id = ?)`, id); err != nil {
		return n, err
	}
	for _, table := range []string{"datasets", "experiment_tags"} {
		if err := s.gcChunked(ctx, table, `experiment_id = ?`, id); err != nil {
			return n, err
		}
	}
	// The experiment's id can be given again (SQLite reuses the highest
	// one): its files must not outlive it.
	if deleteArtifacts != nil && loc.String != "" {
		if err := deleteArtifacts(ctx, loc.String); err != nil {
			return n, fmt.Errorf("gc: artifacts of experiment %d: %w", id, err)
		}
	}
	return n, s.WithTx(ctx, func(tx *Tx) error {
		_, err := tx.exec(ctx, `DELETE FROM experiments WHERE experiment_id = ?`, id)
		return err
	})
}

// uniq drops repeated ids, keeping the first; nil stays nil.
func uniq[T comparable](ids []T) []T {
	if ids == nil {
		return nil
	}
	seen := make(map[T]bool, len(ids))
	out := ids[:0:0]
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}
