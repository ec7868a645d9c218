package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"

	"github.com/csgroup-oss/mlflow-sharinghub-go/internal/mlflow"
	"github.com/csgroup-oss/mlflow-sharinghub-go/internal/search"
	"github.com/csgroup-oss/mlflow-sharinghub-go/internal/tenancy"
)

// RunNameTag is the tag that must always equal a run's name.
const RunNameTag = "mlflow.runName"

const runColumns = `runs.run_uuid, runs.experiment_id, runs.name, runs.user_id, runs.status,
	runs.start_time, runs.end_time, runs.artifact_uri, runs.lifecycle_stage`

// NewRun is what CreateRun inserts.
type NewRun struct {
	ID           string
	ExperimentID int64
	UserID       string
	Name         string
	StartTime    int64
	Tags         []mlflow.KeyValue
}

// CreateRun inserts a RUNNING run in an active experiment, with its tags,
// and returns it. The artifact URI is <experiment location>/<id>/artifacts.
// Errors: RESOURCE_DOES_NOT_EXIST, INVALID_PARAMETER_VALUE (deleted experiment).
func (s *Store) CreateRun(ctx context.Context, scope tenancy.Scope, r NewRun) (*mlflow.Run, error) {
	err := s.WithTx(ctx, func(tx *Tx) error {
		var loc, st, name sql.NullString
		err := tx.queryRow(ctx, `SELECT artifact_location, lifecycle_stage, name FROM experiments
			WHERE experiment_id = ? AND workspace = 'default'`, r.ExperimentID).Scan(&loc, &st, &name)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && !scope.SeesName(name.String)) {
			return mlflow.NotFound("No Experiment with id=%d exists", r.ExperimentID)
		}
		if err != nil {
			return fmt.Errorf("look up experiment: %w", err)
		}
		if st.String != mlflow.StageActive {
			return mlflow.InvalidParam("The experiment %d must be in the 'active' state. Current state is %s.", r.ExperimentID, st.String)
		}
		_, err = tx.exec(ctx, `INSERT INTO runs (run_uuid, name, source_type, source_name, entry_point_name,
			user_id, status, start_time, end_time, source_version, lifecycle_stage, artifact_uri,
			experiment_id, deleted_time)
			VALUES (?, ?, 'UNKNOWN', '', '', ?, 'RUNNING', ?, NULL, '', 'active', ?, ?, NULL)`,
			r.ID, r.Name, r.UserID, r.StartTime, appendURIPath(loc.String, r.ID, "artifacts"), r.ExperimentID)
		if err != nil {
			return fmt.Errorf("insert run: %w", err)
		}
		return upsertRunTags(ctx, tx, r.ID, r.Tags)
	})
	if err != nil {
		return nil, err
	}
	return s.GetRun(ctx, scope, r.ID)
}

