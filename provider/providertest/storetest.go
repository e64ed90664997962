package providertest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paylinkgo/paylink/provider"
)

// storeDeadline bounds every wait for asynchronous hook delivery. It is
// generous on purpose: the suite must pass on a loaded two-core machine,
// and a passing wait returns as soon as its condition holds.
const storeDeadline = 30 * time.Second

// TestStore runs the Store conformance suite. newStore returns a fresh,
// empty, migrated store; it is called once per subtest and should register
// its own cleanup (closing databases, dropping schemas) with t.Cleanup.
// Subtests run in parallel. Hook subtests call StartHooks and stop the
// hooks again in a t.Cleanup, which runs before newStore's own cleanups.
//
// What the suite pins down, beyond the doc comments of provider.Store:
//   - times come back equal (time.Time.Equal) at microsecond precision;
//   - PutLink replaces the stored link, IdempotencyKey included;
//   - ListLinkPayments orders by the payment's CreatedAt;
//   - ListOpenLinks lists never-reconciled links first, oldest created
//     first, then the least recently reconciled;
//   - every hook run's IdempotencyKey is non-empty and the same on every
//     attempt and in ListHookRuns; run.Attempts counts finished attempts;
//   - a panicking hook counts as a failed attempt and never kills the process;
//   - RetryHookRun of an unknown id is CodeNotFound.
func TestStore(t *testing.T, newStore func(t *testing.T) provider.Store) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(t *testing.T, s provider.Store)
	}{
		{"LinkRoundTripAndNotFound", storeTestLinkRoundTrip},
		{"IdempotencyKeyLookupAndConflict", storeTestIdempotencyKey},
		{"PutLinkUpdates", storeTestPutLinkUpdates},
		{"ListOpenLinksAndMarkReconciled", storeTestListOpenLinks},
		{"ClaimEventOnce", storeTestClaimEventOnce},
		{"ClaimEventConcurrent", storeTestClaimEventConcurrent},
		{"ClaimEventRolledBackCanBeClaimedAgain", storeTestClaimEventRolledBack},
		{"PaymentRoundTripAndUpdate", storeTestPaymentRoundTrip},
		{"StatusHistoryOrder", storeTestStatusHistory},
		{"CallbacksRecordedAndFiltered", storeTestCallbacks},
		{"InTxRollbackLeavesNothing", storeTestInTxRollback},
		{"InTxRollbackRestoresUpdatedRows", storeTestInTxRollbackRestores},
		{"HooksDeliveredOnce", storeTestHooksDeliveredOnce},
		{"FailingHookRetriedThenFailed", storeTestHookRetriedThenFailed},
		{"PanickingHookIsAFailedAttempt", storeTestHookPanics},
		{"RetryHookRunDeliversAgain", storeTestRetryHookRun},
		{"RetryHookRunNotFailed", storeTestRetryHookRunNotFailed},
		{"HooksEnqueuedBeforeStart", storeTestHooksBeforeStart},
		{"RolledBackEnqueueNeverDelivers", storeTestRolledBackEnqueue},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.fn(t, newStore(t))
		})
	}
}

// storeBase is a fixed instant with microsecond precision.
var storeBase = time.Date(2025, 3, 4, 5, 6, 7, 123456000, time.UTC)

func storeCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*storeDeadline)
	t.Cleanup(cancel)
	return ctx
}

func storeLink(id string) provider.Link {
	return provider.Link{
		ID: id, Provider: "test", URL: "https://pay.example/" + id, Title: "Order " + id,
		Type: provider.LinkSingle, Amount: provider.Rupiah(45000), Status: provider.LinkActive,
		ExpiresAt: storeBase.Add(24 * time.Hour), Step: provider.StepConfirmation,
		Customer:    provider.Customer{Name: "Budi", Email: "budi@example.com", Phone: "08123", Address: "Jl. Sudirman 1"},
		Method:      provider.PaymentMethod{Bank: "bni", Type: "virtual_account"},
		PaymentURL:  "https://pay.example/" + id + "/pay",
		RedirectURL: "https://shop.example/return",
		CreatedAt:   storeBase,
		Raw:         json.RawMessage(`{"link_id":` + "\"" + id + "\"" + `,"amount":45000}`),
	}
}

func storePayment(id, linkID string) provider.Payment {
	return provider.Payment{
		ID: id, Provider: "test", LinkID: linkID, Amount: provider.Rupiah(45000),
		Status: provider.PaymentPending, RawStatus: "PENDING",
		Sender:   provider.Customer{Name: "Budi", Email: "budi@example.com"},
		Method:   provider.PaymentMethod{Bank: "bni", Type: "virtual_account"},
		VANumber: "8808123456789", PaymentURL: "https://pay.example/p/" + id,
		CreatedAt: storeBase.Add(time.Minute),
		Raw:       json.RawMessage(`{"id":"` + id + `"}`),
	}
}

// storeDo runs fn in one committed transaction and fails the test on error.
func storeDo(t *testing.T, s provider.Store, fn func(ctx context.Context, tx provider.Tx) error) {
	t.Helper()
	if err := s.InTx(storeCtx(t), fn); err != nil {
		t.Fatalf("InTx: %v", err)
	}
}

func storePutLinks(t *testing.T, s provider.Store, links ...provider.Link) {
	t.Helper()
	storeDo(t, s, func(ctx context.Context, tx provider.Tx) error {
		for i := range links {
			if err := tx.PutLink(ctx, &links[i]); err != nil {
				return err
			}
		}
		return nil
	})
}

func storeWantCode(t *testing.T, what string, err error, code provider.ErrorCode) {
	t.Helper()
	if !errors.Is(err, code) {
		t.Fatalf("%s: got error %v (code %v), want code %v", what, err, provider.CodeOf(err), code)
	}
}

