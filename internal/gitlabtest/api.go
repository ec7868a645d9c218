package gitlabtest

import (
	"cmp"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// userJSON is GitLab's user entity (GET /user shows email; is_admin only for
// administrators, as GitLab's UserWithAdmin entity).
func (s *Server) userJSON(u *user, self bool) map[string]any {
	m := map[string]any{
		"id":           u.ID,
		"username":     u.Username,
		"name":         u.Name,
		"state":        "active",
		"locked":       false,
		"avatar_url":   s.URL + "/uploads/-/system/user/avatar/" + strconv.FormatInt(u.ID, 10) + "/avatar.png",
		"web_url":      s.URL + "/" + u.Username,
		"created_at":   u.created.Format(time.RFC3339Nano),
		"bio":          "",
		"location":     "",
		"public_email": nil,
		"organization": "",
		"job_title":    "",
		"bot":          false,
	}
	if self {
		m["email"] = u.Email
		m["commit_email"] = u.Email
		m["can_create_group"] = true
		m["can_create_project"] = true
		m["two_factor_enabled"] = false
		m["external"] = false
		if u.Admin {
			m["is_admin"] = true
		}
	}
	return m
}

// getUser serves GET /api/v4/user.
func (s *Server) getUser(w http.ResponseWriter, r *http.Request) {
	u, ok := s.caller(r)
	if !ok || u == nil {
		unauthorized(w)
		return
	}
	writeJSON(w, http.StatusOK, s.userJSON(u, true))
}

// projectJSON is GitLab's project entity; permissions is shown to
// authenticated callers only.
func (s *Server) projectJSON(p *project, viewer *user) map[string]any {
	ns := map[string]any{}
	if p.namespace != nil {
		g := p.namespace
		var parent any
		if g.parent != nil {
			parent = g.parent.ID
		}
		ns = map[string]any{"id": g.ID, "name": g.Path[strings.LastIndex(g.Path, "/")+1:], "path": g.Path[strings.LastIndex(g.Path, "/")+1:],
			"kind": "group", "full_path": g.Path, "parent_id": parent, "avatar_url": nil, "web_url": s.URL + "/groups/" + g.Path}
	} else if p.owner != nil {
		ns = map[string]any{"id": p.owner.ID, "name": p.owner.Name, "path": p.owner.Username,
			"kind": "user", "full_path": p.owner.Username, "parent_id": nil, "avatar_url": nil, "web_url": s.URL + "/" + p.owner.Username}
	}
	nsName := ns["name"]
	path := p.Path[strings.LastIndex(p.Path, "/")+1:]
	topics := p.Topics
	if topics == nil {
		topics = []string{}
	}
	m := map[string]any{
		"id":                  p.ID,
		"description":         nil,
		"name":                p.Name,
		"name_with_namespace": fmt.Sprintf("%v / %s", nsName, p.Name),
		"path":                path,
		"path_with_namespace": p.Path,
		"created_at":          p.created.Format(time.RFC3339Nano),
		"default_branch":      "main",
		"tag_list":            topics,
		"topics":              topics,
		"ssh_url_to_repo":     "git@" + strings.TrimPrefix(strings.TrimPrefix(s.URL, "http://"), "https://") + ":" + p.Path + ".git",
		"http_url_to_repo":    s.URL + "/" + p.Path + ".git",
		"web_url":             s.URL + "/" + p.Path,
		"readme_url":          s.URL + "/" + p.Path + "/-/blob/main/README.md",
		"forks_count":         0,
		"avatar_url":          nil,
		"star_count":          0,
		"last_activity_at":    p.created.Format(time.RFC3339Nano),
		"namespace":           ns,
		"visibility":          p.Visibility,
		"archived":            false,
		"empty_repo":          false,
	}
	if viewer != nil {
		m["permissions"] = s.permissions(viewer, p)
	}
	return m
}

// projectFor finds the {id} of the request and checks the caller sees it;
// it has written the error reply when ok is false.
func (s *Server) projectFor(w http.ResponseWriter, r *http.Request) (p *project, u *user, ok bool) {
	u, ok = s.caller(r)
	if !ok {
		unauthorized(w)
		return nil, nil, false
	}
	s.mu.Lock()
	p = s.lookupProject(r.PathValue("id"))
	visible := p != nil && s.visible(u, p)
	s.mu.Unlock()
	if !visible {
		writeJSON(w, http.StatusNotFound, map[string]string{"message": "404 Project Not Found"})
		return nil, nil, false
	}
	return p, u, true
}

// getProject serves GET /api/v4/projects/:id (id or URL-encoded path).
func (s *Server) getProject(w http.ResponseWriter, r *http.Request) {
	p, u, ok := s.projectFor(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	body := s.projectJSON(p, u)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, body)
}

// getMember serves GET /api/v4/projects/:id/members/all/:user_id: the
// effective membership, inherited and shared-group ones included.
func (s *Server) getMember(w http.ResponseWriter, r *http.Request) {
	p, _, ok := s.projectFor(w, r)
	if !ok {
		return
	}
	id, err := strconv.ParseInt(r.PathValue("user_id"), 10, 64)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "user_id is invalid"})
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m, found := s.users[id]
	level := s.effective(m, p)
	if !found || level == NoAccess {
		writeJSON(w, http.StatusNotFound, map[string]string{"message": "404 Not found"})
		return
	}
	body := s.userJSON(m, false)
	body["access_level"] = level
	body["expires_at"] = nil
	body["membership_state"] = "active"
	body["group_saml_identity"] = nil
	writeJSON(w, http.StatusOK, body)
}

