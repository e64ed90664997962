package main

import (
	"net/http"
	"strings"
	"testing"
)

// TestAdminListenerKeepsMetricsAndConsoleOffThePublicOne: with
// SHOP_ADMIN_ADDR, /metrics and the console are served there and are 404
// on the shop's public listener, which still serves the shop; the admin
// listener serves nothing of the shop's.
func TestAdminListenerKeepsMetricsAndConsoleOffThePublicOne(t *testing.T) {
	t.Parallel()
	env := consoleEnv(t.TempDir())
	env["SHOP_ADMIN_ADDR"] = "127.0.0.1:0"
	s := startShop(t, env)
	if s.admin == "" || s.admin == s.base {
		t.Fatalf("admin listener %q, public %q: want two listeners", s.admin, s.base)
	}
	status := func(base, path string, signIn bool) int {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, base+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if signIn {
			req.SetBasicAuth(consoleUser, consolePassword)
		}
		res, err := s.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}

	// The shop works on the public listener, and a payment is counted.
	o := s.createOrder(coffee())
	s.pay(o)()
	s.waitOrder(o.ID, "PAID with one receipt", func(o orderView) bool { return o.Status == OrderPaid && o.ReceiptsSent == 1 })

	for _, c := range []struct {
		base, path string
		signIn     bool
		want       int
	}{
		{s.base, "/metrics", false, http.StatusNotFound},
		{s.base, "/ops/", false, http.StatusNotFound},
		{s.base, "/ops/", true, http.StatusNotFound},
		{s.base, "/ops/hooks", true, http.StatusNotFound},
		{s.base, "/", false, http.StatusOK},
		{s.admin, "/metrics", false, http.StatusOK},
		{s.admin, "/ops/", false, http.StatusUnauthorized},
		{s.admin, "/ops/", true, http.StatusOK},
		{s.admin, "/ops/hooks", true, http.StatusOK},
		{s.admin, "/", false, http.StatusNotFound},
		{s.admin, "/orders/1", false, http.StatusNotFound},
	} {
		if got := status(c.base, c.path, c.signIn); got != c.want {
			listener := "public"
			if c.base == s.admin {
				listener = "admin"
			}
			t.Errorf("GET %s on the %s listener (signed in: %v) = %d, want %d", c.path, listener, c.signIn, got, c.want)
		}
	}
	if text := s.metrics(); !strings.Contains(text, "paylink_callbacks_total") {
		t.Errorf("the admin listener's /metrics has no paylink_callbacks_total:\n%.2000s", text)
	}
}

func TestAdminAddrMustBeAnotherAddress(t *testing.T) {
	t.Parallel()
	for _, env := range []map[string]string{
		{"SHOP_ADMIN_ADDR": "9090"},
		{"SHOP_ADMIN_ADDR": "http://127.0.0.1:9090"},
		{"ADDR": "127.0.0.1:8080", "SHOP_ADMIN_ADDR": "127.0.0.1:8080"},
	} {
		if _, err := loadConfig(func(k string) string { return env[k] }); err == nil || !strings.Contains(err.Error(), "SHOP_ADMIN_ADDR") {
			t.Errorf("loadConfig(%v) = %v, want an error naming SHOP_ADMIN_ADDR", env, err)
		}
	}
	c, err := loadConfig(func(k string) string { return map[string]string{"SHOP_ADMIN_ADDR": "127.0.0.1:9090"}[k] })
	if err != nil || c.adminAddr != "127.0.0.1:9090" || !strings.Contains(c.String(), "admin=127.0.0.1:9090") {
		t.Errorf("loadConfig with SHOP_ADMIN_ADDR=127.0.0.1:9090: %v, %v", c, err)
	}
}
