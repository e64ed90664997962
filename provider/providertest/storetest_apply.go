package providertest

import (
	"bytes"
	"errors"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/paylinkgo/paylink/provider"
)

func storeKey(paymentID string, status provider.PaymentStatus) provider.EventKey {
	return provider.EventKey{Provider: "test", PaymentID: paymentID, Status: status}
}

// storeWrite is the write a first SUCCESSFUL callback for a new payment
// makes: callback, claim, payment, status change and one run per hook.
func storeWrite(p provider.Payment, hooks ...string) *provider.ApplyWrite {
	key := storeKey(p.ID, p.Status)
	w := &provider.ApplyWrite{
		Callback: &provider.CallbackRecord{
			Provider: "test", PaymentID: p.ID, LinkID: p.LinkID, Status: p.Status, Amount: p.Amount,
			Body: []byte("data=" + p.ID), Verdict: provider.VerdictApplied, ReceivedAt: storeBase,
		},
		Claim:        &key,
		Event:        []byte(`{"id":"` + key.String() + `"}`),
		Payment:      &p,
		StatusChange: &provider.StatusChange{Provider: "test", PaymentID: p.ID, To: p.Status, Source: provider.SourceCallback, At: storeBase},
	}
	for _, h := range hooks {
		w.HookRuns = append(w.HookRuns, provider.NewHookRun{EventID: key.String(), Provider: "test", PaymentID: p.ID, Hook: h, IdempotencyKey: provider.HookIdempotencyKey(key.String(), h)})
	}
	return w
}

func storeApply(t *testing.T, s suiteStore, w *provider.ApplyWrite) {
	t.Helper()
	if err := s.Apply(storeCtx(t), w); err != nil {
		t.Fatalf("Apply: %v", err)
	}
}

func storeLoad(t *testing.T, s suiteStore, linkID, paymentID string) *provider.ApplyState {
	t.Helper()
	st, err := s.LoadApply(storeCtx(t), "test", linkID, paymentID)
	if err != nil {
		t.Fatalf("LoadApply: %v", err)
	}
	return st
}

func storeWantConflict(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, provider.ErrWriteConflict) {
		t.Fatalf("%s: got %v, want ErrWriteConflict", what, err)
	}
}

// storeCounts returns how many callbacks, status changes and hook runs
// (when s is a HookQueue) the payment has.
func storeCounts(t *testing.T, s suiteStore, paymentID string) (callbacks, changes, runs int) {
	t.Helper()
	ctx := storeCtx(t)
	cbs, err := s.ListCallbacks(ctx, provider.CallbackFilter{PaymentID: paymentID})
	if err != nil {
		t.Fatalf("ListCallbacks: %v", err)
	}
	hs, err := s.ListStatusChanges(ctx, "test", paymentID)
	if err != nil {
		t.Fatalf("ListStatusChanges: %v", err)
	}
	if q, ok := s.(hookQueue); ok {
		for _, st := range provider.PaymentStatuses() {
			rs, err := q.ListHookRuns(ctx, provider.HookRunFilter{EventID: storeKey(paymentID, st).String()})
			if err != nil {
				t.Fatalf("ListHookRuns: %v", err)
			}
			runs += len(rs)
		}
	}
	return len(cbs), len(hs), runs
}

func storeTestLoadApplyEmpty(t *testing.T, s suiteStore) {
	st := storeLoad(t, s, "no-link", "no-payment")
	if st.Link != nil || st.Payment != nil || len(st.Claimed) != 0 {
		t.Fatalf("LoadApply on an empty store: %+v, want no link, no payment, no claims", st)
	}
}

