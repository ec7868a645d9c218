package tracking

import (
	"strings"
	"testing"

	"github.com/csgroup-oss/mlflow-sharinghub-go/internal/mlflow"
)

func s(v string) mlflow.String { return mlflow.String{V: v, Valid: true} }

func TestNameRules(t *testing.T) {
	for _, c := range []struct {
		key  string
		want string // "" = valid
	}{
		{"loss", ""}, {"a/b", ""}, {"a b:c-d.e_f", ""}, {"métrique", ""},
		{"../x", "resolve"}, {"a//b", "resolve"}, {"/a", "resolve"}, {"a/", "resolve"}, {".", "resolve"},
		{"a*b", "Names may only contain"}, {strings.Repeat("k", 251), "exceeds the maximum length of 250"},
	} {
		err := ValidateMetricKey(s(c.key), "")
		if c.want == "" && err != nil || c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)) {
			t.Errorf("ValidateMetricKey(%q) = %v, want %q", c.key, err, c.want)
		}
	}
}

func TestParamAndTagTruncation(t *testing.T) {
	_, v, err := ValidateParam(s("p"), s(strings.Repeat("é", 7000)), "")
	if err != nil || len([]rune(v)) != MaxParamValueLength {
		t.Errorf("param value truncated to %d characters, err %v", len([]rune(v)), err)
	}
	_, v, err = ValidateTag(s("t"), s(strings.Repeat("x", 9000)), "")
	if err != nil || len(v) != MaxTagValueLength {
		t.Errorf("tag value truncated to %d, err %v", len(v), err)
	}
}

func TestRunNameAndTags(t *testing.T) {
	name, tags, err := RunNameAndTags("", nil)
	if err != nil || name == "" || len(tags) != 1 || tags[0].Key != RunNameTag || tags[0].Value != name {
		t.Errorf("generated: %q %v %v", name, tags, err)
	}
	if len(name) > 20 || strings.Count(name, "-") != 2 {
		t.Errorf("generated name %q is not <adjective>-<noun>-<n> within 20 characters", name)
	}
	name, tags, _ = RunNameAndTags("", []mlflow.KeyValue{{Key: RunNameTag, Value: "from-tag"}})
	if name != "from-tag" || len(tags) != 1 {
		t.Errorf("tag name: %q %v", name, tags)
	}
	if _, _, err := RunNameAndTags("a", []mlflow.KeyValue{{Key: RunNameTag, Value: "b"}}); !mlflow.IsCode(err, mlflow.InvalidParameterValue) {
		t.Errorf("conflicting names: %v", err)
	}
}

func TestValidateBatch(t *testing.T) {
	req := mlflow.LogBatch{
		Metrics: []mlflow.MetricIn{{Key: s("m"), Value: mlflow.Double{V: 1, Valid: true}, Timestamp: mlflow.Int64{V: 1, Valid: true}}},
		Params:  []mlflow.KeyValueIn{{Key: s("a"), Value: s("1")}, {Key: s("a"), Value: s("2")}},
	}
	if _, err := ValidateBatch("0123456789abcdef0123456789abcdef", req); err == nil || !strings.Contains(err.Error(), "Duplicate parameter keys") {
		t.Errorf("duplicate params: %v", err)
	}
	req.Params = nil
	req.Metrics[0].Timestamp = mlflow.Int64{}
	if _, err := ValidateBatch("0123456789abcdef0123456789abcdef", req); err == nil || !strings.Contains(err.Error(), "metrics[0].timestamp") {
		t.Errorf("missing timestamp: %v", err)
	}
	if _, err := ValidateBatch("bad id!", mlflow.LogBatch{}); err == nil {
		t.Error("bad run id accepted")
	}
	if err := ValidateBatchLimits(1001, 0, 0); err == nil || !strings.Contains(err.Error(), "at most 1000 metrics") {
		t.Errorf("limits: %v", err)
	}
	if err := ValidateBatchLimits(900, 100, 1); err == nil || !strings.Contains(err.Error(), "metrics, params, and tags") {
		t.Errorf("total limit: %v", err)
	}
}
