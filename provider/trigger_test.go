package provider_test

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/paylinkgo/paylink/provider"
)

// triggers are one hook per way of selecting events: the six that replaced
// the old On* methods (named after them), and three that only When can say.
var triggers = []struct {
	hook string
	trig provider.Trigger
}{
	{"succeeded", provider.When(provider.PaymentSuccessful)},
	{"cancelled", provider.When(provider.PaymentCancelled)},
	{"failed", provider.When(provider.PaymentFailed)},
	{"refunded", provider.When(provider.PaymentPartiallyRefunded, provider.PaymentRefunded)},
	{"charged-back", provider.When(provider.PaymentPartiallyChargedBack, provider.PaymentChargedBack)},
	{"reversed", provider.When(provider.PaymentReversed)},
	{"every", provider.When()},
	{"flagged", provider.WhenFlagged()},
	{"pending", provider.When(provider.PaymentPending)},
	{"unpaid", provider.When(provider.PaymentCancelled, provider.PaymentFailed)},
}

// Each trigger selects exactly the events it names: the table is every
// kind of event against every trigger, read from the hook runs the event
// queued.
func TestEachTriggerSelectsExactlyItsEvents(t *testing.T) {
	const (
		pending   = provider.PaymentPending
		succeeded = provider.PaymentSuccessful
		cancelled = provider.PaymentCancelled
		failed    = provider.PaymentFailed
		partRef   = provider.PaymentPartiallyRefunded
		refunded  = provider.PaymentRefunded
		partCB    = provider.PaymentPartiallyChargedBack
		chargedBk = provider.PaymentChargedBack
	)
	type news struct {
		status   provider.PaymentStatus
		amount   int64 // paid; 0 means the link's 10000
		refunded int64
	}
	cases := []struct {
		name   string
		before []news // applied first, on the same payment
		news   news
		link   string // "" is a fresh link of 10000; else an unknown link
		want   []string
	}{
		{name: "PENDING", news: news{status: pending}, want: []string{"every", "pending"}},
		{name: "SUCCESSFUL", before: []news{{status: pending}}, news: news{status: succeeded}, want: []string{"succeeded", "every"}},
		{name: "CANCELLED", before: []news{{status: pending}}, news: news{status: cancelled}, want: []string{"cancelled", "every", "unpaid"}},
		{name: "FAILED", before: []news{{status: pending}}, news: news{status: failed}, want: []string{"failed", "every", "unpaid"}},
		{name: "PARTIALLY_REFUNDED", before: []news{{status: succeeded}}, news: news{status: partRef, refunded: 3000}, want: []string{"refunded", "every"}},
		{name: "a second partial refund", before: []news{{status: succeeded}, {status: partRef, refunded: 3000}}, news: news{status: partRef, refunded: 5000}, want: []string{"refunded", "every"}},
		{name: "REFUNDED", before: []news{{status: succeeded}}, news: news{status: refunded, refunded: 10000}, want: []string{"refunded", "every"}},
		{name: "PARTIALLY_CHARGED_BACK", before: []news{{status: succeeded}}, news: news{status: partCB, refunded: 4000}, want: []string{"charged-back", "every"}},
		{name: "CHARGED_BACK", before: []news{{status: succeeded}}, news: news{status: chargedBk, refunded: 10000}, want: []string{"charged-back", "every"}},
		{name: "first seen REFUNDED: paid all the same", news: news{status: refunded, refunded: 10000}, want: []string{"succeeded", "refunded", "every"}},
		{name: "first seen PARTIALLY_CHARGED_BACK: paid all the same", news: news{status: partCB, refunded: 4000}, want: []string{"succeeded", "charged-back", "every"}},
		{name: "a duplicate", before: []news{{status: succeeded}}, news: news{status: succeeded}, want: nil},
		{name: "stale news", before: []news{{status: succeeded}}, news: news{status: pending}, want: nil},
		{name: "flagged: an underpayment", news: news{status: succeeded, amount: 4000}, want: []string{"flagged"}},
		{name: "flagged: an unknown link", link: "NO-SUCH-LINK", news: news{status: succeeded}, want: []string{"flagged"}},
		{name: "FAILED after paid: a reversal", before: []news{{status: succeeded}}, news: news{status: failed}, want: []string{"reversed", "every"}},
		{name: "CANCELLED after paid: a reversal", before: []news{{status: succeeded}, {status: partRef, refunded: 3000}}, news: news{status: cancelled}, want: []string{"reversed", "every"}},
		{name: "first seen REVERSED: never delivered", news: news{status: provider.PaymentReversed, refunded: 10000}, want: []string{"reversed", "every"}},
		{name: "flagged again, same kind", before: []news{{status: succeeded, amount: 4000}}, news: news{status: succeeded, amount: 3000}, want: nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t, provider.ServiceOptions{})
			for _, tr := range triggers {
				must(t, f.svc.On(tr.hook, tr.trig, func(context.Context, *provider.HookEvent) error { return nil }))
			}
			linkID := c.link
			if linkID == "" {
				linkID = f.link(t, 10000, provider.LinkMultiple).ID
			}
			toEvent := func(n news) *provider.Event {
				ev := returned(linkID, "PAY", n.status, n.refunded)
				if n.amount != 0 {
					ev.Payment.Amount = provider.Rupiah(n.amount)
				}
				return ev
			}
			for _, n := range c.before {
				f.apply(t, toEvent(n))
			}
			before := f.runsByHook(t, "PAY")
			f.apply(t, toEvent(c.news))
			after := f.runsByHook(t, "PAY")

			var got []string
			for _, tr := range triggers {
				switch n := after[tr.hook] - before[tr.hook]; n {
				case 0:
				case 1:
					got = append(got, tr.hook)
				default:
					t.Errorf("hook %q: %d runs for one event, want at most 1", tr.hook, n)
				}
			}
			if !sameSet(got, c.want) {
				t.Errorf("hooks run: %v, want %v", got, c.want)
			}
		})
	}
}

