package midtrans_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paylinkgo/paylink/provider"
	"github.com/paylinkgo/paylink/provider/midtrans"
	"github.com/paylinkgo/paylink/provider/midtrans/midtranstest"
	"github.com/paylinkgo/paylink/provider/providertest"
)

// payAndDeliver pays the link with opts and delivers the settlement
// notification to svc.
func payAndDeliver(t *testing.T, h *harness, svc *provider.Service, l *provider.Link, opts midtranstest.PayOptions) (provider.Outcome, []byte) {
	t.Helper()
	ctx := t.Context()
	if _, err := h.fake.Pay(ctx, l.ID, opts); err != nil {
		t.Fatal(err)
	}
	req, err := h.next(ctx, "settlement")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := providertest.ReadBody(req)
	_, out, err := providertest.Deliver(ctx, svc, "midtrans", req)
	if err != nil {
		t.Fatal(err)
	}
	return out, body
}

// With Automatic Fee Imposition on in the dashboard, CreateLink turns the
// fee off per transaction, so the customer pays the order's amount.
func TestTheImposedFeeIsTurnedOffByDefault(t *testing.T) {
	h := newHarnessWith(t, midtranstest.Options{ImposedFee: 71}, midtrans.ProviderOptions{})
	svc, store := newService(t, h, false)
	params := orderParams
	params.Amount = provider.Rupiah(10000)
	l, err := svc.CreateLink(t.Context(), "midtrans", params)
	if err != nil {
		t.Fatal(err)
	}
	out, body := payAndDeliver(t, h, svc, l, midtranstest.PayOptions{Method: midtranstest.Method{PaymentType: "gopay"}})
	if out.Verdict != provider.VerdictApplied || !bytes.Contains(body, []byte(`"gross_amount":"10000.00"`)) {
		t.Fatalf("verdict %s, body %s; want applied at 10000.00", out.Verdict, body)
	}
	pay, err := store.GetPayment(t.Context(), "midtrans", l.ID)
	if err != nil || pay.Status != provider.PaymentSuccessful || pay.Amount.Amount != 10000 {
		t.Fatalf("payment %+v, %v", pay, err)
	}
}

