package providertest

import (
	"bytes"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/paylinkgo/paylink/provider"
)

// pruneCut returns an instant strictly after everything written so far and
// strictly before everything written after it returns, on the store's own
// clock (hook runs and events are stamped by the store).
func pruneCut() time.Time {
	time.Sleep(5 * time.Millisecond)
	cut := time.Now()
	time.Sleep(5 * time.Millisecond)
	return cut
}

func prune(t *testing.T, s suiteStore, before time.Time, limit int) provider.PruneReport {
	t.Helper()
	return pruneQuery(t, s, provider.PruneQuery{Before: before, Limit: limit})
}

func pruneQuery(t *testing.T, s suiteStore, q provider.PruneQuery) provider.PruneReport {
	t.Helper()
	rep, err := s.Prune(storeCtx(t), q)
	if err != nil {
		t.Fatalf("Prune(%+v): %v", q, err)
	}
	return rep
}

func pruneWant(t *testing.T, what string, got, want provider.PruneReport) {
	t.Helper()
	if got != want {
		t.Fatalf("%s: pruned %+v, want %+v", what, got, want)
	}
}

// Old callbacks go, in batches of at most limit, oldest first; newer ones
// and the whole ledger stay, and the event claims too: news about a payment
// whose callbacks were pruned is still a duplicate.
func storeTestPruneCallbacks(t *testing.T, s suiteStore) {
	ctx := storeCtx(t)
	storePutLinks(t, s, storeLink("pl"))
	p := storePayment("pp", "pl")
	p.Status = provider.PaymentSuccessful
	storeApply(t, s, storeWrite(p))
	for i := range 2 {
		storeApply(t, s, &provider.ApplyWrite{Callback: &provider.CallbackRecord{
			Provider: "test", PaymentID: "pp", LinkID: "pl", Status: provider.PaymentSuccessful, Amount: p.Amount,
			Body: []byte("again"), Verdict: provider.VerdictDuplicate, ReceivedAt: storeBase.Add(time.Duration(i+1) * time.Second),
		}})
	}
	fresh := &provider.CallbackRecord{
		Provider: "test", PaymentID: "pp", LinkID: "pl", Status: provider.PaymentSuccessful, Amount: p.Amount,
		Body: []byte("fresh"), Verdict: provider.VerdictDuplicate, ReceivedAt: storeBase.Add(2 * time.Hour),
	}
	storeApply(t, s, &provider.ApplyWrite{Callback: fresh})
	before := storeBase.Add(time.Hour) // the event itself was stored now, after before

	storeWantCode(t, "Prune with limit 0", func() error { _, err := s.Prune(ctx, provider.PruneQuery{Before: before}); return err }(), provider.CodeInvalidArgument)
	pruneWant(t, "first batch of 2", prune(t, s, before, 2), provider.PruneReport{Callbacks: 2})
	if got, err := s.ListCallbacks(ctx, provider.CallbackFilter{PaymentID: "pp"}); err != nil || len(got) != 2 || !got[1].ReceivedAt.Equal(storeBase.Add(2*time.Second)) {
		t.Fatalf("after the first batch: %+v, %v; want the fresh callback and the newest old one (oldest go first)", got, err)
	}
	pruneWant(t, "second batch", prune(t, s, before, 2), provider.PruneReport{Callbacks: 1})
	pruneWant(t, "nothing left", prune(t, s, before, 2), provider.PruneReport{})

	got, err := s.ListCallbacks(ctx, provider.CallbackFilter{})
	if err != nil || len(got) != 1 || got[0].ID != fresh.ID {
		t.Fatalf("callbacks after pruning: %+v, %v; want only the one received after before", got, err)
	}
	if pay, err := s.GetPayment(ctx, "test", "pp"); err != nil || pay.Status != provider.PaymentSuccessful {
		t.Fatalf("payment after pruning: %+v, %v; want it kept, SUCCESSFUL", pay, err)
	}
	if _, err := s.GetLink(ctx, "test", "pl"); err != nil {
		t.Fatalf("link after pruning: %v", err)
	}
	if h, err := s.ListStatusChanges(ctx, "test", "pp"); err != nil || len(h) != 1 {
		t.Fatalf("status history after pruning: %+v, %v; want it kept", h, err)
	}
	if st := storeLoad(t, s, "pl", "pp"); !st.HasClaimed(storeKey("pp", provider.PaymentSuccessful)) {
		t.Fatalf("claims after pruning: %+v, want the SUCCESSFUL claim kept", st.Claimed)
	}
	again := storeWrite(p)
	again.PreviousStatus = provider.PaymentSuccessful
	storeWantConflict(t, "the same news after pruning", s.Apply(ctx, again))
}

