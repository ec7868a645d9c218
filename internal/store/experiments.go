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

const experimentColumns = `experiments.experiment_id, experiments.name, experiments.artifact_location,
	experiments.lifecycle_stage, experiments.creation_time, experiments.last_update_time`

// CreateExperiment inserts an active experiment with its tags and returns
// its id. An empty artifactLocation becomes <default root>/<id>.
// Errors: RESOURCE_ALREADY_EXISTS when the name is taken (deleted
// experiments keep their names).
func (s *Store) CreateExperiment(ctx context.Context, name, artifactLocation string, tags []mlflow.KeyValue) (string, error) {
	var id int64
	err := s.WithTx(ctx, func(tx *Tx) error {
		now := s.nowMillis()
		var loc any
		if artifactLocation != "" {
			loc = artifactLocation
		}
		err := tx.queryRow(ctx, `INSERT INTO experiments
			(name, artifact_location, lifecycle_stage, creation_time, last_update_time, workspace)
			VALUES (?, ?, 'active', ?, ?, 'default') RETURNING experiment_id`,
			name, loc, now, now).Scan(&id)
		if err != nil {
			if isUnique(err) {
				return mlflow.Errorf(mlflow.ResourceAlreadyExists, "Experiment(name=%s) already exists. Error: %v", name, err)
			}
			return fmt.Errorf("insert experiment: %w", err)
		}
		if artifactLocation == "" {
			if _, err := tx.exec(ctx, `UPDATE experiments SET artifact_location = ? WHERE experiment_id = ?`,
				appendURIPath(s.DefaultArtifactRoot, strconv.FormatInt(id, 10)), id); err != nil {
				return fmt.Errorf("set artifact location: %w", err)
			}
		}
		return upsertExperimentTags(ctx, tx, id, tags)
	})
	if err != nil {
		return "", err
	}
	return strconv.FormatInt(id, 10), nil
}

func upsertExperimentTags(ctx context.Context, tx *Tx, id int64, tags []mlflow.KeyValue) error {
	for _, t := range tags {
		if _, err := tx.exec(ctx, `INSERT INTO experiment_tags (key, value, experiment_id) VALUES (?, ?, ?)
			ON CONFLICT (key, experiment_id) DO UPDATE SET value = excluded.value`, t.Key, t.Value, id); err != nil {
			return fmt.Errorf("set experiment tag %q: %w", t.Key, err)
		}
	}
	return nil
}

func scanExperiment(sc interface{ Scan(...any) error }) (mlflow.Experiment, int64, error) {
	var (
		e        mlflow.Experiment
		id       int64
		loc, st  sql.NullString
		ct, lut  sql.NullInt64
		nameNull sql.NullString
	)
	if err := sc.Scan(&id, &nameNull, &loc, &st, &ct, &lut); err != nil {
		return e, 0, err
	}
	e.ExperimentID = strconv.FormatInt(id, 10)
	e.Name = nameNull.String
	e.ArtifactLocation = loc.String
	e.LifecycleStage = st.String
	if ct.Valid {
		v := ct.Int64
		e.CreationTime = &v
	}
	if lut.Valid {
		v := lut.Int64
		e.LastUpdateTime = &v
	}
	return e, id, nil
}

// GetExperiment returns an experiment in any lifecycle stage, with tags,
// when the scope sees it. Errors: RESOURCE_DOES_NOT_EXIST.
func (s *Store) GetExperiment(ctx context.Context, scope tenancy.Scope, id int64) (*mlflow.Experiment, error) {
	row := s.queryRow(ctx, `SELECT `+experimentColumns+` FROM experiments
		WHERE experiments.experiment_id = ? AND experiments.workspace = 'default'`, id)
	e, _, err := scanExperiment(row)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !scope.SeesName(e.Name)) {
		return nil, mlflow.NotFound("No Experiment with id=%d exists", id)
	}
	if err != nil {
		return nil, mapErr(fmt.Errorf("get experiment %d: %w", id, err))
	}
	if err := s.loadExperimentTags(ctx, []*mlflow.Experiment{&e}); err != nil {
		return nil, err
	}
	return &e, nil
}

// GetExperimentByName returns the experiment with exactly this name, in any
// lifecycle stage, when the scope sees it. Errors: RESOURCE_DOES_NOT_EXIST.
func (s *Store) GetExperimentByName(ctx context.Context, scope tenancy.Scope, name string) (*mlflow.Experiment, error) {
	row := s.queryRow(ctx, `SELECT `+experimentColumns+` FROM experiments
		WHERE experiments.name = ? AND experiments.workspace = 'default'`, name)
	e, _, err := scanExperiment(row)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !scope.SeesName(e.Name)) {
		return nil, mlflow.NotFound("Could not find experiment with name '%s'", name)
	}
	if err != nil {
		return nil, mapErr(fmt.Errorf("get experiment by name: %w", err))
	}
	if err := s.loadExperimentTags(ctx, []*mlflow.Experiment{&e}); err != nil {
		return nil, err
	}
	return &e, nil
}

