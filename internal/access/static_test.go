package access

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func mustLoadStatic(t *testing.T, path string) *Static {
	t.Helper()
	s, err := LoadStatic(path)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func tok(s string) Credential { return Credential{Kind: KindToken, Secret: s} }

func TestStaticLookups(t *testing.T) {
	s := mustLoadStatic(t, "testdata/projects.json")
	ctx := context.Background()

	p, err := s.Authenticate(ctx, tok("bob-first-token")) // declared as its SHA-256
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(Principal{ID: 42, Username: "bob", Name: "bob"}, p); diff != "" {
		t.Errorf("bob (-want +got):\n%s", diff)
	}
	if p, _ := s.Authenticate(ctx, tok("alice-secret-token")); p.ID != 43 || p.Email != "alice@example.com" {
		t.Errorf("alice: %+v (ids are assigned after the highest declared)", p)
	}
	for name, c := range map[string]Credential{
		"unknown": tok("nope-nope-nope"), "empty": tok(""), "sha text": tok("sha256:442a1bb41bf39b723cd9c097714899f31545a02479c305d21e201a207de1f7ae"),
		"job": {Kind: KindJobToken, Secret: "alice-secret-token"}, "cookie": {Kind: KindSharingHubCookie, Secret: "alice-secret-token"},
	} {
		if _, err := s.Authenticate(ctx, c); !errors.Is(err, ErrUnauthenticated) {
			t.Errorf("%s: err = %v, want ErrUnauthenticated", name, err)
		}
		if _, err := s.Project(ctx, c, "open/showcase"); !errors.Is(err, ErrUnauthenticated) {
			t.Errorf("%s: Project err = %v, want ErrUnauthenticated", name, err)
		}
	}

	tests := []struct {
		who, project string
		want         Role
		wantErr      string
	}{
		{"alice-secret-token", "demo/project", Developer, ""},
		{"alice-secret-token", "1", Developer, ""},
		{"alice-secret-token", "DEMO/project/", Developer, ""},
		{"bob-second-token", "demo/project", Reporter, ""},
		{"carol-secret-token", "demo/project", 0, "not found"}, // Minimal access
		{"carol-secret-token", "lab/vision/detector", Guest, ""},
		{"root-secret-token", "demo/project", Owner, ""},
		{"root-secret-token", "2", Owner, ""},
		{"", "open/showcase", Guest, ""},
		{"", "lab/vision/detector", 0, "not found"},
		{"", "demo/project", 0, "not found"},
		{"alice-secret-token", "nope/nope", 0, "not found"},
		{"alice-secret-token", "99", 0, "not found"},
	}
	for _, tt := range tests {
		c := Anonymous
		if tt.who != "" {
			c = tok(tt.who)
		}
		gr, err := s.Project(ctx, c, tt.project)
		if errKind(err) != tt.wantErr || gr.Role != tt.want {
			t.Errorf("%s on %s: %v, %v; want %v %q", tt.who, tt.project, gr.Role, err, tt.want, tt.wantErr)
		}
	}
	gr, _ := s.Project(ctx, tok("alice-secret-token"), "demo/project")
	if diff := cmp.Diff(Project{ID: 1, Path: "demo/project", Name: "Demo", Visibility: "private", Topics: []string{"ai-model"}}, gr.Project); diff != "" {
		t.Errorf("project (-want +got):\n%s", diff)
	}

	list := func(c Credential) []string {
		gs, err := s.Projects(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		out := []string{}
		for _, g := range gs {
			out = append(out, g.Project.Path+"="+g.Role.String())
		}
		return out
	}
	for c, want := range map[Credential][]string{
		Anonymous:                 {"open/showcase=Guest"},
		tok("alice-secret-token"): {"demo/project=Developer", "lab/vision/detector=Guest", "open/showcase=Guest"},
		tok("carol-secret-token"): {"lab/vision/detector=Guest", "open/showcase=Guest"},
		tok("root-secret-token"):  {"demo/project=Owner", "lab/vision/detector=Owner", "open/showcase=Owner"},
	} {
		if diff := cmp.Diff(want, list(c)); diff != "" {
			t.Errorf("Projects(%v) (-want +got):\n%s", c, diff)
		}
	}
}

func TestStaticValidation(t *testing.T) {
	tests := []struct {
		name string
		json string
		want []string // every problem, in order
	}{
		{"syntax", "{\n  \"projects\": [\n    {\"id\": 1,}\n  ]\n}", []string{
			"line 3, column 14: invalid character '}' looking for beginning of object key string"}},
		{"trailing", `{"projects": []} {}`, []string{"trailing data after the JSON document"}},
		{"unknown top-level field", `{"project": []}`, []string{`unknown field "project"`}},
		{"unknown field", `{"projects": [{"id": 1, "path": "a/b", "visiblity": "public"}]}`, []string{
			`projects[0]: unknown field "visiblity"`}},
		{"wrong type", `{"projects": [{"id": "one", "path": "a/b"}]}`, []string{
			`projects[0].id: want int64, got JSON string`}},
		{"no projects", `{}`, []string{"projects: none declared"}},
		{"project problems", `{"projects": [
			{"id": 1, "path": "a/b"},
			{"id": 1, "path": "A/B"},
			{"id": 0, "path": "solo"},
			{"id": 4, "path": "a/../b", "visibility": "secret"},
			{"id": 5, "path": "c/d", "topics": [""]}]}`, []string{
			`projects[1].id: 1 already used by projects[0]`,
			`projects[1].path: "A/B" already used by projects[0] (paths are compared ignoring case)`,
			`projects[2].id: must be a positive integer, got 0`,
			`projects[2].path: "solo": want <namespace>/<project>, e.g. "group/project"`,
			`projects[3].path: "a/../b": segment "..": use letters, digits, '_', '.', '-', not starting with '.' or '-'`,
			`projects[3].visibility: "secret" is not one of private, internal, public`,
			`projects[4].topics[0]: empty topic`,
		}},
		{"user problems", `{"projects": [{"id": 1, "path": "a/b"}], "users": [
			{"username": "alice", "token": "alice-secret-token"},
			{"username": "Alice", "tokens": ["alice-secret-token", "short", "has space inside", "sha256:xyz"]},
			{"username": "", "email": "nope", "id": -3},
			{"id": 7, "username": "x"}, {"id": 7, "username": "y"}]}`, []string{
			`users[1].username: "Alice" already used by users[0] (usernames are compared ignoring case)`,
			`users[1].tokens[0]: token already given to users[0] (alice)`,
			`users[1].tokens[1]: token shorter than 8 characters`,
			`users[1].tokens[2]: a token cannot contain spaces or control characters`,
			`users[1].tokens[3]: want sha256: followed by 64 hex digits`,
			`users[2].username: missing`,
			`users[2].id: must be positive, got -3`,
			`users[2].email: "nope" is not an email address`,
			`users[4].id: 7 already used by users[3]`,
		}},
		{"membership JSON problems", `{"projects": [{"id": 1, "path": "a/b"}], "users": [{"username": "alice"}], "memberships": [
			{"user": "carol", "project": "x/y", "role": "boss"},
			{"user": "alice", "project": true, "role": "guest"},
			{"user": "alice", "project": "a/b", "role": "guest", "extra": 1}]}`, []string{
			`memberships[1]: project: want a string or an integer, got true`,
			`memberships[2]: unknown field "extra"`,
		}},
		{"membership problems", `{"projects": [{"id": 1, "path": "a/b"}], "users": [{"username": "alice"}], "memberships": [
			{"user": "alice", "project": "a/b", "role": "developer"},
			{"user": "carol", "project": "x/y", "role": "boss"},
			{"user": "alice", "project": 1, "role": 40},
			{"user": "alice", "project": 2, "role": 25},
			{"project": "a/b"}]}`, []string{
			`memberships[1].user: unknown user "carol"`,
			`memberships[1].project: unknown project "x/y"`,
			`memberships[1].role: unknown role "boss" (want Owner, Maintainer, Developer, Reporter, Planner, Guest, Minimal access, No access or their levels 50, 40, 30, 20, 15, 10, 5, 0)`,
			`memberships[2]: user "alice" already has a role on "a/b" in memberships[0]`,
			`memberships[3].project: unknown project "2"`,
			`memberships[3].role: unknown role "25" (want Owner, Maintainer, Developer, Reporter, Planner, Guest, Minimal access, No access or their levels 50, 40, 30, 20, 15, 10, 5, 0)`,
			`memberships[4].user: missing`,
			`memberships[4].role: missing`,
		}},
	}
	dir := t.TempDir()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, "projects.json")
			if err := os.WriteFile(path, []byte(tt.json), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := LoadStatic(path)
			var se *StaticError
			if !errors.As(err, &se) {
				t.Fatalf("err = %v, want a *StaticError", err)
			}
			if diff := cmp.Diff(tt.want, se.Problems); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
			for _, line := range strings.Split(err.Error(), "\n") {
				if !strings.HasPrefix(line, path+": ") {
					t.Errorf("line %q does not name the file", line)
				}
			}
		})
	}
	if _, err := LoadStatic(filepath.Join(dir, "missing.json")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	if _, err := NewStatic(StaticConfig{}); err == nil || err.Error() != "projects: none declared" {
		t.Errorf("NewStatic(empty) = %v", err)
	}
}

func TestStaticDev(t *testing.T) {
	s, token := Dev()
	_, token2 := Dev()
	if len(token) < 20 || token == token2 {
		t.Fatalf("dev tokens %q, %q: want long and random", token, token2)
	}
	ctx := context.Background()
	gr, err := s.Project(ctx, tok(token), "demo/project")
	if err != nil {
		t.Fatal(err)
	}
	want := Grant{Role: Owner, Project: Project{ID: 1, Path: "demo/project", Name: "Demo project", Visibility: "private"}}
	if diff := cmp.Diff(want, gr); diff != "" {
		t.Errorf("dev grant (-want +got):\n%s", diff)
	}
	if _, err := s.Project(ctx, Anonymous, "demo/project"); !errors.Is(err, ErrNotFound) {
		t.Errorf("anonymous on the dev project: %v", err)
	}
	if _, err := s.Project(ctx, tok(token2), "demo/project"); !errors.Is(err, ErrUnauthenticated) {
		t.Errorf("another run's token: %v", err)
	}
}