func storeTestApplyRoundTrip(t *testing.T, s suiteStore) {
	ctx := storeCtx(t)
	l := storeLink("rt")
	storePutLinks(t, s, l)
	p := storePayment("rt-p", "rt")
	w := storeWrite(p, "receipt", "ledger")
	storeApply(t, s, w)
	if w.Callback.ID == 0 {
		t.Error("Apply did not set the callback's ID")
	}

	st := storeLoad(t, s, "rt", "rt-p")
	if st.Link == nil || st.Payment == nil {
		t.Fatalf("LoadApply after Apply: link %v, payment %v; want both", st.Link, st.Payment)
	}
	if len(st.Link.Raw) != 0 || len(st.Payment.Raw) != 0 {
		t.Errorf("LoadApply returned raw payloads (link %q, payment %q); it reads without them", st.Link.Raw, st.Payment.Raw)
	}
	noRaw := func(l provider.Link, p provider.Payment) (provider.Link, provider.Payment) {
		l.Raw, p.Raw = nil, nil
		return l, p
	}
	wantL, wantP := noRaw(l, p)
	storeSameLink(t, *st.Link, wantL)
	storeSamePayment(t, *st.Payment, wantP)
	if got, err := s.GetLink(ctx, "test", "rt"); err != nil || !bytes.Equal(got.Raw, l.Raw) {
		t.Errorf("GetLink after Apply: raw %q, %v; want %q", got.Raw, err, l.Raw)
	}
	if want := []provider.EventKey{*w.Claim}; !reflect.DeepEqual(st.Claimed, want) {
		t.Errorf("Claimed = %v, want %v", st.Claimed, want)
	}
	if !st.HasClaimed(*w.Claim) {
		t.Error("HasClaimed of the claimed key: false")
	}
	got, err := s.GetPayment(ctx, "test", "rt-p")
	if err != nil {
		t.Fatalf("GetPayment: %v", err)
	}
	storeSamePayment(t, *got, p)
	if cbs, changes, _ := storeCounts(t, s, "rt-p"); cbs != 1 || changes != 1 {
		t.Errorf("after one Apply: %d callbacks, %d status changes; want 1, 1", cbs, changes)
	}
	if q, ok := s.(hookQueue); ok {
		runs, err := q.ListHookRuns(ctx, provider.HookRunFilter{EventID: w.Claim.String()})
		if err != nil {
			t.Fatalf("ListHookRuns: %v", err)
		}
		if len(runs) != 2 {
			t.Fatalf("hook runs: %d, want 2", len(runs))
		}
		for i, r := range runs {
			want := w.HookRuns[i]
			if r.ID == 0 || r.Hook != want.Hook || r.IdempotencyKey != want.IdempotencyKey ||
				r.State != provider.HookRunPending || r.Attempts != 0 || r.NextAt.IsZero() {
				t.Errorf("run %d = %+v, want a pending run of %s with key %s, due", i, r, want.Hook, want.IdempotencyKey)
			}
		}
	}
}

func storeTestApplyUpdate(t *testing.T, s suiteStore) {
	l := storeLink("up")
	storePutLinks(t, s, l)
	p := storePayment("up-p", "up")
	storeApply(t, s, storeWrite(p))

	paid := p
	paid.Status, paid.RawStatus = provider.PaymentSuccessful, "SUCCESSFUL"
	paid.CompletedAt = storeBase.Add(3 * time.Minute)
	w := storeWrite(paid)
	w.PreviousStatus = provider.PaymentPending
	w.LinkStatus, w.LinkUpdatedAt = provider.LinkInactive, storeBase.Add(3*time.Minute)
	storeApply(t, s, w)

	st := storeLoad(t, s, "up", "up-p")
	wantPaid := paid
	wantPaid.Raw = nil
	storeSamePayment(t, *st.Payment, wantPaid)
	if st.Link.Status != provider.LinkInactive {
		t.Errorf("link status after Apply with LinkStatus INACTIVE: %s", st.Link.Status)
	}
	if len(st.Claimed) != 2 || !st.HasClaimed(storeKey("up-p", provider.PaymentPending)) || !st.HasClaimed(storeKey("up-p", provider.PaymentSuccessful)) {
		t.Errorf("Claimed = %v, want PENDING and SUCCESSFUL", st.Claimed)
	}
}