// storeSameLink compares links field by field; times with Equal, and
// UpdatedAt (the store's own write time) not at all.
func storeSameLink(t *testing.T, got, want provider.Link) {
	t.Helper()
	for _, p := range []struct {
		name string
		g, w time.Time
	}{{"ExpiresAt", got.ExpiresAt, want.ExpiresAt}, {"CreatedAt", got.CreatedAt, want.CreatedAt}} {
		if !p.g.Equal(p.w) {
			t.Errorf("link %s: %s = %v, want %v", want.ID, p.name, p.g, p.w)
		}
	}
	if !bytes.Equal(got.Raw, want.Raw) {
		t.Errorf("link %s: Raw = %s, want %s", want.ID, got.Raw, want.Raw)
	}
	got.ExpiresAt, got.CreatedAt, got.UpdatedAt, got.Raw = time.Time{}, time.Time{}, time.Time{}, nil
	want.ExpiresAt, want.CreatedAt, want.UpdatedAt, want.Raw = time.Time{}, time.Time{}, time.Time{}, nil
	if !reflect.DeepEqual(got, want) {
		t.Errorf("link %s:\n got %+v\nwant %+v", want.ID, got, want)
	}
}

func storeSamePayment(t *testing.T, got, want provider.Payment) {
	t.Helper()
	for _, p := range []struct {
		name string
		g, w time.Time
	}{{"CreatedAt", got.CreatedAt, want.CreatedAt}, {"CompletedAt", got.CompletedAt, want.CompletedAt}} {
		if !p.g.Equal(p.w) {
			t.Errorf("payment %s: %s = %v, want %v", want.ID, p.name, p.g, p.w)
		}
	}
	if !bytes.Equal(got.Raw, want.Raw) {
		t.Errorf("payment %s: Raw = %s, want %s", want.ID, got.Raw, want.Raw)
	}
	got.CreatedAt, got.CompletedAt, got.UpdatedAt, got.Raw = time.Time{}, time.Time{}, time.Time{}, nil
	want.CreatedAt, want.CompletedAt, want.UpdatedAt, want.Raw = time.Time{}, time.Time{}, time.Time{}, nil
	if !reflect.DeepEqual(got, want) {
		t.Errorf("payment %s:\n got %+v\nwant %+v", want.ID, got, want)
	}
}

func storeLinkIDs(links []provider.Link) []string {
	ids := make([]string, len(links))
	for i, l := range links {
		ids[i] = l.ID
	}
	return ids
}

func storeTestLinkRoundTrip(t *testing.T, s provider.Store) {
	ctx := storeCtx(t)
	want := storeLink("1234567890123456789") // 19 digits, like Flip's bill ids
	storePutLinks(t, s, want)

	got, err := s.GetLink(ctx, "test", want.ID)
	if err != nil {
		t.Fatalf("GetLink: %v", err)
	}
	storeSameLink(t, *got, want)

	storeDo(t, s, func(ctx context.Context, tx provider.Tx) error {
		locked, err := tx.GetLinkForUpdate(ctx, "test", want.ID)
		if err != nil {
			return err
		}
		storeSameLink(t, *locked, want)
		_, err = tx.GetLinkForUpdate(ctx, "test", "missing")
		storeWantCode(t, "GetLinkForUpdate of a missing link", err, provider.CodeNotFound)
		return nil
	})

	_, err = s.GetLink(ctx, "test", "missing")
	storeWantCode(t, "GetLink of a missing link", err, provider.CodeNotFound)
	_, err = s.GetLink(ctx, "other-provider", want.ID)
	storeWantCode(t, "GetLink under another provider", err, provider.CodeNotFound)
}

func storeTestIdempotencyKey(t *testing.T, s provider.Store) {
	ctx := storeCtx(t)
	a := storeLink("a")
	a.IdempotencyKey = "order-1"
	noKey1, noKey2 := storeLink("n1"), storeLink("n2") // empty keys never clash
	storePutLinks(t, s, a, noKey1, noKey2)

	got, err := s.GetLinkByIdempotencyKey(ctx, "order-1")
	if err != nil {
		t.Fatalf("GetLinkByIdempotencyKey: %v", err)
	}
	storeSameLink(t, *got, a)
	_, err = s.GetLinkByIdempotencyKey(ctx, "order-2")
	storeWantCode(t, "GetLinkByIdempotencyKey of an unused key", err, provider.CodeNotFound)

	b := storeLink("b")
	b.IdempotencyKey = "order-1"
	err = s.InTx(ctx, func(ctx context.Context, tx provider.Tx) error { return tx.PutLink(ctx, &b) })
	storeWantCode(t, "PutLink reusing another link's idempotency key", err, provider.CodeConflict)
	_, err = s.GetLink(ctx, "test", "b")
	storeWantCode(t, "GetLink of the refused link", err, provider.CodeNotFound)

	// Putting the same link again with its own key is an update, not a clash.
	a.Title = "renamed"
	storePutLinks(t, s, a)
	if got, err := s.GetLinkByIdempotencyKey(ctx, "order-1"); err != nil || got.Title != "renamed" {
		t.Fatalf("after re-put: got %+v, %v; want title %q", got, err, "renamed")
	}
}

