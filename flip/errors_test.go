package flip_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/paylinkgo/paylink/flip"
	"github.com/paylinkgo/paylink/provider"
)

// requireOneCode checks that CodeOf reports want and that errors.Is
// matches want and no other code.
func requireOneCode(t *testing.T, err error, want provider.ErrorCode) {
	t.Helper()
	if got := provider.CodeOf(err); got != want {
		t.Errorf("CodeOf = %v, want %v", got, want)
	}
	for c := provider.CodeUnknown; !strings.HasPrefix(c.String(), "ErrorCode("); c++ {
		if got := errors.Is(err, c); got != (c == want) {
			t.Errorf("errors.Is(err, %v) = %v, want %v", c, got, c == want)
		}
	}
}

// requireOnce checks that err's text holds s exactly once and no secret.
func requireOnce(t *testing.T, err error, s string) {
	t.Helper()
	msg := err.Error()
	if n := strings.Count(msg, s); n != 1 {
		t.Errorf("Error() holds %q %d times, want once: %q", s, n, msg)
	}
	if strings.Contains(msg, seedKey) || strings.Contains(msg, strings.TrimPrefix(seedAuth, "Basic ")) {
		t.Errorf("Error() holds the secret key: %q", msg)
	}
}

// Each answer of Flip's is an *APIError with exactly one code.
func TestAPIErrorHasOneCode(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		status int
		body   string
		code   provider.ErrorCode
		// says is Flip's explanation, which the message holds once.
		says string
	}{
		{"401 wrong key", 401, `{"name":"Unauthorized","message":"You are requesting with an invalid credential.","status":401}`,
			provider.CodeUnauthenticated, "You are requesting with an invalid credential."},
		{"401 IP not allow-listed", 401, `{"name":"Unauthorized","message":"IP is not Whitelisted","status":401}`,
			provider.CodePermissionDenied, "IP is not Whitelisted"},
		{"403", 403, `{"name":"Forbidden","message":"no access","status":403}`, provider.CodePermissionDenied, "no access"},
		{"404", 404, `{"name":"Not Found","message":"Page not found.","status":404}`, provider.CodeNotFound, "Page not found."},
		{"422 validation", 422, `{"code":"VALIDATION_ERROR","errors":[{"attribute":"amount","code":1058,"message":"Minimum amount is Rp10.000"}]}`,
			provider.CodeInvalidArgument, "Minimum amount is Rp10.000"},
		{"422 bill not found", 422, `{"code":"VALIDATION_ERROR","errors":[{"attribute":"bill_link_id","code":1050,"message":"Bill link ID is not Found"}]}`,
			provider.CodeNotFound, "Bill link ID is not Found"},
		{"422 link expired", 422, `{"code":"VALIDATION_ERROR","errors":[{"attribute":"expired_date","code":1048,"message":"Bill link has already expired"}]}`,
			provider.CodeFailedPrecondition, "Bill link has already expired"},
		{"422 link used", 422, `{"code":"VALIDATION_ERROR","errors":[{"attribute":"bill_link_id","code":1049,"message":"Bill link has already used"}]}`,
			provider.CodeConflict, "Bill link has already used"},
		{"429", 429, `{"message":"Too many requests"}`, provider.CodeUnavailable, "Too many requests"},
		{"500", 500, `{"name":"Internal Server Error","message":"An internal server error occurred.","status":500}`,
			provider.CodeUnavailable, "An internal server error occurred."},
		{"502 from a gateway's HTML page", 502, `<html><body>Bad Gateway</body></html>`, provider.CodeUnavailable, "Bad Gateway"},
		{"maintenance", 503, `{"name":"SERVICE_UNAVAILABLE","message":"Service or server is under maintenance","status":503}`,
			provider.CodeUnavailable, "Service or server is under maintenance"},
		{"a status Flip does not use", 418, `{"message":"short and stout"}`, provider.CodeUnknown, "short and stout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, _ := setup(t, flip.Options{MaxRetries: -1}, answer(tt.status, tt.body))
			_, err := c.GetBill(t.Context(), "4706")
			requireOneCode(t, err, tt.code)
			var apiErr *flip.APIError
			if !errors.As(err, &apiErr) || apiErr.StatusCode != tt.status {
				t.Fatalf("errors.As(*flip.APIError) = %v; want the %d answer", apiErr, tt.status)
			}
			requireOnce(t, err, tt.says)

			// Wrapped as the portable layer wraps it, the outer code wins
			// and the APIError stays in the chain and in the message.
			for _, wrap := range []struct {
				err  error
				code provider.ErrorCode
			}{
				{&provider.Error{Code: provider.CodeUnavailable, Op: "provider.ApplyEvent", Message: "could not confirm the payment", Err: err}, provider.CodeUnavailable},
				{&provider.Error{Code: provider.CodeInternal, Op: "ginadapter.createLink", Message: "the payment provider refused this server's credentials", Err: err}, provider.CodeInternal},
				{&provider.Error{Op: "provider.GetLink", Message: "reading the link", Err: err}, tt.code}, // no code of its own
				{fmt.Errorf("order 7: %w", err), tt.code},
			} {
				requireOneCode(t, wrap.err, wrap.code)
				if !errors.As(wrap.err, &apiErr) {
					t.Errorf("errors.As does not reach the *flip.APIError through %q", wrap.err)
				}
				requireOnce(t, wrap.err, err.Error())
			}
		})
	}
}

