package midtrans

import (
	"bytes"
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
	"strings"
	"time"

	"github.com/paylinkgo/paylink/provider"
)

// Environment is one of Midtrans's two environments; each has its own
// server key.
type Environment string

// The environments.
const (
	Sandbox    Environment = "sandbox"
	Production Environment = "production"
)

// The hosts of the environments. Snap lives on the "app" host, the Core
// API (status, cancel, expire) on the "api" host.
const (
	SandboxSnapURL    = "https://app.sandbox.midtrans.com"
	SandboxCoreURL    = "https://api.sandbox.midtrans.com"
	ProductionSnapURL = "https://app.midtrans.com"
	ProductionCoreURL = "https://api.midtrans.com"
)

// Defaults of [Options].
const (
	DefaultTimeout      = 30 * time.Second
	DefaultMaxRetries   = 3
	DefaultRetryBackoff = 200 * time.Millisecond
	DefaultUserAgent    = "paylink-midtrans"
	// DefaultReadTimeout bounds a status read, retries included: Midtrans
	// waits 15 s for the answer to a notification, and paylink reads the
	// status before it answers.
	DefaultReadTimeout = 12 * time.Second
)

const (
	maxErrorBody   = 64 << 10
	maxSuccessBody = 1 << 20
	maxBackoff     = 10 * time.Second
)

// Options configures a [Client]. The zero value is a sandbox client.
type Options struct {
	// Environment selects the hosts; default Sandbox.
	Environment Environment
	// BaseURL, when set, replaces both hosts (a midtranstest server's URL
	// serves Snap and the Core API alike).
	BaseURL string
	// SnapURL and CoreURL replace one host each; they win over BaseURL.
	SnapURL, CoreURL string
	// HTTPClient sends the requests; default a new client with a 30 s
	// timeout (never http.DefaultClient). Redirects are followed only
	// within the origin of each request, so the key never leaves it.
	HTTPClient *http.Client
	// Logger receives one record per request (method, path, status,
	// duration, attempt), never a header or a body. Default: discard.
	Logger *slog.Logger
	// MaxRetries is how often a read (GET status) is retried on network
	// errors, 429 and 5xx. Zero means DefaultMaxRetries, negative never.
	// Writes (create, cancel, expire) are never retried.
	MaxRetries int
	// RetryBackoff is the base of the exponential backoff with jitter;
	// zero means DefaultRetryBackoff.
	RetryBackoff time.Duration
	// UserAgent is sent as User-Agent; default DefaultUserAgent.
	UserAgent string
	// ReadTimeout bounds a status read, all tries and backoffs included
	// (the context's deadline, when earlier, wins); default
	// DefaultReadTimeout, within Midtrans's 15 s notification timeout.
	// Each try that may be retried gets at most half of what is left, so
	// a stalled try leaves time for another.
	ReadTimeout time.Duration
}

// Client calls Midtrans's Snap and Core APIs. It is safe for concurrent
// use. Create one with [NewClient].
type Client struct {
	env        Environment
	snapURL    string
	coreURL    string
	key        string
	auth       string
	http       *http.Client
	log        *slog.Logger
	maxRetries int
	backoff    time.Duration
	userAgent  string
	readTO     time.Duration
}

