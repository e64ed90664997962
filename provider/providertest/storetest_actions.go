package providertest

import (
	"context"
	"errors"
	"log/slog"
	"reflect"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paylinkgo/paylink/provider"
)

// What the operator console reads and writes: single callbacks, pages of
// the inbox, the hook runs of one payment and the action log.

func storeTestCallbackByID(t *testing.T, s suiteStore) {
	ctx := storeCtx(t)
	rec := provider.CallbackRecord{
		Provider: "test", PaymentID: "g1", LinkID: "gl", Status: provider.PaymentSuccessful,
		Amount: provider.Rupiah(45000), Body: []byte("data=%7B%7D"), Verdict: provider.VerdictUnknownLink, ReceivedAt: storeBase,
	}
	storeApply(t, s, &provider.ApplyWrite{Callback: &rec})
	got, err := storeCallback(ctx, s, rec.ID)
	if err != nil {
		t.Fatalf("ListCallbacks(ID %d): %v", rec.ID, err)
	}
	if !got.ReceivedAt.Equal(rec.ReceivedAt) || string(got.Body) != string(rec.Body) {
		t.Errorf("callback by ID: got %+v, want %+v", got, rec)
	}
	g, w := *got, rec
	g.ReceivedAt, w.ReceivedAt, g.Body, w.Body = time.Time{}, time.Time{}, nil, nil
	if !reflect.DeepEqual(g, w) {
		t.Errorf("callback by ID:\n got %+v\nwant %+v", g, w)
	}
	if none, err := s.ListCallbacks(ctx, provider.CallbackFilter{ID: rec.ID + 1000}); err != nil || len(none) != 0 {
		t.Errorf("ListCallbacks of an unknown id: %v, %v; want none", none, err)
	}
	if both, err := s.ListCallbacks(ctx, provider.CallbackFilter{ID: rec.ID, PaymentID: "other"}); err != nil || len(both) != 0 {
		t.Errorf("ListCallbacks by id and another payment: %v, %v; want none (filters combine)", both, err)
	}
}

// storeCallback reads one recorded callback by its ID.
func storeCallback(ctx context.Context, s suiteStore, id int64) (*provider.CallbackRecord, error) {
	cbs, err := s.ListCallbacks(ctx, provider.CallbackFilter{ID: id})
	if err != nil {
		return nil, err
	}
	if len(cbs) != 1 {
		return nil, provider.Errorf(provider.CodeNotFound, "storeCallback", "%d callbacks with id %d", len(cbs), id)
	}
	return &cbs[0], nil
}

func storeTestCallbackPages(t *testing.T, s suiteStore) {
	ctx := storeCtx(t)
	verdicts := []provider.Verdict{
		provider.VerdictApplied, provider.VerdictUnknownLink, provider.VerdictDuplicate,
		provider.VerdictUnknownLink, provider.VerdictAmountMismatch,
	}
	var ids []int64
	for i, v := range verdicts {
		// Two callbacks share a received time: the id orders them.
		at := storeBase.Add(time.Duration(i/2) * time.Second)
		rec := provider.CallbackRecord{Provider: "test", PaymentID: "p" + string(rune('a'+i)), LinkID: "pl",
			Status: provider.PaymentSuccessful, Verdict: v, ReceivedAt: at}
		storeApply(t, s, &provider.ApplyWrite{Callback: &rec})
		ids = append(ids, rec.ID)
	}
	list := func(f provider.CallbackFilter) []int64 {
		t.Helper()
		got, err := s.ListCallbacks(ctx, f)
		if err != nil {
			t.Fatalf("ListCallbacks(%+v): %v", f, err)
		}
		out := []int64{}
		for _, c := range got {
			out = append(out, c.ID)
		}
		return out
	}
	if got, want := list(provider.CallbackFilter{Verdict: provider.VerdictUnknownLink}), []int64{ids[3], ids[1]}; !reflect.DeepEqual(got, want) {
		t.Errorf("Verdict filter: got %v, want %v", got, want)
	}
	// Paging through everything two at a time visits each callback once,
	// newest first.
	var seen []int64
	var before int64
	for range 5 {
		page := list(provider.CallbackFilter{LinkID: "pl", Limit: 2, BeforeID: before})
		if len(page) == 0 {
			break
		}
		seen = append(seen, page...)
		before = page[len(page)-1]
	}
	if want := []int64{ids[4], ids[3], ids[2], ids[1], ids[0]}; !reflect.DeepEqual(seen, want) {
		t.Errorf("pages of 2: got %v, want %v", seen, want)
	}
	if got, want := list(provider.CallbackFilter{Flagged: true, BeforeID: ids[4]}), []int64{ids[3], ids[1]}; !reflect.DeepEqual(got, want) {
		t.Errorf("flagged before %d: got %v, want %v", ids[4], got, want)
	}
	if got := list(provider.CallbackFilter{BeforeID: ids[4] + 1000}); len(got) != 0 {
		t.Errorf("BeforeID of an unknown callback: got %v, want nothing", got)
	}
}

