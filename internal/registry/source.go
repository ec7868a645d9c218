package registry

import (
	"net/url"
	"path"
	"strings"

	"github.com/csgroup-oss/mlflow-sharinghub-go/internal/mlflow"
)

// SourceKind says what a model version source refers to.
type SourceKind int

// Source kinds.
const (
	SourceOther         SourceKind = iota // another URI (s3://, gs://, ...): stored as is
	SourceLocal                           // a local path or file: URI
	SourceRun                             // runs:/<run id>/<path>
	SourceLoggedModel                     // models:/<model id>
	SourceModelVersion                    // models:/<name>/<version> or models:/<name>@<alias>
	SourceArtifactProxy                   // mlflow-artifacts:/... or http(s)://.../api/2.0/mlflow-artifacts/artifacts/...
)

// Source is a parsed model version source.
type Source struct {
	Kind SourceKind
	// RunID and Path for SourceRun.
	RunID, Path string
	// ModelID for SourceLoggedModel.
	ModelID string
	// Name and Version or Alias (or Stage) for SourceModelVersion.
	Name, Version, Alias, Stage string
}

// InvalidSource is MLflow's error for a source whose run_id or model_id
// does not identify the resource holding it.
func InvalidSource(source, idName string) error {
	return mlflow.InvalidParam("Invalid model version source: '%s'. The %s request parameter must identify "+
		"the resource that contains the source.", source, idName)
}

func traversal(source string) error {
	return mlflow.InvalidParam("Invalid model version source: '%s'. If supplying a source as an http, https, "+
		"local file path, ftp, objectstore, or mlflow-artifacts uri, an absolute path must be provided without "+
		"relative path references present. Please provide an absolute path.", source)
}

// unquoteAll percent-decodes (and '+'-decodes) s until it no longer changes.
func unquoteAll(s string, plus bool) string {
	for range 10 {
		var u string
		var err error
		if plus {
			u, err = url.QueryUnescape(s)
		} else {
			u, err = url.PathUnescape(s)
		}
		if err != nil || u == s {
			return s
		}
		s = u
	}
	return s
}

// scheme returns the URI scheme of s, lower-cased, "" for a plain path.
func scheme(s string) string {
	i := strings.Index(s, ":")
	if i <= 0 {
		return ""
	}
	for j, c := range s[:i] {
		isAlpha := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
		if !isAlpha && (j == 0 || !('0' <= c && c <= '9' || c == '+' || c == '-' || c == '.')) {
			return ""
		}
	}
	if i == 1 { // a Windows drive letter
		return ""
	}
	return strings.ToLower(s[:i])
}

// CheckTraversal refuses a source whose path, decoded, has ".." segments,
// NUL bytes or is otherwise not a clean absolute path (MLflow's
// _validate_non_local_source_contains_relative_paths).
func CheckTraversal(source string) error {
	s := unquoteAll(source, true)
	for _, seg := range strings.Split(s, "/") {
		if seg == ".." {
			return traversal(source)
		}
	}
	p := s
	if u, err := url.Parse(s); err == nil {
		p = u.Path
	} else if sc := scheme(s); sc != "" {
		p = strings.TrimPrefix(s[len(sc)+1:], "//")
	}
	if strings.ContainsRune(p, 0) || strings.ContainsRune(s, 0) {
		return traversal(source)
	}
	p = strings.TrimRight(p, "/")
	for strings.Contains(p, "//") {
		p = strings.ReplaceAll(p, "//", "/")
	}
	if p == "" {
		return nil
	}
	if !strings.HasPrefix(p, "/") || path.Clean(p) != p {
		return traversal(source)
	}
	return nil
}

