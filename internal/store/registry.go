package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/csgroup-oss/mlflow-sharinghub-go/internal/mlflow"
	"github.com/csgroup-oss/mlflow-sharinghub-go/internal/registry"
	"github.com/csgroup-oss/mlflow-sharinghub-go/internal/search"
	"github.com/csgroup-oss/mlflow-sharinghub-go/internal/tenancy"
)

// Registered models: MLflow's registered_models, registered_model_tags and
// registered_model_aliases, in the default workspace. Every lookup takes
// the scope: a model the scope does not see answers RESOURCE_DOES_NOT_EXIST,
// exactly as a missing one.

func modelNotFound(name string) error {
	return mlflow.NotFound("Registered Model with name=%s not found", name)
}

// modelExists checks that the scope sees the registered model name.
// Errors: RESOURCE_DOES_NOT_EXIST.
func modelExists(ctx context.Context, q querier, s *Store, scope tenancy.Scope, name string) error {
	if !scope.SeesName(name) {
		return modelNotFound(name)
	}
	var n string
	err := q.QueryRowContext(ctx, s.rebind(`SELECT name FROM registered_models WHERE workspace = 'default' AND name = ?`),
		name).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return modelNotFound(name)
	}
	if err != nil {
		return fmt.Errorf("registered model %q: %w", name, err)
	}
	return nil
}

// CreateRegisteredModel inserts a registered model with its tags (the last
// value of a repeated key wins) and returns it.
// Errors: RESOURCE_ALREADY_EXISTS (with MLflow's prompt-specific wording).
func (s *Store) CreateRegisteredModel(ctx context.Context, scope tenancy.Scope, name, description string, tags []mlflow.KeyValue) (*registry.RegisteredModel, error) {
	tags = registry.DedupTags(tags)
	err := s.WithTx(ctx, func(tx *Tx) error {
		now := s.nowMillis()
		_, err := tx.exec(ctx, `INSERT INTO registered_models (name, creation_time, last_updated_time, description, workspace)
			VALUES (?, ?, ?, ?, 'default')`, name, now, now, description)
		if err != nil {
			return err
		}
		return upsertModelTags(ctx, tx, name, tags)
	})
	if errors.Is(err, errUnique) {
		existing, gerr := s.GetRegisteredModel(ctx, tenancy.Unscoped, name)
		if gerr != nil {
			return nil, mlflow.Errorf(mlflow.ResourceAlreadyExists, "Registered Model (name=%s) already exists.", name)
		}
		return nil, alreadyExists(name, registry.IsPrompt(existing.Tags), registry.IsPrompt(tags))
	}
	if err != nil {
		return nil, err
	}
	return s.GetRegisteredModel(ctx, scope, name)
}

// alreadyExists is MLflow's handle_resource_already_exist_error.
func alreadyExists(name string, oldPrompt, newPrompt bool) error {
	entity := func(p bool) string {
		if p {
			return "Prompt"
		}
		return "Registered Model"
	}
	if oldPrompt != newPrompt {
		return mlflow.Errorf(mlflow.ResourceAlreadyExists, "Tried to create a %s with name '%s', but the name is "+
			"already taken by a %s. MLflow does not allow creating a model and a prompt with the same name.",
			lower(entity(newPrompt)), name, lower(entity(oldPrompt)))
	}
	return mlflow.Errorf(mlflow.ResourceAlreadyExists, "%s (name=%s) already exists.", entity(newPrompt), name)
}

func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

func upsertModelTags(ctx context.Context, tx *Tx, name string, tags []mlflow.KeyValue) error {
	for _, t := range tags {
		if _, err := tx.exec(ctx, `INSERT INTO registered_model_tags (key, value, name, workspace) VALUES (?, ?, ?, 'default')
			ON CONFLICT (workspace, key, name) DO UPDATE SET value = excluded.value`, t.Key, t.Value, name); err != nil {
			return fmt.Errorf("set registered model tag %q: %w", t.Key, err)
		}
	}
	return nil
}

func scanModel(sc interface{ Scan(...any) error }) (registry.RegisteredModel, error) {
	var (
		m        registry.RegisteredModel
		ct, lut  sql.NullInt64
		desc     sql.NullString
		nameNull sql.NullString
	)
	if err := sc.Scan(&nameNull, &ct, &lut, &desc); err != nil {
		return m, err
	}
	m.Name, m.Description = nameNull.String, desc.String
	if ct.Valid {
		v := ct.Int64
		m.CreationTimestamp = &v
	}
	if lut.Valid && lut.Int64 != 0 {
		v := lut.Int64
		m.LastUpdatedTimestamp = &v
	}
	return m, nil
}

