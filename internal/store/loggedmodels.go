package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/csgroup-oss/mlflow-sharinghub-go/internal/mlflow"
	"github.com/csgroup-oss/mlflow-sharinghub-go/internal/search"
	"github.com/csgroup-oss/mlflow-sharinghub-go/internal/tenancy"
	"github.com/csgroup-oss/mlflow-sharinghub-go/internal/tracking"
)

// Logged models (MLflow 3). A logged model belongs to its experiment's
// project: every lookup by id joins the experiment and checks the scope,
// so another project's model answers RESOURCE_DOES_NOT_EXIST.

// NewLoggedModel is what CreateLoggedModel inserts.
type NewLoggedModel struct {
	ID           string // "m-" + 32 hex
	ExperimentID int64
	Name         string
	// ModelType and SourceRunID are stored as sent ("" when absent), as
	// MLflow stores the proto's defaults.
	ModelType   string
	SourceRunID string
	Params      []mlflow.KeyValue
	Tags        []mlflow.KeyValue
}

func loggedModelNotFound(id string) error {
	return mlflow.NotFound("Logged model with ID '%s' not found.", id)
}

// CreateLoggedModel inserts a PENDING logged model in an active experiment
// the scope sees, with its params and tags, and returns it. Its artifact
// location is <experiment location>/models/<id>/artifacts. A source run,
// when given, must be a run the scope sees.
// Errors: RESOURCE_DOES_NOT_EXIST (experiment, source run),
// INVALID_PARAMETER_VALUE (deleted experiment, repeated param key).
func (s *Store) CreateLoggedModel(ctx context.Context, scope tenancy.Scope, m NewLoggedModel) (*mlflow.LoggedModel, error) {
	err := s.WithTx(ctx, func(tx *Tx) error {
		if err := activeExperiment(ctx, tx, scope, m.ExperimentID); err != nil {
			return err
		}
		if m.SourceRunID != "" {
			if _, _, err := runState(ctx, tx.tx, s, scope, m.SourceRunID); err != nil {
				return err
			}
		}
		var loc sql.NullString
		if err := tx.queryRow(ctx, `SELECT artifact_location FROM experiments WHERE experiment_id = ?`,
			m.ExperimentID).Scan(&loc); err != nil {
			return fmt.Errorf("experiment location: %w", err)
		}
		now := s.nowMillis()
		_, err := tx.exec(ctx, `INSERT INTO logged_models (model_id, experiment_id, name, artifact_location,
			creation_timestamp_ms, last_updated_timestamp_ms, status, lifecycle_stage, model_type, source_run_id,
			status_message) VALUES (?, ?, ?, ?, ?, ?, ?, 'active', ?, ?, NULL)`,
			m.ID, m.ExperimentID, m.Name, appendURIPath(loc.String, "models", m.ID, "artifacts"), now, now,
			tracking.LoggedModelPending, m.ModelType, m.SourceRunID)
		if err != nil {
			return fmt.Errorf("insert logged model: %w", err)
		}
		if err := insertLoggedModelParams(ctx, tx, m.ID, m.ExperimentID, m.Params); err != nil {
			return err
		}
		return upsertLoggedModelTags(ctx, tx, m.ID, m.ExperimentID, m.Tags)
	})
	if err != nil {
		return nil, err
	}
	return s.GetLoggedModel(ctx, scope, m.ID, false)
}

// loggedModelExperiment returns the experiment of a logged model the scope
// sees; deleted models count only with allowDeleted.
// Errors: RESOURCE_DOES_NOT_EXIST.
func loggedModelExperiment(ctx context.Context, q querier, s *Store, scope tenancy.Scope, id string, allowDeleted bool) (int64, error) {
	var exp sql.NullInt64
	var stage, name sql.NullString
	err := q.QueryRowContext(ctx, s.rebind(`SELECT lm.experiment_id, lm.lifecycle_stage, experiments.name
		FROM logged_models AS lm JOIN experiments ON experiments.experiment_id = lm.experiment_id
		WHERE lm.model_id = ?`), id).Scan(&exp, &stage, &name)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !scope.SeesName(name.String)) ||
		(err == nil && !allowDeleted && stage.String == mlflow.StageDeleted) {
		return 0, loggedModelNotFound(id)
	}
	if err != nil {
		return 0, fmt.Errorf("logged model %s: %w", id, err)
	}
	return exp.Int64, nil
}

