package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"

	"github.com/csgroup-oss/mlflow-sharinghub-go/internal/mlflow"
	"github.com/csgroup-oss/mlflow-sharinghub-go/internal/tenancy"
)

// DatasetContextTag is the input tag that names a dataset's role.
const DatasetContextTag = "mlflow.data.context"

// LogInputs records datasets (deduplicated per experiment by name and
// digest) and model inputs as inputs of an active run, in one transaction.
// newID makes the hex ids of new datasets and inputs.
// Errors: RESOURCE_DOES_NOT_EXIST, INVALID_PARAMETER_VALUE.
func (s *Store) LogInputs(ctx context.Context, scope tenancy.Scope, runID string, inputs []mlflow.DatasetInput, models []string, newID func() string) error {
	return s.WithTx(ctx, func(tx *Tx) error {
		expID, err := activeRun(ctx, tx, scope, runID)
		if err != nil {
			return err
		}
		seen := map[[2]string]bool{}
		for _, in := range inputs {
			d := in.Dataset
			k := [2]string{d.Name, d.Digest}
			if seen[k] {
				continue
			}
			seen[k] = true
			var uuid string
			err := tx.queryRow(ctx, `SELECT dataset_uuid FROM datasets WHERE experiment_id = ? AND name = ? AND digest = ?`,
				expID, d.Name, d.Digest).Scan(&uuid)
			if errors.Is(err, sql.ErrNoRows) {
				uuid = newID()
				if _, err := tx.exec(ctx, `INSERT INTO datasets (dataset_uuid, experiment_id, name, digest,
					dataset_source_type, dataset_source, dataset_schema, dataset_profile) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
					uuid, expID, d.Name, d.Digest, d.SourceType, d.Source, nullIfEmpty(d.Schema), nullIfEmpty(d.Profile)); err != nil {
					return fmt.Errorf("insert dataset: %w", err)
				}
			} else if err != nil {
				return fmt.Errorf("look up dataset: %w", err)
			}
			var n int
			if err := tx.queryRow(ctx, `SELECT count(*) FROM inputs WHERE source_type = 'DATASET' AND source_id = ?
				AND destination_type = 'RUN' AND destination_id = ?`, uuid, runID).Scan(&n); err != nil {
				return fmt.Errorf("look up input: %w", err)
			}
			if n > 0 {
				continue
			}
			inputID := newID()
			if _, err := tx.exec(ctx, `INSERT INTO inputs (input_uuid, source_type, source_id, destination_type,
				destination_id, step) VALUES (?, 'DATASET', ?, 'RUN', ?, 0)`, inputID, uuid, runID); err != nil {
				return fmt.Errorf("insert input: %w", err)
			}
			for _, t := range in.Tags {
				if _, err := tx.exec(ctx, `INSERT INTO input_tags (input_uuid, name, value) VALUES (?, ?, ?)
					ON CONFLICT (input_uuid, name) DO UPDATE SET value = excluded.value`, inputID, t.Key, t.Value); err != nil {
					return fmt.Errorf("insert input tag: %w", err)
				}
			}
		}
		for _, m := range models {
			if _, err := tx.exec(ctx, `INSERT INTO inputs (input_uuid, source_type, source_id, destination_type,
				destination_id, step) VALUES (?, 'RUN_INPUT', ?, 'MODEL_INPUT', ?, 0) ON CONFLICT DO NOTHING`,
				newID(), runID, m); err != nil {
				return fmt.Errorf("insert model input: %w", err)
			}
		}
		return nil
	})
}

// LogOutputs records logged models produced by an active run.
// Errors: RESOURCE_DOES_NOT_EXIST, INVALID_PARAMETER_VALUE.
func (s *Store) LogOutputs(ctx context.Context, scope tenancy.Scope, runID string, outputs []mlflow.ModelOutput, newID func() string) error {
	return s.WithTx(ctx, func(tx *Tx) error {
		if _, err := activeRun(ctx, tx, scope, runID); err != nil {
			return err
		}
		for _, o := range outputs {
			if _, err := tx.exec(ctx, `INSERT INTO inputs (input_uuid, source_type, source_id, destination_type,
				destination_id, step) VALUES (?, 'RUN_OUTPUT', ?, 'MODEL_OUTPUT', ?, ?)
				ON CONFLICT (source_type, source_id, destination_type, destination_id) DO UPDATE SET step = excluded.step`,
				newID(), runID, o.ModelID, o.Step); err != nil {
				return fmt.Errorf("insert model output: %w", err)
			}
		}
		return nil
	})
}

func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// loadRunInputs fills dataset and model inputs of runs (two queries).
func (s *Store) loadRunInputs(ctx context.Context, byID map[string]*mlflow.Run, args []any) error {
	in := placeholders(len(args))
	rows, err := s.query(ctx, `SELECT i.destination_id, i.input_uuid, d.name, d.digest, d.dataset_source_type,
			d.dataset_source, d.dataset_schema, d.dataset_profile, t.name, t.value
		FROM inputs i
		JOIN datasets d ON d.dataset_uuid = i.source_id
		LEFT JOIN input_tags t ON t.input_uuid = i.input_uuid
		WHERE i.destination_type = 'RUN' AND i.source_type = 'DATASET' AND i.destination_id IN (`+in+`)
		ORDER BY i.destination_id, d.name, d.digest, i.input_uuid, t.name`, args...)
	if err != nil {
		return fmt.Errorf("load dataset inputs: %w", err)
	}
	lastInput := map[string]string{}
	err = eachRow(rows, func() error {
		var runID, inputID string
		var d mlflow.Dataset
		var schema, profile, tk, tv sql.NullString
		if err := rows.Scan(&runID, &inputID, &d.Name, &d.Digest, &d.SourceType, &d.Source, &schema, &profile, &tk, &tv); err != nil {
			return err
		}
		r := byID[runID]
		if lastInput[runID] != inputID {
			d.Schema, d.Profile = schema.String, profile.String
			r.Inputs.DatasetInputs = append(r.Inputs.DatasetInputs, mlflow.DatasetInput{Dataset: d})
			lastInput[runID] = inputID
		}
		if tk.Valid {
			di := &r.Inputs.DatasetInputs[len(r.Inputs.DatasetInputs)-1]
			di.Tags = append(di.Tags, mlflow.KeyValue{Key: tk.String, Value: tv.String})
		}
		return nil
	})
	if err != nil {
		return err
	}
	rows, err = s.query(ctx, `SELECT source_id, destination_id FROM inputs
		WHERE source_type = 'RUN_INPUT' AND destination_type = 'MODEL_INPUT' AND source_id IN (`+in+`)
		ORDER BY source_id, destination_id`, args...)
	if err != nil {
		return fmt.Errorf("load model inputs: %w", err)
	}
	return eachRow(rows, func() error {
		var runID, model string
		if err := rows.Scan(&runID, &model); err != nil {
			return err
		}
		r := byID[runID]
		r.Inputs.ModelInputs = append(r.Inputs.ModelInputs, mlflow.ModelInput{ModelID: model})
		return nil
	})
}

// loadRunOutputs fills model outputs of runs (one query).
func (s *Store) loadRunOutputs(ctx context.Context, byID map[string]*mlflow.Run, args []any) error {
	rows, err := s.query(ctx, `SELECT source_id, destination_id, step FROM inputs
		WHERE source_type = 'RUN_OUTPUT' AND destination_type = 'MODEL_OUTPUT' AND source_id IN (`+placeholders(len(args))+`)
		ORDER BY source_id, step, destination_id`, args...)
	if err != nil {
		return fmt.Errorf("load model outputs: %w", err)
	}
	return eachRow(rows, func() error {
		var runID, model string
		var step int64
		if err := rows.Scan(&runID, &model, &step); err != nil {
			return err
		}
		r := byID[runID]
		r.Outputs.ModelOutputs = append(r.Outputs.ModelOutputs, mlflow.ModelOutput{ModelID: model, Step: step})
		return nil
	})
}

// SearchDatasets returns up to 1000 distinct (experiment, name, digest,
// context) summaries of the datasets used by runs of the experiments that
// the scope sees.
func (s *Store) SearchDatasets(ctx context.Context, scope tenancy.Scope, experimentIDs []int64) ([]mlflow.DatasetSummary, error) {
	if len(experimentIDs) == 0 {
		return nil, nil
	}
	args := make([]any, len(experimentIDs))
	for i, id := range experimentIDs {
		args[i] = id
	}
	where := `d.experiment_id IN (` + placeholders(len(args)) + `)`
	if cond, condArgs := scope.ExperimentCondition(); cond != "" {
		where += ` AND d.experiment_id IN (SELECT experiments.experiment_id FROM experiments WHERE ` + cond + `)`
		args = append(args, condArgs...)
	}
	rows, err := s.query(ctx, `SELECT DISTINCT d.experiment_id, d.name, d.digest, t.value
		FROM datasets d
		JOIN inputs i ON i.source_id = d.dataset_uuid
		LEFT JOIN input_tags t ON t.input_uuid = i.input_uuid AND t.name = '`+DatasetContextTag+`'
		WHERE `+where+`
		ORDER BY d.experiment_id, d.name, d.digest, t.value LIMIT 1000`, args...)
	if err != nil {
		return nil, fmt.Errorf("search datasets: %w", err)
	}
	var out []mlflow.DatasetSummary
	err = eachRow(rows, func() error {
		var id int64
		var sum mlflow.DatasetSummary
		var ctxv sql.NullString
		if err := rows.Scan(&id, &sum.Name, &sum.Digest, &ctxv); err != nil {
			return err
		}
		sum.ExperimentID = strconv.FormatInt(id, 10)
		sum.Context = ctxv.String
		out = append(out, sum)
		return nil
	})
	return out, err
}
