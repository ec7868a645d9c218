package gitlabtest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// get calls the double and decodes the JSON reply.
func get(t *testing.T, rawURL string, header ...string) (int, http.Header, any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, rawURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var v any
	json.Unmarshal(b, &v)
	return resp.StatusCode, resp.Header, v
}

func field(v any, path ...string) any {
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[p]
	}
	return v
}

func setup(t *testing.T) *Server {
	t.Helper()
	s := New()
	t.Cleanup(s.Close)
	for _, u := range []string{"topdev", "direct", "groupdev", "partner", "minimal", "outsider"} {
		s.AddUser(User{Username: u})
	}
	s.AddUser(User{Username: "root", Admin: true})
	s.AddProject(Project{Path: "a/b/c/proj", Topics: []string{"ai-model"}})
	s.AddGroupMember("a", "topdev", Developer)
	s.AddGroupMember("a/b/c", "groupdev", Reporter)
	s.AddProjectMember("a/b/c/proj", "direct", Maintainer)
	s.AddProjectMember("a/b/c/proj", "minimal", Minimal)
	s.AddGroup("partners/team", "private")
	s.AddGroupMember("partners", "partner", Owner) // inherited into partners/team
	s.ShareProject("a/b/c/proj", "partners/team", Reporter)
	return s
}

func TestPermissionsGap(t *testing.T) {
	s := setup(t)
	enc := url.PathEscape("a/b/c/proj")
	tests := []struct {
		user          string
		projectAccess any
		groupAccess   any
		member        float64 // members/all access_level, 0: 404
	}{
		{"topdev", nil, nil, Developer}, // inherited from the top group: permissions shows nothing
		{"partner", nil, nil, Reporter}, // shared group, capped by the share
		{"groupdev", nil, float64(Reporter), Reporter},
		{"direct", float64(Maintainer), nil, Maintainer},
	}
	for _, tt := range tests {
		tok := s.NewToken(tt.user)
		code, _, body := get(t, s.URL+"/api/v4/projects/"+enc, "PRIVATE-TOKEN", tok)
		if code != 200 {
			t.Fatalf("%s: status %d", tt.user, code)
		}
		if got := field(body, "permissions", "project_access", "access_level"); got != tt.projectAccess {
			t.Errorf("%s: project_access = %v, want %v", tt.user, got, tt.projectAccess)
		}
		if got := field(body, "permissions", "group_access", "access_level"); got != tt.groupAccess {
			t.Errorf("%s: group_access = %v, want %v", tt.user, got, tt.groupAccess)
		}
		id := field(body, "id")
		uid := s.UserID(tt.user)
		code, _, m := get(t, fmt.Sprintf("%s/api/v4/projects/%v/members/all/%d", s.URL, id, uid), "Authorization", "Bearer "+tok)
		if code != 200 || field(m, "access_level") != tt.member || field(m, "membership_state") != "active" {
			t.Errorf("%s: members/all = %d %v", tt.user, code, m)
		}
		if s.Role(tt.user, "a/b/c/proj") != int(tt.member) {
			t.Errorf("%s: Role = %d", tt.user, s.Role(tt.user, "a/b/c/proj"))
		}
	}
	// Minimal access cannot see a private project; outsiders neither.
	for _, u := range []string{"minimal", "outsider"} {
		if code, _, body := get(t, s.URL+"/api/v4/projects/"+enc, "PRIVATE-TOKEN", s.NewToken(u)); code != 404 || field(body, "message") != "404 Project Not Found" {
			t.Errorf("%s: %d %v", u, code, body)
		}
	}
	// Admins see it, and GET /user says is_admin for them only.
	root := s.NewToken("root")
	if code, _, _ := get(t, s.URL+"/api/v4/projects/"+enc, "PRIVATE-TOKEN", root); code != 200 {
		t.Errorf("admin: %d", code)
	}
	if _, _, u := get(t, s.URL+"/api/v4/user", "Authorization", "Bearer "+root); field(u, "is_admin") != true || field(u, "username") != "root" {
		t.Errorf("admin /user: %v", u)
	}
	if _, _, u := get(t, s.URL+"/api/v4/user", "Authorization", "Bearer "+s.NewToken("direct")); field(u, "is_admin") != nil || field(u, "email") != "direct@example.com" {
		t.Errorf("user /user: %v", u)
	}
}

