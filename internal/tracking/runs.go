package tracking

import (
	"github.com/csgroup-oss/mlflow-sharinghub-go/internal/mlflow"
)

// RunNameTag is the tag MLflow keeps equal to a run's name.
const RunNameTag = "mlflow.runName"

// MetricPoint is one validated metric value to store.
type MetricPoint struct {
	Key       string
	Value     float64
	Timestamp int64
	Step      int64
	// ModelID, DatasetName and DatasetDigest link the point to an MLflow 3
	// logged model (also written to logged_model_metrics).
	ModelID       string
	DatasetName   string
	DatasetDigest string
}

// Batch is a validated log-batch: metrics, params and tags of one run.
type Batch struct {
	Metrics []MetricPoint
	Params  []mlflow.KeyValue
	Tags    []mlflow.KeyValue
}

// RunNameAndTags applies MLflow's create_run naming rule: run_name and the
// mlflow.runName tag must agree; the name is whichever is given, or a
// generated one, and the tag is added when missing.
func RunNameAndTags(runName string, tags []mlflow.KeyValue) (string, []mlflow.KeyValue, error) {
	tagName, hasTag := "", false
	for _, t := range tags {
		if t.Key == RunNameTag {
			tagName, hasTag = t.Value, true
		}
	}
	if runName != "" && tagName != "" && runName != tagName {
		return "", nil, mlflow.InvalidParam("Both 'run_name' argument and 'mlflow.runName' tag are specified, but with "+
			"different values (run_name='%s', mlflow.runName='%s').", runName, tagName)
	}
	name := runName
	if name == "" {
		name = tagName
	}
	if name == "" {
		name = RandomRunName()
	}
	out := append([]mlflow.KeyValue(nil), tags...)
	if !hasTag || tagName == "" {
		out = append(out, mlflow.KeyValue{Key: RunNameTag, Value: name})
	}
	return name, out, nil
}

// ValidateBatch checks a log-batch request the way MLflow does, in its
// order: run id, required fields, per-item rules, counts, duplicate params.
func ValidateBatch(runID string, req mlflow.LogBatch) (Batch, error) {
	var b Batch
	if err := ValidateRunID(runID); err != nil {
		return b, err
	}
	for i, m := range req.Metrics {
		p := "metrics[" + itoa(i) + "]"
		if !m.Key.Valid || m.Key.V == "" {
			return b, mlflow.InvalidParam("Missing value for required parameter '%s.key'. See the API docs for more information about request parameters.", p)
		}
		if !m.Value.Valid {
			return b, mlflow.InvalidParam("Missing value for required parameter '%s.value'. See the API docs for more information about request parameters.", p)
		}
		if !m.Timestamp.Valid {
			return b, mlflow.InvalidParam("Missing value for required parameter '%s.timestamp'. See the API docs for more information about request parameters.", p)
		}
	}
	for i, kv := range req.Params {
		if !kv.Key.Valid || kv.Key.V == "" {
			return b, mlflow.InvalidParam("Missing value for required parameter 'params[%d].key'. See the API docs for more information about request parameters.", i)
		}
	}
	for i, kv := range req.Tags {
		if !kv.Key.Valid || kv.Key.V == "" {
			return b, mlflow.InvalidParam("Missing value for required parameter 'tags[%d].key'. See the API docs for more information about request parameters.", i)
		}
	}
	for i, m := range req.Metrics {
		p := "metrics[" + itoa(i) + "]"
		if err := ValidateMetricKey(m.Key, p); err != nil {
			return b, err
		}
		if err := ValidateMetricValue(m.Value, m.Timestamp, m.Step, p); err != nil {
			return b, err
		}
		b.Metrics = append(b.Metrics, MetricPoint{Key: m.Key.V, Value: m.Value.V, Timestamp: m.Timestamp.V, Step: m.Step.V,
			ModelID: m.ModelID.V, DatasetName: m.DatasetName.V, DatasetDigest: m.DatasetDigest.V})
	}
	keys := make([]string, 0, len(req.Params))
	for i, kv := range req.Params {
		k, v, err := ValidateParam(kv.Key, kv.Value, "params["+itoa(i)+"]")
		if err != nil {
			return b, err
		}
		b.Params = append(b.Params, mlflow.KeyValue{Key: k, Value: v})
		keys = append(keys, k)
	}
	for i, kv := range req.Tags {
		k, v, err := ValidateTag(kv.Key, kv.Value, "tags["+itoa(i)+"]")
		if err != nil {
			return b, err
		}
		b.Tags = append(b.Tags, mlflow.KeyValue{Key: k, Value: v})
	}
	if err := ValidateBatchLimits(len(b.Metrics), len(b.Params), len(b.Tags)); err != nil {
		return b, err
	}
	if err := ValidateParamKeysUnique(keys); err != nil {
		return b, err
	}
	return b, nil
}