// runsByHook counts the hook runs queued for payment id, by hook.
func (f *fixture) runsByHook(t *testing.T, id string) map[string]int {
	t.Helper()
	runs, err := f.store.ListHookRuns(t.Context(), provider.HookRunFilter{Provider: "mem", PaymentID: id})
	if err != nil {
		t.Fatal(err)
	}
	n := map[string]int{}
	for _, r := range runs {
		n[r.Hook]++
	}
	return n
}

func sameSet(a, b []string) bool {
	return maps.Equal(set(a), set(b))
}

func set(s []string) map[string]bool {
	m := map[string]bool{}
	for _, v := range s {
		m[v] = true
	}
	return m
}

// A hook on SUCCESSFUL runs once per payment, the first time it is paid,
// whichever paid status that is; later refunds and chargebacks do not run
// it again.
func TestASuccessHookRunsOnceWhenAPaymentIsFirstPaid(t *testing.T) {
	f := newFixture(t, provider.ServiceOptions{})
	var mu sync.Mutex
	var calls []string
	record := func(hook string) provider.HookFunc {
		return func(_ context.Context, ev *provider.HookEvent) error {
			mu.Lock()
			defer mu.Unlock()
			calls = append(calls, hook+" "+ev.Payment.ID+" "+string(ev.Status))
			return nil
		}
	}
	must(t, f.svc.On("paid", provider.When(provider.PaymentSuccessful), record("paid")))
	// Selected twice over by the first-paid event: it still runs once.
	must(t, f.svc.On("paid-or-refunded", provider.When(provider.PaymentSuccessful, provider.PaymentRefunded), record("paid-or-refunded")))
	must(t, f.svc.Start(t.Context()))

	l := f.link(t, 10000, provider.LinkMultiple)
	for _, ev := range []*provider.Event{
		event(l.ID, "SEEN", provider.PaymentPending, 10000),
		event(l.ID, "SEEN", provider.PaymentSuccessful, 10000),
		returned(l.ID, "SEEN", provider.PaymentPartiallyRefunded, 3000),
		returned(l.ID, "SEEN", provider.PaymentRefunded, 10000),
		// Its success was never reported: first seen refunded in full.
		returned(l.ID, "MISSED", provider.PaymentRefunded, 10000),
		// First seen charged back in part, then in full.
		returned(l.ID, "DISPUTED", provider.PaymentPartiallyChargedBack, 4000),
		returned(l.ID, "DISPUTED", provider.PaymentChargedBack, 10000),
	} {
		f.apply(t, ev)
	}
	want := []string{
		"paid SEEN SUCCESSFUL", "paid-or-refunded SEEN SUCCESSFUL", "paid-or-refunded SEEN REFUNDED",
		"paid MISSED REFUNDED", "paid-or-refunded MISSED REFUNDED",
		"paid DISPUTED PARTIALLY_CHARGED_BACK", "paid-or-refunded DISPUTED PARTIALLY_CHARGED_BACK",
	}
	waitFor(t, "runs to settle", func() bool {
		runs, _ := f.store.ListHookRuns(t.Context(), provider.HookRunFilter{State: provider.HookRunSucceeded})
		return len(runs) == len(want)
	})
	mu.Lock()
	defer mu.Unlock()
	got := slices.Clone(calls)
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("hook calls:\n got %v\nwant %v", got, want)
	}
}

