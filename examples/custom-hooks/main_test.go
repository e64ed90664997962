package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/glebarez/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/paylinkgo/paylink/examples/internal/runtest"
	"github.com/paylinkgo/paylink/gormstore"
)

// apiToken is the tests' API_TOKEN, the bearer token of the JSON routes.
const apiToken = "test-api-token"

func TestMain(m *testing.M) {
	gin.SetMode(gin.TestMode)
	os.Exit(m.Run())
}

// hookRun is the JSON of a provider.HookRun.
type hookRun struct {
	ID        int64
	Hook      string
	State     string
	Attempts  int
	LastError string
}

func TestReceiptIsMailedOnceDespiteAFailureAndRepeatedCallbacks(t *testing.T) {
	t.Parallel()
	app := start(t, "1", "3") // the mailer fails once; three attempts allowed
	link := createLink(t, app, "Order 1")
	paymentID := runtest.Simulate(t, link.URL, "pay")

	// Flip repeats its callback: two more deliveries of the same event.
	fake, _ := runtest.FakeFlip(t, link.URL)
	for range 2 {
		if status, _, body := runtest.Call(t, "POST", fake+"/_fliptest/payments/"+paymentID+"/redeliver", "", map[string]any{}); status != http.StatusAccepted {
			t.Fatalf("redeliver = %d %s", status, body)
		}
	}
	runtest.Eventually(t, func() (bool, string) {
		var ds []struct {
			StatusCode int `json:"status_code"`
		}
		_, _, body := runtest.Call(t, "GET", fake+"/_fliptest/deliveries", "", nil)
		runtest.Decode(t, body, &ds)
		ok := 0
		for _, d := range ds {
			if d.StatusCode == http.StatusOK {
				ok++
			}
		}
		return ok == 3, string(body)
	})

	run := waitRun(t, app, "receipt-mailer", "succeeded")
	if run.Attempts != 2 {
		t.Errorf("receipt-mailer run took %d attempts, want 2 (one failure, one success)", run.Attempts)
	}
	if runs := hookRuns(t, app, "?hook=receipt-mailer"); len(runs) != 1 {
		t.Errorf("receipt-mailer has %d runs for one payment delivered 3 times, want 1", len(runs))
	}
	checkMailed(t, app, 1, "Receipt: Order 1")

	runtest.Eventually(t, func() (bool, string) {
		var rows []AuditEvent
		_, body := app.Call(t, "GET", "/admin/audit", "", nil)
		runtest.Decode(t, body, &rows)
		return len(rows) == 1 && rows[0].Status == "SUCCESSFUL" && rows[0].LinkID == link.ID, string(body)
	})

	t.Run("an expired link gets its own mail", func(t *testing.T) {
		expiring := createLink(t, app, "Order 2")
		runtest.Simulate(t, expiring.URL, "expire")
		waitRun(t, app, "expiry-mailer", "succeeded")
		checkMailed(t, app, 2, "Payment link expired: Order 2")
	})
	app.Shutdown(t)
}

func TestFailedHookRunIsRetriedFromTheAdminRoute(t *testing.T) {
	t.Parallel()
	app := start(t, "2", "2") // the mailer fails twice; two attempts allowed
	link := createLink(t, app, "Order 1")
	runtest.Simulate(t, link.URL, "pay")

	run := waitRun(t, app, "receipt-mailer", "failed")
	if run.Attempts != 2 || !strings.Contains(run.LastError, errMailerDown.Error()) {
		t.Errorf("failed run = %+v, want 2 attempts and the mailer's error", run)
	}
	if got := app.Out.Count(`msg="mail sent"`); got != 0 {
		t.Fatalf("%d mails sent before the retry, want 0", got)
	}

	retry := "/admin/hook-runs/" + strconv.FormatInt(run.ID, 10) + "/retry"
	if status, body := app.Call(t, "POST", retry, "", nil); status != http.StatusOK {
		t.Fatalf("POST %s = %d %s, want 200", retry, status, body)
	}
	waitRun(t, app, "receipt-mailer", "succeeded")
	checkMailed(t, app, 1, "Receipt: Order 1")

	for _, tc := range []struct {
		path string
		want int
	}{
		{retry, http.StatusConflict}, // the run succeeded: nothing to retry
		{"/admin/hook-runs/x/retry", http.StatusUnprocessableEntity},
		{"/admin/hook-runs/99999/retry", http.StatusNotFound},
	} {
		if status, body := app.Call(t, "POST", tc.path, "", nil); status != tc.want {
			t.Errorf("POST %s = %d %s, want %d", tc.path, status, body, tc.want)
		}
	}
	app.Shutdown(t)
}

