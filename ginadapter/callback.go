package ginadapter

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/netip"
	"net/url"
	"runtime/debug"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/paylinkgo/paylink/provider"
)

// ctxKey is the type of the keys under which the callback route stores
// request-scoped values in the gin.Context.
type ctxKey int

const (
	eventKey ctxKey = iota
	outcomeKey
)

// EventFrom returns the verified event of a callback request, for handlers
// that run after the callback handler. It reports false outside the
// callback route, or when the callback was refused.
func EventFrom(c *gin.Context) (*provider.Event, bool) {
	v, _ := c.Get(eventKey)
	ev, ok := v.(*provider.Event)
	return ev, ok && ev != nil
}

// OutcomeFrom returns what the Service did with the callback's event
// (the verdict, the payment as stored), for handlers that run after the
// callback handler. It reports false outside the callback route, or when
// the callback was refused.
func OutcomeFrom(c *gin.Context) (provider.Outcome, bool) {
	v, _ := c.Get(outcomeKey)
	out, ok := v.(provider.Outcome)
	return out, ok
}

// CallbackAnswer is the JSON body of the callback route's answers.
type CallbackAnswer struct {
	OK bool `json:"ok"`
	// Verdict is what was decided about an accepted callback ("applied",
	// "duplicate", "stale", or a flagged verdict such as "amount_mismatch").
	Verdict provider.Verdict `json:"verdict,omitempty"`
	// Error names the refusal ("unauthenticated", "too large"), without detail.
	Error string `json:"error,omitempty"`
}

// CallbackHandler returns the callback handler that [Mount] mounts, for
// apps that mount it themselves (with their own middleware around it):
//
//	h, err := ginadapter.CallbackHandler(svc, cfg)
//	if err != nil {
//		return err // e.g. no callback token configured
//	}
//	r.POST("/payments/flip", h, auditCallback)
//
// It uses cfg's Provider, MaxBodyBytes, AllowedNetworks and Logger; the
// route fields and CallbackHandlers are Mount's business. The handler
// verifies and applies the callback, stores the event for [EventFrom] and
// [OutcomeFrom], calls the handlers after it (c.Next), and then answers
// 200 {"ok":true,"verdict":"..."} unless one of them wrote a response.
// Refused callbacks are answered and aborted: later handlers do not run.
//
// Like Mount, it refuses (an error matching provider.CodeFailedPrecondition)
// when the provider implements [provider.CallbackChecker] and reports that
// callback verification is not configured.
func CallbackHandler(svc *provider.Service, cfg Config) (gin.HandlerFunc, error) {
	h, err := newCallbackHandler(svc, cfg)
	if err != nil {
		return nil, err
	}
	return h.serve, nil
}

// callbackHandler serves a provider's callbacks.
type callbackHandler struct {
	svc       *provider.Service
	p         provider.Provider
	mediaType string // "" accepts any
	maxBytes  int64
	allowed   []netip.Prefix
	log       *slog.Logger
}

func newCallbackHandler(svc *provider.Service, cfg Config) (*callbackHandler, error) {
	const op = "ginadapter.CallbackHandler"
	if svc == nil {
		return nil, provider.Errorf(provider.CodeInvalidArgument, op, "service is nil")
	}
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	p, err := provider.Named(svc.Providers(), cfg.Provider)
	if err != nil {
		return nil, err
	}
	if chk, ok := p.(provider.CallbackChecker); ok {
		if err := chk.CheckCallbackConfig(); err != nil {
			return nil, &provider.Error{
				Code:    provider.CodeFailedPrecondition,
				Op:      op,
				Message: fmt.Sprintf("refusing to mount the %s callback route, verification is not configured: %v", p.Name(), err),
				Err:     err,
			}
		}
	}
	h := &callbackHandler{
		svc:      svc,
		p:        p,
		maxBytes: cfg.MaxBodyBytes,
		allowed:  cfg.AllowedNetworks,
		log:      loggerOrDiscard(cfg.Logger),
	}
	if mt, ok := p.(provider.CallbackMediaTyper); ok {
		h.mediaType = mt.CallbackMediaType()
	}
	return h, nil
}

