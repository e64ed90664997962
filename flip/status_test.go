package flip_test

import (
	"testing"

	"github.com/paylinkgo/paylink/flip"
	"github.com/paylinkgo/paylink/provider"
)

func TestStatusMappingsAgreeWithMapPaymentStatus(t *testing.T) {
	t.Parallel()
	rows := flip.StatusMappings()
	seenRaw := map[flip.PaymentStatus]bool{}
	seenPortable := map[provider.PaymentStatus]bool{}
	for _, m := range rows {
		if seenRaw[m.Raw] {
			t.Errorf("%s appears twice", m.Raw)
		}
		seenRaw[m.Raw] = true
		seenPortable[m.Status] = true
		got, ok := flip.MapPaymentStatus(string(m.Raw))
		if !ok || got != m.Status {
			t.Errorf("MapPaymentStatus(%s) = %s, %v; table says %s", m.Raw, got, ok, m.Status)
		}
		if got, ok := m.Raw.Portable(); !ok || got != m.Status {
			t.Errorf("%s.Portable() = %s, %v", m.Raw, got, ok)
		}
		if !m.Status.Valid() || len(m.Where) == 0 || m.Note == "" {
			t.Errorf("incomplete row %+v", m)
		}
	}
	for _, raw := range []flip.PaymentStatus{flip.PaymentSuccessful, flip.PaymentPending, flip.PaymentFailed,
		flip.PaymentCancelled, flip.PaymentCanceled, flip.PaymentNotConfirmed, flip.PaymentProcessed, flip.PaymentDone} {
		if !seenRaw[raw] {
			t.Errorf("the table lacks %s", raw)
		}
	}
	for _, s := range provider.PaymentStatuses() {
		if s.Returned() {
			continue // Flip's Accept Payment API has no refunds or chargebacks
		}
		if !seenPortable[s] {
			t.Errorf("no raw status maps to %s", s)
		}
	}
	rows[0].Raw = "CHANGED"
	if flip.StatusMappings()[0].Raw == "CHANGED" {
		t.Error("StatusMappings returns shared state")
	}
}

func TestMapPaymentStatus(t *testing.T) {
	t.Parallel()
	tests := []struct {
		raw  string
		want provider.PaymentStatus
		ok   bool
	}{
		{"SUCCESSFUL", provider.PaymentSuccessful, true},
		{"DONE", provider.PaymentSuccessful, true},
		{"PENDING", provider.PaymentPending, true},
		{"NOT_CONFIRMED", provider.PaymentPending, true},
		{"PROCESSED", provider.PaymentPending, true},
		{"FAILED", provider.PaymentFailed, true},
		{"CANCELLED", provider.PaymentCancelled, true},
		{"CANCELED", provider.PaymentCancelled, true},
		{" successful ", provider.PaymentSuccessful, true},
		{"canceled", provider.PaymentCancelled, true},
		{"EXPIRED", provider.PaymentCancelled, true},
		{" Expired\n", provider.PaymentCancelled, true},
		{"PAID", "", false},
		{"Settled", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		if got, ok := flip.MapPaymentStatus(tt.raw); got != tt.want || ok != tt.ok {
			t.Errorf("MapPaymentStatus(%q) = %q, %v; want %q, %v", tt.raw, got, ok, tt.want, tt.ok)
		}
	}
}
