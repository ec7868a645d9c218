package server

import (
	"net/http"
	"strings"

	"github.com/csgroup-oss/mlflow-sharinghub-go/internal/mlflow"
	"github.com/csgroup-oss/mlflow-sharinghub-go/internal/search"
	"github.com/csgroup-oss/mlflow-sharinghub-go/internal/store"
	"github.com/csgroup-oss/mlflow-sharinghub-go/internal/tracking"
)

// loggedModelsPrefix is the path of the logged-model routes below the API
// prefix.
const loggedModelsPrefix = "/mlflow/logged-models/"

// loggedModelPath returns the model id (and the tag key, for
// .../tags/{tag_key}) of a logged-model route. The handler is reached
// through ServeMux.Handler, which does not fill r.PathValue, so the path
// is read here; the route pattern has already matched it.
func loggedModelPath(r *http.Request) (modelID, tagKey string) {
	_, rest, ok := strings.Cut(r.URL.Path, loggedModelsPrefix)
	if !ok {
		return "", ""
	}
	parts := strings.Split(rest, "/")
	modelID = parts[0]
	if len(parts) == 3 && parts[1] == "tags" {
		tagKey = parts[2]
	}
	return modelID, tagKey
}

// createLoggedModel is POST logged-models.
func (s *Server) createLoggedModel(w http.ResponseWriter, r *http.Request) error {
	var req mlflow.CreateLoggedModel
	if err := decode(r, &req); err != nil {
		return err
	}
	if err := required("experiment_id", req.ExperimentID.V != ""); err != nil {
		return err
	}
	expID, err := tracking.ParseExperimentID(req.ExperimentID.V)
	if err != nil {
		return err
	}
	// MLflow reads an empty name as none: a generated name.
	name := req.Name.V
	if name == "" {
		name = tracking.RandomRunName()
	} else if err := tracking.ValidateLoggedModelName(req.Name); err != nil {
		return err
	}
	params, err := tracking.LoggedModelKeyValues("params", req.Params)
	if err != nil {
		return err
	}
	tags, err := tracking.LoggedModelKeyValues("tags", req.Tags)
	if err != nil {
		return err
	}
	m, err := s.store.CreateLoggedModel(r.Context(), scopeOf(r), store.NewLoggedModel{
		ID: tracking.NewLoggedModelID(), ExperimentID: expID, Name: name,
		ModelType: req.ModelType.V, SourceRunID: req.SourceRunID.V, Params: params, Tags: tags,
	})
	if err != nil {
		return err
	}
	return ok(w, map[string]any{"model": m})
}

// getLoggedModel is GET logged-models/{model_id}.
func (s *Server) getLoggedModel(w http.ResponseWriter, r *http.Request) error {
	id, _ := loggedModelPath(r)
	allowDeleted := strings.ToLower(r.URL.Query().Get("allow_deleted")) == "true"
	m, err := s.store.GetLoggedModel(r.Context(), scopeOf(r), id, allowDeleted)
	if err != nil {
		return err
	}
	return ok(w, map[string]any{"model": m})
}

// finalizeLoggedModel is PATCH logged-models/{model_id}.
func (s *Server) finalizeLoggedModel(w http.ResponseWriter, r *http.Request) error {
	var req mlflow.FinalizeLoggedModel
	if err := decode(r, &req); err != nil {
		return err
	}
	if err := required("status", req.Status.Valid); err != nil {
		return err
	}
	status, err := tracking.ParseLoggedModelStatus(req.Status)
	if err != nil {
		return err
	}
	id, _ := loggedModelPath(r)
	m, err := s.store.FinalizeLoggedModel(r.Context(), scopeOf(r), id, status)
	if err != nil {
		return err
	}
	return ok(w, map[string]any{"model": m})
}

// deleteLoggedModel is DELETE logged-models/{model_id}.
func (s *Server) deleteLoggedModel(w http.ResponseWriter, r *http.Request) error {
	id, _ := loggedModelPath(r)
	if err := s.store.DeleteLoggedModel(r.Context(), scopeOf(r), id); err != nil {
		return err
	}
	return ok(w, empty)
}

