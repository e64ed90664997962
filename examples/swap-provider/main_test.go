package main

import (
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/paylinkgo/paylink/examples/internal/runtest"
)

func TestMain(m *testing.M) {
	gin.SetMode(gin.TestMode)
	os.Exit(m.Run())
}

// The same create-order → pay → paid flow, on each gateway.
func TestSameFlowOnEveryProvider(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"flip", "memory"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			app := runtest.Start(t, run, map[string]string{"ADDR": "127.0.0.1:0", "PAYMENT_PROVIDER": name})

			status, body := app.Call(t, "POST", "/orders", "", map[string]any{"title": "Batik shirt", "amount": 150000})
			if status != http.StatusCreated {
				t.Fatalf("POST /orders = %d %s, want 201", status, body)
			}
			var o Order
			runtest.Decode(t, body, &o)
			if o.Status != "PENDING" || o.Provider != name || o.LinkID == "" || o.LinkURL == "" || o.Amount != 150000 {
				t.Fatalf("new order = %+v, want a PENDING order with a %s link", o, name)
			}
			orderPath := "/orders/" + strconv.FormatInt(o.ID, 10)

			if status, body := app.Call(t, "POST", "/sandbox"+orderPath+"/pay", "", nil); status != http.StatusAccepted {
				t.Fatalf("paying = %d %s, want 202", status, body)
			}
			runtest.Eventually(t, func() (bool, string) {
				var got Order
				_, body := app.Call(t, "GET", orderPath, "", nil)
				runtest.Decode(t, body, &got)
				return got.Status == "PAID", string(body)
			})
			app.Shutdown(t)
		})
	}
}

func TestOrderRoutesRefuseBadInput(t *testing.T) {
	t.Parallel()
	app := runtest.Start(t, run, map[string]string{"ADDR": "127.0.0.1:0", "PAYMENT_PROVIDER": "memory"})
	for _, tc := range []struct {
		method, path string
		body         any
		want         int
	}{
		{"POST", "/orders", map[string]any{"amount": 150000}, http.StatusUnprocessableEntity},
		{"POST", "/orders", map[string]any{"title": "Cheap", "amount": 5}, http.StatusUnprocessableEntity},
		{"GET", "/orders/42", nil, http.StatusNotFound},
		{"POST", "/sandbox/orders/42/pay", nil, http.StatusNotFound},
	} {
		if status, body := app.Call(t, tc.method, tc.path, "", tc.body); status != tc.want {
			t.Errorf("%s %s = %d %s, want %d", tc.method, tc.path, status, body, tc.want)
		}
	}
	app.Shutdown(t)
}

func TestUnknownProviderIsRefused(t *testing.T) {
	t.Parallel()
	env := map[string]string{"ADDR": "127.0.0.1:0", "PAYMENT_PROVIDER": "paypal"}
	err := run(t.Context(), func(k string) string { return env[k] }, io.Discard, nil)
	if err == nil || !strings.Contains(err.Error(), "PAYMENT_PROVIDER") {
		t.Errorf("run with PAYMENT_PROVIDER=paypal = %v, want an error naming PAYMENT_PROVIDER", err)
	}
}
