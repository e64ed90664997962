package midtrans_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/paylinkgo/paylink/provider"
	"github.com/paylinkgo/paylink/provider/midtrans"
	"github.com/paylinkgo/paylink/provider/midtrans/midtranstest"
	"github.com/paylinkgo/paylink/provider/providertest"
)

const conformanceKey = "SB-Mid-server-conformance"

// harness runs the provider conformance suite against midtrans over
// midtranstest. Notifications are the exact requests the fake sends,
// captured by a server standing in for the app.
type harness struct {
	fake     *midtranstest.Server
	p        *midtrans.Provider
	captured chan *http.Request
}

func newHarness(t *testing.T) *harness {
	return newHarnessWith(t, midtranstest.Options{}, midtrans.ProviderOptions{})
}

// newHarnessWith is newHarness with fake options (ServerKey,
// NotificationURL and RetryDelays are set here) and provider options.
func newHarnessWith(t *testing.T, fo midtranstest.Options, po midtrans.ProviderOptions) *harness {
	h := &harness{captured: make(chan *http.Request, 64)}
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		req := httptest.NewRequest(r.Method, r.URL.String(), bytes.NewReader(body))
		req.Header = r.Header.Clone()
		h.captured <- req
	}))
	t.Cleanup(app.Close)
	fo.ServerKey, fo.NotificationURL, fo.RetryDelays = conformanceKey, app.URL, []time.Duration{10 * time.Millisecond}
	h.fake = midtranstest.NewServer(fo)
	t.Cleanup(h.fake.Close)
	h.p = midtrans.NewProvider(h.fake.Client(), po)
	return h
}

func (h *harness) Provider() provider.Provider { return h.p }

// Settle pays, expires or denies the order and returns the notification
// of that status (the fake also sends the pending one first).
func (h *harness) Settle(ctx context.Context, l *provider.Link, st provider.PaymentStatus) (*http.Request, error) {
	var err error
	var want string
	switch st {
	case provider.PaymentSuccessful:
		_, err, want = ignore(h.fake.Pay(ctx, l.ID, midtranstest.PayOptions{})), nil, "settlement"
	case provider.PaymentCancelled:
		_, err = h.fake.Expire(ctx, l.ID)
		want = "expire"
	case provider.PaymentFailed:
		_, err = h.fake.Deny(ctx, l.ID)
		want = "deny"
	default:
		return nil, fmt.Errorf("no way to settle as %s", st)
	}
	if err != nil {
		return nil, err
	}
	return h.next(ctx, want)
}

func ignore(_ *midtranstest.Transaction, err error) error { return err }

// PayRefundable pays with GoPay: settled at once, and refundable (bank
// transfers are not).
func (h *harness) PayRefundable(ctx context.Context, l *provider.Link) (*http.Request, error) {
	if _, err := h.fake.Pay(ctx, l.ID, midtranstest.PayOptions{Method: midtranstest.Method{PaymentType: "gopay"}}); err != nil {
		return nil, err
	}
	return h.next(ctx, "settlement")
}

// RefundCallback returns the notification of the refund that reached st
// with refunded in all.
func (h *harness) RefundCallback(ctx context.Context, l *provider.Link, st provider.PaymentStatus, refunded int64) (*http.Request, error) {
	raw := map[provider.PaymentStatus]string{provider.PaymentPartiallyRefunded: "partial_refund", provider.PaymentRefunded: "refund"}[st]
	return h.nextWith(ctx, raw, fmt.Sprintf(`"refund_amount":"%d.00"`, refunded))
}

// ChargeBack charges the order back and returns its notification.
func (h *harness) ChargeBack(ctx context.Context, l *provider.Link, amount int64) (*http.Request, error) {
	t, err := h.fake.Chargeback(ctx, l.ID, amount)
	if err != nil {
		return nil, err
	}
	return h.nextWith(ctx, t.TransactionStatus, fmt.Sprintf(`"refund_amount":"%d.00"`, t.RefundAmount))
}

// next returns the next captured notification with the given status.
func (h *harness) next(ctx context.Context, status string) (*http.Request, error) {
	return h.nextWith(ctx, status, "")
}

// nextWith returns the next captured notification with the given status
// whose body also holds field.
func (h *harness) nextWith(ctx context.Context, status, field string) (*http.Request, error) {
	for {
		select {
		case r := <-h.captured:
			b, err := providertest.ReadBody(r)
			if err != nil {
				return nil, err
			}
			if bytes.Contains(b, []byte(`"transaction_status":"`+status+`"`)) && bytes.Contains(b, []byte(field)) {
				return r.WithContext(ctx), nil
			}
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(20 * time.Second):
			return nil, context.DeadlineExceeded
		}
	}
}

func (h *harness) BadCallback(ctx context.Context, kind providertest.BadCallback) (*http.Request, error) {
	n := midtrans.Transaction{OrderID: "order-1", StatusCode: "200", GrossAmount: "45000.00",
		TransactionStatus: midtrans.StatusSettlement, TransactionID: "9aed5972-5b6a-401e-894b-a32c91ed1a3a"}
	switch kind {
	case providertest.WrongToken:
		return midtrans.NewNotificationRequest(ctx, "http://app.invalid/midtrans", "not-the-key", n)
	case providertest.MissingToken:
		r, err := midtrans.NewNotificationRequest(ctx, "http://app.invalid/midtrans", conformanceKey, n)
		if err != nil {
			return nil, err
		}
		var m map[string]any
		if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
			return nil, err
		}
		delete(m, "signature_key")
		b, _ := json.Marshal(m)
		r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(b)), int64(len(b))
		return r, nil
	default:
		r, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://app.invalid/midtrans",
			strings.NewReader(`{"order_id":"order-1","status_code":`))
		if err == nil {
			r.Header.Set("Content-Type", "application/json")
		}
		return r, err
	}
}

func TestMidtransPassesTheProviderConformanceSuite(t *testing.T) {
	providertest.TestProvider(t, func(t *testing.T) providertest.Harness { return newHarness(t) })
}
