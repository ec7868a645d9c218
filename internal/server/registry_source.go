package server

import (
	"net/http"
	"strconv"

	"github.com/csgroup-oss/mlflow-sharinghub-go/internal/mlflow"
	"github.com/csgroup-oss/mlflow-sharinghub-go/internal/registry"
)

// resolvedSource is a model version source after the checks of
// model-versions/create.
type resolvedSource struct {
	source  string // stored as the version's source
	storage string // where the files are (storage_location)
	runID   string
	modelID string // the logged model registered, if any
}

// resolveSource checks a model version source the way MLflow's
// _create_model_version does, and applies tenancy: every run and logged
// model it names must be readable in the request's scope (a run or model
// of another project answers as a missing one).
//
//   - runs:/<run>/<path>: the run must be visible (and equal run_id when
//     given); the files are at <run artifact_uri>/<path>.
//   - models:/<model id>: the logged model must be visible (and equal
//     model_id when given); the files are at its artifact location, and
//     run_id defaults to its source run.
//   - models:/<name>/<version|stage|latest> and models:/<name>@<alias>: a
//     version of a visible registered model; the files are its download URI.
//   - mlflow-artifacts:/... (and http(s) proxy URLs): must lie inside the
//     artifact root of the run_id or model_id given.
//   - local paths: must lie inside a local artifact root of that run or model.
//   - anything else (s3://, ...): stored as is, after the traversal check.
//
// Prompt versions (tagged mlflow.prompt.is_prompt=true) keep their source
// as given, as in MLflow.
func (s *Server) resolveSource(r *http.Request, req registryVersionReq) (resolvedSource, error) {
	ctx, sc := r.Context(), scopeOf(r)
	src := req.Source.V
	out := resolvedSource{source: src, storage: src, runID: req.RunID.V, modelID: req.ModelID.V}
	if registry.IsPrompt(req.Tags) {
		return out, nil
	}
	parsed, err := registry.ParseSource(src)
	if err != nil {
		return out, err
	}
	if parsed.Kind != registry.SourceLocal {
		if err := registry.CheckTraversal(src); err != nil {
			return out, err
		}
	}
	runRoot := func(id, idName string) (string, error) {
		if id == "" {
			return "", registry.InvalidSource(src, idName)
		}
		run, err := s.store.GetRun(ctx, sc, id)
		if mlflow.IsCode(err, mlflow.ResourceDoesNotExist) {
			return "", registry.InvalidSource(src, idName)
		}
		if err != nil {
			return "", err
		}
		return run.Info.ArtifactURI, nil
	}
	modelRoot := func(id string) (string, string, error) {
		loc, run, err := s.store.LoggedModelSource(ctx, sc, id)
		if mlflow.IsCode(err, mlflow.ResourceDoesNotExist) {
			return "", "", registry.InvalidSource(src, "model_id")
		}
		return loc, run, err
	}
	// Every run named must be readable here.
	checkRun := func() error {
		if out.runID == "" {
			return nil
		}
		_, err := runRoot(out.runID, "run_id")
		return err
	}

	switch parsed.Kind {
	case registry.SourceRun:
		if out.runID != "" && out.runID != parsed.RunID {
			return out, registry.InvalidSource(src, "run_id")
		}
		root, err := runRoot(parsed.RunID, "run_id")
		if err != nil {
			return out, err
		}
		out.runID, out.storage = parsed.RunID, registry.AppendPath(root, parsed.Path)
		return out, nil

	case registry.SourceLoggedModel:
		if out.modelID != "" && out.modelID != parsed.ModelID {
			return out, registry.InvalidSource(src, "model_id")
		}
		loc, run, err := modelRoot(parsed.ModelID)
		if err != nil {
			return out, err
		}
		out.modelID, out.storage = parsed.ModelID, loc
		if out.runID == "" {
			out.runID = run
		}
		return out, checkRun()

	case registry.SourceModelVersion:
		return s.versionSource(r, parsed, out)

	case registry.SourceArtifactProxy, registry.SourceLocal:
		within := registry.WithinRoot
		if parsed.Kind == registry.SourceLocal {
			within = registry.LocalWithin
		}
		if out.modelID != "" {
			loc, run, err := modelRoot(out.modelID)
			if err != nil {
				return out, err
			}
			if !within(src, loc) {
				return out, registry.InvalidSource(src, "model_id")
			}
			if out.runID == "" {
				out.runID = run
			}
			return out, checkRun()
		}
		root, err := runRoot(out.runID, "run_id")
		if err != nil {
			return out, err
		}
		if !within(src, root) {
			if parsed.Kind == registry.SourceLocal {
				return out, mlflow.InvalidParam("Invalid model version source: '%s'. To use a local path as a model "+
					"version source, the run_id request parameter has to be specified and the local path has to be "+
					"contained within the artifact directory of the run specified by the run_id.", src)
			}
			return out, registry.InvalidSource(src, "run_id")
		}
		return out, nil
	}

	// Other URIs are stored as is; the run and logged model named must
	// still be readable here.
	if out.modelID != "" {
		_, run, err := modelRoot(out.modelID)
		if err != nil {
			return out, err
		}
		if out.runID == "" {
			out.runID = run
		}
	}
	return out, checkRun()
}

// versionSource resolves models:/<name>/<version> (or stage, latest,
// @alias): a version of a registered model visible here.
func (s *Server) versionSource(r *http.Request, p registry.Source, out resolvedSource) (resolvedSource, error) {
	ctx, sc := r.Context(), scopeOf(r)
	name, found := sc.LookupName(p.Name)
	if !found {
		return out, mlflow.NotFound("Registered Model with name=%s not found", p.Name)
	}
	m, err := s.store.GetRegisteredModel(ctx, sc, name)
	if err != nil {
		return out, err
	}
	if registry.IsPrompt(m.Tags) {
		return out, mlflow.InvalidParam("Invalid model version source: '%s'. Prompt versions cannot be used as "+
			"model version sources.", out.source)
	}
	var v *registry.ModelVersion
	switch {
	case p.Version != "":
		n, err := registry.ParseVersion(p.Version)
		if err != nil {
			return out, err
		}
		v, err = s.store.GetModelVersion(ctx, sc, name, n)
		if err != nil {
			return out, err
		}
	case p.Alias != "":
		if v, err = s.store.GetVersionByAlias(ctx, sc, name, p.Alias); err != nil {
			return out, err
		}
	case p.Stage != "":
		stage, err := registry.CanonicalStage(p.Stage)
		if err != nil {
			return out, err
		}
		vs, err := s.store.GetLatestVersions(ctx, sc, name, []string{stage})
		if err != nil {
			return out, err
		}
		if len(vs) == 0 {
			return out, mlflow.NotFound("No versions of model with name '%s' and stage '%s' found", name, stage)
		}
		v = &vs[0]
	default:
		if v, err = s.store.GetVersionByAlias(ctx, sc, name, "latest"); err != nil {
			return out, err
		}
	}
	runOf := ""
	if v.RunID != nil {
		runOf = *v.RunID
	}
	if out.runID != "" && out.runID != runOf {
		return out, mlflow.InvalidParam("Invalid model version source: '%s'. The run_id and model_id request "+
			"parameters must match the referenced model version.", out.source)
	}
	num, _ := strconv.ParseInt(v.Version, 10, 64)
	storage, err := s.store.ModelVersionDownloadURI(ctx, sc, name, num)
	if err != nil {
		return out, err
	}
	out.source = "models:/" + name + "/" + v.Version
	out.storage, out.runID = storage, runOf
	return out, nil
}