// NewClient returns a client authenticating with serverKey (HTTP Basic,
// the key as user name and an empty password). It fails when the key is
// blank, the environment unknown or a URL not absolute http(s).
func NewClient(serverKey string, opts Options) (*Client, error) {
	const op = "midtrans.NewClient"
	if strings.TrimSpace(serverKey) == "" {
		return nil, &provider.Error{Code: provider.CodeInvalidArgument, Op: op, Message: "server key is empty"}
	}
	c := &Client{
		env:        opts.Environment,
		key:        serverKey,
		auth:       "Basic " + base64.StdEncoding.EncodeToString([]byte(serverKey+":")),
		http:       opts.HTTPClient,
		log:        opts.Logger,
		maxRetries: opts.MaxRetries,
		backoff:    opts.RetryBackoff,
		userAgent:  opts.UserAgent,
		readTO:     opts.ReadTimeout,
	}
	switch c.env {
	case "", Sandbox:
		c.env, c.snapURL, c.coreURL = Sandbox, SandboxSnapURL, SandboxCoreURL
	case Production:
		c.snapURL, c.coreURL = ProductionSnapURL, ProductionCoreURL
	default:
		return nil, &provider.Error{Code: provider.CodeInvalidArgument, Op: op,
			Message: fmt.Sprintf("unknown environment %q (want %q or %q)", c.env, Sandbox, Production)}
	}
	for _, u := range []struct {
		in  string
		out *[]*string
	}{{opts.BaseURL, &[]*string{&c.snapURL, &c.coreURL}}, {opts.SnapURL, &[]*string{&c.snapURL}}, {opts.CoreURL, &[]*string{&c.coreURL}}} {
		if u.in == "" {
			continue
		}
		p, err := url.Parse(u.in)
		if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" || p.User != nil {
			return nil, &provider.Error{Code: provider.CodeInvalidArgument, Op: op,
				Message: "base URLs must be absolute http(s) URLs without credentials"}
		}
		for _, dst := range *u.out {
			*dst = strings.TrimRight(u.in, "/")
		}
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
	if c.readTO <= 0 {
		c.readTO = DefaultReadTimeout
	}
	return c, nil
}

// Environment returns the client's environment.
func (c *Client) Environment() Environment { return c.env }

// String describes the client without its server key.
func (c *Client) String() string {
	return fmt.Sprintf("midtrans.Client{env: %s, snap: %s, core: %s}", c.env, c.snapURL, c.coreURL)
}

// GoString is String, so %#v never prints the key.
func (c *Client) GoString() string { return c.String() }

// LogValue is String, so logging a client never logs the key.
func (c *Client) LogValue() slog.Value { return slog.StringValue(c.String()) }

// request is one API call.
type request struct {
	op     string
	method string
	base   string // c.snapURL or c.coreURL
	path   string
	body   any // nil: no body
	header http.Header
	// core marks a Core API call, whose 2xx body may still carry an error
	// status_code.
	core bool
}

// do sends req and decodes a successful JSON body into out.
func (c *Client) do(ctx context.Context, req request, out any) ([]byte, error) {
	var body []byte
	if req.body != nil {
		var err error
		if body, err = json.Marshal(req.body); err != nil {
			return nil, &provider.Error{Code: provider.CodeInternal, Op: req.op, Message: "encoding the request", Err: err}
		}
	}
	retryable := req.method == http.MethodGet
	if retryable {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.readTO)
		defer cancel()
	}
	for attempt := 1; ; attempt++ {
		tryCtx, cancelTry := ctx, context.CancelFunc(func() {})
		if dl, ok := ctx.Deadline(); ok && retryable && attempt <= c.maxRetries {
			tryCtx, cancelTry = context.WithTimeout(ctx, time.Until(dl)/2)
		}
		data, err := c.once(tryCtx, req, body, attempt)
		if err != nil && ctx.Err() == nil && tryCtx.Err() != nil {
			// This try ran out of its share; the next may answer.
			err = &provider.Error{Code: provider.CodeUnavailable, Op: req.op, Message: "Midtrans did not answer in time; trying again", Err: err}
		}
		cancelTry()
		if err == nil {
			if out != nil {
				if err := json.Unmarshal(data, out); err != nil {
					return data, &provider.Error{Code: provider.CodeInternal, Op: req.op,
						Message: "decoding Midtrans's response", Err: err}
				}
			}
			return data, nil
		}
		if !retryable || attempt > c.maxRetries || !isTransient(err) {
			return nil, err
		}
		wait := c.backoffFor(attempt)
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) <= wait {
			return nil, err // no time left for another try
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, c.contextError(ctx, req.op, err)
		case <-t.C:
		}
	}
}

