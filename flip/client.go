package flip

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/go-playground/validator/v10"

	"github.com/paylinkgo/paylink/provider"
)

// Environment is one of Flip's two environments. Each has its own secret
// key and callback token.
type Environment string

// The environments.
const (
	Sandbox    Environment = "sandbox"
	Production Environment = "production"
)

// The API bases of the environments: the part of the URL before "/v2".
const (
	SandboxBaseURL    = "https://bigflip.id/big_sandbox_api"
	ProductionBaseURL = "https://bigflip.id/api"
)

// Defaults of [Options].
const (
	DefaultTimeout      = 30 * time.Second
	DefaultMaxRetries   = 3
	DefaultRetryBackoff = 200 * time.Millisecond
	DefaultUserAgent    = "paylink-flip"
)

// Body read limits. An error body is only a message; a success body may
// list every bill of an account (Get All Bills has no pagination).
const (
	maxErrorBody   = 64 << 10
	maxSuccessBody = 32 << 20
	maxBackoff     = 10 * time.Second
)

// Options configures a [Client]. The zero value is a sandbox client.
type Options struct {
	// Environment selects the API base and enables production-only calls.
	// The default is Sandbox.
	Environment Environment
	// BaseURL overrides the API base, the part before "/v2" (any
	// Flip-compatible server, e.g. a fliptest server's URL). A trailing
	// "/v2" is tolerated and removed.
	BaseURL string
	// HTTPClient sends the requests. The default is a new client with a
	// 30 s timeout (never http.DefaultClient). The client uses a copy of
	// it that follows redirects only within the origin of each request, so
	// that the Authorization header never leaves it.
	HTTPClient *http.Client
	// Logger receives one record per request (method, path, status,
	// duration, attempt). The default discards.
	Logger *slog.Logger
	// MaxRetries is how often a read (GET) is retried on network errors,
	// 429 and 5xx. Zero means DefaultMaxRetries; negative means never.
	// Writes are never retried.
	MaxRetries int
	// RetryBackoff is the base of the exponential backoff between retries
	// (with jitter, capped at 10 s or the base if larger). Zero means
	// DefaultRetryBackoff.
	RetryBackoff time.Duration
	// UserAgent is sent as the User-Agent header; default DefaultUserAgent.
	UserAgent string
}

// Client calls Flip's Accept Payment API (v2). It is safe for concurrent
// use. Create one with [NewClient].
type Client struct {
	env        Environment
	baseURL    string // without trailing slash
	auth       string // the Authorization header value
	secret     string
	http       *http.Client
	log        *slog.Logger
	maxRetries int
	backoff    time.Duration
	userAgent  string
	validate   *validator.Validate
}

// NewClient returns a client authenticating with secretKey. It fails when
// the key is empty, the environment unknown, or BaseURL not an absolute
// http(s) URL.
func NewClient(secretKey string, opts Options) (*Client, error) {
	const op = "flip.NewClient"
	if secretKey == "" {
		return nil, &provider.Error{Code: provider.CodeInvalidArgument, Op: op, Message: "secret key is empty"}
	}
	c := &Client{
		env:        opts.Environment,
		secret:     secretKey,
		auth:       "Basic " + base64.StdEncoding.EncodeToString([]byte(secretKey+":")),
		http:       opts.HTTPClient,
		log:        opts.Logger,
		maxRetries: opts.MaxRetries,
		backoff:    opts.RetryBackoff,
		userAgent:  opts.UserAgent,
		validate:   newValidator(),
	}
	switch c.env {
	case "":
		c.env = Sandbox
		c.baseURL = SandboxBaseURL
	case Sandbox:
		c.baseURL = SandboxBaseURL
	case Production:
		c.baseURL = ProductionBaseURL
	default:
		return nil, &provider.Error{Code: provider.CodeInvalidArgument, Op: op,
			Message: fmt.Sprintf("unknown environment %q (want %q or %q)", c.env, Sandbox, Production)}
	}
	if opts.BaseURL != "" {
		u, err := url.Parse(opts.BaseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
			return nil, &provider.Error{Code: provider.CodeInvalidArgument, Op: op,
				Message: "base URL must be an absolute http(s) URL without credentials"}
		}
		base := strings.TrimRight(opts.BaseURL, "/")
		c.baseURL = strings.TrimSuffix(base, "/v2")
	}
	if c.http == nil {
		c.http = &http.Client{Timeout: DefaultTimeout}
	}
	c.http = sameOriginRedirects(c.http)
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	switch {
	case c.maxRetries == 0:
		c.maxRetries = DefaultMaxRetries
	case c.maxRetries < 0:
		c.maxRetries = 0
	}
	if c.backoff <= 0 {
		c.backoff = DefaultRetryBackoff
	}
	if c.userAgent == "" {
		c.userAgent = DefaultUserAgent
	}
	return c, nil
}

