package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
)

// waitTimeout bounds every wait in these tests. It is generous: the
// machines running them are small and busy; the waits poll and end as soon
// as the condition holds.
const waitTimeout = 90 * time.Second

func TestMain(m *testing.M) {
	gin.SetMode(gin.TestMode)
	os.Exit(m.Run())
}

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// testShop is one shop started by run() in this process.
type testShop struct {
	t    *testing.T
	base string // "http://127.0.0.1:port"
	// admin is the admin listener's base URL (SHOP_ADMIN_ADDR), "" when
	// /metrics and the console are on base.
	admin string
	// provider is the payment provider the shop runs on ("flip",
	// "midtrans"), as PAYMENT_PROVIDER says.
	provider string
	client   *http.Client
	logs     *syncBuffer
	cancel   context.CancelFunc
	done     chan error
	once     sync.Once
	err      error
}

// shopEnv is the environment of an offline shop on a SQLite file in dir.
func shopEnv(dir string) map[string]string {
	return map[string]string{
		"ADDR":                "127.0.0.1:0",
		"SHOP_SQLITE_PATH":    filepath.Join(dir, "shop.db"),
		"FLIP_CALLBACK_TOKEN": "test-callback-token",
	}
}

// startShop runs the shop with env until the test ends (or stop is
// called), and waits until it serves.
func startShop(t *testing.T, env map[string]string) *testShop {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := &testShop{
		t:        t,
		provider: cmp.Or(env["PAYMENT_PROVIDER"], "flip"),
		client:   &http.Client{Timeout: 30 * time.Second},
		logs:     &syncBuffer{},
		cancel:   cancel,
		done:     make(chan error, 1),
	}
	addrc := make(chan listening, 1)
	go func() {
		s.done <- run(ctx, func(k string) string { return env[k] }, s.logs, func(addrs listening) { addrc <- addrs })
	}()
	t.Cleanup(func() {
		if err := s.stop(); err != nil {
			t.Errorf("run returned %v after shutdown", err)
		}
		if t.Failed() {
			t.Logf("shop logs:\n%s", s.logs)
		}
	})
	select {
	case addrs := <-addrc:
		s.base = "http://" + addrs.public
		if addrs.admin != "" {
			s.admin = "http://" + addrs.admin
		}
	case err := <-s.done:
		s.done <- err // for stop
		t.Fatalf("the shop did not start: %v\nlogs:\n%s", err, s.logs)
	case <-time.After(waitTimeout):
		t.Fatalf("the shop did not start within %s\nlogs:\n%s", waitTimeout, s.logs)
	}
	return s
}

// stop cancels the shop's context and returns what run returned.
func (s *testShop) stop() error {
	s.once.Do(func() {
		s.cancel()
		select {
		case s.err = <-s.done:
		case <-time.After(waitTimeout):
			s.err = fmt.Errorf("run did not return within %s of the shutdown", waitTimeout)
		}
	})
	return s.err
}

// do sends a request with a JSON body (raw when body is a string) and
// decodes a JSON answer into out, returning the status.
func (s *testShop) do(method, rawURL string, body any, out any) int {
	s.t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			s.t.Fatal(err)
		}
		r = bytes.NewReader(data)
	}
	if !strings.HasPrefix(rawURL, "http") {
		rawURL = s.base + rawURL
	}
	req, err := http.NewRequest(method, rawURL, r)
	if err != nil {
		s.t.Fatal(err)
	}
	if r != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := s.client.Do(req)
	if err != nil {
		s.t.Fatalf("%s %s: %v", method, rawURL, err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		s.t.Fatalf("%s %s: reading the answer: %v", method, rawURL, err)
	}
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			s.t.Fatalf("%s %s: answer %d is not the expected JSON: %v\n%s", method, rawURL, res.StatusCode, err, data)
		}
	}
	return res.StatusCode
}