// GetRun returns a run the scope sees with its latest metrics, params,
// tags, inputs and outputs. Errors: RESOURCE_DOES_NOT_EXIST.
func (s *Store) GetRun(ctx context.Context, scope tenancy.Scope, id string) (*mlflow.Run, error) {
	cond, args := scope.RunCondition()
	q := `SELECT ` + runColumns + ` FROM runs WHERE run_uuid = ?`
	if cond != "" {
		q += " AND " + cond
	}
	rows, err := s.query(ctx, q, append([]any{id}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("get run: %w", err)
	}
	runs, err := scanRuns(rows)
	if err != nil {
		return nil, err
	}
	if len(runs) == 0 {
		return nil, mlflow.NotFound("Run with id=%s not found", id)
	}
	if err := s.loadRunData(ctx, runs); err != nil {
		return nil, err
	}
	return runs[0], nil
}

func scanRuns(rows *sql.Rows) ([]*mlflow.Run, error) {
	defer rows.Close()
	var out []*mlflow.Run
	for rows.Next() {
		var (
			r                                  mlflow.Run
			expID                              sql.NullInt64
			name, user, status, uri, lifecycle sql.NullString
			start, end                         sql.NullInt64
		)
		if err := rows.Scan(&r.Info.RunID, &expID, &name, &user, &status, &start, &end, &uri, &lifecycle); err != nil {
			return nil, mapErr(err)
		}
		r.Info.RunUUID = r.Info.RunID
		r.Info.ExperimentID = strconv.FormatInt(expID.Int64, 10)
		r.Info.RunName = name.String
		r.Info.UserID = user.String
		r.Info.Status = status.String
		r.Info.StartTime = start.Int64
		if end.Valid {
			v := end.Int64
			r.Info.EndTime = &v
		}
		r.Info.ArtifactURI = uri.String
		r.Info.LifecycleStage = lifecycle.String
		out = append(out, &r)
	}
	return out, mapErr(rows.Err())
}

// loadRunData fills metrics, params, tags, inputs and outputs of runs with
// a fixed number of queries per 1000 runs (bounded IN lists).
func (s *Store) loadRunData(ctx context.Context, runs []*mlflow.Run) error {
	const chunk = 1000
	for start := 0; start < len(runs); start += chunk {
		if err := s.loadRunDataChunk(ctx, runs[start:min(start+chunk, len(runs))]); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) loadRunDataChunk(ctx context.Context, runs []*mlflow.Run) error {
	if len(runs) == 0 {
		return nil
	}
	byID := make(map[string]*mlflow.Run, len(runs))
	args := make([]any, len(runs))
	for i, r := range runs {
		byID[r.Info.RunID] = r
		args[i] = r.Info.RunID
	}
	in := placeholders(len(args))

	rows, err := s.query(ctx, `SELECT run_uuid, key, value, timestamp, step, is_nan FROM latest_metrics
		WHERE run_uuid IN (`+in+`) ORDER BY run_uuid, key`, args...)
	if err != nil {
		return fmt.Errorf("load metrics: %w", err)
	}
	err = eachRow(rows, func() error {
		var id, key string
		var v float64
		var ts sql.NullInt64
		var step int64
		var isNaN bool
		if err := rows.Scan(&id, &key, &v, &ts, &step, &isNaN); err != nil {
			return err
		}
		r := byID[id]
		r.Data.Metrics = append(r.Data.Metrics, mlflow.Metric{Key: key, Value: metricValue(v, isNaN), Timestamp: ts.Int64, Step: step})
		return nil
	})
	if err != nil {
		return err
	}

	for _, kind := range []string{"params", "tags"} {
		rows, err := s.query(ctx, `SELECT run_uuid, key, value FROM `+kind+`
			WHERE run_uuid IN (`+in+`) ORDER BY run_uuid, key`, args...)
		if err != nil {
			return fmt.Errorf("load %s: %w", kind, err)
		}
		err = eachRow(rows, func() error {
			var id, key string
			var v sql.NullString
			if err := rows.Scan(&id, &key, &v); err != nil {
				return err
			}
			r := byID[id]
			kv := mlflow.KeyValue{Key: key, Value: v.String}
			if kind == "params" {
				r.Data.Params = append(r.Data.Params, kv)
			} else {
				r.Data.Tags = append(r.Data.Tags, kv)
				if key == RunNameTag && r.Info.RunName == "" {
					r.Info.RunName = v.String
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	if err := s.loadRunInputs(ctx, byID, args); err != nil {
		return err
	}
	return s.loadRunOutputs(ctx, byID, args)
}

// eachRow calls fn for each row and closes rows.
func eachRow(rows *sql.Rows, fn func() error) error {
	defer rows.Close()
	for rows.Next() {
		if err := fn(); err != nil {
			return mapErr(err)
		}
	}
	return mapErr(rows.Err())
}

// runState returns the lifecycle stage and experiment of a run the scope
// sees. Errors: RESOURCE_DOES_NOT_EXIST.
func runState(ctx context.Context, q querier, s *Store, scope tenancy.Scope, id string) (stage string, expID int64, err error) {
	var st, name sql.NullString
	var exp sql.NullInt64
	err = q.QueryRowContext(ctx, s.rebind(`SELECT runs.lifecycle_stage, runs.experiment_id, experiments.name
		FROM runs LEFT JOIN experiments ON experiments.experiment_id = runs.experiment_id
		WHERE runs.run_uuid = ?`), id).Scan(&st, &exp, &name)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !scope.SeesName(name.String)) {
		return "", 0, mlflow.NotFound("Run with id=%s not found", id)
	}
	if err != nil {
		return "", 0, fmt.Errorf("run %s: %w", id, err)
	}
	return st.String, exp.Int64, nil
}

// activeRun checks that a run exists and is active.
// Errors: RESOURCE_DOES_NOT_EXIST, INVALID_PARAMETER_VALUE.
func activeRun(ctx context.Context, tx *Tx, scope tenancy.Scope, id string) (int64, error) {
	st, exp, err := runState(ctx, tx.tx, tx.s, scope, id)
	if err != nil {
		return 0, err
	}
	if st != mlflow.StageActive {
		return 0, mlflow.InvalidParam("The run %s must be in the 'active' state. Current state is %s.", id, st)
	}
	return exp, nil
}

// RunUpdate is what UpdateRun may change; nil fields stay as they are.
type RunUpdate struct {
	Status  *string
	EndTime *int64
	Name    *string
}

// UpdateRun changes status, end time and name of an active run (a new name
// also sets the mlflow.runName tag) and returns the run info.
// Errors: RESOURCE_DOES_NOT_EXIST, INVALID_PARAMETER_VALUE.
func (s *Store) UpdateRun(ctx context.Context, scope tenancy.Scope, id string, u RunUpdate) (*mlflow.RunInfo, error) {
	err := s.WithTx(ctx, func(tx *Tx) error {
		if _, err := activeRun(ctx, tx, scope, id); err != nil {
			return err
		}
		return updateRunInfo(ctx, tx, id, u)
	})
	if err != nil {
		return nil, err
	}
	r, err := s.GetRun(ctx, scope, id)
	if err != nil {
		return nil, err
	}
	return &r.Info, nil
}

func updateRunInfo(ctx context.Context, tx *Tx, id string, u RunUpdate) error {
	if u.Status != nil {
		if _, err := tx.exec(ctx, `UPDATE runs SET status = ? WHERE run_uuid = ?`, *u.Status, id); err != nil {
			return fmt.Errorf("update run status: %w", err)
		}
	}
	if u.EndTime != nil {
		if _, err := tx.exec(ctx, `UPDATE runs SET end_time = ? WHERE run_uuid = ?`, *u.EndTime, id); err != nil {
			return fmt.Errorf("update run end time: %w", err)
		}
	}
	if u.Name != nil {
		if _, err := tx.exec(ctx, `UPDATE runs SET name = ? WHERE run_uuid = ?`, *u.Name, id); err != nil {
			return fmt.Errorf("update run name: %w", err)
		}
		if err := upsertRunTags(ctx, tx, id, []mlflow.KeyValue{{Key: RunNameTag, Value: *u.Name}}); err != nil {
			return err
		}
	}
	return nil
}

// DeleteRun soft-deletes a run. Errors: RESOURCE_DOES_NOT_EXIST.
func (s *Store) DeleteRun(ctx context.Context, scope tenancy.Scope, id string) error {
	return s.WithTx(ctx, func(tx *Tx) error {
		if _, _, err := runState(ctx, tx.tx, s, scope, id); err != nil {
			return err
		}
		_, err := tx.exec(ctx, `UPDATE runs SET lifecycle_stage = 'deleted', deleted_time = ? WHERE run_uuid = ?`,
			s.nowMillis(), id)
		return err
	})
}

// RestoreRun restores a soft-deleted run. Errors: RESOURCE_DOES_NOT_EXIST.
func (s *Store) RestoreRun(ctx context.Context, scope tenancy.Scope, id string) error {
	return s.WithTx(ctx, func(tx *Tx) error {
		if _, _, err := runState(ctx, tx.tx, s, scope, id); err != nil {
			return err
		}
		_, err := tx.exec(ctx, `UPDATE runs SET lifecycle_stage = 'active', deleted_time = NULL WHERE run_uuid = ?`, id)
		return err
	})
}

// RunExperimentID returns the experiment of a run the scope sees.
// Errors: RESOURCE_DOES_NOT_EXIST.
func (s *Store) RunExperimentID(ctx context.Context, scope tenancy.Scope, id string) (int64, error) {
	_, exp, err := runState(ctx, s.read, s, scope, id)
	return exp, mapErr(err)
}

// RunSearch is a search_runs request after validation.
type RunSearch struct {
	ExperimentIDs []int64
	Stages        []string
	Filter        string
	OrderBy       []string
	MaxResults    int
	PageToken     string
	// Scope limits the search to what the request may see.
	Scope tenancy.Scope
}

// SearchRuns returns a page of runs in one query, then their data in a
// fixed number of queries. Errors: INVALID_PARAMETER_VALUE for bad
// filters, orderings and page tokens.
func (s *Store) SearchRuns(ctx context.Context, q RunSearch) ([]*mlflow.Run, string, error) {
	offset, err := search.DecodeOffset(q.PageToken)
	if err != nil {
		return nil, "", err
	}
	if len(q.ExperimentIDs) == 0 {
		return nil, "", nil
	}
	cond, condArgs := q.Scope.RunCondition()
	sqlText, args, err := search.RunsQuery{
		Dialect: s.dialect, ExperimentIDs: q.ExperimentIDs, Stages: q.Stages, Filter: q.Filter,
		OrderBy: q.OrderBy, Offset: offset, Limit: q.MaxResults + 1, Extra: cond, ExtraArgs: condArgs,
	}.SQL()
	if err != nil {
		return nil, "", err
	}
	rows, err := s.query(ctx, sqlText, args...)
	if err != nil {
		return nil, "", fmt.Errorf("search runs: %w", err)
	}
	runs, err := scanRuns(rows)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(runs) > q.MaxResults {
		runs = runs[:q.MaxResults]
		next = search.EncodeOffset(offset + q.MaxResults)
	}
	if err := s.loadRunData(ctx, runs); err != nil {
		return nil, "", err
	}
	return runs, next, nil
}
