package midtranstest_test

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paylinkgo/paylink/provider/midtrans/midtranstest"
)

// clock is a test's clock for Options.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

var wib = time.FixedZone("WIB", 7*60*60)

// monday10 is Monday 2 March 2026, 10:00 WIB.
var monday10 = time.Date(2026, 3, 2, 10, 0, 0, 0, wib)

func newClockFake(t *testing.T, notify string, opts midtranstest.Options) (*midtranstest.Server, *clock) {
	clk := &clock{t: monday10}
	opts.ServerKey, opts.NotificationURL, opts.Now = key, notify, clk.Now
	opts.RetryDelays = []time.Duration{time.Millisecond}
	s := midtranstest.NewServer(opts)
	t.Cleanup(s.Close)
	return s, clk
}

func create(t *testing.T, s *midtranstest.Server, body string) {
	t.Helper()
	if status, m := call(t, s, "POST", "/snap/v1/transactions", key, body); status != 201 {
		t.Fatalf("create: %d %v", status, m)
	}
}

func statusOf(t *testing.T, s *midtranstest.Server, id string) map[string]any {
	t.Helper()
	_, m := call(t, s, "GET", "/v2/"+id+"/status", key, "")
	return m
}

// statuses is the transaction_status of every notification the fake made
// for an order.
func statuses(s *midtranstest.Server, orderID string) []string {
	var out []string
	for _, n := range s.Notifications() {
		if n.OrderID == orderID {
			out = append(out, n.TransactionStatus+"/"+n.StatusCode)
		}
	}
	return out
}

func TestExpireOnClock_APendingPaymentExpiresAtItsExpiryTimeWithANotification(t *testing.T) {
	a := newApp(t)
	s, clk := newClockFake(t, a.srv.URL, midtranstest.Options{ExpireOnClock: true})
	ctx := t.Context()
	create(t, s, `{"transaction_details":{"order_id":"e-1","gross_amount":10000}}`)
	if _, err := s.Choose(ctx, "e-1", midtranstest.Method{}); err != nil {
		t.Fatal(err)
	}
	m := statusOf(t, s, "e-1")
	if m["expiry_time"] != "2026-03-03 10:00:00" {
		t.Fatalf("expiry_time = %v, want 24 hours after the method was picked", m["expiry_time"])
	}
	clk.Add(24*time.Hour - time.Second)
	if m = statusOf(t, s, "e-1"); m["transaction_status"] != "pending" {
		t.Fatalf("a second before expiry_time: %v", m["transaction_status"])
	}
	clk.Add(time.Second)
	if m = statusOf(t, s, "e-1"); m["transaction_status"] != "expire" || m["status_code"] != "407" {
		t.Fatalf("at expiry_time: %v %v", m["transaction_status"], m["status_code"])
	}
	if err := s.WaitDeliveries(ctx, 2); err != nil {
		t.Fatal(err)
	}
	if got := statuses(s, "e-1"); strings.Join(got, ",") != "pending/201,expire/202" {
		t.Errorf("notifications %v", got)
	}
	if got := a.got(); len(got) != 2 || got[1]["transaction_status"] != "expire" {
		t.Errorf("the app got %v", got)
	}
}

func TestExpireOnClock_TheCreateRequestsExpirySetsThePaymentsAndThePagesExpiry(t *testing.T) {
	s, clk := newClockFake(t, "", midtranstest.Options{ExpireOnClock: true})
	ctx := t.Context()
	// A blanket expiry from start_time: 30 minutes for the page and the
	// payment, whenever the customer picks a method.
	create(t, s, `{"transaction_details":{"order_id":"e-2","gross_amount":10000},
		"expiry":{"start_time":"2026-03-02 10:00:00 +0700","unit":"minutes","duration":30}}`)
	clk.Add(10 * time.Minute)
	if _, err := s.Choose(ctx, "e-2", midtranstest.Method{}); err != nil {
		t.Fatal(err)
	}
	if m := statusOf(t, s, "e-2"); m["expiry_time"] != "2026-03-02 10:30:00" {
		t.Fatalf("expiry_time = %v", m["expiry_time"])
	}
	clk.Add(20 * time.Minute)
	if m := statusOf(t, s, "e-2"); m["transaction_status"] != "expire" {
		t.Fatalf("after 30 minutes: %v", m["transaction_status"])
	}
	if _, err := s.Pay(ctx, "e-2", midtranstest.PayOptions{}); !errors.Is(err, midtranstest.ErrWrongState) {
		t.Errorf("a new attempt on the expired page: %v", err)
	}

	// Without start_time the payment's expiry counts from when the
	// customer picks a method.
	create(t, s, `{"transaction_details":{"order_id":"e-3","gross_amount":10000},"expiry":{"unit":"hour","duration":2}}`)
	clk.Add(time.Hour)
	if _, err := s.Choose(ctx, "e-3", midtranstest.Method{}); err != nil {
		t.Fatal(err)
	}
	if m := statusOf(t, s, "e-3"); m["expiry_time"] != "2026-03-02 13:30:00" {
		t.Errorf("expiry_time = %v, want 2 hours after the pick", m["expiry_time"])
	}

}

