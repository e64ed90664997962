package main

import (
	"context"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/paylinkgo/paylink/gormstore"
	"github.com/paylinkgo/paylink/provider"
)

const (
	consoleUser     = "ops-ana"
	consolePassword = "a console password"
)

// consoleEnv is an offline shop with the console on, whose hooks are
// attempted once before their run is FAILED.
func consoleEnv(dir string) map[string]string {
	env := shopEnv(dir)
	env["PAYLINK_CONSOLE_USER"] = consoleUser
	env["PAYLINK_CONSOLE_PASSWORD"] = consolePassword
	env["SHOP_HOOK_MAX_ATTEMPTS"] = "1"
	return env
}

func TestConsoleIsOffWithoutCredentials(t *testing.T) {
	s := startShop(t, shopEnv(t.TempDir()))
	for _, path := range []string{"/ops/", "/ops/hooks", "/ops/callbacks/1"} {
		if st := s.do(http.MethodGet, path, nil, nil); st != http.StatusNotFound {
			t.Errorf("GET %s without console credentials = %d, want 404", path, st)
		}
	}
}

func TestConsoleNeedsBothCredentials(t *testing.T) {
	for _, env := range []map[string]string{
		{"PAYLINK_CONSOLE_USER": "ana"},
		{"PAYLINK_CONSOLE_PASSWORD": "secret"},
		{"PAYLINK_CONSOLE_USER": "ana", "PAYLINK_CONSOLE_PASSWORD": "   "},
		{"PAYLINK_CONSOLE_USER": "a:na", "PAYLINK_CONSOLE_PASSWORD": "secret"},
		{"SHOP_HOOK_MAX_ATTEMPTS": "0"},
		{"SHOP_HOOK_MAX_ATTEMPTS": "ten"},
	} {
		_, err := loadConfig(func(k string) string { return env[k] })
		if err == nil {
			t.Errorf("loadConfig(%v) accepted it", env)
		}
		if p := env["PAYLINK_CONSOLE_PASSWORD"]; p != "" && strings.TrimSpace(p) != "" && err != nil && strings.Contains(err.Error(), p) {
			t.Errorf("the configuration error shows the password: %v", err)
		}
	}
	cfg, err := loadConfig(func(k string) string {
		return map[string]string{"PAYLINK_CONSOLE_USER": "ana", "PAYLINK_CONSOLE_PASSWORD": " pass word "}[k]
	})
	if err != nil || !cfg.console() || cfg.consolePassword != " pass word " || strings.Contains(cfg.String(), "pass word") {
		t.Fatalf("loadConfig with both credentials: %+v, %v; want the console on, the password as given and not in String()", cfg, err)
	}
}

