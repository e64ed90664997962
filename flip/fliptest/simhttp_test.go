package fliptest

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// simPost posts to a /_fliptest route with the given content type.
func (a *api) simPost(path, contentType, body string) reply {
	a.t.Helper()
	req, _ := http.NewRequestWithContext(a.t.Context(), http.MethodPost, a.base+path, strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	return a.do(req)
}

func TestSimulationRoutes(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t)
	s := newTestServer(t, Options{CallbackURL: rc.url, RetryInterval: time.Millisecond})
	a := newAPI(t, s)
	single := a.createBill(step1()...)
	multi := a.createBill("title", "Donations", "type", "MULTIPLE")
	expire := a.createBill(step3()...)
	fail := a.createBill(step1()...)
	a.key = "" // no credentials needed

	t.Run("pay with no body", func(t *testing.T) {
		r := a.simPost("/_fliptest/bills/"+single+"/pay", "", "")
		var p Payment
		r.into(t, &p)
		if r.status != http.StatusOK || p.Status != PaymentSuccessful || p.LinkID != single || p.Amount != 45_000 {
			t.Errorf("%d %+v", r.status, p)
		}
	})
	t.Run("pay with JSON", func(t *testing.T) {
		r := a.simPost("/_fliptest/bills/"+multi+"/pay", "application/json",
			`{"amount":20000,"sender_name":"Ayu","sender_bank":"dana","sender_bank_type":"wallet_account","reference_id":"R1"}`)
		var p Payment
		r.into(t, &p)
		if r.status != http.StatusOK || p.Amount != 20_000 || p.SenderName != "Ayu" || p.SenderBank != "dana" || p.ReferenceID != "R1" {
			t.Errorf("%d %+v", r.status, p)
		}
	})
	t.Run("pay with a form", func(t *testing.T) {
		r := a.simPost("/_fliptest/bills/"+multi+"/pay", "application/x-www-form-urlencoded", "amount=30000&sender_email=x%40example.com")
		var p Payment
		r.into(t, &p)
		if r.status != http.StatusOK || p.Amount != 30_000 || p.SenderEmail != "x@example.com" {
			t.Errorf("%d %+v", r.status, p)
		}
	})
	t.Run("expire and fail", func(t *testing.T) {
		var p Payment
		a.simPost("/_fliptest/bills/"+expire+"/expire", "", "").into(t, &p)
		if p.Status != PaymentCancelled {
			t.Errorf("expire: %+v", p)
		}
		a.simPost("/_fliptest/bills/"+fail+"/fail", "", "").into(t, &p)
		if p.Status != PaymentFailed {
			t.Errorf("fail: %+v", p)
		}
	})
	t.Run("refusals", func(t *testing.T) {
		tests := []struct {
			path, contentType, body string
			status                  int
			codes                   []string
		}{
			{"/_fliptest/bills/" + single + "/pay", "", "", 422, []string{"link_id:1049"}},
			{"/_fliptest/bills/" + expire + "/pay", "", "", 422, []string{"link_id:1048"}},
			{"/_fliptest/bills/" + multi + "/pay", "application/x-www-form-urlencoded", "amount=lots", 422, []string{"body:1064"}},
			{"/_fliptest/bills/" + multi + "/pay", "application/json", `{"amount":"lots"}`, 422, []string{"body:1064"}},
			{"/_fliptest/bills/" + multi + "/pay", "application/json", `{"amount":5000}`, 422, []string{"amount:1058"}},
			{"/_fliptest/bills/" + multi + "/pay", "application/json", `{"amount":20000,"sender_bank":"nope"}`, 422, []string{"sender_bank:1091"}},
			{"/_fliptest/bills/404/pay", "", "", 404, nil},
			{"/_fliptest/bills/404/expire", "", "", 404, nil},
			{"/_fliptest/payments/PGPWF0/redeliver", "", "", 404, nil},
		}
		for _, tt := range tests {
			r := a.simPost(tt.path, tt.contentType, tt.body)
			if r.status != tt.status {
				t.Errorf("%s %s: %d %s", tt.path, tt.body, r.status, r.body)
				continue
			}
			if tt.codes != nil {
				if got := r.codes(t); !slices.Equal(got, tt.codes) {
					t.Errorf("%s %s: errors %v, want %v", tt.path, tt.body, got, tt.codes)
				}
			}
		}
		if r := a.get("/_fliptest/bills/" + single + "/pay"); r.status != http.StatusNotFound {
			t.Errorf("GET on a simulation: %d", r.status)
		}
	})
	t.Run("redeliver and deliveries", func(t *testing.T) {
		pid := s.Payments(single)[0].ID
		if r := a.simPost("/_fliptest/payments/"+pid+"/redeliver", "", ""); r.status != http.StatusAccepted {
			t.Errorf("redeliver: %d %s", r.status, r.body)
		}
		if r := a.simPost("/_fliptest/payments/"+pid+"/redeliver", "application/x-www-form-urlencoded", "status=CANCELLED"); r.status != http.StatusAccepted {
			t.Errorf("redeliver with status: %d %s", r.status, r.body)
		}
		if r := a.simPost("/_fliptest/payments/"+pid+"/redeliver", "application/json", `{"status":"FAILED"}`); r.status != http.StatusAccepted {
			t.Errorf("redeliver with JSON status: %d %s", r.status, r.body)
		}
		if err := s.WaitIdle(testCtx(t)); err != nil {
			t.Fatal(err)
		}
		var ds []Delivery
		a.get("/_fliptest/deliveries").into(t, &ds)
		var forPid []string
		for _, d := range ds {
			if d.PaymentID == pid {
				forPid = append(forPid, string(d.Status))
			}
		}
		if !slices.Equal(forPid, []string{"SUCCESSFUL", "SUCCESSFUL", "CANCELLED", "FAILED"}) {
			t.Errorf("deliveries of %s: %v", pid, forPid)
		}
	})
}
