package search

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"math"
	"math/big"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/csgroup-oss/mlflow-sharinghub-go/internal/mlflow"
)

// EncodeOffset returns MLflow's page token for an offset: base64 of
// Python's json.dumps({"offset": n}), e.g. 1000 → "eyJvZmZzZXQiOiAxMDAwfQ==".
func EncodeOffset(n int) string {
	return base64.StdEncoding.EncodeToString([]byte(`{"offset": ` + strconv.Itoa(n) + `}`))
}

// DecodeOffset reads a page token made by EncodeOffset (or by MLflow). The
// empty token is offset 0. Errors are INVALID_PARAMETER_VALUE with MLflow's
// messages; an offset of 0 inside a token is rejected, as MLflow does.
func DecodeOffset(token string) (int, error) {
	if token == "" {
		return 0, nil
	}
	raw, ok := pyB64Decode(token)
	if !ok {
		return 0, mlflow.InvalidParam("Invalid page token, could not base64-decode")
	}
	v, err := decodeJSON(raw)
	if err != nil {
		return 0, mlflow.InvalidParam("Invalid page token, decoded value=%s", pyBytesRepr(raw))
	}
	var off jsonValue
	found := false
	if v.kind == jsonObject {
		if i := indexOf(v.keys, "offset"); i >= 0 {
			off, found = v.items[i], true
		}
	}
	if !found || !off.truthy() {
		return 0, mlflow.InvalidParam("Invalid page token, parsed value=%s", v.repr())
	}
	n, ok := off.pyInt()
	if !ok {
		return 0, mlflow.InvalidParam("Invalid page token, not stringable %s", off.str())
	}
	return n, nil
}

// pyB64Decode is Python's base64.b64decode without validation: characters
// outside the alphabet are skipped, and decoding stops at the padding that
// completes a quantum.
func pyB64Decode(s string) ([]byte, bool) {
	var data []byte
	quad, pads := 0, 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x80 {
			return nil, false // str.encode("ascii") fails
		}
		if c == '=' {
			if quad >= 2 {
				pads++
				if quad+pads >= 4 {
					return trimB64(data, quad), true
				}
			}
			continue
		}
		if strings.IndexByte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", c) < 0 {
			continue
		}
		pads = 0
		data = append(data, c)
		quad = (quad + 1) % 4
	}
	if quad != 0 {
		return nil, false
	}
	return trimB64(data, 0), true
}

// trimB64 decodes complete quanta plus a final partial one of quad
// characters (2 or 3).
func trimB64(chars []byte, quad int) []byte {
	full := len(chars) - quad
	out, _ := base64.StdEncoding.DecodeString(string(chars[:full]))
	if quad >= 2 {
		tail := string(chars[full:]) + strings.Repeat("A", 4-quad)
		b, _ := base64.StdEncoding.DecodeString(tail)
		out = append(out, b[:quad-1]...)
	}
	return out
}

// jsonValue is a decoded JSON value that keeps object key order, so that
// Python's repr of it can be reproduced.
type jsonValue struct {
	kind  jsonKind
	text  string // string, or the literal of a number
	bool  bool
	keys  []string
	items []jsonValue
}

type jsonKind uint8

const (
	jsonNull jsonKind = iota
	jsonBool
	jsonNumber
	jsonString
	jsonArray
	jsonObject
)

