package fliptest

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/paylinkgo/paylink/provider"
)

const testToken = "$2y$13$UsffNb9Y69sU4r5PzWgPwu038C28EUTM8wxSe4COTImnKbtQMnjzK"

func TestCallback_CarriesFlipsFormAndFields(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t)
	s := newTestServer(t, Options{CallbackURL: rc.url, CallbackToken: testToken, Now: func() time.Time { return fixedNow }})
	a := newAPI(t, s)
	id := a.createBill(step3()...)
	p, err := s.Pay(t.Context(), id, PayOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.WaitDeliveries(testCtx(t), 1); err != nil {
		t.Fatal(err)
	}
	got := rc.received()
	if len(got) != 1 {
		t.Fatalf("%d callbacks", len(got))
	}
	cb := got[0]
	if cb.contentType != "application/x-www-form-urlencoded" || cb.token != testToken {
		t.Errorf("content type %q, token %q", cb.contentType, cb.token)
	}
	want := map[string]any{
		"id": p.ID, "bill_link": strings.TrimPrefix(s.URL, "http://") + "/pwf/checkout/" + id, "bill_link_id": json.Number(id),
		"bill_title": "test", "sender_name": "Jon Snow", "sender_email": "jon.snow@example.com",
		"sender_bank": "mandiri", "sender_bank_type": "virtual_account", "amount": json.Number("45000"),
		"status": "SUCCESSFUL", "created_at": "2026-03-02 10:00:00",
	}
	if len(cb.data) != len(want) {
		t.Errorf("data has %d fields, want %d: %s", len(cb.data), len(want), cb.rawData)
	}
	for k, v := range want {
		if cb.data[k] != v {
			t.Errorf("data.%s = %#v, want %#v", k, cb.data[k], v)
		}
	}
	d := s.Deliveries()
	if len(d) != 1 || !d[0].OK() || d[0].Attempt != 1 || d[0].PaymentID != p.ID || d[0].Status != PaymentSuccessful || d[0].Copy != 1 {
		t.Errorf("deliveries = %+v", d)
	}
}

func TestCallback_LongBillLinkIDIsANumber(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t)
	s := newTestServer(t, Options{CallbackURL: rc.url, LongIDs: true})
	a := newAPI(t, s)
	id := a.createBill(step1()...)
	if _, err := s.Pay(t.Context(), id, PayOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := s.WaitDeliveries(testCtx(t), 1); err != nil {
		t.Fatal(err)
	}
	raw := rc.received()[0].rawData
	if !strings.Contains(raw, `"bill_link_id":`+id+`,`) {
		t.Errorf("data = %s, want bill_link_id %s as a bare number", raw, id)
	}
}

func TestCallback_RetryPolicy(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		statuses   []int // the receiver's answers, then 200
		maxRetries int
		attempts   int
		delivered  bool
	}{
		{"first attempt answered", nil, 0, 1, true},
		{"two failures then 200", []int{500, 503}, 0, 3, true},
		{"redirects and 201 are not 200", []int{201, 302, 404}, 0, 4, true},
		{"gives up after the default 5 retries", []int{500, 500, 500, 500, 500, 500, 500}, 0, 6, false},
		{"gives up after MaxRetries", []int{500, 500, 500, 500}, 2, 3, false},
		{"no retries", []int{500}, -1, 1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rc := newReceiver(t, tt.statuses...)
			s := newTestServer(t, Options{CallbackURL: rc.url, RetryInterval: time.Millisecond, MaxRetries: tt.maxRetries})
			a := newAPI(t, s)
			id := a.createBill(step1()...)
			if _, err := s.Pay(t.Context(), id, PayOptions{}); err != nil {
				t.Fatal(err)
			}
			if err := s.WaitIdle(testCtx(t)); err != nil {
				t.Fatal(err)
			}
			d := s.Deliveries()
			if len(d) != tt.attempts || len(rc.received()) != tt.attempts {
				t.Fatalf("%d deliveries, %d received, want %d: %+v", len(d), len(rc.received()), tt.attempts, d)
			}
			for i, x := range d {
				if x.Attempt != i+1 || x.CallbackID != 1 {
					t.Errorf("delivery %d = %+v", i, x)
				}
			}
			if last := d[len(d)-1]; last.OK() != tt.delivered {
				t.Errorf("last delivery %+v, delivered want %v", last, tt.delivered)
			}
		})
	}
}

