package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paylinkgo/paylink/provider/midtrans"
	"github.com/paylinkgo/paylink/provider/midtrans/midtranstest"
)

// testMidtransKey is the offline fake Midtrans's server key in these
// tests, so that they can sign notifications as Midtrans would.
const testMidtransKey = "SB-Mid-server-shop-test"

// midtransNotificationPath is where the shop takes Midtrans's
// notifications.
const midtransNotificationPath = "/midtrans/notification"

// midtransEnv is the environment of a shop on the offline fake Midtrans
// and a SQLite file in dir.
func midtransEnv(dir string) map[string]string {
	return map[string]string{
		"ADDR":                    "127.0.0.1:0",
		"SHOP_SQLITE_PATH":        filepath.Join(dir, "shop.db"),
		"PAYMENT_PROVIDER":        "midtrans",
		"MIDTRANSTEST_SERVER_KEY": testMidtransKey,
	}
}

// pressSnapButton presses a button (pay, deny, expire) of the fake
// Midtrans's hosted payment page for the order, as its customer would,
// and returns where Snap sends the customer afterwards.
func (s *testShop) pressSnapButton(o orderView, button string) *url.URL {
	s.t.Helper()
	browser := &http.Client{
		Timeout:       30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	res, err := browser.PostForm(o.Payment.LinkURL+"/"+button, nil)
	if err != nil {
		s.t.Fatalf("pressing %s on the Snap page: %v", button, err)
	}
	res.Body.Close()
	loc, err := res.Location()
	if res.StatusCode != http.StatusSeeOther || err != nil {
		s.t.Fatalf("pressing %s on the Snap page = %s (%v), want 303 back to the shop", button, res.Status, err)
	}
	return loc
}

// payOnSnapPage pays the order on the fake Midtrans's hosted page, checks
// that Snap sends the customer back to the order page, and returns a
// function that delivers the settlement notification once more, signed
// as Midtrans signs it, and checks that the shop acknowledged it.
func (s *testShop) payOnSnapPage(o orderView) (deliverAgain func()) {
	s.t.Helper()
	back := s.pressSnapButton(o, "pay")
	q := back.Query()
	if back.Path != fmt.Sprintf("/orders/%d/view", o.ID) || q.Get("order_id") != o.Payment.LinkID || q.Get("transaction_status") != "settlement" {
		s.t.Fatalf("after paying, Snap sends the customer to %s, want the page of order %d with its settlement", back, o.ID)
	}
	return func() {
		s.t.Helper()
		tx := s.midtransTransaction(o)
		if st := s.notifyMidtrans(*tx, testMidtransKey); st != http.StatusOK {
			s.t.Fatalf("the repeated %s notification was answered %d, want 200", tx.TransactionStatus, st)
		}
	}
}

// midtransTransaction reads the order's transaction from the fake
// Midtrans's status API.
func (s *testShop) midtransTransaction(o orderView) *midtrans.Transaction {
	s.t.Helper()
	c, err := midtrans.NewClient(testMidtransKey, midtrans.Options{BaseURL: fakeURL(s.t, o)})
	if err != nil {
		s.t.Fatal(err)
	}
	tx, err := c.GetStatus(s.t.Context(), o.Payment.LinkID)
	if err != nil {
		s.t.Fatalf("reading order %s from the fake Midtrans: %v", o.Payment.LinkID, err)
	}
	return tx
}

// notifyMidtrans POSTs tx to the shop's notification route as Midtrans
// does, signed with serverKey, and returns the answer's status.
func (s *testShop) notifyMidtrans(tx midtrans.Transaction, serverKey string) int {
	s.t.Helper()
	req, err := midtrans.NewNotificationRequest(s.t.Context(), s.base+midtransNotificationPath, serverKey, tx)
	if err != nil {
		s.t.Fatal(err)
	}
	res, err := s.client.Do(req)
	if err != nil {
		s.t.Fatalf("POST %s: %v", midtransNotificationPath, err)
	}
	res.Body.Close()
	return res.StatusCode
}

// settlementOf is a settlement notification for the order that Midtrans
// never sent.
func settlementOf(o orderView) midtrans.Transaction {
	return midtrans.Transaction{
		StatusCode: "200", OrderID: o.Payment.LinkID, GrossAmount: fmt.Sprintf("%d.00", o.Amount),
		TransactionID: "5e4a5d6c-0000-4000-8000-000000000001", PaymentType: "bank_transfer",
		TransactionStatus: "settlement", Currency: "IDR",
		TransactionTime: time.Now().UTC().Format(time.DateTime),
	}
}

func TestMidtransOrderIsPaidOnceOnSQLite(t *testing.T) {
	t.Parallel()
	s := startShop(t, midtransEnv(t.TempDir()))
	if !strings.Contains(s.logs.String(), "fake Midtrans") {
		t.Fatalf("the shop did not start on the fake Midtrans:\n%s", s.logs)
	}
	checkPaidOnce(t, s)
}

func TestMidtransOrderLinksToTheSnapPage(t *testing.T) {
	t.Parallel()
	s := startShop(t, midtransEnv(t.TempDir()))
	o := s.createOrder(coffee())
	if want := regexp.MustCompile(fmt.Sprintf(`^s[0-9a-f]{8}-order-%d$`, o.ID)); !want.MatchString(o.Payment.LinkID) {
		t.Errorf("link_id = %q, want the Midtrans order id <database prefix>order-%d", o.Payment.LinkID, o.ID)
	}
	if !strings.Contains(o.Payment.LinkURL, "/snap/v2/vtweb/") {
		t.Errorf("link_url = %q, want Snap's redirect URL", o.Payment.LinkURL)
	}
	res, err := s.client.Get(o.Payment.LinkURL)
	if err != nil {
		t.Fatal(err)
	}
	var page bytes.Buffer
	_, _ = page.ReadFrom(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.Contains(page.String(), o.Payment.LinkID) || !strings.Contains(page.String(), `id="pay"`) {
		t.Fatalf("GET link_url = %d, want the hosted payment page of %s with a pay button:\n%s", res.StatusCode, o.Payment.LinkID, page.String())
	}
}

func TestMidtransDeniedAndExpiredPaymentsUpdateTheOrder(t *testing.T) {
	t.Parallel()
	s := startShop(t, midtransEnv(t.TempDir()))
	for _, tc := range []struct {
		button string
		want   OrderStatus
	}{
		{"expire", OrderCancelled},
		{"deny", OrderFailed},
	} {
		o := s.createOrder(coffee())
		s.pressSnapButton(o, tc.button)
		got := s.waitOrder(o.ID, string(tc.want), func(o orderView) bool { return o.Status != OrderPending })
		if got.Status != tc.want || got.PaidAt != nil || got.ReceiptsSent != 0 {
			t.Errorf("after %s: status %s, paid_at %v, receipts %d; want %s, null, 0",
				tc.button, got.Status, got.PaidAt, got.ReceiptsSent, tc.want)
		}
	}
}

// TestMidtransRefusesForgedNotifications sends the shop settlements
// Midtrans never sent: signed with another key, or not signed at all. The
// shop refuses them and the order stays unpaid.
func TestMidtransRefusesForgedNotifications(t *testing.T) {
	t.Parallel()
	s := startShop(t, midtransEnv(t.TempDir()))
	o := s.createOrder(coffee())

	if st := s.notifyMidtrans(settlementOf(o), "SB-Mid-server-someone-else"); st != http.StatusUnauthorized {
		t.Errorf("a settlement signed with another key was answered %d, want 401", st)
	}
	unsigned := `{"order_id":"` + o.Payment.LinkID + `","status_code":"200","gross_amount":"45000.00","transaction_status":"settlement"}`
	res, err := s.client.Post(s.base+midtransNotificationPath, "application/json", strings.NewReader(unsigned))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized {
		t.Errorf("an unsigned settlement was answered %d, want 401", res.StatusCode)
	}
	if got := s.getOrder(o.ID); got.Status != OrderPending || got.ReceiptsSent != 0 {
		t.Fatalf("after forged settlements the order is %s with %d receipts, want PENDING and 0", got.Status, got.ReceiptsSent)
	}
}

// TestRealMidtransVerifiesNotifications starts the shop with a (made-up)
// Midtrans sandbox key: it needs no network to start, and its
// notification route refuses what that key did not sign.
func TestRealMidtransVerifiesNotifications(t *testing.T) {
	t.Parallel()
	env := map[string]string{
		"ADDR":                "127.0.0.1:0",
		"SHOP_SQLITE_PATH":    filepath.Join(t.TempDir(), "shop.db"),
		"PAYMENT_PROVIDER":    "midtrans",
		"MIDTRANS_SERVER_KEY": "SB-Mid-server-made-up-do-not-print",
		"MIDTRANS_CLIENT_KEY": "SB-Mid-client-made-up-do-not-print",
	}
	s := startShop(t, env)
	if !strings.Contains(s.logs.String(), "Midtrans sandbox") || !strings.Contains(s.logs.String(), midtransNotificationPath) {
		t.Errorf("the start banner does not say Midtrans sandbox and the notification URL:\n%s", s.logs)
	}
	forged := settlementOf(orderView{Amount: 45000, Payment: paymentView{LinkID: "order-1"}})
	if st := s.notifyMidtrans(forged, "SB-Mid-server-someone-else"); st != http.StatusUnauthorized {
		t.Errorf("a notification signed with another key was answered %d, want 401", st)
	}
	for _, secret := range []string{env["MIDTRANS_SERVER_KEY"], env["MIDTRANS_CLIENT_KEY"]} {
		if strings.Contains(s.logs.String(), secret) {
			t.Errorf("the shop's output contains the key %s", secret)
		}
	}
}

func TestRefusesToStart(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		env     map[string]string
		want    error
		mention string
	}{
		{"unknown provider", map[string]string{"PAYMENT_PROVIDER": "paypal"}, errUnknownProvider, "PAYMENT_PROVIDER"},
		{"Midtrans production without a server key",
			map[string]string{"PAYMENT_PROVIDER": "midtrans", "MIDTRANS_ENV": "production"}, errNoServerKey, "MIDTRANS_SERVER_KEY"},
		{"a Midtrans client key without a server key",
			map[string]string{"PAYMENT_PROVIDER": "midtrans", "MIDTRANS_CLIENT_KEY": "SB-Mid-client-x"}, errNoServerKey, "MIDTRANS_SERVER_KEY"},
		// Flip production without a key would run the offline fake, whose
		// unauthenticated pay route marks orders PAID.
		{"Flip production without a secret key",
			map[string]string{"FLIP_ENV": "production", "FLIP_CALLBACK_TOKEN": "token"}, errNoSecretKey, "FLIP_SECRET_KEY"},
		{"Flip production without a secret key, PAYMENT_PROVIDER=flip",
			map[string]string{"PAYMENT_PROVIDER": "flip", "FLIP_ENV": "production"}, errNoSecretKey, "FLIP_SECRET_KEY"},
		{"a Flip API base without a secret key",
			map[string]string{"FLIP_BASE_URL": "https://bigflip.id/api"}, errNoSecretKey, "FLIP_SECRET_KEY"},
		// Without the key the shop would not reach the Midtrans at
		// MIDTRANS_BASE_URL but run the offline fake.
		{"a Midtrans API base without a server key",
			map[string]string{"PAYMENT_PROVIDER": "midtrans", "MIDTRANS_BASE_URL": "http://127.0.0.1:9091"}, errNoServerKey, "MIDTRANS_SERVER_KEY"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.env["ADDR"] = "127.0.0.1:0"
			tc.env["SHOP_SQLITE_PATH"] = filepath.Join(t.TempDir(), "shop.db")
			readyCalled := false
			var out syncBuffer
			ctx, cancel := context.WithTimeout(t.Context(), waitTimeout)
			defer cancel()
			err := run(ctx, func(k string) string { return tc.env[k] }, &out, func(listening) { readyCalled = true })
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.mention) {
				t.Fatalf("run = %v, want %v naming %s", err, tc.want, tc.mention)
			}
			if readyCalled {
				t.Error("run called ready although it refused to start")
			}
		})
	}
}

