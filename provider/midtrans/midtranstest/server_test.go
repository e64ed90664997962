package midtranstest_test

import (
	"bytes"
	"context"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paylinkgo/paylink/provider/midtrans/midtranstest"
)

const key = "SB-Mid-server-fake"

// app records the notifications it gets and answers with the statuses
// queued in replies (then 200).
type app struct {
	mu      sync.Mutex
	bodies  []map[string]any
	headers []http.Header
	replies []int
	srv     *httptest.Server
}

func newApp(t *testing.T, replies ...int) *app {
	a := &app{replies: replies}
	a.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var m map[string]any
		_ = json.Unmarshal(b, &m)
		a.mu.Lock()
		a.bodies = append(a.bodies, m)
		a.headers = append(a.headers, r.Header.Clone())
		status := 200
		if len(a.replies) > 0 {
			status, a.replies = a.replies[0], a.replies[1:]
		}
		a.mu.Unlock()
		w.WriteHeader(status)
	}))
	t.Cleanup(a.srv.Close)
	return a
}

func (a *app) got() []map[string]any {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]map[string]any(nil), a.bodies...)
}

func newFake(t *testing.T, notify string) *midtranstest.Server {
	s := midtranstest.NewServer(midtranstest.Options{ServerKey: key, NotificationURL: notify,
		RetryDelays: []time.Duration{time.Millisecond, time.Millisecond, time.Millisecond, time.Millisecond, time.Millisecond}})
	t.Cleanup(s.Close)
	return s
}

