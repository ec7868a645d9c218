// Package server wires HTTP to the tracking rules and the store: the one
// route table, middleware, request decoding and the error adapter.
package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"path"
	"runtime/debug"
	"strings"
	"time"

	"github.com/csgroup-oss/mlflow-sharinghub-go/internal/access"
	"github.com/csgroup-oss/mlflow-sharinghub-go/internal/artifacts"
	"github.com/csgroup-oss/mlflow-sharinghub-go/internal/auth"
	"github.com/csgroup-oss/mlflow-sharinghub-go/internal/mlflow"
	"github.com/csgroup-oss/mlflow-sharinghub-go/internal/store"
	"github.com/csgroup-oss/mlflow-sharinghub-go/internal/tenancy"
)

// Server serves the MLflow tracking API.
type Server struct {
	store *store.Store
	log   *slog.Logger
	opts  Options
	mux   *http.ServeMux
	rules map[string]rule // mux pattern → access rule
}

// Options connect the server to sign-in and roles.
type Options struct {
	// Provider answers who may do what; nil serves everything unscoped
	// (no tenancy, no sign-in), which only tests use.
	Provider access.Provider
	// Sessions decrypts browser session cookies (GitLab sign-in); may be nil.
	Sessions *auth.Sessions
	// AuthOptions say which credentials are read from requests.
	AuthOptions auth.Options
	// Pages are the sign-in pages (/auth/...) and the 401 answers.
	Pages *auth.Pages
	// ProjectTag is the experiment tag recording the owning project path.
	ProjectTag string
	// GlobalFromData builds the global view from the projects that own
	// data here (asking the provider about each), for providers that cannot
	// list projects (SharingHub).
	GlobalFromData bool
	// AnonymousFallback retries a refused SharingHub cookie as anonymous
	// (SHARINGHUB_AUTH_DEFAULT_TOKEN: SharingHub answers for anonymous
	// callers with its default token).
	AnonymousFallback bool
	// Artifacts stores the proxied artifacts (nil: an in-memory store, for tests).
	Artifacts artifacts.Store
}

// New builds the HTTP handler for st.
func New(st *store.Store, log *slog.Logger, opts Options) *Server {
	if opts.ProjectTag == "" {
		opts.ProjectTag = "project"
	}
	if opts.Pages == nil {
		opts.Pages = &auth.Pages{Options: opts.AuthOptions, Logger: log}
	}
	s := &Server{store: st, log: log, opts: opts, mux: http.NewServeMux(), rules: map[string]rule{}}
	for _, rt := range routes() {
		h := func(w http.ResponseWriter, r *http.Request) error { return rt.handler(s, w, r) }
		for _, p := range rt.paths() {
			pattern := rt.method + " " + p
			s.mux.Handle(pattern, s.adapt(h))
			s.rules[pattern] = rt.rule
		}
	}
	for _, pr := range opts.Pages.Routes() {
		s.mux.Handle(pr.Pattern, pr.Handler)
		s.rules[pr.Pattern] = rulePublic
	}
	s.mux.Handle("/", http.NotFoundHandler()) // never served: route answers unknown paths itself
	return s
}

// ServeHTTP runs the middleware chain: recover, request id, access log.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	id := r.Header.Get("X-Request-Id")
	if id == "" || len(id) > 128 {
		id = newRequestID()
	}
	ctx := context.WithValue(r.Context(), requestIDKey{}, id)
	r = r.WithContext(ctx)
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	rec.Header().Set("X-Request-Id", id)
	rec.Header().Set("X-Content-Type-Options", "nosniff")
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			s.log.ErrorContext(ctx, "panic", "request_id", id, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			if !rec.wrote {
				writeError(rec, r, s.log, fmt.Errorf("panic: %v", p))
			}
		}
		level := slog.LevelInfo
		if rec.status >= 500 {
			level = slog.LevelError
		}
		s.log.Log(ctx, level, "request", "request_id", id, "method", r.Method, "path", r.URL.Path,
			"status", rec.status, "dur", time.Since(start).Round(time.Microsecond).String(),
			"project", rec.project, "user", rec.user)
	}()
	s.route(rec, r)
}

// route splits the path into scope and route, runs the access gate, and
// calls the handler with the route path and the scope.
func (s *Server) route(rec *statusRecorder, r *http.Request) {
	if !cleanPath(r.URL.Path) {
		// ServeMux would redirect to the cleaned path, out of the project
		// scope; a path with "..", "." or empty segments is refused instead.
		writeError(rec, r, s.log, mlflow.InvalidParam("Invalid path %q: it must not contain '..', '.' or empty segments.", r.URL.Path))
		return
	}
	t := splitPath(r.URL.Path, func(rest string) bool { _, _, ok := s.match(r, rest); return ok })
	_, pattern, ok := s.match(r, t.rest)
	if !ok {
		writeError(rec, r, s.log, mlflow.Errorf(mlflow.EndpointNotFound, "No API endpoint %s %s on this server.", r.Method, r.URL.Path))
		return
	}
	rl := s.rules[pattern]
	ctx := r.Context()
	if rl != rulePublic {
		sc, who, err := s.gate(ctx, r, t, rl)
		rec.project = sc.String()
		if err != nil && t.project != "" {
			rec.project = t.project
		}
		if who != nil {
			rec.user = who.Username
		}
		if err != nil {
			var ue errUnauthenticated
			if errors.As(err, &ue) {
				s.opts.Pages.Unauthenticated(rec, r, ue.cause)
				return
			}
			writeError(rec, r, s.log, err)
			return
		}
		ctx = context.WithValue(ctx, scopeKey{}, sc)
	}
	r2 := r.WithContext(ctx)
	u := *r.URL
	u.Path, u.RawPath = t.rest, ""
	r2.URL = &u
	// The mux finds the same route again and sets r.PathValue for it.
	s.mux.ServeHTTP(rec, r2)
}

// adapt turns a handlerFunc into an http.Handler, writing returned errors
// as MLflow error bodies.
func (s *Server) adapt(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			writeError(w, r, s.log, err)
		}
	})
}

type requestIDKey struct{}

func requestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

func newRequestID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// statusRecorder remembers the status for the access log.
type statusRecorder struct {
	http.ResponseWriter
	status        int
	wrote         bool
	project, user string
}

func (r *statusRecorder) WriteHeader(code int) {
	if !r.wrote {
		r.status, r.wrote = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	r.wrote = true
	return r.ResponseWriter.Write(b)
}

// Flush lets streaming handlers flush through the recorder.
func (r *statusRecorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap gives http.ResponseController the underlying writer.
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// plain writes a text/plain body.
func plain(w http.ResponseWriter, body string) error {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, err := w.Write([]byte(body))
	return err
}

// trimAll trims every string of a slice and drops empty ones.
func trimAll(in []string) []string {
	out := in[:0:0]
	for _, s := range in {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// cleanPath reports whether p is already clean (a trailing slash allowed).
func cleanPath(p string) bool {
	if p == "" || p[0] != '/' {
		return false
	}
	c := path.Clean(p)
	if strings.HasSuffix(p, "/") && c != "/" {
		c += "/"
	}
	return c == p
}

type scopeKey struct{}

// scopeOf returns the tenancy scope the request runs in.
func scopeOf(r *http.Request) tenancy.Scope {
	if sc, ok := r.Context().Value(scopeKey{}).(tenancy.Scope); ok {
		return sc
	}
	return tenancy.Unscoped
}