// serve is the gin handler of the callback route. Every callback is
// observed once (see [provider.Service.ObserveCallback]): refused with its
// reason, or with the Service's verdict. A panic anywhere after it (the
// provider's parser, the Service, a CallbackHandler) is answered 503, so
// the provider delivers the callback again, and logged with its stack.
func (h *callbackHandler) serve(c *gin.Context) {
	ctx, observe := h.svc.ObserveCallback(c.Request.Context(), h.p.Name())
	if ctx != c.Request.Context() {
		c.Request = c.Request.WithContext(ctx) // later handlers see the callback's span
	}
	observed := false
	observeOnce := func(out provider.Outcome, err error) {
		if !observed {
			observed = true
			observe(out, err)
		}
	}
	defer func() {
		v := recover()
		if v == nil {
			return
		}
		if v == http.ErrAbortHandler {
			panic(v)
		}
		err := &provider.Error{Code: provider.CodeInternal, Op: "ginadapter.CallbackHandler", Message: fmt.Sprintf("panic: %v", v)}
		observeOnce(provider.Outcome{}, err)
		h.log.ErrorContext(ctx, "paylink: callback handler panicked; the provider will retry",
			"provider", h.p.Name(), "client_ip", c.ClientIP(), "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
		if c.Writer.Written() {
			c.Abort() // the answer is out; nothing more can be said
			return
		}
		c.AbortWithStatusJSON(http.StatusServiceUnavailable, CallbackAnswer{OK: false, Error: "unavailable"})
	}()
	refuse := func(status int, err error) {
		observeOnce(provider.Outcome{}, err)
		h.refuse(c, status, err)
	}
	if len(h.allowed) > 0 && !h.allowedClient(c.ClientIP()) {
		refuse(http.StatusForbidden, provider.Errorf(provider.CodePermissionDenied, "ginadapter", "client address not in AllowedNetworks"))
		return
	}
	if h.mediaType != "" {
		mt, _, err := mime.ParseMediaType(c.GetHeader("Content-Type"))
		if err != nil || !strings.EqualFold(mt, h.mediaType) {
			refuse(http.StatusUnsupportedMediaType, provider.Errorf(provider.CodeInvalidArgument, "ginadapter", "content type %.60q, want %s", c.GetHeader("Content-Type"), h.mediaType))
			return
		}
	}
	raw, err := readBody(c, h.maxBytes)
	if err != nil {
		refuse(callbackStatus(err), err)
		return
	}
	ev, err := h.p.ParseCallback(ctx, c.Request)
	if err == nil && ev.Raw != nil {
		// Later handlers get the body as the provider keeps it, its
		// secret (Flip's token, Midtrans's signature_key) removed.
		raw = ev.Raw
		c.Request.PostForm, c.Request.Form = nil, nil
	}
	restoreBody(c.Request, raw)
	if err != nil {
		refuse(callbackStatus(err), err)
		return
	}
	out, err := h.svc.ApplyEvent(ctx, ev)
	observeOnce(out, err)
	if err != nil {
		h.refuse(c, callbackStatus(err), err)
		return
	}
	c.Set(eventKey, ev)
	c.Set(outcomeKey, out)
	c.Next()
	if !c.Writer.Written() {
		c.JSON(http.StatusOK, CallbackAnswer{OK: true, Verdict: out.Verdict})
	}
}

// refuse answers a callback that was not accepted, and logs why. The
// answer names only the category ("unauthenticated", "unavailable"); the
// log has the error (which never holds the token) but never the body.
func (h *callbackHandler) refuse(c *gin.Context, status int, err error) {
	attrs := []any{"provider", h.p.Name(), "status", status, "client_ip", c.ClientIP(), "err", err}
	reason := provider.CodeOf(err).String()
	switch {
	case status == http.StatusUnsupportedMediaType:
		reason = "unsupported media type"
	case status == http.StatusServiceUnavailable:
		reason = "unavailable"
	}
	switch code := provider.CodeOf(err); {
	case status == http.StatusServiceUnavailable && (code == provider.CodeUnavailable || code == provider.CodeDeadlineExceeded || code == provider.CodeCanceled):
		h.log.WarnContext(c.Request.Context(), "paylink: callback not applied now; the provider will retry", attrs...)
	case status == http.StatusServiceUnavailable:
		h.log.ErrorContext(c.Request.Context(), "paylink: callback failed; the provider will retry", attrs...)
	default:
		h.log.WarnContext(c.Request.Context(), "paylink: callback refused", attrs...)
	}
	c.AbortWithStatusJSON(status, CallbackAnswer{OK: false, Error: reason})
}

// allowedClient reports whether ip is in one of the allowed networks.
func (h *callbackHandler) allowedClient(ip string) bool {
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return false
	}
	addr = addr.Unmap()
	for _, p := range h.allowed {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// readBody reads the request body once, capped at maxBytes, and puts it
// back so that it can be read again. A body over the cap is an error
// matching provider.CodeTooLarge.
func readBody(c *gin.Context, maxBytes int64) ([]byte, error) {
	const op = "ginadapter.readBody"
	r := c.Request
	if r.ContentLength > maxBytes {
		return nil, provider.Errorf(provider.CodeTooLarge, op, "body of %d bytes is over the %d byte limit", r.ContentLength, maxBytes)
	}
	var raw []byte
	if r.Body != nil {
		var err error
		raw, err = io.ReadAll(http.MaxBytesReader(c.Writer, r.Body, maxBytes))
		r.Body.Close()
		var tooLarge *http.MaxBytesError
		switch {
		case errors.As(err, &tooLarge):
			return nil, provider.Errorf(provider.CodeTooLarge, op, "body is over the %d byte limit", maxBytes)
		case err != nil:
			return nil, provider.Errorf(provider.CodeInvalidArgument, op, "reading body: %w", err)
		}
	}
	resetBody(r, raw)
	return raw, nil
}

// resetBody makes r's body read raw (again).
func resetBody(r *http.Request, raw []byte) {
	r.Body = io.NopCloser(bytes.NewReader(raw))
	r.ContentLength = int64(len(raw))
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(raw)), nil }
}

// restoreBody makes r's body read raw again, and fills r.PostForm and
// r.Form from a form-encoded body when nobody has parsed them yet, so
// later handlers can use both the raw bytes and gin's form accessors in
// any order.
func restoreBody(r *http.Request, raw []byte) {
	resetBody(r, raw)
	if r.PostForm != nil {
		return
	}
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/x-www-form-urlencoded" {
		return
	}
	form, err := url.ParseQuery(string(raw))
	if err != nil {
		return
	}
	r.PostForm = form
	if r.Form == nil {
		r.Form = make(url.Values, len(form))
		for k, v := range form {
			r.Form[k] = append(r.Form[k], v...)
		}
		for k, v := range r.URL.Query() {
			r.Form[k] = append(r.Form[k], v...)
		}
	}
}