// A fee the app allowed is reported as the order's amount, the fee left
// in Raw; a fee the app did not allow, or a promo, is an amount other than
// the link's: flagged amount_mismatch, never paid.
func TestFeesAndPromosChangeTheAmountCharged(t *testing.T) {
	ctx := t.Context()
	params := orderParams
	params.Amount = provider.Rupiah(10000)

	h := newHarnessWith(t, midtranstest.Options{ImposedFee: 71}, midtrans.ProviderOptions{AllowFeeImposition: true})
	svc, store := newService(t, h, false)
	l, err := svc.CreateLink(ctx, "midtrans", params)
	if err != nil {
		t.Fatal(err)
	}
	out, body := payAndDeliver(t, h, svc, l, midtranstest.PayOptions{Method: midtranstest.Method{PaymentType: "gopay"}})
	if out.Verdict != provider.VerdictApplied || !bytes.Contains(body, []byte(`"gross_amount":"10071.00"`)) {
		t.Fatalf("allowed fee: verdict %s, body %s; want applied with gross 10071.00", out.Verdict, body)
	}
	pay, err := store.GetPayment(ctx, "midtrans", l.ID)
	if err != nil || pay.Status != provider.PaymentSuccessful || pay.Amount.Amount != 10000 ||
		!bytes.Contains(pay.Raw, []byte(`"customer_imposed_payment_fee":"71"`)) {
		t.Fatalf("allowed fee: payment %+v, %v", pay, err)
	}
	// A full refund returns 10071: all of the order.
	if out, err := svc.Refund(ctx, "midtrans", l.ID, provider.RefundParams{}); err != nil || out.Payment.Status != provider.PaymentRefunded ||
		out.Payment.RefundedAmount.Amount != 10000 {
		t.Fatalf("allowed fee: full refund %+v, %v", out, err)
	}

	// A promo lowers the amount: flagged even when fees are allowed.
	l2, err := svc.CreateLink(ctx, "midtrans", params)
	if err != nil {
		t.Fatal(err)
	}
	if out, _ := payAndDeliver(t, h, svc, l2, midtranstest.PayOptions{Promo: 1000}); out.Verdict != provider.VerdictAmountMismatch {
		t.Fatalf("promo: verdict %s, want amount_mismatch", out.Verdict)
	}
	if p, err := store.GetPayment(ctx, "midtrans", l2.ID); err == nil && p.Status.Paid() {
		t.Fatalf("promo: payment %+v is paid", p)
	}

	// A fee the app did not allow (a notification carrying one, as the
	// doc sample has it): the amount charged, flagged.
	strict := newHarness(t)
	ssvc, sstore := newService(t, strict, false)
	l3, err := ssvc.CreateLink(ctx, "midtrans", params)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []*midtrans.Provider{strict.p, h.p} {
		ev, err := p.DecodeCallback(ctx, []byte(`{"order_id":"`+l3.ID+`","status_code":"200","gross_amount":"10071.00",`+
			`"transaction_status":"settlement","payment_type":"gopay",`+
			`"extra_info":{"gross_amount_info":{"original_amount":10000,"gross_amount":10071,"customer_imposed_payment_fee":"71"}}}`))
		want := int64(10071)
		if p == h.p {
			want = 10000
		}
		if err != nil || ev.Payment.Amount.Amount != want {
			t.Fatalf("doc-sample breakdown: %+v, %v; want amount %d", ev, err, want)
		}
	}
	if _, err := strict.fake.Choose(ctx, l3.ID, midtranstest.Method{PaymentType: "gopay"}); err != nil {
		t.Fatal(err)
	}
	ev, _ := strict.p.DecodeCallback(ctx, []byte(`{"order_id":"`+l3.ID+`","status_code":"200","gross_amount":"10071.00",`+
		`"transaction_status":"settlement","payment_type":"gopay"}`))
	out3, err := ssvc.ApplyEvent(ctx, ev)
	if err == nil && out3.Verdict == provider.VerdictApplied {
		t.Fatalf("unallowed fee: applied")
	}
	if p, err := sstore.GetPayment(ctx, "midtrans", l3.ID); err == nil && p.Status.Paid() {
		t.Fatalf("unallowed fee: payment %+v is paid", p)
	}
}

// settledGopay creates a link through svc and delivers its settlement.
func settledGopay(t *testing.T, h *harness, svc *provider.Service) *provider.Link {
	t.Helper()
	params := orderParams
	params.Amount = provider.Rupiah(10000)
	l, err := svc.CreateLink(t.Context(), "midtrans", params)
	if err != nil {
		t.Fatal(err)
	}
	if out, _ := payAndDeliver(t, h, svc, l, midtranstest.PayOptions{Method: midtranstest.Method{PaymentType: "gopay"}}); out.Verdict != provider.VerdictApplied {
		t.Fatalf("settlement: %s", out.Verdict)
	}
	return l
}

