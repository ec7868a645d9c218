package server

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/csgroup-oss/mlflow-sharinghub-go/internal/artifacts"

	"github.com/csgroup-oss/mlflow-sharinghub-go/internal/mlflow"
	"github.com/csgroup-oss/mlflow-sharinghub-go/internal/registry"
	"github.com/csgroup-oss/mlflow-sharinghub-go/internal/store"
	"github.com/csgroup-oss/mlflow-sharinghub-go/internal/tracking"
)

// Model version handlers.

// versionRequest decodes a request naming a model version, completing the
// name and parsing the version number.
func (s *Server) versionRequest(r *http.Request) (registryVersionReq, string, int64, error) {
	var req registryVersionReq
	if err := decode(r, &req); err != nil {
		return req, "", 0, err
	}
	if err := required("name", req.Name.V != ""); err != nil {
		return req, "", 0, err
	}
	if err := required("version", req.Version.V != ""); err != nil {
		return req, "", 0, err
	}
	name, err := s.modelName(r, req.Name.V, "name")
	if err != nil {
		return req, "", 0, err
	}
	v, err := registry.ParseVersion(req.Version.V)
	return req, name, v, err
}

// createModelVersion is POST model-versions/create. The version is READY
// at once; its source must be readable by the caller (see resolveSource).
func (s *Server) createModelVersion(w http.ResponseWriter, r *http.Request) error {
	var req registryVersionReq
	if err := decode(r, &req); err != nil {
		return err
	}
	if err := required("name", req.Name.V != ""); err != nil {
		return err
	}
	if err := required("source", req.Source.V != ""); err != nil {
		return err
	}
	name, err := s.modelName(r, req.Name.V, "name")
	if err != nil {
		return err
	}
	for _, t := range req.Tags {
		if err := registry.ValidateVersionTag(t.Key, t.Value); err != nil {
			return err
		}
	}
	if err := registry.ValidateDescription(req.Description.V); err != nil {
		return err
	}
	src, err := s.resolveSource(r, req)
	if err != nil {
		return err
	}
	v, err := s.store.CreateModelVersion(r.Context(), scopeOf(r), store.NewModelVersion{
		Name: name, Source: src.source, StorageLocation: src.storage, RunID: src.runID,
		RunLink: req.RunLink.V, Description: req.Description.V, Tags: req.Tags,
	})
	if err != nil {
		return err
	}
	if src.modelID != "" {
		if err := s.store.AddLoggedModelVersion(r.Context(), src.modelID, v.Name, v.Version); err != nil {
			return err
		}
	}
	return ok(w, map[string]any{"model_version": v})
}

// getModelVersion is GET model-versions/get.
func (s *Server) getModelVersion(w http.ResponseWriter, r *http.Request) error {
	_, name, version, err := s.versionRequest(r)
	if err != nil {
		return err
	}
	v, err := s.store.GetModelVersion(r.Context(), scopeOf(r), name, version)
	if err != nil {
		return err
	}
	return ok(w, map[string]any{"model_version": v})
}

// updateModelVersion is PATCH model-versions/update.
func (s *Server) updateModelVersion(w http.ResponseWriter, r *http.Request) error {
	req, name, version, err := s.versionRequest(r)
	if err != nil {
		return err
	}
	var d *string
	if req.Description.Valid {
		if err := registry.ValidateDescription(req.Description.V); err != nil {
			return err
		}
		d = &req.Description.V
	}
	v, err := s.store.UpdateModelVersion(r.Context(), scopeOf(r), name, version, d)
	if err != nil {
		return err
	}
	return ok(w, map[string]any{"model_version": v})
}

// transitionModelVersionStage is POST model-versions/transition-stage.
func (s *Server) transitionModelVersionStage(w http.ResponseWriter, r *http.Request) error {
	req, name, version, err := s.versionRequest(r)
	if err != nil {
		return err
	}
	if err := required("stage", req.Stage.V != ""); err != nil {
		return err
	}
	stage, err := registry.CanonicalStage(req.Stage.V)
	if err != nil {
		return err
	}
	archive := req.ArchiveExistingVersions.V
	if archive && !registry.IsActiveStage(stage) {
		return mlflow.InvalidParam("Model version transition cannot archive existing model versions "+
			"because '%s' is not an Active stage. Valid stages are ['Staging', 'Production']", req.Stage.V)
	}
	v, err := s.store.TransitionModelVersionStage(r.Context(), scopeOf(r), name, version, stage, archive)
	if err != nil {
		return err
	}
	return ok(w, map[string]any{"model_version": v})
}