// GetRegisteredModel returns a registered model with its tags, aliases and
// latest version per stage. Errors: RESOURCE_DOES_NOT_EXIST.
func (s *Store) GetRegisteredModel(ctx context.Context, scope tenancy.Scope, name string) (*registry.RegisteredModel, error) {
	if !scope.SeesName(name) {
		return nil, modelNotFound(name)
	}
	m, err := scanModel(s.queryRow(ctx, `SELECT `+search.RegisteredModelColumns+` FROM registered_models
		WHERE registered_models.workspace = 'default' AND registered_models.name = ?`, name))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, modelNotFound(name)
	}
	if err != nil {
		return nil, mapErr(fmt.Errorf("get registered model: %w", err))
	}
	if err := s.completeModels(ctx, []*registry.RegisteredModel{&m}); err != nil {
		return nil, err
	}
	return &m, nil
}

// completeModels loads the tags, aliases and latest versions of models.
func (s *Store) completeModels(ctx context.Context, models []*registry.RegisteredModel) error {
	if len(models) == 0 {
		return nil
	}
	byName := map[string]*registry.RegisteredModel{}
	names := make([]any, len(models))
	for i, m := range models {
		byName[m.Name] = m
		names[i] = m.Name
	}
	for chunk := range slices.Chunk(names, 500) {
		in := placeholders(len(chunk))
		rows, err := s.query(ctx, `SELECT name, key, value FROM registered_model_tags
			WHERE workspace = 'default' AND name IN (`+in+`) ORDER BY name, key`, chunk...)
		if err != nil {
			return fmt.Errorf("load registered model tags: %w", err)
		}
		if err := eachRow(rows, func() error {
			var n, k string
			var v sql.NullString
			if err := rows.Scan(&n, &k, &v); err != nil {
				return err
			}
			if m := byName[n]; m != nil {
				m.Tags = append(m.Tags, mlflow.KeyValue{Key: k, Value: v.String})
			}
			return nil
		}); err != nil {
			return err
		}
		rows, err = s.query(ctx, `SELECT name, alias, version FROM registered_model_aliases
			WHERE workspace = 'default' AND name IN (`+in+`) ORDER BY name, alias`, chunk...)
		if err != nil {
			return fmt.Errorf("load aliases: %w", err)
		}
		if err := eachRow(rows, func() error {
			var n, a string
			var v int64
			if err := rows.Scan(&n, &a, &v); err != nil {
				return err
			}
			if m := byName[n]; m != nil {
				m.Aliases = append(m.Aliases, registry.Alias{Alias: a, Version: strconv.FormatInt(v, 10)})
			}
			return nil
		}); err != nil {
			return err
		}
		latest, err := s.latestVersions(ctx, chunk, false)
		if err != nil {
			return err
		}
		for _, v := range latest {
			if m := byName[v.Name]; m != nil {
				m.LatestVersions = append(m.LatestVersions, v)
			}
		}
	}
	return nil
}

// latestVersions returns, for each model of names, the highest version
// of each stage (soft-deleted versions left out), by name and version;
// with aliases, their aliases too (see completeVersions).
func (s *Store) latestVersions(ctx context.Context, names []any, aliases bool) ([]registry.ModelVersion, error) {
	rows, err := s.query(ctx, `SELECT `+search.ModelVersionColumns+` FROM model_versions JOIN (
			SELECT workspace AS w, name AS n, version AS v,
				row_number() OVER (PARTITION BY workspace, name, current_stage ORDER BY version DESC) AS rn
			FROM model_versions WHERE workspace = 'default' AND name IN (`+placeholders(len(names))+`)
				AND current_stage != 'Deleted_Internal'
		) latest ON model_versions.workspace = latest.w AND model_versions.name = latest.n AND model_versions.version = latest.v
		WHERE latest.rn = 1 ORDER BY model_versions.name, model_versions.version`, names...)
	if err != nil {
		return nil, fmt.Errorf("latest versions: %w", err)
	}
	vs, err := scanVersions(rows)
	if err != nil {
		return nil, err
	}
	return vs, s.completeVersions(ctx, vs, aliases)
}

