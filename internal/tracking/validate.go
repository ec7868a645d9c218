// Package tracking holds the rules of MLflow's tracking service:
// validation, limits and the semantics that do not depend on SQL. It is
// pure: the store does the I/O.
package tracking

import (
	"fmt"
	"math"
	"path"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/csgroup-oss/mlflow-sharinghub-go/internal/mlflow"
)

// Limits MLflow enforces (mlflow/utils/validation.py).
const (
	MaxParamsTagsPerBatch   = 100
	MaxMetricsPerBatch      = 1000
	MaxEntitiesPerBatch     = 1000
	MaxBatchRequestBytes    = 1_000_000
	MaxParamValueLength     = 6000
	MaxTagValueLength       = 8000
	MaxExperimentNameLength = 500
	MaxExperimentTagKey     = 250
	MaxExperimentTagValue   = 20000
	MaxEntityKeyLength      = 250
	MaxDatasetNameSize      = 500
	MaxDatasetDigestSize    = 36
	MaxDatasetSchemaSize    = 1048575
	MaxDatasetSourceSize    = 65535
	MaxDatasetProfileSize   = 16777215
	MaxInputTagKeySize      = 255
	MaxInputTagValueSize    = 500
	MaxSearchRunsResults    = 50000
	DefaultSearchRunsMax    = 1000
	MaxSearchExperiments    = 50000
	DefaultSearchExperiment = 1000
)

var (
	nameChars  = regexp.MustCompile(`^[/\p{L}\p{N}_.\- :]*$`) // Python's \w is Unicode
	runIDRegex = regexp.MustCompile(`^[a-zA-Z0-9][\w\-]{0,255}$`)
)

func badCharacterMessage() string {
	return "Names may only contain alphanumerics, underscores (_), dashes (-), periods (.), spaces ( ), colon(:) and slashes (/)."
}

// pathNotUnique mirrors MLflow's check that a name used as a file name
// cannot resolve to another name.
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
		"when treated as such. This name would resolve to " + mlflow.PyRepr(norm)
}

// ValidateName is MLflow's rule for metric, param and tag keys (and
// registry tag keys): allowed characters, and a name that, used as a file
// name, cannot resolve to another one. path names the field in the message.
func ValidateName(name, path string) error {
	if !nameChars.MatchString(name) {
		return mlflow.InvalidValue(path, name, badCharacterMessage())
	}
	return CheckPathUnique(name, path)
}

// CheckPathUnique refuses a name that would resolve to another name when
// treated as a file path ("a/../b", "./a", "a/", "..").
func CheckPathUnique(name, path string) error {
	if pathNotUnique(name) {
		return mlflow.InvalidValue(path, name, badPathMessage(name))
	}
	return nil
}

// runeLen counts characters as Python's len does.
func runeLen(s string) int { return utf8.RuneCountInString(s) }

// truncate cuts s to limit characters (MLFLOW_TRUNCATE_LONG_VALUES, on by
// default in MLflow).
func truncate(s string, limit int) string {
	if runeLen(s) <= limit {
		return s
	}
	n := 0
	for i := range s {
		if n == limit {
			return s[:i]
		}
		n++
	}
	return s
}

func joinPath(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "." + name
}

// ValidateMetricKey checks a metric name.
func ValidateMetricKey(key mlflow.String, prefix string) error {
	p := joinPath(prefix, "name")
	if !key.Valid {
		return mlflow.InvalidValue(p, nil, "Metric name cannot be None. A key name must be provided.")
	}
	if err := ValidateName(key.V, p); err != nil {
		return err
	}
	if runeLen(key.V) > MaxEntityKeyLength {
		return mlflow.ExceedsMaxLength("Metric name", MaxEntityKeyLength)
	}
	return nil
}

// ValidateMetricValue checks value, timestamp and step of a metric.
func ValidateMetricValue(value mlflow.Double, timestamp, step mlflow.Int64, prefix string) error {
	if !value.Valid {
		return mlflow.InvalidParam("Missing value for required parameter '%s'.", joinPath(prefix, "value"))
	}
	if !timestamp.Valid {
		return mlflow.InvalidParam("Missing value for required parameter '%s'.", joinPath(prefix, "timestamp"))
	}
	if timestamp.V < 0 {
		return mlflow.InvalidValue(joinPath(prefix, "timestamp"), timestamp.V,
			fmt.Sprintf("metric '%s' (value=%v). Timestamp must be a nonnegative long (64-bit integer) ", prefix, value.V))
	}
	return nil
}

// ValidateParam checks a param and returns its value, truncated to
// MLflow's limit.
func ValidateParam(key, value mlflow.String, prefix string) (string, string, error) {
	kp := joinPath(prefix, "key")
	if !key.Valid {
		return "", "", mlflow.InvalidValue(kp, "", "A key name must be provided.")
	}
	if err := ValidateName(key.V, kp); err != nil {
		return "", "", err
	}
	if runeLen(key.V) > MaxEntityKeyLength {
		return "", "", mlflow.ExceedsMaxLength("Param key", MaxEntityKeyLength)
	}
	return key.V, truncate(value.V, MaxParamValueLength), nil
}

