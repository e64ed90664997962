package main

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/paylinkgo/paylink/examples/internal/runtest"
)

const adminToken = "test-admin-token"

func TestMain(m *testing.M) {
	gin.SetMode(gin.TestMode)
	os.Exit(m.Run())
}

func TestMountedIntoExistingApp(t *testing.T) {
	app := runtest.Start(t, run, map[string]string{
		"ADDR":        "127.0.0.1:0",
		"ADMIN_TOKEN": adminToken,
		"SQLITE_PATH": filepath.Join(t.TempDir(), "app.db"),
	})

	t.Run("the app's own routes keep working, with its middleware", func(t *testing.T) {
		for _, path := range []string{"/healthz", "/api/products"} {
			status, hdr, body := runtest.Call(t, "GET", app.URL+path, "", nil)
			if status != http.StatusOK || hdr.Get("X-Request-ID") == "" {
				t.Errorf("GET %s = %d (X-Request-ID %q) %s; want 200 with a request id", path, status, hdr.Get("X-Request-ID"), body)
			}
		}
	})

	t.Run("admin and paylink JSON routes require the app's token", func(t *testing.T) {
		for _, r := range []struct{ method, path string }{
			{"GET", "/api/admin/callbacks"},
			{"POST", "/paylink/api/links"},
			{"GET", "/paylink/api/links/1"},
		} {
			for _, token := range []string{"", "wrong"} {
				if status, _ := app.Call(t, r.method, r.path, token, map[string]any{}); status != http.StatusUnauthorized {
					t.Errorf("%s %s with token %q = %d, want 401", r.method, r.path, token, status)
				}
			}
		}
	})

	var link struct {
		ID  string `json:"id"`
		URL string `json:"url"`
	}
	status, body := app.Call(t, "POST", "/paylink/api/links", adminToken, map[string]any{"title": "Jasmine tea", "amount": 45000})
	if status != http.StatusCreated {
		t.Fatalf("POST /paylink/api/links = %d %s, want 201", status, body)
	}
	runtest.Decode(t, body, &link)

	// The customer pays on the fake's checkout page; the fake Flip posts its
	// callback to /paylink/flip/callback, with Flip's token and no app token.
	runtest.Simulate(t, link.URL, "pay")

	t.Run("the paid bill's callback reached paylink and its hook ran", func(t *testing.T) {
		runtest.Eventually(t, func() (bool, string) {
			var got struct {
				Payments []struct{ Status string } `json:"payments"`
			}
			_, body := app.Call(t, "GET", "/paylink/api/links/"+link.ID, adminToken, nil)
			runtest.Decode(t, body, &got)
			return len(got.Payments) == 1 && got.Payments[0].Status == "SUCCESSFUL", string(body)
		})
		var recs []struct{ LinkID, Status, Verdict string }
		status, body := app.Call(t, "GET", "/api/admin/callbacks", adminToken, nil)
		runtest.Decode(t, body, &recs)
		if status != http.StatusOK || len(recs) != 1 || recs[0].Status != "SUCCESSFUL" || recs[0].Verdict != "applied" {
			t.Errorf("GET /api/admin/callbacks = %d %s, want one applied SUCCESSFUL callback", status, body)
		}
		runtest.Eventually(t, func() (bool, string) {
			return app.Out.Count(`msg="payment received" link=`+link.ID) == 1, "no hook log line yet"
		})
		if !strings.Contains(app.Out.String(), "path=/paylink/flip/callback status=200") {
			t.Errorf("the app's access log has no 200 line for paylink's callback route:\n%s", app.Out)
		}
	})

	app.Shutdown(t)
	if strings.Contains(app.Out.String(), adminToken) {
		t.Error("the admin token appears in the logs")
	}
}

func TestRefusesToStartWithoutAdminToken(t *testing.T) {
	err := run(t.Context(), func(string) string { return "" }, io.Discard, nil)
	if err == nil || !strings.Contains(err.Error(), "ADMIN_TOKEN") {
		t.Errorf("run without ADMIN_TOKEN = %v, want an error naming ADMIN_TOKEN", err)
	}
}

// TestRestartOnTheSameDatabaseMakesFreshLinks runs the app twice on one
// SQLite file, as `go run` does with its default path: the second run's
// offline Flip must not hand out the first run's link ids, or the new,
// unpaid link would show the old link's payment.
func TestRestartOnTheSameDatabaseMakesFreshLinks(t *testing.T) {
	env := map[string]string{
		"ADDR":        "127.0.0.1:0",
		"ADMIN_TOKEN": adminToken,
		"SQLITE_PATH": filepath.Join(t.TempDir(), "app.db"),
	}
	type link struct {
		ID       string                    `json:"id"`
		URL      string                    `json:"url"`
		Payments []struct{ Status string } `json:"payments"`
	}
	create := func(app *runtest.App) link {
		t.Helper()
		status, body := app.Call(t, "POST", "/paylink/api/links", adminToken, map[string]any{"title": "Jasmine tea", "amount": 45000})
		if status != http.StatusCreated {
			t.Fatalf("POST /paylink/api/links = %d %s, want 201", status, body)
		}
		var l link
		runtest.Decode(t, body, &l)
		return l
	}

	first := runtest.Start(t, run, env)
	paid := create(first)
	runtest.Simulate(t, paid.URL, "pay")
	runtest.Eventually(t, func() (bool, string) {
		var got link
		_, body := first.Call(t, "GET", "/paylink/api/links/"+paid.ID, adminToken, nil)
		runtest.Decode(t, body, &got)
		return len(got.Payments) == 1 && got.Payments[0].Status == "SUCCESSFUL", string(body)
	})
	first.Shutdown(t)

	second := runtest.Start(t, run, env)
	fresh := create(second)
	if fresh.ID == paid.ID {
		t.Fatalf("the restarted app's new link reuses the paid link's id %s", paid.ID)
	}
	var got link
	_, body := second.Call(t, "GET", "/paylink/api/links/"+fresh.ID, adminToken, nil)
	runtest.Decode(t, body, &got)
	if len(got.Payments) != 0 {
		t.Errorf("a new, unpaid link shows payments: %s", body)
	}
	second.Shutdown(t)
}