func TestExpireOnClock_ASnapPageExpiresSilentlyAndTakesNoPayment(t *testing.T) {
	s, clk := newClockFake(t, "", midtranstest.Options{ExpireOnClock: true})
	ctx := t.Context()
	create(t, s, `{"transaction_details":{"order_id":"p-1","gross_amount":10000}}`)
	create(t, s, `{"transaction_details":{"order_id":"p-2","gross_amount":10000},"page_expiry":{"unit":"minute","duration":15}}`)
	clk.Add(15 * time.Minute)
	if _, err := s.Choose(ctx, "p-2", midtranstest.Method{}); !errors.Is(err, midtranstest.ErrWrongState) {
		t.Errorf("a pick on a page past its page_expiry: %v", err)
	}
	if _, err := s.Choose(ctx, "p-1", midtranstest.Method{}); err != nil {
		t.Errorf("a pick on a page within its default 24 hours: %v", err)
	}
	create(t, s, `{"transaction_details":{"order_id":"p-3","gross_amount":10000}}`)
	clk.Add(24 * time.Hour)
	if _, err := s.Pay(ctx, "p-3", midtranstest.PayOptions{}); !errors.Is(err, midtranstest.ErrWrongState) {
		t.Errorf("a payment on a page 24 hours old: %v", err)
	}
	if m := statusOf(t, s, "p-3"); m["status_code"] != "404" {
		t.Errorf("an expired page without a transaction is no transaction: %v", m)
	}
	if got := statuses(s, "p-2"); len(got) != 0 {
		t.Errorf("page expiry notified: %v", got)
	}
	if got := statuses(s, "p-3"); len(got) != 0 {
		t.Errorf("page expiry notified: %v", got)
	}
	token, _ := s.Token("p-3")
	resp, err := http.Get(s.PageURL(token))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if b, _ := io.ReadAll(resp.Body); !strings.Contains(string(b), `<span id="status">expired</span>`) {
		t.Errorf("the hosted page does not say expired:\n%s", b)
	}
}

func TestExpireOnClock_AnInvalidExpiryIsRefused(t *testing.T) {
	s, _ := newClockFake(t, "", midtranstest.Options{ExpireOnClock: true})
	for _, body := range []string{
		`{"transaction_details":{"order_id":"x-1","gross_amount":10000},"expiry":{"unit":"fortnight","duration":1}}`,
		`{"transaction_details":{"order_id":"x-2","gross_amount":10000},"expiry":{"unit":"day","duration":0}}`,
		`{"transaction_details":{"order_id":"x-3","gross_amount":10000},"expiry":{"start_time":"tomorrow","unit":"day","duration":1}}`,
		`{"transaction_details":{"order_id":"x-4","gross_amount":10000},"page_expiry":{"unit":"day","duration":"x"}}`,
	} {
		if status, m := call(t, s, "POST", "/snap/v1/transactions", key, body); status != 400 || m["error_messages"] == nil {
			t.Errorf("%s: %d %v", body, status, m)
		}
	}
}

func TestWithoutExpireOnClock_NothingExpires(t *testing.T) {
	s, clk := newClockFake(t, "", midtranstest.Options{})
	ctx := t.Context()
	create(t, s, `{"transaction_details":{"order_id":"n-1","gross_amount":10000}}`)
	create(t, s, `{"transaction_details":{"order_id":"n-2","gross_amount":10000}}`)
	if _, err := s.Choose(ctx, "n-1", midtranstest.Method{}); err != nil {
		t.Fatal(err)
	}
	clk.Add(30 * 24 * time.Hour)
	if m := statusOf(t, s, "n-1"); m["transaction_status"] != "pending" {
		t.Errorf("n-1: %v", m["transaction_status"])
	}
	if _, err := s.Pay(ctx, "n-2", midtranstest.PayOptions{}); err != nil {
		t.Errorf("n-2: %v", err)
	}
}

func TestTick_AppliesWhatHasComeDueWithoutARequest(t *testing.T) {
	s, clk := newClockFake(t, "", midtranstest.Options{ExpireOnClock: true, PendingExpiry: 15 * time.Minute})
	ctx := t.Context()
	create(t, s, `{"transaction_details":{"order_id":"t-1","gross_amount":10000}}`)
	if _, err := s.Choose(ctx, "t-1", midtranstest.Method{PaymentType: "gopay"}); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Tick(ctx); len(got) != 0 {
		t.Fatalf("nothing due yet: %v", got)
	}
	clk.Add(15 * time.Minute)
	got, err := s.Tick(ctx)
	if err != nil || len(got) != 1 || got[0].OrderID != "t-1" || got[0].TransactionStatus != "expire" {
		t.Fatalf("Tick = %+v, %v", got, err)
	}
	if got := statuses(s, "t-1"); strings.Join(got, ",") != "pending/201,expire/202" {
		t.Errorf("notifications %v", got)
	}
	if got, _ := s.Tick(ctx); len(got) != 0 {
		t.Errorf("a second Tick changed %v", got)
	}
}

