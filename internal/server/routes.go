package server

import (
	"net/http"

	"github.com/csgroup-oss/mlflow-sharinghub-go/internal/access"
)

// rule is what a route needs on the project that owns the resource it
// touches. Every route names one; there is no default.
type rule int

const (
	ruleNone   rule = iota // invalid: a route without a rule fails TestRoutesHaveAccessRules
	rulePublic             // no project data (health, version, sign-in pages)
	ruleRead
	ruleCreate
	ruleUpdate
	ruleDelete
)

// String is the verb used in messages.
func (r rule) String() string {
	return [...]string{"none", "public", "read", "create", "update", "delete"}[r]
}

// action is the access action a rule needs.
func (r rule) action() access.Action {
	switch r {
	case ruleCreate:
		return access.Create
	case ruleUpdate:
		return access.Update
	case ruleDelete:
		return access.Delete
	}
	return access.Read
}

// route is one entry of the route table.
type route struct {
	method string
	// path below the API prefix, e.g. "/mlflow/runs/create"; with both set,
	// it is served under /api/2.0 and /ajax-api/2.0.
	path string
	// raw, when set, is served as is instead of under the API prefixes.
	raw     string
	rule    rule
	handler func(*Server, http.ResponseWriter, *http.Request) error
}

// paths returns the URL patterns a route is registered under.
func (rt route) paths() []string {
	if rt.raw != "" {
		return []string{rt.raw}
	}
	return []string{"/api/2.0" + rt.path, "/ajax-api/2.0" + rt.path}
}

// routes is the one route table: every route the server has, with the
// access rule it needs. It is split by area only to keep the lists short;
// every list lives in this file.
func routes() []route {
	var all []route
	for _, part := range [][]route{trackingRoutes(), artifactRoutes(), loggedModelRoutes(), registryRoutes()} {
		all = append(all, part...)
	}
	return all
}

// trackingRoutes: health, version, experiments, runs, metrics, datasets.
func trackingRoutes() []route {
	return []route{
		{method: "GET", raw: "/health", rule: rulePublic, handler: (*Server).health},
		{method: "GET", raw: "/version", rule: rulePublic, handler: (*Server).version},
		{method: "GET", raw: "/{$}", rule: ruleRead, handler: (*Server).home},

		// Experiments.
		{method: "POST", path: "/mlflow/experiments/create", rule: ruleCreate, handler: (*Server).createExperiment},
		{method: "GET", path: "/mlflow/experiments/get", rule: ruleRead, handler: (*Server).getExperiment},
		{method: "GET", path: "/mlflow/experiments/get-by-name", rule: ruleRead, handler: (*Server).getExperimentByName},
		{method: "GET", path: "/mlflow/experiments/search", rule: ruleRead, handler: (*Server).searchExperiments},
		{method: "POST", path: "/mlflow/experiments/search", rule: ruleRead, handler: (*Server).searchExperiments},
		{method: "POST", path: "/mlflow/experiments/update", rule: ruleUpdate, handler: (*Server).updateExperiment},
		{method: "POST", path: "/mlflow/experiments/delete", rule: ruleDelete, handler: (*Server).deleteExperiment},
		{method: "POST", path: "/mlflow/experiments/restore", rule: ruleDelete, handler: (*Server).restoreExperiment},
		{method: "POST", path: "/mlflow/experiments/set-experiment-tag", rule: ruleUpdate, handler: (*Server).setExperimentTag},
		{method: "POST", path: "/mlflow/experiments/delete-experiment-tag", rule: ruleUpdate, handler: (*Server).deleteExperimentTag},
		{method: "POST", path: "/mlflow/experiments/search-datasets", rule: ruleRead, handler: (*Server).searchDatasets},

		// Runs.
		{method: "POST", path: "/mlflow/runs/create", rule: ruleUpdate, handler: (*Server).createRun},
		{method: "GET", path: "/mlflow/runs/get", rule: ruleRead, handler: (*Server).getRun},
		{method: "POST", path: "/mlflow/runs/update", rule: ruleUpdate, handler: (*Server).updateRun},
		{method: "POST", path: "/mlflow/runs/delete", rule: ruleDelete, handler: (*Server).deleteRun},
		{method: "POST", path: "/mlflow/runs/restore", rule: ruleDelete, handler: (*Server).restoreRun},
		{method: "POST", path: "/mlflow/runs/search", rule: ruleRead, handler: (*Server).searchRuns},
		{method: "POST", path: "/mlflow/runs/log-metric", rule: ruleUpdate, handler: (*Server).logMetric},
		{method: "POST", path: "/mlflow/runs/log-parameter", rule: ruleUpdate, handler: (*Server).logParam},
		{method: "POST", path: "/mlflow/runs/set-tag", rule: ruleUpdate, handler: (*Server).setTag},
		{method: "POST", path: "/mlflow/runs/delete-tag", rule: ruleUpdate, handler: (*Server).deleteTag},
		{method: "POST", path: "/mlflow/runs/log-batch", rule: ruleUpdate, handler: (*Server).logBatch},
		{method: "POST", path: "/mlflow/runs/log-inputs", rule: ruleUpdate, handler: (*Server).logInputs},
		{method: "POST", path: "/mlflow/runs/outputs", rule: ruleUpdate, handler: (*Server).logOutputs},

		// Metric history.
		{method: "GET", path: "/mlflow/metrics/get-history", rule: ruleRead, handler: (*Server).getMetricHistory},
		{method: "GET", path: "/mlflow/metrics/get-history-bulk", rule: ruleRead, handler: (*Server).getMetricHistoryBulk},
		{method: "GET", path: "/mlflow/metrics/get-history-bulk-interval", rule: ruleRead, handler: (*Server).getMetricHistoryBulkInterval},
	}
}

