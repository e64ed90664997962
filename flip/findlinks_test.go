package flip_test

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paylinkgo/paylink/flip"
	"github.com/paylinkgo/paylink/flip/fliptest"
	"github.com/paylinkgo/paylink/provider"
	"github.com/paylinkgo/paylink/provider/providertest"
)

func newFakeProvider(t *testing.T, opts fliptest.Options, httpClient *http.Client) (*fliptest.Server, *flip.Provider) {
	t.Helper()
	opts.SecretKey, opts.CallbackToken = "find-secret", "find-token"
	fake := fliptest.NewServer(opts)
	t.Cleanup(fake.Close)
	c, err := flip.NewClient(opts.SecretKey, flip.Options{BaseURL: fake.URL, HTTPClient: httpClient})
	if err != nil {
		t.Fatal(err)
	}
	return fake, flip.NewProvider(c, flip.ProviderOptions{CallbackToken: opts.CallbackToken})
}

// FindLinks reads Get All Bills and keeps the bills with the title, type
// and amount asked, whatever else the account holds.
func TestFindLinksMatchesTheRightBill(t *testing.T) {
	t.Parallel()
	for _, long := range []bool{false, true} {
		t.Run(fmt.Sprintf("19-digit ids %v", long), func(t *testing.T) {
			t.Parallel()
			fake, p := newFakeProvider(t, fliptest.Options{LongIDs: long}, nil)
			ctx := t.Context()
			want := provider.CreateLinkParams{Title: "Order 42", Amount: provider.Rupiah(45000), RedirectURL: "https://shop.example/orders/42"}
			decoys := []provider.CreateLinkParams{
				{Title: "Order 43", Amount: provider.Rupiah(45000)},                              // another title
				{Title: "Order 42", Amount: provider.Rupiah(50000)},                              // another amount
				{Title: "Order 42", Amount: provider.Rupiah(45000), Type: provider.LinkMultiple}, // another type
				{Title: "Order 42"}, // an open amount
				{Title: "Order 421", Amount: provider.Rupiah(45000)},
			}
			for _, d := range decoys[:2] {
				if _, err := p.CreateLink(ctx, d); err != nil {
					t.Fatalf("CreateLink(%+v): %v", d, err)
				}
			}
			made, err := p.CreateLink(ctx, want)
			if err != nil {
				t.Fatalf("CreateLink: %v", err)
			}
			for _, d := range decoys[2:] {
				if _, err := p.CreateLink(ctx, d); err != nil {
					t.Fatalf("CreateLink(%+v): %v", d, err)
				}
			}
			if n := len(fake.Bills()); n != 1+len(decoys) {
				t.Fatalf("the fake holds %d bills, want %d", n, 1+len(decoys))
			}

			found, err := p.FindLinks(ctx, provider.LinkQuery{Title: "Order 42", Type: provider.LinkSingle, Amount: provider.Rupiah(45000)})
			if err != nil {
				t.Fatalf("FindLinks: %v", err)
			}
			if len(found) != 1 {
				t.Fatalf("FindLinks found %d bills (%+v), want only %s", len(found), found, made.ID)
			}
			got := found[0]
			if got.ID != made.ID || got.URL != made.URL || got.Provider != "flip" || got.Status != provider.LinkActive ||
				got.RedirectURL != want.RedirectURL || !got.Amount.Equal(want.Amount) {
				t.Errorf("found %+v, want the bill %+v", got, made)
			}

			open, err := p.FindLinks(ctx, provider.LinkQuery{Title: "Order 42"})
			if err != nil || len(open) != 1 || open[0].Amount.Amount != 0 {
				t.Errorf("FindLinks of the open-amount bill: %+v, %v; want that one bill", open, err)
			}
			none, err := p.FindLinks(ctx, provider.LinkQuery{Title: "Order 44", Amount: provider.Rupiah(45000)})
			if err != nil || none == nil || len(none) != 0 {
				t.Errorf("FindLinks of nothing: %v, %v; want an empty slice", none, err)
			}
		})
	}
}

func TestFindLinksRefusesAnotherCurrencyAndReportsFlipsErrors(t *testing.T) {
	t.Parallel()
	fake, p := newFakeProvider(t, fliptest.Options{}, nil)
	_, err := p.FindLinks(t.Context(), provider.LinkQuery{Title: "x", Amount: provider.Money{Amount: 10, Currency: "USD"}})
	if !errors.Is(err, provider.CodeInvalidArgument) {
		t.Errorf("a USD amount: %v, want CodeInvalidArgument", err)
	}
	fake.InjectFault(fliptest.Fault{Method: http.MethodGet, PathPrefix: "/v2/pwf/bill", Status: http.StatusUnauthorized,
		Body: `{"name":"Unauthorized","message":"You are requesting with an invalid credential.","status":401}`})
	if _, err := p.FindLinks(t.Context(), provider.LinkQuery{Title: "x"}); !errors.Is(err, provider.CodeUnauthenticated) {
		t.Errorf("Get All Bills answered 401: %v, want CodeUnauthenticated", err)
	}
}