// start runs the program with a fresh database and the given
// MAILER_FAILURES and HOOK_MAX_ATTEMPTS.
func start(t *testing.T, failures, attempts string) *runtest.App {
	return runtest.Start(t, run, map[string]string{
		"ADDR":              "127.0.0.1:0",
		"API_TOKEN":         apiToken,
		"SQLITE_PATH":       filepath.Join(t.TempDir(), "hooks.db"),
		"MAILER_FAILURES":   failures,
		"HOOK_MAX_ATTEMPTS": attempts,
	})
}

type link struct {
	ID  string `json:"id"`
	URL string `json:"url"`
}

// createLink creates a step-2 link for ana@example.com through paylink's
// JSON route.
func createLink(t *testing.T, app *runtest.App, title string) link {
	t.Helper()
	status, body := app.Call(t, "POST", "/paylink/links", apiToken, map[string]any{
		"title": title, "amount": 45000, "step": 2,
		"customer": map[string]string{"name": "Ana", "email": "ana@example.com"},
	})
	if status != http.StatusCreated {
		t.Fatalf("POST /paylink/links = %d %s, want 201", status, body)
	}
	var l link
	runtest.Decode(t, body, &l)
	return l
}

func hookRuns(t *testing.T, app *runtest.App, query string) []hookRun {
	t.Helper()
	var runs []hookRun
	status, body := app.Call(t, "GET", "/admin/hook-runs"+query, "", nil)
	if status != http.StatusOK {
		t.Fatalf("GET /admin/hook-runs%s = %d %s", query, status, body)
	}
	runtest.Decode(t, body, &runs)
	return runs
}

// waitRun waits until the hook's only run is in state.
func waitRun(t *testing.T, app *runtest.App, hook, state string) hookRun {
	t.Helper()
	var runs []hookRun
	runtest.Eventually(t, func() (bool, string) {
		runs = hookRuns(t, app, "?hook="+hook)
		return len(runs) == 1 && runs[0].State == state, fmt.Sprintf("%s runs: %+v", hook, runs)
	})
	return runs[0]
}

// checkMailed checks that the mailer sent exactly n mails in all, that
// the outbox marks them all sent, and that one has the subject.
func checkMailed(t *testing.T, app *runtest.App, n int, subject string) {
	t.Helper()
	if got := app.Out.Count(`msg="mail sent"`); got != n {
		t.Errorf("the mailer sent %d mails, want %d", got, n)
	}
	var mails []OutboxMail
	_, body := app.Call(t, "GET", "/admin/outbox", "", nil)
	runtest.Decode(t, body, &mails)
	found := false
	for _, m := range mails {
		if m.SentAt == nil {
			t.Errorf("outbox mail %q is not marked sent", m.Subject)
		}
		found = found || (m.Subject == subject && m.To == "ana@example.com")
	}
	if len(mails) != n || !found {
		t.Errorf("outbox = %s, want %d sent mails, one of them %q to ana@example.com", body, n, subject)
	}
}