// Environment returns the client's environment.
func (c *Client) Environment() Environment { return c.env }

// BaseURL returns the API base the client calls (the part before "/v2").
func (c *Client) BaseURL() string { return c.baseURL }

// String describes the client without its secret key.
func (c *Client) String() string {
	return fmt.Sprintf("flip.Client{env: %s, base: %s}", c.env, c.baseURL)
}

// GoString is String, so that %#v never prints the secret key either.
func (c *Client) GoString() string { return c.String() }

// LogValue is String, so that logging a client never logs the secret key.
func (c *Client) LogValue() slog.Value { return slog.StringValue(c.String()) }

// request is one API call.
type request struct {
	op     string // "flip.GetBill", for errors
	method string
	path   string // after /v2, e.g. "/pwf/bill"
	query  url.Values
	form   url.Values // nil: no body
}

// retryable reports whether the request may be repeated safely.
func (r *request) retryable() bool { return r.method == http.MethodGet }

// do sends req and decodes a 2xx JSON body into out (when out is not nil).
// It returns the success body as read.
func (c *Client) do(ctx context.Context, req request, out any) ([]byte, error) {
	u := c.baseURL + "/v2" + req.path
	if len(req.query) > 0 {
		u += "?" + req.query.Encode()
	}
	var body string
	if req.form != nil {
		body = req.form.Encode()
	}
	for attempt := 1; ; attempt++ {
		data, retryAfter, err := c.once(ctx, req, u, body, attempt)
		if err == nil {
			if out != nil {
				if err := json.Unmarshal(data, out); err != nil {
					return data, &provider.Error{Code: provider.CodeInternal, Op: req.op,
						Message: "decoding Flip's response: " + err.Error(), Err: err}
				}
			}
			return data, nil
		}
		if !req.retryable() || attempt > c.maxRetries || !isTransient(err) {
			return nil, err
		}
		if ctx.Err() != nil {
			return nil, c.contextError(ctx, req.op, err)
		}
		wait := max(c.backoffFor(attempt), retryAfter)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, c.contextError(ctx, req.op, err)
		case <-t.C:
		}
	}
}

// once sends one attempt. On failure it returns the error and how long the
// server asked us to wait (Retry-After), if it did.
func (c *Client) once(ctx context.Context, req request, u, body string, attempt int) ([]byte, time.Duration, error) {
	var rd io.Reader
	if req.form != nil {
		rd = strings.NewReader(body)
	}
	hreq, err := http.NewRequestWithContext(ctx, req.method, u, rd)
	if err != nil {
		return nil, 0, &provider.Error{Code: provider.CodeInternal, Op: req.op, Message: "building request", Err: err}
	}
	hreq.Header.Set("Accept", "application/json")
	hreq.Header.Set("Authorization", c.auth)
	hreq.Header.Set("User-Agent", c.userAgent)
	// Flip lists the content type as required on GET requests too, and
	// has validated request formats since December 2025: always send it.
	hreq.Header.Set("Content-Type", "application/x-www-form-urlencoded")

	start := time.Now()
	resp, err := c.http.Do(hreq)
	attrs := []slog.Attr{
		slog.String("method", req.method),
		slog.String("path", "/v2"+req.path),
		slog.Int("attempt", attempt),
	}
	if err != nil {
		c.log.LogAttrs(ctx, slog.LevelWarn, "flip request failed",
			append(attrs, slog.Duration("duration", time.Since(start)), slog.String("error", c.redact(err.Error())))...)
		if ctx.Err() != nil {
			return nil, 0, c.contextError(ctx, req.op, err)
		}
		return nil, 0, &provider.Error{Code: provider.CodeUnavailable, Op: req.op,
			Message: "calling Flip", Err: c.redactErr(err)}
	}
	defer resp.Body.Close()

	ok := resp.StatusCode >= 200 && resp.StatusCode < 300
	limit := int64(maxErrorBody)
	if ok {
		limit = maxSuccessBody
	}
	data, readErr := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	attrs = append(attrs, slog.Int("status", resp.StatusCode), slog.Duration("duration", time.Since(start)))
	level := slog.LevelDebug
	if !ok {
		level = slog.LevelWarn
	}
	c.log.LogAttrs(ctx, level, "flip request", attrs...)

	if readErr != nil {
		if ctx.Err() != nil {
			return nil, 0, c.contextError(ctx, req.op, readErr)
		}
		return nil, 0, &provider.Error{Code: provider.CodeUnavailable, Op: req.op,
			Message: "reading Flip's response", Err: c.redactErr(readErr)}
	}
	if ok {
		if int64(len(data)) > limit {
			return nil, 0, &provider.Error{Code: provider.CodeInternal, Op: req.op,
				Message: fmt.Sprintf("Flip's response is larger than %d bytes", limit)}
		}
		return data, 0, nil
	}
	if int64(len(data)) > limit {
		data = data[:limit]
	}
	apiErr := parseAPIError(resp.StatusCode, data)
	apiErr.Op = req.op
	c.scrub(apiErr)
	return nil, retryAfter(resp.Header.Get("Retry-After")), apiErr
}