// A refund the bank declines after an earlier partial refund still reads
// partial_refund (HTTP 200, "202", refund_amount "0.00"): an error, and
// nothing changes.
func TestADeclinedRefundAfterAPartialRefundChangesNothing(t *testing.T) {
	ctx := t.Context()
	h := newHarness(t)
	svc, store := newService(t, h, false)
	var hooks atomic.Int32
	if err := svc.On("refunded", provider.When(provider.PaymentPartiallyRefunded, provider.PaymentRefunded),
		func(context.Context, *provider.HookEvent) error { hooks.Add(1); return nil }); err != nil {
		t.Fatal(err)
	}
	l := settledGopay(t, h, svc)
	if out, err := svc.Refund(ctx, "midtrans", l.ID, provider.RefundParams{Amount: provider.Rupiah(3000)}); err != nil ||
		out.Payment.Status != provider.PaymentPartiallyRefunded || out.Payment.RefundedAmount.Amount != 3000 {
		t.Fatalf("partial refund of 3000: %+v, %v", out, err)
	}
	runs := func() int {
		rs, err := store.ListHookRuns(ctx, provider.HookRunFilter{})
		if err != nil {
			t.Fatal(err)
		}
		return len(rs)
	}
	before := runs()
	h.fake.FailRefunds(midtranstest.RefundDeniedByBank, 1)
	out, err := svc.Refund(ctx, "midtrans", l.ID, provider.RefundParams{Amount: provider.Rupiah(2000)})
	if !errors.Is(err, provider.CodeFailedPrecondition) || !strings.Contains(err.Error(), "Refund denied by the bank") {
		t.Fatalf("declined refund of 2000: %+v, %v; want CodeFailedPrecondition quoting Midtrans", out, err)
	}
	pay, err := store.GetPayment(ctx, "midtrans", l.ID)
	if err != nil || pay.State() != (provider.PaymentState{Status: provider.PaymentPartiallyRefunded, Refunded: 3000}) || runs() != before {
		t.Fatalf("after the declined refund: %+v, %v, %d hook runs (%d before)", pay, err, runs(), before)
	}
}

// The refund answer's refund_amount is this refund's (as one Midtrans
// page documents it); the cumulative amount is read from the status API.
func TestTheCumulativeRefundComesFromTheStatusAPI(t *testing.T) {
	ctx := t.Context()
	h := newHarness(t)
	svc, _ := newService(t, h, false)
	l := settledGopay(t, h, svc)
	if _, err := svc.Refund(ctx, "midtrans", l.ID, provider.RefundParams{Amount: provider.Rupiah(3000)}); err != nil {
		t.Fatal(err)
	}
	pay, err := h.p.Refund(ctx, l.ID, provider.RefundParams{Amount: provider.Rupiah(2000), Key: "second"})
	if err != nil || pay.Status != provider.PaymentPartiallyRefunded || pay.RefundedAmount.Amount != 5000 {
		t.Fatalf("second partial refund: %+v, %v; want 5000 refunded in all", pay, err)
	}
}

// A card captured today cannot be refunded: a refund of all of it cancels
// it (SUCCESSFUL → REFUNDED of the whole amount); a part is refused.
func TestARefundOfACaptureCancelsItWhole(t *testing.T) {
	ctx := t.Context()
	h := newHarness(t)
	svc, store := newService(t, h, false)
	params := orderParams
	params.Amount = provider.Rupiah(10000)
	l, err := svc.CreateLink(ctx, "midtrans", params)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.fake.Pay(ctx, l.ID, midtranstest.PayOptions{Method: midtranstest.Method{PaymentType: "credit_card"}}); err != nil {
		t.Fatal(err)
	}
	req, err := h.next(ctx, "capture")
	if err != nil {
		t.Fatal(err)
	}
	if _, out, err := providertest.Deliver(ctx, svc, "midtrans", req); err != nil || out.Verdict != provider.VerdictApplied {
		t.Fatalf("capture: %s, %v", out.Verdict, err)
	}
	_, err = svc.Refund(ctx, "midtrans", l.ID, provider.RefundParams{Amount: provider.Rupiah(4000)})
	if !errors.Is(err, provider.CodeFailedPrecondition) || !strings.Contains(err.Error(), "captured but not settled") {
		t.Fatalf("partial refund of a capture: %v; want CodeFailedPrecondition naming the reason", err)
	}
	out, err := svc.Refund(ctx, "midtrans", l.ID, provider.RefundParams{})
	if err != nil || out.Payment.Status != provider.PaymentRefunded || out.Payment.RefundedAmount.Amount != 10000 {
		t.Fatalf("full refund of a capture: %+v, %v", out, err)
	}
	if tx, _ := h.fake.Settle(ctx, l.ID); tx != nil {
		t.Fatalf("the cancelled capture settled: %+v", tx)
	}
	if pay, err := store.GetPayment(ctx, "midtrans", l.ID); err != nil || pay.Status != provider.PaymentRefunded {
		t.Fatalf("stored: %+v, %v", pay, err)
	}
}