// TestRestartOnTheSameDatabaseMakesFreshLinks runs the app twice on one
// SQLite file, as `go run` does with its default path: the second run's
// offline Flip must not hand out the first run's link ids, or the new,
// unpaid link would show the old link's payment.
func TestRestartOnTheSameDatabaseMakesFreshLinks(t *testing.T) {
	t.Parallel()
	env := map[string]string{
		"ADDR":            "127.0.0.1:0",
		"API_TOKEN":       apiToken,
		"SQLITE_PATH":     filepath.Join(t.TempDir(), "hooks.db"),
		"MAILER_FAILURES": "0",
	}
	first := runtest.Start(t, run, env)
	paid := createLink(t, first, "Order 1")
	runtest.Simulate(t, paid.URL, "pay")
	waitRun(t, first, "receipt-mailer", "succeeded")
	first.Shutdown(t)

	second := runtest.Start(t, run, env)
	fresh := createLink(t, second, "Order 2")
	if fresh.ID == paid.ID {
		t.Fatalf("the restarted app's new link reuses the paid link's id %s", paid.ID)
	}
	var got struct {
		Payments []struct{ Status string } `json:"payments"`
	}
	status, body := second.Call(t, "GET", "/paylink/links/"+fresh.ID, apiToken, nil)
	runtest.Decode(t, body, &got)
	if status != http.StatusOK || len(got.Payments) != 0 {
		t.Errorf("GET /paylink/links/%s = %d %s, want 200 and no payments for a new link", fresh.ID, status, body)
	}
	second.Shutdown(t)
}

// TestJSONRoutesRequireTheAPIToken checks that paylink's JSON routes answer
// 401 without API_TOKEN's bearer token (or with another), create no link
// and show no customer.
func TestJSONRoutesRequireTheAPIToken(t *testing.T) {
	t.Parallel()
	dbPath := filepath.Join(t.TempDir(), "hooks.db")
	app := runtest.Start(t, run, map[string]string{
		"ADDR":        "127.0.0.1:0",
		"API_TOKEN":   apiToken,
		"SQLITE_PATH": dbPath,
	})
	l := createLink(t, app, "Order 1")
	for _, token := range []string{"", "wrong", strings.ToUpper(apiToken)} {
		status, body := app.Call(t, "POST", "/paylink/links", token, map[string]any{
			"title": "Order 2", "amount": 45000, "step": 2,
			"customer": map[string]string{"name": "Mallory", "email": "mallory@example.com"},
		})
		if status != http.StatusUnauthorized {
			t.Errorf("POST /paylink/links with token %q = %d %s, want 401", token, status, body)
		}
		status, body = app.Call(t, "GET", "/paylink/links/"+l.ID, token, nil)
		if status != http.StatusUnauthorized || strings.Contains(string(body), "ana@example.com") {
			t.Errorf("GET /paylink/links/%s with token %q = %d %s, want 401 without the customer", l.ID, token, status, body)
		}
	}
	app.Shutdown(t)
	if strings.Contains(app.Out.String(), apiToken) {
		t.Error("the API token appears in the logs")
	}

	// Only the authorized link is in the store, and no intent of another.
	db, err := gorm.Open(sqlite.Open(gormstore.OpenSQLiteDSN(dbPath)), &gorm.Config{Logger: logger.Discard})
	if err != nil {
		t.Fatal(err)
	}
	if sqlDB, err := db.DB(); err == nil {
		defer sqlDB.Close()
	}
	for _, table := range []string{"paylink_links", "paylink_link_intents"} {
		var n int64
		if err := db.Table(table).Count(&n).Error; err != nil {
			t.Fatalf("counting %s: %v", table, err)
		}
		if want := map[string]int64{"paylink_links": 1}[table]; n != want {
			t.Errorf("%s holds %d rows, want %d: an unauthorized request created something", table, n, want)
		}
	}
}

func TestRefusesToStartWithoutAPIToken(t *testing.T) {
	err := run(t.Context(), func(k string) string { return map[string]string{"ADDR": "127.0.0.1:0"}[k] }, io.Discard, nil)
	if err == nil || !strings.Contains(err.Error(), "API_TOKEN") {
		t.Errorf("run without API_TOKEN = %v, want an error naming API_TOKEN", err)
	}
}
