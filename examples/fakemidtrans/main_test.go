package main

import (
	"context"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/paylinkgo/paylink/examples/internal/runtest"
)

const (
	testKey = "fakemidtrans-test-key-0123456789"
	timeout = 30 * time.Second
)

// start runs the program in-process on 127.0.0.1:0 and returns its base
// URL; the cleanup cancels it and checks that it stopped cleanly.
func start(t *testing.T, env map[string]string) (string, *runtest.Buffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out := &runtest.Buffer{}
	addr := make(chan string, 1)
	done := make(chan error, 1)
	env["ADDR"] = "127.0.0.1:0"
	go func() {
		done <- run(ctx, func(k string) string { return env[k] }, out, func(a string) { addr <- a })
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("run: %v", err)
			}
		case <-time.After(timeout):
			t.Error("run did not return after cancel")
		}
		if !strings.Contains(out.String(), "shutting down") {
			t.Errorf("no shutdown message in %q", out.String())
		}
	})
	select {
	case a := <-addr:
		return "http://" + a, out
	case err := <-done:
		t.Fatalf("run ended early: %v", err)
	case <-time.After(timeout):
		t.Fatal("the fake did not start")
	}
	return "", nil
}

// call sends a request with the server key as Basic user (none when key
// is empty) and does not follow redirects.
func call(t *testing.T, base, key, method, path, body string) (*http.Response, []byte) {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, base+path, r)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "application/json")
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(key+":")))
	}
	client := &http.Client{Timeout: timeout, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

const createBody = `{"transaction_details":{"order_id":"ORDER-1","gross_amount":45000},
	"item_details":[{"id":"coffee","price":45000,"quantity":1,"name":"Coffee"}]}`

// snapCreate creates ORDER-1 and returns its token and redirect_url.
func snapCreate(t *testing.T, base, key string) (token, redirect string) {
	t.Helper()
	resp, body := call(t, base, key, "POST", "/snap/v1/transactions", createBody)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("Snap create: %d %s", resp.StatusCode, body)
	}
	var got struct {
		Token       string `json:"token"`
		RedirectURL string `json:"redirect_url"`
	}
	if err := json.Unmarshal(body, &got); err != nil || got.Token == "" {
		t.Fatalf("Snap create answered %s (%v)", body, err)
	}
	return got.Token, got.RedirectURL
}

func TestSnapCreate_WithTheConfiguredKey(t *testing.T) {
	t.Parallel()
	base, out := start(t, map[string]string{"MIDTRANSTEST_SERVER_KEY": testKey})
	if !strings.Contains(out.String(), "fake Midtrans listening on "+base) {
		t.Errorf("output %q does not name the base URL %s", out.String(), base)
	}
	if strings.Contains(out.String(), testKey) {
		t.Errorf("output %q prints the configured server key", out.String())
	}

	token, redirect := snapCreate(t, base, testKey)
	// The page is reached through ADDR, not the fake's own port.
	if redirect != base+"/snap/v2/vtweb/"+token {
		t.Errorf("redirect_url = %q, want %q", redirect, base+"/snap/v2/vtweb/"+token)
	}

	t.Run("the hosted page", func(t *testing.T) {
		resp, body := call(t, base, "", "GET", "/snap/v2/vtweb/"+token, "")
		if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Header.Get("Content-Type"), "text/html") ||
			!strings.Contains(string(body), "ORDER-1") || !strings.Contains(string(body), `action="/snap/v2/vtweb/`+token+`/pay"`) {
			t.Errorf("page: %d %s\n%s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
		}
	})

	t.Run("the order id is taken", func(t *testing.T) {
		resp, body := call(t, base, testKey, "POST", "/snap/v1/transactions", createBody)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "has already been taken") {
			t.Errorf("%d %s", resp.StatusCode, body)
		}
	})
}

func TestWrongKey_IsRefused(t *testing.T) {
	t.Parallel()
	base, _ := start(t, map[string]string{"MIDTRANSTEST_SERVER_KEY": testKey})
	for _, key := range []string{"", "wrong-key"} {
		resp, body := call(t, base, key, "POST", "/snap/v1/transactions", createBody)
		if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(string(body), `"error_messages"`) {
			t.Errorf("Snap create with key %q: %d %s", key, resp.StatusCode, body)
		}
		resp, body = call(t, base, key, "GET", "/v2/ORDER-1/status", "")
		if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(string(body), `"status_code":"401"`) {
			t.Errorf("status with key %q: %d %s", key, resp.StatusCode, body)
		}
	}
}

func TestRandomKey_IsPrintedAndWorks(t *testing.T) {
	t.Parallel()
	base, out := start(t, map[string]string{})
	_, rest, ok := strings.Cut(out.String(), "server key: ")
	key, _, _ := strings.Cut(rest, " ")
	if !ok || !strings.HasPrefix(key, randomKeyPrefix) || len(key) < len(randomKeyPrefix)+20 {
		t.Fatalf("no random key in %q", out.String())
	}
	snapCreate(t, base, key)
}

// notification is one notification as the app's endpoint receives it.
type notification struct {
	OrderID           string `json:"order_id"`
	StatusCode        string `json:"status_code"`
	GrossAmount       string `json:"gross_amount"`
	SignatureKey      string `json:"signature_key"`
	TransactionStatus string `json:"transaction_status"`
}