// On refuses what cannot be a hook, and a refused registration leaves the
// name free.
func TestOnRefusesWhatCannotBeAHook(t *testing.T) {
	nop := func(context.Context, *provider.HookEvent) error { return nil }
	cases := []struct {
		name string
		hook string
		trig provider.Trigger
		fn   provider.HookFunc
	}{
		{"a nil fn", "h", provider.When(), nil},
		{"a blank name", "  ", provider.When(), nop},
		{"an empty name", "", provider.WhenFlagged(), nop},
		{"a name over 200 characters", strings.Repeat("n", 201), provider.When(), nop},
		{"the zero Trigger", "h", provider.Trigger{}, nop},
		{"When with an unknown status", "h", provider.When("PAID"), nop},
		{"When with a lower-case status", "h", provider.When("successful"), nop},
		{"When with an empty status among good ones", "h", provider.When(provider.PaymentSuccessful, ""), nop},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t, provider.ServiceOptions{})
			if err := f.svc.On(c.hook, c.trig, c.fn); !errors.Is(err, provider.CodeInvalidArgument) {
				t.Fatalf("On: %v, want CodeInvalidArgument", err)
			}
			if err := f.svc.On("h", provider.When(provider.PaymentSuccessful), nop); err != nil {
				t.Errorf("the name after a refused registration: %v", err)
			}
		})
	}
}

func TestOnRefusesASecondHookOfTheSameNameWhateverItsTrigger(t *testing.T) {
	f := newFixture(t, provider.ServiceOptions{})
	nop := func(context.Context, *provider.HookEvent) error { return nil }
	name := strings.Repeat("n", 200) // the longest name there is
	must(t, f.svc.On(name, provider.When(provider.PaymentSuccessful), nop))
	for _, trig := range []provider.Trigger{provider.When(provider.PaymentSuccessful), provider.When(), provider.WhenFlagged()} {
		if err := f.svc.On(name, trig, nop); !errors.Is(err, provider.CodeConflict) {
			t.Errorf("a second %q: %v, want CodeConflict", name[:10]+"...", err)
		}
	}
}

// When keeps its own copy of the statuses it is given.
func TestWhenCopiesItsStatuses(t *testing.T) {
	f := newFixture(t, provider.ServiceOptions{})
	statuses := []provider.PaymentStatus{provider.PaymentCancelled}
	trig := provider.When(statuses...)
	statuses[0] = provider.PaymentSuccessful
	must(t, f.svc.On("cancelled", trig, func(context.Context, *provider.HookEvent) error { return nil }))
	l := f.link(t, 10000, provider.LinkMultiple)
	f.apply(t, event(l.ID, "PAY", provider.PaymentSuccessful, 10000))
	if n := f.runsByHook(t, "PAY")["cancelled"]; n != 0 {
		t.Errorf("a hook on CANCELLED queued %d runs for a success", n)
	}
}
