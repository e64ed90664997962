package midtrans_test

import (
	"errors"
	"testing"

	"github.com/paylinkgo/paylink/provider"
	"github.com/paylinkgo/paylink/provider/midtrans/midtranstest"
)

// A create whose answer was lost, retried with the same key: an order
// with a transaction for the same parameters is the link; otherwise a
// conflict, and never a second page.
func TestCreateLinkWithATakenKeyFindsItsOrder(t *testing.T) {
	params := orderParams
	params.IdempotencyKey = "order-42"
	h := newHarness(t)
	ctx := t.Context()
	if _, err := h.p.CreateLink(ctx, params); err != nil { // the answer is lost
		t.Fatal(err)
	}
	if _, err := h.p.CreateLink(ctx, params); !errors.Is(err, provider.CodeConflict) {
		t.Fatalf("a page without a transaction: %v, want conflict", err)
	}
	if _, err := h.fake.Choose(ctx, "order-42", midtranstest.Method{}); err != nil {
		t.Fatal(err)
	}
	got, err := h.p.CreateLink(ctx, params)
	if err != nil || got.ID != "order-42" || got.IdempotencyKey != "order-42" || got.Status != provider.LinkActive {
		t.Fatalf("the retry = %+v, %v; want order-42 ACTIVE", got, err)
	}
	other := params
	other.Amount = provider.Rupiah(99000)
	if _, err := h.p.CreateLink(ctx, other); !errors.Is(err, provider.CodeConflict) {
		t.Fatalf("the key with another amount: %v, want conflict", err)
	}
}