// ValidateTag checks a run tag and returns its value, truncated to MLflow's
// limit.
func ValidateTag(key, value mlflow.String, prefix string) (string, string, error) {
	kp := joinPath(prefix, "key")
	if !key.Valid {
		return "", "", mlflow.InvalidParam("Missing value for required parameter '%s'.", kp)
	}
	if err := ValidateName(key.V, kp); err != nil {
		return "", "", err
	}
	if runeLen(key.V) > MaxEntityKeyLength {
		return "", "", mlflow.ExceedsMaxLength(kp, MaxEntityKeyLength)
	}
	return key.V, truncate(value.V, MaxTagValueLength), nil
}

// ValidateExperimentTag checks an experiment tag.
func ValidateExperimentTag(key, value string) error {
	if err := ValidateName(key, "key"); err != nil {
		return err
	}
	if runeLen(key) > MaxExperimentTagKey {
		return mlflow.ExceedsMaxLength("key", MaxExperimentTagKey)
	}
	if runeLen(value) > MaxExperimentTagValue {
		return mlflow.ExceedsMaxLength("value", MaxExperimentTagValue)
	}
	return nil
}

// ValidateExperimentName checks an experiment name.
func ValidateExperimentName(name string) error {
	if strings.TrimSpace(name) == "" {
		return mlflow.InvalidParam("Invalid experiment name: '%s'", name)
	}
	if runeLen(name) > MaxExperimentNameLength {
		return mlflow.ExceedsMaxLength("name", MaxExperimentNameLength)
	}
	return nil
}

// ValidateRunID checks the shape of a run id.
func ValidateRunID(id string) error {
	if !runIDRegex.MatchString(id) {
		return mlflow.InvalidValue("run_id", id, "")
	}
	return nil
}

// ParseExperimentID parses an experiment id, which MLflow stores as an
// integer.
func ParseExperimentID(id string) (int64, error) {
	n, err := strconv.ParseInt(strings.TrimSpace(id), 10, 64)
	if err != nil || n < 0 || n > math.MaxInt32 {
		return 0, mlflow.InvalidParam("Invalid experiment ID '%s'. Experiment ID must be a valid integer.", id)
	}
	return n, nil
}

// ValidateBatchLimits checks log-batch counts.
func ValidateBatchLimits(metrics, params, tags int) error {
	check := func(entity string, limit, n int) error {
		if n > limit {
			return mlflow.InvalidParam("A batch logging request can contain at most %d %s. Got %d %s. "+
				"Please split up %s across multiple requests and try again.", limit, entity, n, entity, entity)
		}
		return nil
	}
	if err := check("metrics", MaxMetricsPerBatch, metrics); err != nil {
		return err
	}
	if err := check("params", MaxParamsTagsPerBatch, params); err != nil {
		return err
	}
	if err := check("tags", MaxParamsTagsPerBatch, tags); err != nil {
		return err
	}
	return check("metrics, params, and tags", MaxEntitiesPerBatch, metrics+params+tags)
}

// ValidateParamKeysUnique refuses a batch that logs one param key twice.
func ValidateParamKeysUnique(keys []string) error {
	seen := map[string]bool{}
	var dupes []string
	for _, k := range keys {
		if seen[k] {
			dupes = append(dupes, k)
		}
		seen[k] = true
	}
	if len(dupes) > 0 {
		quoted := make([]string, len(dupes))
		for i, d := range dupes {
			quoted[i] = mlflow.PyRepr(d)
		}
		return mlflow.InvalidParam("Duplicate parameter keys have been submitted: [%s]. Please ensure "+
			"the request contains only one param value per param key.", strings.Join(quoted, ", "))
	}
	return nil
}

// ValidateMaxResults checks a search's max_results against its maximum and
// returns the value to use (def when unset).
func ValidateMaxResults(v mlflow.Int64, def, max int) (int, error) {
	if !v.Valid {
		return def, nil
	}
	if v.V <= 0 {
		return 0, mlflow.InvalidParam("Invalid value %d for parameter 'max_results' supplied. It must be a positive integer", v.V)
	}
	if v.V > int64(max) {
		return 0, mlflow.InvalidParam("Invalid value %d for parameter 'max_results' supplied. It must be at most %d", v.V, max)
	}
	return int(v.V), nil
}

// MaxArtifactLocationLength is MLflow's default MLFLOW_ARTIFACT_LOCATION_MAX_LENGTH.
const MaxArtifactLocationLength = 2048

// ValidateArtifactLocation checks an experiment artifact location given at
// creation: no URL fragment or params, no runs:/ URI, no traversal, and
// MLflow's length limit.
func ValidateArtifactLocation(loc string) error {
	if loc == "" {
		return nil
	}
	if strings.ContainsAny(loc, "#;") {
		return mlflow.InvalidParam("'artifact_location' URL can't include fragments or params.")
	}
	if strings.HasPrefix(strings.ToLower(loc), "runs:") {
		return mlflow.InvalidParam("'artifact_location' cannot be a runs:/ URI.")
	}
	if strings.Contains(loc, "..") || strings.Contains(strings.ToLower(loc), "%2e%2e") || strings.ContainsRune(loc, 0) {
		return mlflow.InvalidParam("'artifact_location' must not contain path traversal sequences.")
	}
	if runeLen(loc) > MaxArtifactLocationLength {
		return mlflow.InvalidParam("Invalid artifact path length. The length of the artifact path cannot be greater "+
			"than %d characters. To configure this limit, please set the MLFLOW_ARTIFACT_LOCATION_MAX_LENGTH "+
			"environment variable.", MaxArtifactLocationLength)
	}
	return nil
}
