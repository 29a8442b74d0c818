package deis

// Page is one page of a list endpoint. Next is the path of the following
// page, empty on the last one.
type Page[T any] struct {
	Count   int    `json:"count"`
	Next    string `json:"next,omitempty"`
	Results []T    `json:"results"`
}

// Error is the body of every non-2xx answer.
type Error struct {
	Message string `json:"error"`
	Code    string `json:"code"`
}

// Error codes, one per HTTP status family the API uses.
const (
	CodeBadRequest     = "bad_request"     // 400: malformed JSON, unknown fields, wrong types
	CodeUnauthorized   = "unauthorized"    // 401: missing, unknown or expired token
	CodeForbidden      = "forbidden"       // 403: visible, but not yours to change
	CodeNotFound       = "not_found"       // 404: absent, or not visible to you
	CodeConflict       = "conflict"        // 409: the id is taken
	CodeInvalid        = "invalid"         // 422: well-formed but not acceptable
	CodeTooLarge       = "too_large"       // 413: body over the limit
	CodeNotImplemented = "not_implemented" // 501: the back end lands in a later release
	CodeInternal       = "internal"        // 500
	CodeProvider       = "provider"        // 502: the provider (a cloud API) refused or failed
)
