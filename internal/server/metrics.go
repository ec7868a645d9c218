package server

import (
	"bufio"
	"encoding/json"
	"net/http"

	"github.com/csgroup-oss/mlflow-sharinghub-go/internal/mlflow"
	"github.com/csgroup-oss/mlflow-sharinghub-go/internal/search"
)

// Limits of the bulk metric routes (MLflow's handlers).
const (
	maxBulkRunIDs          = 100
	maxBulkHistoryResults  = 25000
	maxIntervalResultsEach = 2500
)

// getMetricHistory is GET metrics/get-history. The response is streamed:
// without max_results a long history never sits in memory.
func (s *Server) getMetricHistory(w http.ResponseWriter, r *http.Request) error {
	var req mlflow.GetMetricHistory
	if err := decode(r, &req); err != nil {
		return err
	}
	id, err := runID(req.RunRef)
	if err != nil {
		return err
	}
	if err := required("metric_key", req.MetricKey.V != ""); err != nil {
		return err
	}
	limit := 0
	if req.MaxResults.Valid {
		if req.MaxResults.V <= 0 {
			return mlflow.InvalidParam("Invalid value %d for parameter 'max_results' supplied. It must be a positive integer.", req.MaxResults.V)
		}
		limit = int(min(req.MaxResults.V, 1<<31))
	}
	// Check the run before the first byte is written, so errors stay JSON errors.
	if _, err := s.store.RunExperimentID(r.Context(), scopeOf(r), id); err != nil {
		return err
	}
	if _, err := search.DecodeOffset(req.PageToken.V); err != nil {
		return err
	}

	w.Header().Set("Content-Type", "application/json")
	bw := bufio.NewWriterSize(w, 32<<10)
	n := 0
	enc := func(m mlflow.Metric) error {
		if n == 0 {
			bw.WriteString(`{"metrics":[`)
		} else {
			bw.WriteByte(',')
		}
		n++
		b, err := json.Marshal(m)
		if err != nil {
			return err
		}
		_, err = bw.Write(b)
		return err
	}
	next, err := s.store.MetricHistory(r.Context(), scopeOf(r), id, req.MetricKey.V, limit, req.PageToken.V, enc)
	if err != nil {
		if n == 0 {
			return err
		}
		// Too late for a JSON error: cut the response so the client fails loudly.
		s.log.ErrorContext(r.Context(), "metric history stream failed", "request_id", requestID(r.Context()), "err", err)
		panic(http.ErrAbortHandler)
	}
	if n == 0 {
		bw.WriteString(`{`)
	} else {
		bw.WriteString(`]`)
	}
	if next != "" {
		if n > 0 {
			bw.WriteByte(',')
		}
		tok, _ := json.Marshal(next)
		bw.WriteString(`"next_page_token":`)
		bw.Write(tok)
	}
	bw.WriteString(`}`)
	return bw.Flush()
}

// getMetricHistoryBulk is GET metrics/get-history-bulk (legacy UI route).
func (s *Server) getMetricHistoryBulk(w http.ResponseWriter, r *http.Request) error {
	var req mlflow.GetMetricHistoryBulk
	if err := decode(r, &req); err != nil {
		return err
	}
	if len(req.RunIDs) == 0 {
		return mlflow.InvalidParam("GetMetricHistoryBulk request must specify at least one run_id.")
	}
	if len(req.RunIDs) > maxBulkRunIDs {
		return mlflow.InvalidParam("GetMetricHistoryBulk request cannot specify more than %d run_ids. Received %d run_ids.", maxBulkRunIDs, len(req.RunIDs))
	}
	if err := required("metric_key", req.MetricKey.V != ""); err != nil {
		return mlflow.InvalidParam("GetMetricHistoryBulk request must specify a metric_key.")
	}
	limit := maxBulkHistoryResults
	if req.MaxResults.Valid {
		limit = int(max(0, min(req.MaxResults.V, maxBulkHistoryResults)))
	}
	ms, err := s.store.MetricHistoryBulk(r.Context(), scopeOf(r), req.RunIDs, req.MetricKey.V, limit)
	if err != nil {
		return err
	}
	return ok(w, struct {
		Metrics []mlflow.Metric `json:"metrics"`
	}{nonNil(ms)})
}

// getMetricHistoryBulkInterval is GET metrics/get-history-bulk-interval.
func (s *Server) getMetricHistoryBulkInterval(w http.ResponseWriter, r *http.Request) error {
	var req mlflow.GetMetricHistoryBulkInterval
	if err := decode(r, &req); err != nil {
		return err
	}
	if err := required("run_ids", len(req.RunIDs) > 0); err != nil {
		return err
	}
	if len(req.RunIDs) > maxBulkRunIDs {
		return mlflow.InvalidParam("GetMetricHistoryBulkInterval request must specify at most %d run_ids. Received %d run_ids. "+
			"See the API docs for more information about request parameters.", maxBulkRunIDs, len(req.RunIDs))
	}
	if err := required("metric_key", req.MetricKey.V != ""); err != nil {
		return err
	}
	maxResults := maxIntervalResultsEach
	if req.MaxResults.Valid {
		if req.MaxResults.V < 1 || req.MaxResults.V > maxIntervalResultsEach {
			return mlflow.InvalidParam("max_results must be between 1 and %d. See the API docs for more information about request parameters.", maxIntervalResultsEach)
		}
		maxResults = int(req.MaxResults.V)
	}
	var steps *[2]int64
	switch {
	case req.StartStep.Valid && req.EndStep.Valid:
		if req.StartStep.V > req.EndStep.V {
			return mlflow.InvalidParam("end_step must be greater than start_step. Found start_step=%d and end_step=%d.", req.StartStep.V, req.EndStep.V)
		}
		steps = &[2]int64{req.StartStep.V, req.EndStep.V}
	case req.StartStep.Valid || req.EndStep.Valid:
		return mlflow.InvalidParam("If either start step or end step are specified, both must be specified.")
	}
	ms, err := s.store.MetricHistorySampled(r.Context(), scopeOf(r), req.RunIDs, req.MetricKey.V, maxResults, steps)
	if err != nil {
		return err
	}
	return ok(w, struct {
		Metrics []mlflow.Metric `json:"metrics,omitempty"`
	}{ms})
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