func storeTestPutLinkUpdates(t *testing.T, s provider.Store) {
	ctx := storeCtx(t)
	l := storeLink("up")
	l.IdempotencyKey = "key-up"
	storePutLinks(t, s, l)

	l.Status = provider.LinkInactive
	l.Title = "Order up (paid)"
	l.Amount = provider.Rupiah(50000)
	l.Raw = json.RawMessage(`{"status":"INACTIVE"}`)
	storePutLinks(t, s, l)

	got, err := s.GetLink(ctx, "test", "up")
	if err != nil {
		t.Fatalf("GetLink: %v", err)
	}
	storeSameLink(t, *got, l)
	if links, err := s.ListOpenLinks(ctx, "test", time.Time{}, 0); err != nil || len(links) != 0 {
		t.Fatalf("ListOpenLinks after the only link became inactive: %v, %v; want none", storeLinkIDs(links), err)
	}

	// Put replaces: a new key replaces the old one.
	l.IdempotencyKey = "key-up-2"
	storePutLinks(t, s, l)
	if _, err := s.GetLinkByIdempotencyKey(ctx, "key-up"); !errors.Is(err, provider.CodeNotFound) {
		t.Fatalf("old idempotency key after replacing it: %v, want CodeNotFound", err)
	}
	if got, err := s.GetLinkByIdempotencyKey(ctx, "key-up-2"); err != nil || got.ID != "up" {
		t.Fatalf("new idempotency key: %+v, %v", got, err)
	}
}

func storeTestListOpenLinks(t *testing.T, s provider.Store) {
	ctx := storeCtx(t)
	mk := func(id string, created time.Duration, status provider.LinkStatus, prov string) provider.Link {
		l := storeLink(id)
		l.CreatedAt = storeBase.Add(created)
		l.Status = status
		l.Provider = prov
		return l
	}
	storePutLinks(t, s,
		mk("old", -48*time.Hour, provider.LinkActive, "test"), // before since
		mk("c", 3*time.Hour, provider.LinkActive, "test"),
		mk("a", 1*time.Hour, provider.LinkActive, "test"),
		mk("b", 2*time.Hour, provider.LinkActive, "test"),
		mk("closed", 1*time.Hour, provider.LinkInactive, "test"),
		mk("elsewhere", 1*time.Hour, provider.LinkActive, "other"),
	)
	since := storeBase

	list := func(limit int) []string {
		t.Helper()
		links, err := s.ListOpenLinks(ctx, "test", since, limit)
		if err != nil {
			t.Fatalf("ListOpenLinks: %v", err)
		}
		for _, l := range links {
			if l.Provider != "test" || l.Status != provider.LinkActive {
				t.Fatalf("ListOpenLinks returned %s (%s, %s)", l.ID, l.Provider, l.Status)
			}
		}
		return storeLinkIDs(links)
	}
	if got, want := list(10), []string{"a", "b", "c"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("never reconciled: got %v, want %v (oldest created first)", got, want)
	}
	if got, want := list(2), []string{"a", "b"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("limit 2: got %v, want %v", got, want)
	}

	if err := s.MarkReconciled(ctx, "test", "a", storeBase.Add(10*time.Hour)); err != nil {
		t.Fatalf("MarkReconciled: %v", err)
	}
	if err := s.MarkReconciled(ctx, "test", "c", storeBase.Add(5*time.Hour)); err != nil {
		t.Fatalf("MarkReconciled: %v", err)
	}
	if got, want := list(10), []string{"b", "c", "a"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("after reconciling a and c: got %v, want %v (unreconciled, then oldest reconciliation)", got, want)
	}
	if err := s.MarkReconciled(ctx, "test", "b", storeBase.Add(11*time.Hour)); err != nil {
		t.Fatalf("MarkReconciled: %v", err)
	}
	if got, want := list(10), []string{"c", "a", "b"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("after reconciling all: got %v, want %v", got, want)
	}
	err := s.MarkReconciled(ctx, "test", "missing", storeBase)
	storeWantCode(t, "MarkReconciled of a missing link", err, provider.CodeNotFound)
}

func storeKey(paymentID string, status provider.PaymentStatus) provider.EventKey {
	return provider.EventKey{Provider: "test", PaymentID: paymentID, Status: status}
}

func storeClaim(t *testing.T, s provider.Store, key provider.EventKey) bool {
	t.Helper()
	var claimed bool
	storeDo(t, s, func(ctx context.Context, tx provider.Tx) error {
		var err error
		claimed, err = tx.ClaimEvent(ctx, key)
		return err
	})
	return claimed
}

func storeTestClaimEventOnce(t *testing.T, s provider.Store) {
	key := storeKey("p1", provider.PaymentSuccessful)
	if !storeClaim(t, s, key) {
		t.Fatal("first claim: got false, want true")
	}
	if storeClaim(t, s, key) {
		t.Fatal("second claim in a later transaction: got true, want false")
	}
	storeDo(t, s, func(ctx context.Context, tx provider.Tx) error {
		k := storeKey("p2", provider.PaymentSuccessful)
		first, err := tx.ClaimEvent(ctx, k)
		if err != nil {
			return err
		}
		second, err := tx.ClaimEvent(ctx, k)
		if err != nil {
			return err
		}
		if !first || second {
			t.Errorf("two claims in one transaction: got %v, %v; want true, false", first, second)
		}
		return nil
	})
	if !storeClaim(t, s, storeKey("p1", provider.PaymentCancelled)) {
		t.Fatal("claim of another status of the same payment: got false, want true")
	}
	if !storeClaim(t, s, provider.EventKey{Provider: "other", PaymentID: "p1", Status: provider.PaymentSuccessful}) {
		t.Fatal("claim of the same payment id under another provider: got false, want true")
	}
}

func storeTestClaimEventConcurrent(t *testing.T, s provider.Store) {
	ctx := storeCtx(t)
	const n = 16
	key := storeKey("race", provider.PaymentSuccessful)
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		won     int
		errs    []error
		release = make(chan struct{})
	)
	for range n {
		wg.Go(func() {
			<-release
			err := s.InTx(ctx, func(ctx context.Context, tx provider.Tx) error {
				ok, err := tx.ClaimEvent(ctx, key)
				if err != nil {
					return err
				}
				if ok {
					mu.Lock()
					won++
					mu.Unlock()
				}
				return nil
			})
			if err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		})
	}
	close(release)
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("%d of %d concurrent claims failed, first: %v", len(errs), n, errs[0])
	}
	if won != 1 {
		t.Fatalf("%d concurrent claims of one key: %d got true, want exactly 1", n, won)
	}
}

