package server

import (
	"net/http"

	"github.com/csgroup-oss/mlflow-sharinghub-go/internal/mlflow"
	"github.com/csgroup-oss/mlflow-sharinghub-go/internal/registry"
	"github.com/csgroup-oss/mlflow-sharinghub-go/internal/store"
	"github.com/csgroup-oss/mlflow-sharinghub-go/internal/tenancy"
	"github.com/csgroup-oss/mlflow-sharinghub-go/internal/tracking"
)

// Registered model handlers. Every call that takes a model name completes
// it in project scope (mlflow.register_model(uri, "churn") in project 42
// creates and later finds "churn (42)"); a name carrying another project's
// suffix is refused on create and is not found anywhere else.

// modelName validates and completes a model name for a lookup. field is the
// request field ("name").
func (s *Server) modelName(r *http.Request, name, field string) (string, error) {
	if err := required(field, name != ""); err != nil {
		return "", err
	}
	if err := registry.ValidateModelName(name, field); err != nil {
		return "", err
	}
	full, found := scopeOf(r).LookupName(name)
	if !found {
		return "", mlflow.NotFound("Registered Model with name=%s not found", name)
	}
	return full, nil
}

func decodeModel(r *http.Request) (registryModelReq, error) {
	var req registryModelReq
	err := decode(r, &req)
	return req, err
}

// createRegisteredModel is POST registered-models/create.
func (s *Server) createRegisteredModel(w http.ResponseWriter, r *http.Request) error {
	req, err := decodeModel(r)
	if err != nil {
		return err
	}
	if err := required("name", req.Name.V != ""); err != nil {
		return err
	}
	if err := registry.ValidateModelName(req.Name.V, "name"); err != nil {
		return err
	}
	for _, t := range req.Tags {
		if err := registry.ValidateModelTag(t.Key, t.Value); err != nil {
			return err
		}
	}
	if err := registry.ValidateDescription(req.Description.V); err != nil {
		return err
	}
	sc := scopeOf(r)
	name, tags, err := s.owned(sc, req.Name.V, req.Tags)
	if err != nil {
		return err
	}
	m, err := s.store.CreateRegisteredModel(r.Context(), sc, name, req.Description.V, tags)
	if err != nil {
		return err
	}
	return ok(w, map[string]any{"registered_model": m})
}

// getRegisteredModel is GET registered-models/get.
func (s *Server) getRegisteredModel(w http.ResponseWriter, r *http.Request) error {
	req, err := decodeModel(r)
	if err != nil {
		return err
	}
	name, err := s.modelName(r, req.Name.V, "name")
	if err != nil {
		return err
	}
	m, err := s.store.GetRegisteredModel(r.Context(), scopeOf(r), name)
	if err != nil {
		return err
	}
	return ok(w, map[string]any{"registered_model": m})
}

// updateRegisteredModel is PATCH registered-models/update.
func (s *Server) updateRegisteredModel(w http.ResponseWriter, r *http.Request) error {
	req, err := decodeModel(r)
	if err != nil {
		return err
	}
	name, err := s.modelName(r, req.Name.V, "name")
	if err != nil {
		return err
	}
	if err := registry.ValidateDescription(req.Description.V); err != nil {
		return err
	}
	m, err := s.store.UpdateRegisteredModel(r.Context(), scopeOf(r), name, req.Description.V)
	if err != nil {
		return err
	}
	return ok(w, map[string]any{"registered_model": m})
}

// renameRegisteredModel is POST registered-models/rename. In project scope
// the new name keeps (or gets) the project's suffix.
func (s *Server) renameRegisteredModel(w http.ResponseWriter, r *http.Request) error {
	req, err := decodeModel(r)
	if err != nil {
		return err
	}
	if err := required("name", req.Name.V != ""); err != nil {
		return err
	}
	if err := required("new_name", req.NewName.V != ""); err != nil {
		return err
	}
	if err := registry.ValidateModelName(req.NewName.V, "new_name"); err != nil {
		return err
	}
	name, err := s.modelName(r, req.Name.V, "name")
	if err != nil {
		return err
	}
	newName := req.NewName.V
	if sc := scopeOf(r); sc.IsProject() {
		if newName, err = tenancy.CompleteName(newName, sc.ProjectID); err != nil {
			return err
		}
	}
	m, err := s.store.RenameRegisteredModel(r.Context(), scopeOf(r), name, newName)
	if err != nil {
		return err
	}
	return ok(w, map[string]any{"registered_model": m})
}

// deleteRegisteredModel is DELETE registered-models/delete (JSON body).
func (s *Server) deleteRegisteredModel(w http.ResponseWriter, r *http.Request) error {
	req, err := decodeModel(r)
	if err != nil {
		return err
	}
	name, err := s.modelName(r, req.Name.V, "name")
	if err != nil {
		return err
	}
	if err := s.store.DeleteRegisteredModel(r.Context(), scopeOf(r), name); err != nil {
		return err
	}
	return ok(w, empty)
}