// setLoggedModelTags is PATCH logged-models/{model_id}/tags.
func (s *Server) setLoggedModelTags(w http.ResponseWriter, r *http.Request) error {
	var req mlflow.SetLoggedModelTags
	if err := decode(r, &req); err != nil {
		return err
	}
	tags, err := tracking.LoggedModelKeyValues("tags", req.Tags)
	if err != nil {
		return err
	}
	id, _ := loggedModelPath(r)
	if err := s.store.SetLoggedModelTags(r.Context(), scopeOf(r), id, tags); err != nil {
		return err
	}
	return ok(w, empty)
}

// deleteLoggedModelTag is DELETE logged-models/{model_id}/tags/{tag_key}.
func (s *Server) deleteLoggedModelTag(w http.ResponseWriter, r *http.Request) error {
	id, key := loggedModelPath(r)
	if err := s.store.DeleteLoggedModelTag(r.Context(), scopeOf(r), id, key); err != nil {
		return err
	}
	return ok(w, empty)
}

// logLoggedModelParams is POST logged-models/{model_id}/params.
func (s *Server) logLoggedModelParams(w http.ResponseWriter, r *http.Request) error {
	var req mlflow.LogLoggedModelParams
	if err := decode(r, &req); err != nil {
		return err
	}
	params, err := tracking.LoggedModelKeyValues("params", req.Params)
	if err != nil {
		return err
	}
	id, _ := loggedModelPath(r)
	if err := s.store.LogLoggedModelParams(r.Context(), scopeOf(r), id, params); err != nil {
		return err
	}
	return ok(w, empty)
}

// searchLoggedModels is POST logged-models/search.
func (s *Server) searchLoggedModels(w http.ResponseWriter, r *http.Request) error {
	var req mlflow.SearchLoggedModels
	if err := decode(r, &req); err != nil {
		return err
	}
	if err := required("experiment_ids", len(req.ExperimentIDs) > 0); err != nil {
		return err
	}
	// The unset field reads as the proto default (50); an explicit 0 is
	// "none", which the store turns into 100.
	max := tracking.DefaultSearchLoggedModelsMax
	if req.MaxResults.Valid {
		switch {
		case req.MaxResults.V < 0:
			return mlflow.InvalidParam("Invalid value %d for parameter 'max_results' supplied. It must be a positive integer",
				req.MaxResults.V)
		case req.MaxResults.V == 0:
			max = 100
		case req.MaxResults.V > 1<<31:
			max = 1 << 31
		default:
			max = int(req.MaxResults.V)
		}
	}
	var datasets []search.LoggedModelDataset
	for _, d := range req.Datasets {
		datasets = append(datasets, search.LoggedModelDataset{Name: d.DatasetName.V, Digest: d.DatasetDigest.V})
	}
	var order []search.LoggedModelOrder
	for _, o := range req.OrderBy {
		asc := true
		if o.Ascending.Valid {
			asc = o.Ascending.V
		}
		order = append(order, search.LoggedModelOrder{
			FieldName: o.FieldName.V, Ascending: asc, DatasetName: o.DatasetName.V, DatasetDigest: o.DatasetDigest.V,
		})
	}
	models, next, err := s.store.SearchLoggedModels(r.Context(), store.LoggedModelSearch{
		ExperimentIDs: req.ExperimentIDs, Filter: req.Filter.V, Datasets: datasets, OrderBy: order,
		MaxResults: max, PageToken: req.PageToken.V, Scope: scopeOf(r),
	})
	if err != nil {
		return err
	}
	return ok(w, struct {
		Models        []*mlflow.LoggedModel `json:"models,omitempty"`
		NextPageToken string                `json:"next_page_token,omitempty"`
	}{models, next})
}

// logModel is the 2.x POST runs/log-model: the MLmodel JSON is appended to
// the run's mlflow.log-model.history tag.
func (s *Server) logModel(w http.ResponseWriter, r *http.Request) error {
	var req mlflow.LogModel
	if err := decode(r, &req); err != nil {
		return err
	}
	id, err := runID(req.RunRef)
	if err != nil {
		return err
	}
	if err := required("model_json", req.ModelJSON.V != ""); err != nil {
		return err
	}
	if err := s.store.RecordLoggedModel(r.Context(), scopeOf(r), id, req.ModelJSON.V); err != nil {
		return err
	}
	return ok(w, empty)
}
