package console

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/paylinkgo/paylink/ginadapter"
	"github.com/paylinkgo/paylink/provider"
)

// Limits on what the console reads from a request.
const (
	// MaxQueryBytes caps a page's query string: a longer one is 414.
	MaxQueryBytes = 2048
	// MaxFormBytes caps an action's form body: a larger one is 413.
	MaxFormBytes = 8 << 10
	// DefaultPageSize is how many rows a list shows unless asked for fewer.
	DefaultPageSize = 50
	// MaxPageSize is the most rows a list shows.
	MaxPageSize = 200
)

// Options configures [Mount]. Authorize is required.
type Options struct {
	// Authorize runs before every console route; it must answer (and
	// abort) any request that is not from an operator. The host app
	// supplies it, e.g. gin.BasicAuth(accounts). Mount refuses a nil one.
	Authorize gin.HandlerFunc
	// Actor names the operator of a request, as Authorize established it.
	// The default reads gin.AuthUserKey, which gin.BasicAuth sets. An
	// action whose actor is empty is refused with 403 and not done.
	Actor func(c *gin.Context) string
	// CSRFKey signs the anti-forgery token of the console's forms (at
	// least 32 bytes). The default is a random key made by Mount: forms
	// opened before a restart, or served by another replica, are refused
	// and must be reloaded. Give every replica the same key to avoid that.
	CSRFKey []byte
	// Logger receives the console's logs; nil discards them.
	Logger *slog.Logger
}

// console serves the pages and actions.
type console struct {
	svc   *provider.Service
	log   provider.ActionLog
	base  string
	actor func(*gin.Context) string
	key   []byte
	tmpl  map[string]*template.Template
	slog  *slog.Logger
}

//go:embed templates/*.html
var templateFS embed.FS

// Mount mounts the console on r, every route behind opts.Authorize (mount
// it on a group, e.g. r.Group("/ops")):
//
//	GET  /                          the callback inbox, newest first (also /callbacks)
//	GET  /callbacks/:id             one callback, its body redacted, its actions
//	POST /callbacks/:id/reprocess   reprocess it
//	GET  /payment?provider=&id=     a payment, its history, callbacks, hook runs, actions
//	POST /payment/refetch           re-fetch it from the provider
//	GET  /link?provider=&id=        a link, its payments, callbacks, actions
//	POST /link/reconcile            reconcile it now
//	GET  /hooks                     hook runs by state, failed first
//	POST /hooks/:id/retry           retry a failed run
//	GET  /actions                   the action log
//
// It returns an error, and mounts nothing, when opts.Authorize is nil, or
// when svc's store keeps no [provider.ActionLog] (an action that cannot be
// recorded is not offered). Mount starts nothing.
func Mount(r gin.IRouter, svc *provider.Service, opts Options) error {
	const op = "console.Mount"
	switch {
	case r == nil:
		return provider.Errorf(provider.CodeInvalidArgument, op, "router is nil")
	case svc == nil:
		return provider.Errorf(provider.CodeInvalidArgument, op, "service is nil")
	case opts.Authorize == nil:
		return provider.Errorf(provider.CodeInvalidArgument, op,
			"no Authorize middleware: the console is never mounted open (use gin.BasicAuth or the app's own)")
	case svc.ActionLog() == nil:
		return provider.Errorf(provider.CodeFailedPrecondition, op, "the service's store keeps no action log")
	case opts.CSRFKey != nil && len(opts.CSRFKey) < 32:
		return provider.Errorf(provider.CodeInvalidArgument, op, "CSRFKey must be at least 32 bytes")
	}
	key := opts.CSRFKey
	if key == nil {
		key = make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return provider.Errorf(provider.CodeInternal, op, "making a CSRF key: %w", err)
		}
	}
	tmpl, err := parseTemplates()
	if err != nil {
		return provider.Errorf(provider.CodeInternal, op, "templates: %w", err)
	}
	g := r.Group("", secureHeaders, opts.Authorize, capQuery)
	con := &console{
		svc: svc, log: svc.ActionLog(), base: strings.TrimSuffix(g.BasePath(), "/"),
		actor: opts.Actor, key: key, tmpl: tmpl, slog: opts.Logger,
	}
	if con.actor == nil {
		con.actor = func(c *gin.Context) string { return c.GetString(gin.AuthUserKey) }
	}
	if con.slog == nil {
		con.slog = slog.New(slog.DiscardHandler)
	}
	g.GET("/", con.inbox)
	g.GET("/callbacks", con.inbox)
	g.GET("/callbacks/:id", con.callback)
	g.GET("/payment", con.payment)
	g.GET("/link", con.link)
	g.GET("/hooks", con.hooks)
	g.GET("/actions", con.actions)
	g.POST("/callbacks/:id/reprocess", con.checkForm, con.reprocess)
	g.POST("/payment/refetch", con.checkForm, con.refetch)
	g.POST("/link/reconcile", con.checkForm, con.reconcile)
	g.POST("/hooks/:id/retry", con.checkForm, con.retry)
	con.slog.Info("paylink: console mounted", "path", con.base+"/")
	return nil
}

