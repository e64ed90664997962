package ginadapter

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/netip"
	"path"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/paylinkgo/paylink/provider"
)

// Defaults used by [DefaultConfig] and for zero Config fields.
const (
	// DefaultCallbackPath is where the callback route is mounted.
	DefaultCallbackPath = "/flip/callback"
	// DefaultMaxBodyBytes caps callback and JSON request bodies (64 KiB).
	// Flip's callbacks are well under 2 KiB.
	DefaultMaxBodyBytes int64 = 64 << 10
	// DefaultReturnRecheckInterval is the least time between two
	// re-checks of one link by the return route.
	DefaultReturnRecheckInterval = 10 * time.Second
	// DefaultReturnRechecksPerSecond and DefaultReturnRecheckBurst bound
	// the return route's re-checks over all links.
	DefaultReturnRechecksPerSecond = 5
	DefaultReturnRecheckBurst      = 20
)

// ReturnRedirectFunc chooses where the return route sends a customer, given
// the link and its payments as stored after the re-check. It must return a
// non-empty URL or path.
type ReturnRedirectFunc func(c *gin.Context, link *provider.Link, payments []provider.Payment) string

// Config says what [Mount] mounts and how. The zero value is usable: empty
// fields take the defaults of [DefaultConfig].
type Config struct {
	// Provider is the name of the provider in the Service; "" selects the
	// Service's only provider.
	Provider string

	// CallbackPath is the path of the callback route (POST). Default
	// "/flip/callback".
	CallbackPath string

	// MaxBodyBytes caps request bodies, for the callback and the JSON
	// routes; larger bodies are answered 413. Default 64 KiB.
	MaxBodyBytes int64

	// AllowedNetworks, when not empty, restricts the callback route to
	// clients whose address (gin's Context.ClientIP) is in one of these
	// prefixes; others are answered 403 before the body is read.
	//
	// ClientIP trusts X-Forwarded-For and X-Real-IP only from the proxies
	// configured with Engine.SetTrustedProxies (gin trusts every proxy by
	// default!) or a TrustedPlatform header. Behind a load balancer, set
	// them to exactly your proxies; otherwise any client can claim any
	// address and the allowlist protects nothing. The callback token stays
	// the real check; the allowlist is defence in depth.
	AllowedNetworks []netip.Prefix

	// CallbackHandlers run on the callback route after the callback was
	// verified and committed, before the answer. They read the event with
	// [EventFrom] and [OutcomeFrom], and the body from the request (or
	// gin's form accessors) as the provider keeps it: its secret (Flip's
	// token, Midtrans's signature_key) removed. A handler that writes a
	// response replaces the default answer.
	CallbackHandlers []gin.HandlerFunc

	// APIPrefix, when set (e.g. "/paylink"), mounts JSON routes for a front
	// end: POST {APIPrefix}/links and GET {APIPrefix}/links/:id. They
	// create links (spending the merchant's provider quota) and answer with
	// customers' names, emails and phones, so they are closed by default:
	// Mount refuses an APIPrefix without APIAuth, unless APIPublic says
	// otherwise.
	APIPrefix string

	// APIAuth authorizes every request to the JSON routes: it must answer
	// and abort (401, 403, a redirect to a sign-in page) any request that
	// may not create or read links, e.g. gin.BasicAuth(accounts) or the
	// app's session check. It runs before APIMiddleware. Required when
	// APIPrefix is set, unless APIPublic.
	//
	// It is a field of its own, rather than "APIMiddleware must not be
	// empty", so that a reviewer sees which handler guards the routes: a
	// logger or a rate limiter in APIMiddleware is not an authorization.
	APIAuth gin.HandlerFunc

	// APIPublic mounts the JSON routes without APIAuth: anyone who can
	// reach the server can create links (spending the merchant's quota)
	// and read any link whose id they know or guess. Set it only for a
	// demo, or when something in front of this server authorizes the
	// requests. Public answers carry no personal data: the customer of a
	// link, and the sender and virtual account number of a payment, are
	// left out. Setting both APIPublic and APIAuth is an error.
	APIPublic bool

	// APIMiddleware runs before each JSON route, after APIAuth (rate
	// limiting, logging). The callback and return routes do not use it.
	APIMiddleware []gin.HandlerFunc

	// ReturnPath, when set (e.g. "/paylink/return"), mounts
	// GET {ReturnPath}/:link_id: the page a link's redirect URL should
	// point to. It re-checks the link with the provider (within the limits
	// below), then redirects (303) to ReturnRedirect's URL. The route is
	// public, as the customer's browser comes back from the checkout page
	// with no credentials of this app; it answers with a redirect only,
	// which carries no personal data.
	ReturnPath string

	// ReturnRedirect chooses where the return route sends the customer.
	// Default: the JSON status route, {APIPrefix}/links/:id (so APIPrefix
	// is then required; with APIAuth set, the customer's browser must be
	// able to pass it, e.g. with the shop's session cookie). The URL is
	// seen by the customer's browser and its history: do not put personal
	// data in it.
	ReturnRedirect ReturnRedirectFunc

	// ReturnRecheckInterval is the least time between two re-checks of
	// one link with the provider by the return route: a customer who
	// returns (or reloads) sooner is redirected with the stored state.
	// Returns for a link whose re-check is in flight share it (one
	// provider call for any number of them). Default 10 s; negative
	// means no per-link limit.
	ReturnRecheckInterval time.Duration

	// ReturnRechecksPerSecond caps the return route's re-checks over all
	// links (a token bucket holding ReturnRecheckBurst re-checks); over
	// it, customers are redirected with the stored state. Default 5;
	// negative means no overall limit.
	ReturnRechecksPerSecond float64

	// ReturnRecheckBurst is the token bucket's size: how many re-checks
	// may run at once after a quiet spell. Default 20.
	ReturnRecheckBurst int

	// Logger receives the adapter's logs; nil discards them. Tokens and
	// request bodies are never logged.
	Logger *slog.Logger
}

