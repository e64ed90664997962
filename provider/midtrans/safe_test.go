package midtrans_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

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
	ev, out, err := providertest.Deliver(ctx, svc, "midtrans", notification(t, m))
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
		if err := errors.Join(svc.On("paid", provider.When(provider.PaymentSuccessful), record),
			svc.On("refunded", provider.When(provider.PaymentPartiallyRefunded, provider.PaymentRefunded), record)); err != nil {
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
		if _, out, err := providertest.Deliver(ctx, svc, "midtrans", req); err != nil || out.Verdict != provider.VerdictApplied {
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
		if _, _, err := providertest.Deliver(ctx, svc, "midtrans", notification(t, pending)); !errors.Is(err, provider.CodeInvalidArgument) {
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
		if _, out, err := providertest.Deliver(ctx, svc, "midtrans", r); !errors.Is(err, provider.CodeUnavailable) || out.Verdict != provider.VerdictUnverified {
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
		if _, out, err := providertest.Deliver(ctx, svc, "midtrans", req); err != nil || out.Verdict != provider.VerdictApplied {
			t.Fatalf("insecure %v: the genuine settlement: %s, %v", insecure, out.Verdict, err)
		}
		want("the settlement", provider.PaymentState{Status: provider.PaymentSuccessful}, 1)
		settlement["transaction_status"], settlement["refund_amount"] = "partial_refund", "90000.00"
		if _, out, err := providertest.Deliver(ctx, svc, "midtrans", notification(t, settlement)); !errors.Is(err, provider.CodeUnavailable) || out.Verdict != provider.VerdictUnverified {
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
	if _, out, err := providertest.Deliver(ctx, svc, "midtrans", req); err != nil || out.Verdict != provider.VerdictApplied {
		t.Fatalf("the settlement: %s, %v", out.Verdict, err)
	}
	h.fake.InjectFault(midtranstest.Fault{Status: http.StatusServiceUnavailable, Count: 100})
	again := httptest.NewRequest(http.MethodPost, "/midtrans", bytes.NewReader(body))
	again.Header.Set("Content-Type", "application/json")
	if _, out, err := providertest.Deliver(ctx, svc, "midtrans", again); err != nil || out.Verdict != provider.VerdictDuplicate {
		t.Fatalf("the settlement again, Midtrans down: %s, %v; want a duplicate and no call", out.Verdict, err)
	}
}

// signature_key never leaves the Provider: not in an event, its Raw or
// its payment, not in what the Service stores or hands to hooks, not in
// the payments and links read through the status API (whose answers are
// signed too).
func TestTheSignatureIsNeverKept(t *testing.T) {
	ctx := t.Context()
	h := newHarness(t)
	svc, store := newService(t, h, false)
	var mu sync.Mutex
	var seen [][]byte // everything handed out, as JSON
	keep := func(v any) {
		t.Helper()
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		defer mu.Unlock()
		seen = append(seen, b)
	}
	hook := func(_ context.Context, ev *provider.HookEvent) error { keep(ev); return nil }
	if err := errors.Join(svc.On("paid", provider.When(provider.PaymentSuccessful), hook),
		svc.On("refunded", provider.When(provider.PaymentPartiallyRefunded, provider.PaymentRefunded), hook)); err != nil {
		t.Fatal(err)
	}
	if err := svc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = svc.Stop(context.Background()) })
	l, err := svc.CreateLink(ctx, "midtrans", orderParams)
	if err != nil {
		t.Fatal(err)
	}
	var sigs []string
	deliver := func(status, field string) {
		t.Helper()
		req, err := h.nextWith(ctx, status, field)
		if err != nil {
			t.Fatal(err)
		}
		sigs = append(sigs, decodeBody(t, req)["signature_key"].(string))
		ev, out, err := providertest.Deliver(ctx, svc, "midtrans", req)
		if err != nil || out.Verdict != provider.VerdictApplied {
			t.Fatalf("%s: %s, %v", status, out.Verdict, err)
		}
		keep(ev)
		again, err := h.p.DecodeCallback(ctx, ev.Raw)
		if err != nil || again.Payment.State() != ev.Payment.State() || again.Payment.ID != ev.Payment.ID {
			t.Fatalf("DecodeCallback(Raw) of %s = %+v, %v", status, again, err)
		}
	}
	if _, err := h.fake.Choose(ctx, l.ID, midtranstest.Method{PaymentType: "gopay"}); err != nil {
		t.Fatal(err)
	}
	deliver("pending", "")
	if _, err := h.fake.Settle(ctx, l.ID); err != nil {
		t.Fatal(err)
	}
	deliver("settlement", "")
	if _, err := h.fake.Refund(ctx, l.ID, 50000); err != nil {
		t.Fatal(err)
	}
	deliver("partial_refund", `"refund_amount":"50000.00"`)
	if _, err := svc.Refund(ctx, "midtrans", l.ID, provider.RefundParams{Reason: "cancelled"}); err != nil {
		t.Fatal(err)
	}
	tx, err := h.fake.Client().GetStatus(ctx, l.ID)
	if err != nil || tx.SignatureKey == "" {
		t.Fatalf("status: %+v, %v", tx, err)
	}
	sigs = append(sigs, tx.SignatureKey)

	pay, err := h.p.GetPayment(ctx, l, l.ID)
	if err != nil {
		t.Fatal(err)
	}
	keep(pay)
	pays, err := h.p.ListLinkPayments(ctx, l)
	if err != nil {
		t.Fatal(err)
	}
	keep(pays)
	link, err := h.p.GetLink(ctx, l)
	if err != nil {
		t.Fatal(err)
	}
	keep(link)
	stored, err := store.GetPayment(ctx, "midtrans", l.ID)
	if err != nil || stored.Status != provider.PaymentRefunded {
		t.Fatalf("stored payment %+v, %v", stored, err)
	}
	keep(stored)
	cbs, err := store.ListCallbacks(ctx, provider.CallbackFilter{})
	if err != nil || len(cbs) != 3 {
		t.Fatalf("callbacks %+v, %v", cbs, err)
	}
	keep(cbs)
	changes, err := store.ListStatusChanges(ctx, "midtrans", l.ID)
	if err != nil {
		t.Fatal(err)
	}
	keep(changes)
	deadline := time.Now().Add(10 * time.Second)
	for {
		done, err := store.ListHookRuns(ctx, provider.HookRunFilter{State: provider.HookRunSucceeded})
		if err != nil {
			t.Fatal(err)
		}
		if len(done) >= 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d hook runs succeeded, want 3", len(done))
		}
		time.Sleep(5 * time.Millisecond)
	}

	mu.Lock()
	defer mu.Unlock()
	for _, b := range seen {
		if bytes.Contains(bytes.ToLower(b), []byte("signature_key")) {
			t.Errorf("signature_key in %s", b)
		}
		for _, sig := range sigs {
			if len(sig) != 128 || strings.Contains(string(b), sig) {
				t.Errorf("signature %.16s... in %s", sig, b)
			}
		}
	}
}

// The signature_key member is cut from the body, every other byte kept,
// whatever its place, spelling or escapes (encoding/json matches names
// case-insensitively).
func TestSignatureKeyIsCutFromTheBody(t *testing.T) {
	h := newHarness(t)
	const rest = `"order_id":"o-1","status_code":"200","gross_amount":"1.00","transaction_status":"settlement"`
	for _, c := range []struct{ in, want string }{
		{`{"signature_key":"S",` + rest + `}`, `{` + rest + `}`},
		{`{` + rest + `,"signature_key":"S"}`, `{` + rest + `}`},
		{`{"order_id":"o-1", "signature_key" : "S" ,"status_code":"200","gross_amount":"1.00","transaction_status":"settlement"}`,
			`{"order_id":"o-1" ,"status_code":"200","gross_amount":"1.00","transaction_status":"settlement"}`},
		{"{\n  \"signature_key\": \"S\",\n  \"order_id\": \"o-1\",\n  \"status_code\": \"200\",\n  \"gross_amount\": \"1.00\",\n  \"transaction_status\": \"settlement\"\n}",
			"{\n  \"order_id\": \"o-1\",\n  \"status_code\": \"200\",\n  \"gross_amount\": \"1.00\",\n  \"transaction_status\": \"settlement\"\n}"},
		{`{"signature_key":"S","Signature_Key":"S",` + rest + `,"SIGNATURE_KEY":"S"}`, `{` + rest + `}`},
		{`{"signature\u005fkey":"S",` + rest + `}`, `{` + rest + `}`},
		{`{"ſignature_key":"S",` + rest + `}`, `{` + rest + `}`}, // U+017F folds to s
		{`{` + rest + `,"refunds":[{"refund_amount":"1.00"}],"n":1.5e3}`, `{` + rest + `,"refunds":[{"refund_amount":"1.00"}],"n":1.5e3}`},
	} {
		ev, err := h.p.DecodeCallback(t.Context(), []byte(c.in))
		if err != nil {
			t.Errorf("DecodeCallback(%s): %v", c.in, err)
			continue
		}
		if string(ev.Raw) != c.want || string(ev.Payment.Raw) != c.want {
			t.Errorf("DecodeCallback(%s).Raw =\n%s\nwant\n%s", c.in, ev.Raw, c.want)
		}
	}
}