// UpdateRegisteredModel sets the description of a registered model.
// Errors: RESOURCE_DOES_NOT_EXIST.
func (s *Store) UpdateRegisteredModel(ctx context.Context, scope tenancy.Scope, name, description string) (*registry.RegisteredModel, error) {
	err := s.WithTx(ctx, func(tx *Tx) error {
		if err := modelExists(ctx, tx.tx, s, scope, name); err != nil {
			return err
		}
		_, err := tx.exec(ctx, `UPDATE registered_models SET description = ?, last_updated_time = ?
			WHERE workspace = 'default' AND name = ?`, description, s.nowMillis(), name)
		return err
	})
	if err != nil {
		return nil, err
	}
	return s.GetRegisteredModel(ctx, scope, name)
}

// RenameRegisteredModel renames a registered model and its versions (tags
// and aliases follow through ON UPDATE CASCADE).
// Errors: RESOURCE_DOES_NOT_EXIST, RESOURCE_ALREADY_EXISTS.
func (s *Store) RenameRegisteredModel(ctx context.Context, scope tenancy.Scope, name, newName string) (*registry.RegisteredModel, error) {
	err := s.WithTx(ctx, func(tx *Tx) error {
		if err := modelExists(ctx, tx.tx, s, scope, name); err != nil {
			return err
		}
		now := s.nowMillis()
		_, err := tx.exec(ctx, `UPDATE registered_models SET name = ?, last_updated_time = ?
			WHERE workspace = 'default' AND name = ?`, newName, now, name)
		if isUnique(err) {
			return mlflow.Errorf(mlflow.ResourceAlreadyExists, "Registered Model (name=%s) already exists. Error: %v", newName, err)
		}
		if err != nil {
			return err
		}
		_, err = tx.exec(ctx, `UPDATE model_versions SET last_updated_time = ? WHERE workspace = 'default' AND name = ?`, now, newName)
		return err
	})
	if err != nil {
		return nil, err
	}
	return s.GetRegisteredModel(ctx, scope, newName)
}

// DeleteRegisteredModel deletes a registered model with its versions, tags
// and aliases. Errors: RESOURCE_DOES_NOT_EXIST.
func (s *Store) DeleteRegisteredModel(ctx context.Context, scope tenancy.Scope, name string) error {
	return s.WithTx(ctx, func(tx *Tx) error {
		if err := modelExists(ctx, tx.tx, s, scope, name); err != nil {
			return err
		}
		for _, q := range []string{
			`DELETE FROM model_version_tags WHERE workspace = 'default' AND name = ?`,
			`DELETE FROM registered_model_aliases WHERE workspace = 'default' AND name = ?`,
			`DELETE FROM model_versions WHERE workspace = 'default' AND name = ?`,
			`DELETE FROM registered_model_tags WHERE workspace = 'default' AND name = ?`,
			`DELETE FROM registered_models WHERE workspace = 'default' AND name = ?`,
		} {
			if _, err := tx.exec(ctx, q, name); err != nil {
				return fmt.Errorf("delete registered model: %w", err)
			}
		}
		return nil
	})
}

// SetRegisteredModelTag upserts a tag. Errors: RESOURCE_DOES_NOT_EXIST.
func (s *Store) SetRegisteredModelTag(ctx context.Context, scope tenancy.Scope, name, key, value string) error {
	return s.WithTx(ctx, func(tx *Tx) error {
		if err := modelExists(ctx, tx.tx, s, scope, name); err != nil {
			return err
		}
		return upsertModelTags(ctx, tx, name, []mlflow.KeyValue{{Key: key, Value: value}})
	})
}

// DeleteRegisteredModelTag removes a tag; a missing tag is not an error.
// Errors: RESOURCE_DOES_NOT_EXIST (model).
func (s *Store) DeleteRegisteredModelTag(ctx context.Context, scope tenancy.Scope, name, key string) error {
	return s.WithTx(ctx, func(tx *Tx) error {
		if err := modelExists(ctx, tx.tx, s, scope, name); err != nil {
			return err
		}
		_, err := tx.exec(ctx, `DELETE FROM registered_model_tags WHERE workspace = 'default' AND name = ? AND key = ?`, name, key)
		return err
	})
}

// GetLatestVersions returns the latest version of each of the stages
// (canonical names; none means all four). Errors: RESOURCE_DOES_NOT_EXIST.
func (s *Store) GetLatestVersions(ctx context.Context, scope tenancy.Scope, name string, stages []string) ([]registry.ModelVersion, error) {
	if err := modelExists(ctx, s.read, s, scope, name); err != nil {
		return nil, mapErr(err)
	}
	if len(stages) == 0 {
		stages = registry.Stages
	}
	all, err := s.latestVersions(ctx, []any{name}, true)
	if err != nil {
		return nil, err
	}
	var out []registry.ModelVersion
	for _, v := range all {
		if slices.Contains(stages, v.CurrentStage) {
			out = append(out, v)
		}
	}
	return out, nil
}

