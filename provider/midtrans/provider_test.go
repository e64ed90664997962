package midtrans_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/paylinkgo/paylink/provider"
	"github.com/paylinkgo/paylink/provider/midtrans"
	"github.com/paylinkgo/paylink/provider/midtrans/midtranstest"
	"github.com/paylinkgo/paylink/provider/providertest"
)

var orderParams = provider.CreateLinkParams{Title: "Order 42", Amount: provider.Rupiah(150000),
	RedirectURL: "https://shop.example.com/return", Customer: provider.Customer{Name: "Budi Santoso", Email: "budi@example.com"}}

func TestWrongSignatureIsUnauthenticated(t *testing.T) {
	h := newHarness(t)
	l, err := h.p.CreateLink(t.Context(), orderParams)
	if err != nil {
		t.Fatal(err)
	}
	req, err := h.Settle(t.Context(), l, provider.PaymentSuccessful)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(req.Body)
	for name, edit := range map[string]func(m map[string]any){
		"amount raised":  func(m map[string]any) { m["gross_amount"] = "1500000.00" },
		"status changed": func(m map[string]any) { m["status_code"], m["transaction_status"] = "201", "pending" },
		"other order":    func(m map[string]any) { m["order_id"] = "someone-else" },
		"signature flip": func(m map[string]any) {
			s := m["signature_key"].(string)
			m["signature_key"] = map[bool]string{true: "1", false: "0"}[s[0] == '0'] + s[1:]
		},
	} {
		var m map[string]any
		if err := json.Unmarshal(body, &m); err != nil {
			t.Fatal(err)
		}
		edit(m)
		b, _ := json.Marshal(m)
		r, _ := http.NewRequest(http.MethodPost, "/midtrans", bytes.NewReader(b))
		r.Header.Set("Content-Type", "application/json")
		if _, err := h.p.ParseCallback(t.Context(), r); !errors.Is(err, provider.CodeUnauthenticated) || !errors.Is(err, midtrans.ErrBadSignature) {
			t.Errorf("%s: err = %v, want unauthenticated", name, err)
		}
	}
}

