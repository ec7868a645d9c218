package registry

import (
	"bytes"
	"encoding/json"
	"math/big"
	"path"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/csgroup-oss/mlflow-sharinghub-go/internal/mlflow"
)

// Limits MLflow enforces on the registry (mlflow/utils/validation.py).
const (
	MaxTagKeyLength      = 250
	MaxTagValueLength    = 100_000
	MaxAliasLength       = 255
	MaxDescriptionLength = 5000
)

var (
	tagKeyChars  = regexp.MustCompile(`^[/\p{L}\p{N}_.\- :]*$`) // Python's \w is Unicode
	aliasChars   = regexp.MustCompile(`^[\p{L}\p{N}_\-]*$`)
	versionAlias = regexp.MustCompile(`^[vV]\d+$`)
)

// missing is MLflow's missing_value message.
func missing(field string) *mlflow.Error {
	return mlflow.InvalidParam("Missing value for required parameter '%s'.", field)
}

// invalidValue is MLflow's "Invalid value <json> for parameter '<path>'
// supplied: msg".
func invalidValue(field, value, msg string) *mlflow.Error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(value)
	return mlflow.InvalidParam("Invalid value %s for parameter '%s' supplied: %s", strings.TrimSpace(b.String()), field, msg)
}

func exceeds(field string, limit int) *mlflow.Error {
	return mlflow.InvalidParam("'%s' exceeds the maximum length of %d characters", field, limit)
}

// pathNotUnique is MLflow's check that a name used as a file name cannot
// resolve to another name.
func pathNotUnique(name string) bool {
	norm := path.Clean(name)
	if name == "" {
		norm = "."
	}
	return norm != name || norm == "." || strings.HasPrefix(norm, "..") || strings.HasPrefix(norm, "/")
}

func badPathMessage(name string) string {
	norm := path.Clean(name)
	if name == "" {
		norm = "."
	}
	return "Names may be treated as files in certain cases, and must not resolve to other names " +
		"when treated as such. This name would resolve to " + pyRepr(norm)
}

// pyRepr quotes s as Python's repr does for plain strings.
func pyRepr(s string) string {
	if strings.Contains(s, "'") && !strings.Contains(s, `"`) {
		return `"` + s + `"`
	}
	return "'" + strings.ReplaceAll(s, "'", `\'`) + "'"
}

// ValidateModelName checks a registered model name: not blank, no '/' or
// ':', and stable as a file name. field names the request field in the
// message for a missing name ("name", "new_name").
func ValidateModelName(name, field string) error {
	if strings.TrimSpace(name) == "" {
		return missing(field)
	}
	if strings.ContainsAny(name, "/:") {
		return mlflow.InvalidParam("Invalid model name '%s'. Names cannot contain '/' or ':'.", name)
	}
	if pathNotUnique(name) {
		return invalidValue("name", name, badPathMessage(name))
	}
	if utf8.RuneCountInString(name) > 256 {
		return exceeds("name", 256)
	}
	return nil
}

// validateTagKey is MLflow's _validate_tag_name plus the key length.
func validateTagKey(key string) error {
	if key == "" {
		return missing("key")
	}
	if !tagKeyChars.MatchString(key) {
		return invalidValue("key", key, "Names may only contain alphanumerics, underscores (_), dashes (-), "+
			"periods (.), spaces ( ), colon(:) and slashes (/).")
	}
	if pathNotUnique(key) {
		return invalidValue("key", key, badPathMessage(key))
	}
	if utf8.RuneCountInString(key) > MaxTagKeyLength {
		return exceeds("key", MaxTagKeyLength)
	}
	return nil
}

// ValidateModelTag checks a registered model tag.
func ValidateModelTag(key, value string) error {
	if err := validateTagKey(key); err != nil {
		return err
	}
	if utf8.RuneCountInString(value) > MaxTagValueLength {
		return exceeds("value", MaxTagValueLength)
	}
	return nil
}

// ValidateVersionTag checks a model version tag.
func ValidateVersionTag(key, value string) error {
	if err := validateTagKey(key); err != nil {
		return err
	}
	if utf8.RuneCountInString(value) > MaxTagValueLength {
		if key == PromptTextTag {
			return mlflow.InvalidParam("Prompt text exceeds max length of %d characters.", MaxTagValueLength)
		}
		return exceeds("value", MaxTagValueLength)
	}
	return nil
}

// ValidateDescription checks a description against its column.
func ValidateDescription(d string) error {
	if utf8.RuneCountInString(d) > MaxDescriptionLength {
		return exceeds("description", MaxDescriptionLength)
	}
	return nil
}

// ParseVersion parses a model version number as Python's int() does
// (surrounding spaces, a sign and digit underscores allowed). A number
// beyond the INTEGER column matches no version; it is returned as -1.
// Errors: INVALID_PARAMETER_VALUE "Parameter 'version' must be an integer".
func ParseVersion(v string) (int64, error) {
	s := strings.TrimSpace(v)
	bad := mlflow.InvalidParam("Parameter 'version' must be an integer, got '%s'.", v)
	digits := strings.TrimLeft(s, "+-")
	if len(s)-len(digits) > 1 || digits == "" || strings.HasPrefix(digits, "_") || strings.HasSuffix(digits, "_") ||
		strings.Contains(digits, "__") {
		return 0, bad
	}
	n, ok := new(big.Int).SetString(strings.ReplaceAll(s, "_", ""), 10)
	if !ok {
		return 0, bad
	}
	if !n.IsInt64() || n.Int64() > 1<<31-1 || n.Int64() < -(1<<31) {
		return -1, nil
	}
	return n.Int64(), nil
}

// ValidateAlias checks an alias name's characters and length.
func ValidateAlias(alias string) error {
	if alias == "" {
		return mlflow.InvalidParam("Registered model alias name cannot be empty.")
	}
	if !aliasChars.MatchString(alias) {
		return mlflow.InvalidParam("Invalid alias name: '%s'. Names may only contain alphanumerics, underscores (_), and dashes (-).", alias)
	}
	if utf8.RuneCountInString(alias) > MaxAliasLength {
		return exceeds("Registered model alias name", MaxAliasLength)
	}
	return nil
}

// ValidateAliasNotReserved refuses the alias names MLflow reserves:
// "latest" in any case, and version names like "v1".
func ValidateAliasNotReserved(alias string) error {
	if strings.ToLower(alias) == "latest" {
		return mlflow.InvalidParam("'latest' alias name (case insensitive) is reserved.")
	}
	if versionAlias.MatchString(alias) {
		return mlflow.InvalidParam("Version alias name '%s' is reserved.", alias)
	}
	return nil
}

// CanonicalStage returns the canonical name of a stage given in any case.
// Errors: INVALID_PARAMETER_VALUE.
func CanonicalStage(stage string) (string, error) {
	for _, s := range Stages {
		if strings.ToLower(stage) == strings.ToLower(s) {
			return s, nil
		}
	}
	return "", mlflow.InvalidParam("Invalid Model Version stage: %s. Value must be one of %s.", stage, strings.Join(Stages, ", "))
}

// IsActiveStage reports whether a canonical stage is Staging or Production.
func IsActiveStage(stage string) bool {
	return stage == StageStaging || stage == StageProduction
}
