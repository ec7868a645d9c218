package server

import (
	"net/http"
	"strings"

	"github.com/csgroup-oss/mlflow-sharinghub-go/internal/mlflow"
	"github.com/csgroup-oss/mlflow-sharinghub-go/internal/store"
	"github.com/csgroup-oss/mlflow-sharinghub-go/internal/tenancy"
	"github.com/csgroup-oss/mlflow-sharinghub-go/internal/tracking"
)

// health is GET /health.
func (s *Server) health(w http.ResponseWriter, r *http.Request) error {
	if err := s.store.Ping(r.Context()); err != nil {
		return mlflow.Errorf(mlflow.TemporarilyUnavailable, "database unavailable")
	}
	return plain(w, "OK")
}

// version is GET /version: the MLflow version whose API we serve.
func (s *Server) version(w http.ResponseWriter, r *http.Request) error {
	return plain(w, store.MLflowVersion)
}

// createExperiment is POST experiments/create.
func (s *Server) createExperiment(w http.ResponseWriter, r *http.Request) error {
	var req mlflow.CreateExperiment
	if err := decode(r, &req); err != nil {
		return err
	}
	if err := required("name", req.Name.V != ""); err != nil {
		return err
	}
	if err := tracking.ValidateExperimentName(req.Name.V); err != nil {
		return err
	}
	if err := tracking.ValidateArtifactLocation(req.ArtifactLocation.V); err != nil {
		return err
	}
	for _, t := range req.Tags {
		if err := tracking.ValidateExperimentTag(t.Key, t.Value); err != nil {
			return err
		}
	}
	name, tags, err := s.owned(scopeOf(r), req.Name.V, req.Tags)
	if err != nil {
		return err
	}
	id, err := s.store.CreateExperiment(r.Context(), name, req.ArtifactLocation.V, tags)
	if err != nil {
		return err
	}
	return ok(w, map[string]string{"experiment_id": id})
}

// experimentID decodes and parses a required experiment_id.
func experimentID(r *http.Request) (int64, error) {
	var req mlflow.ExperimentRef
	if err := decode(r, &req); err != nil {
		return 0, err
	}
	if err := required("experiment_id", req.ExperimentID.V != ""); err != nil {
		return 0, err
	}
	return tracking.ParseExperimentID(req.ExperimentID.V)
}

// getExperiment is GET experiments/get.
func (s *Server) getExperiment(w http.ResponseWriter, r *http.Request) error {
	id, err := experimentID(r)
	if err != nil {
		return err
	}
	e, err := s.store.GetExperiment(r.Context(), scopeOf(r), id)
	if err != nil {
		return err
	}
	return ok(w, map[string]any{"experiment": e})
}

// getExperimentByName is GET experiments/get-by-name.
func (s *Server) getExperimentByName(w http.ResponseWriter, r *http.Request) error {
	var req mlflow.GetExperimentByName
	if err := decode(r, &req); err != nil {
		return err
	}
	if err := required("experiment_name", req.ExperimentName.V != ""); err != nil {
		return err
	}
	name, found := scopeOf(r).LookupName(req.ExperimentName.V)
	if !found {
		return mlflow.NotFound("Could not find experiment with name '%s'", req.ExperimentName.V)
	}
	e, err := s.store.GetExperimentByName(r.Context(), scopeOf(r), name)
	if err != nil {
		return err
	}
	return ok(w, map[string]any{"experiment": e})
}

// searchExperiments is GET and POST experiments/search.
func (s *Server) searchExperiments(w http.ResponseWriter, r *http.Request) error {
	var req mlflow.SearchExperiments
	if err := decode(r, &req); err != nil {
		return err
	}
	max, err := tracking.ValidateMaxResults(req.MaxResults, tracking.DefaultSearchExperiment, tracking.MaxSearchExperiments)
	if err != nil {
		return err
	}
	view, err := mlflow.ViewTypeOf(req.ViewType, "view_type")
	if err != nil {
		return err
	}
	exps, next, err := s.store.SearchExperiments(r.Context(), store.ExperimentSearch{
		Stages: view.Stages(), Filter: req.Filter.V, OrderBy: trimAll(req.OrderBy),
		MaxResults: max, PageToken: req.PageToken.V, Scope: scopeOf(r),
	})
	if err != nil {
		return err
	}
	resp := struct {
		Experiments   []mlflow.Experiment `json:"experiments,omitempty"`
		NextPageToken string              `json:"next_page_token,omitempty"`
	}{exps, next}
	return ok(w, resp)
}

// updateExperiment is POST experiments/update (rename).
func (s *Server) updateExperiment(w http.ResponseWriter, r *http.Request) error {
	var req mlflow.UpdateExperiment
	if err := decode(r, &req); err != nil {
		return err
	}
	if err := required("experiment_id", req.ExperimentID.V != ""); err != nil {
		return err
	}
	if err := required("new_name", req.NewName.V != ""); err != nil {
		return err
	}
	id, err := tracking.ParseExperimentID(req.ExperimentID.V)
	if err != nil {
		return err
	}
	if err := tracking.ValidateExperimentName(req.NewName.V); err != nil {
		return err
	}
	newName := req.NewName.V
	if sc := scopeOf(r); sc.IsProject() {
		if newName, err = tenancy.CompleteName(newName, sc.ProjectID); err != nil {
			return err
		}
	}
	if err := s.store.RenameExperiment(r.Context(), scopeOf(r), id, newName); err != nil {
		return err
	}
	return ok(w, empty)
}

