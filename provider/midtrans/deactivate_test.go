package midtrans_test

import (
	"errors"
	"testing"

	"github.com/paylinkgo/paylink/provider"
	"github.com/paylinkgo/paylink/provider/midtrans/midtranstest"
)

// After a final attempt (deny, expire, cancel) Snap lets the customer
// make a new attempt on the same order_id; DeactivateLink cancels the
// Snap session too, so a deactivated link takes no new attempt.
func TestDeactivateLinkAfterAFinalAttemptCancelsTheSnapSession(t *testing.T) {
	for name, end := range map[string]func(h *harness, id string) error{
		"denied": func(h *harness, id string) error {
			_, err := h.fake.Pay(t.Context(), id, midtranstest.PayOptions{Method: midtranstest.Method{PaymentType: "credit_card"}, Fraud: "challenge"})
			if err == nil {
				_, err = h.fake.Deny(t.Context(), id)
			}
			return err
		},
		"expired": func(h *harness, id string) error { _, err := h.fake.Expire(t.Context(), id); return err },
		"cancelled": func(h *harness, id string) error {
			return errors.Join(ignoreTx(h.fake.Choose(t.Context(), id, midtranstest.Method{})), ignoreTx(h.fake.Cancel(t.Context(), id)))
		},
	} {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t)
			ctx := t.Context()
			l, err := h.p.CreateLink(ctx, orderParams)
			if err != nil {
				t.Fatal(err)
			}
			if err := end(h, l.ID); err != nil {
				t.Fatal(err)
			}
			// The link as a refresh stores it again: Raw is the status
			// answer, which keeps the Snap token.
			read, err := h.p.GetLink(ctx, l)
			if err != nil {
				t.Fatal(err)
			}
			got, err := h.p.DeactivateLink(ctx, read)
			if err != nil || got.Status != provider.LinkInactive {
				t.Fatalf("DeactivateLink = %+v, %v; want INACTIVE", got, err)
			}
			if _, err := h.fake.Pay(ctx, l.ID, midtranstest.PayOptions{}); !errors.Is(err, midtranstest.ErrWrongState) {
				t.Fatalf("a new attempt on the deactivated order: %v, want it refused", err)
			}
			// Again: the session is cancelled already.
			if got, err := h.p.DeactivateLink(ctx, l); err != nil || got.Status != provider.LinkInactive {
				t.Fatalf("DeactivateLink again = %+v, %v; want INACTIVE", got, err)
			}
		})
	}
}

// Without DeactivateLink, the fake lets the same order take a new
// attempt after a denied one, as Snap does.
func TestFakeTakesANewAttemptAfterAFinalOne(t *testing.T) {
	h := newHarness(t)
	ctx := t.Context()
	l, err := h.p.CreateLink(ctx, orderParams)
	if err != nil {
		t.Fatal(err)
	}
	first, err := h.fake.Deny(ctx, l.ID)
	if err != nil {
		t.Fatal(err)
	}
	again, err := h.fake.Pay(ctx, l.ID, midtranstest.PayOptions{})
	if err != nil {
		t.Fatalf("a new attempt after a denied one: %v", err)
	}
	if again.TransactionID == first.TransactionID || again.TransactionStatus != "settlement" {
		t.Fatalf("the new attempt = %+v after %+v; want a new settled transaction", again, first)
	}
}

func ignoreTx(_ *midtranstest.Transaction, err error) error { return err }
