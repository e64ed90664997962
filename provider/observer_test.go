package provider_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/paylinkgo/paylink/provider"
	"github.com/paylinkgo/paylink/provider/providertest"
)

// recorder is an Observer that keeps what it is told. Its "trace" is the
// name of the callback that started it, carried in the context.
type recorder struct {
	provider.NopObserver
	mu         sync.Mutex
	described  []provider.ServiceDescription
	callbacks  []provider.CallbackObservation
	hookStarts []provider.HookRunObservation
	hookEnds   []provider.HookRunObservation
	passes     []provider.ReconcileReport
}

type traceKey struct{}

func (r *recorder) Describe(_ context.Context, d provider.ServiceDescription) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.described = append(r.described, d)
}

func (r *recorder) StartCallback(ctx context.Context, name string) context.Context {
	return context.WithValue(ctx, traceKey{}, "callback-trace")
}

func (r *recorder) EndCallback(ctx context.Context, c provider.CallbackObservation) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.callbacks = append(r.callbacks, c)
}

func (r *recorder) EventTrace(ctx context.Context) string {
	s, _ := ctx.Value(traceKey{}).(string)
	return s
}

func (r *recorder) StartHookRun(ctx context.Context, o provider.HookRunObservation) context.Context {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.hookStarts = append(r.hookStarts, o)
	return ctx
}

func (r *recorder) EndHookRun(ctx context.Context, o provider.HookRunObservation) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.hookEnds = append(r.hookEnds, o)
}

func (r *recorder) EndReconcile(ctx context.Context, rep provider.ReconcileReport, d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.passes = append(r.passes, rep)
}

func (r *recorder) snapshot() recorder {
	r.mu.Lock()
	defer r.mu.Unlock()
	return recorder{described: slices.Clone(r.described), callbacks: slices.Clone(r.callbacks),
		hookStarts: slices.Clone(r.hookStarts), hookEnds: slices.Clone(r.hookEnds), passes: slices.Clone(r.passes)}
}

func TestTheObserverSeesEveryCallbackOnceAndEveryHookAttempt(t *testing.T) {
	rec := &recorder{}
	f := newFixture(t, provider.ServiceOptions{Observer: rec})
	fails := 1
	must(t, f.svc.On("receipt", provider.When(provider.PaymentSuccessful), func(ctx context.Context, ev *provider.HookEvent) error {
		if ev.Trace != "callback-trace" {
			t.Errorf("hook event trace = %q, want the callback's", ev.Trace)
		}
		if fails > 0 {
			fails--
			return errors.New("mail server down")
		}
		return nil
	}))
	if d := rec.snapshot().described; len(d) != 1 || !slices.Equal(d[0].Providers, []string{"mem"}) || d[0].HookRuns == nil {
		t.Fatalf("NewService described %+v, want provider mem and the queue", d)
	}

	l := f.link(t, 10000, provider.LinkSingle)
	pay, err := f.mem.Settle(l.ID, provider.PaymentSuccessful, 0)
	must(t, err)
	callback := func(token string) error {
		r, err := providertest.NewCallbackRequest(t.Context(), "http://shop/callback", token, pay)
		must(t, err)
		_, _, err = providertest.Deliver(t.Context(), f.svc, "mem", r)
		return err
	}
	must(t, callback("tok"))                                                             // applied
	must(t, callback("tok"))                                                             // duplicate
	if err := callback("forged"); provider.CodeOf(err) != provider.CodeUnauthenticated { // refused
		t.Fatalf("forged callback: %v, want unauthenticated", err)
	}
	f.apply(t, event(l.ID, pay.ID, provider.PaymentSuccessful, 10000)) // ApplyEvent alone observes it: duplicate

	got := rec.snapshot().callbacks
	want := []struct {
		v provider.Verdict
		r provider.Refusal
	}{{provider.VerdictApplied, ""}, {provider.VerdictDuplicate, ""}, {"", provider.RefusalUnauthenticated}, {provider.VerdictDuplicate, ""}}
	if len(got) != len(want) {
		t.Fatalf("observed %d callbacks (%+v), want %d", len(got), got, len(want))
	}
	for i, w := range want {
		if got[i].Provider != "mem" || got[i].Verdict != w.v || got[i].Refusal != w.r {
			t.Errorf("callback %d observed as %+v, want verdict %q refusal %q", i, got[i], w.v, w.r)
		}
	}
	if got[0].HookRuns != 1 {
		t.Errorf("applied callback queued %d hook runs, want 1", got[0].HookRuns)
	}

	must(t, f.svc.Start(t.Context()))
	if d := rec.snapshot().described; len(d) != 2 || !slices.Equal(d[1].Hooks, []string{"receipt"}) {
		t.Fatalf("Start described %+v, want the hook receipt", d)
	}
	waitFor(t, "the hook to succeed on its second attempt", func() bool { return len(rec.snapshot().hookEnds) == 2 })
	s := rec.snapshot()
	if len(s.hookStarts) != 2 {
		t.Fatalf("hook starts = %+v, want 2", s.hookStarts)
	}
	for i, o := range s.hookEnds {
		wantOutcome := []provider.HookOutcome{provider.HookOutcomeRetrying, provider.HookOutcomeSucceeded}[i]
		if o.Hook != "receipt" || o.Attempt != i+1 || o.Outcome != wantOutcome || o.Trace != "callback-trace" || o.Lag < 0 {
			t.Errorf("attempt %d observed as %+v, want receipt, outcome %s, the callback's trace", i+1, o, wantOutcome)
		}
	}

	if _, err := f.svc.Reconcile(t.Context()); err != nil {
		t.Fatal(err)
	}
	if p := rec.snapshot().passes; len(p) != 1 {
		t.Errorf("reconcile passes observed = %+v, want 1", p)
	}
}

func TestRefusalOfMapsEveryCodeToAFewReasons(t *testing.T) {
	for code, want := range map[provider.ErrorCode]provider.Refusal{
		provider.CodeUnauthenticated:  provider.RefusalUnauthenticated,
		provider.CodePermissionDenied: provider.RefusalPermissionDenied,
		provider.CodeTooLarge:         provider.RefusalTooLarge,
		provider.CodeInvalidArgument:  provider.RefusalInvalid,
		provider.CodeUnavailable:      provider.RefusalUnavailable,
		provider.CodeDeadlineExceeded: provider.RefusalUnavailable,
		provider.CodeInternal:         provider.RefusalInternal,
		provider.CodeUnknown:          provider.RefusalInternal,
	} {
		if got := provider.RefusalOf(provider.Errorf(code, "test", "boom")); got != want {
			t.Errorf("RefusalOf(%v) = %q, want %q", code, got, want)
		}
		if !slices.Contains(provider.Refusals(), want) {
			t.Errorf("Refusals() lacks %q", want)
		}
	}
	if got := provider.RefusalOf(nil); got != "" {
		t.Errorf("RefusalOf(nil) = %q, want none", got)
	}
}
