package main

import (
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/paylinkgo/paylink/flip"
)

// TestLeakedCallbackTokenCannotPayAnOrder: someone who has Flip's
// callback token (leaked from a log, a screenshot, a former employee)
// posts a SUCCESSFUL callback for an order's link with a payment Flip
// never saw. The shop keeps callback verification on (paylink's default):
// the payment is read back from Flip's API, which does not know it, so
// the callback is not applied (503, recorded as unverified) and the order
// stays PENDING with no receipt. The customer's real payment still pays
// it, once.
func TestLeakedCallbackTokenCannotPayAnOrder(t *testing.T) {
	t.Parallel()
	env := shopEnv(t.TempDir())
	s := startShop(t, env)
	o := s.createOrder(coffee())

	req, err := flip.NewCallbackRequest(t.Context(), s.base+"/flip/callback", env["FLIP_CALLBACK_TOKEN"], flip.Callback{
		ID:         "PGPWF-forged-1",
		BillLinkID: flip.ID(o.Payment.LinkID),
		BillTitle:  "Coffee beans 1 kg",
		SenderName: "Mallory",
		SenderBank: "bni",
		Amount:     o.Amount,
		Status:     "SUCCESSFUL",
		CreatedAt:  time.Now(),
	})
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode == http.StatusOK {
		t.Errorf("a SUCCESSFUL callback for a payment Flip does not know was answered 200 (%s), want it refused unverified", body)
	}
	if got := s.getOrder(o.ID); got.Status != OrderPending || got.ReceiptsSent != 0 {
		t.Fatalf("after the forged callback the order is %s with %d receipts, want PENDING and 0", got.Status, got.ReceiptsSent)
	}
	if got, _ := sample(s.metrics(), "paylink_callbacks_total", "paylink_verdict", "unverified"); got != "1" {
		t.Errorf("paylink_callbacks_total{verdict=unverified} = %q, want 1", got)
	}

	s.pay(o)
	s.waitOrder(o.ID, "PAID with one receipt", func(o orderView) bool { return o.Status == OrderPaid && o.ReceiptsSent == 1 })
}
