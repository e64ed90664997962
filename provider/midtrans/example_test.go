package midtrans_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/paylinkgo/paylink/provider"
	"github.com/paylinkgo/paylink/provider/midtrans"
	"github.com/paylinkgo/paylink/provider/midtrans/midtranstest"
)

// A shop creates a Snap link for an order, the customer pays on the fake's
// page, and the shop's notification handler verifies and reads the signed
// notification.
func Example() {
	ctx := context.Background()
	const serverKey = "SB-Mid-server-example"

	// The shop's notification endpoint (with paylink, ginadapter mounts it).
	var p *midtrans.Provider
	events := make(chan *provider.Event, 4)
	shop := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ev, err := p.ParseCallback(r.Context(), r)
		if err != nil {
			http.Error(w, "refused", http.StatusUnauthorized)
			return
		}
		events <- ev
	}))
	defer shop.Close()

	fake := midtranstest.NewServer(midtranstest.Options{ServerKey: serverKey, NotificationURL: shop.URL})
	defer fake.Close()
	client, err := midtrans.NewClient(serverKey, midtrans.Options{BaseURL: fake.URL})
	if err != nil {
		panic(err)
	}
	p = midtrans.NewProvider(client, midtrans.ProviderOptions{})

	link, err := p.CreateLink(ctx, provider.CreateLinkParams{
		Title: "Order 1001", Amount: provider.Rupiah(150000), IdempotencyKey: "order-1001",
		RedirectURL: "https://shop.example.com/orders/1001",
	})
	if err != nil {
		panic(err)
	}
	fmt.Println("link", link.ID, link.Status)

	if _, err := fake.Pay(ctx, link.ID, midtranstest.PayOptions{}); err != nil {
		panic(err)
	}
	for range 2 { // pending (a VA number was issued), then settlement
		ev := <-events
		fmt.Println(ev.Payment.ID, ev.Payment.RawStatus, ev.Payment.Status, ev.Payment.Amount)
	}
	// Output:
	// link order-1001 ACTIVE
	// order-1001 pending PENDING IDR 150000
	// order-1001 settlement/accept SUCCESSFUL IDR 150000
}

// Signature computes the signature_key of Midtrans's documentation example.
func ExampleSignature() {
	fmt.Println(midtrans.Signature("1111", "200", "100000.00", "askvnoibnosifnboseofinbofinfgbiufglnbfg")[:32])
	// Output: edc076b21793ebe3e17926350f5b8ae6
}

// ParseAmount reads Midtrans's decimal strings exactly.
func ExampleParseAmount() {
	for _, s := range []string{"100000.00", "100000.50"} {
		n, err := midtrans.ParseAmount(s)
		fmt.Println(n, err)
	}
	// Output:
	// 100000 <nil>
	// 0 midtrans.ParseAmount: amount "100000.50" has a fractional rupiah
}
