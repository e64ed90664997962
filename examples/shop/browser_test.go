package main

import (
	"context"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromiumPath is where Debian's chromium package installs the browser.
const chromiumPath = "/usr/bin/chromium"

// browserTimeout bounds the whole browser session. Chromium starts slowly
// on a busy two-core machine; every step below waits for an element
// rather than for a fixed time.
const browserTimeout = 3 * time.Minute

// TestBrowserPaysAnOrder clicks through the shop as a customer would: it
// fills the order form, follows the link to the (fake) Flip checkout page,
// pays, returns to the shop through Flip's redirect and waits until the
// order page shows PAID. It saves a screenshot of the paid order in
// $PAYLINK_SCREENSHOT_DIR (or the test's temporary directory).
//
// Without Chromium at /usr/bin/chromium the test is skipped, unless
// PAYLINK_REQUIRE_BROWSER=1 (CI's .ci/browser), where it fails.
func TestBrowserPaysAnOrder(t *testing.T) {
	payInBrowser(t, shopEnv(t.TempDir()), "shop-order-paid.png", func(ctx context.Context, text func(sel string) string) {
		err := chromedp.Do(ctx,
			chromedp.WaitVisible(chromedp.ID("pay")),
			chromedp.Click(chromedp.ID("pay")),
			chromedp.WaitVisible(chromedp.ID("return")),
		)
		if err != nil {
			t.Fatalf("paying on the checkout page: %v", err)
		}
		if st := text("#status"); st != "SUCCESSFUL" {
			t.Fatalf("the checkout page shows payment status %q after paying, want SUCCESSFUL", st)
		}
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("return"))); err != nil {
			t.Fatalf("following the checkout page's return link: %v", err)
		}
	})
}

// TestBrowserPaysAnOrderOnMidtrans is the same customer on a shop that
// takes payments through Midtrans: the order's link is the (fake) Snap
// payment page, whose pay button settles the payment and sends the
// customer straight back to the order page, which shows PAID once the
// notification has arrived. Its screenshot is
// shop-order-paid-midtrans.png.
func TestBrowserPaysAnOrderOnMidtrans(t *testing.T) {
	payInBrowser(t, midtransEnv(t.TempDir()), "shop-order-paid-midtrans.png", func(ctx context.Context, text func(sel string) string) {
		if id := text("#order-id"); !strings.Contains(id, "-order-") {
			t.Fatalf("the Snap page shows order %q, want the shop's <database prefix>order-<id>", id)
		}
		err := chromedp.Do(ctx,
			chromedp.WaitVisible(chromedp.ID("pay")),
			chromedp.Click(chromedp.ID("pay")),
		)
		if err != nil {
			t.Fatalf("paying on the Snap page: %v", err)
		}
	})
}

// payInBrowser runs a shop with env and, in headless Chromium, creates an
// order with the shop's form, opens its payment link, lets pay do what
// the customer does on that page until the provider sends them back to
// the shop, waits until the order page shows PAID with one receipt, and
// saves a screenshot named shot.
func payInBrowser(t *testing.T, env map[string]string, shot string, pay func(ctx context.Context, text func(sel string) string)) {
	t.Helper()
	ctx, shotDir := startBrowser(t)
	s := startShop(t, env)

	text := func(sel string) string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("reading %s: %v", sel, err)
		}
		return strings.TrimSpace(v)
	}
	attr := func(sel, name string) string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS(sel), name))
		if err != nil || !v.Exists {
			t.Fatalf("reading %s's %s: %v", sel, name, err)
		}
		return v.Value
	}

	// 1. The shop's page: fill in the form and create an order.
	err := chromedp.Do(ctx,
		chromedp.Navigate(s.base+"/"),
		chromedp.WaitVisible(chromedp.ID("order-form")),
		chromedp.SetValue(chromedp.CSS(`#order-form input[name="title"]`), "Kopi Gayo 250 g"),
		chromedp.SetValue(chromedp.CSS(`#order-form input[name="amount"]`), "85000"),
		chromedp.SetValue(chromedp.CSS(`#order-form input[name="name"]`), "Siti Rahma"),
		chromedp.SetValue(chromedp.CSS(`#order-form input[name="email"]`), "siti@example.com"),
		chromedp.Click(chromedp.ID("create")),
		chromedp.WaitVisible(chromedp.ID("checkout-link")),
	)
	if err != nil {
		t.Fatalf("creating the order in the browser: %v", err)
	}
	checkoutURL, orderID := attr("#checkout-link", "href"), attr("#created", "data-order")
	id, err := strconv.ParseInt(orderID, 10, 64)
	if err != nil || !strings.HasPrefix(checkoutURL, "http") {
		t.Fatalf("the page shows order %q with checkout link %q", orderID, checkoutURL)
	}
	if o := s.getOrder(id); o.Status != OrderPending || o.Amount != 85000 || o.Title != "Kopi Gayo 250 g" {
		t.Fatalf("the order the browser created is %+v", o)
	}

	// 2. The provider's payment page: pay, and get back to the shop.
	if err := chromedp.Do(ctx, chromedp.Navigate(checkoutURL)); err != nil {
		t.Fatalf("opening the payment page %s: %v", checkoutURL, err)
	}
	pay(ctx, text)

	// 3. The shop's order page updates itself until the order is PAID.
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS("#order-status.status-PAID"))); err != nil {
		t.Fatalf("waiting for the order page to show PAID: %v", err)
	}
	location, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	if u, err := url.Parse(location); err != nil || !strings.HasSuffix(u.Path, "/orders/"+orderID+"/view") {
		t.Errorf("the payment page led back to %s, want the order page of order %s", location, orderID)
	}
	if status, receipts := text("#order-status"), text("#receipts-sent"); status != "PAID" || receipts != "1" {
		t.Errorf("the order page shows status %q and %q receipts, want PAID and 1", status, receipts)
	}

	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	path := filepath.Join(shotDir, shot)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot of the paid order: %s", path)
}

// startBrowser starts a headless Chromium for the test and returns its
// tab's context (bounded by browserTimeout) and the directory where
// screenshots go: $PAYLINK_SCREENSHOT_DIR, or the test's temporary
// directory. Without Chromium at /usr/bin/chromium the test is skipped,
// unless PAYLINK_REQUIRE_BROWSER=1 (CI's .ci/browser), where it fails.
func startBrowser(t *testing.T) (context.Context, string) {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("PAYLINK_REQUIRE_BROWSER") == "1" {
			t.Fatalf("PAYLINK_REQUIRE_BROWSER=1 but Chromium is not installed at %s: %v (apt-get install chromium)", chromiumPath, err)
		}
		t.Skipf("Chromium is not installed at %s: browser test not run (apt-get install chromium, or run .ci/browser)", chromiumPath)
	}
	shotDir := os.Getenv("PAYLINK_SCREENSHOT_DIR")
	if shotDir == "" {
		shotDir = t.TempDir()
	} else if err := os.MkdirAll(shotDir, 0o755); err != nil {
		t.Fatal(err)
	}
	profile := t.TempDir()
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1100, 900),
	)
	// Cleanups run last-in first-out: the tab, then the browser (killed and
	// waited for), before the profile directory is removed.
	t.Cleanup(cancelAlloc)
	ctx, cancelTab := chromedp.NewContext(allocCtx)
	t.Cleanup(cancelTab)
	ctx, cancel := context.WithTimeout(ctx, browserTimeout)
	t.Cleanup(cancel)
	return ctx, shotDir
}

// screenshot saves a full-page screenshot of the tab as dir/name.
func screenshot(t *testing.T, ctx context.Context, dir, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
}