func TestCancelUnapprovedChallenges_AChallengedCardIsCancelledAtTheNextDaysCutoff(t *testing.T) {
	s, clk := newClockFake(t, "", midtranstest.Options{CancelUnapprovedChallenges: true})
	ctx := t.Context()
	card := midtranstest.PayOptions{Method: midtranstest.Method{PaymentType: "credit_card"}, Fraud: "challenge"}
	create(t, s, `{"transaction_details":{"order_id":"ch-1","gross_amount":10000}}`)
	if _, err := s.Pay(ctx, "ch-1", card); err != nil {
		t.Fatal(err)
	}
	// Captured Monday 10:00 WIB: the cut-off is Tuesday 16:00 WIB.
	clk.Add(30*time.Hour - time.Second)
	if m := statusOf(t, s, "ch-1"); m["transaction_status"] != "capture" || m["fraud_status"] != "challenge" || m["status_code"] != "201" {
		t.Fatalf("before the cut-off: %v", m)
	}
	clk.Add(time.Second)
	if m := statusOf(t, s, "ch-1"); m["transaction_status"] != "cancel" || m["fraud_status"] != "challenge" {
		t.Fatalf("at the cut-off: %v", m)
	}
	if got := statuses(s, "ch-1"); strings.Join(got, ",") != "pending/201,capture/201,cancel/202" {
		t.Errorf("notifications %v", got)
	}
	if _, err := s.Settle(ctx, "ch-1"); !errors.Is(err, midtranstest.ErrWrongState) {
		t.Errorf("a cancelled challenge settled: %v", err)
	}
}

func TestCancelUnapprovedChallenges_SettlementCancelsAChallengeAndSettlesAnApprovedOne(t *testing.T) {
	s, _ := newClockFake(t, "", midtranstest.Options{CancelUnapprovedChallenges: true})
	ctx := t.Context()
	card := midtranstest.PayOptions{Method: midtranstest.Method{PaymentType: "credit_card"}, Fraud: "challenge"}
	create(t, s, `{"transaction_details":{"order_id":"ch-2","gross_amount":10000}}`)
	create(t, s, `{"transaction_details":{"order_id":"ch-3","gross_amount":10000}}`)
	s.Pay(ctx, "ch-2", card)
	s.Pay(ctx, "ch-3", card)
	if tx, err := s.Settle(ctx, "ch-2"); err != nil || tx.TransactionStatus != "cancel" {
		t.Errorf("settling a challenge: %+v, %v", tx, err)
	}
	tx, err := s.Approve(ctx, "ch-3")
	if err != nil || tx.TransactionStatus != "capture" || tx.FraudStatus != "accept" {
		t.Fatalf("Approve = %+v, %v", tx, err)
	}
	if m := statusOf(t, s, "ch-3"); m["status_code"] != "200" || m["fraud_status"] != "accept" {
		t.Errorf("approved: %v", m)
	}
	if tx, err := s.Settle(ctx, "ch-3"); err != nil || tx.TransactionStatus != "settlement" {
		t.Errorf("settling an approved capture: %+v, %v", tx, err)
	}
	if _, err := s.Approve(ctx, "ch-3"); !errors.Is(err, midtranstest.ErrWrongState) {
		t.Errorf("approving a settlement: %v", err)
	}
	if got := statuses(s, "ch-3"); strings.Join(got, ",") != "pending/201,capture/201,capture/200,settlement/200" {
		t.Errorf("notifications %v", got)
	}
}

func TestWithoutCancelUnapprovedChallenges_AChallengeSettles(t *testing.T) {
	s, clk := newClockFake(t, "", midtranstest.Options{})
	ctx := t.Context()
	create(t, s, `{"transaction_details":{"order_id":"ch-4","gross_amount":10000}}`)
	s.Pay(ctx, "ch-4", midtranstest.PayOptions{Method: midtranstest.Method{PaymentType: "credit_card"}, Fraud: "challenge"})
	clk.Add(72 * time.Hour)
	if tx, err := s.Settle(ctx, "ch-4"); err != nil || tx.TransactionStatus != "settlement" {
		t.Errorf("Settle = %+v, %v", tx, err)
	}
}