// ValidateInputs checks a log-inputs request: dataset fields present and
// within MLflow's sizes, input tags within theirs.
func ValidateInputs(req mlflow.LogInputs) ([]mlflow.DatasetInput, []string, error) {
	var out []mlflow.DatasetInput
	for i, in := range req.Datasets {
		p := "datasets[" + itoa(i) + "]"
		d := in.Dataset
		if d == nil {
			return nil, nil, mlflow.InvalidParam("Missing value for required parameter '%s.dataset'.", p)
		}
		for _, f := range []struct {
			name  string
			v     mlflow.String
			limit int
		}{
			{"name", d.Name, MaxDatasetNameSize},
			{"digest", d.Digest, MaxDatasetDigestSize},
			{"source_type", d.SourceType, 36},
			{"source", d.Source, MaxDatasetSourceSize},
		} {
			if !f.v.Valid || f.v.V == "" {
				return nil, nil, mlflow.InvalidParam("Missing value for required parameter '%s.dataset.%s'.", p, f.name)
			}
			if runeLen(f.v.V) > f.limit {
				return nil, nil, mlflow.ExceedsMaxLength(f.name, f.limit)
			}
		}
		if runeLen(d.Schema.V) > MaxDatasetSchemaSize {
			return nil, nil, mlflow.ExceedsMaxLength("schema", MaxDatasetSchemaSize)
		}
		if runeLen(d.Profile.V) > MaxDatasetProfileSize {
			return nil, nil, mlflow.ExceedsMaxLength("profile", MaxDatasetProfileSize)
		}
		di := mlflow.DatasetInput{Dataset: mlflow.Dataset{
			Name: d.Name.V, Digest: d.Digest.V, SourceType: d.SourceType.V, Source: d.Source.V,
			Schema: d.Schema.V, Profile: d.Profile.V,
		}}
		for _, t := range in.Tags {
			if !t.Key.Valid || t.Key.V == "" {
				return nil, nil, mlflow.InvalidParam("Missing value for required parameter '%s.tags.key'.", p)
			}
			if runeLen(t.Key.V) > MaxInputTagKeySize {
				return nil, nil, mlflow.ExceedsMaxLength("key", MaxInputTagKeySize)
			}
			if runeLen(t.Value.V) > MaxInputTagValueSize {
				return nil, nil, mlflow.ExceedsMaxLength("value", MaxInputTagValueSize)
			}
			di.Tags = append(di.Tags, mlflow.KeyValue{Key: t.Key.V, Value: t.Value.V})
		}
		out = append(out, di)
	}
	var models []string
	for i, m := range req.Models {
		if m.ModelID.V == "" {
			return nil, nil, mlflow.InvalidParam("Missing value for required parameter 'models[%d].model_id'.", i)
		}
		models = append(models, m.ModelID.V)
	}
	return out, models, nil
}

func itoa(i int) string {
	const digits = "0123456789"
	if i < 10 {
		return digits[i : i+1]
	}
	return itoa(i/10) + digits[i%10:i%10+1]
}
