package server

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/csgroup-oss/mlflow-sharinghub-go/internal/artifacts"
	"github.com/csgroup-oss/mlflow-sharinghub-go/internal/mlflow"
)

// The proxied artifact service (mlflow-artifacts) and the run artifact
// routes. Every path starts with the id of the experiment that owns it;
// the gate has checked the project role for the route's rule, and
// artifactPath checks that the experiment is one the scope sees, so a path
// into another project's experiment answers 404.

// stemArtifacts is the route stem of the proxied artifact files.
const stemArtifacts = "/mlflow-artifacts/artifacts/"

// maxUploadArtifactBytes is MLflow's limit for POST upload-artifact.
const maxUploadArtifactBytes = 10 << 20

// partURLTTL is how long a local multipart part URL stays valid.
const partURLTTL = 6 * time.Hour

// defaultArtifacts is the store of servers built without one (tests).
var defaultArtifacts = sync.OnceValue(func() artifacts.Store { return artifacts.NewMemory() })

// artifactStore returns the server's artifact store.
func (s *Server) artifactStore() artifacts.Store {
	if s.opts.Artifacts != nil {
		return s.opts.Artifacts
	}
	return defaultArtifacts()
}

// artifactErr maps artifact store errors to MLflow errors.
func artifactErr(err error, p string) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, artifacts.ErrNotFound):
		return mlflow.NotFound("Artifact '%s' does not exist.", p)
	case errors.Is(err, artifacts.ErrIsDir):
		return mlflow.InvalidParam("Artifact path refers to a directory, not a file: '%s'", p)
	case errors.Is(err, artifacts.ErrInvalidPath):
		return mlflow.InvalidParam("Invalid path: %s", p)
	case errors.Is(err, artifacts.ErrInvalidUpload):
		return mlflow.InvalidParam("Invalid multipart upload: %v", err)
	}
	return err
}

// checkArtifactPath validates p and checks that its first segment is an
// experiment the request's scope sees. Errors: INVALID_PARAMETER_VALUE,
// RESOURCE_DOES_NOT_EXIST.
func (s *Server) checkArtifactPath(r *http.Request, p string) error {
	if err := artifacts.ValidatePath(p); err != nil {
		return mlflow.InvalidParam("Invalid path: %s", p)
	}
	head, _, _ := strings.Cut(p, "/")
	id, err := strconv.ParseInt(head, 10, 64)
	if err != nil || id < 0 {
		return mlflow.NotFound("Artifact '%s' does not exist.", p)
	}
	if _, err := s.store.GetExperiment(r.Context(), scopeOf(r), id); err != nil {
		var me *mlflow.Error
		if errors.As(err, &me) && me.Code == mlflow.ResourceDoesNotExist {
			return mlflow.NotFound("Artifact '%s' does not exist.", p)
		}
		return err
	}
	return nil
}

// routeTail returns the {path...} of a route "<api prefix><stem>{path...}":
// what follows stem in the (decoded) route path. The server dispatches
// through mux.Handler, which does not fill r.PathValue.
func routeTail(r *http.Request, stem string) string {
	p := r.URL.Path
	for _, prefix := range []string{"/api/2.0", "/ajax-api/2.0"} {
		if rest, ok := strings.CutPrefix(p, prefix+stem); ok {
			return rest
		}
	}
	return ""
}

// artifactPath is the {path...} of a proxied artifact route, checked.
func (s *Server) artifactPath(r *http.Request, stem string) (string, error) {
	p := routeTail(r, stem)
	return p, s.checkArtifactPath(r, p)
}

// fileInfoJSON is MLflow's FileInfo.
type fileInfoJSON struct {
	Path     string `json:"path"`
	IsDir    bool   `json:"is_dir"`
	FileSize *int64 `json:"file_size,omitempty"`
}

func fileInfos(list []artifacts.FileInfo, dir string) []fileInfoJSON {
	out := make([]fileInfoJSON, len(list))
	for i, fi := range list {
		out[i] = fileInfoJSON{Path: fi.Name, IsDir: fi.IsDir}
		if dir != "" {
			out[i].Path = dir + "/" + fi.Name
		}
		if !fi.IsDir {
			size := fi.Size
			out[i].FileSize = &size
		}
	}
	return out
}

// listArtifactsProxied is GET mlflow-artifacts/artifacts?path=: the base
// names of a directory's children; {} for a missing directory. The root
// (no path) lists nothing: experiments are listed through the tracking API.
func (s *Server) listArtifactsProxied(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Path mlflow.String `json:"path"`
	}
	if err := decode(r, &req); err != nil {
		return err
	}
	p := strings.TrimSuffix(req.Path.V, "/")
	if p == "" {
		return ok(w, empty)
	}
	if err := s.checkArtifactPath(r, p); err != nil {
		return err
	}
	list, err := s.artifactStore().List(r.Context(), p)
	if err != nil {
		return artifactErr(err, p)
	}
	if len(list) == 0 {
		return ok(w, empty)
	}
	return ok(w, map[string]any{"files": fileInfos(list, "")})
}