func queueTestListFilters(t *testing.T, s suiteStore, q hookQueue) {
	ctx := storeCtx(t)
	ev1 := queueRuns(t, s, "lf1", "a", "b")
	queueRuns(t, s, "lf10", "a")
	all, err := q.ListHookRuns(ctx, provider.HookRunFilter{})
	if err != nil || len(all) != 3 {
		t.Fatalf("ListHookRuns: %d runs, %v; want 3", len(all), err)
	}
	byID, err := q.ListHookRuns(ctx, provider.HookRunFilter{ID: all[1].ID})
	if err != nil || len(byID) != 1 || !reflect.DeepEqual(byID[0], all[1]) {
		t.Errorf("ID filter: got %+v, %v; want only %+v", byID, err, all[1])
	}
	none, err := q.ListHookRuns(ctx, provider.HookRunFilter{ID: all[2].ID + 1000})
	if err != nil || len(none) != 0 {
		t.Errorf("ID filter of an unknown run: got %+v, %v; want nothing", none, err)
	}
	// A flagged event of the same payment has runs of its own.
	flagged := storeKey("lf1", provider.PaymentSuccessful)
	flagged.Flag = provider.VerdictAmountMismatch
	storeApply(t, s, &provider.ApplyWrite{Claim: &flagged, Event: []byte(`{}`), HookRuns: []provider.NewHookRun{
		{EventID: flagged.String(), Provider: "test", PaymentID: "lf1", Hook: "alert", IdempotencyKey: provider.HookIdempotencyKey(flagged.String(), "alert")}}})
	runs, err := q.ListHookRuns(ctx, provider.HookRunFilter{Provider: "test", PaymentID: "lf1"})
	if err != nil {
		t.Fatalf("ListHookRuns of a payment: %v", err)
	}
	var got []string
	for _, r := range runs {
		got = append(got, r.EventID+"/"+r.Hook)
	}
	if want := []string{ev1 + "/a", ev1 + "/b", flagged.String() + "/alert"}; !reflect.DeepEqual(got, want) {
		t.Errorf("runs of payment lf1: got %v, want %v (not lf10's)", got, want)
	}
	for _, f := range []provider.HookRunFilter{
		{Provider: "other", PaymentID: "lf1"}, {Provider: "test", PaymentID: "LF1"}, {Provider: "test", PaymentID: "lf"},
	} {
		if got, err := q.ListHookRuns(ctx, f); err != nil || len(got) != 0 {
			t.Errorf("ListHookRuns(%+v): got %d runs, %v; want none", f, len(got), err)
		}
	}
	if got, err := q.ListHookRuns(ctx, provider.HookRunFilter{Provider: "test", PaymentID: "lf1", Hook: "b"}); err != nil || len(got) != 1 {
		t.Errorf("runs of payment lf1 of hook b: got %d, %v; want 1", len(got), err)
	}
}

