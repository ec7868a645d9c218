package auth

import (
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func basic(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

func TestFromRequest(t *testing.T) {
	sessions := mustSessions(t)
	// A valid session cookie for the precedence cases.
	rec := httptest.NewRecorder()
	if err := sessions.Save(rec, httptest.NewRequest("GET", "/", nil), Session{AccessToken: "session-tok", Username: "ada"}); err != nil {
		t.Fatal(err)
	}
	sessionCookie := rec.Result().Cookies()[0]
	shub := Options{SharingHub: true}

	tests := []struct {
		name    string
		headers [][2]string
		cookies []*http.Cookie
		opts    Options
		noStore bool // call with sessions == nil
		want    Credential
		wantErr string // substring; "" means no error
	}{
		{name: "nothing", want: Credential{Kind: Anonymous}},
		{name: "bearer", headers: [][2]string{{"Authorization", "Bearer glpat-abc"}}, want: Credential{Token, "glpat-abc"}},
		{name: "bearer scheme any case", headers: [][2]string{{"Authorization", "bearer glpat-abc"}}, want: Credential{Token, "glpat-abc"}},
		{name: "bearer extra spaces", headers: [][2]string{{"Authorization", "Bearer   glpat-abc  "}}, want: Credential{Token, "glpat-abc"}},
		{name: "basic password is token", headers: [][2]string{{"Authorization", basic("ada", "glpat-pw")}}, want: Credential{Token, "glpat-pw"}},
		{name: "basic empty user", headers: [][2]string{{"Authorization", basic("", "glpat-pw")}}, want: Credential{Token, "glpat-pw"}},
		{name: "basic password with colon", headers: [][2]string{{"Authorization", basic("ada", "a:b")}}, want: Credential{Token, "a:b"}},
		{name: "basic gitlab-ci-token is job token", headers: [][2]string{{"Authorization", basic("gitlab-ci-token", "job-1")}}, want: Credential{JobToken, "job-1"}},
		{name: "private-token", headers: [][2]string{{"PRIVATE-TOKEN", "glpat-p"}}, want: Credential{Token, "glpat-p"}},
		{name: "job-token", headers: [][2]string{{"JOB-TOKEN", "glcbt-j"}}, want: Credential{JobToken, "glcbt-j"}},
		{name: "session cookie", cookies: []*http.Cookie{sessionCookie}, want: Credential{Token, "session-tok"}},
		{name: "sharinghub cookie", cookies: []*http.Cookie{{Name: "sharinghub-session", Value: "shs"}}, opts: shub, want: Credential{SharingHubCookie, "shs"}},
		{name: "sharinghub cookie custom name", cookies: []*http.Cookie{{Name: "hub", Value: "shs"}}, opts: Options{SharingHub: true, SharingHubCookie: "hub"}, want: Credential{SharingHubCookie, "shs"}},
		{name: "sharinghub cookie ignored outside sharinghub mode", cookies: []*http.Cookie{{Name: "sharinghub-session", Value: "shs"}}, want: Credential{Kind: Anonymous}},
		{name: "sharinghub cookie, default name not read when custom set", cookies: []*http.Cookie{{Name: "sharinghub-session", Value: "shs"}}, opts: Options{SharingHub: true, SharingHubCookie: "hub"}, want: Credential{Kind: Anonymous}},
		{name: "session cookie ignored without store", cookies: []*http.Cookie{sessionCookie}, noStore: true, want: Credential{Kind: Anonymous}},
		{name: "tampered session cookie ignored", cookies: []*http.Cookie{{Name: sessionCookie.Name, Value: sessionCookie.Value[:len(sessionCookie.Value)-2] + "AA"}}, want: Credential{Kind: Anonymous}},
		{name: "plugin's flask cookie ignored", cookies: []*http.Cookie{{Name: "mlflow-session", Value: "eyJhdXRoIjp7fX0.ZmFrZQ.c2ln"}}, want: Credential{Kind: Anonymous}},

		// Precedence.
		{name: "bearer beats everything", headers: [][2]string{{"Authorization", "Bearer b"}, {"PRIVATE-TOKEN", "p"}, {"JOB-TOKEN", "j"}},
			cookies: []*http.Cookie{sessionCookie, {Name: "sharinghub-session", Value: "s"}}, opts: shub, want: Credential{Token, "b"}},
		{name: "basic beats private-token", headers: [][2]string{{"Authorization", basic("u", "b")}, {"PRIVATE-TOKEN", "p"}}, want: Credential{Token, "b"}},
		{name: "private-token beats job-token", headers: [][2]string{{"PRIVATE-TOKEN", "p"}, {"JOB-TOKEN", "j"}}, want: Credential{Token, "p"}},
		{name: "job-token beats session", headers: [][2]string{{"JOB-TOKEN", "j"}}, cookies: []*http.Cookie{sessionCookie}, want: Credential{JobToken, "j"}},
		{name: "session beats sharinghub cookie", cookies: []*http.Cookie{sessionCookie, {Name: "sharinghub-session", Value: "s"}}, opts: shub, want: Credential{Token, "session-tok"}},

		// Malformed: an error, never anonymous.
		{name: "bearer without token", headers: [][2]string{{"Authorization", "Bearer"}}, wantErr: "the token is empty"},
		{name: "bearer blank token", headers: [][2]string{{"Authorization", "Bearer    "}}, wantErr: "the token is empty"},
		{name: "bearer token with space", headers: [][2]string{{"Authorization", "Bearer a b"}}, wantErr: "spaces"},
		{name: "bearer non-ascii", headers: [][2]string{{"Authorization", "Bearer tök"}}, wantErr: "non-ASCII"},
		{name: "empty authorization", headers: [][2]string{{"Authorization", ""}}, wantErr: "empty Authorization"},
		{name: "unknown scheme", headers: [][2]string{{"Authorization", "Token abc"}}, wantErr: `scheme "Token" is not supported`},
		{name: "bare token without scheme", headers: [][2]string{{"Authorization", "glpat-abc"}}, wantErr: "is not supported"},
		{name: "basic not base64", headers: [][2]string{{"Authorization", "Basic !!!"}}, wantErr: "not base64"},
		{name: "basic empty", headers: [][2]string{{"Authorization", "Basic"}}, wantErr: "not base64"},
		{name: "basic without colon", headers: [][2]string{{"Authorization", "Basic " + base64.StdEncoding.EncodeToString([]byte("glpat-abc"))}}, wantErr: "no ':'"},
		{name: "basic empty password", headers: [][2]string{{"Authorization", basic("ada", "")}}, wantErr: "MLFLOW_TRACKING_PASSWORD"},
		{name: "two authorization headers", headers: [][2]string{{"Authorization", "Bearer a"}, {"Authorization", "Bearer b"}}, wantErr: "more than one Authorization"},
		{name: "empty private-token", headers: [][2]string{{"PRIVATE-TOKEN", ""}}, wantErr: "PRIVATE-TOKEN header: the token is empty"},
		{name: "two job-tokens", headers: [][2]string{{"JOB-TOKEN", "a"}, {"JOB-TOKEN", "b"}}, wantErr: "more than one JOB-TOKEN"},
		{name: "malformed bearer not rescued by cookie", headers: [][2]string{{"Authorization", "Bearer"}}, cookies: []*http.Cookie{sessionCookie}, wantErr: "empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/p/tracking/api/2.0/mlflow/experiments/search", nil)
			for _, h := range tt.headers {
				r.Header.Add(h[0], h[1])
			}
			for _, c := range tt.cookies {
				r.AddCookie(c)
			}
			s := sessions
			if tt.noStore {
				s = nil
			}
			got, err := FromRequest(r, s, tt.opts)
			if tt.wantErr != "" {
				if err == nil {
					t.Fatalf("got %v, nil error; want error containing %q", got, tt.wantErr)
				}
				if !errors.Is(err, ErrMalformedCredentials) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %q: want ErrMalformedCredentials containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error %v", err)
			}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestFromRequestExpiredAccessToken(t *testing.T) {
	s := mustSessions(t)
	rec := httptest.NewRecorder()
	r := httptest.NewRequest("GET", "/", nil)
	if err := s.Save(rec, r, Session{AccessToken: "old", TokenExpiry: s.now().Add(-time1s)}); err != nil {
		t.Fatal(err)
	}
	r.AddCookie(rec.Result().Cookies()[0])
	got, err := FromRequest(r, s, Options{})
	if err != nil || got.Kind != Anonymous {
		t.Fatalf("got %v, %v; want anonymous: an expired GitLab token is no credential", got, err)
	}
}

func TestCredentialNeverPrintsSecret(t *testing.T) {
	c := Credential{Kind: Token, Secret: "glpat-secret"}
	for _, s := range []string{c.String(), c.LogValue().String()} {
		if strings.Contains(s, "secret") {
			t.Errorf("%q reveals the secret", s)
		}
	}
	if got := JobToken.String(); got != "job-token" {
		t.Errorf("JobToken.String() = %q", got)
	}
}
