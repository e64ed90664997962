package console

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

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
	// DefaultTokenLifetime is how long a form's token is accepted.
	DefaultTokenLifetime = time.Hour
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
	// CSRFKey signs the anti-forgery tokens of the console's forms (at
	// least 32 bytes). The default is a random key made by Mount: forms
	// opened before a restart, or served by another replica, are refused
	// and must be reloaded. Give every replica the same key to avoid that.
	CSRFKey []byte
	// TokenLifetime is how long a form's token is accepted after the page
	// was served. Default [DefaultTokenLifetime]; a page left open longer
	// must be reloaded.
	TokenLifetime time.Duration
	// Now is the clock for token expiry; default time.Now. Tests set it.
	Now func() time.Time
	// Logger receives the console's logs; nil discards them.
	Logger *slog.Logger
}

// console serves the pages and actions.
type console struct {
	svc      *provider.Service
	log      provider.ActionLog
	read     provider.Reader
	base     string
	actor    func(*gin.Context) string
	key      []byte
	lifetime time.Duration
	now      func() time.Time
	cop      *http.CrossOriginProtection
	tmpl     map[string]*template.Template
	slog     *slog.Logger
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
	}
	log, ok := svc.Store().(provider.ActionLog)
	if !ok {
		return provider.Errorf(provider.CodeFailedPrecondition, op, "the service's store keeps no action log")
	}
	read, ok := svc.Store().(provider.Reader)
	switch {
	case !ok:
		return provider.Errorf(provider.CodeFailedPrecondition, op, "the service's store is not a provider.Reader: the console has nothing to show")
	case opts.CSRFKey != nil && len(opts.CSRFKey) < 32:
		return provider.Errorf(provider.CodeInvalidArgument, op, "CSRFKey must be at least 32 bytes")
	case opts.TokenLifetime < 0:
		return provider.Errorf(provider.CodeInvalidArgument, op, "TokenLifetime must not be negative")
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
		svc: svc, log: log, read: read, base: strings.TrimSuffix(g.BasePath(), "/"),
		actor: opts.Actor, key: key, lifetime: opts.TokenLifetime, now: opts.Now,
		cop: http.NewCrossOriginProtection(), tmpl: tmpl, slog: opts.Logger,
	}
	if con.lifetime == 0 {
		con.lifetime = DefaultTokenLifetime
	}
	if con.now == nil {
		con.now = time.Now
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
	g.POST("/callbacks/:id/reprocess", con.checkForm(actReprocess, pathTarget), con.reprocess)
	g.POST("/payment/refetch", con.checkForm(actRefetch, formTarget), con.refetch)
	g.POST("/link/reconcile", con.checkForm(actReconcile, formTarget), con.reconcile)
	g.POST("/hooks/:id/retry", con.checkForm(actRetry, pathTarget), con.retry)
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
	// console's own forms with "Origin: null", which cross-origin
	// protection refuses.
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cache-Control", "no-store")
}

// capQuery refuses an oversized query string before anything reads it.
func capQuery(c *gin.Context) {
	if len(c.Request.URL.RawQuery) > MaxQueryBytes {
		c.AbortWithStatus(http.StatusRequestURITooLong)
	}
}

// The actions a form token may be bound to.
const (
	actReprocess = "reprocess"
	actRefetch   = "refetch"
	actReconcile = "reconcile"
	actRetry     = "retry"
)

// pathTarget is the target of an action on a path id (a callback, a hook run).
func pathTarget(c *gin.Context) string { return c.Param("id") }

// formTarget is the target of an action on a provider's payment or link,
// named by the form.
func formTarget(c *gin.Context) string {
	return target(c.Request.PostForm.Get("provider"), c.Request.PostForm.Get("id"))
}

// target joins a provider's name and an id into one token target.
func target(name, id string) string { return name + "\x00" + id }

// formToken is the anti-forgery token of one form: the expiry (Unix
// seconds) and an HMAC-SHA256 under key of everything the token is good
// for: the operator, the action, its target, the host the page was served
// on, and the expiry. A token for one action on one target is useless for
// another, for another operator, under another host name, or once expired.
func formToken(key []byte, actor, action, target, host string, expires time.Time) string {
	exp := expires.Unix()
	return strconv.FormatInt(exp, 10) + "." + base64.RawURLEncoding.EncodeToString(tokenMAC(key, actor, action, target, host, exp))
}

func tokenMAC(key []byte, actor, action, target, host string, exp int64) []byte {
	m := hmac.New(sha256.New, key)
	for _, part := range []string{"paylink console form v2", actor, action, target, strings.ToLower(host), strconv.FormatInt(exp, 10)} {
		m.Write([]byte(part))
		m.Write([]byte{0})
	}
	return m.Sum(nil)
}

// checkToken reports whether tok is a valid, unexpired token for the
// operator's action on target under host. The MAC is compared in
// constant time.
func (con *console) checkToken(tok, actor, action, target, host string) bool {
	expStr, macStr, ok := strings.Cut(tok, ".")
	if !ok || len(tok) > 128 {
		return false
	}
	exp, err := strconv.ParseInt(expStr, 10, 64)
	if err != nil {
		return false
	}
	now := con.now()
	if now.Unix() >= exp || exp > now.Add(con.lifetime).Unix()+1 {
		return false
	}
	mac, err := base64.RawURLEncoding.DecodeString(macStr)
	if err != nil {
		return false
	}
	return hmac.Equal(mac, tokenMAC(con.key, actor, action, target, host, exp))
}

// checkForm returns the guard of one kind of action: a same-origin
// request (net/http's CrossOriginProtection: Sec-Fetch-Site, or Origin
// against Host for older browsers), a known operator, a capped form, and
// a token for this operator, this action, this target and this host,
// unexpired, compared in constant time. Anything else is answered 403
// (413 for a large form), and nothing is done.
func (con *console) checkForm(action string, targetOf func(*gin.Context) string) gin.HandlerFunc {
	return func(c *gin.Context) {
		if err := con.cop.Check(c.Request); err != nil {
			con.fail(c, http.StatusForbidden, "cross-origin form refused")
			return
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
		if !con.checkToken(c.Request.PostForm.Get("csrf"), actor, action, targetOf(c), c.Request.Host) {
			con.fail(c, http.StatusForbidden, "missing, stale or foreign form token: reload the page and try again")
			return
		}
		c.Set(actorKey, actor)
	}
}

const actorKey = "paylink.console.actor"

// page is what every template gets.
type page struct {
	Base  string
	Title string
	Actor string
	// CanAct is true when the operator is known: forms are shown.
	CanAct bool
	Nav    string
	Data   any
	token  func(action, target string) string
}

// Token is the form token of the page's operator for action on the
// target id (a callback or hook run id).
func (p page) Token(action string, id any) string { return p.token(action, fmt.Sprint(id)) }

// TargetToken is the form token for action on a provider's payment or link.
func (p page) TargetToken(action, name, id string) string { return p.token(action, target(name, id)) }

func (con *console) render(c *gin.Context, status int, name, title string, data any) {
	actor := con.actor(c)
	p := page{Base: con.base, Title: title, Actor: actor, CanAct: actor != "", Nav: name, Data: data}
	expires := con.now().Add(con.lifetime)
	host := c.Request.Host
	p.token = func(action, target string) string {
		if actor == "" {
			return ""
		}
		return formToken(con.key, actor, action, target, host, expires)
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
	con.render(c, status, "error", http.StatusText(status), errorPage{Status: status, Message: redactText(err.Error()), Action: action})
	c.Abort()
}

type errorPage struct {
	Status  int
	Message string
	Action  *provider.OperatorAction
}