func actionTestRecordAndList(t *testing.T, s suiteStore, l provider.ActionLog) {
	ctx := storeCtx(t)
	acts := []provider.OperatorAction{
		{Kind: provider.ActionReprocessCallback, Actor: "ana", Provider: "test", CallbackID: 7, PaymentID: "a1", LinkID: "al",
			Result: "applied, payment SUCCESSFUL", At: storeBase},
		{Kind: provider.ActionRetryHookRun, Actor: "budi", Provider: "test", PaymentID: "a1", HookRunID: 3,
			Error: "hook run 3 is pending, only failed runs can be retried", At: storeBase.Add(time.Second)},
		{Kind: provider.ActionReconcileLink, Actor: "ana", Provider: "test", LinkID: "bl", Result: "0 payments seen, 0 applied",
			At: storeBase.Add(time.Second)},
	}
	for i := range acts {
		if err := l.RecordAction(ctx, &acts[i]); err != nil {
			t.Fatalf("RecordAction %d: %v", i, err)
		}
		if acts[i].ID == 0 || (i > 0 && acts[i].ID == acts[i-1].ID) {
			t.Fatalf("RecordAction %d: ID %d, want a new non-zero id", i, acts[i].ID)
		}
	}
	list := func(f provider.ActionFilter) []provider.OperatorAction {
		t.Helper()
		got, err := l.ListActions(ctx, f)
		if err != nil {
			t.Fatalf("ListActions(%+v): %v", f, err)
		}
		return got
	}
	ids := func(as []provider.OperatorAction) []int64 {
		out := []int64{}
		for _, a := range as {
			out = append(out, a.ID)
		}
		return out
	}
	all := list(provider.ActionFilter{})
	if got, want := ids(all), []int64{acts[2].ID, acts[1].ID, acts[0].ID}; !reflect.DeepEqual(got, want) {
		t.Fatalf("all actions: got %v, want %v (newest first, then by id)", got, want)
	}
	for i, want := range []provider.OperatorAction{acts[2], acts[1], acts[0]} {
		got := all[i]
		if !got.At.Equal(want.At) {
			t.Errorf("action %d: At %v, want %v", want.ID, got.At, want.At)
		}
		got.At, want.At = time.Time{}, time.Time{}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("action round trip:\n got %+v\nwant %+v", got, want)
		}
	}
	for _, c := range []struct {
		f    provider.ActionFilter
		want []int64
	}{
		{provider.ActionFilter{Actor: "ana"}, []int64{acts[2].ID, acts[0].ID}},
		{provider.ActionFilter{PaymentID: "a1"}, []int64{acts[1].ID, acts[0].ID}},
		{provider.ActionFilter{PaymentID: "a1", Provider: "other"}, []int64{}},
		{provider.ActionFilter{LinkID: "bl"}, []int64{acts[2].ID}},
		{provider.ActionFilter{CallbackID: 7}, []int64{acts[0].ID}},
		{provider.ActionFilter{CallbackIDs: []int64{9, 7}}, []int64{acts[0].ID}},
		{provider.ActionFilter{CallbackIDs: []int64{9}}, []int64{}},
		{provider.ActionFilter{CallbackIDs: []int64{7}, Actor: "budi"}, []int64{}},
		{provider.ActionFilter{HookRunID: 3}, []int64{acts[1].ID}},
		{provider.ActionFilter{Kind: provider.ActionReconcileLink}, []int64{acts[2].ID}},
		{provider.ActionFilter{Limit: 1}, []int64{acts[2].ID}},
	} {
		if got := ids(list(c.f)); !reflect.DeepEqual(got, c.want) {
			t.Errorf("ListActions(%+v): got %v, want %v", c.f, got, c.want)
		}
	}
	_, err := l.ListActions(ctx, provider.ActionFilter{CallbackIDs: make([]int64, provider.MaxActionFilterIDs+1)})
	storeWantCode(t, "ListActions of too many callbacks", err, provider.CodeInvalidArgument)
	for _, bad := range []provider.OperatorAction{
		{Kind: provider.ActionRetryHookRun, At: storeBase},
		{Actor: "ana", At: storeBase},
	} {
		err := l.RecordAction(ctx, &bad)
		storeWantCode(t, "RecordAction without a kind or an actor", err, provider.CodeInvalidArgument)
	}
}

