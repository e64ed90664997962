package main

import (
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/paylinkgo/paylink/provider"
)

// newHookShop returns a shop on a fresh SQLite database, without a
// payment service: enough to call the hooks directly.
func newHookShop(t *testing.T) *shop {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	db, err := openDB(t.Context(), config{sqlitePath: filepath.Join(t.TempDir(), "shop.db")}, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closeDB(db) })
	return newShop(db, nil, log, "http://shop.test")
}

// event is a hook event for the order's link.
func event(orderID int64, status provider.PaymentStatus, key string) *provider.HookEvent {
	return &provider.HookEvent{
		ID:             "flip:PGPWF1:" + string(status),
		Status:         status,
		Payment:        provider.Payment{ID: "PGPWF1", Status: status, CompletedAt: time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)},
		Link:           provider.Link{ID: "1", IdempotencyKey: linkKey(orderID)},
		IdempotencyKey: key,
		Attempt:        1,
	}
}

func TestHooks(t *testing.T) {
	t.Parallel()
	s := newHookShop(t)
	ctx := t.Context()
	order := func(status OrderStatus) int64 {
		o := &Order{Title: "Coffee", Amount: 45000, Status: status}
		if err := s.db.Create(o).Error; err != nil {
			t.Fatal(err)
		}
		return o.ID
	}
	state := func(id int64) (OrderStatus, *time.Time, int64) {
		var o Order
		if err := s.db.Take(&o, id).Error; err != nil {
			t.Fatal(err)
		}
		var n int64
		if err := s.db.Model(&Receipt{}).Where("order_id = ?", id).Count(&n).Error; err != nil {
			t.Fatal(err)
		}
		return o.Status, o.PaidAt, n
	}

	t.Run("mark-paid sends one receipt however often it runs", func(t *testing.T) {
		id := order(OrderPending)
		for range 3 { // a retried run carries the same idempotency key
			if err := s.markPaid(ctx, event(id, provider.PaymentSuccessful, "run-paid-1")); err != nil {
				t.Fatal(err)
			}
		}
		st, paidAt, receipts := state(id)
		if st != OrderPaid || receipts != 1 {
			t.Fatalf("status %s, receipts %d; want PAID, 1", st, receipts)
		}
		if want := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC); paidAt == nil || !paidAt.Equal(want) {
			t.Fatalf("paid_at = %v, want the payment's completion %v", paidAt, want)
		}
	})

	t.Run("cancelled and failed never overwrite PAID", func(t *testing.T) {
		id := order(OrderPending)
		if err := s.markPaid(ctx, event(id, provider.PaymentSuccessful, "run-paid-2")); err != nil {
			t.Fatal(err)
		}
		if err := s.markCancelled(ctx, event(id, provider.PaymentCancelled, "run-cancel-2")); err != nil {
			t.Fatal(err)
		}
		if err := s.markFailed(ctx, event(id, provider.PaymentFailed, "run-fail-2")); err != nil {
			t.Fatal(err)
		}
		if st, paidAt, receipts := state(id); st != OrderPaid || paidAt == nil || receipts != 1 {
			t.Fatalf("status %s, paid_at %v, receipts %d; want PAID, set, 1", st, paidAt, receipts)
		}
	})

	t.Run("unpaid orders follow cancelled and failed payments", func(t *testing.T) {
		cancelled, failed := order(OrderPending), order(OrderPending)
		if err := s.markCancelled(ctx, event(cancelled, provider.PaymentCancelled, "run-cancel-3")); err != nil {
			t.Fatal(err)
		}
		if err := s.markFailed(ctx, event(failed, provider.PaymentFailed, "run-fail-3")); err != nil {
			t.Fatal(err)
		}
		if st, _, _ := state(cancelled); st != OrderCancelled {
			t.Errorf("after the cancelled hook: %s, want CANCELLED", st)
		}
		if st, _, _ := state(failed); st != OrderFailed {
			t.Errorf("after the failed hook: %s, want FAILED", st)
		}
	})

	t.Run("a success after a failure still pays the order", func(t *testing.T) {
		id := order(OrderFailed)
		if err := s.markPaid(ctx, event(id, provider.PaymentSuccessful, "run-paid-4")); err != nil {
			t.Fatal(err)
		}
		if st, _, receipts := state(id); st != OrderPaid || receipts != 1 {
			t.Fatalf("status %s, receipts %d; want PAID, 1", st, receipts)
		}
	})

	t.Run("an unknown order is an error, so the run is retried", func(t *testing.T) {
		for name, hook := range map[string]func() error{
			"paid":      func() error { return s.markPaid(ctx, event(99999, provider.PaymentSuccessful, "run-paid-5")) },
			"cancelled": func() error { return s.markCancelled(ctx, event(99999, provider.PaymentCancelled, "run-cancel-5")) },
		} {
			if err := hook(); !errors.Is(err, errUnknownOrder) {
				t.Errorf("%s hook for a missing order = %v, want errUnknownOrder", name, err)
			}
		}
	})

	t.Run("links that are not an order's are skipped", func(t *testing.T) {
		ev := event(1, provider.PaymentSuccessful, "run-paid-6")
		ev.Link.IdempotencyKey = "dashboard-link"
		if err := s.markPaid(ctx, ev); err != nil {
			t.Fatalf("markPaid for a foreign link = %v, want nil", err)
		}
		var n int64
		s.db.Model(&Receipt{}).Where("idempotency_key = ?", "run-paid-6").Count(&n)
		if n != 0 {
			t.Fatalf("a foreign link's payment sent %d receipts", n)
		}
	})
}

func TestOrderKeys(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		key  string
		id   int64
		isOK bool
	}{
		{linkKey(42), 42, true},
		{"order-1", 1, true},
		{"order-0", 0, false},
		{"order--3", 0, false},
		{"order-x", 0, false},
		{"invoice-7", 0, false},
		{"", 0, false},
	} {
		id, ok := orderIDFromKey(tc.key)
		if ok != tc.isOK || (ok && id != tc.id) {
			t.Errorf("orderIDFromKey(%q) = %d, %v; want %d, %v", tc.key, id, ok, tc.id, tc.isOK)
		}
	}
}

func TestRupiah(t *testing.T) {
	t.Parallel()
	for in, want := range map[int64]string{0: "Rp0", 999: "Rp999", 10000: "Rp10.000", 45000: "Rp45.000", 1234567: "Rp1.234.567", -5000: "-Rp5.000"} {
		if got := rupiah(in); got != want {
			t.Errorf("rupiah(%d) = %q, want %q", in, got, want)
		}
	}
}
