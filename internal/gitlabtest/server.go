// Package gitlabtest is a GitLab REST API v4 double, and a SharingHub double,
// for tests: real HTTP servers (httptest) shaped like the real APIs for the
// endpoints the access package uses, with users and tokens, nested groups,
// inherited and shared-group memberships, visibility, topics, job tokens, an
// outage switch and per-endpoint call counters.
//
// Like real GitLab, a project's "permissions" field shows only the direct
// project membership and the membership of the project's own group; roles
// inherited from ancestor groups or from groups the project is shared with
// show only in GET /projects/:id/members/all/:user_id.
package gitlabtest

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Endpoint names, for Calls.
const (
	EndpointUser     = "GET /api/v4/user"
	EndpointProject  = "GET /api/v4/projects/:id"
	EndpointMember   = "GET /api/v4/projects/:id/members/all/:user_id"
	EndpointProjects = "GET /api/v4/projects"
	EndpointJob      = "GET /api/v4/job"
)

// Server is the GitLab double. Its methods are safe for concurrent use.
type Server struct {
	// URL is the base URL, the GITLAB_URL to configure.
	URL string

	*front
	mux  *http.ServeMux
	name map[string]string // mux pattern → endpoint name

	mu             sync.Mutex
	clock          time.Time
	nextID         int64
	nextProjectID  int64
	nextJobID      int64
	users          map[int64]*user
	usersByName    map[string]*user
	groups         map[string]*group
	projects       map[int64]*project
	projectsByPath map[string]*project
	tokens         map[string]*token
	calls          map[string]int
	failures       map[string]int
	omitTotals     bool
}

// New starts a GitLab double; Close it when done.
func New() *Server {
	s := &Server{
		mux:            http.NewServeMux(),
		name:           map[string]string{},
		clock:          time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC),
		users:          map[int64]*user{},
		usersByName:    map[string]*user{},
		groups:         map[string]*group{},
		projects:       map[int64]*project{},
		projectsByPath: map[string]*project{},
		tokens:         map[string]*token{},
		calls:          map[string]int{},
		failures:       map[string]int{},
	}
	s.route("GET /api/v4/user", EndpointUser, s.getUser)
	s.route("GET /api/v4/projects/{id}", EndpointProject, s.getProject)
	s.route("GET /api/v4/projects/{id}/members/all/{user_id}", EndpointMember, s.getMember)
	s.route("GET /api/v4/projects", EndpointProjects, s.listProjects)
	s.route("GET /api/v4/job", EndpointJob, s.getJob)
	s.front = newFront(http.HandlerFunc(s.serve))
	s.URL = s.ts.URL
	return s
}

// Close releases hung requests and shuts the server down.
func (s *Server) Close() { s.front.close() }

// Client returns an HTTP client for the server.
func (s *Server) Client() *http.Client { return s.ts.Client() }

// Handle adds an endpoint (for example OIDC endpoints) to the double;
// its calls are counted under pattern and it obeys the outage switch.
func (s *Server) Handle(pattern string, h http.Handler) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.name[pattern] = pattern
	s.mux.Handle(pattern, h)
}

func (s *Server) route(pattern, name string, h http.HandlerFunc) {
	s.name[pattern] = name
	s.mux.HandleFunc(pattern, h)
}

// SetOutage flips the outage switch.
func (s *Server) SetOutage(o Outage) { s.front.set(o) }

// outageState is the switch's position, for the SharingHub double.
func (s *Server) outageState() Outage {
	o, _ := s.front.state()
	return o
}

// FailEndpoint makes one endpoint answer status (e.g. 500) while the others
// work; status 0 restores it.
func (s *Server) FailEndpoint(endpoint string, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if status == 0 {
		delete(s.failures, endpoint)
		return
	}
	s.failures[endpoint] = status
}

// OmitTotals makes lists leave out X-Total and X-Total-Pages, as GitLab does
// beyond 10,000 results.
func (s *Server) OmitTotals(omit bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.omitTotals = omit
}

// Calls returns how many requests endpoint received (outages included).
func (s *Server) Calls(endpoint string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[endpoint]
}

// TotalCalls returns how many requests the server received.
func (s *Server) TotalCalls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.calls {
		n += c
	}
	return n
}

// ResetCalls zeroes the call counters.
func (s *Server) ResetCalls() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.calls)
}

// serve counts the call, applies the outage switch, then routes.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	_, pattern := s.mux.Handler(r)
	s.mu.Lock()
	name := s.name[pattern]
	if name == "" {
		name = "other"
	}
	s.calls[name]++
	fail := s.failures[name]
	s.mu.Unlock()
	outage, release := s.front.state()
	if serveOutage(w, r, outage, release) {
		return
	}
	if fail != 0 {
		writeJSON(w, fail, map[string]string{"message": http.StatusText(fail)})
		return
	}
	if pattern == "" {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "404 Not Found"})
		return
	}
	s.mux.ServeHTTP(w, r)
}

// writeJSON writes v as GitLab does.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// caller resolves the credential of a request to a GitLab endpoint that does
// not take job tokens: Authorization: Bearer (personal or OAuth token),
// PRIVATE-TOKEN (personal token). A JOB-TOKEN header is ignored, as GitLab
// does on such endpoints. ok is false for an invalid token (401); u is nil
// for an anonymous request.
func (s *Server) caller(r *http.Request) (u *user, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if h := r.Header.Get("Authorization"); h != "" {
		secret, found := strings.CutPrefix(h, "Bearer ")
		t := s.tokens[strings.TrimSpace(secret)]
		if !found || t == nil || t.revoked || t.kind == jobToken {
			return nil, false
		}
		return t.user, true
	}
	if secret := r.Header.Get("PRIVATE-TOKEN"); secret != "" {
		t := s.tokens[secret]
		if t == nil || t.revoked || t.kind != personalToken {
			return nil, false
		}
		return t.user, true
	}
	return nil, true
}

func unauthorized(w http.ResponseWriter) {
	writeJSON(w, http.StatusUnauthorized, map[string]string{"message": "401 Unauthorized"})
}