// 414 means an invalid amount (CodeInvalidArgument) or the merchant's
// insufficient balance (CodeUnavailable: retry with the same key).
func TestTheTwo414s(t *testing.T) {
	ctx := t.Context()
	h := newHarness(t)
	svc, _ := newService(t, h, false)
	l := settledGopay(t, h, svc)
	_, err := h.p.Refund(ctx, l.ID, provider.RefundParams{Amount: provider.Rupiah(20000), Key: "too-much"})
	var apiErr *midtrans.APIError
	if !errors.Is(err, provider.CodeInvalidArgument) || !errors.As(err, &apiErr) || apiErr.StatusCode != "414" {
		t.Fatalf("invalid amount: %v; want 414 CodeInvalidArgument", err)
	}
	h.fake.FailRefunds(midtranstest.RefundInsufficientFunds, 1)
	_, err = h.p.Refund(ctx, l.ID, provider.RefundParams{Amount: provider.Rupiah(1000), Key: "k1"})
	if !errors.Is(err, provider.CodeUnavailable) || !errors.As(err, &apiErr) || apiErr.StatusCode != "414" || !strings.Contains(err.Error(), `"k1"`) {
		t.Fatalf("insufficient funds: %v; want 414 CodeUnavailable naming the key", err)
	}
	if pay, err := h.p.Refund(ctx, l.ID, provider.RefundParams{Amount: provider.Rupiah(1000), Key: "k1"}); err != nil || pay.RefundedAmount.Amount != 1000 {
		t.Fatalf("the retry with the same key: %+v, %v", pay, err)
	}
}

// signed returns a notification request of body m signed over gross as
// the signed gross_amount text.
func signed(t *testing.T, m map[string]any, gross string) *http.Request {
	t.Helper()
	m["signature_key"] = midtrans.Signature(m["order_id"].(string), m["status_code"].(string), gross, conformanceKey)
	return notification(t, m)
}

// Midtrans asks for non-strict parsing: a number where a string is
// declared is its decimal text; a gross_amount number is whole rupiah,
// its signature checked over "N.00" or over the text sent.
func TestNumbersWhereStringsAreDeclaredAreAccepted(t *testing.T) {
	h := newHarness(t)
	for _, gross := range []string{"150000.00", "150000"} {
		m := map[string]any{"order_id": "order-7", "status_code": "200", "gross_amount": 150000,
			"transaction_status": "partial_refund", "payment_type": "gopay", "merchant_id": 141532850,
			"refund_amount": 50000, "refunds": []any{map[string]any{"refund_chargeback_id": 1, "refund_amount": 50000}}}
		ev, err := h.p.ParseCallback(t.Context(), signed(t, m, gross))
		if err != nil || ev.Payment.Amount.Amount != 150000 || ev.Payment.RefundedAmount.Amount != 50000 ||
			ev.Payment.Status != provider.PaymentPartiallyRefunded {
			t.Fatalf("signed over %q: %+v, %v", gross, ev, err)
		}
	}
	m := map[string]any{"order_id": "order-7", "status_code": "200", "gross_amount": 150000.5,
		"transaction_status": "settlement", "payment_type": "gopay"}
	if _, err := h.p.ParseCallback(t.Context(), signed(t, m, "150000.5")); !errors.Is(err, provider.CodeInvalidArgument) {
		t.Fatalf("a fractional gross_amount number: %v, want CodeInvalidArgument", err)
	}
}

