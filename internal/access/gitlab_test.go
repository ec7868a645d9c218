package access

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/csgroup-oss/mlflow-sharinghub-go/internal/gitlabtest"
	"github.com/google/go-cmp/cmp"
)

// world is a GitLab double populated for the provider tests.
type world struct {
	gl     *gitlabtest.Server
	tokens map[string]string // username → personal access token
	ids    map[string]int64  // project path → id
}

// The main project, nested three groups deep.
const deepProject = "a/b/c/proj"

func newWorld(t *testing.T) *world {
	t.Helper()
	gl := gitlabtest.New()
	t.Cleanup(gl.Close)
	w := &world{gl: gl, tokens: map[string]string{}, ids: map[string]int64{}}
	for _, name := range []string{"owner", "maintainer", "developer", "reporter", "planner", "guest", "minimal",
		"outsider", "topdev", "groupdev", "partner", "alice", "many"} {
		gl.AddUser(gitlabtest.User{Username: name})
		w.tokens[name] = gl.NewToken(name)
	}
	gl.AddUser(gitlabtest.User{Username: "root", Admin: true})
	w.tokens["root"] = gl.NewToken("root")

	add := func(p gitlabtest.Project) { w.ids[p.Path] = gl.AddProject(p).ID }
	add(gitlabtest.Project{Path: deepProject, Name: "Deep project", Topics: []string{"ai-model", "vision"}})
	for user, level := range map[string]int{"owner": gitlabtest.Owner, "maintainer": gitlabtest.Maintainer,
		"developer": gitlabtest.Developer, "reporter": gitlabtest.Reporter, "planner": gitlabtest.Planner,
		"guest": gitlabtest.Guest, "minimal": gitlabtest.Minimal} {
		gl.AddProjectMember(deepProject, user, level)
	}
	gl.AddGroupMember("a", "topdev", gitlabtest.Developer)       // inherited from the top group
	gl.AddGroupMember("a/b/c", "groupdev", gitlabtest.Developer) // the project's own group
	gl.AddGroup("partners", "private")
	gl.AddGroupMember("partners", "partner", gitlabtest.Maintainer)
	gl.ShareProject(deepProject, "partners", gitlabtest.Developer) // capped at Developer

	add(gitlabtest.Project{Path: "pub/open", Visibility: "public", Topics: []string{"ai-model"}})
	add(gitlabtest.Project{Path: "int/inner", Visibility: "internal", Topics: []string{"ai-model"}})
	add(gitlabtest.Project{Path: "priv/secret", Visibility: "private", Topics: []string{"ai-model"}})
	add(gitlabtest.Project{Path: "ml/untagged"})
	gl.AddProjectMember("ml/untagged", "developer", gitlabtest.Developer)
	gl.AddProjectMember("pub/open", "developer", gitlabtest.Developer)
	add(gitlabtest.Project{Path: "alice/notebook"}) // personal project

	gl.AddGroup("bulk", "private")
	for i := range 250 {
		add(gitlabtest.Project{Path: fmt.Sprintf("bulk/p%03d", i)})
	}
	gl.AddGroupMember("bulk", "many", gitlabtest.Guest)
	gl.ResetCalls()
	return w
}

func (w *world) token(user string) Credential {
	return Credential{Kind: KindToken, Secret: w.tokens[user]}
}

func newGitLab(t *testing.T, w *world, opts GitLabOptions) *GitLab {
	t.Helper()
	g, err := NewGitLab(w.gl.URL+"/", nil, opts)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// errKind names the access error kind of err, for compact test tables.
func errKind(err error) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, ErrNotFound):
		return "not found"
	case errors.Is(err, ErrUnauthenticated):
		return "unauthenticated"
	case errors.Is(err, ErrUnavailable):
		return "unavailable"
	}
	return "other: " + err.Error()
}