func storeTestApplyClaimConflict(t *testing.T, s suiteStore) {
	storePutLinks(t, s, storeLink("cc"))
	p := storePayment("cc-p", "cc")
	storeApply(t, s, storeWrite(p, "h"))

	// The same key again, as a stale reader would write it.
	again := p
	again.Amount = provider.Rupiah(1)
	w := storeWrite(again, "h", "h2")
	w.PreviousStatus = provider.PaymentPending
	storeWantConflict(t, "Apply of a claimed key", s.Apply(storeCtx(t), w))

	st := storeLoad(t, s, "cc", "cc-p")
	if st.Payment.Amount != p.Amount {
		t.Errorf("a refused Apply changed the payment: amount %v", st.Payment.Amount)
	}
	if cbs, changes, runs := storeCounts(t, s, "cc-p"); cbs != 1 || changes != 1 || (runs != 0 && runs != 1) {
		t.Errorf("after a refused Apply: %d callbacks, %d changes, %d runs; want 1, 1, 1 (or 0 runs without a queue)", cbs, changes, runs)
	}
}

func storeTestApplyPaymentConflict(t *testing.T, s suiteStore) {
	storePutLinks(t, s, storeLink("pc"))
	p := storePayment("pc-p", "pc")
	storeApply(t, s, storeWrite(p))

	// A reader that saw no payment writes it as new.
	paid := p
	paid.Status = provider.PaymentSuccessful
	w := storeWrite(paid, "h")
	storeWantConflict(t, "Apply of a new payment that exists", s.Apply(storeCtx(t), w))
	// A reader that saw it CANCELLED.
	w = storeWrite(paid, "h")
	w.PreviousStatus = provider.PaymentCancelled
	storeWantConflict(t, "Apply over a payment whose status changed", s.Apply(storeCtx(t), w))

	st := storeLoad(t, s, "pc", "pc-p")
	if st.Payment.Status != provider.PaymentPending || st.HasClaimed(storeKey("pc-p", provider.PaymentSuccessful)) {
		t.Errorf("refused Applies left payment %s, claims %v; want PENDING, the SUCCESSFUL key unclaimed", st.Payment.Status, st.Claimed)
	}
	if cbs, changes, runs := storeCounts(t, s, "pc-p"); cbs != 1 || changes != 1 || runs != 0 {
		t.Errorf("after refused Applies: %d callbacks, %d changes, %d runs; want 1, 1, 0", cbs, changes, runs)
	}
	// The right precondition goes through.
	w = storeWrite(paid, "h")
	w.PreviousStatus = provider.PaymentPending
	storeApply(t, s, w)
}

func storeTestApplyConcurrent(t *testing.T, s suiteStore) {
	storePutLinks(t, s, storeLink("race"))
	p := storePayment("race-p", "race")
	p.Status = provider.PaymentSuccessful
	writes := make([]*provider.ApplyWrite, 16)
	for i := range writes {
		writes[i] = storeWrite(p, "h")
	}
	storeRace(t, s, "Applies of one key", writes)
	if cbs, changes, runs := storeCounts(t, s, "race-p"); cbs != 1 || changes != 1 || (runs != 1 && runs != 0) {
		t.Fatalf("after the race: %d callbacks, %d changes, %d runs; want exactly one of each", cbs, changes, runs)
	}
}

// storeRace applies writes all at once, each from its own goroutine, and
// returns the one that was written: exactly one must be, and every other
// must be refused with ErrWriteConflict.
func storeRace(t *testing.T, s suiteStore, what string, writes []*provider.ApplyWrite) *provider.ApplyWrite {
	t.Helper()
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		winners []*provider.ApplyWrite
		lost    int
		errs    []error
		release = make(chan struct{})
		ctx     = storeCtx(t)
	)
	for _, w := range writes {
		wg.Go(func() {
			<-release
			err := s.Apply(ctx, w)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				winners = append(winners, w)
			case errors.Is(err, provider.ErrWriteConflict):
				lost++
			default:
				errs = append(errs, err)
			}
		})
	}
	close(release)
	wg.Wait()
	n := len(writes)
	if len(errs) > 0 {
		t.Fatalf("%d of %d concurrent Applies failed, first: %v", len(errs), n, errs[0])
	}
	if len(winners) != 1 || lost != n-1 {
		t.Fatalf("%d concurrent %s: %d won, %d refused; want 1 and %d", n, what, len(winners), lost, n-1)
	}
	return winners[0]
}