// searchRegisteredModels is GET registered-models/search.
func (s *Server) searchRegisteredModels(w http.ResponseWriter, r *http.Request) error {
	var req registrySearchReq
	if err := decode(r, &req); err != nil {
		return err
	}
	max, err := tracking.ValidateMaxResults(req.MaxResults, registry.DefaultSearchModels, registry.MaxSearchModels)
	if err != nil {
		return err
	}
	models, next, err := s.store.SearchRegisteredModels(r.Context(), store.RegisteredModelSearch{
		Filter: req.Filter.V, OrderBy: trimAll(req.OrderBy), MaxResults: max, PageToken: req.PageToken.V, Scope: scopeOf(r),
	})
	if err != nil {
		return err
	}
	return ok(w, struct {
		RegisteredModels []registry.RegisteredModel `json:"registered_models,omitempty"`
		NextPageToken    string                     `json:"next_page_token,omitempty"`
	}{models, next})
}

// getLatestVersions is POST and GET registered-models/get-latest-versions.
func (s *Server) getLatestVersions(w http.ResponseWriter, r *http.Request) error {
	req, err := decodeModel(r)
	if err != nil {
		return err
	}
	name, err := s.modelName(r, req.Name.V, "name")
	if err != nil {
		return err
	}
	var stages []string
	for _, st := range req.Stages {
		c, err := registry.CanonicalStage(st)
		if err != nil {
			return err
		}
		stages = append(stages, c)
	}
	vs, err := s.store.GetLatestVersions(r.Context(), scopeOf(r), name, stages)
	if err != nil {
		return err
	}
	return ok(w, struct {
		ModelVersions []registry.ModelVersion `json:"model_versions,omitempty"`
	}{vs})
}

// setRegisteredModelTag is POST registered-models/set-tag.
func (s *Server) setRegisteredModelTag(w http.ResponseWriter, r *http.Request) error {
	req, err := decodeModel(r)
	if err != nil {
		return err
	}
	name, err := s.modelName(r, req.Name.V, "name")
	if err != nil {
		return err
	}
	if err := required("key", req.Key.V != ""); err != nil {
		return err
	}
	if err := registry.ValidateModelTag(req.Key.V, req.Value.V); err != nil {
		return err
	}
	if err := s.ownershipTag(scopeOf(r), req.Key.V, "registered model"); err != nil {
		return err
	}
	if err := s.store.SetRegisteredModelTag(r.Context(), scopeOf(r), name, req.Key.V, req.Value.V); err != nil {
		return err
	}
	return ok(w, empty)
}

// deleteRegisteredModelTag is DELETE registered-models/delete-tag.
func (s *Server) deleteRegisteredModelTag(w http.ResponseWriter, r *http.Request) error {
	req, err := decodeModel(r)
	if err != nil {
		return err
	}
	name, err := s.modelName(r, req.Name.V, "name")
	if err != nil {
		return err
	}
	if err := required("key", req.Key.V != ""); err != nil {
		return err
	}
	if err := registry.ValidateModelTag(req.Key.V, ""); err != nil {
		return err
	}
	if err := s.ownershipTag(scopeOf(r), req.Key.V, "registered model"); err != nil {
		return err
	}
	if err := s.store.DeleteRegisteredModelTag(r.Context(), scopeOf(r), name, req.Key.V); err != nil {
		return err
	}
	return ok(w, empty)
}

// aliasRequest decodes and checks the model name and alias of an alias call.
func (s *Server) aliasRequest(r *http.Request) (registryModelReq, string, error) {
	req, err := decodeModel(r)
	if err != nil {
		return req, "", err
	}
	name, err := s.modelName(r, req.Name.V, "name")
	if err != nil {
		return req, "", err
	}
	if err := required("alias", req.Alias.V != ""); err != nil {
		return req, "", err
	}
	return req, name, registry.ValidateAlias(req.Alias.V)
}

// setAlias is POST registered-models/alias.
func (s *Server) setAlias(w http.ResponseWriter, r *http.Request) error {
	req, name, err := s.aliasRequest(r)
	if err != nil {
		return err
	}
	if err := registry.ValidateAliasNotReserved(req.Alias.V); err != nil {
		return err
	}
	if err := required("version", req.Version.V != ""); err != nil {
		return err
	}
	v, err := registry.ParseVersion(req.Version.V)
	if err != nil {
		return err
	}
	if err := s.store.SetAlias(r.Context(), scopeOf(r), name, req.Alias.V, v); err != nil {
		return err
	}
	return ok(w, empty)
}

// deleteAlias is DELETE registered-models/alias.
func (s *Server) deleteAlias(w http.ResponseWriter, r *http.Request) error {
	req, name, err := s.aliasRequest(r)
	if err != nil {
		return err
	}
	if err := s.store.DeleteAlias(r.Context(), scopeOf(r), name, req.Alias.V); err != nil {
		return err
	}
	return ok(w, empty)
}

// getModelVersionByAlias is GET registered-models/alias.
func (s *Server) getModelVersionByAlias(w http.ResponseWriter, r *http.Request) error {
	req, name, err := s.aliasRequest(r)
	if err != nil {
		return err
	}
	v, err := s.store.GetVersionByAlias(r.Context(), scopeOf(r), name, req.Alias.V)
	if err != nil {
		return err
	}
	return ok(w, map[string]any{"model_version": v})
}