func TestGitLabRoles(t *testing.T) {
	w := newWorld(t)
	g := newGitLab(t, w, GitLabOptions{})
	ctx := context.Background()
	tests := []struct {
		user    string
		want    Role
		wantErr string
	}{
		{"owner", Owner, ""},
		{"maintainer", Maintainer, ""},
		{"developer", Developer, ""},
		{"reporter", Reporter, ""},
		{"planner", Planner, ""},
		{"guest", Guest, ""},
		{"minimal", 0, "not found"},
		{"outsider", 0, "not found"},
		{"root", Owner, ""},         // admin
		{"topdev", Developer, ""},   // inherited from the top-level group: permissions shows nothing
		{"groupdev", Developer, ""}, // the project's own group: permissions.group_access
		{"partner", Developer, ""},  // shared group, Maintainer there, capped at Developer by the share
	}
	for _, tt := range tests {
		t.Run(tt.user, func(t *testing.T) {
			for _, ref := range []string{deepProject, strconv.FormatInt(w.ids[deepProject], 10), "A/B/C/Proj", "/" + deepProject + "/"} {
				gr, err := g.Project(ctx, w.token(tt.user), ref)
				if errKind(err) != tt.wantErr {
					t.Fatalf("Project(%q): err = %v, want %s", ref, err, tt.wantErr)
				}
				if err != nil {
					if strings.Contains(err.Error(), w.tokens[tt.user]) {
						t.Fatalf("error leaks the token: %v", err)
					}
					continue
				}
				want := Grant{Role: tt.want, Project: Project{ID: w.ids[deepProject], Path: deepProject,
					Name: "Deep project", Visibility: "private", Topics: []string{"ai-model", "vision"}}}
				if diff := cmp.Diff(want, gr); diff != "" {
					t.Errorf("Project(%q) (-want +got):\n%s", ref, diff)
				}
			}
		})
	}
	// A personal project: its namespace owner is Owner.
	if gr, err := g.Project(ctx, w.token("alice"), "alice/notebook"); err != nil || gr.Role != Owner {
		t.Errorf("personal project: %v, %v", gr.Role, err)
	}
}

func TestGitLabAuthenticate(t *testing.T) {
	w := newWorld(t)
	g := newGitLab(t, w, GitLabOptions{})
	ctx := context.Background()
	p, err := g.Authenticate(ctx, w.token("developer"))
	if err != nil {
		t.Fatal(err)
	}
	if p.Username != "developer" || p.Email != "developer@example.com" || p.ID == 0 || p.Admin || p.Anonymous {
		t.Errorf("developer: %+v", p)
	}
	if p, err := g.Authenticate(ctx, w.token("root")); err != nil || !p.Admin {
		t.Errorf("root: %+v, %v", p, err)
	}
	if p, err := g.Authenticate(ctx, Anonymous); err != nil || !p.Anonymous {
		t.Errorf("anonymous: %+v, %v", p, err)
	}
	if w.gl.Calls(gitlabtest.EndpointUser) != 2 {
		t.Errorf("GET /user calls = %d, want 2 (none for anonymous)", w.gl.Calls(gitlabtest.EndpointUser))
	}
	revoked := w.gl.NewToken("developer")
	w.gl.RevokeToken(revoked)
	for name, c := range map[string]Credential{
		"bogus":             {Kind: KindToken, Secret: "glpat-bogus"},
		"revoked":           {Kind: KindToken, Secret: revoked},
		"empty":             {Kind: KindToken},
		"sharinghub cookie": {Kind: KindSharingHubCookie, Secret: "x"},
	} {
		if _, err := g.Authenticate(ctx, c); !errors.Is(err, ErrUnauthenticated) {
			t.Errorf("%s: Authenticate err = %v, want ErrUnauthenticated", name, err)
		}
		if _, err := g.Project(ctx, c, "pub/open"); !errors.Is(err, ErrUnauthenticated) {
			t.Errorf("%s: Project err = %v, want ErrUnauthenticated", name, err)
		}
	}
	// A token used by both the OIDC session (OAuth) and the API (PAT) is sent the same way.
	oauth := Credential{Kind: KindToken, Secret: w.gl.NewOAuthToken("developer")}
	if gr, err := g.Project(ctx, oauth, deepProject); err != nil || gr.Role != Developer {
		t.Errorf("OAuth token: %v, %v", gr.Role, err)
	}
}

