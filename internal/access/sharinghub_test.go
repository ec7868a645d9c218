package access

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/csgroup-oss/mlflow-sharinghub-go/internal/gitlabtest"
	"github.com/google/go-cmp/cmp"
)

// hubWorld is a GitLab double with SharingHub-style topics and a SharingHub
// double in front of it.
type hubWorld struct {
	gl     *gitlabtest.Server
	hub    *gitlabtest.SharingHub
	oauth  map[string]string // username → OAuth token
	ids    map[string]int64
	botTok string
}

func newHubWorld(t *testing.T, opts gitlabtest.SharingHubOptions) *hubWorld {
	t.Helper()
	gl := gitlabtest.New()
	t.Cleanup(gl.Close)
	w := &hubWorld{gl: gl, oauth: map[string]string{}, ids: map[string]int64{}}
	for _, u := range []string{"owner", "maintainer", "developer", "reporter", "planner", "guest", "outsider", "bot"} {
		gl.AddUser(gitlabtest.User{Username: u})
		w.oauth[u] = gl.NewOAuthToken(u)
	}
	gl.AddUser(gitlabtest.User{Username: "root", Admin: true})
	w.oauth["root"] = gl.NewOAuthToken("root")
	add := func(p gitlabtest.Project) { w.ids[p.Path] = gl.AddProject(p).ID }
	add(gitlabtest.Project{Path: "hub/model", Name: "Model", Topics: []string{"sharinghub:aimodel"}})
	add(gitlabtest.Project{Path: "hub/dataset", Topics: []string{"sharinghub:dataset"}})
	add(gitlabtest.Project{Path: "hub/plain"})
	add(gitlabtest.Project{Path: "hub/public", Visibility: "public", Topics: []string{"sharinghub:aimodel"}})
	for u, l := range map[string]int{"owner": gitlabtest.Owner, "maintainer": gitlabtest.Maintainer,
		"developer": gitlabtest.Developer, "reporter": gitlabtest.Reporter, "planner": gitlabtest.Planner,
		"guest": gitlabtest.Guest, "bot": gitlabtest.Developer} {
		gl.AddProjectMember("hub/model", u, l)
	}
	gl.AddProjectMember("hub/dataset", "developer", gitlabtest.Developer)
	gl.AddProjectMember("hub/plain", "developer", gitlabtest.Developer)
	if opts.DefaultToken == "bot" {
		opts.DefaultToken = w.oauth["bot"]
	}
	w.hub = gitlabtest.NewSharingHub(gl, opts)
	t.Cleanup(w.hub.Close)
	return w
}

