package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/deis/deis"
	"github.com/deis/deis/deploy"
	"github.com/deis/deis/store"
	"github.com/gin-gonic/gin"
)

// Error is an error with a user-safe message and an HTTP status.
type Error struct {
	Status  int
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Message }

func badRequest(format string, a ...any) error {
	return &Error{http.StatusBadRequest, deis.CodeBadRequest, fmt.Sprintf(format, a...)}
}

func invalid(format string, a ...any) error {
	return &Error{http.StatusUnprocessableEntity, deis.CodeInvalid, fmt.Sprintf(format, a...)}
}

func notFound(format string, a ...any) error {
	return &Error{http.StatusNotFound, deis.CodeNotFound, fmt.Sprintf(format, a...)}
}

func conflict(format string, a ...any) error {
	return &Error{http.StatusConflict, deis.CodeConflict, fmt.Sprintf(format, a...)}
}

func forbidden(format string, a ...any) error {
	return &Error{http.StatusForbidden, deis.CodeForbidden, fmt.Sprintf(format, a...)}
}

func unauthorized(format string, a ...any) error {
	return &Error{http.StatusUnauthorized, deis.CodeUnauthorized, fmt.Sprintf(format, a...)}
}

// providerFailed is a provider's (a cloud API's) refusal or failure: its
// message is the provider's one-line explanation.
func providerFailed(err error) error {
	return &Error{http.StatusBadGateway, deis.CodeProvider, err.Error()}
}

// notAvailable answers features whose back end lands in a later release.
func notAvailable(what string) error {
	return &Error{http.StatusNotImplemented, deis.CodeNotImplemented, what + " is not available yet"}
}

// statusOf maps any error to the status, code and message the client sees.
// It is the only place that decides what an error looks like on the wire.
func statusOf(err error) (int, deis.Error) {
	var e *Error
	var refused *deploy.Error
	var maxErr *http.MaxBytesError
	switch {
	case errors.As(err, &e):
		return e.Status, deis.Error{Message: e.Message, Code: e.Code}
	case errors.As(err, &refused):
		return http.StatusUnprocessableEntity, deis.Error{Message: refused.Message, Code: deis.CodeInvalid}
	case errors.As(err, &maxErr):
		return http.StatusRequestEntityTooLarge, deis.Error{
			Message: fmt.Sprintf("request body is larger than %d bytes", maxErr.Limit),
			Code:    deis.CodeTooLarge,
		}
	case errors.Is(err, store.ErrNotFound):
		return http.StatusNotFound, deis.Error{Message: lastPart(err), Code: deis.CodeNotFound}
	case errors.Is(err, store.ErrConflict):
		return http.StatusConflict, deis.Error{Message: lastPart(err), Code: deis.CodeConflict}
	case errors.Is(err, store.ErrInUse):
		return http.StatusConflict, deis.Error{Message: lastPart(err), Code: deis.CodeConflict}
	case errors.Is(err, store.ErrInvalid):
		return http.StatusUnprocessableEntity, deis.Error{Message: lastPart(err), Code: deis.CodeInvalid}
	}
	return http.StatusInternalServerError, deis.Error{Message: "internal error", Code: deis.CodeInternal}
}

// lastPart returns the store's error text, which names the object and the
// sentinel ("app \"x\": not found"), and is safe to show.
func lastPart(err error) string { return err.Error() }

// fail aborts the request with err.
func fail(c *gin.Context, err error) {
	status, body := statusOf(err)
	if status == http.StatusInternalServerError {
		logger(c).Error("request failed", "err", err)
	}
	c.AbortWithStatusJSON(status, body)
}

// maxBody is the limit on request bodies.
const maxBody = 1 << 20

// decode reads one JSON value from the request body into v, strictly:
// unknown fields, trailing data and wrong types are 400s.
func decode(c *gin.Context, v any) error {
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, maxBody)
	return decodeJSON(c.Request.Body, v)
}

// decodeJSON is decode without the request: the fuzz test drives it.
func decodeJSON(r io.Reader, v any) error {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return describeJSONError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return badRequest("request body must hold exactly one JSON value")
	}
	return nil
}

func describeJSONError(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var maxErr *http.MaxBytesError
	switch {
	case errors.As(err, &maxErr):
		return err
	case errors.Is(err, io.EOF):
		return badRequest("request body is empty")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return badRequest("request body is truncated JSON")
	case errors.As(err, &syn):
		return badRequest("malformed JSON at byte %d", syn.Offset)
	case errors.As(err, &typ):
		if typ.Field == "" {
			return badRequest("request body must be a JSON %s, not %s", typ.Type.Kind(), typ.Value)
		}
		return badRequest("field %q must be %s, not %s", typ.Field, jsonKind(typ.Type.Kind().String()), typ.Value)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return badRequest("unknown field %s", strings.TrimPrefix(err.Error(), "json: unknown field "))
	}
	return badRequest("malformed JSON: %s", strings.TrimPrefix(err.Error(), "json: "))
}

func jsonKind(k string) string {
	switch {
	case strings.HasPrefix(k, "int"), strings.HasPrefix(k, "uint"), strings.HasPrefix(k, "float"):
		return "a number"
	case k == "map" || k == "struct":
		return "an object"
	case k == "slice":
		return "an array"
	case k == "ptr":
		return "a value"
	}
	return "a " + k
}