// artifactRoutes: the proxied artifact service (mlflow-artifacts) and the
// run artifact routes. Access is decided by the experiment that owns the path.
func artifactRoutes() []route {
	return []route{
		// Proxied artifact service: the experiment id heads every path.
		// Upload comes first so that the isolation suite downloads what it uploaded.
		{method: "PUT", path: "/mlflow-artifacts/artifacts/{path...}", rule: ruleUpdate, handler: (*Server).uploadArtifact},
		{method: "GET", path: "/mlflow-artifacts/artifacts", rule: ruleRead, handler: (*Server).listArtifactsProxied},
		{method: "GET", path: "/mlflow-artifacts/artifacts/{path...}", rule: ruleRead, handler: (*Server).downloadArtifact},
		{method: "DELETE", path: "/mlflow-artifacts/artifacts/{path...}", rule: ruleDelete, handler: (*Server).deleteArtifact},
		{method: "POST", path: "/mlflow-artifacts/mpu/create/{path...}", rule: ruleUpdate, handler: (*Server).createMultipartUpload},
		{method: "POST", path: "/mlflow-artifacts/mpu/complete/{path...}", rule: ruleUpdate, handler: (*Server).completeMultipartUpload},
		{method: "POST", path: "/mlflow-artifacts/mpu/abort/{path...}", rule: ruleUpdate, handler: (*Server).abortMultipartUpload},
		// Part uploads of a local multipart upload carry no credentials: the
		// URL's HMAC signature, issued by mpu/create after its checks, is the rule.
		{method: "PUT", path: "/mlflow-artifacts/mpu/part/{path...}", rule: rulePublic, handler: (*Server).uploadPart},

		// Run artifacts, resolved through the run in the scope.
		{method: "GET", path: "/mlflow/artifacts/list", rule: ruleRead, handler: (*Server).listRunArtifacts},
		{method: "POST", raw: "/ajax-api/2.0/mlflow/upload-artifact", rule: ruleUpdate, handler: (*Server).uploadRunArtifact},
		{method: "GET", raw: "/get-artifact", rule: ruleRead, handler: (*Server).getRunArtifact},
	}
}