// downloadArtifact is GET mlflow-artifacts/artifacts/{path...}: the file,
// streamed, as an attachment.
func (s *Server) downloadArtifact(w http.ResponseWriter, r *http.Request) error {
	p, err := s.artifactPath(r, stemArtifacts)
	if err != nil {
		return err
	}
	return s.sendArtifact(w, r, p)
}

// sendArtifact streams the file at p with MLflow's attachment headers.
func (s *Server) sendArtifact(w http.ResponseWriter, r *http.Request, p string) error {
	rc, size, err := s.artifactStore().Get(r.Context(), p)
	if err != nil {
		return artifactErr(err, p)
	}
	defer rc.Close()
	name := path.Base(p)
	ct := mime.TypeByExtension(path.Ext(name))
	if ct == "" {
		ct = "application/octet-stream"
	}
	h := w.Header()
	h.Set("Content-Type", ct)
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	h.Set("X-Content-Type-Options", "nosniff")
	if rs, ok := rc.(io.ReadSeeker); ok {
		http.ServeContent(w, r, "", time.Time{}, rs) // ranges, HEAD
		return nil
	}
	h.Set("Content-Length", strconv.FormatInt(size, 10))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = io.Copy(w, rc) // the status is sent: a broken stream just ends
	}
	return nil
}

// uploadArtifact is PUT mlflow-artifacts/artifacts/{path...}: the raw body,
// streamed to the store.
func (s *Server) uploadArtifact(w http.ResponseWriter, r *http.Request) error {
	p, err := s.artifactPath(r, stemArtifacts)
	if err != nil {
		return err
	}
	if err := s.artifactStore().Put(r.Context(), p, r.Body); err != nil {
		return artifactErr(err, p)
	}
	return ok(w, empty)
}

// deleteArtifact is DELETE mlflow-artifacts/artifacts/{path...}: the file
// or directory.
func (s *Server) deleteArtifact(w http.ResponseWriter, r *http.Request) error {
	p, err := s.artifactPath(r, stemArtifacts)
	if err != nil {
		return err
	}
	if err := s.artifactStore().Delete(r.Context(), p); err != nil {
		return artifactErr(err, p)
	}
	return ok(w, empty)
}

// mpuFileName is the file name of a multipart upload request's "path": its
// base name (clients before 3.18 sent the whole local path, maybe Windows).
func mpuFileName(dir, name string) (string, error) {
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	if err := required("path", name != ""); err != nil {
		return "", err
	}
	if err := artifacts.ValidatePath(name); err != nil {
		return "", mlflow.InvalidParam("Invalid path: %s", name)
	}
	return dir + "/" + name, nil
}

type mpuCredential struct {
	PartNumber int               `json:"part_number"`
	URL        string            `json:"url"`
	Headers    map[string]string `json:"headers"`
}

// createMultipartUpload is POST mlflow-artifacts/mpu/create/{path...}:
// starts an upload of {path}/<file name> and returns one URL per part:
// presigned S3 URLs, or for other stores signed URLs back to this server.
func (s *Server) createMultipartUpload(w http.ResponseWriter, r *http.Request) error {
	dir, err := s.artifactPath(r, "/mlflow-artifacts/mpu/create/")
	if err != nil {
		return err
	}
	var req struct {
		Path     mlflow.String `json:"path"`
		NumParts mlflow.Int64  `json:"num_parts"`
	}
	if err := decode(r, &req); err != nil {
		return err
	}
	p, err := mpuFileName(dir, req.Path.V)
	if err != nil {
		return err
	}
	n := req.NumParts.V
	if n < 1 || n > 10000 {
		return mlflow.InvalidParam("num_parts must be between 1 and 10000, got %d.", n)
	}
	st := s.artifactStore()
	id, err := st.CreateMultipart(r.Context(), p)
	if err != nil {
		return artifactErr(err, p)
	}
	creds := make([]mpuCredential, n)
	presigner, presigned := st.(artifacts.PartPresigner)
	base := partBaseURL(r)
	expires := time.Now().Add(partURLTTL).Unix()
	for i := range creds {
		num := i + 1
		c := mpuCredential{PartNumber: num, Headers: map[string]string{}}
		if presigned {
			u, h, err := presigner.PresignPart(r.Context(), p, id, num, partURLTTL)
			if err != nil {
				_ = st.AbortMultipart(context.WithoutCancel(r.Context()), p, id)
				return err
			}
			c.URL, c.Headers = u, h
		} else {
			q := url.Values{"upload_id": {id}, "part_number": {strconv.Itoa(num)}, "expires": {strconv.FormatInt(expires, 10)}}
			q.Set("signature", partSignature(p, id, num, expires))
			c.URL = base + escapePath(p) + "?" + q.Encode()
		}
		creds[i] = c
	}
	return ok(w, map[string]any{"upload_id": id, "credentials": creds})
}