// "If fraud_status exists ensure the value is accept": a capture or
// settlement with a fraud status Midtrans adds later is not paid; paylink
// flags it unknown_status.
func TestAnUnknownFraudStatusIsNotPaid(t *testing.T) {
	ctx := t.Context()
	h := newHarness(t)
	svc, store := newService(t, h, false)
	l, err := svc.CreateLink(ctx, "midtrans", orderParams)
	if err != nil {
		t.Fatal(err)
	}
	for _, tx := range []string{"capture", "settlement"} {
		if st, ok := midtrans.PortableStatus(midtrans.TransactionStatus(tx), "review"); ok || st != "" {
			t.Errorf("PortableStatus(%s, review) = %q, %v; want no portable status", tx, st, ok)
		}
		m := map[string]any{"order_id": l.ID, "status_code": "200", "gross_amount": "150000.00",
			"transaction_status": tx, "fraud_status": "review", "payment_type": "credit_card"}
		_, out, err := providertest.Deliver(ctx, svc, "midtrans", signed(t, m, "150000.00"))
		if err != nil || out.Verdict != provider.VerdictUnknownStatus {
			t.Fatalf("%s/review: %s, %v; want unknown_status", tx, out.Verdict, err)
		}
	}
	if p, err := store.GetPayment(ctx, "midtrans", l.ID); err == nil && p.Status.Paid() {
		t.Fatalf("payment %+v is paid", p)
	}
}

// Only Midtrans's JSON "404" is an unknown transaction; an HTML 404 (a
// wrong base URL) is CodeUnavailable naming the URL.
func TestAnHTML404IsNotTransactionNotFound(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusNotFound)
		w.Write([]byte("<html><body><h1>404 Not Found</h1></body></html>"))
	}))
	defer srv.Close()
	c, err := midtrans.NewClient(conformanceKey, midtrans.Options{BaseURL: srv.URL + "/wrong"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.GetStatus(t.Context(), "order-1")
	if errors.Is(err, provider.CodeNotFound) || !errors.Is(err, provider.CodeUnavailable) || !strings.Contains(err.Error(), srv.URL+"/wrong") {
		t.Fatalf("HTML 404: %v; want CodeUnavailable naming the base URL", err)
	}
	fake := midtranstest.NewServer(midtranstest.Options{ServerKey: conformanceKey, CoreErrorsWithHTTPStatus: true})
	defer fake.Close()
	c, _ = midtrans.NewClient(conformanceKey, midtrans.Options{BaseURL: fake.URL})
	if _, err := c.GetStatus(t.Context(), "order-1"); !errors.Is(err, provider.CodeNotFound) {
		t.Fatalf("Midtrans's JSON 404: %v; want CodeNotFound", err)
	}
}

// A status read fits Midtrans's 15 s notification timeout: ReadTimeout
// bounds all its tries, and a stalled try leaves time for another.
func TestAStatusReadFitsTheNotificationTimeout(t *testing.T) {
	ctx := t.Context()
	h := newHarness(t)
	l, err := h.p.CreateLink(ctx, orderParams)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.fake.Choose(ctx, l.ID, midtranstest.Method{}); err != nil {
		t.Fatal(err)
	}
	c, err := midtrans.NewClient(conformanceKey, midtrans.Options{BaseURL: h.fake.URL, ReadTimeout: time.Second, RetryBackoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	h.fake.InjectFault(midtranstest.Fault{Delay: 5 * time.Second})
	start := time.Now()
	if tx, err := c.GetStatus(ctx, l.ID); err != nil || tx.OrderID != l.ID || time.Since(start) > time.Second {
		t.Fatalf("a stalled first try: %+v, %v after %s; want the second try's answer within 1s", tx, err, time.Since(start))
	}
	h.fake.InjectFault(midtranstest.Fault{Delay: 5 * time.Second, Count: 10})
	start = time.Now()
	if _, err := c.GetStatus(ctx, l.ID); err == nil || time.Since(start) > 1500*time.Millisecond {
		t.Fatalf("a stalled Midtrans: %v after %s; want an error within the 1s ReadTimeout", err, time.Since(start))
	}
	if midtrans.DefaultReadTimeout >= 15*time.Second {
		t.Fatalf("DefaultReadTimeout %s does not fit Midtrans's 15 s", midtrans.DefaultReadTimeout)
	}
}
