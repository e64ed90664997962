package providertest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/paylinkgo/paylink/provider"
)

// storeDeadline bounds every wait for asynchronous hook delivery. It is
// generous on purpose: the suite must pass on a loaded two-core machine,
// and a passing wait returns as soon as its condition holds.
const storeDeadline = 30 * time.Second

// suiteStore is what the suite tests: the required Store, and the
// Reader and Pruner it reads back and prunes through.
type suiteStore interface {
	provider.Store
	provider.Reader
	provider.Pruner
}

// TestStore runs the Store conformance suite, and the HookQueue suite
// when the store is also a [provider.HookQueue] (it must then be a
// [provider.Reader] too). newStore returns a fresh,
// empty, migrated store; it is called once per subtest and should register
// its own cleanup (closing databases, dropping schemas) with t.Cleanup.
// Subtests run in parallel.
//
// What the suite pins down, beyond the doc comments of provider.Store and
// provider.HookQueue:
//   - times come back equal (time.Time.Equal) at microsecond precision;
//   - SaveLink replaces the stored link, IdempotencyKey included, and
//     gives every write a new UpdatedAt;
//   - ListLinkPayments orders by the payment's CreatedAt;
//   - ListLinks lists never-reconciled links first, oldest created first,
//     then the least recently reconciled, each link whole (Raw included:
//     the reconciler hands it to the provider);
//   - Apply is all or nothing: a refused write (ErrWriteConflict) leaves
//     no callback, payment, status change, claim or hook run behind, and
//     of concurrent writes claiming one key exactly one succeeds;
//   - a payment's RefundedAmount, and a status change's Refunded, come
//     back as written; claims keep an EventKey's Refunded (a partial
//     refund of another cumulative amount is another key) and hold the
//     longest key, a flagged partial chargeback of the largest amount;
//   - of concurrent writes decided on one read of a payment, with
//     distinct claims, exactly one succeeds: Apply's precondition covers
//     the refunded amount as well as the status;
//   - SaveLink is all or nothing: a refused part (an intent of another
//     link, a stale PreviousUpdatedAt) leaves the link as it was;
//   - concurrent SaveLinks of one new link with an idempotency key (the
//     call that made it and one that recovered it) all succeed: one
//     inserts, the others update;
//   - a claimed hook run comes with the event bytes Apply stored, and
//     counts the claim as an attempt; only the lease holder's outcome counts;
//   - a Requeue of an unknown id is CodeNotFound, and a failed Requeue
//     records nothing of its batch;
//   - due times and leases are on the store's clock: a claim made while
//     a lease holds gets nothing, whatever the claiming process's clock,
//     and two Services whose clocks differ by 15 s never run one hook
//     run at once;
//   - Prune compares callbacks' ReceivedAt, hook runs' last update and
//     events' storing with before on the store's clock, and removes the
//     oldest first; callbacks with a verdict in Keep go only before
//     KeptBefore, and never when it is zero;
//   - a link intent comes back from PutLinkIntent field for field, and is
//     completed by the SaveLink that stores its link;
//   - ListCallbacks orders by ReceivedAt, then ID, newest first, and
//     BeforeID pages in that order;
//   - when the store is a provider.ActionLog: actions come back field for
//     field, newest first, Prune keeps them, and provider.Service.Act over
//     a MemProvider records each action with its actor and outcome;
//   - through provider.Service over a MemProvider, a link asked for with
//     an idempotency key is made once: also when the process dies between
//     the provider's answer and the store, and when calls race.
func TestStore(t *testing.T, newStore func(t *testing.T) provider.Store) {
	t.Helper()
	open := func(t *testing.T) suiteStore {
		t.Helper()
		st := newStore(t)
		s, ok := st.(suiteStore)
		if !ok {
			t.Fatalf("%T is not a provider.Reader and a provider.Pruner: the suite reads back what it writes through them", st)
		}
		return s
	}
	type test struct {
		name string
		fn   func(t *testing.T, s suiteStore)
	}
	tests := []test{
		{"LinkRoundTripAndNotFound", storeTestLinkRoundTrip},
		{"IdempotencyKeyLookupAndConflict", storeTestIdempotencyKey},
		{"PutLinkUpdates", storeTestPutLinkUpdates},
		{"ListActiveLinksAndTheReconciliationMark", storeTestListLinks},
		{"ListLinksByPaymentStatus", storeTestListLinksWithPayments},
		{"LoadApplyOfNothing", storeTestLoadApplyEmpty},
		{"ApplyWritesEverythingOnce", storeTestApplyRoundTrip},
		{"ApplyUpdatesPaymentAndLink", storeTestApplyUpdate},
		{"ApplyRefusesAClaimedKey", storeTestApplyClaimConflict},
		{"ApplyRefusesAChangedPayment", storeTestApplyPaymentConflict},
		{"ApplyConcurrentClaimsOneWins", storeTestApplyConcurrent},
		{"FlaggedClaimsAreTheirOwnKeys", storeTestFlaggedClaims},
		{"RefundedAmountRoundTrips", storeTestRefundedAmountRoundTrips},
		{"ClaimsAreKeyedByTheRefundedAmount", storeTestClaimsKeyedByRefundedAmount},
		{"ApplyRefusesAChangedRefundedAmount", storeTestApplyRefusesAChangedRefundedAmount},
		{"ConcurrentPartialRefundsOneWins", storeTestConcurrentPartialRefundsOneWins},
		{"PaymentsListedOldestFirst", storeTestPaymentOrder},
		{"StatusHistoryOrder", storeTestStatusHistory},
		{"CallbacksRecordedAndFiltered", storeTestCallbacks},
		{"FlaggedFilterKnowsEveryFlaggedVerdict", storeTestFlaggedFilter},
		{"CallbackByID", storeTestCallbackByID},
		{"CallbacksByVerdictAndPages", storeTestCallbackPages},
		{"PruneRemovesOldCallbacksAndKeepsTheLedger", storeTestPruneCallbacks},
		{"PruneKeepsTheKeptVerdictsUntilKeptBefore", storeTestPruneKeepsVerdicts},
		{"SaveLinkRefusesAWriteOverAChangedLink", storeTestSaveLinkPrecondition},
		{"LoadApplyNamesTheLinksOtherPaidPayment", storeTestLoadApplyNamesTheLinksOtherPaidPayment},
		{"SaveLinkIsAllOrNothing", storeTestSaveLinkAllOrNothing},
		{"SaveLinkConcurrentSavesOfOneNewLink", storeTestSaveLinkConcurrentNew},
		{"LinkIntentStoredOncePerKey", storeTestLinkIntentPutOnce},
		{"LinkIntentConcurrentPutsStoreOne", storeTestLinkIntentConcurrent},
		{"LinkIntentCompletedOnce", storeTestLinkIntentComplete},
		{"LinkIntentDeleteFreesAPendingKey", storeTestLinkIntentDelete},
		{"LinkAndIntentSavedTogether", storeTestLinkIntentSavedWithLink},
		{"CreateLinkWithAKeyAsksTheProviderOnce", createTestOneProviderCall},
		{"CreateLinkKeyReusedWithOtherParametersIsAConflict", createTestConflict},
		{"CreateLinkAfterACrashFindsTheLinkTheProviderMade", createTestCrashAfterTheProviderMadeTheLink},
		{"CreateLinkAfterACrashBeforeTheRequestCreatesItOnce", createTestCrashBeforeTheProviderMadeTheLink},
		{"CreateLinkRecoveryIgnoresLinksOfOtherKeys", createTestRecoveryIgnoresOtherKeysLinks},
		{"CreateLinkRecoveryWithSeveralCandidatesRefuses", createTestAmbiguousRecoveryRefuses},
		{"CreateLinkRecoveryWithoutLinkFinderCreatesAgain", createTestNoLinkFinderCreatesAgain},
		{"CreateLinkRefusedByTheProviderFreesTheKey", createTestRefusalFreesTheKey},
		{"CreateLinkConcurrentCallsWithOneKeyMakeOneLink", createTestConcurrentCallsMakeOneLink},
	}
	if _, ok := newStore(t).(provider.HookQueue); ok {
		queue := func(fn func(*testing.T, suiteStore, hookQueue)) func(*testing.T, suiteStore) {
			return func(t *testing.T, s suiteStore) { fn(t, s, s.(hookQueue)) }
		}
		tests = append(tests,
			test{"QueueRunsCreatedOncePerEventAndHook", queue(queueTestRunsCreated)},
			test{"QueueClaimsOnlyNamedDueRuns", queue(queueTestClaimFilters)},
			test{"QueueLeaseLapsesAndCountsAttempts", queue(queueTestLeaseLapses)},
			test{"QueueConcurrentClaimsNeverShareARun", queue(queueTestClaimConcurrent)},
			test{"QueueOnlyTheLeaseHolderFinishes", queue(queueTestFinishFencing)},
			test{"QueueRetryingRunWaitsUntilDue", queue(queueTestRetryDue)},
			test{"QueueReleaseDoesNotCountTheAttempt", queue(queueTestRelease)},
			test{"QueueExtendedLeaseHolds", queue(queueTestExtend)},
			test{"QueueRequeuePutsAFailedRunBack", queue(queueTestRequeue)},
			test{"QueueRunsInsertedLeasedAreTheWritersOwn", queue(queueTestRunsInsertedLeased)},
			test{"QueueLeaseIsOnTheStoresClock", queue(queueTestLeaseOnTheStoresClock)},
			test{"QueueSkewedReplicasNeverRunAHookTwiceAtOnce", queue(queueTestSkewedReplicas)},
			test{"QueueRunWithoutEventComesWithoutOne", queue(queueTestNoEvent)},
			test{"QueueBacklogCountsDueUnfinishedRuns", queue(queueTestBacklog)},
			test{"PruneRemovesSucceededRunsAndFinishedPayloads", queue(queueTestPrune)},
			test{"PruneBatchesAreBounded", queue(queueTestPruneBatches)},
			test{"QueueListsByIDAndByPayment", queue(queueTestListFilters)},
		)
	}
	if _, ok := newStore(t).(provider.ActionLog); ok {
		actions := func(fn func(*testing.T, suiteStore, provider.ActionLog)) func(*testing.T, suiteStore) {
			return func(t *testing.T, s suiteStore) { fn(t, s, s.(provider.ActionLog)) }
		}
		tests = append(tests,
			test{"ActionsRecordedAndFiltered", actions(actionTestRecordAndList)},
			test{"PruneKeepsTheActionLog", actions(actionTestPruneKeepsActions)},
			test{"ActRecordsEveryActionWithItsActor", actions(actTestRecorded)},
			test{"ReprocessAppliesACallbackWhoseLinkArrivedLater", actions(actTestReprocessUnknownLink)},
		)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.fn(t, open(t))
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

// storeSave writes w and fails the test on error.
func storeSave(t *testing.T, s suiteStore, w provider.LinkWrite) {
	t.Helper()
	if err := s.SaveLink(storeCtx(t), &w); err != nil {
		t.Fatalf("SaveLink(%s %s): %v", w.Provider, w.ID, err)
	}
}

// storePutLinks saves each link (setting its CreatedAt and UpdatedAt).
func storePutLinks(t *testing.T, s suiteStore, links ...provider.Link) {
	t.Helper()
	for i := range links {
		storeSave(t, s, provider.LinkWrite{Provider: links[i].Provider, ID: links[i].ID, Link: &links[i]})
	}
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

func storeTestLinkRoundTrip(t *testing.T, s suiteStore) {
	ctx := storeCtx(t)
	want := storeLink("1234567890123456789") // 19 digits, like Flip's bill ids
	storePutLinks(t, s, want)

	got, err := s.GetLink(ctx, "test", want.ID)
	if err != nil {
		t.Fatalf("GetLink: %v", err)
	}
	storeSameLink(t, *got, want)

	_, err = s.GetLink(ctx, "test", "missing")
	storeWantCode(t, "GetLink of a missing link", err, provider.CodeNotFound)
	_, err = s.GetLink(ctx, "other-provider", want.ID)
	storeWantCode(t, "GetLink under another provider", err, provider.CodeNotFound)
}

func storeTestIdempotencyKey(t *testing.T, s suiteStore) {
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
	err = s.SaveLink(ctx, &provider.LinkWrite{Provider: b.Provider, ID: b.ID, Link: &b})
	storeWantCode(t, "SaveLink reusing another link's idempotency key", err, provider.CodeConflict)
	_, err = s.GetLink(ctx, "test", "b")
	storeWantCode(t, "GetLink of the refused link", err, provider.CodeNotFound)

	// Putting the same link again with its own key is an update, not a clash.
	a.Title = "renamed"
	storePutLinks(t, s, a)
	if got, err := s.GetLinkByIdempotencyKey(ctx, "order-1"); err != nil || got.Title != "renamed" {
		t.Fatalf("after re-put: got %+v, %v; want title %q", got, err, "renamed")
	}
}

func storeTestSaveLinkConcurrentNew(t *testing.T, s suiteStore) {
	const n = 8
	for round := range 5 {
		id := fmt.Sprintf("race-%d", round)
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range n {
			wg.Go(func() {
				l := storeLink(id)
				l.IdempotencyKey = "order-" + id
				errs[i] = s.SaveLink(storeCtx(t), &provider.LinkWrite{Provider: l.Provider, ID: l.ID, Link: &l})
			})
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Errorf("round %d, save %d of one new link: %v", round, i, err)
			}
		}
		if got, err := s.GetLinkByIdempotencyKey(storeCtx(t), "order-"+id); err != nil || got.ID != id {
			t.Fatalf("round %d: link under the key: %+v, %v; want %s", round, got, err, id)
		}
	}
}

func storeTestPutLinkUpdates(t *testing.T, s suiteStore) {
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
	if links, err := s.ListLinks(ctx, provider.LinkFilter{Provider: "test", Active: true}); err != nil || len(links) != 0 {
		t.Fatalf("ListLinks after the only link became inactive: %v, %v; want none", storeLinkIDs(links), err)
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

func storeTestListLinks(t *testing.T, s suiteStore) {
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
		links, err := s.ListLinks(ctx, provider.LinkFilter{Provider: "test", Active: true, Since: since, Limit: limit})
		if err != nil {
			t.Fatalf("ListLinks: %v", err)
		}
		for _, l := range links {
			if l.Provider != "test" || l.Status != provider.LinkActive {
				t.Fatalf("ListLinks returned %s (%s, %s)", l.ID, l.Provider, l.Status)
			}
			// The reconciler hands these links to the provider: whole.
			if want := storeLink(l.ID).Raw; !bytes.Equal(l.Raw, want) {
				t.Fatalf("ListLinks (active) returned %s with Raw %s, want %s (the link as GetLink reads it)", l.ID, l.Raw, want)
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

	storeSave(t, s, provider.LinkWrite{Provider: "test", ID: "a", ReconciledAt: storeBase.Add(10 * time.Hour)})
	storeSave(t, s, provider.LinkWrite{Provider: "test", ID: "c", ReconciledAt: storeBase.Add(5 * time.Hour)})
	if got, want := list(10), []string{"b", "c", "a"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("after reconciling a and c: got %v, want %v (unreconciled, then oldest reconciliation)", got, want)
	}
	storeSave(t, s, provider.LinkWrite{Provider: "test", ID: "b", ReconciledAt: storeBase.Add(11 * time.Hour)})
	if got, want := list(10), []string{"c", "a", "b"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("after reconciling all: got %v, want %v", got, want)
	}
	err := s.SaveLink(ctx, &provider.LinkWrite{Provider: "test", ID: "missing", ReconciledAt: storeBase})
	storeWantCode(t, "marking a missing link reconciled", err, provider.CodeNotFound)
}

func storeTestListLinksWithPayments(t *testing.T, s suiteStore) {
	ctx := storeCtx(t)
	mk := func(id string, created time.Duration, status provider.LinkStatus, prov string) provider.Link {
		l := storeLink(id)
		l.CreatedAt, l.Status, l.Provider = storeBase.Add(created), status, prov
		return l
	}
	storePutLinks(t, s,
		mk("paid", 2*time.Hour, provider.LinkInactive, "test"),
		mk("partly", 1*time.Hour, provider.LinkInactive, "test"),
		mk("multi", 3*time.Hour, provider.LinkActive, "test"), // open, with a paid payment
		mk("refunded", 1*time.Hour, provider.LinkInactive, "test"),
		mk("pending", 1*time.Hour, provider.LinkActive, "test"),
		mk("none", 1*time.Hour, provider.LinkActive, "test"),
		mk("old", -48*time.Hour, provider.LinkInactive, "test"), // before since
	)
	pay := func(id, linkID string, st provider.PaymentStatus, refunded int64) {
		p := storePayment(id, linkID)
		p.Status, p.RawStatus, p.RefundedAmount = st, string(st), provider.Rupiah(refunded)
		storeApply(t, s, storeWrite(p))
	}
	pay("P-paid", "paid", provider.PaymentSuccessful, 0)
	pay("P-partly", "partly", provider.PaymentPartiallyRefunded, 5000)
	pay("P-multi-1", "multi", provider.PaymentFailed, 0)
	pay("P-multi-2", "multi", provider.PaymentSuccessful, 0)
	pay("P-refunded", "refunded", provider.PaymentRefunded, 45000)
	pay("P-pending", "pending", provider.PaymentPending, 0)
	pay("P-old", "old", provider.PaymentSuccessful, 0)
	statuses := []provider.PaymentStatus{provider.PaymentSuccessful, provider.PaymentPartiallyRefunded, provider.PaymentPartiallyChargedBack}

	list := func(prov string, limit int) []string {
		t.Helper()
		links, err := s.ListLinks(ctx, provider.LinkFilter{Provider: prov, PaymentStatuses: statuses, Since: storeBase, Limit: limit})
		if err != nil {
			t.Fatalf("ListLinks by payment status: %v", err)
		}
		for _, l := range links {
			if want := storeLink(l.ID).Raw; !bytes.Equal(l.Raw, want) {
				t.Fatalf("ListLinks (by payment status) returned %s with Raw %s, want %s (the link as GetLink reads it)", l.ID, l.Raw, want)
			}
		}
		return storeLinkIDs(links)
	}
	if got, want := list("test", 10), []string{"partly", "paid", "multi"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("never reconciled: got %v, want %v (links with a payment in the statuses, created since, oldest first)", got, want)
	}
	if got, want := list("test", 2), []string{"partly", "paid"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("limit 2: got %v, want %v", got, want)
	}
	if got := list("other", 10); len(got) != 0 {
		t.Fatalf("another provider's: got %v, want none", got)
	}
	storeSave(t, s, provider.LinkWrite{Provider: "test", ID: "partly", ReconciledAt: storeBase.Add(10 * time.Hour)})
	if got, want := list("test", 10), []string{"paid", "multi", "partly"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("after reconciling partly: got %v, want %v", got, want)
	}
	links, err := s.ListLinks(ctx, provider.LinkFilter{Provider: "test", PaymentStatuses: statuses})
	if err != nil || len(links) != 4 {
		t.Fatalf("without since or limit: %v, %v; want the 4 links, old included", storeLinkIDs(links), err)
	}
	if links, err := s.ListLinks(ctx, provider.LinkFilter{Provider: "test", PaymentStatuses: []provider.PaymentStatus{}}); err != nil || len(links) != 0 {
		t.Fatalf("no statuses: %v, %v; want none", storeLinkIDs(links), err)
	}
}
