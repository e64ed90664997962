package ginadapter_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/paylinkgo/paylink/flip"
	"github.com/paylinkgo/paylink/ginadapter"
	"github.com/paylinkgo/paylink/provider"
	"github.com/paylinkgo/paylink/provider/midtrans"
	"github.com/paylinkgo/paylink/provider/providertest"
)

// callbackFormat is one provider's callback wire format, for
// TestCallbackRouteNeverAnswers500.
type callbackFormat struct {
	name string
	// provider returns the provider (its API is never called: the
	// callbacks are for a link nobody created, which is recorded without
	// asking the provider).
	provider func(t *testing.T) provider.Provider
	// callback is a callback for a link nobody created, signed with the
	// right secret when genuine, with a wrong one otherwise.
	callback func(t *testing.T, genuine bool) *http.Request
	// malformed is a correctly labelled body that is not a callback.
	malformed func() *http.Request
	// otherMediaType is a content type the provider does not send.
	otherMediaType string
}

const midtransServerKey = "SB-Mid-server-test-key"

func callbackFormats() []callbackFormat {
	return []callbackFormat{
		{
			name: "Flip",
			provider: func(t *testing.T) provider.Provider {
				c, err := flip.NewClient(flipSecret, flip.Options{BaseURL: "http://127.0.0.1:9"})
				if err != nil {
					t.Fatal(err)
				}
				return flip.NewProvider(c, flip.ProviderOptions{CallbackToken: testToken})
			},
			callback: func(t *testing.T, genuine bool) *http.Request {
				token := testToken
				if !genuine {
					token = "not-the-token"
				}
				req, err := flip.NewCallbackRequest(context.Background(), cbPath, token, flip.Callback{
					ID: "PGPWF00000000000000000001", BillLinkID: flip.ID("404"), BillTitle: "Order 1",
					Amount: 10000, Status: "SUCCESSFUL", SenderBank: "bni", SenderBankType: "virtual_account",
					CreatedAt: time.Date(2026, 1, 2, 10, 0, 0, 0, flip.Location()),
				})
				if err != nil {
					t.Fatal(err)
				}
				return req
			},
			malformed:      func() *http.Request { return postForm("data=%zz&token=" + testToken) },
			otherMediaType: "application/json",
		},
		{
			name: "Midtrans",
			provider: func(t *testing.T) provider.Provider {
				c, err := midtrans.NewClient(midtransServerKey, midtrans.Options{BaseURL: "http://127.0.0.1:9"})
				if err != nil {
					t.Fatal(err)
				}
				return midtrans.NewProvider(c, midtrans.ProviderOptions{})
			},
			callback: func(t *testing.T, genuine bool) *http.Request {
				key := midtransServerKey
				if !genuine {
					key = "SB-Mid-server-someone-else"
				}
				req, err := midtrans.NewNotificationRequest(context.Background(), cbPath, key, midtrans.Transaction{
					StatusCode: "200", OrderID: "order-404", GrossAmount: "10000.00", Currency: "IDR",
					PaymentType: "bank_transfer", TransactionTime: "2026-01-02 10:00:00",
					TransactionStatus: midtrans.StatusSettlement, TransactionID: "tx-1",
				})
				if err != nil {
					t.Fatal(err)
				}
				return req
			},
			malformed:      func() *http.Request { return post(cbPath, "application/json", `{"order_id":`) },
			otherMediaType: "application/x-www-form-urlencoded",
		},
		{
			name:     "MemProvider",
			provider: func(t *testing.T) provider.Provider { return providertest.NewMemProvider("mem", testToken) },
			callback: func(t *testing.T, genuine bool) *http.Request {
				token := testToken
				if !genuine {
					token = "not-the-token"
				}
				req, err := providertest.NewCallbackRequest(context.Background(), cbPath, token,
					provider.Payment{ID: "P1", LinkID: "404", Status: provider.PaymentSuccessful, Amount: provider.Rupiah(10000)})
				if err != nil {
					t.Fatal(err)
				}
				return req
			},
			malformed: func() *http.Request {
				req := post(cbPath, "application/json", `{"id": "MEM2", "status":`)
				req.Header.Set(providertest.CallbackTokenHeader, testToken)
				return req
			},
			otherMediaType: "application/x-www-form-urlencoded",
		},
	}
}

// panickingStore is a MemStore whose writes panic.
type panickingStore struct{ *providertest.MemStore }

func (panickingStore) Apply(context.Context, *provider.ApplyWrite) error { panic("store bug") }