func TestTokens(t *testing.T) {
	s := setup(t)
	pat, oauth := s.NewToken("direct"), s.NewOAuthToken("direct")
	job := s.NewJobToken("direct", "a/b/c/proj")
	enc := url.PathEscape("a/b/c/proj")
	tests := []struct {
		name, endpoint string
		header         []string
		want           int
	}{
		{"PAT as PRIVATE-TOKEN", "/api/v4/user", []string{"PRIVATE-TOKEN", pat}, 200},
		{"PAT as Bearer", "/api/v4/user", []string{"Authorization", "Bearer " + pat}, 200},
		{"OAuth as Bearer", "/api/v4/user", []string{"Authorization", "Bearer " + oauth}, 200},
		{"OAuth as PRIVATE-TOKEN", "/api/v4/user", []string{"PRIVATE-TOKEN", oauth}, 401},
		{"bogus", "/api/v4/user", []string{"Authorization", "Bearer nope"}, 401},
		{"anonymous /user", "/api/v4/user", nil, 401},
		{"job token on /user", "/api/v4/user", []string{"JOB-TOKEN", job}, 401},
		{"job token on a private project: ignored, so anonymous", "/api/v4/projects/" + enc, []string{"JOB-TOKEN", job}, 404},
		{"job token on /job", "/api/v4/job", []string{"JOB-TOKEN", job}, 200},
		{"job token as query", "/api/v4/job?job_token=" + job, nil, 200},
		{"PAT on /job", "/api/v4/job", []string{"PRIVATE-TOKEN", pat}, 401},
		{"bogus on a public list", "/api/v4/projects", []string{"PRIVATE-TOKEN", "nope"}, 401},
		{"unknown endpoint", "/api/v4/groups", nil, 404},
	}
	for _, tt := range tests {
		if code, _, body := get(t, s.URL+tt.endpoint, tt.header...); code != tt.want {
			t.Errorf("%s: %d %v, want %d", tt.name, code, body, tt.want)
		}
	}
	_, _, j := get(t, s.URL+"/api/v4/job", "JOB-TOKEN", job)
	if field(j, "pipeline", "project_id") != float64(1) || field(j, "user", "username") != "direct" ||
		!strings.HasSuffix(field(j, "web_url").(string), "/a/b/c/proj/-/jobs/1") {
		t.Errorf("job: %v", j)
	}
	s.RevokeToken(job)
	s.RevokeToken(pat)
	if code, _, _ := get(t, s.URL+"/api/v4/job", "JOB-TOKEN", job); code != 401 {
		t.Errorf("finished job: %d", code)
	}
	if code, _, _ := get(t, s.URL+"/api/v4/user", "PRIVATE-TOKEN", pat); code != 401 {
		t.Errorf("revoked PAT: %d", code)
	}
}