func storeTestFlaggedClaims(t *testing.T, s suiteStore) {
	p := storePayment("fl-p", "fl")
	p.Status = provider.PaymentSuccessful
	flagged := storeKey("fl-p", provider.PaymentSuccessful)
	flagged.Flag = provider.VerdictUnknownLink
	storeApply(t, s, &provider.ApplyWrite{
		Callback: &provider.CallbackRecord{Provider: "test", PaymentID: "fl-p", LinkID: "fl", Status: p.Status, Verdict: provider.VerdictUnknownLink},
		Claim:    &flagged, Event: []byte(`{}`),
	})
	st := storeLoad(t, s, "fl", "fl-p")
	if st.Payment != nil || !st.HasClaimed(flagged) || st.HasClaimed(storeKey("fl-p", provider.PaymentSuccessful)) {
		t.Fatalf("after a flagged claim: payment %v, claims %v; want no payment, only the flagged key", st.Payment, st.Claimed)
	}
	storeWantConflict(t, "a second flagged claim", s.Apply(storeCtx(t), &provider.ApplyWrite{Claim: &flagged}))
	storePutLinks(t, s, storeLink("fl"))
	storeApply(t, s, storeWrite(p))
	if st := storeLoad(t, s, "fl", "fl-p"); len(st.Claimed) != 2 || st.Payment == nil {
		t.Fatalf("after the payment was applied: claims %v, payment %v; want both keys and the payment", st.Claimed, st.Payment)
	}
}

func storeTestPaymentOrder(t *testing.T, s suiteStore) {
	ctx := storeCtx(t)
	p1 := storePayment("PGPWF1", "link-1")
	p2 := storePayment("PGPWF2", "link-1")
	p2.CreatedAt = p1.CreatedAt.Add(time.Minute)
	p0 := storePayment("PGPWF0", "link-1") // written last, created first
	p0.CreatedAt = p1.CreatedAt.Add(-time.Minute)
	other := storePayment("PGPWF3", "link-2")
	other.CreatedAt = time.Time{} // an unknown creation time stays unknown
	for _, p := range []provider.Payment{p1, p2, other, p0} {
		storeApply(t, s, storeWrite(p))
	}
	list, err := s.ListLinkPayments(ctx, "test", "link-1")
	if err != nil {
		t.Fatalf("ListLinkPayments: %v", err)
	}
	if len(list) != 3 || list[0].ID != "PGPWF0" || list[1].ID != "PGPWF1" || list[2].ID != "PGPWF2" {
		t.Fatalf("ListLinkPayments: got %d payments %v, want [PGPWF0 PGPWF1 PGPWF2] (oldest created first)", len(list), list)
	}
	storeSamePayment(t, list[2], p2)
	got, err := s.GetPayment(ctx, "test", "PGPWF3")
	if err != nil {
		t.Fatalf("GetPayment: %v", err)
	}
	storeSamePayment(t, *got, other)
	_, err = s.GetPayment(ctx, "test", "missing")
	storeWantCode(t, "GetPayment of a missing payment", err, provider.CodeNotFound)
	none, err := s.ListLinkPayments(ctx, "test", "no-such-link")
	if err != nil || len(none) != 0 {
		t.Fatalf("ListLinkPayments of a link without payments: %v, %v; want empty, nil", none, err)
	}
}