// actionTestPruneKeepsActions: the action log is part of the ledger.
func actionTestPruneKeepsActions(t *testing.T, s suiteStore, l provider.ActionLog) {
	ctx := storeCtx(t)
	a := provider.OperatorAction{Kind: provider.ActionReconcileLink, Actor: "ana", Provider: "test", LinkID: "x", At: storeBase}
	if err := l.RecordAction(ctx, &a); err != nil {
		t.Fatalf("RecordAction: %v", err)
	}
	prune(t, s, storeBase.Add(100*365*24*time.Hour), 100)
	got, err := l.ListActions(ctx, provider.ActionFilter{})
	if err != nil || len(got) != 1 || got[0].ID != a.ID {
		t.Fatalf("after Prune: actions %+v, %v; want the one recorded", got, err)
	}
}

// actFixture is a Service over the store and a MemProvider, running hooks,
// with one SUCCESSFUL hook that fails while fail is set.
type actFixture struct {
	svc   *provider.Service
	mem   *MemProvider
	calls atomic.Int64
	fail  atomic.Bool
}

func newActFixture(t *testing.T, s suiteStore) *actFixture {
	t.Helper()
	f := &actFixture{mem: NewMemProvider("mem", "token")}
	svc, err := provider.NewService(s, provider.ServiceOptions{
		Providers: []provider.Provider{f.mem}, Logger: slog.New(slog.DiscardHandler),
		HookPolicy:       provider.HookPolicy{MaxAttempts: 1, Timeout: 10 * time.Second},
		HookPollInterval: 20 * time.Millisecond,
	})
	if err != nil {
		t.Fatalf("NewService: %v", err)
	}
	err = svc.On("receipt", provider.When(provider.PaymentSuccessful), func(ctx context.Context, ev *provider.HookEvent) error {
		f.calls.Add(1)
		if f.fail.Load() {
			return errors.New("mail server down")
		}
		return nil
	})
	if err != nil {
		t.Fatalf("On: %v", err)
	}
	if err := svc.Start(context.Background()); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), storeDeadline)
		defer cancel()
		svc.Stop(ctx)
	})
	f.svc = svc
	return f
}

