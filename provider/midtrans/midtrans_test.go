package midtrans_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/paylinkgo/paylink/provider"
	"github.com/paylinkgo/paylink/provider/midtrans"
)

// The example of Midtrans's notification docs: order 1111, status 200,
// amount 100000.00 and the docs' sample server key.
func TestSignatureReproducesTheDocsExample(t *testing.T) {
	const want = "edc076b21793ebe3e17926350f5b8ae67d902fe657b3d0aa31b932d5c127e2375d308a2bc94f3265ac2d80a1f181a79b997ac178a236fcff35af263fc4d4c231"
	got := midtrans.Signature("1111", "200", "100000.00", "askvnoibnosifnboseofinbofinfgbiufglnbfg")
	if got != want {
		t.Fatalf("Signature = %s, want %s", got, want)
	}
	tx := &midtrans.Transaction{OrderID: "1111", StatusCode: "200", GrossAmount: "100000.00", SignatureKey: strings.ToUpper(want)}
	if err := midtrans.VerifySignature(tx, "askvnoibnosifnboseofinbofinfgbiufglnbfg"); err != nil {
		t.Fatalf("VerifySignature of the docs example: %v", err)
	}
	for _, c := range []struct {
		name string
		tx   midtrans.Transaction
		key  string
		want error
	}{
		{"no key", *tx, " ", midtrans.ErrNoServerKey},
		{"wrong key", *tx, "another-key", midtrans.ErrBadSignature},
		{"amount changed", midtrans.Transaction{OrderID: "1111", StatusCode: "200", GrossAmount: "100000", SignatureKey: want}, "askvnoibnosifnboseofinbofinfgbiufglnbfg", midtrans.ErrBadSignature},
		{"no signature", midtrans.Transaction{OrderID: "1111", StatusCode: "200", GrossAmount: "100000.00"}, "askvnoibnosifnboseofinbofinfgbiufglnbfg", midtrans.ErrMissingSignature},
	} {
		err := midtrans.VerifySignature(&c.tx, c.key)
		if !errors.Is(err, c.want) || !errors.Is(err, provider.CodeUnauthenticated) {
			t.Errorf("%s: err = %v, want %v (unauthenticated)", c.name, err, c.want)
		}
	}
}

func TestParseAmount(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"100000.00", 100000, true},
		{"100000", 100000, true},
		{"0.00", 0, true},
		{"698879.00", 698879, true},
		{"10.000", 10, true},
		{"9223372036854775807.00", 9223372036854775807, true},
		{"100000.50", 0, false},
		{"100000.01", 0, false},
		{"0.5", 0, false},
		{"9223372036854775808.00", 0, false},
		{"99999999999999999999", 0, false},
		{"", 0, false},
		{".00", 0, false},
		{"100.", 0, false},
		{"-100.00", 0, false},
		{"+100.00", 0, false},
		{" 100.00", 0, false},
		{"1e5", 0, false},
		{"100,000.00", 0, false},
		{"abc", 0, false},
		{"100.0a", 0, false},
	} {
		got, err := midtrans.ParseAmount(c.in)
		if c.ok && (err != nil || got != c.want) {
			t.Errorf("ParseAmount(%q) = %d, %v; want %d", c.in, got, err, c.want)
		}
		if !c.ok && (err == nil || !errors.Is(err, provider.CodeInvalidArgument)) {
			t.Errorf("ParseAmount(%q) = %d, %v; want an invalid-argument error", c.in, got, err)
		}
	}
	if got := midtrans.FormatAmount(45000); got != "45000.00" {
		t.Errorf("FormatAmount = %q", got)
	}
}

