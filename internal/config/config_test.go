package config

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func load(t *testing.T, args []string, env map[string]string) (Config, error) {
	t.Helper()
	return Load(args, func(k string) string { return env[k] }, io.Discard)
}

func TestLoadPrecedenceAndNames(t *testing.T) {
	c, err := load(t, []string{"--port", "6000", "--dev"}, map[string]string{
		"MLFLOW_PORT": "7000", "MLFLOW_HOST": "0.0.0.0", "MLFLOW_BACKEND_STORE_URI": "postgresql://x/y",
		"PROJECT_TAG": "owner", "PROJECT_CACHE_TIMEOUT": "5", "LOGIN_AUTO_REDIRECT": "true",
		"GITLAB_MANDATORY_TOPICS": "ai-model, mlflow",
	})
	if err != nil {
		t.Fatal(err)
	}
	if c.Port != 6000 || c.Host != "0.0.0.0" || c.BackendStoreURI != "postgresql://x/y" || c.ProjectTag != "owner" ||
		c.ProjectCacheSecs != 5 || !c.LoginAutoRedirect || !c.Dev {
		t.Errorf("config = %+v", c)
	}
	if got := c.MandatoryTopics(); strings.Join(got, "|") != "ai-model|mlflow" {
		t.Errorf("topics = %v", got)
	}
}

func TestSecretsFromFileOnly(t *testing.T) {
	f := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(f, []byte("0123456789abcdef0123\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := load(t, nil, map[string]string{"GITLAB_URL": "https://gitlab.example", "SECRET_KEY_FILE": f})
	if err != nil || c.SecretKey != "0123456789abcdef0123" {
		t.Fatalf("SECRET_KEY_FILE: %q %v", c.SecretKey, err)
	}
	c, err = load(t, []string{"--secret-key-file", f, "--gitlab-url", "https://g"}, nil)
	if err != nil || c.SecretKey != "0123456789abcdef0123" {
		t.Fatalf("--secret-key-file: %q %v", c.SecretKey, err)
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	for _, c := range []struct {
		name string
		args []string
		env  map[string]string
		want []string
	}{
		{"no provider", nil, nil, []string{"no role provider", "GITLAB_URL", "--dev"}},
		{"two providers", []string{"--dev"}, map[string]string{"SHARINGHUB_URL": "http://s"}, []string{"exactly one role provider"}},
		{"oidc without secret key", nil, map[string]string{"GITLAB_URL": "http://g", "GITLAB_OAUTH_CLIENT_ID": "id", "GITLAB_OAUTH_CLIENT_SECRET": "s"},
			[]string{"needs SECRET_KEY"}},
		{"short key and bad port", []string{"--port", "70000"}, map[string]string{"GITLAB_URL": "http://g", "SECRET_KEY": "short"},
			[]string{"at least 16", "out of range"}},
		{"bad bool", []string{"--dev"}, map[string]string{"LOGIN_AUTO_REDIRECT": "maybe"}, []string{"LOGIN_AUTO_REDIRECT"}},
		{"client id without url", []string{"--dev"}, map[string]string{"GITLAB_OAUTH_CLIENT_ID": "id", "GITLAB_OAUTH_CLIENT_SECRET": "s", "SECRET_KEY": "0123456789abcdef"},
			[]string{"needs GITLAB_URL"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := load(t, c.args, c.env)
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}