func call(t *testing.T, s *midtranstest.Server, method, path, auth, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, s.URL+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if auth != "" {
		req.SetBasicAuth(auth, "")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, m
}

func TestSnapCreateValidatesAsMidtrans(t *testing.T) {
	s := newFake(t, "")
	for _, c := range []struct {
		name, body string
		status     int
		msg        string
	}{
		{"no order id", `{"transaction_details":{"gross_amount":10000}}`, 400, "transaction_details.order_id is required"},
		{"no amount", `{"transaction_details":{"order_id":"a-1"}}`, 400, "transaction_details.gross_amount is required"},
		{"string amount", `{"transaction_details":{"order_id":"a-1","gross_amount":"x"}}`, 400, "transaction_details.gross_amount is not a number"},
		{"decimal amount", `{"transaction_details":{"order_id":"a-1","gross_amount":100.5}}`, 400, "transaction_details.gross_amount is not a number"},
		{"items differ", `{"transaction_details":{"order_id":"a-1","gross_amount":10000},"item_details":[{"name":"x","price":5000,"quantity":1}]}`, 400,
			"transaction_details.gross_amount is not equal to the sum of item_details"},
		{"ok", `{"transaction_details":{"order_id":"a-1","gross_amount":10000},"item_details":[{"name":"x","price":5000,"quantity":2}]}`, 201, ""},
		{"taken", `{"transaction_details":{"order_id":"a-1","gross_amount":10000}}`, 400, "transaction_details.order_id has already been taken"},
	} {
		status, m := call(t, s, "POST", "/snap/v1/transactions", key, c.body)
		if status != c.status {
			t.Errorf("%s: status %d, want %d (%v)", c.name, status, c.status, m)
			continue
		}
		if c.msg != "" {
			msgs, _ := m["error_messages"].([]any)
			if len(msgs) == 0 || msgs[0] != c.msg {
				t.Errorf("%s: error_messages %v, want %q", c.name, msgs, c.msg)
			}
		} else if !strings.HasPrefix(m["redirect_url"].(string), s.URL+"/snap/v2/vtweb/") || m["token"] == "" {
			t.Errorf("%s: %v", c.name, m)
		}
	}
	status, m := call(t, s, "POST", "/snap/v1/transactions", "wrong", `{}`)
	if msgs, _ := m["error_messages"].([]any); status != 401 || len(msgs) != 2 {
		t.Errorf("wrong key: %d %v", status, m)
	}
	status, m = call(t, s, "GET", "/v2/a-1/status", "wrong", ``)
	if status != 401 || m["status_code"] != "401" {
		t.Errorf("core wrong key: %d %v", status, m)
	}
}

func TestStatusAPIAndLifecycle(t *testing.T) {
	a := newApp(t)
	s := newFake(t, a.srv.URL)
	ctx := t.Context()
	call(t, s, "POST", "/snap/v1/transactions", key, `{"transaction_details":{"order_id":"b-1","gross_amount":25000}}`)
	status, m := call(t, s, "GET", "/v2/b-1/status", key, ``)
	if status != 200 || m["status_code"] != "404" || m["status_message"] != "Transaction doesn't exist." {
		t.Fatalf("status before a method is picked: %d %v", status, m)
	}
	tx, err := s.Choose(ctx, "b-1", midtranstest.Method{})
	if err != nil {
		t.Fatal(err)
	}
	_, m = call(t, s, "GET", "/v2/"+tx.TransactionID+"/status", key, ``)
	if m["status_code"] != "201" || m["transaction_status"] != "pending" || m["gross_amount"] != "25000.00" || m["order_id"] != "b-1" {
		t.Fatalf("pending by transaction id: %v", m)
	}
	sum := sha512.Sum512([]byte("b-1" + "201" + "25000.00" + key))
	if m["signature_key"] != hex.EncodeToString(sum[:]) {
		t.Fatalf("signature_key %v", m["signature_key"])
	}
	_, m = call(t, s, "POST", "/v2/b-1/expire", key, ``)
	if m["status_code"] != "407" || m["transaction_status"] != "expire" {
		t.Fatalf("expire: %v", m)
	}
	_, m = call(t, s, "POST", "/v2/b-1/cancel", key, ``)
	if m["status_code"] != "412" {
		t.Fatalf("cancel after expire: %v", m)
	}
	if err := s.WaitDeliveries(ctx, 2); err != nil {
		t.Fatal(err)
	}
	got := a.got()
	if got[0]["transaction_status"] != "pending" || got[0]["status_code"] != "201" ||
		got[1]["transaction_status"] != "expire" || got[1]["status_code"] != "202" {
		t.Fatalf("notifications: %v", got)
	}
	if ua := a.headers[0].Get("User-Agent"); ua != "Veritrans" {
		t.Errorf("User-Agent %q", ua)
	}

	// Refunds: a card payment, partially then fully.
	call(t, s, "POST", "/snap/v1/transactions", key, `{"transaction_details":{"order_id":"c-1","gross_amount":10000}}`)
	if _, err := s.Pay(ctx, "c-1", midtranstest.PayOptions{Method: midtranstest.Method{PaymentType: "credit_card"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Settle(ctx, "c-1"); err != nil {
		t.Fatal(err)
	}
	_, m = call(t, s, "POST", "/v2/c-1/refund", key, `{"refund_key":"r1","amount":4000}`)
	if m["transaction_status"] != "partial_refund" || m["refund_amount"] != "4000.00" {
		t.Fatalf("partial refund: %v", m)
	}
	_, m = call(t, s, "POST", "/v2/c-1/refund", key, `{"refund_key":"r1","amount":1000}`)
	if m["status_code"] != "406" {
		t.Fatalf("duplicate refund key: %v", m)
	}
	_, m = call(t, s, "POST", "/v2/c-1/refund", key, `{"amount":7000}`)
	if m["status_code"] != "414" {
		t.Fatalf("refund too large: %v", m)
	}
	// The refund answer's refund_amount is this refund's; the status
	// API's is cumulative.
	_, m = call(t, s, "POST", "/v2/c-1/refund", key, `{}`)
	if m["transaction_status"] != "refund" || m["refund_amount"] != "6000.00" || m["refunds"] != nil {
		t.Fatalf("full refund: %v", m)
	}
	if _, m = call(t, s, "GET", "/v2/c-1/status", key, ""); m["refund_amount"] != "10000.00" {
		t.Fatalf("status after the refunds: %v", m)
	}
	// A card captured today is not refunded: 412 (it must be cancelled).
	call(t, s, "POST", "/snap/v1/transactions", key, `{"transaction_details":{"order_id":"c-2","gross_amount":10000}}`)
	if _, err := s.Pay(ctx, "c-2", midtranstest.PayOptions{Method: midtranstest.Method{PaymentType: "credit_card"}}); err != nil {
		t.Fatal(err)
	}
	if _, m = call(t, s, "POST", "/v2/c-2/refund", key, `{}`); m["status_code"] != "412" {
		t.Fatalf("refund of a capture: %v", m)
	}
	// Opt-in refusals: the bank declines, the merchant's balance is short.
	s.Settle(ctx, "c-2")
	s.FailRefunds(midtranstest.RefundDeniedByBank, 1)
	if _, m = call(t, s, "POST", "/v2/c-2/refund", key, `{"amount":1000}`); m["status_code"] != "202" ||
		m["status_message"] != "Refund denied by the bank" || m["refund_amount"] != "0.00" || m["transaction_status"] != "settlement" {
		t.Fatalf("refund denied by the bank: %v", m)
	}
	s.FailRefunds(midtranstest.RefundInsufficientFunds, 1)
	if _, m = call(t, s, "POST", "/v2/c-2/refund", key, `{"refund_key":"k","amount":1000}`); m["status_code"] != "414" {
		t.Fatalf("insufficient funds: %v", m)
	}
	if _, m = call(t, s, "POST", "/v2/c-2/refund", key, `{"refund_key":"k","amount":1000}`); m["status_code"] != "200" {
		t.Fatalf("the same key after insufficient funds: %v", m)
	}
	// A VA payment cannot be refunded.
	call(t, s, "POST", "/snap/v1/transactions", key, `{"transaction_details":{"order_id":"d-1","gross_amount":10000}}`)
	s.Pay(ctx, "d-1", midtranstest.PayOptions{})
	if _, m = call(t, s, "POST", "/v2/d-1/refund", key, `{}`); m["status_code"] != "412" {
		t.Fatalf("VA refund: %v", m)
	}
}

func TestNotificationRetriesDuplicatesAndOrder(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	// 500 is retried once, 503 four times, 404 twice, 302 never.
	for _, c := range []struct {
		reply    int
		attempts int
	}{{500, 2}, {503, 5}, {404, 3}, {302, 1}, {418, 6}} {
		replies := make([]int, 10)
		for i := range replies {
			replies[i] = c.reply
		}
		a := newApp(t, replies...)
		s := newFake(t, a.srv.URL)
		call(t, s, "POST", "/snap/v1/transactions", key, `{"transaction_details":{"order_id":"e-1","gross_amount":10000}}`)
		if _, err := s.Choose(ctx, "e-1", midtranstest.Method{}); err != nil {
			t.Fatal(err)
		}
		if err := s.WaitDeliveries(ctx, c.attempts); err != nil {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
		if n := len(s.Deliveries()); n != c.attempts {
			t.Errorf("reply %d: %d attempts, want %d", c.reply, n, c.attempts)
		}
	}

	a := newApp(t)
	s := newFake(t, a.srv.URL)
	s.SetNotificationMode(midtranstest.NotificationMode{Hold: true, Duplicate: true})
	call(t, s, "POST", "/snap/v1/transactions", key, `{"transaction_details":{"order_id":"f-1","gross_amount":10000}}`)
	if _, err := s.Pay(ctx, "f-1", midtranstest.PayOptions{}); err != nil {
		t.Fatal(err)
	}
	if n := s.Release(midtranstest.Reversed); n != 4 {
		t.Fatalf("released %d, want 4", n)
	}
	if err := s.WaitDeliveries(ctx, 4); err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, d := range s.Deliveries() {
		order = append(order, d.TransactionStatus)
	}
	if order[0] != "settlement" && order[1] != "settlement" {
		t.Errorf("reversed release delivered %v", order)
	}
}

func TestOverrideNotificationAndHostedPage(t *testing.T) {
	dashboard, override := newApp(t), newApp(t)
	s := newFake(t, dashboard.srv.URL)
	req, _ := http.NewRequest("POST", s.URL+"/snap/v1/transactions",
		strings.NewReader(`{"transaction_details":{"order_id":"g-1","gross_amount":10000},"callbacks":{"finish":"https://shop.example.com/done"}}`))
	req.SetBasicAuth(key, "")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Override-Notification", override.srv.URL)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var created map[string]string
	json.NewDecoder(resp.Body).Decode(&created)
	resp.Body.Close()

	page, err := http.Get(created["redirect_url"])
	if err != nil {
		t.Fatal(err)
	}
	html, _ := io.ReadAll(page.Body)
	page.Body.Close()
	if !bytes.Contains(html, []byte("g-1")) || !bytes.Contains(html, []byte(`id="pay"`)) {
		t.Fatalf("page: %s", html)
	}
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err = noFollow.Post(created["redirect_url"]+"/pay", "application/x-www-form-urlencoded", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.Contains(loc, "transaction_status=settlement") || !strings.Contains(loc, "order_id=g-1") {
		t.Fatalf("finish redirect %d %q", resp.StatusCode, loc)
	}
	if err := s.WaitDeliveries(t.Context(), 2); err != nil {
		t.Fatal(err)
	}
	if len(dashboard.got()) != 0 || len(override.got()) != 2 {
		t.Fatalf("dashboard got %d, override %d", len(dashboard.got()), len(override.got()))
	}
}

func TestFaults(t *testing.T) {
	s := newFake(t, "")
	s.InjectFault(midtranstest.Fault{Status: 500})
	status, m := call(t, s, "POST", "/snap/v1/transactions", key, `{"transaction_details":{"order_id":"h-1","gross_amount":10000}}`)
	if status != 500 || m["locale"] != "en" {
		t.Fatalf("fault: %d %v", status, m)
	}
	status, _ = call(t, s, "POST", "/snap/v1/transactions", key, `{"transaction_details":{"order_id":"h-1","gross_amount":10000}}`)
	if status != 201 {
		t.Fatalf("after the fault: %d", status)
	}
}
