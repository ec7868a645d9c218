package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/csgroup-oss/mlflow-sharinghub-go/internal/mlflow"
	"github.com/csgroup-oss/mlflow-sharinghub-go/internal/registry"
	"github.com/csgroup-oss/mlflow-sharinghub-go/internal/search"
	"github.com/csgroup-oss/mlflow-sharinghub-go/internal/tenancy"
)

// Model versions: MLflow's model_versions and model_version_tags. Deleted
// versions stay as rows in stage Deleted_Internal (so numbers are never
// reused) and are invisible to every read.

func versionNotFound(name string, version int64) error {
	return mlflow.NotFound("Model Version (name=%s, version=%d) not found", name, version)
}

// versionExists checks that the scope sees a version that is not deleted.
// Errors: RESOURCE_DOES_NOT_EXIST.
func versionExists(ctx context.Context, q querier, s *Store, scope tenancy.Scope, name string, version int64) error {
	if !scope.SeesName(name) {
		return versionNotFound(name, version)
	}
	var v int64
	err := q.QueryRowContext(ctx, s.rebind(`SELECT version FROM model_versions WHERE workspace = 'default' AND name = ?
		AND version = ? AND current_stage != 'Deleted_Internal'`), name, version).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return versionNotFound(name, version)
	}
	if err != nil {
		return fmt.Errorf("model version %s/%d: %w", name, version, err)
	}
	return nil
}

func nullableString(ns sql.NullString) *string {
	if !ns.Valid {
		return nil
	}
	v := ns.String
	return &v
}

// scanVersions reads rows of search.ModelVersionColumns and closes them.
func scanVersions(rows *sql.Rows) ([]registry.ModelVersion, error) {
	var out []registry.ModelVersion
	err := eachRow(rows, func() error {
		var (
			v                                 registry.ModelVersion
			version                           int64
			ct, lut                           sql.NullInt64
			desc, user, stage, src, run, st   sql.NullString
			stMsg, link, storage, nameNullish sql.NullString
		)
		if err := rows.Scan(&nameNullish, &version, &ct, &lut, &desc, &user, &stage, &src, &run, &st, &stMsg, &link, &storage); err != nil {
			return err
		}
		v.Name, v.Version = nameNullish.String, strconv.FormatInt(version, 10)
		v.CreationTimestamp = ct.Int64
		if lut.Valid {
			x := lut.Int64
			v.LastUpdatedTimestamp = &x
		}
		v.Description, v.UserID, v.Source, v.RunID, v.RunLink =
			nullableString(desc), nullableString(user), nullableString(src), nullableString(run), nullableString(link)
		v.CurrentStage = stage.String
		v.Status = st.String
		if v.Status == "" {
			v.Status = registry.StatusReady
		}
		v.StatusMessage = stMsg.String
		out = append(out, v)
		return nil
	})
	return out, err
}

// completeVersions loads the tags of versions and, with aliases, their
// aliases. MLflow fills a version's aliases when it reads versions one by
// one (get, by alias, update, transition, get_latest_versions) but not in
// search_model_versions nor in a registered model's latest_versions.
func (s *Store) completeVersions(ctx context.Context, vs []registry.ModelVersion, aliases bool) error {
	if len(vs) == 0 {
		return nil
	}
	type key struct {
		name    string
		version string
	}
	idx := map[key][]int{}
	var names []any
	seen := map[string]bool{}
	for i, v := range vs {
		k := key{v.Name, v.Version}
		idx[k] = append(idx[k], i)
		if !seen[v.Name] {
			seen[v.Name] = true
			names = append(names, v.Name)
		}
	}
	for start := 0; start < len(names); start += 500 {
		chunk := names[start:min(start+500, len(names))]
		in := placeholders(len(chunk))
		rows, err := s.query(ctx, `SELECT name, version, key, value FROM model_version_tags
			WHERE workspace = 'default' AND name IN (`+in+`) ORDER BY name, version, key`, chunk...)
		if err != nil {
			return fmt.Errorf("load model version tags: %w", err)
		}
		if err := eachRow(rows, func() error {
			var n, k string
			var ver int64
			var val sql.NullString
			if err := rows.Scan(&n, &ver, &k, &val); err != nil {
				return err
			}
			for _, i := range idx[key{n, strconv.FormatInt(ver, 10)}] {
				vs[i].Tags = append(vs[i].Tags, mlflow.KeyValue{Key: k, Value: val.String})
			}
			return nil
		}); err != nil {
			return err
		}
		if !aliases {
			continue
		}
		rows, err = s.query(ctx, `SELECT name, version, alias FROM registered_model_aliases
			WHERE workspace = 'default' AND name IN (`+in+`) ORDER BY name, alias`, chunk...)
		if err != nil {
			return fmt.Errorf("load aliases: %w", err)
		}
		if err := eachRow(rows, func() error {
			var n, a string
			var ver int64
			if err := rows.Scan(&n, &ver, &a); err != nil {
				return err
			}
			for _, i := range idx[key{n, strconv.FormatInt(ver, 10)}] {
				vs[i].Aliases = append(vs[i].Aliases, a)
			}
			return nil
		}); err != nil {
			return err
		}
	}
	return nil
}