func TestConsoleIsBehindBasicAuth(t *testing.T) {
	s := startShop(t, consoleEnv(t.TempDir()))
	get := func(path, user, password string) int {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, s.base+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if user != "" {
			req.SetBasicAuth(user, password)
		}
		res, err := s.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	for _, path := range []string{"/ops/", "/ops/hooks", "/ops/actions"} {
		if st := get(path, "", ""); st != http.StatusUnauthorized {
			t.Errorf("GET %s without credentials = %d, want 401", path, st)
		}
		if st := get(path, consoleUser, "wrong"); st != http.StatusUnauthorized {
			t.Errorf("GET %s with a wrong password = %d, want 401", path, st)
		}
		if st := get(path, consoleUser, consolePassword); st != http.StatusOK {
			t.Errorf("GET %s signed in = %d, want 200", path, st)
		}
	}
}

// TestBrowserOperatesTheConsole is an operator's morning in the console,
// in headless Chromium, on a shop that attempts hooks once:
//
//   - order A's callback arrived before its link was stored (the test
//     removes the link row while the fake Flip delivers it, then stores
//     the link again as the provider now shows it), so it was recorded
//     as unknown_link and the order stayed PENDING;
//   - order B was paid, but its order row was missing when the payment
//     hook ran (removed by the test, restored after), so the hook run
//     FAILED.
//
// The operator signs in (basic auth), filters the inbox to flagged
// callbacks, opens A's, reprocesses it and sees it applied and the
// payment SUCCESSFUL; then retries B's failed hook run and sees it
// succeed. Both orders end PAID with one receipt, and every action names
// the operator. Screenshots: console-inbox.png, console-payment.png,
// console-hook-retried.png.
func TestBrowserOperatesTheConsole(t *testing.T) {
	ctx, shotDir := startBrowser(t)
	env := consoleEnv(t.TempDir())
	s := startShop(t, env)
	db := openShopDB(t, env)
	store, err := gormstore.New(db, gormstore.Options{})
	if err != nil {
		t.Fatal(err)
	}

	// Order A: the callback comes before the link is stored.
	a := s.createOrder(coffee())
	var link gormstore.LinkRecord
	if err := db.Where("link_id = ?", a.Payment.LinkID).First(&link).Error; err != nil {
		t.Fatalf("reading order A's link: %v", err)
	}
	if err := db.Delete(&gormstore.LinkRecord{}, link.ID).Error; err != nil {
		t.Fatal(err)
	}
	payA := s.simulate(a, "pay")
	s.waitAcknowledged(fakeURL(t, a), payA, 1)
	// Flip shows a paid single-payment link as INACTIVE; stored so, the
	// reconciler (which visits ACTIVE links) leaves the callback to the
	// operator.
	link.Status = string(provider.LinkInactive)
	if err := db.Create(&link).Error; err != nil {
		t.Fatalf("storing order A's link again: %v", err)
	}
	if o := s.getOrder(a.ID); o.Status != OrderPending {
		t.Fatalf("order A is %s before the operator acts, want PENDING", o.Status)
	}

	// Order B: the payment hook runs while the order row is missing.
	b := s.createOrder(map[string]any{"title": "Tea 500 g", "amount": int64(30000),
		"customer": map[string]any{"name": "Sari", "email": "sari@example.com"}})
	var order Order
	if err := db.First(&order, b.ID).Error; err != nil {
		t.Fatal(err)
	}
	if err := db.Delete(&Order{}, b.ID).Error; err != nil {
		t.Fatal(err)
	}
	s.simulate(b, "pay")
	failed := waitFailedRun(t, store, b.Payment.LinkID)
	if err := db.Create(&order).Error; err != nil {
		t.Fatalf("restoring order B: %v", err)
	}

	// The operator signs in.
	auth := "Basic " + base64.StdEncoding.EncodeToString([]byte(consoleUser+":"+consolePassword))
	text := func(sel string) string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("reading %s: %v", sel, err)
		}
		return strings.TrimSpace(v)
	}
	signIn := chromedp.Func(func(ctx context.Context, tgt *chromedp.Target) error {
		if _, err := cdp.Call(ctx, tgt, network.Enable, network.EnableParams{}); err != nil {
			return err
		}
		_, err := cdp.Call(ctx, tgt, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{Headers: network.Headers{"Authorization": auth}})
		return err
	})
	err = chromedp.Do(ctx,
		signIn,
		chromedp.Navigate(s.base+"/ops/"),
		chromedp.WaitVisible(chromedp.ID("callbacks")),
	)
	if err != nil {
		t.Fatalf("opening the console: %v", err)
	}
	if who := text("#actor"); who != consoleUser {
		t.Fatalf("the console says it is %q, want %q", who, consoleUser)
	}

	// The inbox, flagged only: A's callback.
	// The unfiltered page lists A's flagged row too: wait for the page the
	// form loads, whose checkbox the server rendered checked.
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`input[name="flagged"]`)),
		chromedp.Click(chromedp.ID("filter")),
		chromedp.WaitVisible(chromedp.CSS(`input[name="flagged"][checked]`)),
		chromedp.WaitVisible(chromedp.CSS(`tr.flag`)),
	)
	if err != nil {
		t.Fatalf("filtering the inbox to flagged callbacks: %v", err)
	}
	if row := text("tr.flag"); !strings.Contains(row, payA) || !strings.Contains(row, "unknown_link") {
		t.Fatalf("the flagged inbox shows %q, want A's payment %s as unknown_link", row, payA)
	}
	if n := countRows(t, ctx, "#callbacks tr[data-callback]"); n != 1 {
		t.Fatalf("the flagged inbox lists %d callbacks, want only A's", n)
	}
	screenshot(t, ctx, shotDir, "console-inbox.png")

	// Open it and reprocess it.
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`tr.flag td:first-child a`)),
		chromedp.WaitVisible(chromedp.ID("reprocess")),
	)
	if err != nil {
		t.Fatalf("opening A's callback: %v", err)
	}
	if v := text("#verdict"); v != "unknown_link" {
		t.Fatalf("A's callback has verdict %q, want unknown_link", v)
	}
	if body := text("#body"); strings.Contains(body, "test-callback-token") || !strings.Contains(body, "data=") {
		t.Fatalf("the callback body shows the token or no data: %q", body)
	}
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.ID("reprocess")),
		chromedp.WaitVisible(chromedp.CSS(`#actions tr.done`)),
	)
	if err != nil {
		t.Fatalf("reprocessing A's callback: %v", err)
	}
	if done := text("#actions tr.done"); !strings.Contains(done, "applied, payment SUCCESSFUL") || !strings.Contains(done, consoleUser) {
		t.Fatalf("the reprocess action shows %q, want applied by %s", done, consoleUser)
	}

	// The payment page: SUCCESSFUL, with its history, callbacks and runs.
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.ID("payment-link")),
		chromedp.WaitVisible(chromedp.ID("history")),
	)
	if err != nil {
		t.Fatalf("opening A's payment: %v", err)
	}
	if st := text("#status"); !strings.HasPrefix(st, "SUCCESSFUL") {
		t.Fatalf("A's payment page shows status %q, want SUCCESSFUL", st)
	}
	if runs := text("table.runs"); !strings.Contains(runs, hookMarkPaid) {
		t.Fatalf("A's payment page lists hook runs %q, want %s", runs, hookMarkPaid)
	}
	screenshot(t, ctx, shotDir, "console-payment.png")
	s.waitOrder(a.ID, "PAID with one receipt", func(o orderView) bool { return o.Status == OrderPaid && o.ReceiptsSent == 1 })

	// The hook queue: B's failed run, with its last error; retry it.
	runSel := `tr[data-run="` + strconv.FormatInt(failed.ID, 10) + `"]`
	err = chromedp.Do(ctx,
		chromedp.Navigate(s.base+"/ops/hooks"),
		chromedp.WaitVisible(chromedp.CSS(runSel+`[data-state="failed"] button.retry`)),
	)
	if err != nil {
		t.Fatalf("finding B's failed hook run: %v", err)
	}
	if row := text(runSel); !strings.Contains(row, "no order for this payment link") {
		t.Fatalf("the failed run shows %q, want its last error", row)
	}
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(runSel+` button.retry`)),
		chromedp.WaitVisible(chromedp.CSS(`#actions tr.done`)),
	)
	if err != nil {
		t.Fatalf("retrying B's hook run: %v", err)
	}
	s.waitOrder(b.ID, "PAID with one receipt", func(o orderView) bool { return o.Status == OrderPaid && o.ReceiptsSent == 1 })
	err = chromedp.Do(ctx,
		chromedp.Navigate(s.base+"/ops/hooks?state=succeeded"),
		chromedp.WaitVisible(chromedp.CSS(runSel+`[data-state="succeeded"]`)),
	)
	if err != nil {
		t.Fatalf("seeing B's hook run succeeded: %v", err)
	}
	if done := text(`#actions tr:nth-child(2)`); !strings.Contains(done, consoleUser) || !strings.Contains(done, "queued again") {
		t.Fatalf("the latest retry shows %q, want it queued again by %s", done, consoleUser)
	}
	screenshot(t, ctx, shotDir, "console-hook-retried.png")

	// The action log names the operator of both actions.
	acts, err := store.ListActions(context.Background(), provider.ActionFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(acts) != 2 || acts[0].Kind != provider.ActionRetryHookRun || acts[1].Kind != provider.ActionReprocessCallback ||
		acts[0].Actor != consoleUser || acts[1].Actor != consoleUser || !acts[0].Succeeded() || !acts[1].Succeeded() {
		t.Fatalf("action log: %+v, want the reprocess and the retry, both by %s", acts, consoleUser)
	}
}

// waitFailedRun waits until the payment hook run of the link's payment is
// FAILED.
func waitFailedRun(t *testing.T, store *gormstore.Store, linkID string) provider.HookRun {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for {
		runs, err := store.ListHookRuns(context.Background(), provider.HookRunFilter{State: provider.HookRunFailed, Hook: hookMarkPaid})
		if err != nil {
			t.Fatal(err)
		}
		if len(runs) == 1 {
			return runs[0]
		}
		if time.Now().After(deadline) {
			t.Fatalf("no failed %s run for link %s; runs: %+v", hookMarkPaid, linkID, runs)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// countRows counts the elements sel matches.
func countRows(t *testing.T, ctx context.Context, sel string) int {
	t.Helper()
	nodes, err := chromedp.Run(ctx, chromedp.Nodes(chromedp.CSS(sel), chromedp.AtLeast(0)))
	if err != nil {
		t.Fatalf("counting %s: %v", sel, err)
	}
	return len(nodes)
}