// backoffFor returns the wait before retry number attempt (1-based):
// base·2^(attempt-1), capped, with jitter in [d/2, d].
func (c *Client) backoffFor(attempt int) time.Duration {
	limit := max(maxBackoff, c.backoff)
	d := c.backoff
	for i := 1; i < attempt && d < limit; i++ {
		d *= 2
	}
	d = min(d, limit)
	half := d / 2
	return half + rand.N(half+1)
}

// retryAfter reads a Retry-After header given in seconds, capped.
func retryAfter(v string) time.Duration {
	secs, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || secs <= 0 {
		return 0
	}
	return min(time.Duration(secs)*time.Second, maxBackoff)
}

// isTransient reports whether err is worth retrying: a network failure,
// 429 or 5xx.
func isTransient(err error) bool {
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		return apiErr.StatusCode == http.StatusTooManyRequests || apiErr.StatusCode >= 500
	}
	return provider.CodeOf(err) == provider.CodeUnavailable
}

// contextError reports that ctx ended while op was running; the context's
// error is the cause, and cause (what the last attempt saw) is named in
// the message, redacted.
func (c *Client) contextError(ctx context.Context, op string, cause error) error {
	code := provider.CodeCanceled
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		code = provider.CodeDeadlineExceeded
	}
	msg := "context ended"
	if cause != nil {
		msg = "context ended after: " + c.redact(cause.Error())
	}
	return &provider.Error{Code: code, Op: op, Message: msg, Err: ctx.Err()}
}

// redact removes the secret key, in plain and encoded form, from s.
func (c *Client) redact(s string) string {
	if c.secret == "" {
		return s
	}
	s = strings.ReplaceAll(s, c.secret, "[REDACTED]")
	return strings.ReplaceAll(s, strings.TrimPrefix(c.auth, "Basic "), "[REDACTED]")
}

// redactErr returns err with its text redacted and err itself kept in the
// chain, for use as the cause of an error whose message shows it.
func (c *Client) redactErr(err error) error {
	return &redactedError{text: c.redact(err.Error()), err: err}
}

// scrub redacts the secret from every text field of e (a server could
// echo it back).
func (c *Client) scrub(e *APIError) {
	e.Code, e.Name, e.Message = c.redact(e.Code), c.redact(e.Name), c.redact(e.Message)
	for i := range e.Errors {
		e.Errors[i].Attribute = c.redact(e.Errors[i].Attribute)
		e.Errors[i].Message = c.redact(e.Errors[i].Message)
	}
}

// sameOriginRedirects returns a copy of hc that follows a redirect only
// to the scheme, host and port of the original request; any other
// redirect is answered as it came (a 3xx *APIError). net/http drops the
// Authorization header only when the host name changes: it would carry the
// secret key to another port of the same host, or from https down to http.
// hc's own CheckRedirect, if any, still applies to the redirects followed.
func sameOriginRedirects(hc *http.Client) *http.Client {
	cp := *hc
	next := hc.CheckRedirect
	cp.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		first := via[0].URL
		if req.URL.Scheme != first.Scheme || !strings.EqualFold(req.URL.Host, first.Host) {
			return http.ErrUseLastResponse
		}
		if next != nil {
			return next(req, via)
		}
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		return nil
	}
	return &cp
}

// pathID escapes a caller-supplied id for use as one path segment. "."
// and ".." are refused: escaping keeps them, and they would move the
// request to another endpoint.
func pathID(op, name, id string) (string, error) {
	if strings.TrimSpace(id) == "" {
		return "", &provider.Error{Code: provider.CodeInvalidArgument, Op: op, Message: name + " is empty",
			Fields: []provider.FieldError{{Field: name, Rule: "required", Message: "is required"}}}
	}
	if id == "." || id == ".." {
		return "", &provider.Error{Code: provider.CodeInvalidArgument, Op: op, Message: name + " is invalid",
			Fields: []provider.FieldError{{Field: name, Rule: "path_segment", Message: "must not be . or .."}}}
	}
	return url.PathEscape(id), nil
}