// GetLoggedModel returns a logged model the scope sees, with its tags,
// params and metrics; a deleted one only with allowDeleted.
// Errors: RESOURCE_DOES_NOT_EXIST.
func (s *Store) GetLoggedModel(ctx context.Context, scope tenancy.Scope, id string, allowDeleted bool) (*mlflow.LoggedModel, error) {
	if _, err := loggedModelExperiment(ctx, s.read, s, scope, id, allowDeleted); err != nil {
		return nil, mapErr(err)
	}
	rows, err := s.query(ctx, `SELECT `+search.LoggedModelColumns+` FROM logged_models AS lm WHERE lm.model_id = ?`, id)
	if err != nil {
		return nil, fmt.Errorf("get logged model: %w", err)
	}
	models, err := scanLoggedModels(rows)
	if err != nil {
		return nil, err
	}
	if len(models) == 0 {
		return nil, loggedModelNotFound(id)
	}
	if err := s.loadLoggedModelData(ctx, models); err != nil {
		return nil, err
	}
	return models[0], nil
}

// FinalizeLoggedModel sets the status of a logged model (deleted ones
// included, as MLflow does) and returns it.
// Errors: RESOURCE_DOES_NOT_EXIST.
func (s *Store) FinalizeLoggedModel(ctx context.Context, scope tenancy.Scope, id string, status int) (*mlflow.LoggedModel, error) {
	err := s.WithTx(ctx, func(tx *Tx) error {
		if _, err := loggedModelExperiment(ctx, tx.tx, s, scope, id, true); err != nil {
			return err
		}
		_, err := tx.exec(ctx, `UPDATE logged_models SET status = ?, last_updated_timestamp_ms = ? WHERE model_id = ?`,
			status, s.nowMillis(), id)
		return err
	})
	if err != nil {
		return nil, err
	}
	return s.GetLoggedModel(ctx, scope, id, true)
}

// DeleteLoggedModel soft-deletes a logged model: it keeps its rows (and
// artifacts) until garbage collection, and GetLoggedModel no longer finds
// it. Errors: RESOURCE_DOES_NOT_EXIST.
func (s *Store) DeleteLoggedModel(ctx context.Context, scope tenancy.Scope, id string) error {
	return s.WithTx(ctx, func(tx *Tx) error {
		if _, err := loggedModelExperiment(ctx, tx.tx, s, scope, id, true); err != nil {
			return err
		}
		_, err := tx.exec(ctx, `UPDATE logged_models SET lifecycle_stage = 'deleted', last_updated_timestamp_ms = ?
			WHERE model_id = ?`, s.nowMillis(), id)
		return err
	})
}

// SetLoggedModelTags upserts tags on a logged model (the last value of a
// repeated key wins). Errors: RESOURCE_DOES_NOT_EXIST.
func (s *Store) SetLoggedModelTags(ctx context.Context, scope tenancy.Scope, id string, tags []mlflow.KeyValue) error {
	return s.WithTx(ctx, func(tx *Tx) error {
		exp, err := loggedModelExperiment(ctx, tx.tx, s, scope, id, true)
		if err != nil {
			return err
		}
		return upsertLoggedModelTags(ctx, tx, id, exp, tags)
	})
}

// DeleteLoggedModelTag removes one tag of a logged model.
// Errors: RESOURCE_DOES_NOT_EXIST (model or tag).
func (s *Store) DeleteLoggedModelTag(ctx context.Context, scope tenancy.Scope, id, key string) error {
	return s.WithTx(ctx, func(tx *Tx) error {
		if _, err := loggedModelExperiment(ctx, tx.tx, s, scope, id, true); err != nil {
			return err
		}
		res, err := tx.exec(ctx, `DELETE FROM logged_model_tags WHERE model_id = ? AND tag_key = ?`, id, key)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return mlflow.NotFound("No tag with key %s found for model with ID %s.", pyQuote(key), pyQuote(id))
		}
		return nil
	})
}

