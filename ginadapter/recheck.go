package ginadapter

import (
	"context"
	"sync"
	"time"

	"github.com/paylinkgo/paylink/provider"
)

// rechecker bounds the return route's calls to the provider. The return
// route is public, so without it anyone could spend the merchant's API
// quota by reloading a return URL. Three rules, in this order:
//
//  1. coalescing: returns for a link whose re-check is in flight wait for
//     it and share its result (one provider call for any number of them);
//  2. a per-link interval: a link re-checked less than interval ago is not
//     re-checked; the caller uses the stored state;
//  3. a token bucket over all links (rate per second, burst): when it is
//     empty, the caller uses the stored state.
//
// It holds no goroutines; its memory is one entry per link re-checked
// within the last interval.
type rechecker struct {
	interval time.Duration // <= 0: no per-link limit
	rate     float64       // tokens per second; <= 0: no overall limit
	burst    float64
	now      func() time.Time

	mu      sync.Mutex
	flights map[string]*flight
	last    map[string]time.Time // when each link's last re-check started
	tokens  float64
	filled  time.Time // when tokens was last topped up
}

// flight is one re-check in progress; done is closed when it ends.
type flight struct {
	done chan struct{}
	link *provider.Link
	pays []provider.Payment
	err  error
}

// maxRecheckEntries bounds the per-link map before expired entries are
// swept.
const maxRecheckEntries = 4096

func newRechecker(interval time.Duration, rate float64, burst int, now func() time.Time) *rechecker {
	if now == nil {
		now = time.Now
	}
	return &rechecker{
		interval: interval, rate: rate, burst: float64(burst), now: now,
		flights: make(map[string]*flight), last: make(map[string]time.Time),
		tokens: float64(burst), filled: now(),
	}
}

// recheck runs fn for the link key, under the rules above. checked is
// false when fn was not run (and will not be for this caller): the caller
// falls back to the stored state. When checked, link, pays and err are
// fn's results, possibly from another caller's run.
func (r *rechecker) recheck(ctx context.Context, key string, fn func() (*provider.Link, []provider.Payment, error)) (link *provider.Link, pays []provider.Payment, err error, checked bool) {
	r.mu.Lock()
	if f, ok := r.flights[key]; ok {
		r.mu.Unlock()
		select {
		case <-f.done:
			return f.link, f.pays, f.err, true
		case <-ctx.Done():
			return nil, nil, ctx.Err(), true
		}
	}
	now := r.now()
	if r.interval > 0 {
		if at, ok := r.last[key]; ok && now.Sub(at) < r.interval {
			r.mu.Unlock()
			return nil, nil, nil, false
		}
	}
	if !r.take(now) {
		r.mu.Unlock()
		return nil, nil, nil, false
	}
	if r.interval > 0 {
		if len(r.last) >= maxRecheckEntries {
			r.sweep(now)
		}
		r.last[key] = now
	}
	// The error stands if fn panics: the callers waiting on the flight
	// then fall back to the stored state.
	f := &flight{done: make(chan struct{}), err: provider.Errorf(provider.CodeInternal, "ginadapter.returned", "the re-check did not finish")}
	r.flights[key] = f
	r.mu.Unlock()

	defer func() {
		r.mu.Lock()
		delete(r.flights, key)
		r.mu.Unlock()
		close(f.done)
	}()
	f.link, f.pays, f.err = fn()
	return f.link, f.pays, f.err, true
}

// take takes one token from the bucket, topping it up first. It reports
// false when the bucket is empty. r.mu is held.
func (r *rechecker) take(now time.Time) bool {
	if r.rate <= 0 {
		return true
	}
	if elapsed := now.Sub(r.filled).Seconds(); elapsed > 0 {
		r.tokens = min(r.burst, r.tokens+elapsed*r.rate)
		r.filled = now
	}
	if r.tokens < 1 {
		return false
	}
	r.tokens--
	return true
}

// sweep forgets links whose interval has passed. r.mu is held.
func (r *rechecker) sweep(now time.Time) {
	for k, at := range r.last {
		if now.Sub(at) >= r.interval {
			delete(r.last, k)
		}
	}
}