// listProjects serves GET /api/v4/projects with min_access_level, page and
// per_page, newest first, with GitLab's pagination headers.
func (s *Server) listProjects(w http.ResponseWriter, r *http.Request) {
	u, ok := s.caller(r)
	if !ok {
		unauthorized(w)
		return
	}
	q := r.URL.Query()
	minLevel := 0
	if v := q.Get("min_access_level"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || !slices.Contains([]int{Minimal, Guest, Planner, Reporter, Developer, Maintainer, Owner}, n) {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "min_access_level does not have a valid value"})
			return
		}
		minLevel = n
	}
	page := atoiDefault(q.Get("page"), 1)
	perPage := min(atoiDefault(q.Get("per_page"), 20), 100)

	s.mu.Lock()
	var all []*project
	for _, p := range s.projects {
		switch {
		case u == nil && p.Visibility != "public":
		case u != nil && minLevel > 0 && s.effective(u, p) < minLevel:
		case u != nil && minLevel == 0 && !s.visible(u, p):
		default:
			all = append(all, p)
		}
	}
	slices.SortFunc(all, func(a, b *project) int { return cmp.Compare(b.ID, a.ID) })
	total := len(all)
	totalPages := max((total+perPage-1)/perPage, 1)
	from := min((page-1)*perPage, total)
	to := min(from+perPage, total)
	items := make([]map[string]any, 0, to-from)
	for _, p := range all[from:to] {
		items = append(items, s.projectJSON(p, u))
	}
	omit := s.omitTotals
	s.mu.Unlock()

	h := w.Header()
	h.Set("X-Page", strconv.Itoa(page))
	h.Set("X-Per-Page", strconv.Itoa(perPage))
	h.Set("X-Prev-Page", "")
	if page > 1 {
		h.Set("X-Prev-Page", strconv.Itoa(page-1))
	}
	h.Set("X-Next-Page", "")
	if page < totalPages {
		h.Set("X-Next-Page", strconv.Itoa(page+1))
	}
	link := func(p int, rel string) string {
		v := url.Values{}
		for k, vs := range q {
			v[k] = vs
		}
		v.Set("page", strconv.Itoa(p))
		v.Set("per_page", strconv.Itoa(perPage))
		return fmt.Sprintf("<%s/api/v4/projects?%s>; rel=%q", s.URL, v.Encode(), rel)
	}
	var links []string
	if page > 1 {
		links = append(links, link(page-1, "prev"))
	}
	if page < totalPages {
		links = append(links, link(page+1, "next"))
	}
	links = append(links, link(1, "first"))
	if !omit {
		links = append(links, link(totalPages, "last"))
		h.Set("X-Total", strconv.Itoa(total))
		h.Set("X-Total-Pages", strconv.Itoa(totalPages))
	}
	h.Set("Link", strings.Join(links, ", "))
	writeJSON(w, http.StatusOK, items)
}

func atoiDefault(s string, def int) int {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		return def
	}
	return n
}

// getJob serves GET /api/v4/job for a job token (JOB-TOKEN header,
// job_token query parameter, or Authorization: Bearer).
func (s *Server) getJob(w http.ResponseWriter, r *http.Request) {
	secret := r.Header.Get("JOB-TOKEN")
	if secret == "" {
		secret = r.URL.Query().Get("job_token")
	}
	if secret == "" {
		secret, _ = strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tokens[secret]
	if secret == "" || t == nil || t.revoked || t.kind != jobToken {
		unauthorized(w)
		return
	}
	p, created := t.project, s.clock.Format(time.RFC3339Nano)
	sha := fmt.Sprintf("%040x", t.jobID)
	writeJSON(w, http.StatusOK, map[string]any{
		"id":            t.jobID,
		"status":        "running",
		"stage":         "train",
		"name":          "train-model",
		"ref":           "main",
		"tag":           false,
		"coverage":      nil,
		"allow_failure": false,
		"created_at":    created,
		"started_at":    created,
		"finished_at":   nil,
		"erased_at":     nil,
		"duration":      12.5,
		"user":          s.userJSON(t.user, false),
		"commit":        map[string]any{"id": sha, "short_id": sha[:8], "title": "Train", "created_at": created},
		"pipeline": map[string]any{
			"id": 1000 + t.jobID, "iid": t.jobID, "project_id": p.ID, "sha": sha, "ref": "main", "status": "running",
			"source": "push", "created_at": created, "updated_at": created,
			"web_url": fmt.Sprintf("%s/%s/-/pipelines/%d", s.URL, p.Path, 1000+t.jobID),
		},
		"web_url":   fmt.Sprintf("%s/%s/-/jobs/%d", s.URL, p.Path, t.jobID),
		"project":   map[string]any{"ci_job_token_scope_enabled": false},
		"artifacts": []any{},
		"runner":    nil,
		"tag_list":  []string{},
	})
}
