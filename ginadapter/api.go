package ginadapter

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/gin-gonic/gin/binding"

	"github.com/paylinkgo/paylink/provider"
)

// IdempotencyKeyHeader is the request header that carries a link
// request's idempotency key (the idempotency_key field works too).
const IdempotencyKeyHeader = "Idempotency-Key"

// CreateLinkRequest is the JSON body of POST {APIPrefix}/links. Field
// rules are checked before anything is sent to the provider; a refused
// request is answered 422 with an [ErrorResponse] naming the JSON fields.
type CreateLinkRequest struct {
	// Title is required.
	Title string `json:"title" binding:"required"`
	// Amount is in whole rupiah; 0 asks for an open amount (Flip: step 1 only).
	Amount int64 `json:"amount" binding:"min=0"`
	// Type is SINGLE (default) or MULTIPLE.
	Type string `json:"type" binding:"omitempty,oneof=SINGLE MULTIPLE"`
	// Step is the checkout step, 1 (default), 2 or 3.
	Step int `json:"step" binding:"omitempty,min=1,max=3"`
	// ExpiresAt is an RFC 3339 time ("2026-01-31T23:59:00+07:00"); empty
	// means no expiry.
	ExpiresAt string `json:"expires_at" binding:"omitempty,datetime=2006-01-02T15:04:05Z07:00"`
	// RedirectURL is where the provider sends the customer after paying.
	RedirectURL string `json:"redirect_url" binding:"omitempty,url"`
	// Customer pre-fills the payer (required by Flip for steps 2 and 3).
	Customer CustomerRequest `json:"customer"`
	// Method fixes the payment method (required by Flip for step 3).
	Method MethodRequest `json:"method"`
	// RequireAddress and RequirePhone ask the customer for more data.
	RequireAddress bool `json:"require_address"`
	RequirePhone   bool `json:"require_phone"`
	// IdempotencyKey makes a retried request return the first link; the
	// Idempotency-Key header may carry it instead.
	IdempotencyKey string `json:"idempotency_key" binding:"max=255"`
}

// CustomerRequest is the customer part of a [CreateLinkRequest].
type CustomerRequest struct {
	Name    string `json:"name" binding:"max=255"`
	Email   string `json:"email" binding:"omitempty,email"`
	Phone   string `json:"phone" binding:"max=50"`
	Address string `json:"address" binding:"max=500"`
}

// MethodRequest is the payment method part of a [CreateLinkRequest]:
// Bank is a channel code ("bni", "qris"), Type its kind
// ("virtual_account", "wallet_account").
type MethodRequest struct {
	Bank string `json:"bank" binding:"max=50"`
	Type string `json:"type" binding:"max=50"`
}

// params converts the request into the Service's parameters. The request
// has passed validation, so ExpiresAt parses.
func (r *CreateLinkRequest) params() (provider.CreateLinkParams, error) {
	p := provider.CreateLinkParams{
		Title:          r.Title,
		Type:           provider.LinkType(r.Type),
		Amount:         provider.Rupiah(r.Amount),
		RedirectURL:    r.RedirectURL,
		Step:           provider.Step(r.Step),
		Customer:       provider.Customer(r.Customer),
		Method:         provider.PaymentMethod(r.Method),
		RequireAddress: r.RequireAddress,
		RequirePhone:   r.RequirePhone,
		IdempotencyKey: r.IdempotencyKey,
	}
	if r.ExpiresAt != "" {
		t, err := time.Parse(time.RFC3339, r.ExpiresAt)
		if err != nil {
			return p, invalidField("expires_at", "datetime", "expires_at must be an RFC 3339 time such as 2026-01-31T23:59:00+07:00")
		}
		p.ExpiresAt = t
	}
	return p, nil
}

// LinkResponse is the JSON body of GET {APIPrefix}/links/:id.
type LinkResponse struct {
	Link *provider.Link `json:"link"`
	// Payments are the link's payments as stored, oldest first; never null.
	Payments []provider.Payment `json:"payments"`
}

// ErrorResponse is the JSON body of every error answer of the JSON routes.
type ErrorResponse struct {
	// Error is a human-readable message. Server-side failures (5xx) get a
	// generic one; details go to the log.
	Error string `json:"error"`
	// Code is the portable error code's name ("invalid argument").
	Code string `json:"code"`
	// Fields name the refused JSON fields, for 422 answers.
	Fields []provider.FieldError `json:"fields,omitempty"`
}