// LogLoggedModelParams adds params to a logged model. Params cannot change:
// logging a key again is refused. Errors: RESOURCE_DOES_NOT_EXIST,
// INVALID_PARAMETER_VALUE.
func (s *Store) LogLoggedModelParams(ctx context.Context, scope tenancy.Scope, id string, params []mlflow.KeyValue) error {
	return s.WithTx(ctx, func(tx *Tx) error {
		exp, err := loggedModelExperiment(ctx, tx.tx, s, scope, id, true)
		if err != nil {
			return err
		}
		return insertLoggedModelParams(ctx, tx, id, exp, params)
	})
}

// pyQuote is Python's repr of a plain string.
func pyQuote(s string) string {
	if strings.Contains(s, "'") && !strings.Contains(s, `"`) {
		return `"` + s + `"`
	}
	return "'" + strings.ReplaceAll(s, "'", `\'`) + "'"
}

func insertLoggedModelParams(ctx context.Context, tx *Tx, id string, exp int64, params []mlflow.KeyValue) error {
	const perStmt = 500
	for start := 0; start < len(params); start += perStmt {
		chunk := params[start:min(start+perStmt, len(params))]
		var b strings.Builder
		b.WriteString(`INSERT INTO logged_model_params (model_id, experiment_id, param_key, param_value) VALUES `)
		args := make([]any, 0, len(chunk)*4)
		for i, p := range chunk {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("(?, ?, ?, ?)")
			args = append(args, id, exp, p.Key, p.Value)
		}
		if _, err := tx.exec(ctx, b.String(), args...); err != nil {
			if isUnique(err) {
				keys := make([]string, len(chunk))
				for i, p := range chunk {
					keys[i] = pyQuote(p.Key)
				}
				return mlflow.InvalidParam("Logged model params cannot change: one of the keys [%s] is repeated or "+
					"was already logged for model with ID '%s'.", strings.Join(keys, ", "), id)
			}
			return fmt.Errorf("insert logged model params: %w", err)
		}
	}
	return nil
}

func upsertLoggedModelTags(ctx context.Context, tx *Tx, id string, exp int64, tags []mlflow.KeyValue) error {
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
	const perStmt = 500
	for start := 0; start < len(keys); start += perStmt {
		chunk := keys[start:min(start+perStmt, len(keys))]
		var b strings.Builder
		b.WriteString(`INSERT INTO logged_model_tags (model_id, experiment_id, tag_key, tag_value) VALUES `)
		args := make([]any, 0, len(chunk)*4)
		for i, k := range chunk {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("(?, ?, ?, ?)")
			args = append(args, id, exp, k, last[k])
		}
		b.WriteString(` ON CONFLICT (model_id, tag_key) DO UPDATE SET tag_value = excluded.tag_value`)
		if _, err := tx.exec(ctx, b.String(), args...); err != nil {
			return fmt.Errorf("set logged model tags: %w", err)
		}
	}
	return nil
}

func scanLoggedModels(rows *sql.Rows) ([]*mlflow.LoggedModel, error) {
	defer rows.Close()
	var out []*mlflow.LoggedModel
	for rows.Next() {
		var (
			m                                  mlflow.LoggedModel
			exp, created, updated, status      sql.NullInt64
			name, loc, mtype, srcRun, statusMs sql.NullString
		)
		if err := rows.Scan(&m.Info.ModelID, &exp, &name, &loc, &created, &updated, &status, &mtype, &srcRun, &statusMs); err != nil {
			return nil, mapErr(err)
		}
		m.Info.ExperimentID = strconv.FormatInt(exp.Int64, 10)
		m.Info.Name = name.String
		m.Info.ArtifactURI = loc.String
		m.Info.CreationTimestampMs = created.Int64
		m.Info.LastUpdatedTimestampMs = updated.Int64
		m.Info.Status = tracking.LoggedModelStatusName(int(status.Int64))
		m.Info.ModelType = optString(mtype)
		m.Info.SourceRunID = optString(srcRun)
		m.Info.StatusMessage = optString(statusMs)
		out = append(out, &m)
	}
	return out, mapErr(rows.Err())
}

func optString(v sql.NullString) *string {
	if !v.Valid {
		return nil
	}
	return &v.String
}

