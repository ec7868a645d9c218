package server

import (
	"errors"
	"net/http"
	"strings"

	"github.com/csgroup-oss/mlflow-sharinghub-go/internal/artifacts"
	"github.com/csgroup-oss/mlflow-sharinghub-go/internal/mlflow"
)

// The artifact routes of MLflow 3 logged models. A model is resolved
// through the request's scope (another project's model answers 404); its
// artifact_location, <experiment location>/models/<id>/artifacts, is a
// proxied root whose head is the model's experiment, checked again like
// every artifact path.

// loggedModelArtifactRoot resolves a logged model through the scope and
// returns its artifact location and the store path of rel below it.
// Errors: RESOURCE_DOES_NOT_EXIST, INVALID_PARAMETER_VALUE, NOT_IMPLEMENTED
// for a location this server does not serve.
func (s *Server) loggedModelArtifactRoot(r *http.Request, rel string) (uri, p string, err error) {
	if rel != "" {
		if err := artifacts.ValidatePath(rel); err != nil {
			return "", "", mlflow.InvalidParam("Invalid path: %s", rel)
		}
	}
	id, _ := loggedModelPath(r)
	m, err := s.store.GetLoggedModel(r.Context(), scopeOf(r), id, false)
	if err != nil {
		return "", "", err
	}
	return s.proxiedArtifactPath(r, m.Info.ArtifactURI, rel)
}

// listLoggedModelArtifacts is GET logged-models/{model_id}/artifacts/directories?artifact_directory_path=:
// the children of a folder of the model's artifacts, with paths relative to
// the model's artifact root, and the root_uri.
func (s *Server) listLoggedModelArtifacts(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Path mlflow.String `json:"artifact_directory_path"`
	}
	if err := decode(r, &req); err != nil {
		return err
	}
	rel := strings.TrimSuffix(req.Path.V, "/")
	uri, p, err := s.loggedModelArtifactRoot(r, rel)
	var me *mlflow.Error
	if errors.As(err, &me) && me.Code == mlflow.NotImplemented {
		return ok(w, map[string]any{"root_uri": uri})
	}
	if err != nil {
		return err
	}
	list, err := s.artifactStore().List(r.Context(), p)
	if err != nil {
		return artifactErr(err, rel)
	}
	out := map[string]any{"root_uri": uri}
	if len(list) > 0 {
		out["files"] = fileInfos(list, rel)
	}
	return ok(w, out)
}

// getLoggedModelArtifact is GET ajax-api/2.0/mlflow/logged-models/{model_id}/artifacts/files?artifact_file_path=:
// a file of the model's artifacts, streamed as an attachment.
func (s *Server) getLoggedModelArtifact(w http.ResponseWriter, r *http.Request) error {
	rel := r.URL.Query().Get("artifact_file_path")
	if rel == "" {
		return mlflow.InvalidParam(`Request must include the "artifact_file_path" query parameter.`)
	}
	_, p, err := s.loggedModelArtifactRoot(r, rel)
	if err != nil {
		return err
	}
	return s.sendArtifact(w, r, p)
}
