package provider_test

import (
	"fmt"
	"testing"

	"github.com/paylinkgo/paylink/provider"
)

func TestPaymentStatusTransitions(t *testing.T) {
	const (
		P = provider.PaymentPending
		S = provider.PaymentSuccessful
		C = provider.PaymentCancelled
		F = provider.PaymentFailed
	)
	allowed := map[[2]provider.PaymentStatus]bool{
		{P, S}: true, {P, C}: true, {P, F}: true,
		{C, S}: true, {F, S}: true, // a success report always wins: money moved
	}
	for _, from := range provider.PaymentStatuses() {
		for _, to := range provider.PaymentStatuses() {
			want := allowed[[2]provider.PaymentStatus{from, to}]
			if got := from.CanTransition(to); got != want {
				t.Errorf("%s -> %s: CanTransition = %v, want %v", from, to, got, want)
			}
		}
	}
	for _, s := range []provider.PaymentStatus{"", "PAID", "EXPIRED", "successful"} {
		if s.Valid() || s.CanTransition(S) || P.CanTransition(s) {
			t.Errorf("unknown status %q takes part in transitions", s)
		}
	}
}

func TestFinalStatusesNeverGoBackToPending(t *testing.T) {
	for _, s := range provider.PaymentStatuses() {
		if s.Final() && s.CanTransition(provider.PaymentPending) {
			t.Errorf("%s may go back to PENDING", s)
		}
	}
}

func ExamplePaymentStatus_CanTransition() {
	fmt.Println(provider.PaymentPending.CanTransition(provider.PaymentSuccessful))
	fmt.Println(provider.PaymentSuccessful.CanTransition(provider.PaymentCancelled))
	fmt.Println(provider.PaymentCancelled.CanTransition(provider.PaymentPending))
	// Output:
	// true
	// false
	// false
}