func storeTestClaimEventRolledBack(t *testing.T, s provider.Store) {
	ctx := storeCtx(t)
	key := storeKey("rb", provider.PaymentSuccessful)
	boom := errors.New("boom")
	err := s.InTx(ctx, func(ctx context.Context, tx provider.Tx) error {
		ok, err := tx.ClaimEvent(ctx, key)
		if err != nil {
			return err
		}
		if !ok {
			t.Error("claim in the rolled-back transaction: got false, want true")
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("InTx returned %v, want fn's error", err)
	}
	if !storeClaim(t, s, key) {
		t.Fatal("claim after the claiming transaction rolled back: got false, want true")
	}
}

func storeTestPaymentRoundTrip(t *testing.T, s provider.Store) {
	ctx := storeCtx(t)
	p1 := storePayment("PGPWF1", "link-1")
	p2 := storePayment("PGPWF2", "link-1")
	p2.CreatedAt = p1.CreatedAt.Add(time.Minute)
	p0 := storePayment("PGPWF0", "link-1") // put last, created first
	p0.CreatedAt = p1.CreatedAt.Add(-time.Minute)
	other := storePayment("PGPWF3", "link-2")
	other.CreatedAt = time.Time{} // an unknown creation time stays unknown
	storeDo(t, s, func(ctx context.Context, tx provider.Tx) error {
		for _, p := range []*provider.Payment{&p1, &p2, &other, &p0} {
			if err := tx.PutPayment(ctx, p); err != nil {
				return err
			}
		}
		return nil
	})
	got, err := s.GetPayment(ctx, "test", "PGPWF1")
	if err != nil {
		t.Fatalf("GetPayment: %v", err)
	}
	storeSamePayment(t, *got, p1)
	_, err = s.GetPayment(ctx, "test", "missing")
	storeWantCode(t, "GetPayment of a missing payment", err, provider.CodeNotFound)

	p1.Status = provider.PaymentSuccessful
	p1.RawStatus = "SUCCESSFUL"
	p1.CompletedAt = storeBase.Add(2 * time.Minute)
	p1.Raw = json.RawMessage(`{"id":"PGPWF1","status":"SUCCESSFUL"}`)
	storeDo(t, s, func(ctx context.Context, tx provider.Tx) error {
		locked, err := tx.GetPaymentForUpdate(ctx, "test", "PGPWF1")
		if err != nil {
			return err
		}
		if locked.Status != provider.PaymentPending {
			t.Errorf("GetPaymentForUpdate: status %s, want PENDING", locked.Status)
		}
		_, err = tx.GetPaymentForUpdate(ctx, "test", "missing")
		storeWantCode(t, "GetPaymentForUpdate of a missing payment", err, provider.CodeNotFound)
		return tx.PutPayment(ctx, &p1)
	})
	got, err = s.GetPayment(ctx, "test", "PGPWF1")
	if err != nil {
		t.Fatalf("GetPayment after update: %v", err)
	}
	storeSamePayment(t, *got, p1)

	list, err := s.ListLinkPayments(ctx, "test", "link-1")
	if err != nil {
		t.Fatalf("ListLinkPayments: %v", err)
	}
	if len(list) != 3 || list[0].ID != "PGPWF0" || list[1].ID != "PGPWF1" || list[2].ID != "PGPWF2" {
		t.Fatalf("ListLinkPayments: got %d payments %v, want [PGPWF0 PGPWF1 PGPWF2] (oldest created first)", len(list), list)
	}
	storeSamePayment(t, list[2], p2)
	got, err = s.GetPayment(ctx, "test", "PGPWF3")
	if err != nil {
		t.Fatalf("GetPayment: %v", err)
	}
	storeSamePayment(t, *got, other)
	none, err := s.ListLinkPayments(ctx, "test", "no-such-link")
	if err != nil || len(none) != 0 {
		t.Fatalf("ListLinkPayments of a link without payments: %v, %v; want empty, nil", none, err)
	}
}

func storeTestStatusHistory(t *testing.T, s provider.Store) {
	ctx := storeCtx(t)
	want := []provider.StatusChange{
		{Provider: "test", PaymentID: "h1", To: provider.PaymentPending, Source: provider.SourceCallback, At: storeBase},
		{Provider: "test", PaymentID: "h1", From: provider.PaymentPending, To: provider.PaymentCancelled, Source: provider.SourceReconcile, At: storeBase.Add(time.Second)},
		{Provider: "test", PaymentID: "h1", From: provider.PaymentCancelled, To: provider.PaymentSuccessful, Source: provider.SourceCallback, At: storeBase.Add(2 * time.Second)},
	}
	for _, c := range want {
		storeDo(t, s, func(ctx context.Context, tx provider.Tx) error {
			if err := tx.AddStatusChange(ctx, c); err != nil {
				return err
			}
			return tx.AddStatusChange(ctx, provider.StatusChange{Provider: "test", PaymentID: "h2", To: c.To, Source: c.Source, At: c.At})
		})
	}
	got, err := s.ListStatusChanges(ctx, "test", "h1")
	if err != nil {
		t.Fatalf("ListStatusChanges: %v", err)
	}
	if len(got) != len(want) {
		t.Fatalf("ListStatusChanges: got %d changes, want %d", len(got), len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if !g.At.Equal(w.At) {
			t.Errorf("change %d: At %v, want %v", i, g.At, w.At)
		}
		g.At, w.At = time.Time{}, time.Time{}
		if g != w {
			t.Errorf("change %d: got %+v, want %+v", i, g, w)
		}
	}
	none, err := s.ListStatusChanges(ctx, "test", "never-seen")
	if err != nil || len(none) != 0 {
		t.Fatalf("ListStatusChanges of an unknown payment: %v, %v; want empty, nil", none, err)
	}
}

func storeTestCallbacks(t *testing.T, s provider.Store) {
	ctx := storeCtx(t)
	body := []byte("data=%7B%22id%22%3A%22c1%22%7D&token=redacted")
	recs := []provider.CallbackRecord{
		{Provider: "test", PaymentID: "c1", LinkID: "l1", Status: provider.PaymentSuccessful, Amount: provider.Rupiah(45000), Body: body, Verdict: provider.VerdictApplied, ReceivedAt: storeBase},
		{Provider: "test", PaymentID: "c1", LinkID: "l1", Status: provider.PaymentSuccessful, Amount: provider.Rupiah(45000), Body: body, Verdict: provider.VerdictDuplicate, ReceivedAt: storeBase.Add(time.Second)},
		{Provider: "test", PaymentID: "c1", LinkID: "l1", Status: provider.PaymentSuccessful, Amount: provider.Rupiah(45000), Body: body, Verdict: provider.VerdictDuplicate, ReceivedAt: storeBase.Add(2 * time.Second)},
		{Provider: "test", PaymentID: "c2", LinkID: "l2", Status: provider.PaymentSuccessful, Amount: provider.Rupiah(1), Body: []byte("x"), Verdict: provider.VerdictAmountMismatch, ReceivedAt: storeBase.Add(3 * time.Second)},
	}
	ids := map[int64]bool{}
	for i := range recs {
		storeDo(t, s, func(ctx context.Context, tx provider.Tx) error { return tx.RecordCallback(ctx, &recs[i]) })
		if recs[i].ID == 0 || ids[recs[i].ID] {
			t.Fatalf("RecordCallback %d: ID %d, want a new non-zero id", i, recs[i].ID)
		}
		ids[recs[i].ID] = true
	}

	list := func(f provider.CallbackFilter) []provider.CallbackRecord {
		t.Helper()
		got, err := s.ListCallbacks(ctx, f)
		if err != nil {
			t.Fatalf("ListCallbacks(%+v): %v", f, err)
		}
		return got
	}
	ids4 := func(rs []provider.CallbackRecord) []int64 {
		out := make([]int64, len(rs))
		for i, r := range rs {
			out[i] = r.ID
		}
		return out
	}
	all := list(provider.CallbackFilter{})
	if got, want := ids4(all), []int64{recs[3].ID, recs[2].ID, recs[1].ID, recs[0].ID}; !reflect.DeepEqual(got, want) {
		t.Fatalf("all callbacks: got ids %v, want %v (newest first, duplicates kept)", got, want)
	}
	g, w := all[3], recs[0]
	if !g.ReceivedAt.Equal(w.ReceivedAt) || !bytes.Equal(g.Body, w.Body) {
		t.Errorf("callback round trip: got %+v, want %+v", g, w)
	}
	g.ReceivedAt, w.ReceivedAt, g.Body, w.Body = time.Time{}, time.Time{}, nil, nil
	if !reflect.DeepEqual(g, w) {
		t.Errorf("callback round trip:\n got %+v\nwant %+v", g, w)
	}

	if got := list(provider.CallbackFilter{PaymentID: "c1"}); len(got) != 3 {
		t.Errorf("PaymentID filter: got %d callbacks, want 3", len(got))
	}
	if got := list(provider.CallbackFilter{LinkID: "l2"}); len(got) != 1 || got[0].ID != recs[3].ID {
		t.Errorf("LinkID filter: got %v, want only the l2 callback", ids4(got))
	}
	if got := list(provider.CallbackFilter{Provider: "other"}); len(got) != 0 {
		t.Errorf("Provider filter: got %d callbacks, want 0", len(got))
	}
	if got := list(provider.CallbackFilter{Flagged: true}); len(got) != 1 || got[0].Verdict != provider.VerdictAmountMismatch {
		t.Errorf("Flagged filter: got %v, want only the amount mismatch", ids4(got))
	}
	if got := list(provider.CallbackFilter{PaymentID: "c1", Limit: 2}); !reflect.DeepEqual(ids4(got), []int64{recs[2].ID, recs[1].ID}) {
		t.Errorf("Limit 2: got %v, want the two newest", ids4(got))
	}
}

func storeEvent(paymentID string, status provider.PaymentStatus) provider.HookEvent {
	p := storePayment(paymentID, "link-"+paymentID)
	p.Status = status
	l := storeLink("link-" + paymentID)
	key := provider.EventKey{Provider: "test", PaymentID: paymentID, Status: status}
	return provider.HookEvent{
		ID: key.String(), Status: status, Previous: provider.PaymentPending,
		Payment: p, Link: l, Source: provider.SourceCallback, OccurredAt: storeBase.Add(5 * time.Minute),
	}
}

func storeEnqueue(t *testing.T, s provider.Store, ev provider.HookEvent, hooks ...string) {
	t.Helper()
	storeDo(t, s, func(ctx context.Context, tx provider.Tx) error {
		if _, err := tx.ClaimEvent(ctx, provider.EventKey{Provider: ev.Payment.Provider, PaymentID: ev.Payment.ID, Status: ev.Status}); err != nil {
			return err
		}
		return tx.EnqueueHooks(ctx, ev, hooks)
	})
}

func storeTestInTxRollback(t *testing.T, s provider.Store) {
	ctx := storeCtx(t)
	boom := errors.New("boom")
	l := storeLink("rolled")
	p := storePayment("rolled-p", "rolled")
	ev := storeEvent("rolled-p", provider.PaymentSuccessful)
	err := s.InTx(ctx, func(ctx context.Context, tx provider.Tx) error {
		if err := tx.PutLink(ctx, &l); err != nil {
			return err
		}
		if err := tx.PutPayment(ctx, &p); err != nil {
			return err
		}
		if err := tx.RecordCallback(ctx, &provider.CallbackRecord{Provider: "test", PaymentID: p.ID, LinkID: l.ID, Status: provider.PaymentSuccessful, Verdict: provider.VerdictApplied}); err != nil {
			return err
		}
		if err := tx.AddStatusChange(ctx, provider.StatusChange{Provider: "test", PaymentID: p.ID, To: provider.PaymentSuccessful, Source: provider.SourceCallback}); err != nil {
			return err
		}
		if _, err := tx.ClaimEvent(ctx, storeKey(p.ID, provider.PaymentSuccessful)); err != nil {
			return err
		}
		if err := tx.EnqueueHooks(ctx, ev, []string{"h"}); err != nil {
			return err
		}
		return fmt.Errorf("after writing everything: %w", boom)
	})
	if !errors.Is(err, boom) {
		t.Fatalf("InTx returned %v, want fn's error", err)
	}
	_, err = s.GetLink(ctx, "test", l.ID)
	storeWantCode(t, "GetLink after rollback", err, provider.CodeNotFound)
	_, err = s.GetPayment(ctx, "test", p.ID)
	storeWantCode(t, "GetPayment after rollback", err, provider.CodeNotFound)
	if cbs, err := s.ListCallbacks(ctx, provider.CallbackFilter{}); err != nil || len(cbs) != 0 {
		t.Errorf("callbacks after rollback: %d, %v; want none", len(cbs), err)
	}
	if hs, err := s.ListStatusChanges(ctx, "test", p.ID); err != nil || len(hs) != 0 {
		t.Errorf("status changes after rollback: %d, %v; want none", len(hs), err)
	}
	if runs, err := s.ListHookRuns(ctx, provider.HookRunFilter{}); err != nil || len(runs) != 0 {
		t.Errorf("hook runs after rollback: %d, %v; want none", len(runs), err)
	}
	if !storeClaim(t, s, storeKey(p.ID, provider.PaymentSuccessful)) {
		t.Error("claim after rollback: got false, want true")
	}
}

func storeTestInTxRollbackRestores(t *testing.T, s provider.Store) {
	ctx := storeCtx(t)
	l := storeLink("kept")
	p := storePayment("kept-p", "kept")
	storeDo(t, s, func(ctx context.Context, tx provider.Tx) error {
		if err := tx.PutLink(ctx, &l); err != nil {
			return err
		}
		return tx.PutPayment(ctx, &p)
	})
	boom := errors.New("boom")
	err := s.InTx(ctx, func(ctx context.Context, tx provider.Tx) error {
		l2, p2 := l, p
		l2.Title, l2.Status = "Changed", provider.LinkInactive
		p2.Status = provider.PaymentSuccessful
		if err := tx.PutLink(ctx, &l2); err != nil {
			return err
		}
		if err := tx.PutPayment(ctx, &p2); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("InTx returned %v, want fn's error", err)
	}
	gotL, err := s.GetLink(ctx, "test", l.ID)
	if err != nil || gotL.Title != l.Title || gotL.Status != provider.LinkActive {
		t.Errorf("link after rollback = %+v, %v; want the committed one", gotL, err)
	}
	gotP, err := s.GetPayment(ctx, "test", p.ID)
	if err != nil || gotP.Status != provider.PaymentPending {
		t.Errorf("payment after rollback = %+v, %v; want PENDING", gotP, err)
	}
}

// storeCall is one DispatchHook call as a hook saw it.
type storeCall struct {
	Run provider.HookRun
	Ev  provider.HookEvent
}

// storeRecorder is a HookDispatcher that records every call and answers
// with the behaviour set for the hook (nil: succeed).
type storeRecorder struct {
	mu       sync.Mutex
	calls    []storeCall
	behavior map[string]func(run provider.HookRun) error
}

func newStoreRecorder() *storeRecorder {
	return &storeRecorder{behavior: map[string]func(provider.HookRun) error{}}
}

func (r *storeRecorder) set(hook string, fn func(run provider.HookRun) error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.behavior[hook] = fn
}

// DispatchHook records the call, then runs the hook's behaviour.
func (r *storeRecorder) DispatchHook(_ context.Context, run provider.HookRun, ev provider.HookEvent) error {
	r.mu.Lock()
	r.calls = append(r.calls, storeCall{Run: run, Ev: ev})
	fn := r.behavior[run.Hook]
	r.mu.Unlock()
	if fn == nil {
		return nil
	}
	return fn(run)
}

func (r *storeRecorder) callsOf(eventID, hook string) []storeCall {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []storeCall
	for _, c := range r.calls {
		if c.Run.EventID == eventID && c.Run.Hook == hook {
			out = append(out, c)
		}
	}
	return out
}

// storeFastPolicy retries quickly so failure tests finish in seconds.
func storeFastPolicy(maxAttempts int) provider.HookPolicy {
	return provider.HookPolicy{
		MaxAttempts: maxAttempts,
		Backoff:     func(int) time.Duration { return 10 * time.Millisecond },
		Timeout:     storeDeadline,
	}
}

func storeStart(t *testing.T, s provider.Store, d provider.HookDispatcher, policy provider.HookPolicy) {
	t.Helper()
	if err := s.StartHooks(context.Background(), d, policy); err != nil {
		t.Fatalf("StartHooks: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), storeDeadline)
		defer cancel()
		if err := s.StopHooks(ctx); err != nil {
			t.Errorf("StopHooks: %v", err)
		}
	})
}

// storeWaitRun polls until the single run of (eventID, hook) satisfies ok,
// and returns it.
func storeWaitRun(t *testing.T, s provider.Store, eventID, hook string, what string, ok func(provider.HookRun) bool) provider.HookRun {
	t.Helper()
	deadline := time.Now().Add(storeDeadline)
	var last []provider.HookRun
	for {
		runs, err := s.ListHookRuns(context.Background(), provider.HookRunFilter{EventID: eventID, Hook: hook})
		if err != nil {
			t.Fatalf("ListHookRuns: %v", err)
		}
		if len(runs) > 1 {
			t.Fatalf("event %s has %d runs of hook %s, want 1", eventID, len(runs), hook)
		}
		if len(runs) == 1 && ok(runs[0]) {
			return runs[0]
		}
		last = runs
		if time.Now().After(deadline) {
			t.Fatalf("hook %s of %s: not %s within %s; runs: %+v", hook, eventID, what, storeDeadline, last)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func storeInState(state provider.HookRunState) func(provider.HookRun) bool {
	return func(r provider.HookRun) bool { return r.State == state }
}

// storeSameEvent checks that a hook received the event as enqueued.
func storeSameEvent(t *testing.T, got, want provider.HookEvent) {
	t.Helper()
	if got.ID != want.ID || got.Status != want.Status || got.Previous != want.Previous || got.Source != want.Source {
		t.Errorf("hook event: got id %q status %s previous %s source %s; want %q %s %s %s",
			got.ID, got.Status, got.Previous, got.Source, want.ID, want.Status, want.Previous, want.Source)
	}
	if !got.OccurredAt.Equal(want.OccurredAt) {
		t.Errorf("hook event OccurredAt: got %v, want %v", got.OccurredAt, want.OccurredAt)
	}
	storeSamePayment(t, got.Payment, want.Payment)
	storeSameLink(t, got.Link, want.Link)
}

func storeTestHooksDeliveredOnce(t *testing.T, s provider.Store) {
	rec := newStoreRecorder()
	storeStart(t, s, rec, storeFastPolicy(3))
	ev := storeEvent("once", provider.PaymentSuccessful)
	storeEnqueue(t, s, ev, "mark_paid", "send_receipt")

	for _, hook := range []string{"mark_paid", "send_receipt"} {
		run := storeWaitRun(t, s, ev.ID, hook, "succeeded", storeInState(provider.HookRunSucceeded))
		if run.Attempts != 1 || run.LastError != "" || run.IdempotencyKey == "" {
			t.Errorf("%s: run %+v; want 1 attempt, no error, an idempotency key", hook, run)
		}
		calls := rec.callsOf(ev.ID, hook)
		if len(calls) != 1 {
			t.Fatalf("%s: called %d times, want once", hook, len(calls))
		}
		c := calls[0]
		if c.Run.ID != run.ID || c.Run.EventID != ev.ID || c.Run.Hook != hook || c.Run.Attempts != 0 {
			t.Errorf("%s: dispatched run %+v; want id %d, event %s, 0 finished attempts", hook, c.Run, run.ID, ev.ID)
		}
		if c.Run.IdempotencyKey != run.IdempotencyKey {
			t.Errorf("%s: dispatched idempotency key %q, ListHookRuns says %q", hook, c.Run.IdempotencyKey, run.IdempotencyKey)
		}
		storeSameEvent(t, c.Ev, ev)
	}
	mark := rec.callsOf(ev.ID, "mark_paid")[0].Run.IdempotencyKey
	receipt := rec.callsOf(ev.ID, "send_receipt")[0].Run.IdempotencyKey
	if mark == receipt {
		t.Errorf("two hooks of one event share the idempotency key %q", mark)
	}

	// Enqueuing the same event and hooks again creates no second run.
	storeDo(t, s, func(ctx context.Context, tx provider.Tx) error {
		return tx.EnqueueHooks(ctx, ev, []string{"mark_paid"})
	})
	runs, err := s.ListHookRuns(context.Background(), provider.HookRunFilter{EventID: ev.ID})
	if err != nil {
		t.Fatalf("ListHookRuns: %v", err)
	}
	if len(runs) != 2 {
		t.Fatalf("after enqueuing again: %d runs, want 2", len(runs))
	}
	if got, err := s.ListHookRuns(context.Background(), provider.HookRunFilter{State: provider.HookRunSucceeded, Limit: 1}); err != nil || len(got) != 1 {
		t.Errorf("ListHookRuns with state and limit: %d runs, %v; want 1", len(got), err)
	}
}

func storeTestHookRetriedThenFailed(t *testing.T, s provider.Store) {
	rec := newStoreRecorder()
	rec.set("flaky", func(run provider.HookRun) error {
		if run.Attempts < 2 {
			return fmt.Errorf("flaky attempt %d", run.Attempts+1)
		}
		return nil
	})
	rec.set("broken", func(run provider.HookRun) error { return errors.New("mail server down") })
	storeStart(t, s, rec, storeFastPolicy(3))
	ev := storeEvent("retry", provider.PaymentSuccessful)
	storeEnqueue(t, s, ev, "flaky", "broken")

	flaky := storeWaitRun(t, s, ev.ID, "flaky", "succeeded", storeInState(provider.HookRunSucceeded))
	if flaky.Attempts != 3 || flaky.LastError != "" {
		t.Errorf("flaky run: %+v; want succeeded on attempt 3 with no error left", flaky)
	}
	broken := storeWaitRun(t, s, ev.ID, "broken", "failed", storeInState(provider.HookRunFailed))
	if broken.Attempts != 3 || !strings.Contains(broken.LastError, "mail server down") {
		t.Errorf("broken run: %+v; want 3 attempts and the hook's error", broken)
	}
	calls := rec.callsOf(ev.ID, "broken")
	if len(calls) != 3 {
		t.Fatalf("broken hook called %d times, want MaxAttempts = 3", len(calls))
	}
	for i, c := range calls {
		if c.Run.Attempts != i || c.Run.IdempotencyKey != broken.IdempotencyKey {
			t.Errorf("call %d: run attempts %d key %q; want %d and %q", i, c.Run.Attempts, c.Run.IdempotencyKey, i, broken.IdempotencyKey)
		}
	}
	if n := len(rec.callsOf(ev.ID, "flaky")); n != 3 {
		t.Errorf("flaky hook called %d times, want 3", n)
	}
}

func storeTestHookPanics(t *testing.T, s provider.Store) {
	rec := newStoreRecorder()
	rec.set("panicky", func(run provider.HookRun) error {
		if run.Attempts == 0 {
			panic("hook bug")
		}
		return nil
	})
	storeStart(t, s, rec, storeFastPolicy(3))
	ev := storeEvent("panic", provider.PaymentSuccessful)
	storeEnqueue(t, s, ev, "panicky")
	run := storeWaitRun(t, s, ev.ID, "panicky", "succeeded", storeInState(provider.HookRunSucceeded))
	if run.Attempts != 2 {
		t.Errorf("run after one panic: %+v; want succeeded on attempt 2", run)
	}
}

func storeTestRetryHookRun(t *testing.T, s provider.Store) {
	rec := newStoreRecorder()
	var mu sync.Mutex
	failing := true
	rec.set("h", func(provider.HookRun) error {
		mu.Lock()
		defer mu.Unlock()
		if failing {
			return errors.New("not yet")
		}
		return nil
	})
	storeStart(t, s, rec, storeFastPolicy(2))
	ev := storeEvent("again", provider.PaymentSuccessful)
	storeEnqueue(t, s, ev, "h")
	failed := storeWaitRun(t, s, ev.ID, "h", "failed", storeInState(provider.HookRunFailed))

	mu.Lock()
	failing = false
	mu.Unlock()
	if err := s.RetryHookRun(storeCtx(t), failed.ID); err != nil {
		t.Fatalf("RetryHookRun of a failed run: %v", err)
	}
	done := storeWaitRun(t, s, ev.ID, "h", "succeeded", storeInState(provider.HookRunSucceeded))
	if done.Attempts != 1 || done.ID != failed.ID || done.IdempotencyKey != failed.IdempotencyKey {
		t.Errorf("retried run: %+v; want the same run and key, succeeded after 1 fresh attempt", done)
	}
	calls := rec.callsOf(ev.ID, "h")
	if len(calls) != 3 {
		t.Fatalf("hook called %d times, want 2 failures + 1 after RetryHookRun", len(calls))
	}
	if last := calls[2].Run; last.Attempts != 0 {
		t.Errorf("first call after RetryHookRun: run attempts %d, want 0 (a fresh budget)", last.Attempts)
	}
}

func storeTestRetryHookRunNotFailed(t *testing.T, s provider.Store) {
	ctx := storeCtx(t)
	ev := storeEvent("pending", provider.PaymentSuccessful)
	storeEnqueue(t, s, ev, "h") // hooks are not started: the run stays pending
	runs, err := s.ListHookRuns(ctx, provider.HookRunFilter{EventID: ev.ID})
	if err != nil || len(runs) != 1 {
		t.Fatalf("ListHookRuns: %d runs, %v; want 1", len(runs), err)
	}
	if runs[0].State != provider.HookRunPending || runs[0].Attempts != 0 {
		t.Fatalf("new run: %+v; want pending with 0 attempts", runs[0])
	}
	err = s.RetryHookRun(ctx, runs[0].ID)
	storeWantCode(t, "RetryHookRun of a pending run", err, provider.CodeFailedPrecondition)

	rec := newStoreRecorder()
	storeStart(t, s, rec, storeFastPolicy(3))
	run := storeWaitRun(t, s, ev.ID, "h", "succeeded", storeInState(provider.HookRunSucceeded))
	err = s.RetryHookRun(ctx, run.ID)
	storeWantCode(t, "RetryHookRun of a succeeded run", err, provider.CodeFailedPrecondition)
	err = s.RetryHookRun(ctx, run.ID+1000)
	storeWantCode(t, "RetryHookRun of an unknown run", err, provider.CodeNotFound)
}

func storeTestHooksBeforeStart(t *testing.T, s provider.Store) {
	evs := []provider.HookEvent{
		storeEvent("early-1", provider.PaymentSuccessful),
		storeEvent("early-2", provider.PaymentCancelled),
	}
	for _, ev := range evs {
		storeEnqueue(t, s, ev, "h")
	}
	rec := newStoreRecorder()
	storeStart(t, s, rec, storeFastPolicy(3))
	for _, ev := range evs {
		storeWaitRun(t, s, ev.ID, "h", "succeeded", storeInState(provider.HookRunSucceeded))
		if calls := rec.callsOf(ev.ID, "h"); len(calls) != 1 {
			t.Errorf("%s: called %d times, want once", ev.ID, len(calls))
		} else {
			storeSameEvent(t, calls[0].Ev, ev)
		}
	}
}

func storeTestRolledBackEnqueue(t *testing.T, s provider.Store) {
	rec := newStoreRecorder()
	storeStart(t, s, rec, storeFastPolicy(3))
	ctx := storeCtx(t)
	ghost := storeEvent("ghost", provider.PaymentSuccessful)
	boom := errors.New("boom")
	err := s.InTx(ctx, func(ctx context.Context, tx provider.Tx) error {
		if err := tx.EnqueueHooks(ctx, ghost, []string{"h"}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("InTx returned %v, want fn's error", err)
	}
	// An event committed afterwards is delivered; by then the rolled-back
	// one would have been too, had it survived.
	real := storeEvent("real", provider.PaymentSuccessful)
	storeEnqueue(t, s, real, "h")
	storeWaitRun(t, s, real.ID, "h", "succeeded", storeInState(provider.HookRunSucceeded))
	if calls := rec.callsOf(ghost.ID, "h"); len(calls) != 0 {
		t.Fatalf("rolled-back event delivered %d times, want never", len(calls))
	}
	if runs, err := s.ListHookRuns(ctx, provider.HookRunFilter{EventID: ghost.ID}); err != nil || len(runs) != 0 {
		t.Fatalf("rolled-back event has %d runs (%v), want none", len(runs), err)
	}
}