func TestGitLabVisibility(t *testing.T) {
	w := newWorld(t)
	g := newGitLab(t, w, GitLabOptions{})
	ctx := context.Background()
	tests := []struct {
		who, project string
		want         Role
		wantErr      string
	}{
		{"anonymous", "pub/open", Guest, ""},
		{"anonymous", "int/inner", 0, "not found"},
		{"anonymous", "priv/secret", 0, "not found"},
		{"anonymous", "nope/nothing", 0, "not found"},
		{"outsider", "pub/open", Guest, ""},
		{"outsider", "int/inner", Guest, ""},
		{"outsider", "priv/secret", 0, "not found"},
		{"outsider", "nope/nothing", 0, "not found"},
		{"developer", "pub/open", Developer, ""},
		{"minimal", "pub/open", Guest, ""},
		{"root", "priv/secret", Owner, ""},
	}
	for _, tt := range tests {
		t.Run(tt.who+" "+tt.project, func(t *testing.T) {
			c := Anonymous
			if tt.who != "anonymous" {
				c = w.token(tt.who)
			}
			gr, err := g.Project(ctx, c, tt.project)
			if errKind(err) != tt.wantErr || gr.Role != tt.want {
				t.Errorf("got %v, %v; want %v, %q", gr.Role, err, tt.want, tt.wantErr)
			}
		})
	}
	// Anonymous lookups go to GitLab without credentials and ask no membership.
	w.gl.ResetCalls()
	g.Project(ctx, Anonymous, "pub/open")
	if w.gl.Calls(gitlabtest.EndpointUser)+w.gl.Calls(gitlabtest.EndpointMember) != 0 {
		t.Error("anonymous lookup asked for a user or a membership")
	}
}

func TestGitLabMandatoryTopics(t *testing.T) {
	w := newWorld(t)
	g := newGitLab(t, w, GitLabOptions{MandatoryTopics: []string{"AI-Model", " "}})
	ctx := context.Background()
	if _, err := g.Project(ctx, w.token("developer"), deepProject); err != nil {
		t.Errorf("tagged project: %v", err)
	}
	if _, err := g.Project(ctx, w.token("developer"), "ml/untagged"); !errors.Is(err, ErrNotFound) {
		t.Errorf("untagged project: err = %v, want ErrNotFound", err)
	}
	list, err := g.Projects(ctx, w.token("developer"))
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, gr := range list {
		paths = append(paths, gr.Project.Path)
	}
	if diff := cmp.Diff([]string{deepProject, "pub/open"}, paths); diff != "" {
		t.Errorf("listing with mandatory topics (-want +got):\n%s", diff)
	}
}

func TestGitLabJobToken(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	g := newGitLab(t, w, GitLabOptions{})
	job := Credential{Kind: KindJobToken, Secret: w.gl.NewJobToken("owner", deepProject)}

	p, err := g.Authenticate(ctx, job)
	if err != nil {
		t.Fatal(err)
	}
	if p.Username != "owner" || p.JobProjectID != w.ids[deepProject] || p.Admin {
		t.Errorf("job principal: %+v", p)
	}
	for _, ref := range []string{deepProject, strconv.FormatInt(w.ids[deepProject], 10), "A/b/C/proj"} {
		gr, err := g.Project(ctx, job, ref)
		if err != nil {
			t.Fatalf("own project %q: %v", ref, err)
		}
		// The pipeline's user is Owner; a job token never gets more than Developer.
		want := Grant{Role: Developer, Project: Project{ID: w.ids[deepProject], Path: deepProject, Name: "proj"}}
		if diff := cmp.Diff(want, gr); diff != "" {
			t.Errorf("job grant (-want +got):\n%s", diff)
		}
	}
	for _, other := range []string{"pub/open", "priv/secret", strconv.FormatInt(w.ids["pub/open"], 10)} {
		if _, err := g.Project(ctx, job, other); !errors.Is(err, ErrNotFound) {
			t.Errorf("other project %q: err = %v, want ErrNotFound", other, err)
		}
	}
	list, err := g.Projects(ctx, job)
	if err != nil || len(list) != 1 || list[0].Project.ID != w.ids[deepProject] {
		t.Errorf("job listing: %v, %v", list, err)
	}
	if w.gl.Calls(gitlabtest.EndpointUser) != 0 {
		t.Error("a job token was sent to GET /user")
	}

	// On a public project the project details (topics) are readable.
	pub := Credential{Kind: KindJobToken, Secret: w.gl.NewJobToken("developer", "pub/open")}
	gt := newGitLab(t, w, GitLabOptions{MandatoryTopics: []string{"ai-model"}})
	if gr, err := gt.Project(ctx, pub, "pub/open"); err != nil || gr.Role != Developer || gr.Project.Visibility != "public" {
		t.Errorf("public job project with topics: %+v, %v", gr, err)
	}
	// On a private project they are not: with mandatory topics, fail closed.
	if _, err := gt.Project(ctx, job, deepProject); !errors.Is(err, ErrNotFound) {
		t.Errorf("private job project with mandatory topics: err = %v, want ErrNotFound", err)
	}

	w.gl.RevokeToken(job.Secret) // the job finished
	if _, err := g.Project(ctx, job, deepProject); !errors.Is(err, ErrUnauthenticated) {
		t.Errorf("finished job: err = %v, want ErrUnauthenticated", err)
	}
}

