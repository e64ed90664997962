package gormstore_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paylinkgo/paylink/gormstore"
	"github.com/paylinkgo/paylink/provider"
	"github.com/paylinkgo/paylink/provider/providertest"
)

// The payment rules of provider.Service, held on each real database:
// duplicates, out-of-order callbacks, amount mismatches, unknown links and
// MULTIPLE links.
func TestServiceRulesOnEachDatabase(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			newSvc := func(t *testing.T) (*provider.Service, *providertest.MemProvider, *gormstore.Store) {
				store := migrated(t, b.open(t))
				mem := providertest.NewMemProvider("mem", "tok")
				// The rules are fed synthetic events (payments P1, M0, ...) the
				// fake never made: what is checked is the store under them.
				svc, err := provider.NewService(store, provider.ServiceOptions{Providers: []provider.Provider{mem}, InsecureSkipVerify: true})
				if err != nil {
					t.Fatal(err)
				}
				return svc, mem, store
			}
			link := func(t *testing.T, svc *provider.Service, typ provider.LinkType) *provider.Link {
				l, err := svc.CreateLink(t.Context(), "", provider.CreateLinkParams{Title: "Order", Type: typ, Amount: provider.Rupiah(45000)})
				if err != nil {
					t.Fatal(err)
				}
				return l
			}
			apply := func(t *testing.T, svc *provider.Service, linkID, payID string, st provider.PaymentStatus, amount int64) provider.Verdict {
				t.Helper()
				out, err := svc.ApplyEvent(t.Context(), &provider.Event{Provider: "mem", Source: provider.SourceCallback,
					Raw: []byte("data=" + payID), Payment: provider.Payment{ID: payID, LinkID: linkID, Status: st, Amount: provider.Rupiah(amount)}})
				if err != nil {
					t.Fatalf("ApplyEvent %s %s: %v", payID, st, err)
				}
				return out.Verdict
			}
			statusOf := func(t *testing.T, store *gormstore.Store, payID string) provider.PaymentStatus {
				t.Helper()
				p, err := store.GetPayment(t.Context(), "mem", payID)
				if err != nil {
					t.Fatal(err)
				}
				return p.Status
			}

			t.Run("DuplicatesAreRecordedAndIgnored", func(t *testing.T) {
				svc, _, store := newSvc(t)
				l := link(t, svc, provider.LinkSingle)
				got := []provider.Verdict{
					apply(t, svc, l.ID, "P1", provider.PaymentSuccessful, 45000),
					apply(t, svc, l.ID, "P1", provider.PaymentSuccessful, 45000),
					apply(t, svc, l.ID, "P1", provider.PaymentSuccessful, 45000),
				}
				want := []provider.Verdict{provider.VerdictApplied, provider.VerdictDuplicate, provider.VerdictDuplicate}
				if fmt.Sprint(got) != fmt.Sprint(want) {
					t.Fatalf("verdicts = %v, want %v", got, want)
				}
				cbs, _ := store.ListCallbacks(t.Context(), provider.CallbackFilter{PaymentID: "P1"})
				hist, _ := store.ListStatusChanges(t.Context(), "mem", "P1")
				if len(cbs) != 3 || len(hist) != 1 {
					t.Fatalf("%d callbacks and %d history rows, want 3 and 1", len(cbs), len(hist))
				}
			})

			t.Run("OutOfOrderCallbacksNeverMoveBackwards", func(t *testing.T) {
				svc, _, store := newSvc(t)
				l := link(t, svc, provider.LinkMultiple)
				for _, step := range []struct {
					st   provider.PaymentStatus
					want provider.Verdict
				}{
					{provider.PaymentSuccessful, provider.VerdictApplied},
					{provider.PaymentPending, provider.VerdictStale},
					// A cancellation of a paid payment is a reversal; the
					// failure after it the same reversal again.
					{provider.PaymentCancelled, provider.VerdictApplied},
					{provider.PaymentFailed, provider.VerdictDuplicate},
					{provider.PaymentRefunded, provider.VerdictStale},
				} {
					if got := apply(t, svc, l.ID, "P1", step.st, 45000); got != step.want {
						t.Errorf("%s: verdict %s, want %s", step.st, got, step.want)
					}
				}
				if st := statusOf(t, store, "P1"); st != provider.PaymentReversed {
					t.Fatalf("payment is %s, want REVERSED", st)
				}
				// The other order: the cancellation arrives first, the success later.
				apply(t, svc, l.ID, "P2", provider.PaymentCancelled, 45000)
				if got := apply(t, svc, l.ID, "P2", provider.PaymentSuccessful, 45000); got != provider.VerdictApplied {
					t.Fatalf("a success after a cancellation: %s, want applied", got)
				}
				hist, _ := store.ListStatusChanges(t.Context(), "mem", "P2")
				if len(hist) != 2 || hist[1].From != provider.PaymentCancelled || hist[1].To != provider.PaymentSuccessful {
					t.Fatalf("history = %+v", hist)
				}
			})

			t.Run("AmountMismatchAndUnknownLinkAreFlaggedNeverPaid", func(t *testing.T) {
				svc, _, store := newSvc(t)
				l := link(t, svc, provider.LinkSingle)
				if got := apply(t, svc, l.ID, "P1", provider.PaymentSuccessful, 10000); got != provider.VerdictAmountMismatch {
					t.Errorf("wrong amount: %s", got)
				}
				if got := apply(t, svc, "999999", "P2", provider.PaymentSuccessful, 45000); got != provider.VerdictUnknownLink {
					t.Errorf("unknown link: %s", got)
				}
				for _, id := range []string{"P1", "P2"} {
					if _, err := store.GetPayment(t.Context(), "mem", id); !errors.Is(err, provider.CodeNotFound) {
						t.Errorf("flagged payment %s was stored (%v)", id, err)
					}
				}
				flagged, _ := store.ListCallbacks(t.Context(), provider.CallbackFilter{Flagged: true})
				if len(flagged) != 2 {
					t.Errorf("%d flagged callbacks, want 2", len(flagged))
				}
				if got, _ := store.GetLink(t.Context(), "mem", l.ID); got.Status != provider.LinkActive {
					t.Errorf("link became %s after a flagged callback", got.Status)
				}
				// The right payment still goes through.
				if got := apply(t, svc, l.ID, "P3", provider.PaymentSuccessful, 45000); got != provider.VerdictApplied {
					t.Errorf("the genuine payment: %s", got)
				}
			})

			t.Run("FlaggedHooksRunOnceAndNeverBlockTheRealEvent", func(t *testing.T) {
				svc, _, store := newSvc(t)
				var flagged, paid atomic.Int32
				if err := svc.On("alert", provider.WhenFlagged(), func(ctx context.Context, ev *provider.HookEvent) error {
					if ev.Verdict != provider.VerdictUnknownLink || ev.Payment.ID != "P1" {
						return fmt.Errorf("unexpected flagged event %+v", ev)
					}
					flagged.Add(1)
					return nil
				}); err != nil {
					t.Fatal(err)
				}
				if err := svc.On("receipt", provider.When(provider.PaymentSuccessful), func(context.Context, *provider.HookEvent) error {
					paid.Add(1)
					return nil
				}); err != nil {
					t.Fatal(err)
				}
				ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
				defer cancel()
				if err := svc.Start(ctx); err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { _ = svc.Stop(context.Background()) })
				for range 3 {
					if got := apply(t, svc, "LATE", "P1", provider.PaymentSuccessful, 45000); got != provider.VerdictUnknownLink {
						t.Fatalf("verdict %s", got)
					}
				}
				if err := store.SaveLink(ctx, &provider.LinkWrite{Provider: "mem", ID: "LATE", Link: &provider.Link{ID: "LATE", Provider: "mem", Title: "late", Type: provider.LinkSingle,
					Amount: provider.Rupiah(45000), Status: provider.LinkActive, CreatedAt: time.Now()}}); err != nil {
					t.Fatal(err)
				}
				if got := apply(t, svc, "LATE", "P1", provider.PaymentSuccessful, 45000); got != provider.VerdictApplied {
					t.Fatalf("once the link exists: %s, want applied", got)
				}
				waitUntil(t, ctx, "both hooks", func() bool { return flagged.Load() == 1 && paid.Load() == 1 })
				runs, _ := store.ListHookRuns(ctx, provider.HookRunFilter{})
				if len(runs) != 2 {
					t.Fatalf("%d hook runs, want 2", len(runs))
				}
			})

			t.Run("MultipleLinksCollectManySingleLinksClose", func(t *testing.T) {
				svc, _, store := newSvc(t)
				multi := link(t, svc, provider.LinkMultiple)
				single := link(t, svc, provider.LinkSingle)
				for i := range 3 {
					if got := apply(t, svc, multi.ID, fmt.Sprintf("M%d", i), provider.PaymentSuccessful, 45000); got != provider.VerdictApplied {
						t.Fatalf("payment %d: %s", i, got)
					}
				}
				apply(t, svc, single.ID, "S1", provider.PaymentSuccessful, 45000)
				pays, _ := store.ListLinkPayments(t.Context(), "mem", multi.ID)
				if len(pays) != 3 {
					t.Errorf("MULTIPLE link has %d payments, want 3", len(pays))
				}
				if l, _ := store.GetLink(t.Context(), "mem", multi.ID); l.Status != provider.LinkActive {
					t.Errorf("MULTIPLE link is %s", l.Status)
				}
				if l, _ := store.GetLink(t.Context(), "mem", single.ID); l.Status != provider.LinkInactive {
					t.Errorf("paid SINGLE link is %s", l.Status)
				}
				ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
				defer cancel()
				open, err := store.ListLinks(ctx, provider.LinkFilter{Provider: "mem", Active: true, Since: time.Now().Add(-time.Hour), Limit: 10})
				if err != nil || len(open) != 1 || open[0].ID != multi.ID {
					t.Errorf("open links = %+v, %v; want only the MULTIPLE one", open, err)
				}
			})
		})
	}
}