// loadExperimentTags fills the tags of exps with one query.
func (s *Store) loadExperimentTags(ctx context.Context, exps []*mlflow.Experiment) error {
	if len(exps) == 0 {
		return nil
	}
	byID := make(map[string]*mlflow.Experiment, len(exps))
	args := make([]any, 0, len(exps))
	for _, e := range exps {
		byID[e.ExperimentID] = e
		id, _ := strconv.ParseInt(e.ExperimentID, 10, 64)
		args = append(args, id)
	}
	rows, err := s.query(ctx, `SELECT experiment_id, key, value FROM experiment_tags
		WHERE experiment_id IN (`+placeholders(len(args))+`) ORDER BY experiment_id, key`, args...)
	if err != nil {
		return fmt.Errorf("load experiment tags: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var k string
		var v sql.NullString
		if err := rows.Scan(&id, &k, &v); err != nil {
			return mapErr(err)
		}
		if e := byID[strconv.FormatInt(id, 10)]; e != nil {
			e.Tags = append(e.Tags, mlflow.KeyValue{Key: k, Value: v.String})
		}
	}
	return mapErr(rows.Err())
}

// experimentStage returns the lifecycle stage of an experiment the scope
// sees. Errors: RESOURCE_DOES_NOT_EXIST.
func experimentStage(ctx context.Context, q querier, s *Store, scope tenancy.Scope, id int64) (string, error) {
	var st, name sql.NullString
	err := q.QueryRowContext(ctx, s.rebind(`SELECT lifecycle_stage, name FROM experiments
		WHERE experiment_id = ? AND workspace = 'default'`), id).Scan(&st, &name)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !scope.SeesName(name.String)) {
		return "", mlflow.NotFound("No Experiment with id=%d exists", id)
	}
	if err != nil {
		return "", fmt.Errorf("experiment %d stage: %w", id, err)
	}
	return st.String, nil
}

// DeleteExperiment soft-deletes an active experiment and all of its runs.
// Errors: RESOURCE_DOES_NOT_EXIST (missing or already deleted).
func (s *Store) DeleteExperiment(ctx context.Context, scope tenancy.Scope, id int64) error {
	return s.WithTx(ctx, func(tx *Tx) error {
		st, err := experimentStage(ctx, tx.tx, s, scope, id)
		if err != nil {
			return err
		}
		if st != mlflow.StageActive {
			return mlflow.NotFound("No Experiment with id=%d exists", id)
		}
		now := s.nowMillis()
		if _, err := tx.exec(ctx, `UPDATE experiments SET lifecycle_stage = 'deleted', last_update_time = ?
			WHERE experiment_id = ?`, now, id); err != nil {
			return fmt.Errorf("delete experiment: %w", err)
		}
		if _, err := tx.exec(ctx, `UPDATE runs SET lifecycle_stage = 'deleted', deleted_time = ?
			WHERE experiment_id = ?`, now, id); err != nil {
			return fmt.Errorf("delete experiment runs: %w", err)
		}
		return nil
	})
}

// RestoreExperiment restores a deleted experiment and every one of its runs.
// Errors: RESOURCE_DOES_NOT_EXIST (missing or not deleted).
func (s *Store) RestoreExperiment(ctx context.Context, scope tenancy.Scope, id int64) error {
	return s.WithTx(ctx, func(tx *Tx) error {
		st, err := experimentStage(ctx, tx.tx, s, scope, id)
		if err != nil {
			return err
		}
		if st != mlflow.StageDeleted {
			return mlflow.NotFound("No Experiment with id=%d exists", id)
		}
		if _, err := tx.exec(ctx, `UPDATE experiments SET lifecycle_stage = 'active', last_update_time = ?
			WHERE experiment_id = ?`, s.nowMillis(), id); err != nil {
			return fmt.Errorf("restore experiment: %w", err)
		}
		if _, err := tx.exec(ctx, `UPDATE runs SET lifecycle_stage = 'active', deleted_time = NULL
			WHERE experiment_id = ?`, id); err != nil {
			return fmt.Errorf("restore experiment runs: %w", err)
		}
		return nil
	})
}