func TestEveryStatusIsMapped(t *testing.T) {
	for _, c := range []struct {
		tx    midtrans.TransactionStatus
		fraud midtrans.FraudStatus
		want  provider.PaymentStatus
	}{
		{"pending", "", provider.PaymentPending},
		{"PENDING", "", provider.PaymentPending},
		{"pending", "accept", provider.PaymentPending},
		{"authorize", "accept", provider.PaymentPending},
		{"settlement", "", provider.PaymentSuccessful},
		{"settlement", "accept", provider.PaymentSuccessful},
		{"settlement", "challenge", provider.PaymentPending},
		{"capture", "accept", provider.PaymentSuccessful},
		{"capture", "", provider.PaymentSuccessful},
		{"capture", "challenge", provider.PaymentPending},
		{"capture", "deny", provider.PaymentFailed},
		{"deny", "", provider.PaymentFailed},
		{"deny", "challenge", provider.PaymentFailed},
		{"failure", "", provider.PaymentFailed},
		{"cancel", "", provider.PaymentCancelled},
		{"cancel", "accept", provider.PaymentCancelled},
		{"expire", "", provider.PaymentCancelled},
		{"refund", "accept", provider.PaymentRefunded},
		{"partial_refund", "", provider.PaymentPartiallyRefunded},
		{"chargeback", "", provider.PaymentChargedBack},
		{"partial_chargeback", "accept", provider.PaymentPartiallyChargedBack},
		{"something_new", "", ""},
		{"", "", ""},
	} {
		got, ok := midtrans.PortableStatus(c.tx, c.fraud)
		if got != c.want || ok != (c.want != "") {
			t.Errorf("PortableStatus(%q, %q) = %q, %v; want %q", c.tx, c.fraud, got, ok, c.want)
		}
	}
	seen := map[midtrans.TransactionStatus]bool{}
	for _, m := range midtrans.StatusMappings() {
		seen[m.Transaction] = true
	}
	for _, s := range []midtrans.TransactionStatus{midtrans.StatusPending, midtrans.StatusAuthorize, midtrans.StatusCapture,
		midtrans.StatusSettlement, midtrans.StatusDeny, midtrans.StatusCancel, midtrans.StatusExpire, midtrans.StatusFailure,
		midtrans.StatusRefund, midtrans.StatusPartialRefund, midtrans.StatusChargeback, midtrans.StatusPartialChargeback} {
		if !seen[s] {
			t.Errorf("status %q has no row in StatusMappings", s)
		}
	}
}

