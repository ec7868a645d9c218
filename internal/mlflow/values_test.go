package mlflow

import (
	"encoding/json"
	"math"
	"testing"
)

func TestFloat64JSON(t *testing.T) {
	for _, c := range []struct {
		v    float64
		want string
	}{
		{math.NaN(), `"NaN"`}, {math.Inf(1), `"Infinity"`}, {math.Inf(-1), `"-Infinity"`},
		{1.5, `1.5`}, {0, `0`}, {math.MaxFloat64, `1.7976931348623157e+308`}, {1e21, `1e+21`},
	} {
		b, err := json.Marshal(Float64(c.v))
		if err != nil || string(b) != c.want {
			t.Errorf("Marshal(%v) = %s, %v; want %s", c.v, b, err, c.want)
		}
	}
}

func TestRequestValues(t *testing.T) {
	var req struct {
		A, B, C Int64
		D, E, F Double
		G       Bool
		H       Enum
		I       String
	}
	body := `{"A": 12, "B": "34", "C": 1e3, "D": "NaN", "E": "-Infinity", "F": "2.5", "G": "TRUE", "H": 2, "I": ""}`
	if err := json.Unmarshal([]byte(body), &req); err != nil {
		t.Fatal(err)
	}
	if req.A.V != 12 || req.B.V != 34 || req.C.V != 1000 || !math.IsNaN(req.D.V) || !math.IsInf(req.E.V, -1) ||
		req.F.V != 2.5 || !req.G.V || !req.I.Valid {
		t.Errorf("decoded %+v", req)
	}
	if v, ok := req.H.Name(ViewTypeNames); !ok || v != "DELETED_ONLY" {
		t.Errorf("enum 2 = %q %v", v, ok)
	}
	for _, bad := range []string{`{"A": "x"}`, `{"A": 1.5}`, `{"D": true}`, `{"G": "yes"}`, `{"H": 1.5}`} {
		if err := json.Unmarshal([]byte(bad), &req); err == nil {
			t.Errorf("accepted %s", bad)
		}
	}
}

func TestErrorTable(t *testing.T) {
	for code, want := range map[ErrorCode]int{
		InvalidParameterValue: 400, ResourceAlreadyExists: 400, ResourceDoesNotExist: 404, EndpointNotFound: 404,
		PermissionDenied: 403, Unauthenticated: 401, TemporarilyUnavailable: 503, InternalError: 500,
		InvalidState: 500, NotImplemented: 501, ErrorCode("SOMETHING_ELSE"): 500,
	} {
		if got := HTTPStatus(code); got != want {
			t.Errorf("HTTPStatus(%s) = %d, want %d", code, got, want)
		}
	}
}