func storeTestStatusHistory(t *testing.T, s suiteStore) {
	ctx := storeCtx(t)
	want := []provider.StatusChange{
		{Provider: "test", PaymentID: "h1", To: provider.PaymentPending, Source: provider.SourceCallback, At: storeBase},
		{Provider: "test", PaymentID: "h1", From: provider.PaymentPending, To: provider.PaymentCancelled, Source: provider.SourceReconcile, At: storeBase.Add(time.Second)},
		{Provider: "test", PaymentID: "h1", From: provider.PaymentCancelled, To: provider.PaymentSuccessful, Source: provider.SourceCallback, At: storeBase.Add(2 * time.Second)},
	}
	for _, c := range want {
		p := storePayment("h1", "hl")
		p.Status = c.To
		w := storeWrite(p)
		w.PreviousStatus, w.StatusChange = c.From, &c
		storeApply(t, s, w)
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

func storeTestCallbacks(t *testing.T, s suiteStore) {
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
		storeApply(t, s, &provider.ApplyWrite{Callback: &recs[i]})
		if recs[i].ID == 0 || ids[recs[i].ID] {
			t.Fatalf("Apply of callback %d: ID %d, want a new non-zero id", i, recs[i].ID)
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
	idsOf := func(rs []provider.CallbackRecord) []int64 {
		out := make([]int64, len(rs))
		for i, r := range rs {
			out[i] = r.ID
		}
		return out
	}
	all := list(provider.CallbackFilter{})
	if got, want := idsOf(all), []int64{recs[3].ID, recs[2].ID, recs[1].ID, recs[0].ID}; !reflect.DeepEqual(got, want) {
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
		t.Errorf("LinkID filter: got %v, want only the l2 callback", idsOf(got))
	}
	if got := list(provider.CallbackFilter{Provider: "other"}); len(got) != 0 {
		t.Errorf("Provider filter: got %d callbacks, want 0", len(got))
	}
	if got := list(provider.CallbackFilter{Flagged: true}); len(got) != 1 || got[0].Verdict != provider.VerdictAmountMismatch {
		t.Errorf("Flagged filter: got %v, want only the amount mismatch", idsOf(got))
	}
	if got := list(provider.CallbackFilter{PaymentID: "c1", Limit: 2}); !reflect.DeepEqual(idsOf(got), []int64{recs[2].ID, recs[1].ID}) {
		t.Errorf("Limit 2: got %v, want the two newest", idsOf(got))
	}
}

// A write decided on a link that changed since it was read is refused,
// and nothing of it is written; one decided on the link as stored passes.
func storeTestSaveLinkPrecondition(t *testing.T, s suiteStore) {
	ctx := storeCtx(t)
	l := storeLink("edited")
	storePutLinks(t, s, l)
	read, err := s.GetLink(ctx, "test", l.ID)
	if err != nil {
		t.Fatal(err)
	}
	// Another writer changes the link after it was read.
	other := *read
	other.Title = "Changed by another writer"
	storeSave(t, s, provider.LinkWrite{Provider: "test", ID: l.ID, Link: &other})
	if !other.UpdatedAt.After(read.UpdatedAt) {
		t.Fatalf("UpdatedAt did not move: %v then %v", read.UpdatedAt, other.UpdatedAt)
	}

	stale := *read
	stale.Title = "Decided on the old read"
	err = s.SaveLink(ctx, &provider.LinkWrite{Provider: "test", ID: l.ID, Link: &stale, PreviousUpdatedAt: read.UpdatedAt, ReconciledAt: storeBase})
	if !errors.Is(err, provider.ErrWriteConflict) {
		t.Fatalf("SaveLink over a changed link: %v, want ErrWriteConflict", err)
	}
	if got, _ := s.GetLink(ctx, "test", l.ID); got.Title != other.Title {
		t.Fatalf("after the refused write the title is %q, want %q", got.Title, other.Title)
	}

	fresh, err := s.GetLink(ctx, "test", l.ID)
	if err != nil {
		t.Fatal(err)
	}
	next := *fresh
	next.Title = "Decided on the latest read"
	storeSave(t, s, provider.LinkWrite{Provider: "test", ID: l.ID, Link: &next, PreviousUpdatedAt: fresh.UpdatedAt})
	if got, _ := s.GetLink(ctx, "test", l.ID); got.Title != next.Title {
		t.Fatalf("title %q, want %q", got.Title, next.Title)
	}
	err = s.SaveLink(ctx, &provider.LinkWrite{Provider: "test", ID: "gone", Link: &next, PreviousUpdatedAt: fresh.UpdatedAt})
	if !errors.Is(err, provider.ErrWriteConflict) && !errors.Is(err, provider.CodeInvalidArgument) {
		t.Fatalf("SaveLink decided on a link that is not stored: %v, want a refusal", err)
	}
}

// A write whose intent part is refused writes nothing: the link stays as
// it was (or absent), and the intent stays pending.
func storeTestSaveLinkAllOrNothing(t *testing.T, s suiteStore) {
	ctx := storeCtx(t)
	in := storeIntent("order-aon")
	storeReadIntent(t, s, in)
	first := storeLink("aon-1")
	storeSave(t, s, provider.LinkWrite{Provider: "test", ID: first.ID, Link: &first, IntentKey: in.Key})

	second := storeLink("aon-2")
	err := s.SaveLink(ctx, &provider.LinkWrite{Provider: "test", ID: second.ID, Link: &second, IntentKey: in.Key, ReconciledAt: storeBase})
	storeWantCode(t, "saving a link with another link's intent", err, provider.CodeConflict)
	if _, err := s.GetLink(ctx, "test", second.ID); !errors.Is(err, provider.CodeNotFound) {
		t.Fatalf("the refused write's link: %v, want CodeNotFound (nothing written)", err)
	}

	err = s.SaveLink(ctx, &provider.LinkWrite{Provider: "test", ID: "aon-3", Link: &provider.Link{Provider: "test", ID: "aon-3", Title: "x", Type: provider.LinkSingle, Status: provider.LinkActive}, IntentKey: "no-such-key"})
	storeWantCode(t, "saving a link with an unknown intent", err, provider.CodeNotFound)
	if _, err := s.GetLink(ctx, "test", "aon-3"); !errors.Is(err, provider.CodeNotFound) {
		t.Fatalf("the refused write's link: %v, want CodeNotFound (nothing written)", err)
	}
}

func storeTestFlaggedFilter(t *testing.T, s suiteStore) {
	want := map[provider.Verdict]bool{}
	for _, v := range provider.Verdicts() {
		storeApply(t, s, &provider.ApplyWrite{Callback: &provider.CallbackRecord{
			Provider: "test", PaymentID: "f-" + string(v), LinkID: "fl", Status: provider.PaymentSuccessful, Verdict: v, ReceivedAt: storeBase,
		}})
		if v.Flagged() {
			want[v] = true
		}
	}
	got, err := s.ListCallbacks(storeCtx(t), provider.CallbackFilter{Flagged: true})
	if err != nil {
		t.Fatalf("ListCallbacks: %v", err)
	}
	seen := map[provider.Verdict]bool{}
	for _, c := range got {
		seen[c.Verdict] = true
	}
	if !reflect.DeepEqual(seen, want) {
		t.Fatalf("flagged callbacks have verdicts %v, want exactly %v", seen, want)
	}
}

// LoadApply tells, for a SINGLE link, which other payment paid it: not
// the payment asked about itself, not an unpaid one, never for a
// MULTIPLE link.
func storeTestLoadApplyNamesTheLinksOtherPaidPayment(t *testing.T, s suiteStore) {
	single, multi := storeLink("paid-once"), storeLink("paid-many")
	multi.Type = provider.LinkMultiple
	storePutLinks(t, s, single, multi)
	pending := storePayment("sp-pending", single.ID)
	storeApply(t, s, storeWrite(pending))
	if st := storeLoad(t, s, single.ID, "sp-new"); st.LinkPaidBy != "" {
		t.Fatalf("with only a PENDING payment: LinkPaidBy %q, want empty", st.LinkPaidBy)
	}
	paid := storePayment("sp-paid", single.ID)
	paid.Status = provider.PaymentPartiallyRefunded
	paid.RefundedAmount = provider.Rupiah(1000)
	storeApply(t, s, storeWrite(paid))
	if st := storeLoad(t, s, single.ID, "sp-new"); st.LinkPaidBy != paid.ID {
		t.Fatalf("LinkPaidBy %q, want %q (partly refunded is paid)", st.LinkPaidBy, paid.ID)
	}
	if st := storeLoad(t, s, single.ID, paid.ID); st.LinkPaidBy != "" {
		t.Fatalf("asked about the paying payment itself: LinkPaidBy %q, want empty", st.LinkPaidBy)
	}
	other := storePayment("mp-paid", multi.ID)
	other.Status = provider.PaymentSuccessful
	storeApply(t, s, storeWrite(other))
	if st := storeLoad(t, s, multi.ID, "mp-new"); st.LinkPaidBy != "" {
		t.Fatalf("MULTIPLE link: LinkPaidBy %q, want empty", st.LinkPaidBy)
	}
}