// run waits until the payment's one hook run is in state want.
func (f *actFixture) run(t *testing.T, paymentID string, want provider.HookRunState) provider.HookRun {
	t.Helper()
	deadline := time.Now().Add(storeDeadline)
	for {
		runs, err := f.svc.Store().(provider.Reader).ListHookRuns(storeCtx(t), provider.HookRunFilter{Provider: "mem", PaymentID: paymentID})
		if err != nil {
			t.Fatalf("ListHookRuns: %v", err)
		}
		if len(runs) > 1 {
			t.Fatalf("payment %s has %d hook runs, want one", paymentID, len(runs))
		}
		if len(runs) == 1 && runs[0].State == want {
			return runs[0]
		}
		if time.Now().After(deadline) {
			t.Fatalf("payment %s: hook runs %+v, want one %s", paymentID, runs, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (f *actFixture) act(t *testing.T, a provider.Action) *provider.OperatorAction {
	t.Helper()
	rec, err := f.svc.Act(storeCtx(t), a)
	if err != nil {
		t.Fatalf("Act(%+v): %v", a, err)
	}
	if rec.ID == 0 || rec.Actor != a.Actor || rec.Kind != a.Kind || !rec.Succeeded() || rec.At.IsZero() {
		t.Fatalf("Act(%+v) recorded %+v", a, rec)
	}
	return rec
}

func (f *actFixture) status(t *testing.T, s suiteStore, paymentID string) provider.PaymentStatus {
	t.Helper()
	p, err := s.GetPayment(storeCtx(t), "mem", paymentID)
	if err != nil {
		t.Fatalf("GetPayment(%s): %v", paymentID, err)
	}
	return p.Status
}

// A callback that arrived before its link was stored is flagged; once the
// link is stored, reprocessing it pays the payment and runs the hook once,
// however often it is reprocessed.
func actTestReprocessUnknownLink(t *testing.T, s suiteStore, l provider.ActionLog) {
	ctx := storeCtx(t)
	f := newActFixture(t, s)
	link, err := f.mem.CreateLink(ctx, provider.CreateLinkParams{Title: "order 1", Amount: provider.Rupiah(45000)})
	if err != nil {
		t.Fatalf("CreateLink at the provider: %v", err)
	}
	pay, err := f.mem.Settle(link.ID, provider.PaymentSuccessful, 0)
	if err != nil {
		t.Fatalf("Settle: %v", err)
	}
	r, err := NewCallbackRequest(ctx, "http://shop.invalid/callback", "token", pay)
	if err != nil {
		t.Fatal(err)
	}
	if _, out, err := Deliver(ctx, f.svc, "mem", r); err != nil || out.Verdict != provider.VerdictUnknownLink {
		t.Fatalf("callback before the link is stored: %+v, %v; want unknown_link", out, err)
	}
	cbs, err := s.ListCallbacks(ctx, provider.CallbackFilter{Flagged: true, PaymentID: pay.ID})
	if err != nil || len(cbs) != 1 {
		t.Fatalf("flagged callbacks: %+v, %v; want one", cbs, err)
	}
	flagged := cbs[0]

	// Reprocessing before the link is stored changes nothing.
	rec := f.act(t, provider.Action{Kind: provider.ActionReprocessCallback, Actor: "ana", CallbackID: flagged.ID})
	if !strings.HasPrefix(rec.Result, string(provider.VerdictUnknownLink)) {
		t.Fatalf("reprocess without the link: result %q, want unknown_link", rec.Result)
	}
	storePutLinks(t, s, *link)
	rec = f.act(t, provider.Action{Kind: provider.ActionReprocessCallback, Actor: "ana", CallbackID: flagged.ID})
	if rec.Result != "applied, payment SUCCESSFUL" || rec.Provider != "mem" || rec.PaymentID != pay.ID || rec.LinkID != link.ID {
		t.Fatalf("reprocess with the link: recorded %+v, want applied, naming the payment and link", rec)
	}
	if got := f.status(t, s, pay.ID); got != provider.PaymentSuccessful {
		t.Fatalf("payment after reprocessing: %s, want SUCCESSFUL", got)
	}
	f.run(t, pay.ID, provider.HookRunSucceeded)
	rec = f.act(t, provider.Action{Kind: provider.ActionReprocessCallback, Actor: "budi", CallbackID: flagged.ID})
	if !strings.HasPrefix(rec.Result, string(provider.VerdictDuplicate)) {
		t.Fatalf("reprocessing again: result %q, want duplicate", rec.Result)
	}
	f.run(t, pay.ID, provider.HookRunSucceeded)
	if n := f.calls.Load(); n != 1 {
		t.Fatalf("the hook ran %d times, want once", n)
	}
	got, err := l.ListActions(ctx, provider.ActionFilter{CallbackID: flagged.ID})
	if err != nil || len(got) != 3 || got[0].Actor != "budi" || got[2].Actor != "ana" {
		t.Fatalf("actions on the callback: %+v, %v; want three, newest (budi's) first", got, err)
	}
	if orig, err := storeCallback(ctx, s, flagged.ID); err != nil || orig.Verdict != provider.VerdictUnknownLink {
		t.Fatalf("the original record: %+v, %v; want it kept as received", orig, err)
	}
}

// Re-fetching, reconciling and retrying do what the library's own paths
// do, and each is recorded with its actor; failures are recorded too, an
// invalid action is not.
func actTestRecorded(t *testing.T, s suiteStore, l provider.ActionLog) {
	ctx := storeCtx(t)
	f := newActFixture(t, s)
	f.fail.Store(true)
	link, err := f.svc.CreateLink(ctx, "", provider.CreateLinkParams{Title: "order 2", Amount: provider.Rupiah(30000)})
	if err != nil {
		t.Fatalf("CreateLink: %v", err)
	}
	pay, err := f.mem.Settle(link.ID, provider.PaymentPending, 0)
	if err != nil {
		t.Fatalf("Settle: %v", err)
	}
	rec := f.act(t, provider.Action{Kind: provider.ActionReconcileLink, Actor: "ana", LinkID: link.ID})
	if rec.Result != "1 payments seen, 1 applied" || rec.Provider != "mem" {
		t.Fatalf("reconcile: recorded %+v", rec)
	}
	if got := f.status(t, s, pay.ID); got != provider.PaymentPending {
		t.Fatalf("payment after reconciling: %s, want PENDING", got)
	}
	if _, err := f.mem.Settle(link.ID, provider.PaymentSuccessful, 0); err != nil {
		t.Fatalf("Settle: %v", err)
	}
	rec = f.act(t, provider.Action{Kind: provider.ActionRefetchPayment, Actor: "budi", Provider: "mem", PaymentID: pay.ID})
	if rec.Result != "1 payments seen, 1 applied, payment SUCCESSFUL" || rec.LinkID != link.ID {
		t.Fatalf("re-fetch: recorded %+v", rec)
	}

	failed := f.run(t, pay.ID, provider.HookRunFailed)
	if failed.LastError != "mail server down" {
		t.Fatalf("failed run's last error %q", failed.LastError)
	}
	f.fail.Store(false)
	rec = f.act(t, provider.Action{Kind: provider.ActionRetryHookRun, Actor: "ana", HookRunID: failed.ID})
	if rec.Result != "hook receipt queued again" || rec.PaymentID != pay.ID || rec.Provider != "mem" {
		t.Fatalf("retry: recorded %+v", rec)
	}
	f.run(t, pay.ID, provider.HookRunSucceeded)

	// A retry of a run that has not failed is refused, and recorded.
	bad, err := f.svc.Act(ctx, provider.Action{Kind: provider.ActionRetryHookRun, Actor: "ana", HookRunID: failed.ID})
	storeWantCode(t, "retrying a succeeded run", err, provider.CodeFailedPrecondition)
	if bad == nil || bad.ID == 0 || bad.Succeeded() {
		t.Fatalf("refused retry recorded as %+v, want a failed action", bad)
	}
	_, err = f.svc.Act(ctx, provider.Action{Kind: provider.ActionRefetchPayment, Actor: "ana", PaymentID: "nope"})
	storeWantCode(t, "re-fetching an unknown payment", err, provider.CodeNotFound)
	for _, a := range []provider.Action{
		{Kind: provider.ActionRetryHookRun, HookRunID: failed.ID},
		{Kind: "delete_everything", Actor: "ana"},
		{Kind: provider.ActionReprocessCallback, Actor: "ana"},
		{Kind: provider.ActionReconcileLink, Actor: strings.Repeat("a", provider.MaxActorBytes+1), LinkID: link.ID},
	} {
		rec, err := f.svc.Act(ctx, a)
		storeWantCode(t, "an invalid action", err, provider.CodeInvalidArgument)
		if rec != nil {
			t.Errorf("invalid action %+v recorded as %+v", a, rec)
		}
	}
	all, err := l.ListActions(ctx, provider.ActionFilter{})
	if err != nil {
		t.Fatalf("ListActions: %v", err)
	}
	var kinds []string
	for _, a := range all {
		kinds = append(kinds, string(a.Kind)+" by "+a.Actor+" ok="+strconv.FormatBool(a.Succeeded()))
	}
	want := []string{
		"refetch_payment by ana ok=false", "retry_hook_run by ana ok=false", "retry_hook_run by ana ok=true",
		"refetch_payment by budi ok=true", "reconcile_link by ana ok=true",
	}
	if !reflect.DeepEqual(kinds, want) {
		t.Fatalf("action log:\n got %q\nwant %q", kinds, want)
	}
}
