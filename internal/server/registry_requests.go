package server

import "github.com/csgroup-oss/mlflow-sharinghub-go/internal/mlflow"

// Request messages of the model registry service (model_registry.proto),
// decoded from JSON bodies or GET query strings by decode.

// registryModelReq names a registered model and carries the fields of the
// calls on one: create, get, update, delete, rename, tags, aliases and
// get-latest-versions.
type registryModelReq struct {
	Name        mlflow.String     `json:"name"`
	NewName     mlflow.String     `json:"new_name"`
	Description mlflow.String     `json:"description"`
	Tags        []mlflow.KeyValue `json:"tags"`
	Key         mlflow.String     `json:"key"`
	Value       mlflow.String     `json:"value"`
	Alias       mlflow.String     `json:"alias"`
	Version     mlflow.String     `json:"version"`
	Stages      []string          `json:"stages"`
}

// registryVersionReq names a model version and carries the fields of the
// calls on one.
type registryVersionReq struct {
	Name                    mlflow.String     `json:"name"`
	Version                 mlflow.String     `json:"version"`
	Source                  mlflow.String     `json:"source"`
	RunID                   mlflow.String     `json:"run_id"`
	RunLink                 mlflow.String     `json:"run_link"`
	ModelID                 mlflow.String     `json:"model_id"`
	Description             mlflow.String     `json:"description"`
	Tags                    []mlflow.KeyValue `json:"tags"`
	Stage                   mlflow.String     `json:"stage"`
	ArchiveExistingVersions mlflow.Bool       `json:"archive_existing_versions"`
	Key                     mlflow.String     `json:"key"`
	Value                   mlflow.String     `json:"value"`
	Path                    mlflow.String     `json:"path"`
}

// registrySearchReq is registered-models/search and model-versions/search.
type registrySearchReq struct {
	Filter     mlflow.String `json:"filter"`
	MaxResults mlflow.Int64  `json:"max_results"`
	OrderBy    []string      `json:"order_by"`
	PageToken  mlflow.String `json:"page_token"`
}