// TestCallbackRouteNeverAnswers500 pins the callback route's answers for
// every kind of failure, for every callback format: a gateway retries a
// 503 longest (Midtrans retries a 500 only once), so every failure after
// which nothing was stored is 503, whatever its code; only the client's
// own mistakes are 4xx.
func TestCallbackRouteNeverAnswers500(t *testing.T) {
	t.Parallel()
	failing := func(err error) provider.Store { return failingStore{providertest.NewMemStore(), err} }
	type kind struct {
		name    string
		store   provider.Store // nil: a fresh MemStore
		cfg     ginadapter.Config
		request func(t *testing.T, f callbackFormat) *http.Request
		status  int
	}
	genuine := func(t *testing.T, f callbackFormat) *http.Request { return f.callback(t, true) }
	kinds := []kind{
		// Nothing stored: the provider must retry.
		{name: "an unavailable database", store: failing(provider.Errorf(provider.CodeUnavailable, "test", "database down")), request: genuine, status: 503},
		{name: "an internal error", store: failing(provider.Errorf(provider.CodeInternal, "test", "bug")), request: genuine, status: 503},
		{name: "an error without a code", store: failing(errors.New("disk on fire")), request: genuine, status: 503},
		{name: "an encoding error", store: failing(&json.UnsupportedValueError{Str: "NaN"}), request: genuine, status: 503},
		{name: "an unknown code", store: failing(&provider.Error{Code: provider.ErrorCode(9999), Op: "test", Message: "what"}), request: genuine, status: 503},
		{name: "a conflict", store: failing(provider.Errorf(provider.CodeConflict, "test", "conflict")), request: genuine, status: 503},
		{name: "a not found from the store", store: failing(provider.Errorf(provider.CodeNotFound, "test", "gone")), request: genuine, status: 503},
		{name: "a failed precondition", store: failing(provider.Errorf(provider.CodeFailedPrecondition, "test", "not migrated")), request: genuine, status: 503},
		{name: "an unimplemented store feature", store: failing(provider.Errorf(provider.CodeUnimplemented, "test", "no")), request: genuine, status: 503},
		{name: "a deadline", store: failing(context.DeadlineExceeded), request: genuine, status: 503},
		{name: "a canceled request", store: failing(context.Canceled), request: genuine, status: 503},
		{name: "a panic in the store", store: panickingStore{providertest.NewMemStore()}, request: genuine, status: 503},
		{name: "a panic in a CallbackHandler", cfg: ginadapter.Config{CallbackHandlers: []gin.HandlerFunc{func(*gin.Context) { panic("handler bug") }}}, request: genuine, status: 503},

		// The client's mistakes: 4xx, retrying cannot help.
		{name: "a wrong token or signature", request: func(t *testing.T, f callbackFormat) *http.Request { return f.callback(t, false) }, status: 401},
		{name: "a malformed body", request: func(t *testing.T, f callbackFormat) *http.Request { return f.malformed() }, status: 400},
		{name: "a body over MaxBodyBytes", cfg: ginadapter.Config{MaxBodyBytes: 64}, request: genuine, status: 413},
		{name: "another media type", request: func(t *testing.T, f callbackFormat) *http.Request {
			req := f.callback(t, true)
			req.Header.Set("Content-Type", f.otherMediaType)
			return req
		}, status: 415},
		{name: "a client outside AllowedNetworks", cfg: ginadapter.Config{AllowedNetworks: []netip.Prefix{netip.MustParsePrefix("198.51.100.0/24")}}, request: genuine, status: 403},

		// Handled: 200.
		{name: "a callback for a link nobody created (recorded, flagged)", request: genuine, status: 200},
	}
	for _, f := range callbackFormats() {
		for _, k := range kinds {
			t.Run(f.name+"/"+k.name, func(t *testing.T) {
				t.Parallel()
				store := k.store
				if store == nil {
					store = providertest.NewMemStore()
				}
				svc, err := provider.NewService(store, provider.ServiceOptions{Providers: []provider.Provider{f.provider(t)}})
				if err != nil {
					t.Fatal(err)
				}
				logs := &syncBuffer{}
				cfg := k.cfg
				cfg.Logger = slog.New(slog.NewTextHandler(logs, nil))
				r := gin.New()
				if err := ginadapter.Mount(r, svc, cfg); err != nil {
					t.Fatal(err)
				}
				a := &app{t: t, r: r}
				rec := a.do(k.request(t, f))
				if rec.Code != k.status {
					t.Fatalf("answer %d, want %d; body %s\nlogs:\n%s", rec.Code, k.status, rec.Body, logs)
				}
				ans := decode[ginadapter.CallbackAnswer](t, rec)
				if ans.OK != (k.status == 200) {
					t.Errorf("answer %+v, want ok=%v", ans, k.status == 200)
				}
				if k.status == 503 && ans.Error != "unavailable" {
					t.Errorf("answer %+v, want error \"unavailable\"", ans)
				}
				if strings.Contains(k.name, "panic") && !strings.Contains(logs.String(), "panicked") {
					t.Errorf("the panic was not logged:\n%s", logs)
				}
			})
		}
	}
}
