package midtrans_test

import (
	"bytes"
	"testing"

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