func TestVisibilityAndListing(t *testing.T) {
	s := New()
	defer s.Close()
	s.AddUser(User{Username: "alice"})
	s.AddUser(User{Username: "bob"})
	for i := range 45 {
		s.AddProject(Project{Path: fmt.Sprintf("g/p%02d", i)})
	}
	s.AddGroupMember("g", "alice", Guest)
	s.AddProject(Project{Path: "o/public", Visibility: "public"})
	s.AddProject(Project{Path: "o/internal", Visibility: "internal"})
	s.AddProject(Project{Path: "alice/personal"})
	alice, bob := s.NewToken("alice"), s.NewToken("bob")

	code, h, body := get(t, s.URL+"/api/v4/projects?min_access_level=10&per_page=20&page=2", "PRIVATE-TOKEN", alice)
	got := map[string]string{}
	for _, k := range []string{"X-Page", "X-Per-Page", "X-Next-Page", "X-Prev-Page", "X-Total", "X-Total-Pages"} {
		got[k] = h.Get(k)
	}
	want := map[string]string{"X-Page": "2", "X-Per-Page": "20", "X-Next-Page": "3", "X-Prev-Page": "1", "X-Total": "46", "X-Total-Pages": "3"}
	if diff := cmp.Diff(want, got); code != 200 || diff != "" {
		t.Errorf("page 2 headers (-want +got):\n%s", diff)
	}
	if items := body.([]any); len(items) != 20 || !strings.Contains(h.Get("Link"), `rel="next"`) {
		t.Errorf("page 2: %d items, Link %q", len(items), h.Get("Link"))
	}
	_, h, body = get(t, s.URL+"/api/v4/projects?min_access_level=10&per_page=20&page=3", "PRIVATE-TOKEN", alice)
	if items := body.([]any); len(items) != 6 || h.Get("X-Next-Page") != "" {
		t.Errorf("last page: %d items, next %q", len(items), h.Get("X-Next-Page"))
	}
	s.OmitTotals(true)
	if _, h, _ = get(t, s.URL+"/api/v4/projects?min_access_level=10", "PRIVATE-TOKEN", alice); h.Get("X-Total") != "" || h.Get("X-Per-Page") != "20" {
		t.Errorf("omitted totals: %v", h)
	}

	visible := func(tok, path string) int {
		var hdr []string
		if tok != "" {
			hdr = []string{"PRIVATE-TOKEN", tok}
		}
		code, _, _ := get(t, s.URL+"/api/v4/projects/"+url.PathEscape(path), hdr...)
		return code
	}
	for _, c := range []struct {
		tok, path string
		want      int
	}{
		{"", "o/public", 200}, {"", "o/internal", 404}, {"", "g/p00", 404},
		{bob, "o/public", 200}, {bob, "o/internal", 200}, {bob, "g/p00", 404}, {bob, "alice/personal", 404},
		{alice, "g/p00", 200}, {alice, "alice/personal", 200}, {alice, "G/P00", 200},
	} {
		if got := visible(c.tok, c.path); got != c.want {
			t.Errorf("%q on %s: %d, want %d", c.tok, c.path, got, c.want)
		}
	}
	if s.Role("alice", "alice/personal") != Owner {
		t.Error("personal project owner")
	}
	_, _, body = get(t, s.URL+"/api/v4/projects")
	if items := body.([]any); len(items) != 1 || field(items[0], "path_with_namespace") != "o/public" || field(items[0], "permissions") != nil {
		t.Errorf("anonymous list: %v", items)
	}
}

func TestOutageAndCounters(t *testing.T) {
	s := setup(t)
	tok := s.NewToken("direct")
	s.Handle("GET /oauth/userinfo", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("{}")) }))
	get(t, s.URL+"/api/v4/user", "PRIVATE-TOKEN", tok)
	get(t, s.URL+"/api/v4/projects/1", "PRIVATE-TOKEN", tok)
	get(t, s.URL+"/api/v4/projects/1/members/all/1", "PRIVATE-TOKEN", tok)
	get(t, s.URL+"/oauth/userinfo")
	s.SetOutage(Down503)
	if code, _, _ := get(t, s.URL+"/api/v4/user", "PRIVATE-TOKEN", tok); code != 503 {
		t.Errorf("Down503: %d", code)
	}
	if code, _, _ := get(t, s.URL+"/oauth/userinfo"); code != 503 {
		t.Errorf("Down503 on an added endpoint: %d", code)
	}
	s.SetOutage(DownDrop)
	if _, _, err := get(t, s.URL+"/api/v4/user", "PRIVATE-TOKEN", tok); err == nil {
		t.Error("DownDrop: got a reply")
	}
	s.SetOutage(DownRefuse)
	if _, _, err := get(t, s.URL+"/api/v4/user", "PRIVATE-TOKEN", tok); err == nil || !strings.Contains(err.(error).Error(), "connection refused") {
		t.Errorf("DownRefuse: %v", err)
	}
	s.SetOutage(Up)
	if code, _, _ := get(t, s.URL+"/api/v4/user", "PRIVATE-TOKEN", tok); code != 200 {
		t.Errorf("back up after DownRefuse: %d", code)
	}
	s.FailEndpoint(EndpointMember, 500)
	if code, _, _ := get(t, s.URL+"/api/v4/projects/1/members/all/1", "PRIVATE-TOKEN", tok); code != 500 {
		t.Errorf("failed endpoint: %d", code)
	}
	s.FailEndpoint(EndpointMember, 0)
	got := map[string]int{}
	for _, e := range []string{EndpointUser, EndpointProject, EndpointMember, EndpointProjects, EndpointJob, "GET /oauth/userinfo"} {
		got[e] = s.Calls(e)
	}
	want := map[string]int{EndpointUser: 4, EndpointProject: 1, EndpointMember: 2, EndpointProjects: 0, EndpointJob: 0, "GET /oauth/userinfo": 2}
	if got[EndpointUser] == 5 { // the client retries a GET once on a dropped reused connection
		want[EndpointUser] = 5
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
	if s.TotalCalls() != 5+want[EndpointUser] {
		t.Errorf("TotalCalls = %d", s.TotalCalls())
	}
	s.ResetCalls()
	if s.TotalCalls() != 0 {
		t.Error("ResetCalls")
	}
}

