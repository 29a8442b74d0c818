// Package client is the typed Go client of the controller's /v1 API. It
// speaks JSON over net/http, follows list pagination, decodes error bodies
// into *APIError and follows long-running jobs. It imports no server code:
// the wire types in types.go are the whole contract.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/deis/deis"
)

// DefaultTimeout bounds one ordinary request. Long polls add their wait.
const DefaultTimeout = 30 * time.Second

// maxBody bounds what the client reads of one answer.
const maxBody = 32 << 20

// Client talks to one controller with one bearer token. It is safe for
// concurrent use.
type Client struct {
	base      string // scheme://host[:port][/prefix], no trailing slash
	token     string
	http      *http.Client
	timeout   time.Duration
	userAgent string
}

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient makes the client send its requests through h.
func WithHTTPClient(h *http.Client) Option { return func(c *Client) { c.http = h } }

// WithTimeout sets the deadline of one ordinary request (DefaultTimeout
// otherwise). Long polls get their wait on top of it.
func WithTimeout(d time.Duration) Option { return func(c *Client) { c.timeout = d } }

// WithUserAgent sets the User-Agent header.
func WithUserAgent(ua string) Option { return func(c *Client) { c.userAgent = ua } }

// New returns a client of the controller at baseURL (e.g.
// "http://deis.example.com:8000") that authenticates with token, which may
// be empty for register and login.
func New(baseURL, token string, opts ...Option) *Client {
	c := &Client{
		base:      strings.TrimRight(baseURL, "/"),
		token:     token,
		http:      http.DefaultClient,
		timeout:   DefaultTimeout,
		userAgent: "deis-client/0.1",
	}
	for _, o := range opts {
		o(c)
	}
	return c
}

// BaseURL returns the controller URL the client talks to.
func (c *Client) BaseURL() string { return c.base }

// APIError is a non-2xx answer of the controller.
type APIError struct {
	Status    int    // HTTP status
	Code      string // one of the Code* constants, empty if the body was not ours
	Message   string
	RequestID string // X-Deis-Request-ID of the answer, if any
}

// Error returns the one-line message.
func (e *APIError) Error() string {
	if e.Message != "" {
		return e.Message
	}
	return fmt.Sprintf("%d %s", e.Status, http.StatusText(e.Status))
}

// IsStatus reports whether err is an *APIError with the given HTTP status.
func IsStatus(err error, status int) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Status == status
}

// request describes one call.
type request struct {
	method string
	path   string     // starts with "/", may not hold a query
	query  url.Values // optional
	body   any        // encoded as JSON when not nil
	// rawBody is sent as is (application/octet-stream) when body is nil.
	rawBody io.Reader
	wait    time.Duration
}

// do sends r and decodes a 2xx body into out (when out is not nil and the
// body is not empty). It returns the HTTP status.
func (c *Client) do(ctx context.Context, r request, out any) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout+r.wait)
	defer cancel()
	resp, err := c.send(ctx, r)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return resp.StatusCode, fmt.Errorf("reading answer of %s %s: %w", r.method, r.path, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, decodeError(resp, data)
	}
	if out == nil || len(bytes.TrimSpace(data)) == 0 {
		return resp.StatusCode, nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return resp.StatusCode, fmt.Errorf("decoding answer of %s %s: %w", r.method, r.path, err)
	}
	return resp.StatusCode, nil
}

// send builds and sends r; the caller closes the body.
func (c *Client) send(ctx context.Context, r request) (*http.Response, error) {
	u := c.base + r.path
	if len(r.query) > 0 {
		u += "?" + r.query.Encode()
	}
	var body io.Reader
	if r.body != nil {
		data, err := json.Marshal(r.body)
		if err != nil {
			return nil, fmt.Errorf("encoding %s %s: %w", r.method, r.path, err)
		}
		body = bytes.NewReader(data)
	} else if r.rawBody != nil {
		body = r.rawBody
	}
	req, err := http.NewRequestWithContext(ctx, r.method, u, body)
	if err != nil {
		return nil, fmt.Errorf("building %s %s: %w", r.method, r.path, err)
	}
	if r.body != nil {
		req.Header.Set("Content-Type", "application/json")
	} else if r.rawBody != nil {
		req.Header.Set("Content-Type", "application/octet-stream")
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.userAgent)
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", r.method, u, unwrapURLError(err))
	}
	return resp, nil
}

