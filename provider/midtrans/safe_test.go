package midtrans_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/paylinkgo/paylink/provider"
	"github.com/paylinkgo/paylink/provider/midtrans"
	"github.com/paylinkgo/paylink/provider/midtrans/midtranstest"
	"github.com/paylinkgo/paylink/provider/providertest"
)

// Some splices pass every check: "shop-1" + "201" + "20010000.00" is
// "shop-1201" + "200" + "10000.00". The order the splice names is
// confirmed with the status API like every notification, so it pays
// nothing, even with InsecureSkipVerify.
func TestASpliceTheChecksCannotSeeIsNotConfirmed(t *testing.T) {
	ctx := t.Context()
	h := newHarness(t)
	svc, store := newService(t, h, true)
	for key, amount := range map[string]int64{"shop-1": 20010000, "shop-1201": 10000} {
		p := orderParams
		p.IdempotencyKey, p.Amount = key, provider.Rupiah(amount)
		if _, err := svc.CreateLink(ctx, "midtrans", p); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := h.fake.Choose(ctx, "shop-1", midtranstest.Method{PaymentType: "gopay"}); err != nil {
		t.Fatal(err)
	}
	req, err := h.next(ctx, "pending")
	if err != nil {
		t.Fatal(err)
	}
	m := decodeBody(t, req)
	m["order_id"], m["status_code"], m["gross_amount"], m["transaction_status"] = "shop-1201", "200", "10000.00", "settlement"
	ev, out, err := svc.HandleCallback(ctx, "midtrans", notification(t, m))
	if ev == nil || !errors.Is(err, provider.CodeUnavailable) || out.Verdict != provider.VerdictUnverified {
		t.Fatalf("the splice: %+v, %s, %v; want it parsed, then unverified with CodeUnavailable", ev, out.Verdict, err)
	}
	if p, err := store.GetPayment(ctx, "midtrans", "shop-1201"); !errors.Is(err, provider.CodeNotFound) {
		t.Fatalf("shop-1201's payment after the splice: %+v, %v; want none", p, err)
	}
}

// A signed notification whose unsigned fields were rewritten (a pending
// one now saying settlement; a settlement now saying partial_refund with
// a made-up refund_amount) moves no money: the status API does not show
// it, so it is recorded unverified, answered with CodeUnavailable, and no
// hook runs; with InsecureSkipVerify too. A "201" rewritten to settlement
// does not even parse.
func TestARewrittenStatusMovesNoMoney(t *testing.T) {
	for _, insecure := range []bool{false, true} {
		ctx := t.Context()
		h := newHarness(t)
		svc, store := newService(t, h, insecure)
		var runs []string
		var mu sync.Mutex
		record := func(_ context.Context, ev *provider.HookEvent) error {
			mu.Lock()
			defer mu.Unlock()
			runs = append(runs, string(ev.Status))
			return nil
		}
		if err := errors.Join(svc.OnSucceeded("paid", provider.SucceededHookFunc(record)),
			svc.OnRefunded("refunded", provider.RefundedHookFunc(record))); err != nil {
			t.Fatal(err)
		}
		l, err := svc.CreateLink(ctx, "midtrans", orderParams)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := h.fake.Choose(ctx, l.ID, midtranstest.Method{PaymentType: "gopay"}); err != nil {
			t.Fatal(err)
		}
		req, err := h.next(ctx, "pending")
		if err != nil {
			t.Fatal(err)
		}
		pending := decodeBody(t, req)
		if _, out, err := svc.HandleCallback(ctx, "midtrans", req); err != nil || out.Verdict != provider.VerdictApplied {
			t.Fatalf("insecure %v: the genuine pending notification: %s, %v", insecure, out.Verdict, err)
		}
		want := func(what string, st provider.PaymentState, hooks int) {
			t.Helper()
			p, err := store.GetPayment(ctx, "midtrans", l.ID)
			queued, _ := store.ListHookRuns(ctx, provider.HookRunFilter{})
			if err != nil || p.State() != st || len(queued) != hooks {
				t.Fatalf("insecure %v: after %s: %+v, %v, %d hook runs; want %s and %d", insecure, what, p, err, len(queued), st, hooks)
			}
		}

		pending["transaction_status"] = "settlement"
		if _, _, err := svc.HandleCallback(ctx, "midtrans", notification(t, pending)); !errors.Is(err, provider.CodeInvalidArgument) {
			t.Fatalf("insecure %v: a \"201\" rewritten to settlement: %v, want CodeInvalidArgument", insecure, err)
		}
		// A pending notification may carry "200" (the DANA sample), so a
		// settlement with the same signature parses; the status API
		// still says pending.
		r, err := midtrans.NewNotificationRequest(ctx, "http://app.invalid/midtrans", conformanceKey, midtrans.Transaction{
			OrderID: l.ID, StatusCode: "200", GrossAmount: "150000.00", TransactionStatus: midtrans.StatusSettlement, PaymentType: "gopay"})
		if err != nil {
			t.Fatal(err)
		}
		if _, out, err := svc.HandleCallback(ctx, "midtrans", r); !errors.Is(err, provider.CodeUnavailable) || out.Verdict != provider.VerdictUnverified {
			t.Fatalf("insecure %v: pending rewritten to settlement: %s, %v; want unverified, CodeUnavailable", insecure, out.Verdict, err)
		}
		want("pending rewritten to settlement", provider.PaymentState{Status: provider.PaymentPending}, 0)

		if _, err := h.fake.Settle(ctx, l.ID); err != nil {
			t.Fatal(err)
		}
		if req, err = h.next(ctx, "settlement"); err != nil {
			t.Fatal(err)
		}
		settlement := decodeBody(t, req)
		if _, out, err := svc.HandleCallback(ctx, "midtrans", req); err != nil || out.Verdict != provider.VerdictApplied {
			t.Fatalf("insecure %v: the genuine settlement: %s, %v", insecure, out.Verdict, err)
		}
		want("the settlement", provider.PaymentState{Status: provider.PaymentSuccessful}, 1)
		settlement["transaction_status"], settlement["refund_amount"] = "partial_refund", "90000.00"
		if _, out, err := svc.HandleCallback(ctx, "midtrans", notification(t, settlement)); !errors.Is(err, provider.CodeUnavailable) || out.Verdict != provider.VerdictUnverified {
			t.Fatalf("insecure %v: settlement rewritten to partial_refund: %s, %v; want unverified, CodeUnavailable", insecure, out.Verdict, err)
		}
		want("settlement rewritten to partial_refund", provider.PaymentState{Status: provider.PaymentSuccessful}, 1)
		cbs, err := store.ListCallbacks(ctx, provider.CallbackFilter{Verdict: provider.VerdictUnverified})
		if err != nil || len(cbs) != 2 {
			t.Fatalf("insecure %v: unverified callbacks %+v, %v; want the two rewrites", insecure, cbs, err)
		}
	}
}

// A repeated notification is recognised before any call to Midtrans:
// with the status API failing, the duplicate is still answered.
func TestADuplicateCostsNoStatusCall(t *testing.T) {
	ctx := t.Context()
	h := newHarness(t)
	svc, _ := newService(t, h, false)
	l, err := svc.CreateLink(ctx, "midtrans", orderParams)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.fake.Pay(ctx, l.ID, midtranstest.PayOptions{Method: midtranstest.Method{PaymentType: "gopay"}}); err != nil {
		t.Fatal(err)
	}
	req, err := h.next(ctx, "settlement")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := providertest.ReadBody(req)
	if _, out, err := svc.HandleCallback(ctx, "midtrans", req); err != nil || out.Verdict != provider.VerdictApplied {
		t.Fatalf("the settlement: %s, %v", out.Verdict, err)
	}
	h.fake.InjectFault(midtranstest.Fault{Status: http.StatusServiceUnavailable, Count: 100})
	again := httptest.NewRequest(http.MethodPost, "/midtrans", bytes.NewReader(body))
	again.Header.Set("Content-Type", "application/json")
	if _, out, err := svc.HandleCallback(ctx, "midtrans", again); err != nil || out.Verdict != provider.VerdictDuplicate {
		t.Fatalf("the settlement again, Midtrans down: %s, %v; want a duplicate and no call", out.Verdict, err)
	}
}