// Callbacks with a verdict in Keep follow KeptBefore, not Before: with a
// zero KeptBefore every one of them stays, however old; with KeptBefore
// set they go when received before it, also when that is after Before.
// Every other verdict, unverified included, follows Before. Limit bounds
// the callbacks of both kinds together, oldest first.
func storeTestPruneKeepsVerdicts(t *testing.T, s suiteStore) {
	ctx := storeCtx(t)
	storePutLinks(t, s, storeLink("kl"))
	var keep []provider.Verdict
	at := map[provider.Verdict]time.Time{} // when the old callback of each verdict came
	for i, v := range provider.Verdicts() {
		if v.KeptForOperators() {
			keep = append(keep, v)
		}
		at[v] = storeBase.Add(time.Duration(i+1) * time.Second)
		storeApply(t, s, &provider.ApplyWrite{Callback: &provider.CallbackRecord{
			Provider: "test", PaymentID: "kp-" + string(v), LinkID: "kl", Status: provider.PaymentSuccessful,
			Amount: provider.Rupiah(45000), Body: []byte(v), Verdict: v, ReceivedAt: at[v],
		}})
	}
	if len(keep) < 2 || slices.Contains(keep, provider.VerdictUnverified) {
		t.Fatalf("kept verdicts %v: want at least two, unverified not among them", keep)
	}
	fresh := &provider.CallbackRecord{Provider: "test", PaymentID: "kp-fresh", LinkID: "kl", Status: provider.PaymentSuccessful,
		Amount: provider.Rupiah(45000), Body: []byte("fresh"), Verdict: provider.VerdictApplied, ReceivedAt: storeBase.Add(2 * time.Hour)}
	storeApply(t, s, &provider.ApplyWrite{Callback: fresh})
	left := func(what string, want ...provider.Verdict) {
		t.Helper()
		got, err := s.ListCallbacks(ctx, provider.CallbackFilter{LinkID: "kl"})
		if err != nil {
			t.Fatalf("%s: ListCallbacks: %v", what, err)
		}
		var verdicts []provider.Verdict
		for _, c := range got {
			if c.ID != fresh.ID {
				verdicts = append(verdicts, c.Verdict)
			}
		}
		slices.Sort(verdicts)
		want = slices.Sorted(slices.Values(want))
		if len(got) != len(verdicts)+1 || !slices.Equal(verdicts, want) {
			t.Fatalf("%s: callbacks left %v (%d in all), want %v and the fresh one", what, verdicts, len(got), want)
		}
	}
	hour := storeBase.Add(time.Hour)

	q := provider.PruneQuery{Before: hour, Keep: keep, Limit: 100}
	pruneWant(t, "zero KeptBefore", pruneQuery(t, s, q), provider.PruneReport{Callbacks: len(provider.Verdicts()) - len(keep)})
	left("after pruning with a zero KeptBefore", keep...)
	pruneWant(t, "again", pruneQuery(t, s, q), provider.PruneReport{})

	// KeptBefore just after the oldest kept callback: that one goes.
	q.KeptBefore = at[keep[0]].Add(time.Millisecond)
	pruneWant(t, "KeptBefore after the oldest kept callback", pruneQuery(t, s, q), provider.PruneReport{Callbacks: 1})
	left("after pruning the oldest kept callback", keep[1:]...)

	// KeptBefore after Before: kept callbacks newer than Before go too;
	// the fresh applied one, newer than Before, stays. One per batch.
	q = provider.PruneQuery{Before: storeBase, Keep: keep, KeptBefore: storeBase.Add(3 * time.Hour), Limit: 1}
	for i := range len(keep) - 1 {
		pruneWant(t, fmt.Sprintf("batch %d of one kept callback", i+1), pruneQuery(t, s, q), provider.PruneReport{Callbacks: 1})
		left(fmt.Sprintf("after batch %d", i+1), keep[i+2:]...)
	}
	pruneWant(t, "nothing kept left", pruneQuery(t, s, q), provider.PruneReport{})
	left("at the end")
}