// createOrder creates an order and checks the 201 answer's contract.
func (s *testShop) createOrder(body map[string]any) orderView {
	s.t.Helper()
	var o orderView
	if st := s.do(http.MethodPost, "/orders", body, &o); st != http.StatusCreated {
		s.t.Fatalf("POST /orders = %d, want 201", st)
	}
	if o.ID <= 0 || o.Status != OrderPending || o.Amount != body["amount"] {
		s.t.Fatalf("created order = %+v, want a positive id, PENDING and amount %v", o, body["amount"])
	}
	if o.Payment.Provider != s.provider || o.Payment.LinkID == "" || !strings.HasPrefix(o.Payment.LinkURL, "http") {
		s.t.Fatalf("created order's payment = %+v, want a %s link with an absolute URL", o.Payment, s.provider)
	}
	return o
}

// getOrder reads GET /orders/:id.
func (s *testShop) getOrder(id int64) orderView {
	s.t.Helper()
	var o orderView
	if st := s.do(http.MethodGet, fmt.Sprintf("/orders/%d", id), nil, &o); st != http.StatusOK {
		s.t.Fatalf("GET /orders/%d = %d, want 200", id, st)
	}
	return o
}

// waitOrder polls GET /orders/:id until ok accepts the order.
func (s *testShop) waitOrder(id int64, what string, ok func(orderView) bool) orderView {
	s.t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for {
		o := s.getOrder(id)
		if ok(o) {
			return o
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("order %d never became %s; last seen %+v", id, what, o)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// fakeURL is the base URL of the fake Flip that made the order's link.
func fakeURL(t *testing.T, o orderView) string {
	t.Helper()
	u, err := url.Parse(o.Payment.LinkURL)
	if err != nil {
		t.Fatal(err)
	}
	return u.Scheme + "://" + u.Host
}

// simulate asks the fake Flip to pay, expire or fail the order's link and
// returns the payment id it reports.
func (s *testShop) simulate(o orderView, action string) string {
	s.t.Helper()
	var pay struct {
		ID     string `json:"id"`
		Status string `json:"status"`
	}
	u := fmt.Sprintf("%s/_fliptest/bills/%s/%s", fakeURL(s.t, o), o.Payment.LinkID, action)
	if st := s.do(http.MethodPost, u, nil, &pay); st != http.StatusOK || pay.ID == "" {
		s.t.Fatalf("POST %s = %d %+v, want 200 with a payment", u, st, pay)
	}
	return pay.ID
}

// delivery is one callback attempt as the fake reports it.
type delivery struct {
	PaymentID  string `json:"payment_id"`
	Status     string `json:"status"`
	StatusCode int    `json:"status_code"`
}

// waitAcknowledged waits until the shop has answered n callbacks for
// paymentID with 200, which it does only after committing them.
func (s *testShop) waitAcknowledged(fake, paymentID string, n int) {
	s.t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for {
		var ds []delivery
		if st := s.do(http.MethodGet, fake+"/_fliptest/deliveries", nil, &ds); st != http.StatusOK {
			s.t.Fatalf("GET /_fliptest/deliveries = %d", st)
		}
		ok := 0
		for _, d := range ds {
			if d.PaymentID == paymentID && d.StatusCode == http.StatusOK {
				ok++
			}
		}
		if ok >= n {
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("the shop acknowledged %d callbacks for %s, want %d; deliveries: %+v", ok, paymentID, n, ds)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// coffee is a valid order body.
func coffee() map[string]any {
	return map[string]any{
		"title":    "Coffee beans 1 kg",
		"amount":   int64(45000),
		"customer": map[string]any{"name": "Budi", "email": "budi@example.com", "phone": "08123456789"},
	}
}

// pay pays the order on the shop's fake provider, as its customer would,
// and returns a function that makes the provider deliver the payment's
// callback once more and returns when the shop has acknowledged it.
func (s *testShop) pay(o orderView) (deliverAgain func()) {
	s.t.Helper()
	if s.provider == "midtrans" {
		return s.payOnSnapPage(o)
	}
	fake := fakeURL(s.t, o)
	paymentID := s.simulate(o, "pay")
	return func() {
		s.t.Helper()
		s.waitAcknowledged(fake, paymentID, 1)
		var queued map[string]any
		if st := s.do(http.MethodPost, fake+"/_fliptest/payments/"+paymentID+"/redeliver", nil, &queued); st/100 != 2 {
			s.t.Fatalf("redeliver = %d %v, want 2xx", st, queued)
		}
		s.waitAcknowledged(fake, paymentID, 2)
	}
}

// checkPaidOnce is the main scenario, on either provider: an order is
// created, paid on the fake provider, becomes PAID with exactly one
// receipt, and stays at one receipt when the provider delivers the same
// callback again.
func checkPaidOnce(t *testing.T, s *testShop) {
	o := s.createOrder(coffee())

	deliverAgain := s.pay(o)
	paid := s.waitOrder(o.ID, "PAID with one receipt", func(o orderView) bool {
		return o.Status == OrderPaid && o.ReceiptsSent >= 1
	})
	if paid.ReceiptsSent != 1 {
		t.Fatalf("receipts_sent = %d after one payment, want 1", paid.ReceiptsSent)
	}
	if paid.PaidAt == nil || paid.PaidAt.IsZero() {
		t.Fatalf("paid_at = %v, want the payment time", paid.PaidAt)
	}
	if paid.Payment != o.Payment {
		t.Fatalf("payment = %+v, want it unchanged from creation %+v", paid.Payment, o.Payment)
	}

	// The provider sends the same callback again: recorded as a
	// duplicate, no hook.
	deliverAgain()
	if again := s.getOrder(o.ID); again.Status != OrderPaid || again.ReceiptsSent != 1 {
		t.Fatalf("after the repeated callback: status %s, receipts_sent %d; want PAID and 1", again.Status, again.ReceiptsSent)
	}

	// The raw JSON keeps the contract's field names and an RFC 3339 paid_at.
	var raw map[string]any
	s.do(http.MethodGet, fmt.Sprintf("/orders/%d", o.ID), nil, &raw)
	for _, k := range []string{"id", "status", "paid_at", "receipts_sent", "payment"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("GET /orders/:id has no %q field: %v", k, raw)
		}
	}
	if ts, _ := raw["paid_at"].(string); ts == "" {
		t.Errorf("paid_at = %v, want an RFC 3339 string", raw["paid_at"])
	} else if _, err := time.Parse(time.RFC3339, ts); err != nil {
		t.Errorf("paid_at %q is not RFC 3339: %v", ts, err)
	}
	payment, _ := raw["payment"].(map[string]any)
	for _, k := range []string{"provider", "link_id", "link_url", "payment_url"} {
		if _, ok := payment[k]; !ok {
			t.Errorf("payment has no %q field: %v", k, payment)
		}
	}
}

func TestOrderIsPaidOnceOnSQLite(t *testing.T) {
	t.Parallel()
	s := startShop(t, shopEnv(t.TempDir()))
	checkPaidOnce(t, s)
}

func TestExpiredAndFailedPaymentsUpdateTheOrder(t *testing.T) {
	t.Parallel()
	s := startShop(t, shopEnv(t.TempDir()))
	for _, tc := range []struct {
		action string
		want   OrderStatus
	}{
		{"expire", OrderCancelled},
		{"fail", OrderFailed},
	} {
		o := s.createOrder(coffee())
		s.simulate(o, tc.action)
		got := s.waitOrder(o.ID, string(tc.want), func(o orderView) bool { return o.Status != OrderPending })
		if got.Status != tc.want || got.PaidAt != nil || got.ReceiptsSent != 0 {
			t.Errorf("after %s: status %s, paid_at %v, receipts %d; want %s, null, 0",
				tc.action, got.Status, got.PaidAt, got.ReceiptsSent, tc.want)
		}
	}
}

func TestCreateOrderRefusesBadInput(t *testing.T) {
	t.Parallel()
	s := startShop(t, shopEnv(t.TempDir()))
	tests := []struct {
		name   string
		body   string
		status int
		field  string // the field the error must name; "" when the body is not a JSON object
	}{
		{"not JSON", `{"title": "Coffee", `, http.StatusBadRequest, ""},
		{"two JSON values", `{"title":"Coffee","amount":45000} {}`, http.StatusBadRequest, ""},
		{"amount as a string", `{"title":"Coffee","amount":"45000"}`, http.StatusBadRequest, "amount"},
		{"fractional amount", `{"title":"Coffee","amount":45000.5}`, http.StatusBadRequest, "amount"},
		{"step as a string", `{"title":"Coffee","amount":45000,"step":"2"}`, http.StatusBadRequest, "step"},
		{"customer name as a number", `{"title":"Coffee","amount":45000,"customer":{"name":7}}`, http.StatusBadRequest, "customer.name"},
		{"no title", `{"amount":45000}`, http.StatusUnprocessableEntity, "title"},
		{"blank title", `{"title":"   ","amount":45000}`, http.StatusUnprocessableEntity, "title"},
		{"no amount", `{"title":"Coffee"}`, http.StatusUnprocessableEntity, "amount"},
		{"amount below Flip's minimum", `{"title":"Coffee","amount":9999}`, http.StatusUnprocessableEntity, "amount"},
		{"bad email", `{"title":"Coffee","amount":45000,"customer":{"email":"budi"}}`, http.StatusUnprocessableEntity, "customer.email"},
		{"unknown step", `{"title":"Coffee","amount":45000,"step":4}`, http.StatusUnprocessableEntity, "step"},
		{"step 2 without a name", `{"title":"Coffee","amount":45000,"step":2,"customer":{"email":"budi@example.com"}}`, http.StatusUnprocessableEntity, "customer.name"},
		{"step 2 without an email", `{"title":"Coffee","amount":45000,"step":2,"customer":{"name":"Budi"}}`, http.StatusUnprocessableEntity, "customer.email"},
		{"step 3 without a bank", `{"title":"Coffee","amount":45000,"step":3,"customer":{"name":"Budi","email":"budi@example.com"},"sender_bank_type":"virtual_account"}`, http.StatusUnprocessableEntity, "sender_bank"},
		{"unknown bank type", `{"title":"Coffee","amount":45000,"sender_bank_type":"cash"}`, http.StatusUnprocessableEntity, "sender_bank_type"},
		// Refused by Flip itself (the fake's account limit), not by the shop.
		{"amount above the account's maximum", `{"title":"Coffee","amount":10000001}`, http.StatusUnprocessableEntity, "amount"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got errorBody
			st := s.do(http.MethodPost, "/orders", tc.body, &got)
			if st != tc.status {
				t.Fatalf("status = %d (%+v), want %d", st, got, tc.status)
			}
			if got.Error == "" {
				t.Fatalf("error body = %+v, want an error message", got)
			}
			if tc.field == "" {
				return
			}
			named := false
			for _, f := range got.Fields {
				named = named || f.Field == tc.field
			}
			if !named || !strings.Contains(got.Error, tc.field) {
				t.Fatalf("error = %+v, want it to name the field %q", got, tc.field)
			}
		})
	}

	// Refused orders leave no row behind: the list page shows none.
	var page strings.Builder
	res, err := s.client.Get(s.base + "/")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if _, err := io.Copy(&page, res.Body); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(page.String(), "No orders yet.") {
		t.Errorf("GET / after refused orders lists some:\n%s", page.String())
	}
}

func TestStepThreeOrderHasAPaymentURL(t *testing.T) {
	t.Parallel()
	s := startShop(t, shopEnv(t.TempDir()))
	body := coffee()
	body["step"] = 3
	body["sender_bank"] = "bni"
	body["sender_bank_type"] = "virtual_account"
	o := s.createOrder(body)
	if o.Payment.PaymentURL == "" {
		t.Fatalf("a step-3 order's payment = %+v, want a payment_url", o.Payment)
	}
}

func TestUnknownOrderIs404(t *testing.T) {
	t.Parallel()
	s := startShop(t, shopEnv(t.TempDir()))
	for _, path := range []string{"/orders/424242", "/orders/0", "/orders/not-a-number", "/orders/424242/view"} {
		var body map[string]any
		res, err := s.client.Get(s.base + path)
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 404", path, res.StatusCode)
		}
		if !strings.HasSuffix(path, "/view") {
			if err := json.Unmarshal(data, &body); err != nil || body["error"] == nil {
				t.Errorf("GET %s answered %q, want a JSON error", path, data)
			}
		}
	}
}

func TestPagesShowOrders(t *testing.T) {
	t.Parallel()
	s := startShop(t, shopEnv(t.TempDir()))
	o := s.createOrder(coffee())
	for path, want := range map[string][]string{
		"/": {`id="order-form"`, `name="title"`, `name="amount"`, `name="name"`, `name="email"`, `id="create"`,
			"Coffee beans 1 kg", "Rp45.000", o.Payment.LinkURL},
		fmt.Sprintf("/orders/%d/view", o.ID): {`id="order-status"`, "PENDING", "Rp45.000", o.Payment.LinkURL},
	} {
		res, err := s.client.Get(s.base + path)
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
			t.Errorf("GET %s = %d %s, want 200 HTML", path, res.StatusCode, res.Header.Get("Content-Type"))
		}
		for _, w := range want {
			if !strings.Contains(string(data), w) {
				t.Errorf("GET %s does not contain %q", path, w)
			}
		}
	}
}

func TestRefusesRealFlipWithoutCallbackToken(t *testing.T) {
	t.Parallel()
	env := map[string]string{
		"ADDR":             "127.0.0.1:0",
		"SHOP_SQLITE_PATH": filepath.Join(t.TempDir(), "shop.db"),
		"FLIP_SECRET_KEY":  "JDJ5JDEzJHNlY3JldA-do-not-print",
	}
	readyCalled := false
	var out syncBuffer
	err := run(t.Context(), func(k string) string { return env[k] }, &out, func(listening) { readyCalled = true })
	if !errors.Is(err, errNoCallbackToken) {
		t.Fatalf("run = %v, want errNoCallbackToken", err)
	}
	if readyCalled {
		t.Error("run called ready although it refused to start")
	}
	if !strings.Contains(err.Error(), "FLIP_CALLBACK_TOKEN") {
		t.Errorf("error %q does not say which variable is missing", err)
	}
	if strings.Contains(err.Error()+out.String(), env["FLIP_SECRET_KEY"]) {
		t.Error("the secret key appears in the error or the output")
	}
}

func TestLoadConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		env     map[string]string
		wantErr string // substring; "" for success
		check   func(t *testing.T, c config)
	}{
		{
			name: "defaults: offline, SQLite shop.db, port 8080",
			env:  map[string]string{},
			check: func(t *testing.T, c config) {
				if c.addr != ":8080" || c.sqlitePath != "shop.db" || !c.offline() || c.postgres() || c.flipEnv != "sandbox" {
					t.Errorf("config = %+v", c)
				}
			},
		},
		{
			name: "PostgreSQL and real Flip production",
			env: map[string]string{
				"DATABASE_URL": "postgres://shop:db-password@db:5432/shop", "FLIP_SECRET_KEY": "secret-key-123", "FLIP_CALLBACK_TOKEN": "token-456",
				"FLIP_PREVIOUS_CALLBACK_TOKEN": "token-123", "FLIP_ENV": "production", "FLIP_BASE_URL": "https://flip.example/api",
			},
			check: func(t *testing.T, c config) {
				if !c.postgres() || c.offline() || c.flipEnv != "production" || c.flipBaseURL != "https://flip.example/api" ||
					c.callbackToken != "token-456" || c.previousCallbackToken != "token-123" {
					t.Errorf("config = %+v", c)
				}
				for _, secret := range []string{"db-password", "secret-key-123", "token-456", "token-123"} {
					if strings.Contains(c.String(), secret) {
						t.Errorf("String() = %q leaks %s", c.String(), secret)
					}
				}
			},
		},
		{
			name: "Midtrans offline: the fake with the given key, notifications on /midtrans/notification",
			env:  map[string]string{"PAYMENT_PROVIDER": "midtrans", "MIDTRANSTEST_SERVER_KEY": "fake-key"},
			check: func(t *testing.T, c config) {
				if !c.midtrans() || !c.offline() || c.midtransFakeKey != "fake-key" || c.callbackPath() != "/midtrans/notification" || c.midtransEnv != "sandbox" {
					t.Errorf("config = %+v", c)
				}
				if !strings.Contains(c.String(), "offline fake Midtrans") {
					t.Errorf("String() = %q, want it to say the offline fake Midtrans", c.String())
				}
			},
		},
		{
			name: "real Midtrans production, provider name in any case",
			env: map[string]string{
				"PAYMENT_PROVIDER": "Midtrans", "MIDTRANS_SERVER_KEY": "Mid-server-secret-789",
				"MIDTRANS_CLIENT_KEY": "Mid-client-secret-012", "MIDTRANS_ENV": "production",
			},
			check: func(t *testing.T, c config) {
				if !c.midtrans() || c.offline() || c.midtransEnv != "production" || c.midtransClientKey != "Mid-client-secret-012" {
					t.Errorf("config = %+v", c)
				}
				if !strings.Contains(c.String(), "Midtrans production") {
					t.Errorf("String() = %q, want it to say Midtrans production", c.String())
				}
				for _, secret := range []string{"Mid-server-secret-789", "Mid-client-secret-012"} {
					if strings.Contains(c.String(), secret) {
						t.Errorf("String() = %q leaks %s", c.String(), secret)
					}
				}
			},
		},
		{
			name: "real Midtrans at a stand-in's base URL",
			env: map[string]string{
				"PAYMENT_PROVIDER": "midtrans", "MIDTRANS_SERVER_KEY": "fakemidtrans-key-345", "MIDTRANS_BASE_URL": "http://localhost:9091",
			},
			check: func(t *testing.T, c config) {
				if !c.midtrans() || c.offline() || c.midtransEnv != "sandbox" || c.midtransBaseURL != "http://localhost:9091" {
					t.Errorf("config = %+v", c)
				}
				if strings.Contains(c.String(), "fakemidtrans-key-345") {
					t.Errorf("String() = %q leaks the server key", c.String())
				}
			},
		},
		{
			name: "Flip by default, Flip's callback path",
			env:  map[string]string{"PAYMENT_PROVIDER": "flip"},
			check: func(t *testing.T, c config) {
				if c.midtrans() || c.paymentProvider != "flip" || c.callbackPath() != "/flip/callback" {
					t.Errorf("config = %+v", c)
				}
			},
		},
		{name: "unknown provider", env: map[string]string{"PAYMENT_PROVIDER": "stripe"}, wantErr: "PAYMENT_PROVIDER"},
		{name: "unknown Midtrans environment", env: map[string]string{"PAYMENT_PROVIDER": "midtrans", "MIDTRANS_ENV": "staging"}, wantErr: "MIDTRANS_ENV"},
		{name: "Midtrans production without a server key", env: map[string]string{"PAYMENT_PROVIDER": "midtrans", "MIDTRANS_ENV": "production"}, wantErr: "MIDTRANS_SERVER_KEY"},
		{name: "Midtrans client key without a server key", env: map[string]string{"PAYMENT_PROVIDER": "midtrans", "MIDTRANS_CLIENT_KEY": "c"}, wantErr: "MIDTRANS_SERVER_KEY"},
		{name: "Midtrans sandbox key in production", env: map[string]string{"PAYMENT_PROVIDER": "midtrans", "MIDTRANS_SERVER_KEY": "SB-Mid-server-x", "MIDTRANS_ENV": "production"}, wantErr: "sandbox key"},
		{name: "Midtrans key while Flip is chosen", env: map[string]string{"MIDTRANS_SERVER_KEY": "k"}, wantErr: "PAYMENT_PROVIDER=midtrans"},
		{name: "Flip key while Midtrans is chosen", env: map[string]string{"PAYMENT_PROVIDER": "midtrans", "FLIP_SECRET_KEY": "k"}, wantErr: "FLIP_SECRET_KEY"},
		{name: "Flip production without a secret key", env: map[string]string{"FLIP_ENV": "production"}, wantErr: "FLIP_SECRET_KEY"},
		{name: "Flip base URL without a secret key", env: map[string]string{"FLIP_BASE_URL": "https://bigflip.id/api"}, wantErr: "FLIP_SECRET_KEY"},
		{name: "Flip production while Midtrans is chosen", env: map[string]string{"PAYMENT_PROVIDER": "midtrans", "MIDTRANS_SERVER_KEY": "Mid-server-k", "MIDTRANS_ENV": "production", "FLIP_ENV": "production"}, wantErr: "MIDTRANS_ENV=production"},
		{name: "real key without token", env: map[string]string{"FLIP_SECRET_KEY": "k"}, wantErr: "FLIP_CALLBACK_TOKEN"},
		{name: "unknown environment", env: map[string]string{"FLIP_ENV": "staging"}, wantErr: "FLIP_ENV"},
		{name: "non-postgres DATABASE_URL", env: map[string]string{"DATABASE_URL": "mysql://x"}, wantErr: "DATABASE_URL"},
		{name: "relative public URL", env: map[string]string{"SHOP_PUBLIC_URL": "shop.example"}, wantErr: "SHOP_PUBLIC_URL"},
		{name: "bad Flip base URL", env: map[string]string{"FLIP_BASE_URL": "bigflip.id/api"}, wantErr: "FLIP_BASE_URL"},
		{name: "Midtrans base URL without a server key", env: map[string]string{"PAYMENT_PROVIDER": "midtrans", "MIDTRANS_BASE_URL": "http://localhost:9091"}, wantErr: "MIDTRANS_SERVER_KEY"},
		{name: "Midtrans production at a base URL without a server key", env: map[string]string{"PAYMENT_PROVIDER": "midtrans", "MIDTRANS_ENV": "production", "MIDTRANS_BASE_URL": "https://api.midtrans.example"}, wantErr: "MIDTRANS_SERVER_KEY"},
		{name: "bad Midtrans base URL", env: map[string]string{"PAYMENT_PROVIDER": "midtrans", "MIDTRANS_SERVER_KEY": "k", "MIDTRANS_BASE_URL": "localhost:9091"}, wantErr: "MIDTRANS_BASE_URL"},
		{name: "Midtrans base URL with credentials", env: map[string]string{"PAYMENT_PROVIDER": "midtrans", "MIDTRANS_SERVER_KEY": "k", "MIDTRANS_BASE_URL": "http://user:pw@localhost:9091"}, wantErr: "without credentials"},
		{name: "Midtrans base URL while Flip is chosen", env: map[string]string{"MIDTRANS_BASE_URL": "http://localhost:9091"}, wantErr: "MIDTRANS_BASE_URL is set but PAYMENT_PROVIDER is flip"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := loadConfig(func(k string) string { return tc.env[k] })
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("loadConfig = %v, want an error naming %s", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, c)
		})
	}
}