// unwrapURLError drops the *url.Error wrapper, whose message repeats the
// method and URL, keeping context errors recognisable by errors.Is.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// decodeError turns a non-2xx answer into an *APIError. Bodies that are not
// ours (a proxy's HTML page) keep only their first line.
func decodeError(resp *http.Response, data []byte) error {
	ae := &APIError{Status: resp.StatusCode, RequestID: resp.Header.Get("X-Deis-Request-ID")}
	var e deis.Error
	if err := json.Unmarshal(data, &e); err == nil && (e.Message != "" || e.Code != "") {
		ae.Code, ae.Message = e.Code, e.Message
		return ae
	}
	text := strings.TrimSpace(string(data))
	if i := strings.IndexByte(text, '\n'); i >= 0 {
		text = strings.TrimSpace(text[:i])
	}
	if len(text) > 200 {
		text = text[:200] + "..."
	}
	if text != "" && !strings.HasPrefix(text, "<") {
		ae.Message = fmt.Sprintf("%d %s: %s", resp.StatusCode, http.StatusText(resp.StatusCode), text)
	}
	return ae
}

// list fetches every page of a list endpoint, following next.
func list[T any](ctx context.Context, c *Client, path string) ([]T, error) {
	all := []T{}
	seen := map[string]bool{}
	r := request{method: http.MethodGet, path: path}
	for {
		var p deis.Page[T]
		if _, err := c.do(ctx, r, &p); err != nil {
			return nil, err
		}
		all = append(all, p.Results...)
		if p.Next == "" || len(p.Results) == 0 || seen[p.Next] {
			return all, nil
		}
		seen[p.Next] = true
		next, err := c.relative(p.Next)
		if err != nil {
			return nil, err
		}
		r = next
	}
}

// relative turns the next link of a page into a request. Links are paths
// ("/v1/apps?limit=100&offset=100") under the base URL, or absolute URLs on
// the same controller.
func (c *Client) relative(next string) (request, error) {
	u, err := url.Parse(next)
	if err != nil {
		return request{}, fmt.Errorf("parsing next page link %q: %w", next, err)
	}
	path := u.Path
	if u.IsAbs() {
		base, err := url.Parse(c.base)
		if err != nil || base.Host != u.Host {
			return request{}, fmt.Errorf("next page link %q leaves the controller", next)
		}
		path = strings.TrimPrefix(u.Path, base.Path)
	}
	return request{method: http.MethodGet, path: path, query: u.Query()}, nil
}

// get, post, patch and del are shorthands for do.
func (c *Client) get(ctx context.Context, path string, out any) error {
	_, err := c.do(ctx, request{method: http.MethodGet, path: path}, out)
	return err
}

func (c *Client) post(ctx context.Context, path string, body, out any) error {
	_, err := c.do(ctx, request{method: http.MethodPost, path: path, body: body}, out)
	return err
}

func (c *Client) patch(ctx context.Context, path string, body, out any) error {
	_, err := c.do(ctx, request{method: http.MethodPatch, path: path, body: body}, out)
	return err
}

func (c *Client) del(ctx context.Context, path string) error {
	_, err := c.do(ctx, request{method: http.MethodDelete, path: path}, nil)
	return err
}

// jobCall sends a request that answers 202 with a Job. An answer without a
// body (204) gives a nil job.
func (c *Client) jobCall(ctx context.Context, method, path string, body any) (*deis.Job, error) {
	var j deis.Job
	status, err := c.do(ctx, request{method: method, path: path, body: body}, &j)
	if err != nil {
		return nil, err
	}
	if status == http.StatusNoContent || j.ID == "" {
		return nil, nil
	}
	return &j, nil
}

// p builds an API path from escaped segments: p("apps", id) is "/v1/apps/<id>".
func p(segments ...string) string {
	var b strings.Builder
	b.WriteString("/v1")
	for _, s := range segments {
		b.WriteByte('/')
		b.WriteString(url.PathEscape(s))
	}
	return b.String()
}

// Health checks that the controller answers GET /healthz.
func (c *Client) Health(ctx context.Context) error {
	return c.get(ctx, "/healthz", nil)
}
