package tracking

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/csgroup-oss/mlflow-sharinghub-go/internal/mlflow"
)

// Logged model rules (MLflow 3): ids, names, statuses, and the 2.x
// log-model history tag.

// LoggedModelHistoryTag is the run tag where 2.x clients' log-model calls
// accumulate (a JSON list the 2.x UI reads).
const LoggedModelHistoryTag = "mlflow.log-model.history"

// DefaultSearchLoggedModelsMax is the max_results of a logged-model search
// that sends none: the proto default (50), which MLflow's handler reads
// from the unset field before the store's own default of 100 could apply.
const DefaultSearchLoggedModelsMax = 50

// MaxLoggedModelKeyLength is the size of the param_key and tag_key columns.
const MaxLoggedModelKeyLength = 255

// Logged model statuses as stored (logged_models.status).
const (
	LoggedModelUnspecified = 0
	LoggedModelPending     = 1
	LoggedModelReady       = 2
	LoggedModelFailed      = 3
)

// NewLoggedModelID returns "m-" and 32 lowercase hex characters, as MLflow
// makes them.
func NewLoggedModelID() string { return "m-" + NewID() }

// ValidateLoggedModelName checks a logged model name: absent, or non-empty
// without / : . % " or '.
func ValidateLoggedModelName(name mlflow.String) error {
	if !name.Valid {
		return nil
	}
	if name.V == "" || strings.ContainsAny(name.V, `/:.%"'`) {
		return mlflow.InvalidParam("Invalid model name (%s) provided. Model name must be a non-empty string and "+
			"cannot contain the following characters: ('/', ':', '.', '%%', '\"', \"'\")", mlflow.PyRepr(name.V))
	}
	return nil
}

// LoggedModelStatusName is the enum name of a stored status.
func LoggedModelStatusName(status int) string {
	if status < 0 || status >= len(mlflow.LoggedModelStatuses) {
		return mlflow.LoggedModelStatuses[0]
	}
	return mlflow.LoggedModelStatuses[status]
}

// ParseLoggedModelStatus resolves a LoggedModelStatus sent by name or
// number. Errors: INVALID_PARAMETER_VALUE.
func ParseLoggedModelStatus(e mlflow.Enum) (int, error) {
	if e.IsNum {
		n, err := strconv.Atoi(e.Raw)
		if err == nil && n >= 0 && n < len(mlflow.LoggedModelStatuses) {
			return n, nil
		}
		return 0, mlflow.InvalidParam("Unknown model status: %s", e.Raw)
	}
	for i, name := range mlflow.LoggedModelStatuses {
		if name == e.Raw {
			return i, nil
		}
	}
	return 0, mlflow.InvalidParam("Invalid value %q for parameter 'status' supplied. Valid values are %v.",
		e.Raw, mlflow.LoggedModelStatuses)
}

// FilterStatusValue maps a status named in a search filter ('READY',
// 'PENDING', 'FAILED', 'UNSPECIFIED', as MLflow's LoggedModelStatus values)
// to its stored number.
func FilterStatusValue(s string) (int, bool) {
	switch s {
	case "UNSPECIFIED":
		return LoggedModelUnspecified, true
	case "PENDING":
		return LoggedModelPending, true
	case "READY":
		return LoggedModelReady, true
	case "FAILED":
		return LoggedModelFailed, true
	}
	return 0, false
}

// LoggedModelKeyValues checks the params or tags of a logged model
// request (field is "params" or "tags"): every key present and within the
// key column. MLflow itself checks nothing here and lets the database
// refuse; we answer 400 instead of a driver error.
func LoggedModelKeyValues(field string, in []mlflow.KeyValueIn) ([]mlflow.KeyValue, error) {
	out := make([]mlflow.KeyValue, 0, len(in))
	for i, kv := range in {
		if kv.Key.V == "" {
			return nil, mlflow.InvalidParam("Missing value for required parameter '%s[%d].key'. "+
				"See the API docs for more information about request parameters.", field, i)
		}
		if runeLen(kv.Key.V) > MaxLoggedModelKeyLength {
			return nil, mlflow.ExceedsMaxLength(field+"["+itoa(i)+"].key", MaxLoggedModelKeyLength)
		}
		out = append(out, mlflow.KeyValue{Key: kv.Key.V, Value: kv.Value.V})
	}
	return out, nil
}

