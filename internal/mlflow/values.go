package mlflow

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Int64 is an optional int64 request field. Like protobuf's JSON parser it
// accepts a JSON number or a decimal string; Valid says whether it was sent.
type Int64 struct {
	V     int64
	Valid bool
}

// UnmarshalJSON accepts 12, "12" and null.
func (i *Int64) UnmarshalJSON(b []byte) error {
	if bytes.Equal(b, []byte("null")) {
		*i = Int64{}
		return nil
	}
	s := string(b)
	if len(b) > 0 && b[0] == '"' {
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		s = strings.TrimSpace(s)
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		// protobuf accepts integral floats such as 1e3 or 5.0.
		f, ferr := strconv.ParseFloat(s, 64)
		if ferr != nil || f != math.Trunc(f) || math.Abs(f) > 1<<63-1 {
			return fmt.Errorf("not an integer: %s", b)
		}
		v = int64(f)
	}
	*i = Int64{V: v, Valid: true}
	return nil
}

// MarshalJSON writes the number, or null when unset.
func (i Int64) MarshalJSON() ([]byte, error) {
	if !i.Valid {
		return []byte("null"), nil
	}
	return strconv.AppendInt(nil, i.V, 10), nil
}

// Double is an optional double request field: a JSON number, a numeric
// string, or one of "NaN", "Infinity", "-Infinity".
type Double struct {
	V     float64
	Valid bool
}

// UnmarshalJSON accepts numbers, numeric strings and the proto-JSON specials.
func (d *Double) UnmarshalJSON(b []byte) error {
	if bytes.Equal(b, []byte("null")) {
		*d = Double{}
		return nil
	}
	s := string(b)
	if len(b) > 0 && b[0] == '"' {
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		switch s {
		case "NaN":
			*d = Double{V: math.NaN(), Valid: true}
			return nil
		case "Infinity":
			*d = Double{V: math.Inf(1), Valid: true}
			return nil
		case "-Infinity":
			*d = Double{V: math.Inf(-1), Valid: true}
			return nil
		}
	}
	if s == "true" || s == "false" {
		return fmt.Errorf("not a number: %s", b)
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil && !strings.Contains(err.Error(), "range") {
		return fmt.Errorf("not a number: %s", b)
	}
	*d = Double{V: v, Valid: true}
	return nil
}

// Float64 is a double in a response: NaN and ±Inf become the proto-JSON
// strings "NaN", "Infinity" and "-Infinity".
type Float64 float64

// MarshalJSON writes the number or its special string.
func (f Float64) MarshalJSON() ([]byte, error) {
	v := float64(f)
	switch {
	case math.IsNaN(v):
		return []byte(`"NaN"`), nil
	case math.IsInf(v, 1):
		return []byte(`"Infinity"`), nil
	case math.IsInf(v, -1):
		return []byte(`"-Infinity"`), nil
	}
	return strconv.AppendFloat(nil, v, 'g', -1, 64), nil
}

// UnmarshalJSON reads what MarshalJSON writes (used by tests and clients).
func (f *Float64) UnmarshalJSON(b []byte) error {
	var d Double
	if err := d.UnmarshalJSON(b); err != nil {
		return err
	}
	*f = Float64(d.V)
	return nil
}

// Bool is an optional boolean request field.
type Bool struct {
	V     bool
	Valid bool
}

// UnmarshalJSON accepts true, false, and (from query strings) "true"/"false"
// in any case.
func (o *Bool) UnmarshalJSON(b []byte) error {
	switch strings.ToLower(strings.Trim(string(b), `"`)) {
	case "null":
		*o = Bool{}
	case "true":
		*o = Bool{V: true, Valid: true}
	case "false":
		*o = Bool{V: false, Valid: true}
	default:
		return fmt.Errorf("invalid boolean value: %s, must be 'true' or 'false'", strings.Trim(string(b), `"`))
	}
	return nil
}

// String is an optional string request field; it remembers whether the
// field was present at all.
type String struct {
	V     string
	Valid bool
}

// UnmarshalJSON accepts a JSON string or null.
func (s *String) UnmarshalJSON(b []byte) error {
	if bytes.Equal(b, []byte("null")) {
		*s = String{}
		return nil
	}
	var v string
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*s = String{V: v, Valid: true}
	return nil
}

// Enum is an optional enum request field, sent by name ("ACTIVE_ONLY") or by
// number (1). Resolve it against the enum's names with Name.
type Enum struct {
	Raw   string // the name as sent, or the number in decimal
	IsNum bool
	Valid bool
}

// UnmarshalJSON accepts a JSON string or integer.
func (e *Enum) UnmarshalJSON(b []byte) error {
	if bytes.Equal(b, []byte("null")) {
		*e = Enum{}
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		if _, err := strconv.Atoi(s); err == nil {
			*e = Enum{Raw: s, IsNum: true, Valid: true}
			return nil
		}
		*e = Enum{Raw: s, Valid: true}
		return nil
	}
	if _, err := strconv.Atoi(string(b)); err != nil {
		return fmt.Errorf("not an enum value: %s", b)
	}
	*e = Enum{Raw: string(b), IsNum: true, Valid: true}
	return nil
}

// Name resolves the value against names, numbered from 1 as in MLflow's
// protos. ok is false for an unknown name or number.
func (e Enum) Name(names []string) (string, bool) {
	if e.IsNum {
		n, _ := strconv.Atoi(e.Raw)
		if n >= 1 && n <= len(names) {
			return names[n-1], true
		}
		return "", false
	}
	for _, n := range names {
		if n == e.Raw {
			return n, true
		}
	}
	return "", false
}

// ViewTypeNames are the ViewType enum names, numbered from 1.
var ViewTypeNames = []string{"ACTIVE_ONLY", "DELETED_ONLY", "ALL"}

// ViewTypeOf resolves an Enum to a ViewType, ACTIVE_ONLY when unset.
func ViewTypeOf(e Enum, field string) (ViewType, error) {
	if !e.Valid {
		return ActiveOnly, nil
	}
	name, ok := e.Name(ViewTypeNames)
	if !ok {
		return 0, InvalidParam("Invalid value %q for parameter '%s' supplied. Valid values are %v.", e.Raw, field, ViewTypeNames)
	}
	switch name {
	case "DELETED_ONLY":
		return DeletedOnly, nil
	case "ALL":
		return AllStages, nil
	}
	return ActiveOnly, nil
}