// escapePath escapes each segment of a slash path.
func escapePath(p string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return strings.Join(segs, "/")
}

// partBaseURL is this server's URL for part uploads, as the caller reached
// it: scheme and host (forwarded ones first), then the original path up to
// the API prefix (the project's tracking URI included).
func partBaseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if fp := r.Header.Get("X-Forwarded-Proto"); fp == "http" || fp == "https" {
		scheme = fp
	}
	host := r.Host
	if fh := r.Header.Get("X-Forwarded-Host"); fh != "" && !strings.ContainsAny(fh, "/?#@ ") {
		host = fh
	}
	orig, _, _ := strings.Cut(r.RequestURI, "?")
	prefix := ""
	if i := strings.Index(orig, "/mlflow-artifacts/mpu/create/"); i >= 0 {
		prefix = orig[:i]
	}
	return scheme + "://" + host + prefix + "/mlflow-artifacts/mpu/part/"
}

// partKey signs local part URLs; it lives as long as the process.
var partKey = sync.OnceValue(func() []byte {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return b
})

// partSignature is the HMAC that lets an unauthenticated PUT upload part n
// of upload id to p until expires.
func partSignature(p, id string, n int, expires int64) string {
	m := hmac.New(sha256.New, partKey())
	m.Write([]byte("mlflow-artifacts part\x00" + p + "\x00" + id + "\x00" + strconv.Itoa(n) + "\x00" + strconv.FormatInt(expires, 10)))
	return hex.EncodeToString(m.Sum(nil))
}

// uploadPart is PUT mlflow-artifacts/mpu/part/{path...}: one part of a
// local multipart upload. The client sends no credentials: the URL's
// signature, made by createMultipartUpload after the access checks,
// authorizes exactly this part of this upload until it expires.
func (s *Server) uploadPart(w http.ResponseWriter, r *http.Request) error {
	p := routeTail(r, "/mlflow-artifacts/mpu/part/")
	q := r.URL.Query()
	id := q.Get("upload_id")
	n, errN := strconv.Atoi(q.Get("part_number"))
	expires, errE := strconv.ParseInt(q.Get("expires"), 10, 64)
	sig, errS := hex.DecodeString(q.Get("signature"))
	want, _ := hex.DecodeString(partSignature(p, id, n, expires))
	if errN != nil || errE != nil || errS != nil || !hmac.Equal(sig, want) {
		return mlflow.Errorf(mlflow.PermissionDenied, "Invalid or missing part upload signature.")
	}
	if time.Now().Unix() > expires {
		return mlflow.Errorf(mlflow.PermissionDenied, "The part upload URL has expired.")
	}
	etag, err := s.artifactStore().UploadPart(r.Context(), p, id, n, r.Body)
	if err != nil {
		return artifactErr(err, p)
	}
	w.Header().Set("ETag", etag)
	return ok(w, empty)
}

// completeMultipartUpload is POST mlflow-artifacts/mpu/complete/{path...}.
func (s *Server) completeMultipartUpload(w http.ResponseWriter, r *http.Request) error {
	dir, err := s.artifactPath(r, "/mlflow-artifacts/mpu/complete/")
	if err != nil {
		return err
	}
	var req struct {
		Path     mlflow.String `json:"path"`
		UploadID mlflow.String `json:"upload_id"`
		Parts    []struct {
			PartNumber mlflow.Int64  `json:"part_number"`
			ETag       mlflow.String `json:"etag"`
		} `json:"parts"`
	}
	if err := decode(r, &req); err != nil {
		return err
	}
	p, err := mpuFileName(dir, req.Path.V)
	if err != nil {
		return err
	}
	if err := required("parts", len(req.Parts) > 0); err != nil {
		return err
	}
	parts := make([]artifacts.Part, len(req.Parts))
	for i, pt := range req.Parts {
		parts[i] = artifacts.Part{Number: int(pt.PartNumber.V), ETag: pt.ETag.V}
	}
	if err := s.artifactStore().CompleteMultipart(r.Context(), p, req.UploadID.V, parts); err != nil {
		return artifactErr(err, p)
	}
	return ok(w, empty)
}