// AppendLogModelHistory is what the 2.x runs/log-model does to the
// mlflow.log-model.history run tag: it checks model_json (an MLmodel as
// JSON), keeps run_id, artifact_path, utc_time_created, model_uuid and the
// flavors (without their "config"), and appends that object to the JSON
// list in previous ("" when the tag is unset). The result is written as
// Python's json.dumps would. Errors: INVALID_PARAMETER_VALUE.
func AppendLogModelHistory(previous, modelJSON string) (string, error) {
	model, err := decodeOrdered([]byte(modelJSON))
	if err != nil || model.kind != '{' {
		return "", mlflow.InvalidParam("Malformed model info. \n %s \n is not a valid JSON.", modelJSON)
	}
	var missing []string
	for _, k := range []string{"artifact_path", "flavors", "utc_time_created", "run_id"} {
		if _, ok := model.get(k); !ok {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		for i, m := range missing {
			missing[i] = mlflow.PyRepr(m)
		}
		return "", mlflow.InvalidParam("Model json is missing mandatory fields: {%s}", strings.Join(missing, ", "))
	}
	entry := ordered{kind: '{'}
	for _, k := range []string{"run_id", "artifact_path", "utc_time_created", "model_uuid"} {
		v, ok := model.get(k)
		switch {
		case k == "model_uuid" && !ok:
			v = ordered{kind: 'n'}
		case k == "utc_time_created" && v.kind != '"':
			v = ordered{kind: '"', text: v.text} // Model() keeps str(utc_time_created)
		}
		entry.keys = append(entry.keys, k)
		entry.vals = append(entry.vals, v)
	}
	flavors, _ := model.get("flavors")
	if flavors.kind == '{' {
		out := ordered{kind: '{'}
		for i, name := range flavors.keys {
			cfg := flavors.vals[i]
			if cfg.kind == '{' {
				trimmed := ordered{kind: '{'}
				for j, k := range cfg.keys {
					if k != "config" {
						trimmed.keys = append(trimmed.keys, k)
						trimmed.vals = append(trimmed.vals, cfg.vals[j])
					}
				}
				cfg = trimmed
			}
			out.keys = append(out.keys, name)
			out.vals = append(out.vals, cfg)
		}
		flavors = out
	}
	entry.keys = append(entry.keys, "flavors")
	entry.vals = append(entry.vals, flavors)

	history := ordered{kind: '['}
	if previous != "" {
		prev, err := decodeOrdered([]byte(previous))
		if err == nil && prev.kind == '[' {
			history = prev
		}
	}
	history.vals = append(history.vals, entry)
	var b strings.Builder
	history.write(&b)
	return b.String(), nil
}

// ordered is a decoded JSON value that keeps object key order.
type ordered struct {
	kind byte // '{', '[', '"', 'n' (null), 'b' (bool), '0' (number)
	text string
	keys []string
	vals []ordered
}

func (o ordered) get(k string) (ordered, bool) {
	for i, key := range o.keys {
		if key == k {
			return o.vals[i], true
		}
	}
	return ordered{}, false
}

func decodeOrdered(raw []byte) (ordered, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	v, err := readOrdered(dec)
	if err != nil {
		return ordered{}, err
	}
	if _, err := dec.Token(); err == nil {
		return ordered{}, fmt.Errorf("extra data after JSON value")
	}
	return v, nil
}

func readOrdered(dec *json.Decoder) (ordered, error) {
	tok, err := dec.Token()
	if err != nil {
		return ordered{}, err
	}
	switch t := tok.(type) {
	case nil:
		return ordered{kind: 'n'}, nil
	case bool:
		return ordered{kind: 'b', text: strconv.FormatBool(t)}, nil
	case json.Number:
		return ordered{kind: '0', text: t.String()}, nil
	case string:
		return ordered{kind: '"', text: t}, nil
	case json.Delim:
		v := ordered{kind: byte(t)}
		for dec.More() {
			if v.kind == '{' {
				k, err := dec.Token()
				if err != nil {
					return ordered{}, err
				}
				item, err := readOrdered(dec)
				if err != nil {
					return ordered{}, err
				}
				key := k.(string)
				replaced := false
				for i, old := range v.keys {
					if old == key {
						v.vals[i], replaced = item, true
					}
				}
				if !replaced {
					v.keys = append(v.keys, key)
					v.vals = append(v.vals, item)
				}
				continue
			}
			item, err := readOrdered(dec)
			if err != nil {
				return ordered{}, err
			}
			v.vals = append(v.vals, item)
		}
		if _, err := dec.Token(); err != nil {
			return ordered{}, err
		}
		return v, nil
	}
	return ordered{}, fmt.Errorf("unexpected JSON token %v", tok)
}

// write renders the value as Python's json.dumps (", " and ": "
// separators, ASCII only).
func (o ordered) write(b *strings.Builder) {
	switch o.kind {
	case 'n':
		b.WriteString("null")
	case 'b', '0':
		b.WriteString(o.text)
	case '"':
		b.WriteString(mlflow.PyJSONString(o.text))
	case '[':
		b.WriteByte('[')
		for i, v := range o.vals {
			if i > 0 {
				b.WriteString(", ")
			}
			v.write(b)
		}
		b.WriteByte(']')
	case '{':
		b.WriteByte('{')
		for i, k := range o.keys {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(mlflow.PyJSONString(k))
			b.WriteString(": ")
			o.vals[i].write(b)
		}
		b.WriteByte('}')
	}
}