// NewModelVersion is a model version to create, its source already
// checked and resolved by the caller.
type NewModelVersion struct {
	Name            string
	Source          string
	StorageLocation string // where the files are: the download URI
	RunID           string
	RunLink         string
	Description     string
	Tags            []mlflow.KeyValue
}

// createVersionRetries is MLflow's CREATE_MODEL_VERSION_RETRIES.
const createVersionRetries = 3

// CreateModelVersion adds version max+1 (never reusing a deleted number)
// in stage None with status READY, and bumps the model's
// last_updated_time. Errors: RESOURCE_DOES_NOT_EXIST (model).
func (s *Store) CreateModelVersion(ctx context.Context, scope tenancy.Scope, nv NewModelVersion) (*registry.ModelVersion, error) {
	tags := registry.DedupTags(nv.Tags)
	var version int64
	for attempt := range createVersionRetries {
		err := s.WithTx(ctx, func(tx *Tx) error {
			if err := modelExists(ctx, tx.tx, s, scope, nv.Name); err != nil {
				return err
			}
			now := s.nowMillis()
			var max sql.NullInt64
			if err := tx.queryRow(ctx, `SELECT max(version) FROM model_versions WHERE workspace = 'default' AND name = ?`,
				nv.Name).Scan(&max); err != nil {
				return fmt.Errorf("max version: %w", err)
			}
			version = max.Int64 + 1
			if _, err := tx.exec(ctx, `UPDATE registered_models SET last_updated_time = ? WHERE workspace = 'default' AND name = ?`,
				now, nv.Name); err != nil {
				return err
			}
			if _, err := tx.exec(ctx, `INSERT INTO model_versions (name, version, creation_time, last_updated_time, description,
				user_id, current_stage, source, run_id, status, status_message, run_link, storage_location, workspace)
				VALUES (?, ?, ?, ?, ?, NULL, 'None', ?, ?, 'READY', NULL, ?, ?, 'default')`,
				nv.Name, version, now, now, nv.Description, nv.Source, nv.RunID, nv.RunLink, nv.StorageLocation); err != nil {
				return err
			}
			for _, t := range tags {
				if _, err := tx.exec(ctx, `INSERT INTO model_version_tags (key, value, name, version, workspace)
					VALUES (?, ?, ?, ?, 'default')`, t.Key, t.Value, nv.Name, version); err != nil {
					return fmt.Errorf("model version tag %q: %w", t.Key, err)
				}
			}
			return nil
		})
		if errors.Is(err, errUnique) && attempt < createVersionRetries-1 {
			continue
		}
		if errors.Is(err, errUnique) {
			return nil, mlflow.Errorf(mlflow.InternalError, "Model Version creation error (name=%s). Giving up after %d attempts.",
				nv.Name, createVersionRetries)
		}
		if err != nil {
			return nil, err
		}
		break
	}
	return s.GetModelVersion(ctx, scope, nv.Name, version)
}

// GetModelVersion returns a version that is not deleted, with its tags
// and aliases. Errors: RESOURCE_DOES_NOT_EXIST.
func (s *Store) GetModelVersion(ctx context.Context, scope tenancy.Scope, name string, version int64) (*registry.ModelVersion, error) {
	if !scope.SeesName(name) {
		return nil, versionNotFound(name, version)
	}
	rows, err := s.query(ctx, `SELECT `+search.ModelVersionColumns+` FROM model_versions WHERE model_versions.workspace = 'default'
		AND model_versions.name = ? AND model_versions.version = ? AND model_versions.current_stage != 'Deleted_Internal'`,
		name, version)
	if err != nil {
		return nil, fmt.Errorf("get model version: %w", err)
	}
	vs, err := scanVersions(rows)
	if err != nil {
		return nil, err
	}
	if len(vs) == 0 {
		return nil, versionNotFound(name, version)
	}
	if err := s.completeVersions(ctx, vs, true); err != nil {
		return nil, err
	}
	return &vs[0], nil
}