// loggedModelRoutes: MLflow 3 logged models (and the 2.x log-model, which
// records a model on its run). A model's project is its experiment's.
func loggedModelRoutes() []route {
	return []route{
		{method: "POST", path: "/mlflow/logged-models", rule: ruleCreate, handler: (*Server).createLoggedModel},
		{method: "POST", path: "/mlflow/logged-models/search", rule: ruleRead, handler: (*Server).searchLoggedModels},
		{method: "GET", path: "/mlflow/logged-models/{model_id}", rule: ruleRead, handler: (*Server).getLoggedModel},
		{method: "PATCH", path: "/mlflow/logged-models/{model_id}", rule: ruleUpdate, handler: (*Server).finalizeLoggedModel},
		{method: "DELETE", path: "/mlflow/logged-models/{model_id}", rule: ruleDelete, handler: (*Server).deleteLoggedModel},
		{method: "PATCH", path: "/mlflow/logged-models/{model_id}/tags", rule: ruleUpdate, handler: (*Server).setLoggedModelTags},
		{method: "DELETE", path: "/mlflow/logged-models/{model_id}/tags/{tag_key}", rule: ruleUpdate, handler: (*Server).deleteLoggedModelTag},
		{method: "POST", path: "/mlflow/logged-models/{model_id}/params", rule: ruleUpdate, handler: (*Server).logLoggedModelParams},
		// Files of a model, resolved through the model in the scope.
		{method: "GET", path: "/mlflow/logged-models/{model_id}/artifacts/directories", rule: ruleRead, handler: (*Server).listLoggedModelArtifacts},
		{method: "GET", raw: "/ajax-api/2.0/mlflow/logged-models/{model_id}/artifacts/files", rule: ruleRead, handler: (*Server).getLoggedModelArtifact},
		{method: "POST", path: "/mlflow/runs/log-model", rule: ruleUpdate, handler: (*Server).logModel},
	}
}

// registryRoutes: registered models, model versions, aliases.
func registryRoutes() []route {
	return []route{
		// Registered models.
		{method: "POST", path: "/mlflow/registered-models/create", rule: ruleCreate, handler: (*Server).createRegisteredModel},
		{method: "POST", path: "/mlflow/registered-models/rename", rule: ruleUpdate, handler: (*Server).renameRegisteredModel},
		{method: "PATCH", path: "/mlflow/registered-models/update", rule: ruleUpdate, handler: (*Server).updateRegisteredModel},
		{method: "DELETE", path: "/mlflow/registered-models/delete", rule: ruleDelete, handler: (*Server).deleteRegisteredModel},
		{method: "GET", path: "/mlflow/registered-models/get", rule: ruleRead, handler: (*Server).getRegisteredModel},
		{method: "GET", path: "/mlflow/registered-models/search", rule: ruleRead, handler: (*Server).searchRegisteredModels},
		{method: "POST", path: "/mlflow/registered-models/get-latest-versions", rule: ruleRead, handler: (*Server).getLatestVersions},
		{method: "GET", path: "/mlflow/registered-models/get-latest-versions", rule: ruleRead, handler: (*Server).getLatestVersions},
		{method: "POST", path: "/mlflow/registered-models/set-tag", rule: ruleUpdate, handler: (*Server).setRegisteredModelTag},
		{method: "DELETE", path: "/mlflow/registered-models/delete-tag", rule: ruleUpdate, handler: (*Server).deleteRegisteredModelTag},
		{method: "POST", path: "/mlflow/registered-models/alias", rule: ruleUpdate, handler: (*Server).setAlias},
		{method: "DELETE", path: "/mlflow/registered-models/alias", rule: ruleUpdate, handler: (*Server).deleteAlias},
		{method: "GET", path: "/mlflow/registered-models/alias", rule: ruleRead, handler: (*Server).getModelVersionByAlias},

		// Model versions.
		{method: "POST", path: "/mlflow/model-versions/create", rule: ruleUpdate, handler: (*Server).createModelVersion},
		{method: "PATCH", path: "/mlflow/model-versions/update", rule: ruleUpdate, handler: (*Server).updateModelVersion},
		{method: "POST", path: "/mlflow/model-versions/transition-stage", rule: ruleUpdate, handler: (*Server).transitionModelVersionStage},
		{method: "DELETE", path: "/mlflow/model-versions/delete", rule: ruleDelete, handler: (*Server).deleteModelVersion},
		{method: "GET", path: "/mlflow/model-versions/get", rule: ruleRead, handler: (*Server).getModelVersion},
		{method: "GET", path: "/mlflow/model-versions/search", rule: ruleRead, handler: (*Server).searchModelVersions},
		{method: "GET", path: "/mlflow/model-versions/get-download-uri", rule: ruleRead, handler: (*Server).getModelVersionDownloadURI},
		{method: "POST", path: "/mlflow/model-versions/set-tag", rule: ruleUpdate, handler: (*Server).setModelVersionTag},
		{method: "DELETE", path: "/mlflow/model-versions/delete-tag", rule: ruleUpdate, handler: (*Server).deleteModelVersionTag},
		// Files of a version, at the tracking URI's root like get-artifact.
		{method: "GET", raw: "/model-versions/get-artifact", rule: ruleRead, handler: (*Server).getModelVersionArtifact},
	}
}