func decodeJSON(raw []byte) (jsonValue, error) {
	raw = bytes.TrimPrefix(raw, []byte("\xef\xbb\xbf"))
	if !utf8.Valid(raw) {
		return jsonValue{}, errLiteral
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	v, err := readJSON(dec)
	if err != nil {
		return jsonValue{}, err
	}
	if _, err := dec.Token(); err == nil {
		return jsonValue{}, errLiteral // extra data
	}
	return v, nil
}

func readJSON(dec *json.Decoder) (jsonValue, error) {
	tok, err := dec.Token()
	if err != nil {
		return jsonValue{}, err
	}
	switch t := tok.(type) {
	case nil:
		return jsonValue{kind: jsonNull}, nil
	case bool:
		return jsonValue{kind: jsonBool, bool: t}, nil
	case json.Number:
		return jsonValue{kind: jsonNumber, text: t.String()}, nil
	case string:
		return jsonValue{kind: jsonString, text: t}, nil
	case json.Delim:
		v := jsonValue{kind: jsonArray}
		if t == '{' {
			v.kind = jsonObject
		}
		for dec.More() {
			if v.kind == jsonObject {
				k, err := dec.Token()
				if err != nil {
					return jsonValue{}, err
				}
				key := k.(string)
				item, err := readJSON(dec)
				if err != nil {
					return jsonValue{}, err
				}
				if i := indexOf(v.keys, key); i >= 0 {
					v.items[i] = item // a repeated key keeps its place and takes the last value
				} else {
					v.keys = append(v.keys, key)
					v.items = append(v.items, item)
				}
				continue
			}
			item, err := readJSON(dec)
			if err != nil {
				return jsonValue{}, err
			}
			v.items = append(v.items, item)
		}
		if _, err := dec.Token(); err != nil {
			return jsonValue{}, err
		}
		return v, nil
	}
	return jsonValue{}, errLiteral
}

func indexOf(list []string, s string) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return -1
}

func (v jsonValue) isFloat() bool { return strings.ContainsAny(v.text, ".eE") }

// truthy is Python's truth value of the decoded value.
func (v jsonValue) truthy() bool {
	switch v.kind {
	case jsonNull:
		return false
	case jsonBool:
		return v.bool
	case jsonNumber:
		f, _ := strconv.ParseFloat(v.text, 64)
		return f != 0
	case jsonString:
		return v.text != ""
	}
	return len(v.items) > 0
}

// pyInt is Python's int() of the value, clamped to the int range.
func (v jsonValue) pyInt() (int, bool) {
	var n *big.Int
	switch {
	case v.kind == jsonBool:
		return 1, true // only True gets here
	case v.kind == jsonNumber && v.isFloat():
		f, _ := strconv.ParseFloat(v.text, 64)
		if math.IsInf(f, 0) {
			return 0, false
		}
		n, _ = new(big.Float).SetFloat64(math.Trunc(f)).Int(nil)
	case v.kind == jsonNumber:
		n, _ = new(big.Int).SetString(v.text, 10)
	case v.kind == jsonString:
		var ok bool
		if n, ok = pyIntFromString(v.text); !ok {
			return 0, false
		}
	default:
		return 0, false
	}
	switch {
	case n.IsInt64():
		return int(n.Int64()), true
	case n.Sign() > 0:
		return math.MaxInt, true
	}
	return math.MinInt, true
}

// str is Python's str() of the value.
func (v jsonValue) str() string {
	if v.kind == jsonString {
		return v.text
	}
	return v.repr()
}

// repr is Python's repr() of the value json.loads would return.
func (v jsonValue) repr() string {
	switch v.kind {
	case jsonNull:
		return "None"
	case jsonBool:
		if v.bool {
			return "True"
		}
		return "False"
	case jsonNumber:
		if v.isFloat() {
			f, _ := strconv.ParseFloat(v.text, 64)
			return pyFloatRepr(f)
		}
		n, _ := new(big.Int).SetString(v.text, 10)
		return n.String()
	case jsonString:
		return pyStrRepr(v.text)
	}
	parts := make([]string, len(v.items))
	for i, it := range v.items {
		parts[i] = it.repr()
		if v.kind == jsonObject {
			parts[i] = pyStrRepr(v.keys[i]) + ": " + parts[i]
		}
	}
	if v.kind == jsonObject {
		return "{" + strings.Join(parts, ", ") + "}"
	}
	return "[" + strings.Join(parts, ", ") + "]"
}
