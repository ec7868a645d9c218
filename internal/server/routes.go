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
	return []route{}
}

// loggedModelRoutes: MLflow 3 logged models.
func loggedModelRoutes() []route {
	return []route{}
}

// registryRoutes: registered models, model versions, aliases.
func registryRoutes() []route {
	return []route{}
}