func TestRefundLimits_ARefundAfterTheMethodsWindowIsRefused(t *testing.T) {
	s, clk := newClockFake(t, "", midtranstest.Options{RefundLimits: true})
	ctx := t.Context()
	for _, c := range []struct {
		method string
		window time.Duration
	}{
		{"ovo", 7 * 24 * time.Hour}, {"qris", 7 * 24 * time.Hour}, {"kredivo", 14 * 24 * time.Hour},
		{"dana", 45 * 24 * time.Hour}, {"gopay", 45 * 24 * time.Hour}, {"shopeepay", 365 * 24 * time.Hour},
	} {
		in, late := "in-"+c.method, "late-"+c.method
		create(t, s, `{"transaction_details":{"order_id":"`+in+`","gross_amount":10000}}`)
		create(t, s, `{"transaction_details":{"order_id":"`+late+`","gross_amount":10000}}`)
		s.Pay(ctx, in, midtranstest.PayOptions{Method: midtranstest.Method{PaymentType: c.method}})
		s.Pay(ctx, late, midtranstest.PayOptions{Method: midtranstest.Method{PaymentType: c.method}})
		clk.Add(c.window)
		if _, m := call(t, s, "POST", "/v2/"+in+"/refund", key, `{}`); m["status_code"] != "200" {
			t.Errorf("%s on the window's last moment: %v", c.method, m)
		}
		clk.Add(time.Second)
		_, m := call(t, s, "POST", "/v2/"+late+"/refund", key, `{}`)
		if m["status_code"] != "412" || m["status_message"] != "Merchant cannot modify the status of the transaction" {
			t.Errorf("%s after its window: %v", c.method, m)
		}
		if m := statusOf(t, s, late); m["transaction_status"] != "settlement" {
			t.Errorf("%s: a refused refund changed the payment: %v", c.method, m)
		}
	}
	// Cards have no documented window.
	create(t, s, `{"transaction_details":{"order_id":"card","gross_amount":10000}}`)
	s.Pay(ctx, "card", midtranstest.PayOptions{Method: midtranstest.Method{PaymentType: "credit_card"}})
	s.Settle(ctx, "card")
	clk.Add(2 * 365 * 24 * time.Hour)
	if _, m := call(t, s, "POST", "/v2/card/refund", key, `{"amount":1000}`); m["status_code"] != "200" {
		t.Errorf("an old card payment: %v", m)
	}
}

func TestRefundLimits_AFullOnlyMethodRefusesAPartialRefund(t *testing.T) {
	s, _ := newClockFake(t, "", midtranstest.Options{RefundLimits: true})
	ctx := t.Context()
	for _, method := range []string{"shopeepay", "ovo"} {
		create(t, s, `{"transaction_details":{"order_id":"`+method+`","gross_amount":10000}}`)
		s.Pay(ctx, method, midtranstest.PayOptions{Method: midtranstest.Method{PaymentType: method}})
		_, m := call(t, s, "POST", "/v2/"+method+"/refund", key, `{"refund_key":"half","amount":5000}`)
		if m["status_code"] != "414" || m["status_message"] != "Refund request is rejected due to invalid amount" {
			t.Errorf("%s, a partial refund: %v", method, m)
		}
		if _, err := s.Refund(ctx, method, 5000); !errors.Is(err, midtranstest.ErrWrongState) {
			t.Errorf("%s, a simulated partial refund: %v", method, err)
		}
		if _, m := call(t, s, "POST", "/v2/"+method+"/refund", key, `{"refund_key":"half","amount":10000}`); m["status_code"] != "200" ||
			m["transaction_status"] != "refund" {
			t.Errorf("%s, the full amount with the refused key: %v", method, m)
		}
	}
	// A method that takes partial refunds still does.
	create(t, s, `{"transaction_details":{"order_id":"gopay","gross_amount":10000}}`)
	s.Pay(ctx, "gopay", midtranstest.PayOptions{Method: midtranstest.Method{PaymentType: "gopay"}})
	if _, m := call(t, s, "POST", "/v2/gopay/refund", key, `{"amount":4000}`); m["transaction_status"] != "partial_refund" {
		t.Errorf("gopay partial refund: %v", m)
	}
}

func TestWithoutRefundLimits_AnyRefundOfASettlementIsTaken(t *testing.T) {
	s, clk := newClockFake(t, "", midtranstest.Options{})
	ctx := t.Context()
	create(t, s, `{"transaction_details":{"order_id":"ovo","gross_amount":10000}}`)
	s.Pay(ctx, "ovo", midtranstest.PayOptions{Method: midtranstest.Method{PaymentType: "ovo"}})
	clk.Add(400 * 24 * time.Hour)
	if _, m := call(t, s, "POST", "/v2/ovo/refund", key, `{"amount":4000}`); m["transaction_status"] != "partial_refund" {
		t.Errorf("ovo partial refund a year later: %v", m)
	}
}
