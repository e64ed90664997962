package midtrans_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/paylinkgo/paylink/provider"
	"github.com/paylinkgo/paylink/provider/midtrans"
	"github.com/paylinkgo/paylink/provider/midtrans/midtranstest"
	"github.com/paylinkgo/paylink/provider/providertest"
)

// notification returns a notification request with body m as JSON.
func notification(t *testing.T, m map[string]any) *http.Request {
	t.Helper()
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest(http.MethodPost, "/midtrans", bytes.NewReader(b))
	r.Header.Set("Content-Type", "application/json")
	return r
}

// decodeBody reads a captured notification's body as a map.
func decodeBody(t *testing.T, r *http.Request) map[string]any {
	t.Helper()
	b, err := providertest.ReadBody(r)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// newService is a Service over a memory store and h's provider, verifying
// as Midtrans needs whatever insecure says.
func newService(t *testing.T, h *harness, insecure bool) (*provider.Service, *providertest.MemStore) {
	t.Helper()
	store := providertest.NewMemStore()
	svc, err := provider.NewService(store, provider.ServiceOptions{Providers: []provider.Provider{h.p}, InsecureSkipVerify: insecure,
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	return svc, store
}

// A notification signed with the right key is still refused, with
// CodeInvalidArgument, when its status_code is not three digits or not
// the one Midtrans documents for its transaction_status, or its
// gross_amount is not written as Midtrans writes it; the documented
// pairs, including the statuses with two codes, are accepted.
func TestSignedFieldsMustBeAsMidtransSendsThem(t *testing.T) {
	h := newHarness(t)
	for _, c := range []struct {
		status, fraud, code, gross string
		ok                         bool
	}{
		{"pending", "", "201", "10000.00", true},
		{"PENDING", "", "200", "10000.00", true}, // the status page's DANA sample
		{"settlement", "", "200", "10000.00", true},
		{"capture", "accept", "200", "10000.00", true},
		{"capture", "", "200", "10000.00", true},
		{"capture", "challenge", "201", "10000.00", true},
		{"deny", "challenge", "202", "10000.00", true},
		{"cancel", "", "202", "10000.00", true},
		{"cancel", "", "200", "10000.00", true},
		{"expire", "", "202", "10000.00", true},
		{"expire", "", "407", "10000.00", true},
		{"failure", "", "202", "10000.00", true},
		{"refund", "", "200", "10000.00", true},
		{"partial_chargeback", "", "200", "10000.00", true},
		{"something_new", "", "202", "10000.00", true}, // recorded and flagged by the Service

		{"settlement", "", "01", "10000.00", false},
		{"settlement", "", "2000", "10000.00", false},
		{"settlement", "", "20", "10000.00", false},
		{"settlement", "", " 200", "10000.00", false},
		{"settlement", "", "2O0", "10000.00", false},
		{"settlement", "", "201", "10000.00", false}, // a pending's code
		{"settlement", "", "202", "10000.00", false},
		{"pending", "", "202", "10000.00", false},
		{"capture", "accept", "201", "10000.00", false},
		{"capture", "challenge", "200", "10000.00", false},
		{"deny", "", "200", "10000.00", false},
		{"expire", "", "200", "10000.00", false},
		{"refund", "", "201", "10000.00", false},
		{"partial_refund", "", "202", "10000.00", false},
		{"something_new", "", "404", "10000.00", false},
		{"settlement", "", "200", "10000", false},
		{"settlement", "", "200", "10000.0", false},
		{"settlement", "", "200", "10000.000", false},
		{"settlement", "", "200", "010000.00", false},
		{"settlement", "", "200", "0.00", false},
		{"settlement", "", "200", "10000.50", false},
		{"settlement", "", "200", "+10000.00", false},
		{"settlement", "", "200", "1e4.00", false},
		{"settlement", "", "200", " 10000.00", false},
	} {
		r, err := midtrans.NewNotificationRequest(t.Context(), "http://app.invalid/midtrans", conformanceKey, midtrans.Transaction{
			OrderID: "order-1", StatusCode: c.code, GrossAmount: c.gross,
			TransactionStatus: midtrans.TransactionStatus(c.status), FraudStatus: midtrans.FraudStatus(c.fraud)})
		if err != nil {
			t.Fatal(err)
		}
		body, _ := providertest.ReadBody(r)
		_, err = h.p.ParseCallback(t.Context(), r)
		_, decErr := h.p.DecodeCallback(t.Context(), body)
		switch {
		case c.ok && (err != nil || decErr != nil):
			t.Errorf("%s/%s with %q, %q: %v, %v; want it accepted", c.status, c.fraud, c.code, c.gross, err, decErr)
		case !c.ok && (!errors.Is(err, provider.CodeInvalidArgument) || !errors.Is(err, midtrans.ErrMalformedNotification) ||
			!errors.Is(decErr, provider.CodeInvalidArgument)):
			t.Errorf("%s/%s with %q, %q: %v, %v; want ErrMalformedNotification (CodeInvalidArgument)", c.status, c.fraud, c.code, c.gross, err, decErr)
		}
	}
}

// The splice of the attack report: order-1's genuine "201" notification,
// resent as order-12 with status_code "01", carries a signature that
// verifies (the three strings are joined without a separator). It is
// refused with CodeInvalidArgument and nothing is stored.
func TestTheSpliceAttackIsRefused(t *testing.T) {
	ctx := t.Context()
	h := newHarness(t)
	svc, store := newService(t, h, true)
	var links [2]*provider.Link
	for i, key := range []string{"order-1", "order-12"} {
		p := orderParams
		p.IdempotencyKey = key
		l, err := svc.CreateLink(ctx, "midtrans", p)
		if err != nil {
			t.Fatal(err)
		}
		links[i] = l
	}
	if _, err := h.fake.Choose(ctx, "order-1", midtranstest.Method{PaymentType: "gopay"}); err != nil {
		t.Fatal(err)
	}
	req, err := h.next(ctx, "pending")
	if err != nil {
		t.Fatal(err)
	}
	m := decodeBody(t, req)
	if m["order_id"] != "order-1" || m["status_code"] != "201" {
		t.Fatalf("the genuine notification: %v", m)
	}
	m["order_id"], m["status_code"], m["transaction_status"] = "order-12", "01", "settlement"
	forged := midtrans.Transaction{OrderID: "order-12", StatusCode: "01", GrossAmount: m["gross_amount"].(string),
		SignatureKey: m["signature_key"].(string)}
	if err := midtrans.VerifySignature(&forged, conformanceKey); err != nil {
		t.Fatalf("the spliced signature does not verify (%v): the test no longer shows the attack", err)
	}
	_, out, err := providertest.Deliver(ctx, svc, "midtrans", notification(t, m))
	if !errors.Is(err, provider.CodeInvalidArgument) || out.Verdict != "" {
		t.Fatalf("the splice: %s, %v; want CodeInvalidArgument and no verdict", out.Verdict, err)
	}
	if cbs, err := store.ListCallbacks(ctx, provider.CallbackFilter{}); err != nil || len(cbs) != 0 {
		t.Fatalf("callbacks stored: %+v, %v; want none", cbs, err)
	}
	if p, err := store.GetPayment(ctx, "midtrans", "order-12"); !errors.Is(err, provider.CodeNotFound) {
		t.Fatalf("order-12's payment after the splice: %+v, %v; want none", p, err)
	}
}