func TestRefundsAndChargebacksCarryTheCumulativeAmount(t *testing.T) {
	h := newHarness(t)
	ctx := t.Context()
	l, err := h.p.CreateLink(ctx, orderParams)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.fake.Pay(ctx, l.ID, midtranstest.PayOptions{Method: midtranstest.Method{PaymentType: "credit_card"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.fake.Settle(ctx, l.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := h.fake.Refund(ctx, l.ID, 50000); err != nil {
		t.Fatal(err)
	}
	req, err := h.next(ctx, "partial_refund")
	if err != nil {
		t.Fatal(err)
	}
	ev, err := h.p.ParseCallback(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if ev.Payment.Status != provider.PaymentPartiallyRefunded || ev.Payment.RawStatus != "partial_refund/accept" ||
		ev.Payment.Amount.Amount != 150000 || ev.Payment.RefundedAmount != provider.Rupiah(50000) {
		t.Fatalf("refund event payment = %+v", ev.Payment)
	}
	if b, _ := providertest.ReadBody(req); bytes.Contains(b, []byte("bank_confirmed_at")) {
		t.Errorf("the first refund notification is already bank confirmed: %s", b)
	}
	// The second notification of the same refund, once the bank confirmed it.
	req, err = h.nextWith(ctx, "partial_refund", `"bank_confirmed_at"`)
	if err != nil {
		t.Fatal(err)
	}
	again, err := h.p.ParseCallback(ctx, req)
	if err != nil || again.Key() != ev.Key() {
		t.Fatalf("bank-confirmed notification = %+v, %v; want the same event key %s", again, err, ev.Key())
	}
	ps, err := h.p.ListLinkPayments(ctx, l)
	if err != nil || len(ps) != 1 || ps[0].State() != ev.Payment.State() || ps[0].ID != l.ID {
		t.Fatalf("ListLinkPayments = %+v, %v", ps, err)
	}
	if _, err := h.fake.Chargeback(ctx, l.ID, 0); err != nil {
		t.Fatal(err)
	}
	req, err = h.next(ctx, "chargeback")
	if err != nil {
		t.Fatal(err)
	}
	ev, err = h.p.ParseCallback(ctx, req)
	if err != nil || ev.Payment.Status != provider.PaymentChargedBack || ev.Payment.RawStatus != "chargeback/accept" ||
		ev.Payment.RefundedAmount != provider.Rupiah(150000) {
		t.Fatalf("chargeback event = %+v, %v", ev, err)
	}
}

// A refund_amount with a fractional rupiah is refused, never rounded;
// without refund_amount, the refunds listed are added up.
func TestRefundAmountsAreParsedExactly(t *testing.T) {
	for _, c := range []struct {
		tx   midtrans.Transaction
		want int64
		ok   bool
	}{
		{midtrans.Transaction{RefundAmount: "3000.00"}, 3000, true},
		{midtrans.Transaction{RefundAmount: "3000.50"}, 0, false},
		{midtrans.Transaction{RefundAmount: "-3000"}, 0, false},
		{midtrans.Transaction{Refunds: []midtrans.Refund{{Amount: "1000.00"}, {Amount: "2500"}}}, 3500, true},
		{midtrans.Transaction{Refunds: []midtrans.Refund{{Amount: "1000.01"}}}, 0, false},
		{midtrans.Transaction{}, 0, true},
	} {
		got, err := c.tx.Refunded()
		if got != c.want || (err == nil) != c.ok {
			t.Errorf("Refunded of %q %+v = %d, %v; want %d, ok %v", c.tx.RefundAmount, c.tx.Refunds, got, err, c.want, c.ok)
		}
	}
	body := `{"order_id":"o-1","status_code":"200","gross_amount":"10000.00","transaction_status":"partial_refund",` +
		`"refund_amount":"2500.50","signature_key":"` + midtrans.Signature("o-1", "200", "10000.00", conformanceKey) + `"}`
	r := httptest.NewRequest(http.MethodPost, "/midtrans", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	h := newHarness(t)
	if _, err := h.p.ParseCallback(t.Context(), r); !errors.Is(err, provider.CodeInvalidArgument) {
		t.Fatalf("a notification refunding half a rupiah: %v, want CodeInvalidArgument", err)
	}
}

func TestRefundErrorsKeepMidtransCodes(t *testing.T) {
	h := newHarness(t)
	ctx := t.Context()
	l, err := h.p.CreateLink(ctx, orderParams)
	if err != nil {
		t.Fatal(err)
	}
	// A bank transfer cannot be refunded.
	if _, err := h.fake.Pay(ctx, l.ID, midtranstest.PayOptions{}); err != nil {
		t.Fatal(err)
	}
	_, err = h.p.Refund(ctx, l.ID, provider.RefundParams{Key: "r1"})
	var apiErr *midtrans.APIError
	if !errors.Is(err, provider.CodeFailedPrecondition) || !errors.As(err, &apiErr) || apiErr.StatusCode != "412" {
		t.Errorf("refund of a bank transfer: %v, want 412 CodeFailedPrecondition", err)
	}
	if _, err := h.p.Refund(ctx, l.ID, provider.RefundParams{Amount: provider.Money{Amount: 1, Currency: "USD"}}); !errors.Is(err, provider.CodeInvalidArgument) {
		t.Errorf("refund in dollars: %v, want CodeInvalidArgument", err)
	}
}

func TestChallengedCardIsPendingUntilSettled(t *testing.T) {
	h := newHarness(t)
	ctx := t.Context()
	l, _ := h.p.CreateLink(ctx, orderParams)
	if _, err := h.fake.Pay(ctx, l.ID, midtranstest.PayOptions{Method: midtranstest.Method{PaymentType: "credit_card"}, Fraud: "challenge"}); err != nil {
		t.Fatal(err)
	}
	req, err := h.next(ctx, "capture")
	if err != nil {
		t.Fatal(err)
	}
	ev, err := h.p.ParseCallback(ctx, req)
	if err != nil || ev.Payment.Status != provider.PaymentPending || ev.Payment.RawStatus != "capture/challenge" {
		t.Fatalf("challenge = %+v, %v", ev, err)
	}
	got, err := h.p.GetLink(ctx, l)
	if err != nil || got.Status != provider.LinkActive || got.Title != "Order 42" || got.URL != l.URL {
		t.Fatalf("GetLink of a challenged order = %+v, %v", got, err)
	}
}

func TestCreateLinkUsesTheIdempotencyKeyAsOrderID(t *testing.T) {
	h := newHarness(t)
	ctx := t.Context()
	p := orderParams
	p.IdempotencyKey = "shop-order-42"
	l, err := h.p.CreateLink(ctx, p)
	if err != nil || l.ID != "shop-order-42" || l.IdempotencyKey != "shop-order-42" {
		t.Fatalf("CreateLink = %+v, %v", l, err)
	}
	if _, err := h.p.CreateLink(ctx, p); !errors.Is(err, provider.CodeConflict) {
		t.Fatalf("second create with the key: %v, want conflict", err)
	}
	p.IdempotencyKey = "has spaces"
	if _, err := h.p.CreateLink(ctx, p); !errors.Is(err, provider.CodeInvalidArgument) {
		t.Fatalf("bad key: %v", err)
	}
	p.IdempotencyKey = ""
	for name, edit := range map[string]func(*provider.CreateLinkParams){
		"multiple":     func(p *provider.CreateLinkParams) { p.Type = provider.LinkMultiple },
		"open amount":  func(p *provider.CreateLinkParams) { p.Amount = provider.Money{} },
		"USD":          func(p *provider.CreateLinkParams) { p.Amount = provider.Money{Amount: 10, Currency: "USD"} },
		"step 3":       func(p *provider.CreateLinkParams) { p.Step = provider.StepConfirmation },
		"expiry in 1m": func(p *provider.CreateLinkParams) { p.ExpiresAt = l.CreatedAt.Add(60e9) },
	} {
		q := p
		edit(&q)
		if _, err := h.p.CreateLink(ctx, q); !errors.Is(err, provider.CodeInvalidArgument) {
			t.Errorf("%s: %v, want invalid argument", name, err)
		}
	}
}

func TestDeactivateLink(t *testing.T) {
	h := newHarness(t)
	ctx := t.Context()
	// A page nobody opened: its Snap session is cancelled.
	l, _ := h.p.CreateLink(ctx, orderParams)
	got, err := h.p.DeactivateLink(ctx, l)
	if err != nil || got.Status != provider.LinkInactive {
		t.Fatalf("DeactivateLink of a fresh page = %+v, %v", got, err)
	}
	if _, err := h.fake.Pay(ctx, l.ID, midtranstest.PayOptions{}); err == nil {
		t.Fatal("paid a cancelled page")
	}
	// A pending payment: expired.
	l, _ = h.p.CreateLink(ctx, orderParams)
	if _, err := h.fake.Choose(ctx, l.ID, midtranstest.Method{PaymentType: "echannel"}); err != nil {
		t.Fatal(err)
	}
	got, err = h.p.DeactivateLink(ctx, l)
	if err != nil || got.Status != provider.LinkInactive {
		t.Fatalf("DeactivateLink of a pending order = %+v, %v", got, err)
	}
	req, err := h.next(ctx, "expire")
	if err != nil {
		t.Fatal(err)
	}
	ev, err := h.p.ParseCallback(ctx, req)
	if err != nil || ev.Payment.Status != provider.PaymentCancelled {
		t.Fatalf("expire notification = %+v, %v", ev, err)
	}
	// Unknown.
	if _, err := h.p.DeactivateLink(ctx, &provider.Link{ID: "nobody"}); !errors.Is(err, provider.CodeNotFound) {
		t.Fatalf("unknown: %v", err)
	}
}

// ParseCallback reports what a notification says; GetPayment what the
// status API says now, which is what the Service confirms it with.
func TestGetPaymentReadsTheStatusAPI(t *testing.T) {
	h := newHarness(t)
	ctx := t.Context()
	l, _ := h.p.CreateLink(ctx, orderParams)
	if _, err := h.p.GetPayment(ctx, l, l.ID); !errors.Is(err, provider.CodeNotFound) {
		t.Fatalf("GetPayment before the customer picks a method: %v, want not found", err)
	}
	if _, err := h.fake.Pay(ctx, l.ID, midtranstest.PayOptions{}); err != nil {
		t.Fatal(err)
	}
	// The pending notification arrives late, after settlement.
	req, err := h.next(ctx, "pending")
	if err != nil {
		t.Fatal(err)
	}
	ev, err := h.p.ParseCallback(ctx, req)
	if err != nil || ev.Payment.Status != provider.PaymentPending {
		t.Fatalf("late pending notification = %+v, %v; want it PENDING as it says", ev, err)
	}
	pay, err := h.p.GetPayment(ctx, l, l.ID)
	if err != nil || pay.Status != provider.PaymentSuccessful || pay.ID != l.ID || pay.LinkID != l.ID ||
		pay.Amount != provider.Rupiah(150000) || pay.Method.Bank != "bca" || pay.VANumber == "" {
		t.Fatalf("GetPayment = %+v, %v; want the settled payment", pay, err)
	}
	if got, err := provider.GetPayment(ctx, h.p, &provider.Link{ID: l.ID}, l.ID); err != nil || got.State() != pay.State() {
		t.Fatalf("provider.GetPayment = %+v, %v", got, err)
	}
	if _, err := h.p.GetPayment(ctx, l, "another-payment"); !errors.Is(err, provider.CodeNotFound) {
		t.Fatalf("GetPayment of a payment id other than the order id: %v, want not found", err)
	}
	if _, err := h.p.GetPayment(ctx, &provider.Link{ID: "nobody"}, "nobody"); !errors.Is(err, provider.CodeNotFound) {
		t.Fatalf("GetPayment of an unknown order: %v, want not found", err)
	}
	tx, err := h.fake.Client().GetStatus(ctx, l.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.p.GetPayment(ctx, &provider.Link{ID: tx.TransactionID}, tx.TransactionID); !errors.Is(err, provider.CodeNotFound) {
		t.Fatalf("GetPayment by transaction_id: %v, want not found (it is order %s's payment)", err, l.ID)
	}
	if !h.p.CallbacksUnsigned() {
		t.Fatal("CallbacksUnsigned = false; Midtrans's signature does not cover the status")
	}
}

func TestFractionalNotificationAmountIsInvalid(t *testing.T) {
	h := newHarness(t)
	r, err := midtrans.NewNotificationRequest(t.Context(), "http://app.invalid/n", conformanceKey,
		midtrans.Transaction{OrderID: "o-1", StatusCode: "200", GrossAmount: "100.50", TransactionStatus: "settlement"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.p.ParseCallback(t.Context(), r); !errors.Is(err, provider.CodeInvalidArgument) {
		t.Fatalf("err = %v, want invalid argument", err)
	}
}

func TestNoServerKeyFailsClosed(t *testing.T) {
	r, _ := midtrans.NewNotificationRequest(t.Context(), "http://app.invalid/n", "k",
		midtrans.Transaction{OrderID: "o-1", StatusCode: "200", GrossAmount: "100.00", TransactionStatus: "settlement"})
	if _, _, err := midtrans.ParseNotification(r, "", 0); !errors.Is(err, midtrans.ErrNoServerKey) || !errors.Is(err, provider.CodeUnauthenticated) {
		t.Fatalf("err = %v", err)
	}
	h := newHarness(t)
	if err := h.p.CheckCallbackConfig(); err != nil {
		t.Fatal(err)
	}
	if h.p.CallbackMediaType() != "application/json" {
		t.Fatal("media type")
	}
}

func TestOrderIDPrefixKeepsOrderIDsOfOneAccountApart(t *testing.T) {
	ctx := t.Context()
	h := newHarness(t)
	// Two databases share one Midtrans account: each restarts its keys at
	// "order-1", and its own prefix keeps the order ids apart.
	a := midtrans.NewProvider(h.p.Client(), midtrans.ProviderOptions{OrderIDPrefix: "db-a-"})
	b := midtrans.NewProvider(h.p.Client(), midtrans.ProviderOptions{OrderIDPrefix: "db-b-"})
	p := orderParams
	p.IdempotencyKey = "order-1"
	la, err := a.CreateLink(ctx, p)
	if err != nil || la.ID != "db-a-order-1" || la.IdempotencyKey != "order-1" {
		t.Fatalf("CreateLink with prefix db-a- = %+v, %v; want id db-a-order-1, key order-1", la, err)
	}
	lb, err := b.CreateLink(ctx, p)
	if err != nil || lb.ID != "db-b-order-1" {
		t.Fatalf("CreateLink with prefix db-b- = %+v, %v; want id db-b-order-1", lb, err)
	}
	if got, err := a.GetLink(ctx, la); err != nil || got.ID != la.ID {
		t.Fatalf("GetLink(%s) = %+v, %v", la.ID, got, err)
	}
	if _, err := a.CreateLink(ctx, p); !errors.Is(err, provider.CodeConflict) {
		t.Fatalf("the same key again under one prefix: %v, want conflict", err)
	}

	p.IdempotencyKey = ""
	if l, err := a.CreateLink(ctx, p); err != nil || !strings.HasPrefix(l.ID, "db-a-paylink-") || len(l.ID) > 50 {
		t.Fatalf("CreateLink without a key = %+v, %v; want a random id after the prefix", l, err)
	}
	p.IdempotencyKey = strings.Repeat("k", 46)
	if _, err := a.CreateLink(ctx, p); !errors.Is(err, provider.CodeInvalidArgument) {
		t.Fatalf("a key too long once prefixed: %v, want invalid argument", err)
	}
	for _, bad := range []string{"has space-", strings.Repeat("p", 19), "slash/"} {
		q := midtrans.NewProvider(h.p.Client(), midtrans.ProviderOptions{OrderIDPrefix: bad})
		if _, err := q.CreateLink(ctx, orderParams); !errors.Is(err, provider.CodeFailedPrecondition) {
			t.Errorf("prefix %q: %v, want failed precondition", bad, err)
		}
	}
}

// A recorded notification decodes to the event ParseCallback made of it,
// with no signature check; redaction hides signature_key and keeps the rest.
func TestDecodeAndRedactCallback(t *testing.T) {
	h := newHarness(t)
	l, err := h.p.CreateLink(t.Context(), orderParams)
	if err != nil {
		t.Fatal(err)
	}
	req, err := h.Settle(t.Context(), l, provider.PaymentSuccessful)
	if err != nil {
		t.Fatal(err)
	}
	// Bodies stored before signature_key was removed still hold it.
	body, err := providertest.ReadBody(req)
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := h.p.ParseCallback(t.Context(), req)
	if err != nil {
		t.Fatal(err)
	}
	decoded, err := h.p.DecodeCallback(t.Context(), parsed.Raw)
	if err != nil {
		t.Fatalf("DecodeCallback: %v", err)
	}
	decoded.ReceivedAt = parsed.ReceivedAt
	if !reflect.DeepEqual(decoded, parsed) {
		t.Errorf("DecodeCallback:\n got %+v\nwant %+v", decoded, parsed)
	}
	if _, err := h.p.DecodeCallback(t.Context(), []byte(`{"order_id":""}`)); !errors.Is(err, provider.CodeInvalidArgument) {
		t.Errorf("DecodeCallback of a body that is no notification: %v, want CodeInvalidArgument", err)
	}
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	sig, _ := m["signature_key"].(string)
	red := string(h.p.RedactCallback(body))
	if sig == "" || strings.Contains(red, sig) || !strings.Contains(red, `"signature_key": "[redacted]"`) || !strings.Contains(red, l.ID) {
		t.Errorf("RedactCallback = %s; want signature_key hidden and the order id kept", red)
	}
}

// A Provider keeps no state: what it needs of a Snap page whose customer
// has not picked a method yet (the Snap token) is in the Raw CreateLink
// returned. So another Provider value (another replica, or the same app
// after a restart) given the stored link reads the page and cancels it.
func TestAnotherProviderActsOnTheStoredLinkOfAnUnpaidPage(t *testing.T) {
	h := newHarness(t)
	ctx := t.Context()
	stored, err := h.p.CreateLink(ctx, orderParams)
	if err != nil {
		t.Fatal(err)
	}
	var raw struct{ Token string }
	if err := json.Unmarshal(stored.Raw, &raw); err != nil || raw.Token == "" {
		t.Fatalf("CreateLink's Raw %s holds no Snap token (%v)", stored.Raw, err)
	}
	if want, _ := h.fake.Token(stored.ID); raw.Token != want {
		t.Fatalf("Raw holds token %q, the fake gave %q", raw.Token, want)
	}
	given := *stored

	replica := midtrans.NewProvider(h.fake.Client(), midtrans.ProviderOptions{})
	got, err := replica.GetLink(ctx, stored)
	if err != nil {
		t.Fatalf("GetLink on another Provider: %v", err)
	}
	if got.ID != stored.ID || got.Status != provider.LinkActive || got.URL != stored.URL || got.Title != "Order 42" {
		t.Fatalf("GetLink on another Provider = %+v, want the stored, active page", got)
	}

	// Without the token, the id alone cannot name a page Midtrans does
	// not show: not found, and nothing cancelled.
	idOnly := &provider.Link{Provider: "midtrans", ID: stored.ID}
	if _, err := replica.GetLink(ctx, idOnly); !errors.Is(err, provider.CodeNotFound) {
		t.Fatalf("GetLink without Raw: %v, want not found", err)
	}
	if _, err := replica.DeactivateLink(ctx, idOnly); !errors.Is(err, provider.CodeNotFound) {
		t.Fatalf("DeactivateLink without Raw: %v, want not found", err)
	}

	got, err = replica.DeactivateLink(ctx, stored)
	if err != nil || got.Status != provider.LinkInactive || got.ID != stored.ID {
		t.Fatalf("DeactivateLink on another Provider = %+v, %v; want it INACTIVE", got, err)
	}
	if _, err := h.fake.Choose(ctx, stored.ID, midtranstest.Method{PaymentType: "echannel"}); err == nil {
		t.Fatal("the customer picked a method on a page another Provider deactivated")
	}
	if !reflect.DeepEqual(*stored, given) {
		t.Fatalf("the Provider changed the link it was given: %+v, was %+v", *stored, given)
	}
	if again, err := replica.GetLink(ctx, got); err != nil || again.Status != provider.LinkInactive {
		t.Fatalf("GetLink of the deactivated link = %+v, %v; want INACTIVE", again, err)
	}
}

// An unpaid page's stored link reads INACTIVE once its expiry has passed,
// on any Provider.
func TestAnUnpaidPageReadsInactiveAfterItsExpiry(t *testing.T) {
	h := newHarness(t)
	ctx := t.Context()
	stored, err := h.p.CreateLink(ctx, orderParams)
	if err != nil {
		t.Fatal(err)
	}
	later := midtrans.NewProvider(h.fake.Client(), midtrans.ProviderOptions{
		Now: func() time.Time { return stored.ExpiresAt.Add(time.Minute) }})
	got, err := later.GetLink(ctx, stored)
	if err != nil || got.Status != provider.LinkInactive {
		t.Fatalf("GetLink after the expiry = %+v, %v; want INACTIVE", got, err)
	}
}

// Once the customer has picked a method, the status API answers, and
// another Provider carries over what only the stored link knows.
func TestAnotherProviderKeepsWhatOnlyTheStoredLinkKnows(t *testing.T) {
	h := newHarness(t)
	ctx := t.Context()
	p := orderParams
	p.IdempotencyKey = "order-77"
	stored, err := h.p.CreateLink(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.fake.Choose(ctx, stored.ID, midtranstest.Method{PaymentType: "echannel"}); err != nil {
		t.Fatal(err)
	}
	replica := midtrans.NewProvider(h.fake.Client(), midtrans.ProviderOptions{})
	got, err := replica.GetLink(ctx, stored)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != provider.LinkActive || got.URL != stored.URL || got.RedirectURL != stored.RedirectURL ||
		got.Customer != stored.Customer || got.IdempotencyKey != "order-77" || !got.CreatedAt.Equal(stored.CreatedAt) {
		t.Fatalf("GetLink of a pending order = %+v, want the stored link's URL, redirect, customer, key and creation time (%+v)", got, stored)
	}
	got, err = replica.DeactivateLink(ctx, stored)
	if err != nil || got.Status != provider.LinkInactive || got.URL != stored.URL {
		t.Fatalf("DeactivateLink of a pending order = %+v, %v", got, err)
	}
}

// Amounts above Rp 2,147,483,647 (Snap's OpenAPI int32) are sent:
// virtual-account maxima reach billions.
func TestAnOrderOfFiveBillionRupiahIsCreatedAndPaid(t *testing.T) {
	h := newHarness(t)
	ctx := t.Context()
	params := orderParams
	params.Amount = provider.Rupiah(5_000_000_000)
	l, err := h.p.CreateLink(ctx, params)
	if err != nil || l.Amount.Amount != 5_000_000_000 {
		t.Fatalf("CreateLink of Rp 5,000,000,000 = %+v, %v", l, err)
	}
	if _, err := h.fake.Pay(ctx, l.ID, midtranstest.PayOptions{Method: midtranstest.Method{Bank: "bni"}}); err != nil {
		t.Fatal(err)
	}
	pay, err := h.p.GetPayment(ctx, l, l.ID)
	if err != nil || pay.Amount.Amount != 5_000_000_000 || pay.Status != provider.PaymentSuccessful {
		t.Fatalf("GetPayment = %+v, %v", pay, err)
	}
}