// abortMultipartUpload is POST mlflow-artifacts/mpu/abort/{path...}.
func (s *Server) abortMultipartUpload(w http.ResponseWriter, r *http.Request) error {
	dir, err := s.artifactPath(r, "/mlflow-artifacts/mpu/abort/")
	if err != nil {
		return err
	}
	var req struct {
		Path     mlflow.String `json:"path"`
		UploadID mlflow.String `json:"upload_id"`
	}
	if err := decode(r, &req); err != nil {
		return err
	}
	p, err := mpuFileName(dir, req.Path.V)
	if err != nil {
		return err
	}
	if err := s.artifactStore().AbortMultipart(r.Context(), p, req.UploadID.V); err != nil {
		return artifactErr(err, p)
	}
	return ok(w, empty)
}

// runArtifactRoot resolves a run through the scope and returns its
// artifact URI and, for a proxied (mlflow-artifacts:) root, the store path
// of rel below it (checked like every artifact path). Errors:
// RESOURCE_DOES_NOT_EXIST, INVALID_PARAMETER_VALUE, NOT_IMPLEMENTED for a
// root this server does not serve.
func (s *Server) runArtifactRoot(r *http.Request, runID, rel string) (uri, p string, err error) {
	if err := required("run_id", runID != ""); err != nil {
		return "", "", err
	}
	if rel != "" {
		if err := artifacts.ValidatePath(rel); err != nil {
			return "", "", mlflow.InvalidParam("Invalid path: %s", rel)
		}
	}
	run, err := s.store.GetRun(r.Context(), scopeOf(r), runID)
	if err != nil {
		return "", "", err
	}
	return s.proxiedArtifactPath(r, run.Info.ArtifactURI, rel)
}

// proxiedArtifactPath returns uri and, for a proxied (mlflow-artifacts:)
// artifact root uri, the store path of rel (already validated) below it,
// checked like every artifact path. Errors: RESOURCE_DOES_NOT_EXIST,
// INVALID_PARAMETER_VALUE, NOT_IMPLEMENTED for a root this server does not
// serve.
func (s *Server) proxiedArtifactPath(r *http.Request, uri, rel string) (string, string, error) {
	rest, isProxied := strings.CutPrefix(uri, "mlflow-artifacts:")
	if !isProxied {
		return uri, "", mlflow.Errorf(mlflow.NotImplemented,
			"Run artifact root '%s' is not served by this server: only mlflow-artifacts:/ roots are.", uri)
	}
	if strings.HasPrefix(rest, "//") { // mlflow-artifacts://host/path
		rest = rest[2:]
		if i := strings.IndexByte(rest, '/'); i >= 0 {
			rest = rest[i:]
		} else {
			rest = ""
		}
	}
	root := strings.Trim(rest, "/")
	p := root
	if rel != "" {
		p = root + "/" + rel
	}
	if err := s.checkArtifactPath(r, p); err != nil {
		return "", "", err
	}
	return uri, p, nil
}

// listRunArtifacts is GET mlflow/artifacts/list: the children of path in
// the run's artifacts, with run-relative paths, and the run's root_uri.
func (s *Server) listRunArtifacts(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		mlflow.RunRef
		Path mlflow.String `json:"path"`
	}
	if err := decode(r, &req); err != nil {
		return err
	}
	rel := strings.TrimSuffix(req.Path.V, "/")
	uri, p, err := s.runArtifactRoot(r, req.ID(), rel)
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

// getRunArtifact is GET /get-artifact?run_uuid=|run_id=&path=: a run
// artifact file, as an attachment.
func (s *Server) getRunArtifact(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	rel := q.Get("path")
	if err := required("path", rel != ""); err != nil {
		return err
	}
	_, p, err := s.runArtifactRoot(r, cmpOr(q.Get("run_id"), q.Get("run_uuid")), rel)
	if err != nil {
		return err
	}
	return s.sendArtifact(w, r, p)
}

// uploadRunArtifact is POST ajax-api/2.0/mlflow/upload-artifact?run_uuid=&path=:
// the raw body (at most 10 MB, not empty) stored as a run artifact.
func (s *Server) uploadRunArtifact(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	runID := cmpOr(q.Get("run_id"), q.Get("run_uuid"))
	if runID == "" {
		return mlflow.InvalidParam("Request must specify run_id or run_uuid.")
	}
	rel := q.Get("path")
	if rel == "" {
		return mlflow.InvalidParam("Request must specify path.")
	}
	if r.ContentLength > maxUploadArtifactBytes {
		return mlflow.InvalidParam("Artifact size is too large. Max size is 10MB.")
	}
	_, p, err := s.runArtifactRoot(r, runID, rel)
	if err != nil {
		return err
	}
	data, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, maxUploadArtifactBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return mlflow.InvalidParam("Artifact size is too large. Max size is 10MB.")
		}
		return mlflow.InvalidParam("Could not read the request body: %v", err)
	}
	if len(data) == 0 {
		return mlflow.InvalidParam("Request must specify data.")
	}
	if err := s.artifactStore().Put(r.Context(), p, strings.NewReader(string(data))); err != nil {
		return artifactErr(err, rel)
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