func TestCallback_TimeoutAndUnreachableReceiver(t *testing.T) {
	t.Parallel()
	t.Run("a receiver slower than the timeout", func(t *testing.T) {
		t.Parallel()
		rc := newReceiver(t)
		rc.block = true
		s := newTestServer(t, Options{CallbackURL: rc.url, CallbackTimeout: 50 * time.Millisecond,
			RetryInterval: time.Millisecond, MaxRetries: 1})
		a := newAPI(t, s)
		if _, err := s.Pay(t.Context(), a.createBill(step1()...), PayOptions{}); err != nil {
			t.Fatal(err)
		}
		if err := s.WaitIdle(testCtx(t)); err != nil {
			t.Fatal(err)
		}
		d := s.Deliveries()
		if len(d) != 2 || d[0].StatusCode != 0 || !strings.Contains(d[1].Err, "deadline") {
			t.Errorf("deliveries = %+v", d)
		}
	})
	t.Run("nobody listening", func(t *testing.T) {
		t.Parallel()
		s := newTestServer(t, Options{CallbackURL: "http://127.0.0.1:1/callback", RetryInterval: time.Millisecond, MaxRetries: 1})
		a := newAPI(t, s)
		if _, err := s.Pay(t.Context(), a.createBill(step1()...), PayOptions{}); err != nil {
			t.Fatal(err)
		}
		if err := s.WaitIdle(testCtx(t)); err != nil {
			t.Fatal(err)
		}
		d := s.Deliveries()
		if len(d) != 2 || d[0].Err == "" || d[0].OK() {
			t.Errorf("deliveries = %+v", d)
		}
		for _, x := range d {
			if strings.Contains(x.Err, testKey) {
				t.Errorf("delivery error leaks the key: %s", x.Err)
			}
		}
	})
}

func TestCallback_WithoutURLIsRecordedNotSent(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t)
	s := newTestServer(t, Options{})
	a := newAPI(t, s)
	id := a.createBill(step1()...)
	p, err := s.Pay(t.Context(), id, PayOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.WaitIdle(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	if cbs := s.Callbacks(); len(cbs) != 1 || cbs[0].Data.Status != PaymentSuccessful || cbs[0].Data.ID != p.ID {
		t.Errorf("callbacks = %+v", cbs)
	}
	if d := s.Deliveries(); len(d) != 0 {
		t.Errorf("deliveries = %+v", d)
	}
	s.SetCallbackURL(rc.url)
	if err := s.Redeliver(t.Context(), p.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.WaitDeliveries(testCtx(t), 1); err != nil {
		t.Fatal(err)
	}
	if got := rc.statusesSeen(); !slices.Equal(got, []string{"SUCCESSFUL"}) {
		t.Errorf("received %v", got)
	}
}

func TestCallback_StartInTheOrderMade(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t)
	s := newTestServer(t, Options{CallbackURL: rc.url})
	a := newAPI(t, s)
	id := a.createBill("title", "Donations", "type", "MULTIPLE")
	var want []string
	for i := range 8 {
		p, err := s.Pay(t.Context(), id, PayOptions{Amount: int64(10_000 + i)})
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, p.ID)
	}
	if err := s.WaitDeliveries(testCtx(t), 8); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rc.received() {
		got = append(got, r.data["id"].(string))
	}
	if !slices.Equal(got, want) {
		t.Errorf("received %v, want %v", got, want)
	}
}

