package main

import (
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
)

// signInLimits bounds how fast passwords can be guessed at the console's
// sign-in. A client that fails perClient times within window is locked
// out for backoff, doubled at each further lockout up to maxBackoff;
// global failures within window, from all clients together, lock every
// client out for backoff (a guesser with many addresses). A locked-out
// request is answered 429 with Retry-After before its password is
// checked, so a lockout tells a guesser nothing.
type signInLimits struct {
	perClient, global   int
	window              time.Duration
	backoff, maxBackoff time.Duration
	// maxClients bounds the clients remembered: past it, a new client's
	// failures count only toward the global limit.
	maxClients int
}

// defaultSignInLimits are the shop's limits: an operator who mistypes
// their password a few times is never locked out; a guesser gets 10
// tries, then 10 more a minute later, then 10 more two minutes later...
// at most 10 an hour once the backoff reaches its hour.
var defaultSignInLimits = signInLimits{
	perClient:  10,
	global:     100,
	window:     15 * time.Minute,
	backoff:    time.Minute,
	maxBackoff: time.Hour,
	maxClients: 10_000,
}

// signInThrottle counts failed sign-ins by client address (and all
// together), in memory, bounded by signInLimits.maxClients. Successful
// sign-ins are not slowed and are not counted; one clears its client's
// count.
type signInThrottle struct {
	limits signInLimits
	log    *slog.Logger
	now    func() time.Time

	mu      sync.Mutex
	clients map[string]*failures
	all     failures
}

// failures is one client's (or everyone's) record of failed sign-ins.
type failures struct {
	// n failures since since, the start of the counting window.
	n     int
	since time.Time
	// lockouts is how often this client was locked out (its backoff
	// doubles each time); until ends the current lockout.
	lockouts int
	until    time.Time
}

// newSignInThrottle returns a throttle with limits, logging each lockout.
func newSignInThrottle(limits signInLimits, log *slog.Logger) *signInThrottle {
	return &signInThrottle{limits: limits, log: log, now: time.Now, clients: make(map[string]*failures)}
}

// wait returns how long client is locked out: 0 when it may try.
func (t *signInThrottle) wait(client string) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	until := t.all.until
	if f := t.clients[client]; f != nil && f.until.After(until) {
		until = f.until
	}
	return max(until.Sub(now), 0)
}

// failed counts a failed sign-in of client.
func (t *signInThrottle) failed(client string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	if d, locked := t.all.fail(now, t.limits.global, t.limits.window, t.limits.backoff, t.limits.backoff); locked {
		t.log.Warn("shop: console sign-in locked for every client: too many failed sign-ins",
			"failures", t.limits.global, "window", t.limits.window, "retry_after", d)
	}
	f := t.clients[client]
	if f == nil {
		if len(t.clients) >= t.limits.maxClients {
			t.prune(now)
		}
		if len(t.clients) >= t.limits.maxClients {
			return // counted globally only
		}
		f = &failures{since: now}
		t.clients[client] = f
	}
	if d, locked := f.fail(now, t.limits.perClient, t.limits.window, t.limits.backoff, t.limits.maxBackoff); locked {
		t.log.Warn("shop: console sign-in locked for a client: too many failed sign-ins",
			"client", client, "failures", t.limits.perClient, "window", t.limits.window, "retry_after", d)
	}
}

// succeeded forgets client's failures.
func (t *signInThrottle) succeeded(client string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.clients, client)
}

// prune forgets the clients neither locked out nor failing within the
// window.
func (t *signInThrottle) prune(now time.Time) {
	for client, f := range t.clients {
		if !now.Before(f.until) && now.Sub(f.since) >= t.limits.window {
			delete(t.clients, client)
		}
	}
}

// fail counts one failure at now. At the limit-th failure within window
// it starts a lockout of backoff, doubled for each earlier lockout up to
// maxBackoff, and returns its length and true.
func (f *failures) fail(now time.Time, limit int, window, backoff, maxBackoff time.Duration) (time.Duration, bool) {
	if now.Sub(f.since) >= window {
		f.n, f.since = 0, now
	}
	f.n++
	if f.n < limit {
		return 0, false
	}
	d := backoff
	for range f.lockouts {
		if d >= maxBackoff {
			break
		}
		d *= 2
	}
	d = min(d, maxBackoff)
	f.lockouts++
	f.n, f.since, f.until = 0, now, now.Add(d)
	return d, true
}

// authorize wraps basic auth: a locked-out client is answered 429 with
// Retry-After (seconds) before its credentials are looked at; a request
// that sent credentials and was refused 401 counts as a failure; one let
// through clears its client's failures. A request without credentials (a
// browser's first, which makes it ask for them) is not a failure.
func (t *signInThrottle) authorize(basicAuth gin.HandlerFunc) gin.HandlerFunc {
	return func(c *gin.Context) {
		client := c.ClientIP()
		if wait := t.wait(client); wait > 0 {
			secs := int64((wait + time.Second - 1) / time.Second)
			c.Header("Retry-After", strconv.FormatInt(secs, 10))
			c.Header("Cache-Control", "no-store")
			c.String(http.StatusTooManyRequests, "Too many failed sign-ins: try again in %d seconds.\n", secs)
			c.Abort()
			return
		}
		_, _, sent := c.Request.BasicAuth()
		basicAuth(c)
		switch {
		case !c.IsAborted():
			t.succeeded(client)
		case sent && c.Writer.Status() == http.StatusUnauthorized:
			t.failed(client)
		}
	}
}