// SetAlias points alias at a version of a registered model (creating or
// moving it). Errors: RESOURCE_DOES_NOT_EXIST (model or version).
func (s *Store) SetAlias(ctx context.Context, scope tenancy.Scope, name, alias string, version int64) error {
	return s.WithTx(ctx, func(tx *Tx) error {
		if err := versionExists(ctx, tx.tx, s, scope, name, version); err != nil {
			return err
		}
		_, err := tx.exec(ctx, `INSERT INTO registered_model_aliases (alias, version, name, workspace) VALUES (?, ?, ?, 'default')
			ON CONFLICT (workspace, name, alias) DO UPDATE SET version = excluded.version`, alias, version, name)
		return err
	})
}

// DeleteAlias removes an alias; a missing alias is not an error.
// Errors: RESOURCE_DOES_NOT_EXIST (model).
func (s *Store) DeleteAlias(ctx context.Context, scope tenancy.Scope, name, alias string) error {
	return s.WithTx(ctx, func(tx *Tx) error {
		if err := modelExists(ctx, tx.tx, s, scope, name); err != nil {
			return err
		}
		_, err := tx.exec(ctx, `DELETE FROM registered_model_aliases WHERE workspace = 'default' AND name = ? AND alias = ?`, name, alias)
		return err
	})
}

// GetVersionByAlias resolves an alias ("latest", in any case, is the
// highest version). Errors: RESOURCE_DOES_NOT_EXIST (model, or no version
// for latest), INVALID_PARAMETER_VALUE (no such alias, as in MLflow).
func (s *Store) GetVersionByAlias(ctx context.Context, scope tenancy.Scope, name, alias string) (*registry.ModelVersion, error) {
	if err := modelExists(ctx, s.read, s, scope, name); err != nil {
		return nil, mapErr(err)
	}
	var version int64
	if lower(alias) == "latest" {
		var v sql.NullInt64
		if err := s.queryRow(ctx, `SELECT max(version) FROM model_versions WHERE workspace = 'default' AND name = ?
			AND current_stage != 'Deleted_Internal'`, name).Scan(&v); err != nil {
			return nil, mapErr(err)
		}
		if !v.Valid {
			return nil, mlflow.NotFound("Latest version not found for model %s.", name)
		}
		version = v.Int64
	} else {
		err := s.queryRow(ctx, `SELECT version FROM registered_model_aliases WHERE workspace = 'default' AND name = ? AND alias = ?`,
			name, alias).Scan(&version)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, mlflow.InvalidParam("Registered model alias %s not found.", alias)
		}
		if err != nil {
			return nil, mapErr(err)
		}
	}
	return s.GetModelVersion(ctx, scope, name, version)
}

// RegisteredModelSearch is a search_registered_models request after validation.
type RegisteredModelSearch struct {
	Filter     string
	OrderBy    []string
	MaxResults int
	PageToken  string
	Scope      tenancy.Scope
}

// SearchRegisteredModels returns a page of registered models, filtered in
// SQL to the scope, with their tags, aliases and latest versions.
// Errors: INVALID_PARAMETER_VALUE for bad filters, orderings and tokens.
func (s *Store) SearchRegisteredModels(ctx context.Context, q RegisteredModelSearch) ([]registry.RegisteredModel, string, error) {
	offset, err := search.DecodeOffset(q.PageToken)
	if err != nil {
		return nil, "", err
	}
	cond, condArgs := q.Scope.NameCondition("registered_models.name")
	sqlText, args, err := search.RegisteredModelsQuery{
		Dialect: s.dialect, Filter: q.Filter, OrderBy: q.OrderBy, Offset: offset, Limit: q.MaxResults + 1,
		Extra: cond, ExtraArgs: condArgs,
	}.SQL()
	if err != nil {
		return nil, "", err
	}
	rows, err := s.query(ctx, sqlText, args...)
	if err != nil {
		return nil, "", fmt.Errorf("search registered models: %w", err)
	}
	var out []registry.RegisteredModel
	if err := eachRow(rows, func() error {
		m, err := scanModel(rows)
		out = append(out, m)
		return err
	}); err != nil {
		return nil, "", err
	}
	next := ""
	if len(out) > q.MaxResults {
		out = out[:q.MaxResults]
		next = search.EncodeOffset(offset + q.MaxResults)
	}
	ptrs := make([]*registry.RegisteredModel, len(out))
	for i := range out {
		ptrs[i] = &out[i]
	}
	return out, next, s.completeModels(ctx, ptrs)
}
