package server

import (
	"bytes"
	"errors"
	"net/http"
	"testing"

	"github.com/csgroup-oss/mlflow-sharinghub-go/internal/mlflow"
)

// FuzzDecodeRequest feeds arbitrary bodies to the request decoder of every
// request shape: it must never panic, and every failure is an MLflow
// INVALID_PARAMETER_VALUE error.
func FuzzDecodeRequest(f *testing.F) {
	for _, seed := range []string{
		`{}`, `{"run_id":"abc","metrics":[{"key":"m","value":"NaN","timestamp":"12","step":1e3}]}`,
		`"{\"name\":\"x\"}"`, `{"experiment_ids":["1",2]}`, `{"max_results":"10"}`, `{"view_type":2}`,
		`{"status":"FINISHED","end_time":null}`, `{"tags":[{"key":null}]}`, `[`, `{"value":"Infinity"}`,
		`{"runId":"x","metricKey":"m"}`, `{"datasets":[{"dataset":{"name":1}}]}`,
	} {
		f.Add([]byte(seed))
	}
	targets := []func() any{
		func() any { return new(mlflow.CreateExperiment) }, func() any { return new(mlflow.SearchExperiments) },
		func() any { return new(mlflow.CreateRun) }, func() any { return new(mlflow.UpdateRun) },
		func() any { return new(mlflow.LogBatch) }, func() any { return new(mlflow.LogMetric) },
		func() any { return new(mlflow.LogInputs) }, func() any { return new(mlflow.SearchRuns) },
		func() any { return new(mlflow.GetMetricHistoryBulkInterval) },
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, newDst := range targets {
			req, _ := http.NewRequest("POST", "/x", bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			err := decode(req, newDst())
			var me *mlflow.Error
			if err != nil && (!errors.As(err, &me) || me.Code != mlflow.InvalidParameterValue) {
				t.Fatalf("decode(%q) = %v, want INVALID_PARAMETER_VALUE", body, err)
			}
		}
	})
}