func TestGitLabOutage(t *testing.T) {
	ctx := context.Background()
	for _, mode := range []gitlabtest.Outage{gitlabtest.Down503, gitlabtest.DownRefuse, gitlabtest.DownDrop, gitlabtest.DownHang} {
		t.Run(fmt.Sprint(mode), func(t *testing.T) {
			w := newWorld(t)
			g := newGitLab(t, w, GitLabOptions{Timeout: 200 * time.Millisecond})
			w.gl.SetOutage(mode)
			start := time.Now()
			if _, err := g.Authenticate(ctx, w.token("developer")); !errors.Is(err, ErrUnavailable) {
				t.Errorf("Authenticate: err = %v, want ErrUnavailable", err)
			}
			if _, err := g.Project(ctx, Anonymous, "pub/open"); !errors.Is(err, ErrUnavailable) {
				t.Errorf("Project: err = %v, want ErrUnavailable", err)
			}
			if _, err := g.Projects(ctx, w.token("developer")); !errors.Is(err, ErrUnavailable) {
				t.Errorf("Projects: err = %v, want ErrUnavailable", err)
			}
			if _, err := g.Project(ctx, Credential{Kind: KindJobToken, Secret: "glcbt-x"}, "pub/open"); !errors.Is(err, ErrUnavailable) {
				t.Errorf("job token: err = %v, want ErrUnavailable", err)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("outage calls took %v: timeouts not applied", d)
			}
			w.gl.SetOutage(gitlabtest.Up)
			if _, err := g.Project(ctx, w.token("developer"), deepProject); err != nil {
				t.Errorf("after recovery: %v", err)
			}
		})
	}
	// One failing endpoint fails the decision closed instead of granting a lower role.
	w := newWorld(t)
	g := newGitLab(t, w, GitLabOptions{})
	w.gl.FailEndpoint(gitlabtest.EndpointMember, http.StatusInternalServerError)
	if _, err := g.Project(ctx, w.token("topdev"), deepProject); !errors.Is(err, ErrUnavailable) {
		t.Errorf("members/all failing: err = %v, want ErrUnavailable", err)
	}
	w.gl.FailEndpoint(gitlabtest.EndpointMember, http.StatusTooManyRequests)
	if _, err := g.Project(ctx, w.token("topdev"), deepProject); !errors.Is(err, ErrUnavailable) {
		t.Errorf("members/all rate-limited: err = %v, want ErrUnavailable", err)
	}
	// The context bounds calls too.
	w.gl.SetOutage(gitlabtest.DownHang)
	cctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if _, err := g.Project(cctx, Anonymous, "pub/open"); !errors.Is(err, ErrUnavailable) {
		t.Errorf("cancelled: err = %v, want ErrUnavailable", err)
	}
}