// api serves the JSON routes and the return route.
type api struct {
	svc      *provider.Service
	read     provider.Reader
	provider string
	maxBytes int64
	// statusBase is the full path of the JSON link routes ("/shop/paylink/links").
	statusBase string
	redirect   ReturnRedirectFunc
	log        *slog.Logger
	// public says the JSON routes are served without APIAuth: their
	// answers then leave personal data out.
	public  bool
	recheck *rechecker
}

// createLink serves POST {APIPrefix}/links. The body must be one JSON
// object and nothing else (400 otherwise), whatever its content type says.
func (a *api) createLink(c *gin.Context) {
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, a.maxBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			a.fail(c, provider.Errorf(provider.CodeTooLarge, "ginadapter.createLink", "request body is over the %d byte limit", a.maxBytes))
			return
		}
		c.AbortWithStatusJSON(http.StatusBadRequest, ErrorResponse{Error: "request body could not be read", Code: provider.CodeInvalidArgument.String()})
		return
	}
	if err := oneJSONObject(body); err != nil {
		c.AbortWithStatusJSON(http.StatusBadRequest, ErrorResponse{Error: "request body is not one JSON object: " + err.Error(), Code: provider.CodeInvalidArgument.String()})
		return
	}
	var req CreateLinkRequest
	if err := binding.JSON.BindBody(body, &req); err != nil {
		if fields, ok := bindErrorFields(reflect.TypeFor[CreateLinkRequest](), err); ok {
			a.fail(c, &provider.Error{Code: provider.CodeInvalidArgument, Op: "ginadapter.createLink", Message: "invalid link request", Fields: fields})
			return
		}
		c.AbortWithStatusJSON(http.StatusBadRequest, ErrorResponse{Error: "request body is not valid JSON: " + err.Error(), Code: provider.CodeInvalidArgument.String()})
		return
	}
	if key := c.GetHeader(IdempotencyKeyHeader); key != "" {
		if req.IdempotencyKey != "" && req.IdempotencyKey != key {
			a.fail(c, invalidField("idempotency_key", "eqfield", "idempotency_key differs from the Idempotency-Key header"))
			return
		}
		req.IdempotencyKey = key
	}
	if fields := textFieldErrors(&req); len(fields) > 0 {
		a.fail(c, &provider.Error{Code: provider.CodeInvalidArgument, Op: "ginadapter.createLink", Message: "invalid link request", Fields: fields})
		return
	}
	params, err := req.params()
	if err != nil {
		a.fail(c, err)
		return
	}
	link, err := a.svc.CreateLink(c.Request.Context(), a.provider, params)
	if err != nil {
		a.fail(c, upstream(err))
		return
	}
	c.Header("Location", a.statusBase+"/"+url.PathEscape(link.ID))
	c.JSON(http.StatusCreated, a.linkView(link))
}

// getLink serves GET {APIPrefix}/links/:id.
func (a *api) getLink(c *gin.Context) {
	ctx := c.Request.Context()
	id := c.Param("id")
	if err := checkLinkID(id); err != nil {
		a.fail(c, err)
		return
	}
	link, err := a.svc.Store().GetLink(ctx, a.provider, id)
	if err != nil {
		a.fail(c, err)
		return
	}
	pays, err := a.read.ListLinkPayments(ctx, a.provider, id)
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, a.linkResponse(link, pays))
}

// recheckTimeout bounds one re-check by the return route. The re-check
// does not end with the request that started it: other returns may be
// waiting for it.
const recheckTimeout = 30 * time.Second

