// Package mlflow holds MLflow's wire conventions: error codes and their HTTP
// statuses, the JSON shapes of entities, and the proto-JSON value rules
// (int64 as numbers or strings, NaN as "NaN", enums by name).
package mlflow

import (
	"errors"
	"fmt"
	"net/http"
)

// ErrorCode is an MLflow error code as it appears in "error_code".
type ErrorCode string

// The error codes this server answers with.
const (
	InternalError          ErrorCode = "INTERNAL_ERROR"
	TemporarilyUnavailable ErrorCode = "TEMPORARILY_UNAVAILABLE"
	BadRequest             ErrorCode = "BAD_REQUEST"
	InvalidParameterValue  ErrorCode = "INVALID_PARAMETER_VALUE"
	EndpointNotFound       ErrorCode = "ENDPOINT_NOT_FOUND"
	ResourceDoesNotExist   ErrorCode = "RESOURCE_DOES_NOT_EXIST"
	ResourceAlreadyExists  ErrorCode = "RESOURCE_ALREADY_EXISTS"
	PermissionDenied       ErrorCode = "PERMISSION_DENIED"
	Unauthenticated        ErrorCode = "UNAUTHENTICATED"
	InvalidState           ErrorCode = "INVALID_STATE"
	NotImplemented         ErrorCode = "NOT_IMPLEMENTED"
	RequestLimitExceeded   ErrorCode = "REQUEST_LIMIT_EXCEEDED"
	ResourceConflict       ErrorCode = "RESOURCE_CONFLICT"
)

// httpStatus is the one code → status table (MLflow's ERROR_CODE_TO_HTTP_STATUS).
// Codes missing here answer 500, as in MLflow.
var httpStatus = map[ErrorCode]int{
	BadRequest:             http.StatusBadRequest,
	InvalidParameterValue:  http.StatusBadRequest,
	ResourceAlreadyExists:  http.StatusBadRequest,
	Unauthenticated:        http.StatusUnauthorized,
	PermissionDenied:       http.StatusForbidden,
	EndpointNotFound:       http.StatusNotFound,
	ResourceDoesNotExist:   http.StatusNotFound,
	ResourceConflict:       http.StatusConflict,
	RequestLimitExceeded:   http.StatusTooManyRequests,
	InternalError:          http.StatusInternalServerError,
	InvalidState:           http.StatusInternalServerError,
	NotImplemented:         http.StatusNotImplemented,
	TemporarilyUnavailable: http.StatusServiceUnavailable,
}

// HTTPStatus returns the HTTP status MLflow uses for code.
func HTTPStatus(code ErrorCode) int {
	if s, ok := httpStatus[code]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// Error is an error that reaches the client as {"error_code", "message"}.
type Error struct {
	Code    ErrorCode
	Message string
}

// Error returns the message prefixed with its code.
func (e *Error) Error() string { return string(e.Code) + ": " + e.Message }

// Errorf builds an *Error with a formatted message.
func Errorf(code ErrorCode, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// InvalidParam builds an INVALID_PARAMETER_VALUE error.
func InvalidParam(format string, args ...any) *Error {
	return Errorf(InvalidParameterValue, format, args...)
}

// NotFound builds a RESOURCE_DOES_NOT_EXIST error.
func NotFound(format string, args ...any) *Error {
	return Errorf(ResourceDoesNotExist, format, args...)
}

// CodeOf returns the MLflow code carried by err, or INTERNAL_ERROR for
// untyped errors.
func CodeOf(err error) ErrorCode {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return InternalError
}

// IsCode reports whether err carries code.
func IsCode(err error, code ErrorCode) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == code
}