// UpdateModelVersion sets a version's description (nil clears it, as
// MLflow does when the field is absent). Errors: RESOURCE_DOES_NOT_EXIST.
func (s *Store) UpdateModelVersion(ctx context.Context, scope tenancy.Scope, name string, version int64, description *string) (*registry.ModelVersion, error) {
	err := s.WithTx(ctx, func(tx *Tx) error {
		if err := versionExists(ctx, tx.tx, s, scope, name, version); err != nil {
			return err
		}
		var d any
		if description != nil {
			d = *description
		}
		_, err := tx.exec(ctx, `UPDATE model_versions SET description = ?, last_updated_time = ?
			WHERE workspace = 'default' AND name = ? AND version = ?`, d, s.nowMillis(), name, version)
		return err
	})
	if err != nil {
		return nil, err
	}
	return s.GetModelVersion(ctx, scope, name, version)
}

// TransitionModelVersionStage moves a version to a canonical stage; with
// archive, the model's other versions in that stage move to Archived.
// The caller checks that archive is only asked for an active stage.
// Errors: RESOURCE_DOES_NOT_EXIST.
func (s *Store) TransitionModelVersionStage(ctx context.Context, scope tenancy.Scope, name string, version int64, stage string, archive bool) (*registry.ModelVersion, error) {
	err := s.WithTx(ctx, func(tx *Tx) error {
		if err := versionExists(ctx, tx.tx, s, scope, name, version); err != nil {
			return err
		}
		now := s.nowMillis()
		if archive {
			if _, err := tx.exec(ctx, `UPDATE model_versions SET current_stage = 'Archived', last_updated_time = ?
				WHERE workspace = 'default' AND name = ? AND version != ? AND current_stage = ?`, now, name, version, stage); err != nil {
				return err
			}
		}
		if _, err := tx.exec(ctx, `UPDATE model_versions SET current_stage = ?, last_updated_time = ?
			WHERE workspace = 'default' AND name = ? AND version = ?`, stage, now, name, version); err != nil {
			return err
		}
		_, err := tx.exec(ctx, `UPDATE registered_models SET last_updated_time = ? WHERE workspace = 'default' AND name = ?`, now, name)
		return err
	})
	if err != nil {
		return nil, err
	}
	return s.GetModelVersion(ctx, scope, name, version)
}

// DeleteModelVersion soft-deletes a version: stage Deleted_Internal,
// source, run and link redacted, description, user and status message
// cleared, aliases to it removed, tags kept.
// Errors: RESOURCE_DOES_NOT_EXIST.
func (s *Store) DeleteModelVersion(ctx context.Context, scope tenancy.Scope, name string, version int64) error {
	return s.WithTx(ctx, func(tx *Tx) error {
		if err := versionExists(ctx, tx.tx, s, scope, name, version); err != nil {
			return err
		}
		now := s.nowMillis()
		if _, err := tx.exec(ctx, `UPDATE registered_models SET last_updated_time = ? WHERE workspace = 'default' AND name = ?`,
			now, name); err != nil {
			return err
		}
		if _, err := tx.exec(ctx, `DELETE FROM registered_model_aliases WHERE workspace = 'default' AND name = ? AND version = ?`,
			name, version); err != nil {
			return err
		}
		_, err := tx.exec(ctx, `UPDATE model_versions SET current_stage = 'Deleted_Internal', last_updated_time = ?,
			description = NULL, user_id = NULL, status_message = NULL, source = ?, run_id = ?, run_link = ?
			WHERE workspace = 'default' AND name = ? AND version = ?`,
			now, registry.RedactedSource, registry.RedactedRunID, registry.RedactedRunLink, name, version)
		return err
	})
}

// ModelVersionDownloadURI returns where a version's files are: its
// storage location, else its source. Errors: RESOURCE_DOES_NOT_EXIST.
func (s *Store) ModelVersionDownloadURI(ctx context.Context, scope tenancy.Scope, name string, version int64) (string, error) {
	if !scope.SeesName(name) {
		return "", versionNotFound(name, version)
	}
	var src, loc sql.NullString
	err := s.queryRow(ctx, `SELECT source, storage_location FROM model_versions WHERE workspace = 'default' AND name = ?
		AND version = ? AND current_stage != 'Deleted_Internal'`, name, version).Scan(&src, &loc)
	if errors.Is(err, sql.ErrNoRows) {
		return "", versionNotFound(name, version)
	}
	if err != nil {
		return "", mapErr(err)
	}
	if loc.String != "" {
		return loc.String, nil
	}
	return src.String, nil
}

// SetModelVersionTag upserts a version tag. Errors: RESOURCE_DOES_NOT_EXIST.
func (s *Store) SetModelVersionTag(ctx context.Context, scope tenancy.Scope, name string, version int64, key, value string) error {
	return s.WithTx(ctx, func(tx *Tx) error {
		if err := versionExists(ctx, tx.tx, s, scope, name, version); err != nil {
			return err
		}
		_, err := tx.exec(ctx, `INSERT INTO model_version_tags (key, value, name, version, workspace) VALUES (?, ?, ?, ?, 'default')
			ON CONFLICT (workspace, key, name, version) DO UPDATE SET value = excluded.value`, key, value, name, version)
		return err
	})
}