func TestCallbackErrorsHaveOneCode(t *testing.T) {
	t.Parallel()
	p := flip.NewProvider(seededClient(t, flip.Options{}), flip.ProviderOptions{})
	notConfigured := p.CheckCallbackConfig()
	tests := []struct {
		name     string
		err      error
		code     provider.ErrorCode
		sentinel error
	}{
		{"token not configured", flip.ErrTokenNotConfigured, provider.CodeUnauthenticated, flip.ErrTokenNotConfigured},
		{"token missing", flip.ErrMissingToken, provider.CodeUnauthenticated, flip.ErrMissingToken},
		{"token invalid", flip.ErrInvalidToken, provider.CodeUnauthenticated, flip.ErrInvalidToken},
		{"malformed, with details", fmt.Errorf("%w: no data field", flip.ErrMalformedCallback), provider.CodeInvalidArgument, flip.ErrMalformedCallback},
		{"too large", flip.ErrCallbackTooLarge, provider.CodeTooLarge, flip.ErrCallbackTooLarge},
		{"CheckCallbackConfig", notConfigured, provider.CodeUnauthenticated, flip.ErrTokenNotConfigured},
		// ginadapter refuses to mount a route without a token this way: the
		// route is not unauthenticated, the server is misconfigured.
		{"a missing token refused at mount time", &provider.Error{Code: provider.CodeFailedPrecondition, Op: "ginadapter.Mount",
			Message: "verification is not configured", Err: notConfigured}, provider.CodeFailedPrecondition, flip.ErrTokenNotConfigured},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			requireOneCode(t, tt.err, tt.code)
			if !errors.Is(tt.err, tt.sentinel) {
				t.Errorf("errors.Is(err, %v) = false", tt.sentinel)
			}
			requireOnce(t, tt.err, tt.sentinel.Error())
		})
	}
}

// roundTripFunc is an http.RoundTripper.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// failingBody is a response body whose reads fail with err.
type failingBody struct{ err error }

func (b failingBody) Read([]byte) (int, error) { return 0, b.err }
func (b failingBody) Close() error             { return nil }