// losesCreateAnswer sends requests to the fake, but loses the answer to
// the first Create Bill, as a dropped connection or a process that dies
// while Flip answers would: the bill exists, the caller never hears of it.
type losesCreateAnswer struct{ lost atomic.Bool }

func (l *losesCreateAnswer) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err != nil || r.Method != http.MethodPost || !strings.HasSuffix(r.URL.Path, "/pwf/bill") || l.lost.Swap(true) {
		return resp, err
	}
	resp.Body.Close()
	return nil, errors.New("connection reset by peer")
}

// Flip made the bill and its answer was lost. A retry with the same key
// finds the bill through Get All Bills and stores it: Flip holds one bill.
func TestCreateLinkRetryAfterALostAnswerFindsTheBillAtFlip(t *testing.T) {
	t.Parallel()
	fake, p := newFakeProvider(t, fliptest.Options{LongIDs: true}, &http.Client{Transport: &losesCreateAnswer{}})
	store := providertest.NewMemStore()
	svc, err := provider.NewService(store, provider.ServiceOptions{
		Providers: []provider.Provider{p}, Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	params := provider.CreateLinkParams{Title: "Coffee table", Amount: provider.Rupiah(45000), IdempotencyKey: "order-1"}
	if _, err := svc.CreateLink(ctx, "", params); err == nil {
		t.Fatal("the create whose answer was lost succeeded")
	}
	bills := fake.Bills()
	if len(bills) != 1 {
		t.Fatalf("the fake holds %d bills after the lost answer, want 1", len(bills))
	}
	// Another order's bill with the same title, type and amount, stored
	// under its own key: Get All Bills lists it too, and it is not order-1's.
	other := params
	other.IdempotencyKey = "order-2"
	otherLink, err := svc.CreateLink(ctx, "", other)
	if err != nil {
		t.Fatalf("CreateLink of another order: %v", err)
	}

	got, err := svc.CreateLink(ctx, "", params)
	if err != nil {
		t.Fatalf("the retry: %v", err)
	}
	if got.ID != string(bills[0].LinkID) || got.IdempotencyKey != "order-1" {
		t.Fatalf("the retry returned link %s (key %q), want the lost bill %s", got.ID, got.IdempotencyKey, bills[0].LinkID)
	}
	if got.ID == otherLink.ID {
		t.Fatal("the retry took the other order's bill")
	}
	if n := len(fake.Bills()); n != 2 {
		t.Fatalf("the fake holds %d bills, want 2 (one per order)", n)
	}
	stored, err := store.GetLinkByIdempotencyKey(ctx, "order-1")
	if err != nil || stored.ID != got.ID {
		t.Fatalf("stored link of order-1: %+v, %v", stored, err)
	}
}

// Without the bill at Flip (the request never arrived) and once the first
// call cannot still be running, the retry creates it.
func TestCreateLinkRetryCreatesTheBillFlipNeverMade(t *testing.T) {
	t.Parallel()
	fake, p := newFakeProvider(t, fliptest.Options{}, nil)
	fake.InjectFault(fliptest.Fault{Method: http.MethodPost, PathPrefix: "/v2/pwf/bill", Status: http.StatusBadGateway,
		Body: "<html>502 Bad Gateway</html>", ContentType: "text/html", Times: 1})
	var offset atomic.Int64 // nanoseconds the clock is moved on
	svc, err := provider.NewService(providertest.NewMemStore(), provider.ServiceOptions{
		Providers: []provider.Provider{p}, Logger: slog.New(slog.DiscardHandler),
		Now: func() time.Time { return time.Now().Add(time.Duration(offset.Load())) },
	})
	if err != nil {
		t.Fatal(err)
	}
	params := provider.CreateLinkParams{Title: "Order 7", Amount: provider.Rupiah(45000), IdempotencyKey: "order-7"}
	_, err = svc.CreateLink(t.Context(), "", params)
	if !errors.Is(err, provider.CodeUnavailable) {
		t.Fatalf("the create that met a 502: %v, want CodeUnavailable", err)
	}
	if _, err := svc.CreateLink(t.Context(), "", params); !errors.Is(err, provider.CodeUnavailable) {
		t.Fatalf("a retry at once: %v, want CodeUnavailable (the first call may still be running)", err)
	}
	offset.Store(int64(provider.DefaultLinkIntentWindow))
	got, err := svc.CreateLink(t.Context(), "", params)
	if err != nil {
		t.Fatalf("a retry after the window: %v", err)
	}
	bills := fake.Bills()
	if len(bills) != 1 || string(bills[0].LinkID) != got.ID {
		t.Fatalf("the fake holds %d bills, want exactly the one returned (%s)", len(bills), got.ID)
	}
}
