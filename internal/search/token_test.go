package search

import (
	"encoding/base64"
	"testing"

	"github.com/csgroup-oss/mlflow-sharinghub-go/internal/mlflow"
)

func TestEncodeOffset(t *testing.T) {
	for n, want := range map[int]string{1000: "eyJvZmZzZXQiOiAxMDAwfQ==", 5: "eyJvZmZzZXQiOiA1fQ=="} {
		if got := EncodeOffset(n); got != want {
			t.Errorf("EncodeOffset(%d) = %q, want %q", n, got, want)
		}
	}
	for _, n := range []int{1, 7, 1000, 50000, 1 << 40} {
		got, err := DecodeOffset(EncodeOffset(n))
		if err != nil || got != n {
			t.Errorf("DecodeOffset(EncodeOffset(%d)) = %d, %v", n, got, err)
		}
	}
}

func TestDecodeOffset(t *testing.T) {
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	tests := []struct {
		token string
		want  int
		msg   string
	}{
		{token: "", want: 0},
		{token: b64(`{"offset": 25}`), want: 25},
		{token: b64(`{"offset":"12"}`), want: 12},
		{token: b64(`{"offset": 2.9}`), want: 2},
		{token: "eyJvZmZzZXQiOjV9", want: 5},           // unpadded quantum is complete
		{token: "ey Jv ZmZz ZXQi OiAx MH0=", want: 10}, // non-alphabet characters are skipped
		{token: "abc", msg: "Invalid page token, could not base64-decode"},
		{token: "é", msg: "Invalid page token, could not base64-decode"},
		{token: b64("nope"), msg: "Invalid page token, decoded value=b'nope'"},
		{token: b64(`{}`), msg: "Invalid page token, parsed value={}"},
		{token: b64(`{"offset": 0}`), msg: "Invalid page token, parsed value={'offset': 0}"},
		{token: b64(`{"offset": null, "a": [true, 1.0]}`), msg: "Invalid page token, parsed value={'offset': None, 'a': [True, 1.0]}"},
		{token: b64(`{"offset": "x"}`), msg: "Invalid page token, not stringable x"},
	}
	for _, tt := range tests {
		got, err := DecodeOffset(tt.token)
		if tt.msg != "" {
			wantErr(t, err, mlflow.InvalidParameterValue, tt.msg)
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("DecodeOffset(%q) = %d, %v; want %d", tt.token, got, err, tt.want)
		}
	}
}
