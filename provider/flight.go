package provider

import (
	"context"
	"sync"
	"time"
)

// lookupTimeout bounds a provider request confirming a callback: it is
// made while the gateway waits for the answer (Midtrans gives up on a
// notification after 15 s), and a confirmation that does not come in
// time is answered with a retry.
const lookupTimeout = 10 * time.Second

// lookupGroup makes concurrent lookups of one payment share one provider
// request: a burst of deliveries of one callback (the gateway's retries,
// or copies sent by anyone holding the secret) costs one call.
type lookupGroup struct {
	mu      sync.Mutex
	flights map[string]*lookupFlight
}

type lookupFlight struct {
	done chan struct{}
	pay  *Payment
	err  error
}

// do calls fn once for all callers with the same key that arrive while it
// runs, and gives each the result. fn runs with the first caller's
// values but without its cancellation, so one caller giving up does not
// fail the others; each caller stops waiting when its own ctx is done.
func (g *lookupGroup) do(ctx context.Context, key string, fn func(context.Context) (*Payment, error)) (*Payment, error) {
	g.mu.Lock()
	if g.flights == nil {
		g.flights = make(map[string]*lookupFlight)
	}
	f, ok := g.flights[key]
	if !ok {
		f = &lookupFlight{done: make(chan struct{})}
		g.flights[key] = f
		go g.run(ctx, key, f, fn)
	}
	g.mu.Unlock()
	select {
	case <-f.done:
		return f.pay, f.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (g *lookupGroup) run(ctx context.Context, key string, f *lookupFlight, fn func(context.Context) (*Payment, error)) {
	defer func() {
		g.mu.Lock()
		delete(g.flights, key)
		g.mu.Unlock()
		close(f.done)
	}()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), lookupTimeout)
	defer cancel()
	defer func() {
		if v := recover(); v != nil {
			f.pay, f.err = nil, Errorf(CodeInternal, "provider.ApplyEvent", "the provider panicked confirming a payment: %v", v)
		}
	}()
	f.pay, f.err = fn(ctx)
}