// RenameExperiment renames an active experiment.
// Errors: RESOURCE_DOES_NOT_EXIST, INVALID_STATE (deleted), RESOURCE_ALREADY_EXISTS.
func (s *Store) RenameExperiment(ctx context.Context, scope tenancy.Scope, id int64, name string) error {
	return s.WithTx(ctx, func(tx *Tx) error {
		st, err := experimentStage(ctx, tx.tx, s, scope, id)
		if err != nil {
			return err
		}
		if st != mlflow.StageActive {
			return mlflow.Errorf(mlflow.InvalidState, "Cannot rename a non-active experiment.")
		}
		_, err = tx.exec(ctx, `UPDATE experiments SET name = ?, last_update_time = ? WHERE experiment_id = ?`,
			name, s.nowMillis(), id)
		if isUnique(err) {
			return mlflow.Errorf(mlflow.ResourceAlreadyExists, "Experiment(name=%s) already exists. Error: %v", name, err)
		}
		return err
	})
}

func activeExperiment(ctx context.Context, tx *Tx, scope tenancy.Scope, id int64) error {
	st, err := experimentStage(ctx, tx.tx, tx.s, scope, id)
	if err != nil {
		return err
	}
	if st != mlflow.StageActive {
		return mlflow.InvalidParam("The experiment %d must be in the 'active' state. Current state is %s.", id, st)
	}
	return nil
}

// SetExperimentTag upserts a tag on an active experiment.
// Errors: RESOURCE_DOES_NOT_EXIST, INVALID_PARAMETER_VALUE (deleted).
func (s *Store) SetExperimentTag(ctx context.Context, scope tenancy.Scope, id int64, key, value string) error {
	return s.WithTx(ctx, func(tx *Tx) error {
		if err := activeExperiment(ctx, tx, scope, id); err != nil {
			return err
		}
		return upsertExperimentTags(ctx, tx, id, []mlflow.KeyValue{{Key: key, Value: value}})
	})
}

// DeleteExperimentTag removes a tag from an active experiment.
// Errors: RESOURCE_DOES_NOT_EXIST (experiment or tag), INVALID_PARAMETER_VALUE.
func (s *Store) DeleteExperimentTag(ctx context.Context, scope tenancy.Scope, id int64, key string) error {
	return s.WithTx(ctx, func(tx *Tx) error {
		if err := activeExperiment(ctx, tx, scope, id); err != nil {
			return err
		}
		res, err := tx.exec(ctx, `DELETE FROM experiment_tags WHERE experiment_id = ? AND key = ?`, id, key)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return mlflow.NotFound("No tag with name: %s in experiment with id %d", key, id)
		}
		return nil
	})
}

// ExperimentSearch is a search_experiments request after validation.
type ExperimentSearch struct {
	Stages     []string
	Filter     string
	OrderBy    []string
	MaxResults int
	PageToken  string
	// Scope limits the search to what the request may see.
	Scope tenancy.Scope
}

// SearchExperiments runs one query for a page of experiments, then loads
// their tags with one more. Errors: INVALID_PARAMETER_VALUE for bad
// filters, orderings and page tokens.
func (s *Store) SearchExperiments(ctx context.Context, q ExperimentSearch) ([]mlflow.Experiment, string, error) {
	offset, err := search.DecodeOffset(q.PageToken)
	if err != nil {
		return nil, "", err
	}
	cond, condArgs := q.Scope.ExperimentCondition()
	sqlText, args, err := search.ExperimentsQuery{
		Dialect: s.dialect, Stages: q.Stages, Filter: q.Filter, OrderBy: q.OrderBy,
		Offset: offset, Limit: q.MaxResults + 1, Extra: cond, ExtraArgs: condArgs,
	}.SQL()
	if err != nil {
		return nil, "", err
	}
	rows, err := s.query(ctx, sqlText, args...)
	if err != nil {
		return nil, "", fmt.Errorf("search experiments: %w", err)
	}
	defer rows.Close()
	var out []mlflow.Experiment
	for rows.Next() {
		e, _, err := scanExperiment(rows)
		if err != nil {
			return nil, "", mapErr(err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, "", mapErr(err)
	}
	next := ""
	if len(out) > q.MaxResults {
		out = out[:q.MaxResults]
		next = search.EncodeOffset(offset + q.MaxResults)
	}
	ptrs := make([]*mlflow.Experiment, len(out))
	for i := range out {
		ptrs[i] = &out[i]
	}
	if err := s.loadExperimentTags(ctx, ptrs); err != nil {
		return nil, "", err
	}
	return out, next, nil
}

// OwnerProjects returns the distinct values of the ownership tag on
// experiments: the paths of the projects that own data here.
func (s *Store) OwnerProjects(ctx context.Context, tag string) ([]string, error) {
	rows, err := s.query(ctx, `SELECT DISTINCT value FROM experiment_tags WHERE key = ? AND value IS NOT NULL
		ORDER BY value LIMIT 10000`, tag)
	if err != nil {
		return nil, fmt.Errorf("owner projects: %w", err)
	}
	var out []string
	err = eachRow(rows, func() error {
		var v string
		if err := rows.Scan(&v); err != nil {
			return err
		}
		out = append(out, v)
		return nil
	})
	return out, err
}