func TestAuthorizationIsTheDocsExample(t *testing.T) {
	var got string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Get("Authorization")
		w.Write([]byte(`{"status_code":"404","status_message":"Transaction doesn't exist.","id":"x"}`))
	}))
	defer srv.Close()
	c, err := midtrans.NewClient("SB-Mid-server-abc123cde456", midtrans.Options{BaseURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.GetStatus(t.Context(), "order-1")
	if got != "Basic U0ItTWlkLXNlcnZlci1hYmMxMjNjZGU0NTY6" {
		t.Errorf("Authorization = %q", got)
	}
	// HTTP 200 with a body status_code of 404 is an unknown order.
	var apiErr *midtrans.APIError
	if !errors.Is(err, provider.CodeNotFound) || !errors.As(err, &apiErr) || apiErr.HTTPStatus != 200 || apiErr.StatusCode != "404" {
		t.Fatalf("GetStatus of an unknown order = %v, want a not-found APIError", err)
	}
}

func TestClientErrorsAndRetries(t *testing.T) {
	const key = "SB-Mid-server-secret-key-123"
	var calls atomic.Int32
	var body atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.Header().Set("Content-Type", "application/json")
		b := body.Load().([2]string)
		code := map[string]int{"500": 500, "401": 401, "400": 400, "412": 200, "407": 200}[b[0]]
		w.WriteHeader(code)
		w.Write([]byte(b[1]))
	}))
	defer srv.Close()
	var logs strings.Builder
	c, err := midtrans.NewClient(key, midtrans.Options{BaseURL: srv.URL, RetryBackoff: 1, MaxRetries: 2,
		Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	for _, cs := range []struct {
		name      string
		reply     [2]string
		call      func() error
		code      provider.ErrorCode
		wantCalls int32
	}{
		{"status retried on 500", [2]string{"500", `{"status_code":"500","status_message":"Sorry"}`},
			func() error { _, err := c.GetStatus(t.Context(), "o-1"); return err }, provider.CodeUnavailable, 3},
		{"create never retried", [2]string{"500", `{"error_messages":["Sorry, we encountered internal server error. We will fix this soon."],"locale":"en"}`},
			func() error {
				_, err := c.CreateTransaction(t.Context(), midtrans.CreateTransactionParams{OrderID: "o-1", GrossAmount: 1})
				return err
			}, provider.CodeUnavailable, 1},
		{"snap 401 echoing the key", [2]string{"401", `{"error_messages":["Access denied ` + key + `"]}`},
			func() error {
				_, err := c.CreateTransaction(t.Context(), midtrans.CreateTransactionParams{OrderID: "o-1", GrossAmount: 1})
				return err
			}, provider.CodeUnauthenticated, 1},
		{"duplicate order id", [2]string{"400", `{"error_messages":["transaction_details.order_id has already been taken"]}`},
			func() error {
				_, err := c.CreateTransaction(t.Context(), midtrans.CreateTransactionParams{OrderID: "o-1", GrossAmount: 1})
				return err
			}, provider.CodeConflict, 1},
		{"412 in a 200 body", [2]string{"412", `{"status_code":"412","status_message":"Merchant cannot modify the status of the transaction"}`},
			func() error { _, err := c.Cancel(t.Context(), "o-1"); return err }, provider.CodeFailedPrecondition, 1},
		{"407 is a result", [2]string{"407", `{"status_code":"407","status_message":"Success, transaction has expired","order_id":"o-1","gross_amount":"1.00","transaction_status":"expire"}`},
			func() error { _, err := c.Expire(t.Context(), "o-1"); return err }, provider.CodeUnknown, 1},
	} {
		calls.Store(0)
		body.Store(cs.reply)
		err := cs.call()
		if cs.code == provider.CodeUnknown {
			if err != nil {
				t.Errorf("%s: %v", cs.name, err)
			}
		} else if !errors.Is(err, cs.code) {
			t.Errorf("%s: err = %v, want %v", cs.name, err, cs.code)
		}
		if calls.Load() != cs.wantCalls {
			t.Errorf("%s: %d calls, want %d", cs.name, calls.Load(), cs.wantCalls)
		}
		if err != nil && strings.Contains(err.Error(), key) {
			t.Errorf("%s: error holds the key: %v", cs.name, err)
		}
	}
	if strings.Contains(logs.String(), key) || !strings.Contains(logs.String(), "/v2/o-1/status") {
		t.Errorf("logs: %s", logs.String())
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := c.GetStatus(ctx, "o-1"); !errors.Is(err, provider.CodeCanceled) {
		t.Errorf("canceled ctx: %v", err)
	}
	if _, err := c.GetStatus(t.Context(), ".."); !errors.Is(err, provider.CodeInvalidArgument) {
		t.Errorf("id ..: %v", err)
	}
	if _, err := midtrans.NewClient(" ", midtrans.Options{}); !errors.Is(err, provider.CodeInvalidArgument) {
		t.Errorf("empty key: %v", err)
	}
}

// A refund the bank denies is answered "202" with the transaction still
// settled: Refund reports it as an error, never as a refund.
func TestARefundTheBankDeniedIsAnError(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"status_code":"202","status_message":"Refund denied by the bank","order_id":"order-1",` +
			`"transaction_status":"settlement","gross_amount":"10000.00","payment_type":"gopay"}`))
	}))
	defer srv.Close()
	c, err := midtrans.NewClient("SB-Mid-server-abc123cde456", midtrans.Options{BaseURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	p := midtrans.NewProvider(c, midtrans.ProviderOptions{})
	pay, err := p.Refund(t.Context(), "order-1", provider.RefundParams{Amount: provider.Rupiah(5000), Key: "r1"})
	if pay != nil || !errors.Is(err, provider.CodeFailedPrecondition) || !strings.Contains(err.Error(), "Refund denied by the bank") {
		t.Fatalf("Refund denied by the bank = %+v, %v; want no payment and a failed-precondition error quoting Midtrans", pay, err)
	}
}
