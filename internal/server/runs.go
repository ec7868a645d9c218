package server

import (
	"net/http"
	"time"

	"github.com/csgroup-oss/mlflow-sharinghub-go/internal/mlflow"
	"github.com/csgroup-oss/mlflow-sharinghub-go/internal/store"
	"github.com/csgroup-oss/mlflow-sharinghub-go/internal/tracking"
)

// createRun is POST runs/create.
func (s *Server) createRun(w http.ResponseWriter, r *http.Request) error {
	var req mlflow.CreateRun
	if err := decode(r, &req); err != nil {
		return err
	}
	expID := int64(0)
	if req.ExperimentID.V != "" {
		id, err := tracking.ParseExperimentID(req.ExperimentID.V)
		if err != nil {
			return err
		}
		expID = id
	}
	name, tags, err := tracking.RunNameAndTags(req.RunName.V, req.Tags)
	if err != nil {
		return err
	}
	start := req.StartTime.V
	if !req.StartTime.Valid {
		start = time.Now().UnixMilli()
	}
	run, err := s.store.CreateRun(r.Context(), scopeOf(r), store.NewRun{
		ID: tracking.NewID(), ExperimentID: expID, UserID: req.UserID.V, Name: name, StartTime: start, Tags: tags,
	})
	if err != nil {
		return err
	}
	return ok(w, map[string]any{"run": run})
}

// runID decodes a run reference and checks that it names a run id.
func runID(ref mlflow.RunRef) (string, error) {
	if err := required("run_id", ref.ID() != ""); err != nil {
		return "", err
	}
	return ref.ID(), nil
}

// getRun is GET runs/get.
func (s *Server) getRun(w http.ResponseWriter, r *http.Request) error {
	var req mlflow.RunRef
	if err := decode(r, &req); err != nil {
		return err
	}
	id, err := runID(req)
	if err != nil {
		return err
	}
	run, err := s.store.GetRun(r.Context(), scopeOf(r), id)
	if err != nil {
		return err
	}
	return ok(w, map[string]any{"run": run})
}

// updateRun is POST runs/update.
func (s *Server) updateRun(w http.ResponseWriter, r *http.Request) error {
	var req mlflow.UpdateRun
	if err := decode(r, &req); err != nil {
		return err
	}
	id, err := runID(req.RunRef)
	if err != nil {
		return err
	}
	var u store.RunUpdate
	if req.Status.Valid {
		st, ok := req.Status.Name(mlflow.RunStatuses)
		if !ok {
			return mlflow.InvalidParam("Invalid value %q for parameter 'status' supplied. Valid values are %v.", req.Status.Raw, mlflow.RunStatuses)
		}
		u.Status = &st
	}
	if req.EndTime.Valid {
		u.EndTime = &req.EndTime.V
	}
	if req.RunName.V != "" {
		u.Name = &req.RunName.V
	}
	info, err := s.store.UpdateRun(r.Context(), scopeOf(r), id, u)
	if err != nil {
		return err
	}
	return ok(w, map[string]any{"run_info": info})
}

// deleteRun is POST runs/delete.
func (s *Server) deleteRun(w http.ResponseWriter, r *http.Request) error {
	var req mlflow.RunRef
	if err := decode(r, &req); err != nil {
		return err
	}
	id, err := runID(req)
	if err != nil {
		return err
	}
	if err := s.store.DeleteRun(r.Context(), scopeOf(r), id); err != nil {
		return err
	}
	return ok(w, empty)
}

// restoreRun is POST runs/restore.
func (s *Server) restoreRun(w http.ResponseWriter, r *http.Request) error {
	var req mlflow.RunRef
	if err := decode(r, &req); err != nil {
		return err
	}
	id, err := runID(req)
	if err != nil {
		return err
	}
	if err := s.store.RestoreRun(r.Context(), scopeOf(r), id); err != nil {
		return err
	}
	return ok(w, empty)
}

// searchRuns is POST runs/search.
func (s *Server) searchRuns(w http.ResponseWriter, r *http.Request) error {
	var req mlflow.SearchRuns
	if err := decode(r, &req); err != nil {
		return err
	}
	max, err := tracking.ValidateMaxResults(req.MaxResults, tracking.DefaultSearchRunsMax, tracking.MaxSearchRunsResults)
	if err != nil {
		return err
	}
	view, err := mlflow.ViewTypeOf(req.RunViewType, "run_view_type")
	if err != nil {
		return err
	}
	ids, err := parseExperimentIDs(req.ExperimentIDs)
	if err != nil {
		return err
	}
	runs, next, err := s.store.SearchRuns(r.Context(), store.RunSearch{
		ExperimentIDs: ids, Stages: view.Stages(), Filter: req.Filter.V, OrderBy: trimAll(req.OrderBy),
		MaxResults: max, PageToken: req.PageToken.V, Scope: scopeOf(r),
	})
	if err != nil {
		return err
	}
	return ok(w, struct {
		Runs          []*mlflow.Run `json:"runs,omitempty"`
		NextPageToken string        `json:"next_page_token,omitempty"`
	}{runs, next})
}