// TestMidtransOrderIDsSurviveADatabaseReset: Midtrans refuses an order id
// its account has seen, forever. Each shop database sends its order ids
// under a prefix of its own, kept across restarts, so a reset database
// (order 1 again) never reuses an order id an earlier one sent.
func TestMidtransOrderIDsSurviveADatabaseReset(t *testing.T) {
	t.Parallel()
	linkOfFirstOrder := func(dir string) string {
		s := startShop(t, midtransEnv(dir))
		defer s.stop()
		return s.createOrder(coffee()).Payment.LinkID
	}
	dir := t.TempDir()
	first := linkOfFirstOrder(dir)
	prefix, _, ok := strings.Cut(first, "order-")
	if !ok || prefix == "" {
		t.Fatalf("first order's Midtrans order id = %q, want <database prefix>order-<id>", first)
	}
	if again := linkOfFirstOrder(dir); !strings.HasPrefix(again, prefix) || again == first {
		t.Errorf("after a restart on the same database the next order id is %q, want a new order under %q", again, prefix)
	}
	if reset := linkOfFirstOrder(t.TempDir()); strings.HasPrefix(reset, prefix) {
		t.Errorf("a fresh database's first order id %q reuses the prefix %q of another database", reset, prefix)
	}
}

// TestMidtransBaseURL runs the shop on "real" Midtrans at
// MIDTRANS_BASE_URL, here a midtranstest server standing in for it as
// examples/fakemidtrans would: the shop creates the Snap page there,
// and the stand-in's signed settlement notification, sent to the
// dashboard URL, makes the order PAID.
func TestMidtransBaseURL(t *testing.T) {
	t.Parallel()
	const key = "SB-Mid-server-stand-in"
	// The stand-in's dashboard notification URL must exist before the
	// shop has an address: a relay forwards to the shop once it has.
	var shopNotifications atomic.Pointer[string]
	relay := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		to := shopNotifications.Load()
		if to == nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		req, err := http.NewRequestWithContext(r.Context(), r.Method, *to, r.Body)
		if err != nil {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		req.Header = r.Header.Clone()
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		res.Body.Close()
		w.WriteHeader(res.StatusCode)
	}))
	t.Cleanup(relay.Close)
	standIn := midtranstest.NewServer(midtranstest.Options{ServerKey: key, NotificationURL: relay.URL,
		RetryDelays: []time.Duration{10 * time.Millisecond, 10 * time.Millisecond}})
	t.Cleanup(standIn.Close)

	env := map[string]string{
		"ADDR":                "127.0.0.1:0",
		"SHOP_SQLITE_PATH":    filepath.Join(t.TempDir(), "shop.db"),
		"PAYMENT_PROVIDER":    "midtrans",
		"MIDTRANS_SERVER_KEY": key,
		"MIDTRANS_BASE_URL":   standIn.URL + "/",
	}
	s := startShop(t, env)
	notifyURL := s.base + midtransNotificationPath
	shopNotifications.Store(&notifyURL)
	if !strings.Contains(s.logs.String(), "Midtrans sandbox at "+standIn.URL) || strings.Contains(s.logs.String(), "fake Midtrans") {
		t.Errorf("the start banner does not name the Midtrans at MIDTRANS_BASE_URL:\n%s", s.logs)
	}
	o := s.createOrder(coffee())
	if token, ok := standIn.Token(o.Payment.LinkID); !ok || o.Payment.LinkURL != standIn.PageURL(token) {
		t.Fatalf("order's payment %+v, want the stand-in's Snap page", o.Payment)
	}
	if _, err := standIn.Pay(t.Context(), o.Payment.LinkID, midtranstest.PayOptions{}); err != nil {
		t.Fatal(err)
	}
	s.waitOrder(o.ID, "PAID", func(o orderView) bool { return o.Status == OrderPaid })
	if strings.Contains(s.logs.String(), key) {
		t.Error("the shop's output contains the server key")
	}
}