// DefaultConfig returns the defaults: the callback route at
// /flip/callback with a 64 KiB body cap, no allowlist, no JSON or return
// routes, and the return route's re-check limits.
func DefaultConfig() Config {
	return Config{
		CallbackPath: DefaultCallbackPath, MaxBodyBytes: DefaultMaxBodyBytes,
		ReturnRecheckInterval:   DefaultReturnRecheckInterval,
		ReturnRechecksPerSecond: DefaultReturnRechecksPerSecond,
		ReturnRecheckBurst:      DefaultReturnRecheckBurst,
	}
}

// withDefaults fills empty fields from DefaultConfig.
func (c Config) withDefaults() Config {
	def := DefaultConfig()
	if c.CallbackPath == "" {
		c.CallbackPath = def.CallbackPath
	}
	if c.MaxBodyBytes == 0 {
		c.MaxBodyBytes = def.MaxBodyBytes
	}
	if c.ReturnRecheckInterval == 0 {
		c.ReturnRecheckInterval = def.ReturnRecheckInterval
	}
	if c.ReturnRechecksPerSecond == 0 {
		c.ReturnRechecksPerSecond = def.ReturnRechecksPerSecond
	}
	if c.ReturnRecheckBurst == 0 {
		c.ReturnRecheckBurst = def.ReturnRecheckBurst
	}
	return c
}

// maxMaxBodyBytes bounds MaxBodyBytes: a callback or a link request has no
// business being larger, and every body is held in memory.
const maxMaxBodyBytes = 32 << 20