func seededClient(t *testing.T, opts flip.Options) *flip.Client {
	t.Helper()
	c, err := flip.NewClient(seedKey, opts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Failures below Flip's answers: the network, the context. A transport
// that echoes the Authorization header stands for a proxy or a logging
// layer that puts it in its error.
func TestTransportAndContextErrors(t *testing.T) {
	t.Parallel()
	var echoErr = errors.New("echoed")
	echo := func(r *http.Request) error {
		return fmt.Errorf("proxy refused %q: %w", r.Header.Get("Authorization"), echoErr)
	}
	via := func(rt roundTripFunc) flip.Options {
		return flip.Options{BaseURL: "http://flip.invalid", HTTPClient: &http.Client{Transport: rt}, MaxRetries: -1}
	}
	tests := []struct {
		name string
		opts flip.Options
		ctx  func() (context.Context, context.CancelFunc)
		code provider.ErrorCode
		// causes must be reachable with errors.Is.
		causes []error
		// once is text the message must hold exactly once.
		once string
		// urlErr: errors.As reaches net/http's *url.Error.
		urlErr bool
	}{
		{
			name:   "connection refused",
			opts:   flip.Options{BaseURL: "http://127.0.0.1:1", MaxRetries: -1},
			code:   provider.CodeUnavailable,
			causes: []error{syscall.ECONNREFUSED},
			once:   "connection refused",
			urlErr: true,
		},
		{
			name: "a transport error that holds the key is redacted, and still in the chain",
			opts: via(func(r *http.Request) (*http.Response, error) { return nil, echo(r) }),
			code: provider.CodeUnavailable, causes: []error{echoErr}, once: "[REDACTED]", urlErr: true,
		},
		{
			name: "a body that fails to read, with the key in its error",
			opts: via(func(r *http.Request) (*http.Response, error) {
				return &http.Response{StatusCode: 200, Header: http.Header{}, Body: failingBody{echo(r)}, Request: r}, nil
			}),
			code: provider.CodeUnavailable, causes: []error{echoErr}, once: "[REDACTED]",
		},
		{
			name: "canceled before the call",
			opts: flip.Options{BaseURL: "http://127.0.0.1:1", MaxRetries: -1},
			ctx: func() (context.Context, context.CancelFunc) {
				ctx, cancel := context.WithCancel(context.Background())
				cancel()
				return ctx, cancel
			},
			code: provider.CodeCanceled, causes: []error{context.Canceled}, once: "context canceled",
		},
		{
			name: "canceled during the call, by a transport that echoes the key",
			opts: via(func(r *http.Request) (*http.Response, error) {
				<-r.Context().Done()
				return nil, fmt.Errorf("%w: %w", echo(r), r.Context().Err())
			}),
			ctx: func() (context.Context, context.CancelFunc) {
				ctx, cancel := context.WithCancel(context.Background())
				time.AfterFunc(10*time.Millisecond, cancel)
				return ctx, cancel
			},
			code: provider.CodeCanceled, causes: []error{context.Canceled}, once: "[REDACTED]",
		},
		{
			name: "deadline passed",
			opts: via(func(r *http.Request) (*http.Response, error) {
				<-r.Context().Done()
				return nil, r.Context().Err()
			}),
			ctx: func() (context.Context, context.CancelFunc) {
				return context.WithTimeout(context.Background(), 10*time.Millisecond)
			},
			code: provider.CodeDeadlineExceeded, causes: []error{context.DeadlineExceeded}, once: "context deadline exceeded",
		},
		{
			name: "a 503 retried until the deadline: the deadline's code, the last answer in the message",
			opts: flip.Options{HTTPClient: &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
				return &http.Response{StatusCode: 503, Header: http.Header{}, Request: r,
					Body: io.NopCloser(strings.NewReader(`{"name":"SERVICE_UNAVAILABLE","message":"Service or server is under maintenance","status":503}`))}, nil
			})}, BaseURL: "http://flip.invalid", MaxRetries: 10, RetryBackoff: time.Hour},
			ctx: func() (context.Context, context.CancelFunc) {
				return context.WithTimeout(context.Background(), 50*time.Millisecond)
			},
			code: provider.CodeDeadlineExceeded, causes: []error{context.DeadlineExceeded}, once: "under maintenance",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithCancel(context.Background())
			if tt.ctx != nil {
				ctx, cancel = tt.ctx()
			}
			defer cancel()
			_, err := seededClient(t, tt.opts).GetBill(ctx, "4706")
			requireOneCode(t, err, tt.code)
			for _, cause := range tt.causes {
				if !errors.Is(err, cause) {
					t.Errorf("errors.Is(err, %v) = false: the cause left the chain (%v)", cause, err)
				}
			}
			var urlErr *url.Error
			if tt.urlErr && !errors.As(err, &urlErr) {
				t.Errorf("errors.As(*url.Error) = false: %v", err)
			}
			requireOnce(t, err, tt.once)
			if !strings.HasPrefix(err.Error(), "flip.GetBill: ") {
				t.Errorf("Error() = %q, want the op first", err)
			}
		})
	}
}