// ParseSource classifies a model version source. Errors:
// INVALID_PARAMETER_VALUE for a malformed runs:/ or models:/ URI.
func ParseSource(source string) (Source, error) {
	sc := scheme(source)
	switch sc {
	case "", "file":
		return Source{Kind: SourceLocal}, nil
	case "runs":
		rest := strings.TrimPrefix(source[len(sc)+1:], "/")
		if strings.HasPrefix(source[len(sc)+1:], "//") {
			return Source{}, InvalidSource(source, "run_id")
		}
		runID, p, _ := strings.Cut(rest, "/")
		if runID == "" {
			return Source{}, mlflow.InvalidParam("Not a proper runs:/ URI: %s. Runs URIs must be of the form 'runs:/<run_id>/run-relative/path/to/artifact'", source)
		}
		return Source{Kind: SourceRun, RunID: runID, Path: strings.Trim(p, "/")}, nil
	case "models":
		rest := source[len(sc)+1:]
		if strings.HasPrefix(rest, "//") {
			return Source{}, InvalidSource(source, "model_id")
		}
		improper := mlflow.InvalidParam("Not a proper models:/ URI: %s. Models URIs must be of the form "+
			"'models:/model_name/suffix' or 'models:/model_name@alias' where suffix is a model version, stage, "+
			"or the string 'latest' and where alias is a registered model alias. Only one of suffix or alias can "+
			"be defined at a time.", source)
		if !strings.HasPrefix(rest, "/") || len(rest) <= 1 {
			return Source{}, improper
		}
		parts := strings.Split(strings.TrimLeft(rest, "/"), "/")
		if len(parts) > 2 || strings.TrimSpace(parts[0]) == "" {
			return Source{}, improper
		}
		if len(parts) == 2 {
			suffix := parts[1]
			switch {
			case strings.TrimSpace(suffix) == "":
				return Source{}, improper
			case isDigits(suffix):
				return Source{Kind: SourceModelVersion, Name: parts[0], Version: suffix}, nil
			case strings.EqualFold(suffix, "latest"):
				return Source{Kind: SourceModelVersion, Name: parts[0]}, nil
			}
			return Source{Kind: SourceModelVersion, Name: parts[0], Stage: suffix}, nil
		}
		if i := strings.LastIndex(parts[0], "@"); i >= 0 {
			if strings.TrimSpace(parts[0][i+1:]) == "" {
				return Source{}, improper
			}
			return Source{Kind: SourceModelVersion, Name: parts[0][:i], Alias: parts[0][i+1:]}, nil
		}
		return Source{Kind: SourceLoggedModel, ModelID: parts[0]}, nil
	case "mlflow-artifacts":
		return Source{Kind: SourceArtifactProxy}, nil
	case "http", "https":
		if u, err := url.Parse(source); err == nil && strings.Contains("/"+strings.Trim(unquoteAll(u.Path, false), "/")+"/",
			"/api/2.0/mlflow-artifacts/artifacts/") {
			return Source{Kind: SourceArtifactProxy}, nil
		}
	}
	return Source{Kind: SourceOther}, nil
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// uriParts splits a URI into lower-cased scheme and authority and its
// decoded, non-empty path segments.
func uriParts(uri string) (string, string, []string) {
	u, err := url.Parse(uri)
	if err != nil {
		return "", "", nil
	}
	var parts []string
	for _, p := range strings.Split(u.EscapedPath(), "/") {
		if p != "" {
			parts = append(parts, unquoteAll(p, false))
		}
	}
	return strings.ToLower(u.Scheme), strings.ToLower(u.Host), parts
}

// WithinRoot reports whether source lies under root: same scheme and
// authority, and root's path segments a prefix of source's (MLflow's
// _is_uri_within_root).
func WithinRoot(source, root string) bool {
	ss, sa, sp := uriParts(source)
	rs, ra, rp := uriParts(root)
	if ss != rs || sa != ra || len(rp) == 0 || len(sp) < len(rp) {
		return false
	}
	for i := range rp {
		if sp[i] != rp[i] {
			return false
		}
	}
	return true
}

// LocalWithin reports whether a local source path lies inside a local
// root (both plain paths or file: URIs), lexically.
func LocalWithin(source, root string) bool {
	if scheme(root) != "" && scheme(root) != "file" {
		return false
	}
	clean := func(p string) string {
		p = strings.TrimPrefix(p, "file://")
		p = strings.TrimPrefix(p, "file:")
		return path.Clean(p)
	}
	s, r := clean(source), clean(root)
	return s == r || strings.HasPrefix(s, strings.TrimSuffix(r, "/")+"/")
}

// AppendPath joins a relative path to a URI.
func AppendPath(uri, p string) string {
	p = strings.Trim(p, "/")
	if p == "" {
		return uri
	}
	return strings.TrimRight(uri, "/") + "/" + p
}