func TestPagePay_SendsSignedNotifications(t *testing.T) {
	t.Parallel()
	got := make(chan notification, 8)
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var n notification
		if err := json.NewDecoder(r.Body).Decode(&n); err != nil {
			t.Errorf("notification: %v", err)
		}
		got <- n
	}))
	defer app.Close()
	base, out := start(t, map[string]string{
		"MIDTRANSTEST_SERVER_KEY":   testKey,
		"MIDTRANS_NOTIFICATION_URL": app.URL + "/midtrans/notification",
	})
	if !strings.Contains(out.String(), "notifications: POST "+app.URL+"/midtrans/notification") {
		t.Errorf("output %q does not name the notification URL", out.String())
	}
	token, _ := snapCreate(t, base, testKey)

	// The page's Pay button, as a browser submits it.
	resp, body := call(t, base, "", "POST", "/snap/v2/vtweb/"+token+"/pay", "")
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("pay: %d %s", resp.StatusCode, body)
	}
	if loc := resp.Header.Get("Location"); loc != "/snap/v2/vtweb/"+token {
		t.Errorf("pay sent the customer to %q", loc)
	}

	for _, want := range []string{"pending", "settlement"} {
		select {
		case n := <-got:
			sum := sha512.Sum512([]byte(n.OrderID + n.StatusCode + n.GrossAmount + testKey))
			if n.OrderID != "ORDER-1" || n.TransactionStatus != want || n.SignatureKey != hex.EncodeToString(sum[:]) {
				t.Errorf("notification = %+v, want a signed %s of ORDER-1", n, want)
			}
		case <-time.After(timeout):
			t.Fatalf("no %s notification", want)
		}
	}
}

func TestRun_StopsServingOnCancel(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	env := map[string]string{"ADDR": "127.0.0.1:0", "MIDTRANSTEST_SERVER_KEY": testKey}
	addr := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, func(k string) string { return env[k] }, io.Discard, func(a string) { addr <- a })
	}()
	a := <-addr
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run: %v", err)
		}
	case <-time.After(timeout):
		t.Fatal("run did not return after cancel")
	}
	if c, err := net.DialTimeout("tcp", a, time.Second); err == nil {
		c.Close()
		t.Errorf("%s still accepts connections after shutdown", a)
	}
}

func TestRun_RefusesABadNotificationURL(t *testing.T) {
	t.Parallel()
	env := map[string]string{"ADDR": "127.0.0.1:0", "MIDTRANS_NOTIFICATION_URL": "localhost:8080/notify"}
	err := run(t.Context(), func(k string) string { return env[k] }, io.Discard, nil)
	if err == nil || !strings.Contains(err.Error(), "MIDTRANS_NOTIFICATION_URL") {
		t.Errorf("err = %v", err)
	}
}

func TestExpiry_APendingPaymentExpiresOnTheWallClockWithItsNotification(t *testing.T) {
	t.Parallel()
	got := make(chan notification, 8)
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var n notification
		_ = json.NewDecoder(r.Body).Decode(&n)
		got <- n
	}))
	defer app.Close()
	base, out := start(t, map[string]string{
		"MIDTRANSTEST_SERVER_KEY":   testKey,
		"MIDTRANS_NOTIFICATION_URL": app.URL,
		"MIDTRANSTEST_EXPIRY":       "1s",
	})
	if !strings.Contains(out.String(), "expiry: pending payments after 1s") {
		t.Errorf("output %q does not say expiry is on", out.String())
	}
	token, _ := snapCreate(t, base, testKey)
	// The customer picks a virtual account and never pays.
	if resp, body := call(t, base, "", "POST", "/snap/v2/vtweb/"+token+"/choose", ""); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("choose: %d %s", resp.StatusCode, body)
	}
	for _, want := range []string{"pending", "expire"} {
		select {
		case n := <-got:
			if n.TransactionStatus != want {
				t.Errorf("notification %+v, want %s", n, want)
			}
		case <-time.After(timeout):
			t.Fatalf("no %s notification", want)
		}
	}
}

func TestModes_AreReadFromTheEnvironment(t *testing.T) {
	t.Parallel()
	cfg, err := loadConfig(func(k string) string {
		return map[string]string{"MIDTRANSTEST_EXPIRY": "24h", "MIDTRANSTEST_CANCEL_CHALLENGES": "true", "MIDTRANSTEST_REFUND_LIMITS": "1"}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	o := cfg.options()
	if !o.ExpireOnClock || o.PendingExpiry != 24*time.Hour || !o.CancelUnapprovedChallenges || !o.RefundLimits {
		t.Errorf("options = %+v", o)
	}
	cfg, _ = loadConfig(func(string) string { return "" })
	if o := cfg.options(); o.ExpireOnClock || o.CancelUnapprovedChallenges || o.RefundLimits {
		t.Errorf("modes on by default: %+v", o)
	}
	for k, v := range map[string]string{"MIDTRANSTEST_EXPIRY": "soon", "MIDTRANSTEST_REFUND_LIMITS": "maybe"} {
		if _, err := loadConfig(func(name string) string {
			if name == k {
				return v
			}
			return ""
		}); err == nil || !strings.Contains(err.Error(), k) {
			t.Errorf("%s=%s: err = %v", k, v, err)
		}
	}
}
