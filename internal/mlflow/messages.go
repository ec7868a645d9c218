package mlflow

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf16"
)

// Message shapes MLflow uses for validation errors (mlflow/utils/validation.py),
// shared by the tracking, registry and logged-model rules.

// InvalidValue is "Invalid value <json> for parameter '<path>' supplied[: msg]",
// the value written as Python's json.dumps would (no HTML escaping).
func InvalidValue(path string, value any, msg string) *Error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(value)
	v := strings.TrimSpace(b.String())
	if msg != "" {
		return InvalidParam("Invalid value %s for parameter '%s' supplied: %s", v, path, msg)
	}
	return InvalidParam("Invalid value %s for parameter '%s' supplied.", v, path)
}

// MissingValue is "Missing value for required parameter '<path>'.".
func MissingValue(path string) *Error {
	return InvalidParam("Missing value for required parameter '%s'.", path)
}

// ExceedsMaxLength is "'<path>' exceeds the maximum length of <limit> characters".
func ExceedsMaxLength(path string, limit int) *Error {
	return InvalidParam("'%s' exceeds the maximum length of %d characters", path, limit)
}

// PyRepr quotes s as Python's repr does for plain strings.
func PyRepr(s string) string {
	if strings.Contains(s, "'") && !strings.Contains(s, `"`) {
		return `"` + s + `"`
	}
	return "'" + strings.ReplaceAll(s, "'", `\'`) + "'"
}

// PyJSONString is a string as Python's json.dumps writes it (ASCII only,
// \uXXXX escapes, surrogate pairs): what page tokens and the
// mlflow.log-model.history tag must match byte for byte.
func PyJSONString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\b':
			b.WriteString(`\b`)
		case r == '\f':
			b.WriteString(`\f`)
		case r < 0x20 || (r > 0x7f && r < 0x10000):
			fmt.Fprintf(&b, `\u%04x`, r)
		case r >= 0x10000:
			r1, r2 := utf16.EncodeRune(r)
			fmt.Fprintf(&b, `\u%04x\u%04x`, r1, r2)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}
