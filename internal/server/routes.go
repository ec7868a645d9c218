package server

import "net/http"

// access is what a route needs on the project that owns the resource it
// touches. Every route names one; there is no default.
type access int

const (
	accessNone   access = iota // invalid: a route without a rule fails TestRoutesHaveAccessRules
	accessPublic               // no project data (health, version)
	accessRead
	accessCreate
	accessUpdate
	accessDelete
)

func (a access) String() string {
	return [...]string{"none", "public", "read", "create", "update", "delete"}[a]
}

// route is one entry of the route table.
type route struct {
	method string
	// path below the API prefix, e.g. "/mlflow/runs/create"; with both set,
	// it is served under /api/2.0 and /ajax-api/2.0.
	path string
	// raw, when set, is served as is instead of under the API prefixes.
	raw     string
	access  access
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
// access rule it needs.
func routes() []route {
	return []route{
		{method: "GET", raw: "/health", access: accessPublic, handler: (*Server).health},
		{method: "GET", raw: "/version", access: accessPublic, handler: (*Server).version},

		// Experiments.
		{method: "POST", path: "/mlflow/experiments/create", access: accessCreate, handler: (*Server).createExperiment},
		{method: "GET", path: "/mlflow/experiments/get", access: accessRead, handler: (*Server).getExperiment},
		{method: "GET", path: "/mlflow/experiments/get-by-name", access: accessRead, handler: (*Server).getExperimentByName},
		{method: "GET", path: "/mlflow/experiments/search", access: accessRead, handler: (*Server).searchExperiments},
		{method: "POST", path: "/mlflow/experiments/search", access: accessRead, handler: (*Server).searchExperiments},
		{method: "POST", path: "/mlflow/experiments/update", access: accessUpdate, handler: (*Server).updateExperiment},
		{method: "POST", path: "/mlflow/experiments/delete", access: accessDelete, handler: (*Server).deleteExperiment},
		{method: "POST", path: "/mlflow/experiments/restore", access: accessDelete, handler: (*Server).restoreExperiment},
		{method: "POST", path: "/mlflow/experiments/set-experiment-tag", access: accessUpdate, handler: (*Server).setExperimentTag},
		{method: "POST", path: "/mlflow/experiments/delete-experiment-tag", access: accessUpdate, handler: (*Server).deleteExperimentTag},
		{method: "POST", path: "/mlflow/experiments/search-datasets", access: accessRead, handler: (*Server).searchDatasets},

		// Runs.
		{method: "POST", path: "/mlflow/runs/create", access: accessUpdate, handler: (*Server).createRun},
		{method: "GET", path: "/mlflow/runs/get", access: accessRead, handler: (*Server).getRun},
		{method: "POST", path: "/mlflow/runs/update", access: accessUpdate, handler: (*Server).updateRun},
		{method: "POST", path: "/mlflow/runs/delete", access: accessDelete, handler: (*Server).deleteRun},
		{method: "POST", path: "/mlflow/runs/restore", access: accessDelete, handler: (*Server).restoreRun},
		{method: "POST", path: "/mlflow/runs/search", access: accessRead, handler: (*Server).searchRuns},
		{method: "POST", path: "/mlflow/runs/log-metric", access: accessUpdate, handler: (*Server).logMetric},
		{method: "POST", path: "/mlflow/runs/log-parameter", access: accessUpdate, handler: (*Server).logParam},
		{method: "POST", path: "/mlflow/runs/set-tag", access: accessUpdate, handler: (*Server).setTag},
		{method: "POST", path: "/mlflow/runs/delete-tag", access: accessUpdate, handler: (*Server).deleteTag},
		{method: "POST", path: "/mlflow/runs/log-batch", access: accessUpdate, handler: (*Server).logBatch},
		{method: "POST", path: "/mlflow/runs/log-inputs", access: accessUpdate, handler: (*Server).logInputs},
		{method: "POST", path: "/mlflow/runs/outputs", access: accessUpdate, handler: (*Server).logOutputs},

		// Metric history.
		{method: "GET", path: "/mlflow/metrics/get-history", access: accessRead, handler: (*Server).getMetricHistory},
		{method: "GET", path: "/mlflow/metrics/get-history-bulk", access: accessRead, handler: (*Server).getMetricHistoryBulk},
		{method: "GET", path: "/mlflow/metrics/get-history-bulk-interval", access: accessRead, handler: (*Server).getMetricHistoryBulkInterval},
	}
}