// Validate reports every problem with c, with the field named, as one
// error matching provider.CodeInvalidArgument. Empty fields are valid (they
// take defaults).
func (c Config) Validate() error {
	c = c.withDefaults()
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	if err := checkPath(c.CallbackPath); err != nil {
		bad("CallbackPath: %w", err)
	}
	if c.APIPrefix != "" {
		if err := checkPath(c.APIPrefix); err != nil {
			bad("APIPrefix: %w", err)
		} else if c.APIPrefix == "/" {
			bad("APIPrefix: %q would mount the JSON routes at the root; use a prefix such as /paylink", c.APIPrefix)
		}
	}
	switch {
	case c.APIPrefix != "" && c.APIAuth == nil && !c.APIPublic:
		bad("APIAuth: the JSON routes under APIPrefix %q create links and show customers' personal data, so they need an authorization (APIAuth), or APIPublic: true to serve them to anyone", c.APIPrefix)
	case c.APIAuth != nil && c.APIPublic:
		bad("APIPublic: set with APIAuth; choose one")
	}
	if c.APIPrefix != "" && c.CallbackPath == joinPath(c.APIPrefix, "links") {
		bad("CallbackPath: %q collides with the JSON route POST %s/links", c.CallbackPath, c.APIPrefix)
	}
	if c.ReturnPath != "" {
		if err := checkPath(c.ReturnPath); err != nil {
			bad("ReturnPath: %w", err)
		} else if c.ReturnPath == "/" {
			bad("ReturnPath: %q would capture every one-segment path; use a path such as /paylink/return", c.ReturnPath)
		}
		if c.ReturnRedirect == nil && c.APIPrefix == "" {
			bad("ReturnPath: the default redirect goes to the JSON status route, so set APIPrefix or ReturnRedirect")
		}
		if c.APIPrefix != "" && c.ReturnPath == joinPath(c.APIPrefix, "links") {
			bad("ReturnPath: %q collides with the JSON route GET %s/links/:id", c.ReturnPath, c.APIPrefix)
		}
	}
	if c.MaxBodyBytes < 0 {
		bad("MaxBodyBytes: must not be negative, got %d", c.MaxBodyBytes)
	} else if c.MaxBodyBytes > maxMaxBodyBytes {
		bad("MaxBodyBytes: %d is over the %d byte limit", c.MaxBodyBytes, maxMaxBodyBytes)
	}
	if math.IsNaN(c.ReturnRechecksPerSecond) || math.IsInf(c.ReturnRechecksPerSecond, 0) {
		bad("ReturnRechecksPerSecond: must be a number, got %v", c.ReturnRechecksPerSecond)
	}
	if c.ReturnRecheckBurst < 0 {
		bad("ReturnRecheckBurst: must not be negative, got %d", c.ReturnRecheckBurst)
	}
	for i, p := range c.AllowedNetworks {
		if !p.IsValid() {
			bad("AllowedNetworks[%d]: invalid prefix", i)
		}
	}
	for i, h := range c.CallbackHandlers {
		if h == nil {
			bad("CallbackHandlers[%d]: nil handler", i)
		}
	}
	for i, h := range c.APIMiddleware {
		if h == nil {
			bad("APIMiddleware[%d]: nil handler", i)
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return &provider.Error{Code: provider.CodeInvalidArgument, Op: "ginadapter.Config", Message: "invalid config: " + errors.Join(errs...).Error()}
}

// checkPath accepts a clean absolute path without gin wildcards, queries
// or fragments.
func checkPath(p string) error {
	switch {
	case !strings.HasPrefix(p, "/"):
		return fmt.Errorf("%q must start with /", p)
	case strings.ContainsAny(p, ":*"):
		return fmt.Errorf("%q must not contain route parameters (: or *)", p)
	case strings.ContainsAny(p, "?#"):
		return fmt.Errorf("%q must be a path, without query or fragment", p)
	case strings.IndexFunc(p, func(r rune) bool { return r <= ' ' || r == 0x7f }) >= 0:
		return fmt.Errorf("%q must not contain spaces or control characters", p)
	case path.Clean(p) != p:
		return fmt.Errorf("%q is not a clean path (want %q)", p, path.Clean(p))
	}
	return nil
}

// joinPath joins URL path segments into a clean absolute path.
func joinPath(elem ...string) string {
	return path.Join(append([]string{"/"}, elem...)...)
}