func TestSharingHubDouble(t *testing.T) {
	gl := setup(t)
	gl.AddUser(User{Username: "bot"})
	gl.AddProjectMember("a/b/c/proj", "bot", Developer)
	gl.SetTopics("a/b/c/proj", "sharinghub:aimodel")
	bot := gl.NewOAuthToken("bot")
	h := NewSharingHub(gl, SharingHubOptions{DefaultToken: bot})
	defer h.Close()
	direct := gl.NewOAuthToken("direct")
	check := h.URL + "/api/check/" + url.PathEscape("a/b/c/proj") + "?info=true"

	code, _, body := get(t, check, "X-Gitlab-Token", direct)
	want := map[string]any{"id": float64(1), "name": "proj", "path": "a/b/c/proj", "access_level": float64(4), "categories": []any{"ai-model"}}
	if diff := cmp.Diff(want, body); code != 200 || diff != "" {
		t.Errorf("check (-want +got):\n%s", diff)
	}
	cookie := h.Login(gl.NewOAuthToken("topdev"))
	req, _ := http.NewRequest("GET", check, nil)
	req.AddCookie(&http.Cookie{Name: "sharinghub-session", Value: cookie})
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var v map[string]any
	json.NewDecoder(resp.Body).Decode(&v)
	resp.Body.Close()
	if v["access_level"] != float64(3) {
		t.Errorf("cookie (topdev, inherited Developer): %v", v)
	}
	// No credential: the default token (bot, Developer).
	if _, _, body := get(t, check); field(body, "access_level") != float64(3) {
		t.Errorf("default token: %v", body)
	}
	// auth/info echoes user tokens and refuses the default one.
	if code, _, body := get(t, h.URL+"/api/auth/info", "X-Gitlab-Token", direct); code != 200 || field(body, "access_token") != direct {
		t.Errorf("auth/info: %d %v", code, body)
	}
	if code, _, _ := get(t, h.URL+"/api/auth/info"); code != 401 {
		t.Errorf("auth/info with the default token: %d", code)
	}
	if code, _, _ := get(t, h.URL+"/api/check/a/b/c/proj?info=true", "X-Gitlab-Token", "bogus"); code != 401 {
		t.Errorf("bogus token: %d", code)
	}
	gl.SetTopics("a/b/c/proj")
	if code, _, body := get(t, check, "X-Gitlab-Token", direct); code != 500 || !strings.HasPrefix(field(body, "detail").(string), "Category not found") {
		t.Errorf("no category: %d %v", code, body)
	}
	if h.Calls(EndpointCheck) != 5 || h.Calls(EndpointAuthInfo) != 2 {
		t.Errorf("calls: check %d, auth %d", h.Calls(EndpointCheck), h.Calls(EndpointAuthInfo))
	}
	h.SetOutage(Down503)
	if code, _, _ := get(t, check, "X-Gitlab-Token", direct); code != 503 {
		t.Errorf("outage: %d", code)
	}
}