// runKey decodes a request that names a run and a key (log-parameter,
// set-tag, delete-tag) and checks that both are there.
func runKey(r *http.Request) (string, mlflow.SetTag, error) {
	var req mlflow.SetTag
	if err := decode(r, &req); err != nil {
		return "", req, err
	}
	id, err := runID(req.RunRef)
	if err != nil {
		return "", req, err
	}
	if err := required("key", req.Key.V != ""); err != nil {
		return "", req, err
	}
	return id, req, tracking.ValidateRunID(id)
}

// logParam is POST runs/log-parameter.
func (s *Server) logParam(w http.ResponseWriter, r *http.Request) error {
	id, req, err := runKey(r)
	if err != nil {
		return err
	}
	key, value, err := tracking.ValidateParam(req.Key, req.Value, "")
	if err != nil {
		return err
	}
	if err := s.store.LogParam(r.Context(), scopeOf(r), id, key, value); err != nil {
		return err
	}
	return ok(w, empty)
}

// setTag is POST runs/set-tag.
func (s *Server) setTag(w http.ResponseWriter, r *http.Request) error {
	id, req, err := runKey(r)
	if err != nil {
		return err
	}
	key, value, err := tracking.ValidateTag(req.Key, req.Value, "")
	if err != nil {
		return err
	}
	if err := s.store.SetTag(r.Context(), scopeOf(r), id, key, value); err != nil {
		return err
	}
	return ok(w, empty)
}

// deleteTag is POST runs/delete-tag.
func (s *Server) deleteTag(w http.ResponseWriter, r *http.Request) error {
	id, req, err := runKey(r)
	if err != nil {
		return err
	}
	if err := s.store.DeleteTag(r.Context(), scopeOf(r), id, req.Key.V); err != nil {
		return err
	}
	return ok(w, empty)
}

// logMetric is POST runs/log-metric.
func (s *Server) logMetric(w http.ResponseWriter, r *http.Request) error {
	var req mlflow.LogMetric
	if err := decode(r, &req); err != nil {
		return err
	}
	id, err := runID(req.RunRef)
	if err != nil {
		return err
	}
	if err := required("key", req.Key.V != ""); err != nil {
		return err
	}
	if err := required("value", req.Value.Valid); err != nil {
		return err
	}
	if err := required("timestamp", req.Timestamp.Valid); err != nil {
		return err
	}
	if err := tracking.ValidateRunID(id); err != nil {
		return err
	}
	if err := tracking.ValidateMetricKey(req.Key, ""); err != nil {
		return err
	}
	if err := tracking.ValidateMetricValue(req.Value, req.Timestamp, req.Step, ""); err != nil {
		return err
	}
	err = s.store.LogBatch(r.Context(), scopeOf(r), id, tracking.Batch{Metrics: []tracking.MetricPoint{{
		Key: req.Key.V, Value: req.Value.V, Timestamp: req.Timestamp.V, Step: req.Step.V,
		ModelID: req.ModelID.V, DatasetName: req.DatasetName.V, DatasetDigest: req.DatasetDigest.V,
	}}})
	if err != nil {
		return err
	}
	return ok(w, empty)
}

// logBatch is POST runs/log-batch: all-or-nothing, in one transaction.
func (s *Server) logBatch(w http.ResponseWriter, r *http.Request) error {
	body, err := readBody(r)
	if err != nil {
		return err
	}
	if len(body) > tracking.MaxBatchRequestBytes {
		return mlflow.InvalidParam("Batched logging API requests must be at most %d bytes, got a request of size %d.",
			tracking.MaxBatchRequestBytes, len(body))
	}
	var req mlflow.LogBatch
	if err := decodeJSON(body, &req); err != nil {
		return err
	}
	id, err := runID(req.RunRef)
	if err != nil {
		return err
	}
	batch, err := tracking.ValidateBatch(id, req)
	if err != nil {
		return err
	}
	if err := s.store.LogBatch(r.Context(), scopeOf(r), id, batch); err != nil {
		return err
	}
	return ok(w, empty)
}

// logInputs is POST runs/log-inputs.
func (s *Server) logInputs(w http.ResponseWriter, r *http.Request) error {
	var req mlflow.LogInputs
	if err := decode(r, &req); err != nil {
		return err
	}
	id, err := runID(req.RunRef)
	if err != nil {
		return err
	}
	inputs, models, err := tracking.ValidateInputs(req)
	if err != nil {
		return err
	}
	if err := s.store.LogInputs(r.Context(), scopeOf(r), id, inputs, models, tracking.NewID); err != nil {
		return err
	}
	return ok(w, empty)
}

// logOutputs is POST runs/outputs.
func (s *Server) logOutputs(w http.ResponseWriter, r *http.Request) error {
	var req mlflow.LogOutputs
	if err := decode(r, &req); err != nil {
		return err
	}
	id, err := runID(req.RunRef)
	if err != nil {
		return err
	}
	if err := required("models", len(req.Models) > 0); err != nil {
		return err
	}
	outs := make([]mlflow.ModelOutput, 0, len(req.Models))
	for i, m := range req.Models {
		if m.ModelID.V == "" {
			return mlflow.InvalidParam("Missing value for required parameter 'models[%d].model_id'.", i)
		}
		outs = append(outs, mlflow.ModelOutput{ModelID: m.ModelID.V, Step: m.Step.V})
	}
	if err := s.store.LogOutputs(r.Context(), scopeOf(r), id, outs, tracking.NewID); err != nil {
		return err
	}
	return ok(w, empty)
}