// Succeeded hook runs go, and the payloads of events none of whose runs
// is waiting or failed; failed and pending runs stay with their events'
// payloads, so a failed run can still be retried; newer rows stay.
func queueTestPrune(t *testing.T, s suiteStore, q hookQueue) {
	ctx := storeCtx(t)
	finish := func(c provider.ClaimedHookRun, st provider.HookRunState) provider.HookResult {
		return provider.HookResult{HookLease: provider.HookLease{ID: c.Run.ID, Token: c.Lease}, State: st, Error: map[bool]string{true: "boom"}[st == provider.HookRunFailed]}
	}
	okEv := queueRuns(t, s, "ok", "a", "b")   // both succeed: runs and payload go
	badEv := queueRuns(t, s, "bad", "c", "d") // c succeeds, d fails: d and the payload stay
	waitEv := queueRuns(t, s, "wait", "w")    // never claimed: stays, with its payload
	queueRuns(t, s, "none")                   // no hooks at all: its payload goes
	for _, c := range queueClaim(t, q, 10, "a", "b", "c") {
		queueFinish(t, q, finish(c, provider.HookRunSucceeded))
	}
	failed := queueClaim(t, q, 1, "d")[0]
	queueFinish(t, q, finish(failed, provider.HookRunFailed))

	cut := pruneCut()
	lateEv := queueRuns(t, s, "late", "a") // succeeded after the cut: stays
	for _, c := range queueClaim(t, q, 1, "a") {
		queueFinish(t, q, finish(c, provider.HookRunSucceeded))
	}

	// Every callback was received at storeBase, long before the cut.
	pruneWant(t, "pruning before the cut", prune(t, s, cut, 100), provider.PruneReport{Callbacks: 5, HookRuns: 3, EventPayloads: 2})
	pruneWant(t, "pruning again", prune(t, s, cut, 100), provider.PruneReport{})

	left := map[string]provider.HookRunState{}
	runs, err := q.ListHookRuns(ctx, provider.HookRunFilter{})
	if err != nil {
		t.Fatalf("ListHookRuns: %v", err)
	}
	for _, r := range runs {
		left[r.EventID+" "+r.Hook] = r.State
	}
	want := map[string]provider.HookRunState{badEv + " d": provider.HookRunFailed, waitEv + " w": provider.HookRunPending, lateEv + " a": provider.HookRunSucceeded}
	if len(left) != len(want) {
		t.Fatalf("runs after pruning: %v, want %v", left, want)
	}
	for k, st := range want {
		if left[k] != st {
			t.Fatalf("runs after pruning: %v, want %v", left, want)
		}
	}

	// The failed run is retried with its event intact.
	queueRequeue(t, q, failed.Run.ID)
	if got := queueClaim(t, q, 1, "d"); len(got) != 1 || !bytes.Equal(got[0].Event, []byte(`{"id":"`+badEv+`"}`)) {
		t.Fatalf("retried run of a kept event: %+v, want it with its event", got)
	}
	// A run queued later for a pruned event comes without one, so the
	// payload is gone; its claim is not.
	storeApply(t, s, &provider.ApplyWrite{HookRuns: []provider.NewHookRun{{EventID: okEv, Hook: "z", IdempotencyKey: "z"}}})
	if got := queueClaim(t, q, 1, "z"); len(got) != 1 || len(got[0].Event) != 0 {
		t.Fatalf("run of a pruned event: %+v, want it without the event", got)
	}
	for _, id := range []string{"ok", "none"} {
		if st := storeLoad(t, s, "q-"+id, id); !st.HasClaimed(storeKey(id, provider.PaymentSuccessful)) {
			t.Fatalf("claims of %s after pruning: %+v, want the claim kept", id, st.Claimed)
		}
	}
}

// Each kind is pruned at most limit rows per call.
func queueTestPruneBatches(t *testing.T, s suiteStore, q hookQueue) {
	for _, id := range []string{"b1", "b2", "b3"} {
		queueRuns(t, s, id, "h")
	}
	for _, c := range queueClaim(t, q, 10, "h") {
		queueFinish(t, q, provider.HookResult{HookLease: provider.HookLease{ID: c.Run.ID, Token: c.Lease}, State: provider.HookRunSucceeded})
	}
	cut := pruneCut()
	pruneWant(t, "first batch", prune(t, s, cut, 2), provider.PruneReport{Callbacks: 2, HookRuns: 2, EventPayloads: 2})
	pruneWant(t, "second batch", prune(t, s, cut, 2), provider.PruneReport{Callbacks: 1, HookRuns: 1, EventPayloads: 1})
	pruneWant(t, "third batch", prune(t, s, cut, 2), provider.PruneReport{})
}
