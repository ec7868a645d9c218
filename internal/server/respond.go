package server

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"github.com/csgroup-oss/mlflow-sharinghub-go/internal/mlflow"
)

// handlerFunc is what every route handler is: it writes a success response
// itself and returns errors, which handle turns into MLflow's error body.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// errorBody is MLflow's error response.
type errorBody struct {
	ErrorCode mlflow.ErrorCode `json:"error_code"`
	Message   string           `json:"message"`
}

// writeError is the one place errors reach the wire. MLflow errors keep
// their code and message; anything else is logged and answered as
// INTERNAL_ERROR with the request id, never with its text.
func writeError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	var me *mlflow.Error
	body := errorBody{}
	if errors.As(err, &me) {
		body.ErrorCode, body.Message = me.Code, me.Message
	} else {
		id := requestID(r.Context())
		log.ErrorContext(r.Context(), "internal error", "request_id", id, "method", r.Method,
			"path", r.URL.Path, "err", err)
		body.ErrorCode = mlflow.InternalError
		body.Message = "Internal error (request id " + id + "); the server log has the details."
	}
	status := mlflow.HTTPStatus(body.ErrorCode)
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="mlflow"`)
	}
	writeJSON(w, status, body)
}

// writeJSON writes v as the JSON response with the given status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		b = []byte(`{"error_code":"INTERNAL_ERROR","message":"could not encode the response"}`)
		status = http.StatusInternalServerError
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// ok writes a 200 JSON response.
func ok(w http.ResponseWriter, v any) error {
	writeJSON(w, http.StatusOK, v)
	return nil
}

// empty is the empty response message {}.
var empty = struct{}{}
