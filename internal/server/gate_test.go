package server

import (
	"strings"
	"testing"
)

func TestSplitPath(t *testing.T) {
	known := func(rest string) bool {
		return strings.HasPrefix(rest, "/api/2.0/mlflow/") || strings.HasPrefix(rest, "/ajax-api/2.0/mlflow/") || rest == "/health"
	}
	for _, c := range []struct{ path, project, rest string }{
		{"/api/2.0/mlflow/runs/get", "", "/api/2.0/mlflow/runs/get"},
		{"/g/p/tracking/api/2.0/mlflow/runs/get", "g/p", "/api/2.0/mlflow/runs/get"},
		{"/a/b/c/proj/tracking/ajax-api/2.0/mlflow/runs/search", "a/b/c/proj", "/ajax-api/2.0/mlflow/runs/search"},
		{"/g/p/tracking/", "g/p", "/"},
		{"/g/p/tracking", "g/p", "/"},
		// Groups and projects named "tracking".
		{"/tracking/p/tracking/api/2.0/mlflow/runs/get", "tracking/p", "/api/2.0/mlflow/runs/get"},
		{"/g/tracking/tracking/api/2.0/mlflow/runs/get", "g/tracking", "/api/2.0/mlflow/runs/get"},
		{"/g/p/tracking/tracking/api/2.0/mlflow/runs/get", "g/p/tracking", "/api/2.0/mlflow/runs/get"},
		{"/a/tracking/b/tracking/api/2.0/mlflow/runs/get", "a/tracking/b", "/api/2.0/mlflow/runs/get"},
		// One segment is not a project path.
		{"/p/tracking/api/2.0/mlflow/runs/get", "", "/p/tracking/api/2.0/mlflow/runs/get"},
		{"//p/tracking/api/2.0/mlflow/runs/get", "", "//p/tracking/api/2.0/mlflow/runs/get"},
		{"/g/p/tracking/unknown", "g/p", "/unknown"},
	} {
		got := splitPath(c.path, known)
		if got.project != c.project || got.rest != c.rest {
			t.Errorf("splitPath(%q) = {%q %q}, want {%q %q}", c.path, got.project, got.rest, c.project, c.rest)
		}
	}
}

func TestCleanPath(t *testing.T) {
	for p, want := range map[string]bool{
		"/": true, "/a/b": true, "/a/b/": true, "/g/p/tracking/": true,
		"/a/../b": false, "/a//b": false, "/a/./b": false, "//a": false, "": false, "/a/..": false,
	} {
		if got := cleanPath(p); got != want {
			t.Errorf("cleanPath(%q) = %v, want %v", p, got, want)
		}
	}
}
