package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"unicode"

	"github.com/csgroup-oss/mlflow-sharinghub-go/internal/mlflow"
)

// maxBodyBytes bounds every JSON request body. log-batch has its own,
// smaller, MLflow limit checked in its handler.
const maxBodyBytes = 16 << 20

// readBody returns the raw JSON body of a POST/PUT/PATCH/DELETE request,
// checking Content-Type the way MLflow does (POST and PUT only).
func readBody(r *http.Request) ([]byte, error) {
	if r.Method == http.MethodPost || r.Method == http.MethodPut {
		ct := r.Header.Get("Content-Type")
		if ct == "" {
			return nil, mlflow.InvalidParam("Bad Request. Content-Type header is missing.")
		}
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/json" {
			return nil, mlflow.InvalidParam("Bad Request. Content-Type must be one of ['application/json'].")
		}
	}
	if r.Body == nil {
		return nil, nil
	}
	b, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, maxBodyBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, mlflow.InvalidParam("Request body is too large: the limit is %d bytes.", maxBodyBytes)
		}
		return nil, mlflow.InvalidParam("Could not read the request body: %v", err)
	}
	return b, nil
}

// decode fills dst (a pointer to a request struct) from the request: the
// query string for a GET that has one, the JSON body otherwise. Unknown
// fields are ignored, lowerCamelCase names are accepted, and a body that is
// a JSON string holding JSON (old clients) is decoded twice. Type errors
// answer MLflow's "Invalid value ... for parameter ..." message.
func decode(r *http.Request, dst any) error {
	if r.Method == http.MethodGet && r.URL.RawQuery != "" {
		return decodeQuery(r, dst)
	}
	body, err := readBody(r)
	if err != nil {
		return err
	}
	return decodeJSON(body, dst)
}

// decodeJSON decodes a JSON request body into dst.
func decodeJSON(body []byte, dst any) error {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return nil
	}
	if body[0] == '"' {
		var inner string
		if err := json.Unmarshal(body, &inner); err != nil {
			return mlflow.InvalidParam("Malformed JSON request body.")
		}
		body = bytes.TrimSpace([]byte(inner))
		if len(body) == 0 {
			return nil
		}
	}
	if body[0] != '{' {
		return mlflow.InvalidParam("Malformed request body: expected a JSON object.")
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(body, &fields); err != nil {
		return mlflow.InvalidParam("Malformed JSON request body: %s", jsonErrorText(err))
	}
	return assignFields(fields, dst)
}

// assignFields decodes each known top-level field on its own, so a type
// error names the field, as MLflow's schema validation does.
func assignFields(fields map[string]json.RawMessage, dst any) error {
	v := reflect.ValueOf(dst).Elem()
	idx := fieldIndex(v.Type())
	for key, raw := range fields {
		name := key
		if _, ok := idx[name]; !ok {
			name = snakeCase(key)
		}
		path, ok := idx[name]
		if !ok {
			continue
		}
		f := v.FieldByIndex(path)
		if err := json.Unmarshal(raw, f.Addr().Interface()); err != nil {
			return invalidValue(name, raw)
		}
	}
	return nil
}

// invalidValue is MLflow's message for a parameter of the wrong type.
func invalidValue(name string, raw json.RawMessage) error {
	var compact bytes.Buffer
	if err := json.Compact(&compact, raw); err != nil {
		compact.Write(raw)
	}
	return mlflow.InvalidParam("Invalid value %s for parameter '%s' supplied: Hint: Value was of type '%s'. "+
		"See the API docs for more information about request parameters.", compact.String(), name, pyType(raw))
}

// pyType names a JSON value's type the way Python would.
func pyType(raw json.RawMessage) string {
	t := bytes.TrimSpace(raw)
	if len(t) == 0 {
		return "NoneType"
	}
	switch t[0] {
	case '"':
		return "str"
	case '{':
		return "dict"
	case '[':
		return "list"
	case 't', 'f':
		return "bool"
	case 'n':
		return "NoneType"
	}
	if bytes.ContainsAny(t, ".eE") {
		return "float"
	}
	return "int"
}

func jsonErrorText(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("%v (at byte %d)", se, se.Offset)
	}
	return err.Error()
}

// decodeQuery maps query parameters onto the request struct's top-level
// fields by proto name: repeated fields take every value, others the first.
func decodeQuery(r *http.Request, dst any) error {
	q := r.URL.Query()
	v := reflect.ValueOf(dst).Elem()
	for name, path := range fieldIndex(v.Type()) {
		vals, ok := q[name]
		if !ok || len(vals) == 0 {
			continue
		}
		f := v.FieldByIndex(path)
		var raw []byte
		switch {
		case f.Kind() == reflect.Slice && f.Type().Elem().Kind() == reflect.String:
			raw, _ = json.Marshal(vals)
		case f.Type() == reflect.TypeFor[mlflow.Bool]():
			s := strings.ToLower(vals[0])
			if s != "true" && s != "false" {
				return mlflow.InvalidParam("Invalid boolean value: %s, must be 'true' or 'false'.", vals[0])
			}
			raw = []byte(s)
		default:
			raw, _ = json.Marshal(vals[0])
		}
		if err := json.Unmarshal(raw, f.Addr().Interface()); err != nil {
			return invalidValue(name, raw)
		}
	}
	return nil
}

// fieldIndexes caches fieldIndex per request type.
var fieldIndexes sync.Map // reflect.Type → map[string][]int

// fieldIndex maps json names to field index paths, flattening embedded
// structs (RunRef).
func fieldIndex(t reflect.Type) map[string][]int {
	if m, ok := fieldIndexes.Load(t); ok {
		return m.(map[string][]int)
	}
	m := buildFieldIndex(t)
	fieldIndexes.Store(t, m)
	return m
}

func buildFieldIndex(t reflect.Type) map[string][]int {
	out := map[string][]int{}
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		if sf.Anonymous && sf.Type.Kind() == reflect.Struct {
			for name, sub := range buildFieldIndex(sf.Type) {
				out[name] = append([]int{i}, sub...)
			}
			continue
		}
		name, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
		if name == "" || name == "-" {
			continue
		}
		out[name] = []int{i}
	}
	return out
}

// snakeCase turns lowerCamelCase into snake_case (experimentId → experiment_id).
func snakeCase(s string) string {
	var b strings.Builder
	for i, r := range s {
		if unicode.IsUpper(r) {
			if i > 0 {
				b.WriteByte('_')
			}
			b.WriteRune(unicode.ToLower(r))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// required returns MLflow's "Missing value" error when a required field is
// absent or empty.
func required(name string, present bool) error {
	if present {
		return nil
	}
	return mlflow.InvalidParam("Missing value for required parameter '%s'. "+
		"See the API docs for more information about request parameters.", name)
}