func TestCallbackMode(t *testing.T) {
	t.Parallel()

	t.Run("drop", func(t *testing.T) {
		t.Parallel()
		rc := newReceiver(t)
		s := newTestServer(t, Options{CallbackURL: rc.url})
		a := newAPI(t, s)
		s.SetCallbackMode(CallbackMode{Drop: true})
		if _, err := s.Pay(t.Context(), a.createBill(step1()...), PayOptions{}); err != nil {
			t.Fatal(err)
		}
		s.SetCallbackMode(CallbackMode{})
		p, err := s.Pay(t.Context(), a.createBill(step1()...), PayOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.WaitIdle(testCtx(t)); err != nil {
			t.Fatal(err)
		}
		got := rc.received()
		if len(got) != 1 || got[0].data["id"] != p.ID || len(s.Callbacks()) != 2 {
			t.Errorf("received %d (want only the second), made %d", len(got), len(s.Callbacks()))
		}
	})

	t.Run("copies", func(t *testing.T) {
		t.Parallel()
		rc := newReceiver(t, 500) // one copy fails once and is retried on its own
		s := newTestServer(t, Options{CallbackURL: rc.url, RetryInterval: time.Millisecond})
		a := newAPI(t, s)
		s.SetCallbackMode(CallbackMode{Copies: 3})
		p, err := s.Pay(t.Context(), a.createBill(step1()...), PayOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.WaitIdle(testCtx(t)); err != nil {
			t.Fatal(err)
		}
		var ok []int
		for _, d := range s.Deliveries() {
			if d.CallbackID != 1 || d.PaymentID != p.ID {
				t.Errorf("delivery %+v", d)
			}
			if d.OK() {
				ok = append(ok, d.Copy)
			}
		}
		slices.Sort(ok)
		if !slices.Equal(ok, []int{1, 2, 3}) || len(rc.received()) != 4 {
			t.Errorf("delivered copies %v, %d requests; want 1,2,3 and 4", ok, len(rc.received()))
		}
	})

	t.Run("hold and release reversed: CANCELLED before SUCCESSFUL", func(t *testing.T) {
		t.Parallel()
		rc := newReceiver(t)
		s := newTestServer(t, Options{CallbackURL: rc.url})
		a := newAPI(t, s)
		s.SetCallbackMode(CallbackMode{Hold: true})
		id := a.createBill(step3()...)
		p, err := s.Pay(t.Context(), id, PayOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.SendCallback(t.Context(), p.ID, PaymentCancelled); err != nil {
			t.Fatal(err)
		}
		held := s.Held()
		if len(held) != 2 || held[0].Data.Status != PaymentSuccessful || held[1].Data.Status != PaymentCancelled || !held[1].Redelivery {
			t.Fatalf("held = %+v", held)
		}
		if pay, _ := s.Payment(p.ID); pay.Status != PaymentSuccessful {
			t.Errorf("SendCallback changed the payment: %+v", pay)
		}
		if err := s.WaitIdle(testCtx(t)); err != nil {
			t.Fatal(err)
		}
		if n := len(rc.received()); n != 0 {
			t.Fatalf("%d callbacks sent while held", n)
		}
		if n := s.Release(ReleaseReversed); n != 2 {
			t.Errorf("released %d", n)
		}
		if err := s.WaitDeliveries(testCtx(t), 2); err != nil {
			t.Fatal(err)
		}
		if got := rc.statusesSeen(); !slices.Equal(got, []string{"CANCELLED", "SUCCESSFUL"}) {
			t.Errorf("received %v", got)
		}
		if len(s.Held()) != 0 {
			t.Error("callbacks still held after Release")
		}
	})

	t.Run("hold and release in order", func(t *testing.T) {
		t.Parallel()
		rc := newReceiver(t)
		s := newTestServer(t, Options{CallbackURL: rc.url})
		a := newAPI(t, s)
		s.SetCallbackMode(CallbackMode{Hold: true})
		id := a.createBill("title", "Donations", "type", "MULTIPLE", "amount", "10000")
		if _, err := s.Fail(t.Context(), id); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Pay(t.Context(), id, PayOptions{}); err != nil {
			t.Fatal(err)
		}
		s.SetCallbackMode(CallbackMode{})
		s.Release(ReleaseInOrder)
		if err := s.WaitDeliveries(testCtx(t), 2); err != nil {
			t.Fatal(err)
		}
		if got := rc.statusesSeen(); !slices.Equal(got, []string{"FAILED", "SUCCESSFUL"}) {
			t.Errorf("received %v", got)
		}
	})
}

func TestRedeliver(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t)
	s := newTestServer(t, Options{CallbackURL: rc.url})
	a := newAPI(t, s)
	id := a.createBill(step3()...)
	pending := s.Payments(id)[0]
	ctx := t.Context()

	err := s.Redeliver(ctx, pending.ID)
	if !errors.Is(err, provider.CodeFailedPrecondition) {
		t.Errorf("redeliver of a pending payment: %v", err)
	}
	if err := s.Redeliver(ctx, "PGPWF0"); !errors.Is(err, provider.CodeNotFound) {
		t.Errorf("redeliver of an unknown payment: %v", err)
	}
	if err := s.SendCallback(ctx, "PGPWF0", PaymentFailed); !errors.Is(err, provider.CodeNotFound) {
		t.Errorf("SendCallback of an unknown payment: %v", err)
	}
	if err := s.SendCallback(ctx, pending.ID, "PAID"); !errors.Is(err, provider.CodeInvalidArgument) {
		t.Errorf("SendCallback with an invalid status: %v", err)
	}

	if _, err := s.Pay(ctx, id, PayOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := s.Redeliver(ctx, pending.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.WaitDeliveries(testCtx(t), 2); err != nil {
		t.Fatal(err)
	}
	got := rc.received()
	if len(got) != 2 || got[0].rawData != got[1].rawData {
		t.Errorf("redelivered data differs: %+v", got)
	}
	cbs := s.Callbacks()
	if len(cbs) != 2 || cbs[1].ID != 2 || !cbs[1].Redelivery || cbs[1].Data != cbs[0].Data {
		t.Errorf("callbacks = %+v", cbs)
	}
}

func TestWaitDeliveries_HonoursTheContext(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, Options{})
	ctx, cancel := contextWithTimeout(t, 10*time.Millisecond)
	defer cancel()
	err := s.WaitDeliveries(ctx, 1)
	if err == nil || !strings.Contains(err.Error(), "0 of 1") {
		t.Errorf("err = %v", err)
	}
}
