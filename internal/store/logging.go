package store

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/csgroup-oss/mlflow-sharinghub-go/internal/mlflow"
	"github.com/csgroup-oss/mlflow-sharinghub-go/internal/tenancy"
	"github.com/csgroup-oss/mlflow-sharinghub-go/internal/tracking"
)

// LogBatch writes params, metrics and tags of an active run in ONE
// transaction: all or nothing (MLflow commits them separately).
// Errors: RESOURCE_DOES_NOT_EXIST, INVALID_PARAMETER_VALUE (run not
// active, or a param changing value).
func (s *Store) LogBatch(ctx context.Context, scope tenancy.Scope, runID string, b tracking.Batch) error {
	return s.WithTx(ctx, func(tx *Tx) error {
		if _, err := activeRun(ctx, tx, scope, runID); err != nil {
			return err
		}
		if err := insertParams(ctx, tx, runID, b.Params); err != nil {
			return err
		}
		if err := insertMetrics(ctx, tx, runID, b.Metrics); err != nil {
			return err
		}
		if err := insertLoggedModelMetrics(ctx, tx, scope, runID, b.Metrics); err != nil { // loggedmodels.go
			return err
		}
		return setRunTags(ctx, tx, runID, b.Tags)
	})
}

// LogParam logs one param; Errors as LogBatch, with MLflow's single-param
// message when the value would change.
func (s *Store) LogParam(ctx context.Context, scope tenancy.Scope, runID, key, value string) error {
	err := s.LogBatch(ctx, scope, runID, tracking.Batch{Params: []mlflow.KeyValue{{Key: key, Value: value}}})
	if ce, ok := err.(*paramChangeError); ok && len(ce.changes) == 1 {
		c := ce.changes[0]
		return mlflow.InvalidParam("Changing param values is not allowed. Param with key='%s' was already logged "+
			"with value='%s' for run ID='%s'. Attempted logging new value '%s'.", c.key, c.old, runID, c.new)
	}
	return err
}

type paramChange struct{ key, old, new string }

// paramChangeError is INVALID_PARAMETER_VALUE for params that already hold
// another value.
type paramChangeError struct {
	runID   string
	changes []paramChange
}

func (e *paramChangeError) Error() string { return e.asMLflow().Error() }

func (e *paramChangeError) asMLflow() *mlflow.Error {
	parts := make([]string, len(e.changes))
	for i, c := range e.changes {
		parts[i] = fmt.Sprintf("{'key': '%s', 'old_value': '%s', 'new_value': '%s'}", c.key, c.old, c.new)
	}
	return mlflow.InvalidParam("Changing param values is not allowed. Params were already logged='[%s]' for run ID='%s'.",
		strings.Join(parts, ", "), e.runID)
}

// Unwrap lets errors.As find the MLflow error.
func (e *paramChangeError) Unwrap() error { return e.asMLflow() }

// insertParams inserts new params, ignores ones logged again with the same
// value, and refuses changed values.
func insertParams(ctx context.Context, tx *Tx, runID string, params []mlflow.KeyValue) error {
	if len(params) == 0 {
		return nil
	}
	var b strings.Builder
	b.WriteString(`INSERT INTO params (key, value, run_uuid) VALUES `)
	args := make([]any, 0, len(params)*3)
	keys := make([]any, 0, len(params)+1)
	keys = append(keys, runID)
	for i, p := range params {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("(?, ?, ?)")
		args = append(args, p.Key, p.Value, runID)
		keys = append(keys, p.Key)
	}
	b.WriteString(` ON CONFLICT (key, run_uuid) DO NOTHING`)
	if _, err := tx.exec(ctx, b.String(), args...); err != nil {
		return fmt.Errorf("insert params: %w", err)
	}
	// Whatever is stored now must be what was asked for.
	rows, err := tx.query(ctx, `SELECT key, value FROM params WHERE run_uuid = ? AND key IN (`+
		placeholders(len(params))+`)`, keys...)
	if err != nil {
		return fmt.Errorf("check params: %w", err)
	}
	stored := map[string]string{}
	if err := eachRow(rows, func() error {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return err
		}
		stored[k] = v
		return nil
	}); err != nil {
		return err
	}
	var changes []paramChange
	for _, p := range params {
		if old, ok := stored[p.Key]; ok && old != p.Value {
			changes = append(changes, paramChange{p.Key, old, p.Value})
		}
	}
	if len(changes) > 0 {
		return &paramChangeError{runID: runID, changes: changes}
	}
	return nil
}

// upsertRunTags writes tags (last value wins) without touching runs.name.
func upsertRunTags(ctx context.Context, tx *Tx, runID string, tags []mlflow.KeyValue) error {
	if len(tags) == 0 {
		return nil
	}
	last := map[string]string{}
	for _, t := range tags {
		last[t.Key] = t.Value
	}
	keys := make([]string, 0, len(last))
	for k := range last {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString(`INSERT INTO tags (key, value, run_uuid) VALUES `)
	args := make([]any, 0, len(keys)*3)
	for i, k := range keys {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("(?, ?, ?)")
		args = append(args, k, last[k], runID)
	}
	b.WriteString(` ON CONFLICT (key, run_uuid) DO UPDATE SET value = excluded.value`)
	if _, err := tx.exec(ctx, b.String(), args...); err != nil {
		return fmt.Errorf("set tags: %w", err)
	}
	return nil
}

// setRunTags writes tags; mlflow.runName also renames the run, as MLflow does.
func setRunTags(ctx context.Context, tx *Tx, runID string, tags []mlflow.KeyValue) error {
	if err := upsertRunTags(ctx, tx, runID, tags); err != nil {
		return err
	}
	for i := len(tags) - 1; i >= 0; i-- {
		if tags[i].Key == RunNameTag {
			name := tags[i].Value
			if _, err := tx.exec(ctx, `UPDATE runs SET name = ? WHERE run_uuid = ?`, name, runID); err != nil {
				return fmt.Errorf("rename run: %w", err)
			}
			break
		}
	}
	return nil
}

// SetTag sets one tag on an active run. Errors as LogBatch.
func (s *Store) SetTag(ctx context.Context, scope tenancy.Scope, runID, key, value string) error {
	return s.LogBatch(ctx, scope, runID, tracking.Batch{Tags: []mlflow.KeyValue{{Key: key, Value: value}}})
}

// DeleteTag removes a tag from an active run.
// Errors: RESOURCE_DOES_NOT_EXIST (run or tag), INVALID_PARAMETER_VALUE.
func (s *Store) DeleteTag(ctx context.Context, scope tenancy.Scope, runID, key string) error {
	return s.WithTx(ctx, func(tx *Tx) error {
		if _, err := activeRun(ctx, tx, scope, runID); err != nil {
			return err
		}
		res, err := tx.exec(ctx, `DELETE FROM tags WHERE run_uuid = ? AND key = ?`, runID, key)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return mlflow.NotFound("No tag with name: %s in run with id %s", key, runID)
		}
		return nil
	})
}