func newSharingHub(t *testing.T, url string, opts SharingHubOptions) *SharingHub {
	t.Helper()
	s, err := NewSharingHub(url, nil, opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSharingHubRoles(t *testing.T) {
	for _, objects := range []bool{false, true} {
		t.Run(fmt.Sprintf("categoryObjects=%v", objects), func(t *testing.T) {
			w := newHubWorld(t, gitlabtest.SharingHubOptions{CategoryObjects: objects})
			s := newSharingHub(t, w.hub.URL, DefaultSharingHubOptions())
			ctx := context.Background()
			tests := []struct {
				user    string
				want    Role
				wantErr string
			}{
				{"owner", Maintainer, ""}, // access_level 4
				{"maintainer", Maintainer, ""},
				{"root", Maintainer, ""},
				{"developer", Developer, ""}, // 3
				{"reporter", Reporter, ""},   // 2
				{"planner", Guest, ""},       // 1
				{"guest", Guest, ""},         // 1
				{"outsider", 0, "not found"},
			}
			for _, tt := range tests {
				for _, c := range []Credential{
					{Kind: KindToken, Secret: w.oauth[tt.user]},
					{Kind: KindSharingHubCookie, Secret: w.hub.Login(w.oauth[tt.user])},
				} {
					gr, err := s.Project(ctx, c, "hub/model")
					if errKind(err) != tt.wantErr || gr.Role != tt.want {
						t.Errorf("%s %v: got %v, %v; want %v %q", tt.user, c, gr.Role, err, tt.want, tt.wantErr)
					}
					if err == nil {
						want := Project{ID: w.ids["hub/model"], Path: "hub/model", Name: "Model", Categories: []string{"ai-model"}}
						if diff := cmp.Diff(want, gr.Project); diff != "" {
							t.Errorf("project (-want +got):\n%s", diff)
						}
					}
				}
			}
			// By id, too.
			if gr, err := s.Project(ctx, Credential{Kind: KindToken, Secret: w.oauth["developer"]}, fmt.Sprint(w.ids["hub/model"])); err != nil || gr.Role != Developer {
				t.Errorf("by id: %v, %v", gr.Role, err)
			}
		})
	}
}

func TestSharingHubAccessLevels(t *testing.T) {
	// A stand-in SharingHub answering each access_level, to pin the mapping.
	level := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `{"id": 7, "name": "p", "path": "g/p", "access_level": %d, "categories": ["ai-model"]}`, level)
	}))
	defer srv.Close()
	s := newSharingHub(t, srv.URL, DefaultSharingHubOptions())
	want := map[int]Role{1: Guest, 2: Reporter, 3: Developer, 4: Maintainer}
	for level = -1; level <= 5; level++ {
		gr, err := s.Project(context.Background(), Credential{Kind: KindToken, Secret: "t"}, "g/p")
		if w, ok := want[level]; ok {
			if err != nil || gr.Role != w {
				t.Errorf("access_level %d: %v, %v; want %v", level, gr.Role, err, w)
			}
		} else if !errors.Is(err, ErrNotFound) {
			t.Errorf("access_level %d: err = %v, want ErrNotFound", level, err)
		}
	}
}

func TestSharingHubCategoryGate(t *testing.T) {
	w := newHubWorld(t, gitlabtest.SharingHubOptions{})
	ctx := context.Background()
	dev := Credential{Kind: KindToken, Secret: w.oauth["developer"]}
	tests := []struct {
		collection, project string
		wantErr             string
	}{
		{"ai-model", "hub/model", ""},
		{"ai-model", "hub/dataset", "not found"},
		{"ai-model", "hub/plain", "not found"}, // SharingHub: 500 "Category not found"
		{"dataset", "hub/dataset", ""},
		{"dataset", "hub/model", "not found"},
		{"", "hub/dataset", ""}, // gate disabled
		{"", "hub/plain", "not found"},
	}
	for _, tt := range tests {
		s := newSharingHub(t, w.hub.URL, SharingHubOptions{StacCollection: tt.collection})
		if _, err := s.Project(ctx, dev, tt.project); errKind(err) != tt.wantErr {
			t.Errorf("collection %q, %s: err = %v, want %q", tt.collection, tt.project, err, tt.wantErr)
		}
	}
}

