package registry

import (
	"math/big"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/csgroup-oss/mlflow-sharinghub-go/internal/mlflow"
	"github.com/csgroup-oss/mlflow-sharinghub-go/internal/tracking"
)

// Limits MLflow enforces on the registry (mlflow/utils/validation.py).
const (
	MaxTagKeyLength      = 250
	MaxTagValueLength    = 100_000
	MaxAliasLength       = 255
	MaxDescriptionLength = 5000
)

var (
	aliasChars   = regexp.MustCompile(`^[\p{L}\p{N}_\-]*$`)
	versionAlias = regexp.MustCompile(`^[vV]\d+$`)
)

// ValidateModelName checks a registered model name: not blank, no '/' or
// ':', and stable as a file name. field names the request field in the
// message for a missing name ("name", "new_name").
func ValidateModelName(name, field string) error {
	if strings.TrimSpace(name) == "" {
		return mlflow.MissingValue(field)
	}
	if strings.ContainsAny(name, "/:") {
		return mlflow.InvalidParam("Invalid model name '%s'. Names cannot contain '/' or ':'.", name)
	}
	if err := tracking.CheckPathUnique(name, "name"); err != nil {
		return err
	}
	if utf8.RuneCountInString(name) > 256 {
		return mlflow.ExceedsMaxLength("name", 256)
	}
	return nil
}

// validateTagKey is MLflow's _validate_tag_name plus the key length.
func validateTagKey(key string) error {
	if key == "" {
		return mlflow.MissingValue("key")
	}
	if err := tracking.ValidateName(key, "key"); err != nil {
		return err
	}
	if utf8.RuneCountInString(key) > MaxTagKeyLength {
		return mlflow.ExceedsMaxLength("key", MaxTagKeyLength)
	}
	return nil
}

// ValidateModelTag checks a registered model tag.
func ValidateModelTag(key, value string) error {
	if err := validateTagKey(key); err != nil {
		return err
	}
	if utf8.RuneCountInString(value) > MaxTagValueLength {
		return mlflow.ExceedsMaxLength("value", MaxTagValueLength)
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
		return mlflow.ExceedsMaxLength("value", MaxTagValueLength)
	}
	return nil
}

// ValidateDescription checks a description against its column.
func ValidateDescription(d string) error {
	if utf8.RuneCountInString(d) > MaxDescriptionLength {
		return mlflow.ExceedsMaxLength("description", MaxDescriptionLength)
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
		return mlflow.ExceedsMaxLength("Registered model alias name", MaxAliasLength)
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