// DeleteModelVersionTag removes a version tag; a missing tag is not an
// error. Errors: RESOURCE_DOES_NOT_EXIST (version).
func (s *Store) DeleteModelVersionTag(ctx context.Context, scope tenancy.Scope, name string, version int64, key string) error {
	return s.WithTx(ctx, func(tx *Tx) error {
		if err := versionExists(ctx, tx.tx, s, scope, name, version); err != nil {
			return err
		}
		_, err := tx.exec(ctx, `DELETE FROM model_version_tags WHERE workspace = 'default' AND name = ? AND version = ? AND key = ?`,
			name, version, key)
		return err
	})
}

// ModelVersionSearch is a search_model_versions request after validation.
type ModelVersionSearch struct {
	Filter     string
	OrderBy    []string
	MaxResults int
	PageToken  string
	Scope      tenancy.Scope
}

// SearchModelVersions returns a page of versions, filtered in SQL to the
// scope. Errors: INVALID_PARAMETER_VALUE for bad filters, orderings and tokens.
func (s *Store) SearchModelVersions(ctx context.Context, q ModelVersionSearch) ([]registry.ModelVersion, string, error) {
	offset, err := search.DecodeOffset(q.PageToken)
	if err != nil {
		return nil, "", err
	}
	cond, condArgs := q.Scope.NameCondition("model_versions.name")
	sqlText, args, err := search.ModelVersionsQuery{
		Dialect: s.dialect, Filter: q.Filter, OrderBy: q.OrderBy, Offset: offset, Limit: q.MaxResults + 1,
		Extra: cond, ExtraArgs: condArgs,
	}.SQL()
	if err != nil {
		return nil, "", err
	}
	rows, err := s.query(ctx, sqlText, args...)
	if err != nil {
		return nil, "", fmt.Errorf("search model versions: %w", err)
	}
	vs, err := scanVersions(rows)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(vs) > q.MaxResults {
		vs = vs[:q.MaxResults]
		next = search.EncodeOffset(offset + q.MaxResults)
	}
	return vs, next, s.completeVersions(ctx, vs, false)
}

// LoggedModelSource returns the artifact location and source run of a
// logged model the scope sees (through its experiment).
// Errors: RESOURCE_DOES_NOT_EXIST.
func (s *Store) LoggedModelSource(ctx context.Context, scope tenancy.Scope, modelID string) (location, runID string, err error) {
	var loc, run, exp sql.NullString
	err = s.queryRow(ctx, `SELECT logged_models.artifact_location, logged_models.source_run_id, experiments.name
		FROM logged_models JOIN experiments ON experiments.experiment_id = logged_models.experiment_id
		WHERE logged_models.model_id = ?`, modelID).Scan(&loc, &run, &exp)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !scope.SeesName(exp.String)) {
		return "", "", mlflow.NotFound("Logged model with ID '%s' not found.", modelID)
	}
	if err != nil {
		return "", "", mapErr(err)
	}
	return loc.String, run.String, nil
}

// AddLoggedModelVersion records on a logged model, in its
// mlflow.modelVersions tag, that a model version was registered from it
// (MLflow's set_model_versions_tags).
func (s *Store) AddLoggedModelVersion(ctx context.Context, modelID, name, version string) error {
	return s.WithTx(ctx, func(tx *Tx) error {
		var exp int64
		var cur sql.NullString
		err := tx.queryRow(ctx, `SELECT logged_models.experiment_id, logged_model_tags.tag_value FROM logged_models
			LEFT JOIN logged_model_tags ON logged_model_tags.model_id = logged_models.model_id AND logged_model_tags.tag_key = ?
			WHERE logged_models.model_id = ?`, registry.ModelVersionsTag, modelID).Scan(&exp, &cur)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		type mv struct {
			Name    string `json:"name"`
			Version string `json:"version"`
		}
		var list []mv
		if cur.String != "" {
			_ = json.Unmarshal([]byte(cur.String), &list)
		}
		for _, x := range list {
			if x.Name == name && x.Version == version {
				return nil
			}
		}
		list = append(list, mv{name, version})
		b, _ := json.Marshal(list)
		_, err = tx.exec(ctx, `INSERT INTO logged_model_tags (model_id, experiment_id, tag_key, tag_value) VALUES (?, ?, ?, ?)
			ON CONFLICT (model_id, tag_key) DO UPDATE SET tag_value = excluded.tag_value`, modelID, exp, registry.ModelVersionsTag, string(b))
		return err
	})
}