// deleteModelVersion is DELETE model-versions/delete.
func (s *Server) deleteModelVersion(w http.ResponseWriter, r *http.Request) error {
	_, name, version, err := s.versionRequest(r)
	if err != nil {
		return err
	}
	if err := s.store.DeleteModelVersion(r.Context(), scopeOf(r), name, version); err != nil {
		return err
	}
	return ok(w, empty)
}

// getModelVersionDownloadURI is GET model-versions/get-download-uri.
func (s *Server) getModelVersionDownloadURI(w http.ResponseWriter, r *http.Request) error {
	_, name, version, err := s.versionRequest(r)
	if err != nil {
		return err
	}
	uri, err := s.store.ModelVersionDownloadURI(r.Context(), scopeOf(r), name, version)
	if err != nil {
		return err
	}
	return ok(w, map[string]string{"artifact_uri": uri})
}

// searchModelVersions is GET model-versions/search.
func (s *Server) searchModelVersions(w http.ResponseWriter, r *http.Request) error {
	var req registrySearchReq
	if err := decode(r, &req); err != nil {
		return err
	}
	max, err := tracking.ValidateMaxResults(req.MaxResults, registry.DefaultSearchVersions, registry.MaxSearchVersions)
	if err != nil {
		return err
	}
	vs, next, err := s.store.SearchModelVersions(r.Context(), store.ModelVersionSearch{
		Filter: req.Filter.V, OrderBy: trimAll(req.OrderBy), MaxResults: max, PageToken: req.PageToken.V, Scope: scopeOf(r),
	})
	if err != nil {
		return err
	}
	return ok(w, struct {
		ModelVersions []registry.ModelVersion `json:"model_versions,omitempty"`
		NextPageToken string                  `json:"next_page_token,omitempty"`
	}{vs, next})
}

// setModelVersionTag is POST model-versions/set-tag.
func (s *Server) setModelVersionTag(w http.ResponseWriter, r *http.Request) error {
	req, name, version, err := s.versionRequest(r)
	if err != nil {
		return err
	}
	if err := required("key", req.Key.V != ""); err != nil {
		return err
	}
	if err := registry.ValidateVersionTag(req.Key.V, req.Value.V); err != nil {
		return err
	}
	if err := s.store.SetModelVersionTag(r.Context(), scopeOf(r), name, version, req.Key.V, req.Value.V); err != nil {
		return err
	}
	return ok(w, empty)
}

// deleteModelVersionTag is DELETE model-versions/delete-tag.
func (s *Server) deleteModelVersionTag(w http.ResponseWriter, r *http.Request) error {
	req, name, version, err := s.versionRequest(r)
	if err != nil {
		return err
	}
	if err := required("key", req.Key.V != ""); err != nil {
		return err
	}
	if err := registry.ValidateVersionTag(req.Key.V, ""); err != nil {
		return err
	}
	if err := s.store.DeleteModelVersionTag(r.Context(), scopeOf(r), name, version, req.Key.V); err != nil {
		return err
	}
	return ok(w, empty)
}

// getModelVersionArtifact is GET model-versions/get-artifact?name=&version=&path=
// (served at the tracking URI's root, like get-artifact): a file of the
// version, streamed as an attachment. The version is looked up in the
// scope first, and the file's experiment is checked again, so another
// project's version or files answer 404. Versions stored outside this
// server's proxied artifacts (s3://..., runs:/...) answer NOT_IMPLEMENTED.
func (s *Server) getModelVersionArtifact(w http.ResponseWriter, r *http.Request) error {
	req, name, version, err := s.versionRequest(r)
	if err != nil {
		return err
	}
	rel := strings.Trim(req.Path.V, "/")
	if err := required("path", rel != ""); err != nil {
		return err
	}
	if err := artifacts.ValidatePath(rel); err != nil {
		return mlflow.InvalidParam("Invalid path: %s", req.Path.V)
	}
	uri, err := s.store.ModelVersionDownloadURI(r.Context(), scopeOf(r), name, version)
	if err != nil {
		return err
	}
	rest, proxied := strings.CutPrefix(uri, "mlflow-artifacts:")
	if !proxied {
		return mlflow.Errorf(mlflow.NotImplemented, "The files of version %s of %s are at %s, which this server "+
			"does not serve: only mlflow-artifacts:/ locations are.", strconv.FormatInt(version, 10), name, uri)
	}
	if strings.HasPrefix(rest, "//") { // mlflow-artifacts://host/path
		rest = rest[2:]
		if i := strings.IndexByte(rest, '/'); i >= 0 {
			rest = rest[i:]
		} else {
			rest = ""
		}
	}
	p := rel
	if root := strings.Trim(rest, "/"); root != "" {
		p = root + "/" + rel
	}
	if err := s.checkArtifactPath(r, p); err != nil {
		return err
	}
	return s.sendArtifact(w, r, p)
}