// once sends one attempt.
func (c *Client) once(ctx context.Context, req request, body []byte, attempt int) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, c.contextError(ctx, req.op, nil)
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	hreq, err := http.NewRequestWithContext(ctx, req.method, req.base+req.path, rd)
	if err != nil {
		return nil, &provider.Error{Code: provider.CodeInternal, Op: req.op, Message: "building the request", Err: c.redactErr(err)}
	}
	for k, v := range req.header {
		hreq.Header[k] = v
	}
	hreq.Header.Set("Accept", "application/json")
	hreq.Header.Set("Content-Type", "application/json")
	hreq.Header.Set("Authorization", c.auth)
	hreq.Header.Set("User-Agent", c.userAgent)

	start := time.Now()
	resp, err := c.http.Do(hreq)
	attrs := []slog.Attr{slog.String("method", req.method), slog.String("path", req.path), slog.Int("attempt", attempt)}
	if err != nil {
		c.log.LogAttrs(ctx, slog.LevelWarn, "midtrans request failed",
			append(attrs, slog.Duration("duration", time.Since(start)), slog.String("error", c.redact(err.Error())))...)
		if ctx.Err() != nil {
			return nil, c.contextError(ctx, req.op, err)
		}
		return nil, &provider.Error{Code: provider.CodeUnavailable, Op: req.op, Message: "calling Midtrans", Err: c.redactErr(err)}
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
	c.log.LogAttrs(ctx, level, "midtrans request", attrs...)
	if readErr != nil {
		if ctx.Err() != nil {
			return nil, c.contextError(ctx, req.op, readErr)
		}
		return nil, &provider.Error{Code: provider.CodeUnavailable, Op: req.op, Message: "reading Midtrans's response", Err: c.redactErr(readErr)}
	}
	if int64(len(data)) > limit {
		if ok {
			return nil, &provider.Error{Code: provider.CodeInternal, Op: req.op,
				Message: fmt.Sprintf("Midtrans's response is larger than %d bytes", limit)}
		}
		data = data[:limit]
	}
	if !ok {
		e := parseAPIError(req.op, resp.StatusCode, data)
		if e.foreign && resp.StatusCode == http.StatusNotFound {
			// Only Midtrans's JSON "404" means an unknown transaction; an
			// HTML 404 is a wrong base URL (or a proxy), not an answer.
			e.StatusMessage = fmt.Sprintf("HTTP 404 without Midtrans's JSON body from %s%s: not Midtrans's \"transaction not found\"; check the base URL", req.base, req.path)
		}
		c.scrub(e)
		return nil, e
	}
	if req.core {
		if e := bodyError(req.op, resp.StatusCode, data); e != nil {
			c.scrub(e)
			return nil, e
		}
	}
	return data, nil
}

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

// isTransient reports whether err is worth retrying: a network failure,
// 429 or 5xx.
func isTransient(err error) bool {
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		return apiErr.transient()
	}
	return provider.CodeOf(err) == provider.CodeUnavailable
}

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

// redact removes the server key, plain and Base64-encoded, from s.
func (c *Client) redact(s string) string {
	s = strings.ReplaceAll(s, c.key, "[REDACTED]")
	return strings.ReplaceAll(s, strings.TrimPrefix(c.auth, "Basic "), "[REDACTED]")
}

func (c *Client) redactErr(err error) error {
	return &redactedError{text: c.redact(err.Error()), err: err}
}

// scrub redacts the key from every text of e (a server could echo it).
func (c *Client) scrub(e *APIError) {
	e.StatusCode, e.StatusMessage = c.redact(e.StatusCode), c.redact(e.StatusMessage)
	for i := range e.Messages {
		e.Messages[i] = c.redact(e.Messages[i])
	}
}

// sameOriginRedirects returns a copy of hc that follows redirects only to
// the origin of the first request, so the Authorization header stays there.
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

// pathID escapes an order id, transaction id or token as one path segment.
func pathID(op, name, id string) (string, error) {
	if strings.TrimSpace(id) == "" || id == "." || id == ".." {
		return "", &provider.Error{Code: provider.CodeInvalidArgument, Op: op, Message: name + " is invalid",
			Fields: []provider.FieldError{{Field: name, Rule: "required", Message: "must be a non-empty id"}}}
	}
	return url.PathEscape(id), nil
}