// secureHeaders keeps the pages out of frames and caches and lets them
// load nothing but their own inline style.
func secureHeaders(c *gin.Context) {
	h := c.Writer.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	// same-origin, not no-referrer: under no-referrer browsers send the
	// console's own forms with "Origin: null", which checkForm refuses.
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cache-Control", "no-store")
}

// capQuery refuses an oversized query string before anything reads it.
func capQuery(c *gin.Context) {
	if len(c.Request.URL.RawQuery) > MaxQueryBytes {
		c.AbortWithStatus(http.StatusRequestURITooLong)
	}
}

// csrfToken is the anti-forgery token of actor's forms: an HMAC of the
// actor's name, so it is the same on every page for one operator and
// useless to anyone else.
func (con *console) csrfToken(actor string) string {
	m := hmac.New(sha256.New, con.key)
	m.Write([]byte("paylink console\x00"))
	m.Write([]byte(actor))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// checkForm guards every action: a same-origin request (Origin and
// Sec-Fetch-Site, when the browser sends them), a known operator, a
// capped form, and the operator's anti-forgery token, compared in
// constant time. Anything else is answered 403 (413 for a large form),
// and nothing is done.
func (con *console) checkForm(c *gin.Context) {
	if site := c.GetHeader("Sec-Fetch-Site"); site != "" && site != "same-origin" {
		con.fail(c, http.StatusForbidden, "cross-site form refused")
		return
	}
	if origin := c.GetHeader("Origin"); origin != "" {
		u, err := url.Parse(origin)
		if err != nil || u.Host == "" || !strings.EqualFold(u.Host, c.Request.Host) {
			con.fail(c, http.StatusForbidden, "form from another origin refused")
			return
		}
	}
	actor := con.actor(c)
	if actor == "" {
		con.fail(c, http.StatusForbidden, "the operator is unknown; the action was not done")
		return
	}
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, MaxFormBytes)
	if err := c.Request.ParseForm(); err != nil {
		if _, ok := err.(*http.MaxBytesError); ok {
			con.fail(c, http.StatusRequestEntityTooLarge, "form too large")
			return
		}
		con.fail(c, http.StatusBadRequest, "unreadable form")
		return
	}
	got := c.Request.PostForm.Get("csrf")
	if !hmac.Equal([]byte(got), []byte(con.csrfToken(actor))) {
		con.fail(c, http.StatusForbidden, "missing or stale form token: reload the page and try again")
		return
	}
	c.Set(actorKey, actor)
}

const actorKey = "paylink.console.actor"

// page is what every template gets.
type page struct {
	Base  string
	Title string
	Actor string
	CSRF  string
	Nav   string
	Data  any
}

func (con *console) render(c *gin.Context, status int, name, title string, data any) {
	actor := con.actor(c)
	p := page{Base: con.base, Title: title, Actor: actor, Nav: name, Data: data}
	if actor != "" {
		p.CSRF = con.csrfToken(actor)
	}
	var buf bytes.Buffer
	if err := con.tmpl[name].ExecuteTemplate(&buf, "layout", p); err != nil {
		con.slog.ErrorContext(c, "paylink: console page failed", "page", name, "err", err)
		c.AbortWithStatus(http.StatusInternalServerError)
		return
	}
	c.Data(status, "text/html; charset=utf-8", buf.Bytes())
}

// fail answers a page that says what went wrong.
func (con *console) fail(c *gin.Context, status int, msg string) {
	con.render(c, status, "error", http.StatusText(status), errorPage{Status: status, Message: msg})
	c.Abort()
}

// failErr answers err with the status ginadapter gives its code.
func (con *console) failErr(c *gin.Context, err error, action *provider.OperatorAction) {
	status := ginadapter.StatusCode(err)
	if status >= 500 {
		con.slog.WarnContext(c, "paylink: console request failed", "path", c.FullPath(), "err", err)
	}
	con.render(c, status, "error", http.StatusText(status), errorPage{Status: status, Message: err.Error(), Action: action})
	c.Abort()
}

type errorPage struct {
	Status  int
	Message string
	Action  *provider.OperatorAction
}
