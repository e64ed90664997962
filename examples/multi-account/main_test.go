package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/paylinkgo/paylink/examples/internal/runtest"
	"github.com/paylinkgo/paylink/flip"
)

const (
	booksToken  = "books-callback-token"
	coffeeToken = "coffee-callback-token"
	apiToken    = "test-api-token" // API_TOKEN: the JSON routes' bearer token
)

func TestMain(m *testing.M) {
	gin.SetMode(gin.TestMode)
	os.Exit(m.Run())
}

type link struct {
	ID       string `json:"id"`
	Provider string `json:"provider"`
	URL      string `json:"url"`
}

type linkStatus struct {
	Payments []struct {
		Provider string `json:"provider"`
		Status   string `json:"status"`
	} `json:"payments"`
}

func TestTwoAccountsInOneProcess(t *testing.T) {
	app := runtest.Start(t, run, map[string]string{
		"ADDR":                  "127.0.0.1:0",
		"API_TOKEN":             apiToken,
		"BOOKS_CALLBACK_TOKEN":  booksToken,
		"COFFEE_CALLBACK_TOKEN": coffeeToken,
	})
	accounts := []string{"flip-books", "flip-coffee"}
	links := map[string]link{}
	for _, name := range accounts {
		status, body := app.Call(t, "POST", "/"+name+"/api/links", apiToken, map[string]any{"title": "Order at " + name, "amount": 45000})
		if status != http.StatusCreated {
			t.Fatalf("POST /%s/api/links = %d %s, want 201", name, status, body)
		}
		var l link
		runtest.Decode(t, body, &l)
		if l.Provider != name {
			t.Fatalf("link made on /%s belongs to %q", name, l.Provider)
		}
		links[name] = l
	}
	payments := func(t *testing.T, name string) linkStatus {
		t.Helper()
		var got linkStatus
		status, body := app.Call(t, "GET", "/"+name+"/api/links/"+links[name].ID, apiToken, nil)
		if status != http.StatusOK {
			t.Fatalf("GET link of %s = %d %s", name, status, body)
		}
		runtest.Decode(t, body, &got)
		return got
	}

	t.Run("a callback signed with one account's token is refused on the other's route", func(t *testing.T) {
		for _, tc := range []struct{ route, token string }{
			{"flip-coffee", booksToken},
			{"flip-books", coffeeToken},
		} {
			// A well-formed SUCCESSFUL callback for the route's own, unpaid
			// link: only the token is wrong.
			req, err := flip.NewCallbackRequest(t.Context(), app.URL+"/"+tc.route+callbackPath, tc.token, flip.Callback{
				ID: "FORGED-1", BillLinkID: flip.ID(links[tc.route].ID), Amount: 45000, Status: "SUCCESSFUL",
				SenderName: "Mallory", SenderEmail: "mallory@example.com", SenderBank: "bni", SenderBankType: "virtual_account",
			})
			if err != nil {
				t.Fatal(err)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("callback for %s signed with the other account's token = %d, want 401", tc.route, resp.StatusCode)
			}
			if got := payments(t, tc.route); len(got.Payments) != 0 {
				t.Errorf("the refused callback stored payments: %+v", got.Payments)
			}
		}
	})

	t.Run("both accounts take payments, each on its own route", func(t *testing.T) {
		for _, name := range accounts {
			runtest.Simulate(t, links[name].URL, "pay")
		}
		for _, name := range accounts {
			runtest.Eventually(t, func() (bool, string) {
				got := payments(t, name)
				ok := len(got.Payments) == 1 && got.Payments[0].Status == "SUCCESSFUL" && got.Payments[0].Provider == name
				return ok, fmt.Sprintf("%s payments: %+v", name, got.Payments)
			})
			runtest.Eventually(t, func() (bool, string) {
				return app.Out.Count(`msg="payment received" account=`+name) == 1, "no hook log line for " + name
			})
		}
	})

	app.Shutdown(t)
	for _, token := range []string{booksToken, coffeeToken, apiToken} {
		if strings.Contains(app.Out.String(), token) {
			t.Errorf("a callback token or the API token appears in the logs")
		}
	}
}

// TestJSONRoutesRequireTheAPIToken checks that both accounts' JSON routes
// answer 401 without API_TOKEN's bearer token (or with another, or with a
// callback token), and that the refused requests created no bill: each
// fake numbers its bills from 1, so the first authorized link is 1.
func TestJSONRoutesRequireTheAPIToken(t *testing.T) {
	app := runtest.Start(t, run, map[string]string{
		"ADDR":                  "127.0.0.1:0",
		"API_TOKEN":             apiToken,
		"BOOKS_CALLBACK_TOKEN":  booksToken,
		"COFFEE_CALLBACK_TOKEN": coffeeToken,
	})
	refused := []string{"", "wrong", booksToken, coffeeToken}
	for _, name := range []string{"flip-books", "flip-coffee"} {
		for _, token := range refused {
			status, body := app.Call(t, "POST", "/"+name+"/api/links", token, map[string]any{
				"title": "Order at " + name, "amount": 45000,
				"customer": map[string]string{"name": "Mallory", "email": "mallory@example.com"},
			})
			if status != http.StatusUnauthorized {
				t.Errorf("POST /%s/api/links with token %q = %d %s, want 401", name, token, status, body)
			}
		}
		status, body := app.Call(t, "POST", "/"+name+"/api/links", apiToken, map[string]any{
			"title": "Order at " + name, "amount": 45000,
			"customer": map[string]string{"name": "Ana", "email": "ana@example.com"},
		})
		var l link
		runtest.Decode(t, body, &l)
		if status != http.StatusCreated || l.ID != "1" {
			t.Errorf("POST /%s/api/links with the API token = %d %s, want 201 and link 1 (the refused requests made no bill)", name, status, body)
		}
		for _, token := range refused {
			status, body := app.Call(t, "GET", "/"+name+"/api/links/1", token, nil)
			if status != http.StatusUnauthorized || strings.Contains(string(body), "ana@example.com") {
				t.Errorf("GET /%s/api/links/1 with token %q = %d %s, want 401 without the customer", name, token, status, body)
			}
		}
	}
	app.Shutdown(t)
}

func TestRefusesToStartWithoutAPIToken(t *testing.T) {
	err := run(t.Context(), func(k string) string { return map[string]string{"ADDR": "127.0.0.1:0"}[k] }, io.Discard, nil)
	if err == nil || !strings.Contains(err.Error(), "API_TOKEN") {
		t.Errorf("run without API_TOKEN = %v, want an error naming API_TOKEN", err)
	}
}