func TestSharingHubCredentials(t *testing.T) {
	ctx := context.Background()
	t.Run("forwarding", func(t *testing.T) {
		var got []string
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c, _ := r.Cookie("my-session")
			v := ""
			if c != nil {
				v = c.Value
			}
			got = append(got, fmt.Sprintf("%s token=%q cookie=%q authz=%q", r.URL.RequestURI(), r.Header.Get("X-Gitlab-Token"), v, r.Header.Get("Authorization")))
			fmt.Fprint(w, `{"id": 1, "name": "p", "path": "g/s/p", "access_level": 3, "categories": ["ai-model"], "access_token": "ignored"}`)
		}))
		defer srv.Close()
		s := newSharingHub(t, srv.URL, SharingHubOptions{SessionCookieName: "my-session", StacCollection: "ai-model"})
		s.Authenticate(ctx, Credential{Kind: KindToken, Secret: "tok"})
		s.Authenticate(ctx, Credential{Kind: KindSharingHubCookie, Secret: "cook"})
		s.Project(ctx, Credential{Kind: KindToken, Secret: "tok"}, "g/s/p")
		s.Project(ctx, Credential{Kind: KindSharingHubCookie, Secret: "cook"}, "g/s/p")
		s.Project(ctx, Anonymous, "g/s/p")
		want := []string{
			`/api/auth/info token="tok" cookie="" authz=""`,
			`/api/auth/info token="" cookie="cook" authz=""`,
			`/api/check/g%2Fs%2Fp?info=true token="tok" cookie="" authz=""`,
			`/api/check/g%2Fs%2Fp?info=true token="" cookie="cook" authz=""`,
			`/api/check/g%2Fs%2Fp?info=true token="" cookie="" authz=""`,
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("requests (-want +got):\n%s", diff)
		}
	})

	t.Run("sessions", func(t *testing.T) {
		w := newHubWorld(t, gitlabtest.SharingHubOptions{CookieName: "custom"})
		s := newSharingHub(t, w.hub.URL, SharingHubOptions{SessionCookieName: "custom", StacCollection: "ai-model"})
		signedIn := Credential{Kind: KindSharingHubCookie, Secret: w.hub.Login(w.oauth["developer"])}
		if p, err := s.Authenticate(ctx, signedIn); err != nil || p.Anonymous {
			t.Errorf("signed-in cookie: %+v, %v", p, err)
		}
		visitor := Credential{Kind: KindSharingHubCookie, Secret: w.hub.Visitor()}
		if _, err := s.Authenticate(ctx, visitor); !errors.Is(err, ErrUnauthenticated) {
			t.Errorf("visitor cookie: err = %v, want ErrUnauthenticated", err)
		}
		if _, err := s.Project(ctx, visitor, "hub/model"); !errors.Is(err, ErrUnauthenticated) {
			t.Errorf("visitor cookie project: err = %v, want ErrUnauthenticated", err)
		}
		// The wrong cookie name reaches SharingHub as no credential at all.
		wrong := newSharingHub(t, w.hub.URL, SharingHubOptions{StacCollection: "ai-model"})
		if _, err := wrong.Project(ctx, signedIn, "hub/model"); !errors.Is(err, ErrUnauthenticated) {
			t.Errorf("wrong cookie name: err = %v, want ErrUnauthenticated", err)
		}
		bogus := Credential{Kind: KindToken, Secret: "glpat-bogus"}
		if _, err := s.Project(ctx, bogus, "hub/model"); !errors.Is(err, ErrUnauthenticated) {
			t.Errorf("bogus token: err = %v, want ErrUnauthenticated", err)
		}
		if _, err := s.Authenticate(ctx, Credential{Kind: KindJobToken, Secret: "x"}); !errors.Is(err, ErrUnauthenticated) {
			t.Errorf("job token: err = %v, want ErrUnauthenticated", err)
		}
		if _, err := s.Project(ctx, Anonymous, "hub/public"); !errors.Is(err, ErrUnauthenticated) {
			t.Errorf("anonymous without default token: err = %v, want ErrUnauthenticated", err)
		}
		if list, err := s.Projects(ctx, signedIn); err != nil || list == nil || len(list) != 0 {
			t.Errorf("Projects = %#v, %v; want empty", list, err)
		}
	})

	t.Run("default token", func(t *testing.T) {
		w := newHubWorld(t, gitlabtest.SharingHubOptions{DefaultToken: "bot"})
		s := newSharingHub(t, w.hub.URL, SharingHubOptions{DefaultToken: true, StacCollection: "ai-model"})
		if p, err := s.Authenticate(ctx, Anonymous); err != nil || !p.Anonymous {
			t.Errorf("anonymous: %+v, %v", p, err)
		}
		if gr, err := s.Project(ctx, Anonymous, "hub/model"); err != nil || gr.Role != Developer {
			t.Errorf("anonymous with the default token (bot is Developer): %v, %v", gr.Role, err)
		}
		// A visitor cookie is not a sign-in even though SharingHub has a default token.
		if _, err := s.Authenticate(ctx, Credential{Kind: KindSharingHubCookie, Secret: w.hub.Visitor()}); !errors.Is(err, ErrUnauthenticated) {
			t.Errorf("visitor with default token: err = %v, want ErrUnauthenticated", err)
		}
		if w.hub.Calls(gitlabtest.EndpointAuthInfo) != 1 {
			t.Errorf("auth/info calls = %d, want 1 (none for anonymous)", w.hub.Calls(gitlabtest.EndpointAuthInfo))
		}
	})

	t.Run("public", func(t *testing.T) {
		w := newHubWorld(t, gitlabtest.SharingHubOptions{AllowPublic: true})
		s := newSharingHub(t, w.hub.URL, DefaultSharingHubOptions())
		if gr, err := s.Project(ctx, Anonymous, "hub/public"); err != nil || gr.Role != Reporter {
			t.Errorf("anonymous public: %v, %v", gr.Role, err)
		}
		if _, err := s.Project(ctx, Anonymous, "hub/model"); !errors.Is(err, ErrNotFound) {
			t.Errorf("anonymous private: err = %v, want ErrNotFound", err)
		}
	})
}