// TestShutdownLosesNoCallback stops the shop right after it acknowledged a
// payment callback, before its hook may have run, and starts it again on
// the same database: the order ends PAID with exactly one receipt, whether
// the hook ran before the shutdown or after the restart.
func TestShutdownLosesNoCallback(t *testing.T) {
	t.Parallel()
	env := shopEnv(t.TempDir())
	first := startShop(t, env)
	o := first.createOrder(coffee())
	paymentID := first.simulate(o, "pay")
	first.waitAcknowledged(fakeURL(t, o), paymentID, 1)
	if err := first.stop(); err != nil {
		t.Fatalf("graceful shutdown: run returned %v", err)
	}
	if res, err := first.client.Get(first.base + "/"); err == nil {
		res.Body.Close()
		t.Fatalf("the stopped shop still answers: %s", res.Status)
	}

	second := startShop(t, env)
	got := second.waitOrder(o.ID, "PAID", func(o orderView) bool { return o.Status == OrderPaid && o.ReceiptsSent > 0 })
	if got.ReceiptsSent != 1 {
		t.Fatalf("receipts_sent = %d across a restart, want 1", got.ReceiptsSent)
	}

	// The restarted shop (with a fresh fake Flip) takes new orders whose
	// links do not collide with the first run's.
	next := second.createOrder(coffee())
	if next.ID == o.ID || next.Payment.LinkID == o.Payment.LinkID {
		t.Fatalf("the order after the restart reuses id %d or link %s", next.ID, next.Payment.LinkID)
	}
	second.simulate(next, "pay")
	second.waitOrder(next.ID, "PAID", func(o orderView) bool { return o.Status == OrderPaid && o.ReceiptsSent == 1 })
	if first := second.getOrder(o.ID); first.Status != OrderPaid || first.ReceiptsSent != 1 || first.Payment != o.Payment {
		t.Fatalf("the first order changed after the restart: %+v", first)
	}
}