func TestGitLabProjectsPaging(t *testing.T) {
	for _, omitTotals := range []bool{false, true} {
		t.Run(fmt.Sprintf("omitTotals=%v", omitTotals), func(t *testing.T) {
			w := newWorld(t)
			w.gl.OmitTotals(omitTotals)
			g := newGitLab(t, w, GitLabOptions{})
			ctx := context.Background()
			list, err := g.Projects(ctx, w.token("many"))
			if err != nil {
				t.Fatal(err)
			}
			if len(list) != 250 {
				t.Fatalf("got %d projects, want 250", len(list))
			}
			for i, gr := range list {
				if want := fmt.Sprintf("bulk/p%03d", i); gr.Project.Path != want || gr.Role != Guest {
					t.Fatalf("list[%d] = %s %v, want %s Guest (sorted by path)", i, gr.Project.Path, gr.Role, want)
				}
			}
			if n := w.gl.Calls(gitlabtest.EndpointProjects); n != 3 {
				t.Errorf("list pages fetched = %d, want 3", n)
			}
		})
	}
	w := newWorld(t)
	g := newGitLab(t, w, GitLabOptions{MaxProjects: 150})
	ctx := context.Background()
	if list, _ := g.Projects(ctx, w.token("many")); len(list) != 150 || w.gl.Calls(gitlabtest.EndpointProjects) != 2 {
		t.Errorf("MaxProjects 150: got %d after %d pages, want 150 after 2", len(list), w.gl.Calls(gitlabtest.EndpointProjects))
	}
	// Inherited roles: listed, at least Guest, even where permissions shows nothing.
	list, err := g.Projects(ctx, w.token("topdev"))
	if err != nil || len(list) != 1 || list[0].Project.Path != deepProject || list[0].Role != Guest {
		t.Errorf("topdev listing: %+v, %v", list, err)
	}
	// Admins: their member projects, as Owner.
	if list, err := g.Projects(ctx, w.token("root")); err != nil || len(list) != 0 {
		t.Errorf("root listing: %+v, %v", list, err)
	}
	// Anonymous: nothing to list (public projects are readable by URL).
	if list, err := g.Projects(ctx, Anonymous); err != nil || list == nil || len(list) != 0 {
		t.Errorf("anonymous listing: %#v, %v", list, err)
	}
	dev, err := g.Projects(ctx, w.token("developer"))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, gr := range dev {
		got = append(got, gr.Project.Path+"="+gr.Role.String())
	}
	if diff := cmp.Diff([]string{"a/b/c/proj=Developer", "ml/untagged=Developer", "pub/open=Developer"}, got); diff != "" {
		t.Errorf("developer listing (-want +got):\n%s", diff)
	}
}

func TestNextPage(t *testing.T) {
	h := func(kv ...string) http.Header {
		x := http.Header{}
		for i := 0; i < len(kv); i += 2 {
			x[kv[i]] = []string{kv[i+1]}
		}
		return x
	}
	tests := []struct {
		name                 string
		h                    http.Header
		page, got, per, want int
	}{
		{"next header", h("X-Next-Page", "3"), 2, 100, 100, 3},
		{"last page", h("X-Next-Page", ""), 2, 100, 100, 0},
		{"next not forward", h("X-Next-Page", "1"), 2, 100, 100, 0},
		{"total pages", h("X-Total-Pages", "4"), 3, 100, 100, 4},
		{"total pages reached", h("X-Total-Pages", "3"), 3, 100, 100, 0},
		{"no headers, full page", h(), 1, 100, 100, 2},
		{"no headers, short page", h(), 1, 42, 100, 0},
		{"empty page", h("X-Next-Page", "9"), 8, 0, 100, 0},
	}
	for _, tt := range tests {
		if got := nextPage(tt.h, tt.page, tt.got, tt.per); got != tt.want {
			t.Errorf("%s: nextPage = %d, want %d", tt.name, got, tt.want)
		}
	}
}

func TestJobProjectPath(t *testing.T) {
	for _, tt := range []struct{ web, base, want string }{
		{"https://gitlab.example.com/a/b/proj/-/jobs/8", "https://gitlab.example.com", "a/b/proj"},
		{"https://gitlab.example.com/gitlab/a/proj/-/jobs/8", "http://internal:8080/gitlab", "a/proj"},
		{"https://gitlab.example.com/gitlabx/proj/-/jobs/8", "https://gitlab.example.com/gitlab", "gitlabx/proj"},
		{"https://gitlab.example.com/a/-/x/-/jobs/8", "https://gitlab.example.com", "a/-/x"},
		{"https://gitlab.example.com/jobs/8", "https://gitlab.example.com", ""},
		{"::", "https://gitlab.example.com", ""},
	} {
		if got := (glJob{WebURL: tt.web}).projectPath(tt.base); got != tt.want {
			t.Errorf("projectPath(%q, %q) = %q, want %q", tt.web, tt.base, got, tt.want)
		}
	}
}

func TestNewGitLabURL(t *testing.T) {
	for _, bad := range []string{"", "gitlab.example.com", "ftp://x", "https://", "https://u:p@gitlab", "https://g/?x=1"} {
		if _, err := NewGitLab(bad, nil, GitLabOptions{}); err == nil {
			t.Errorf("NewGitLab(%q) accepted", bad)
		}
	}
	for _, bad := range []string{"", "a//b", "../x/y", "a/../b", "a/b?x", "a/b#c", "a\x00/b"} {
		if _, err := cleanPath(bad); !errors.Is(err, ErrNotFound) {
			t.Errorf("cleanPath(%q) = %v, want ErrNotFound", bad, err)
		}
	}
}