// deleteExperiment is POST experiments/delete.
func (s *Server) deleteExperiment(w http.ResponseWriter, r *http.Request) error {
	id, err := experimentID(r)
	if err != nil {
		return err
	}
	if err := s.store.DeleteExperiment(r.Context(), scopeOf(r), id); err != nil {
		return err
	}
	return ok(w, empty)
}

// restoreExperiment is POST experiments/restore.
func (s *Server) restoreExperiment(w http.ResponseWriter, r *http.Request) error {
	id, err := experimentID(r)
	if err != nil {
		return err
	}
	if err := s.store.RestoreExperiment(r.Context(), scopeOf(r), id); err != nil {
		return err
	}
	return ok(w, empty)
}

// experimentKey decodes a request that names an experiment and a tag key
// (set-experiment-tag, delete-experiment-tag), refusing the ownership tag.
func (s *Server) experimentKey(r *http.Request) (int64, mlflow.SetExperimentTag, error) {
	var req mlflow.SetExperimentTag
	if err := decode(r, &req); err != nil {
		return 0, req, err
	}
	if err := required("experiment_id", req.ExperimentID.V != ""); err != nil {
		return 0, req, err
	}
	if err := required("key", req.Key.V != ""); err != nil {
		return 0, req, err
	}
	id, err := tracking.ParseExperimentID(req.ExperimentID.V)
	if err != nil {
		return 0, req, err
	}
	return id, req, s.ownershipTag(scopeOf(r), req.Key.V, "experiment")
}

// setExperimentTag is POST experiments/set-experiment-tag.
func (s *Server) setExperimentTag(w http.ResponseWriter, r *http.Request) error {
	id, req, err := s.experimentKey(r)
	if err != nil {
		return err
	}
	if err := tracking.ValidateExperimentTag(req.Key.V, req.Value.V); err != nil {
		return err
	}
	if err := s.store.SetExperimentTag(r.Context(), scopeOf(r), id, req.Key.V, req.Value.V); err != nil {
		return err
	}
	return ok(w, empty)
}

// deleteExperimentTag is POST experiments/delete-experiment-tag.
func (s *Server) deleteExperimentTag(w http.ResponseWriter, r *http.Request) error {
	id, req, err := s.experimentKey(r)
	if err != nil {
		return err
	}
	if err := s.store.DeleteExperimentTag(r.Context(), scopeOf(r), id, req.Key.V); err != nil {
		return err
	}
	return ok(w, empty)
}

// searchDatasets is POST experiments/search-datasets.
func (s *Server) searchDatasets(w http.ResponseWriter, r *http.Request) error {
	var req mlflow.SearchDatasets
	if err := decode(r, &req); err != nil {
		return err
	}
	if len(req.ExperimentIDs) == 0 {
		return mlflow.InvalidParam("SearchDatasets request must specify at least one experiment_id.")
	}
	if len(req.ExperimentIDs) > 20 {
		return mlflow.InvalidParam("SearchDatasets request cannot specify more than 20 experiment_ids. Received %d experiment_ids.", len(req.ExperimentIDs))
	}
	ids, err := parseExperimentIDs(req.ExperimentIDs)
	if err != nil {
		return err
	}
	sums, err := s.store.SearchDatasets(r.Context(), scopeOf(r), ids)
	if err != nil {
		return err
	}
	return ok(w, struct {
		DatasetSummaries []mlflow.DatasetSummary `json:"dataset_summaries,omitempty"`
	}{sums})
}

func parseExperimentIDs(in []string) ([]int64, error) {
	out := make([]int64, 0, len(in))
	for _, s := range in {
		id, err := tracking.ParseExperimentID(strings.TrimSpace(s))
		if err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, nil
}

// owned applies the tenancy rules of a create in project scope: the name
// gets the project's suffix and the ownership tag is set to the project
// path, whatever the caller sent for it.
func (s *Server) owned(sc tenancy.Scope, name string, tags []mlflow.KeyValue) (string, []mlflow.KeyValue, error) {
	if !sc.IsProject() {
		return name, tags, nil
	}
	full, err := tenancy.CompleteName(name, sc.ProjectID)
	if err != nil {
		return "", nil, err
	}
	out := make([]mlflow.KeyValue, 0, len(tags)+1)
	for _, t := range tags {
		if t.Key != s.opts.ProjectTag {
			out = append(out, t)
		}
	}
	return full, append(out, mlflow.KeyValue{Key: s.opts.ProjectTag, Value: sc.ProjectPath}), nil
}

// ownershipTag refuses changes to the tag that records the owning project
// of an experiment or a registered model (what names it in the message).
func (s *Server) ownershipTag(sc tenancy.Scope, key, what string) error {
	if sc.All || key != s.opts.ProjectTag {
		return nil
	}
	return mlflow.Errorf(mlflow.PermissionDenied,
		"The '%s' tag records the project that owns this %s; it cannot be set, changed or deleted.", key, what)
}