func TestSharingHubOutage(t *testing.T) {
	ctx := context.Background()
	w := newHubWorld(t, gitlabtest.SharingHubOptions{})
	s := newSharingHub(t, w.hub.URL, DefaultSharingHubOptions())
	dev := Credential{Kind: KindToken, Secret: w.oauth["developer"]}
	for _, mode := range []gitlabtest.Outage{gitlabtest.Down503, gitlabtest.DownRefuse, gitlabtest.DownDrop} {
		w.hub.SetOutage(mode)
		if _, err := s.Authenticate(ctx, dev); !errors.Is(err, ErrUnavailable) {
			t.Errorf("outage %d: Authenticate err = %v", mode, err)
		}
		if _, err := s.Project(ctx, dev, "hub/model"); !errors.Is(err, ErrUnavailable) {
			t.Errorf("outage %d: Project err = %v", mode, err)
		}
	}
	w.hub.SetOutage(gitlabtest.Up)
	w.gl.SetOutage(gitlabtest.Down503) // GitLab behind SharingHub
	if _, err := s.Project(ctx, dev, "hub/model"); !errors.Is(err, ErrUnavailable) {
		t.Errorf("GitLab down: err = %v, want ErrUnavailable", err)
	}
	w.gl.SetOutage(gitlabtest.Up)
	if gr, err := s.Project(ctx, dev, "hub/model"); err != nil || gr.Role != Developer {
		t.Errorf("recovered: %v, %v", gr.Role, err)
	}
}

func TestAmong(t *testing.T) {
	w := newHubWorld(t, gitlabtest.SharingHubOptions{})
	s := newSharingHub(t, w.hub.URL, DefaultSharingHubOptions())
	ctx := context.Background()
	dev := Credential{Kind: KindToken, Secret: w.oauth["developer"]}
	got, err := Among(ctx, s, dev, []string{"hub/public", "hub/model", "hub/dataset", "hub/plain", "nope/x", fmt.Sprint(w.ids["hub/model"])})
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, g := range got {
		paths = append(paths, g.Project.Path+"="+g.Role.String())
	}
	if diff := cmp.Diff([]string{"hub/model=Developer", "hub/public=Reporter"}, paths); diff != "" {
		t.Errorf("Among (-want +got):\n%s", diff)
	}
	w.hub.SetOutage(gitlabtest.Down503)
	if _, err := Among(ctx, s, dev, []string{"hub/model", "hub/public"}); !errors.Is(err, ErrUnavailable) {
		t.Errorf("outage: err = %v, want ErrUnavailable", err)
	}
	if got, err := Among(ctx, s, dev, nil); err != nil || got == nil || len(got) != 0 {
		t.Errorf("no candidates: %#v, %v", got, err)
	}
}