// loadLoggedModelData fills tags, params and metrics of models with three
// queries per 1000 models.
func (s *Store) loadLoggedModelData(ctx context.Context, models []*mlflow.LoggedModel) error {
	const chunk = 1000
	for start := 0; start < len(models); start += chunk {
		if err := s.loadLoggedModelChunk(ctx, models[start:min(start+chunk, len(models))]); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) loadLoggedModelChunk(ctx context.Context, models []*mlflow.LoggedModel) error {
	if len(models) == 0 {
		return nil
	}
	byID := make(map[string]*mlflow.LoggedModel, len(models))
	args := make([]any, len(models))
	for i, m := range models {
		byID[m.Info.ModelID] = m
		args[i] = m.Info.ModelID
	}
	in := placeholders(len(args))
	for _, kind := range []string{"tags", "params"} {
		q := `SELECT model_id, tag_key, tag_value FROM logged_model_tags WHERE model_id IN (` + in + `) ORDER BY model_id, tag_key`
		if kind == "params" {
			q = `SELECT model_id, param_key, param_value FROM logged_model_params WHERE model_id IN (` + in + `) ORDER BY model_id, param_key`
		}
		rows, err := s.query(ctx, q, args...)
		if err != nil {
			return fmt.Errorf("load logged model %s: %w", kind, err)
		}
		err = eachRow(rows, func() error {
			var id, k string
			var v sql.NullString
			if err := rows.Scan(&id, &k, &v); err != nil {
				return err
			}
			m := byID[id]
			if kind == "tags" {
				m.Info.Tags = append(m.Info.Tags, mlflow.KeyValue{Key: k, Value: v.String})
			} else {
				m.Data.Params = append(m.Data.Params, mlflow.KeyValue{Key: k, Value: v.String})
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	rows, err := s.query(ctx, `SELECT model_id, metric_name, metric_value, metric_timestamp_ms, metric_step, run_id,
		dataset_name, dataset_digest FROM logged_model_metrics WHERE model_id IN (`+in+`)
		ORDER BY model_id, metric_name, metric_step, metric_timestamp_ms, run_id`, args...)
	if err != nil {
		return fmt.Errorf("load logged model metrics: %w", err)
	}
	return eachRow(rows, func() error {
		var id string
		var met mlflow.Metric
		var v sql.NullFloat64
		var run, dsName, dsDigest sql.NullString
		if err := rows.Scan(&id, &met.Key, &v, &met.Timestamp, &met.Step, &run, &dsName, &dsDigest); err != nil {
			return err
		}
		met.Value = mlflow.Float64(v.Float64)
		met.ModelID, met.RunID = id, run.String
		met.DatasetName, met.DatasetDigest = dsName.String, dsDigest.String
		m := byID[id]
		m.Data.Metrics = append(m.Data.Metrics, met)
		return nil
	})
}

// LoggedModelSearch is a search_logged_models request after decoding.
type LoggedModelSearch struct {
	// ExperimentIDs are the ids as sent (the page token repeats them).
	ExperimentIDs []string
	Filter        string
	Datasets      []search.LoggedModelDataset
	OrderBy       []search.LoggedModelOrder
	MaxResults    int
	PageToken     string
	// Scope limits the search to what the request may see.
	Scope tenancy.Scope
}

// SearchLoggedModels returns a page of active logged models in one query,
// then their tags, params and metrics in three more.
// Errors: INVALID_PARAMETER_VALUE (experiment ids, filter, order_by, token).
func (s *Store) SearchLoggedModels(ctx context.Context, q LoggedModelSearch) ([]*mlflow.LoggedModel, string, error) {
	offset, err := search.DecodeLoggedModelsToken(q.PageToken, search.LoggedModelsToken{
		ExperimentIDs: q.ExperimentIDs, Filter: q.Filter, OrderBy: q.OrderBy,
	})
	if err != nil {
		return nil, "", err
	}
	ids := make([]int64, 0, len(q.ExperimentIDs))
	for _, e := range q.ExperimentIDs {
		id, err := tracking.ParseExperimentID(e)
		if err != nil {
			return nil, "", err
		}
		ids = append(ids, id)
	}
	cond, condArgs := q.Scope.ExperimentCondition()
	extra := ""
	if cond != "" {
		extra = "lm.experiment_id IN (SELECT experiments.experiment_id FROM experiments WHERE " + cond + ")"
	}
	sqlText, args, err := search.LoggedModelsQuery{
		Dialect: s.dialect, ExperimentIDs: ids, Filter: q.Filter, Statuses: tracking.FilterStatusValue,
		Datasets: q.Datasets, OrderBy: q.OrderBy, Offset: offset, Limit: q.MaxResults + 1,
		Extra: extra, ExtraArgs: condArgs,
	}.SQL()
	if err != nil {
		return nil, "", err
	}
	rows, err := s.query(ctx, sqlText, args...)
	if err != nil {
		return nil, "", fmt.Errorf("search logged models: %w", err)
	}
	models, err := scanLoggedModels(rows)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(models) > q.MaxResults {
		models = models[:q.MaxResults]
		next = search.LoggedModelsToken{ExperimentIDs: q.ExperimentIDs, Filter: q.Filter, OrderBy: q.OrderBy,
			Offset: offset + q.MaxResults}.Encode()
	}
	if err := s.loadLoggedModelData(ctx, models); err != nil {
		return nil, "", err
	}
	return models, next, nil
}

// insertLoggedModelMetrics is LogBatch's hook for MLflow 3: metrics that
// name a model_id are also written to logged_model_metrics, with the run,
// its experiment and the dataset, in the caller's transaction. Each model
// must be one the scope sees. Errors: RESOURCE_DOES_NOT_EXIST.
func insertLoggedModelMetrics(ctx context.Context, tx *Tx, scope tenancy.Scope, runID string, metrics []tracking.MetricPoint) error {
	var withModel []tracking.MetricPoint
	models := map[string]bool{}
	for _, m := range metrics {
		if m.ModelID != "" {
			withModel = append(withModel, m)
			models[m.ModelID] = true
		}
	}
	if len(withModel) == 0 {
		return nil
	}
	var exp int64
	if err := tx.queryRow(ctx, `SELECT experiment_id FROM runs WHERE run_uuid = ?`, runID).Scan(&exp); err != nil {
		return fmt.Errorf("run experiment: %w", mapErr(err))
	}
	ids := make([]string, 0, len(models))
	for id := range models {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		if _, err := loggedModelExperiment(ctx, tx.tx, tx.s, scope, id, true); err != nil {
			return err
		}
	}
	const perStmt = 500 // 9 parameters a row
	for start := 0; start < len(withModel); start += perStmt {
		chunk := withModel[start:min(start+perStmt, len(withModel))]
		var b strings.Builder
		b.WriteString(`INSERT INTO logged_model_metrics (model_id, metric_name, metric_timestamp_ms, metric_step,
			metric_value, experiment_id, run_id, dataset_name, dataset_digest) VALUES `)
		args := make([]any, 0, len(chunk)*9)
		for i, m := range chunk {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("(?, ?, ?, ?, ?, ?, ?, ?, ?)")
			v, _ := storedValue(m.Value)
			args = append(args, m.ModelID, m.Key, m.Timestamp, m.Step, v, exp, runID,
				nullIfEmpty(m.DatasetName), nullIfEmpty(m.DatasetDigest))
		}
		b.WriteString(` ON CONFLICT DO NOTHING`)
		if _, err := tx.exec(ctx, b.String(), args...); err != nil {
			return fmt.Errorf("insert logged model metrics: %w", err)
		}
	}
	return nil
}

// RecordLoggedModel is the 2.x runs/log-model: it appends the model (its
// MLmodel as JSON) to the mlflow.log-model.history tag of an active run.
// Errors: RESOURCE_DOES_NOT_EXIST, INVALID_PARAMETER_VALUE.
func (s *Store) RecordLoggedModel(ctx context.Context, scope tenancy.Scope, runID, modelJSON string) error {
	return s.WithTx(ctx, func(tx *Tx) error {
		if _, err := activeRun(ctx, tx, scope, runID); err != nil {
			return err
		}
		var prev sql.NullString
		err := tx.queryRow(ctx, `SELECT value FROM tags WHERE run_uuid = ? AND key = ?`, runID,
			tracking.LoggedModelHistoryTag).Scan(&prev)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("read log-model history: %w", err)
		}
		value, err := tracking.AppendLogModelHistory(prev.String, modelJSON)
		if err != nil {
			return err
		}
		return upsertRunTags(ctx, tx, runID, []mlflow.KeyValue{{Key: tracking.LoggedModelHistoryTag, Value: value}})
	})
}
