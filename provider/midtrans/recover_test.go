package midtrans_test

import (
	"errors"
	"strings"
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

// Through provider.Service, which promises that no earlier page of the key
// was handed out (KeyNeverReturned), a taken order id with no transaction
// is a page nobody was given: the link is made under the next order id,
// key~2, key~3..., and one with a transaction is still the link.
func TestCreateLinkPromisedNeverReturnedTakesTheNextOrderID(t *testing.T) {
	params := orderParams
	params.IdempotencyKey = "order-43"
	params.KeyNeverReturned = true
	h := newHarness(t)
	ctx := t.Context()
	if _, err := h.p.CreateLink(ctx, params); err != nil { // made, never handed out
		t.Fatal(err)
	}
	second, err := h.p.CreateLink(ctx, params)
	if err != nil || second.ID != "order-43~2" || second.URL == "" || second.IdempotencyKey != "order-43" {
		t.Fatalf("the promised retry = %+v, %v; want a new page order-43~2", second, err)
	}
	third, err := h.p.CreateLink(ctx, params)
	if err != nil || third.ID != "order-43~3" {
		t.Fatalf("a second promised retry = %+v, %v; want order-43~3", third, err)
	}
	if _, err := h.fake.Choose(ctx, "order-43~2", midtranstest.Method{}); err != nil {
		t.Fatal(err)
	}
	if got, err := h.p.CreateLink(ctx, params); err != nil || got.ID != "order-43~2" {
		t.Fatalf("a promised retry once order-43~2 has a transaction = %+v, %v; want order-43~2", got, err)
	}
	direct := params
	direct.KeyNeverReturned = false
	if _, err := h.p.CreateLink(ctx, direct); !errors.Is(err, provider.CodeConflict) {
		t.Fatalf("without the promise: %v, want conflict (a second page could be a second way to pay)", err)
	}
	long := params
	long.IdempotencyKey = strings.Repeat("k", 49)
	if _, err := h.p.CreateLink(ctx, long); err != nil {
		t.Fatal(err)
	}
	if _, err := h.p.CreateLink(ctx, long); !errors.Is(err, provider.CodeConflict) {
		t.Fatalf("a key with no room for a suffix: %v, want conflict", err)
	}
}