// returned serves GET {ReturnPath}/:link_id: the customer is back from
// the checkout page, perhaps before the callback. The route is public, so
// an unknown link is 404 before the provider is asked anything, and the
// re-check with the provider (through the same transaction and state
// machine as a callback) is bounded by a.recheck: shared by concurrent
// returns for one link, at most one per link per ReturnRecheckInterval,
// and at most ReturnRechecksPerSecond over all links. Then the customer
// is redirected. When the provider is not asked, or cannot be, the stored
// state is used: the customer is never stranded.
func (a *api) returned(c *gin.Context) {
	ctx := c.Request.Context()
	id := c.Param("link_id")
	if err := checkLinkID(id); err != nil {
		a.fail(c, err)
		return
	}
	link, err := a.svc.Store().GetLink(ctx, a.provider, id)
	if err != nil {
		a.fail(c, err) // 404 for a link the store does not know
		return
	}
	fresh, pays, err, checked := a.recheck.recheck(ctx, id, func() (*provider.Link, []provider.Payment, error) {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recheckTimeout)
		defer cancel()
		return a.svc.RefreshLink(rctx, a.provider, id)
	})
	switch {
	case checked && err == nil:
		link = fresh
	default:
		if err != nil {
			a.log.WarnContext(ctx, "paylink: could not re-check a returning customer's link; redirecting with the stored state",
				"provider", link.Provider, "link", id, "err", err)
		} else {
			a.log.DebugContext(ctx, "paylink: returning customer's link re-checked recently or re-check limit reached; redirecting with the stored state",
				"provider", link.Provider, "link", id)
		}
		if pays, err = a.read.ListLinkPayments(ctx, a.provider, id); err != nil {
			a.fail(c, err)
			return
		}
	}
	target := a.statusBase + "/" + url.PathEscape(link.ID)
	if a.redirect != nil {
		target = a.redirect(c, link, pays)
	}
	if target == "" {
		a.fail(c, provider.Errorf(provider.CodeInternal, "ginadapter.returned", "ReturnRedirect returned an empty URL"))
		return
	}
	c.Redirect(http.StatusSeeOther, target)
}

// upstream turns the provider refusing this server's own credentials (a
// wrong secret key, an IP the provider has not allow-listed) into an
// internal error: the caller of the JSON route is not the one
// unauthenticated, so it must not see 401/403 or the provider's message.
// The details go to the log.
func upstream(err error) error {
	switch provider.CodeOf(err) {
	case provider.CodeUnauthenticated, provider.CodePermissionDenied:
		return &provider.Error{Code: provider.CodeInternal, Op: "ginadapter.createLink",
			Message: "the payment provider refused this server's credentials", Err: err}
	}
	return err
}

// fail answers err with its status and an ErrorResponse.
func (a *api) fail(c *gin.Context, err error) {
	status := StatusCode(err)
	resp := ErrorResponse{Error: err.Error(), Code: provider.CodeOf(err).String(), Fields: apiFields(err)}
	if len(resp.Fields) > 0 {
		msgs := make([]string, len(resp.Fields))
		for i, f := range resp.Fields {
			msgs[i] = f.Message
		}
		resp.Error = "invalid request: " + strings.Join(msgs, "; ")
	}
	if status >= 500 {
		a.log.ErrorContext(c.Request.Context(), "paylink: request failed", "method", c.Request.Method, "path", c.FullPath(), "status", status, "err", err)
		resp.Error = http.StatusText(status)
		if status == StatusClientClosedRequest {
			resp.Error = "request canceled"
		}
	}
	c.AbortWithStatusJSON(status, resp)
}

// invalidField returns a CodeInvalidArgument error for one field.
func invalidField(field, rule, msg string) error {
	return &provider.Error{
		Code: provider.CodeInvalidArgument, Op: "ginadapter", Message: "invalid link request",
		Fields: []provider.FieldError{{Field: field, Rule: rule, Message: msg}},
	}
}

// publicLink returns a copy of l without the provider's raw payload.
func publicLink(l *provider.Link) *provider.Link {
	c := *l
	c.Raw = nil
	return &c
}

// linkView is l as the JSON routes answer it: without the raw payload,
// and, on public routes, without the customer.
func (a *api) linkView(l *provider.Link) *provider.Link {
	c := publicLink(l)
	if a.public {
		c.Customer = provider.Customer{}
	}
	return c
}

// linkResponse is a link and its payments as the JSON routes answer them:
// without raw payloads, and, on public routes, without personal data (the
// customer, the payments' senders and virtual account numbers).
func (a *api) linkResponse(l *provider.Link, pays []provider.Payment) LinkResponse {
	out := LinkResponse{Link: a.linkView(l), Payments: make([]provider.Payment, len(pays))}
	for i, p := range pays {
		p.Raw = nil
		if a.public {
			p.Sender = provider.Customer{}
			p.VANumber = ""
		}
		out.Payments[i] = p
	}
	return out
}
