package provider_test

import (
	"fmt"
	"testing"

	"github.com/paylinkgo/paylink/provider"
)

// ladder is every state of a payment of 10000 the tests below walk: each
// status, the partial ones at two cumulative amounts (11 states).
var ladder = []provider.PaymentState{
	{Status: provider.PaymentPending},
	{Status: provider.PaymentCancelled},
	{Status: provider.PaymentFailed},
	{Status: provider.PaymentSuccessful},
	{Status: provider.PaymentPartiallyRefunded, Refunded: 3000},
	{Status: provider.PaymentPartiallyRefunded, Refunded: 7000},
	{Status: provider.PaymentPartiallyChargedBack, Refunded: 3000},
	{Status: provider.PaymentPartiallyChargedBack, Refunded: 7000},
	{Status: provider.PaymentRefunded, Refunded: 10000},
	{Status: provider.PaymentChargedBack, Refunded: 10000},
	{Status: provider.PaymentReversed, Refunded: 10000},
}

func TestPaymentStateTransitions(t *testing.T) {
	// Every allowed move, written out; every other pair must be refused.
	allowed := map[string]bool{}
	for _, moves := range [][]string{
		{"PENDING", "CANCELLED", "FAILED", "SUCCESSFUL", "PARTIALLY_REFUNDED 3000", "PARTIALLY_REFUNDED 7000",
			"PARTIALLY_CHARGED_BACK 3000", "PARTIALLY_CHARGED_BACK 7000", "REFUNDED 10000", "CHARGED_BACK 10000", "REVERSED 10000"},
		// A success report always wins over a cancellation: money moved.
		// So does a refund of a success that was never reported.
		{"CANCELLED", "SUCCESSFUL", "PARTIALLY_REFUNDED 3000", "PARTIALLY_REFUNDED 7000",
			"PARTIALLY_CHARGED_BACK 3000", "PARTIALLY_CHARGED_BACK 7000", "REFUNDED 10000", "CHARGED_BACK 10000", "REVERSED 10000"},
		{"FAILED", "SUCCESSFUL", "PARTIALLY_REFUNDED 3000", "PARTIALLY_REFUNDED 7000",
			"PARTIALLY_CHARGED_BACK 3000", "PARTIALLY_CHARGED_BACK 7000", "REFUNDED 10000", "CHARGED_BACK 10000", "REVERSED 10000"},
		{"SUCCESSFUL", "PARTIALLY_REFUNDED 3000", "PARTIALLY_REFUNDED 7000",
			"PARTIALLY_CHARGED_BACK 3000", "PARTIALLY_CHARGED_BACK 7000", "REFUNDED 10000", "CHARGED_BACK 10000", "REVERSED 10000"},
		// Among partial states, only a larger cumulative amount is news.
		{"PARTIALLY_REFUNDED 3000", "PARTIALLY_REFUNDED 7000", "PARTIALLY_CHARGED_BACK 7000", "REFUNDED 10000", "CHARGED_BACK 10000", "REVERSED 10000"},
		{"PARTIALLY_CHARGED_BACK 3000", "PARTIALLY_REFUNDED 7000", "PARTIALLY_CHARGED_BACK 7000", "REFUNDED 10000", "CHARGED_BACK 10000", "REVERSED 10000"},
		{"PARTIALLY_REFUNDED 7000", "REFUNDED 10000", "CHARGED_BACK 10000", "REVERSED 10000"},
		{"PARTIALLY_CHARGED_BACK 7000", "REFUNDED 10000", "CHARGED_BACK 10000", "REVERSED 10000"},
		// REFUNDED, CHARGED_BACK and REVERSED are absorbing: a reversal
		// never follows a full refund or chargeback, nor they it.
	} {
		for _, to := range moves[1:] {
			allowed[moves[0]+" -> "+to] = true
		}
	}
	n := 0
	for _, from := range ladder {
		for _, to := range ladder {
			move := from.String() + " -> " + to.String()
			want := allowed[move]
			if want {
				n++
			}
			if got := from.CanTransition(to); got != want {
				t.Errorf("%s: CanTransition = %v, want %v", move, got, want)
			}
			// The status-only rule agrees wherever the amount cannot matter.
			if from.Status.Partial() && to.Status.Partial() {
				continue
			}
			if got := from.Status.CanTransition(to.Status); got != want {
				t.Errorf("%s: PaymentStatus.CanTransition = %v, want %v", move, got, want)
			}
		}
	}
	if n != len(allowed) {
		t.Fatalf("the ladder walked %d allowed moves, the table lists %d: a state is missing", n, len(allowed))
	}
}

func TestTheAmountReturnedNeverShrinks(t *testing.T) {
	from := provider.PaymentState{Status: provider.PaymentPartiallyRefunded, Refunded: 7000}
	for _, to := range []provider.PaymentState{
		{Status: provider.PaymentRefunded, Refunded: 5000},
		{Status: provider.PaymentChargedBack, Refunded: 0},
		{Status: provider.PaymentPartiallyChargedBack, Refunded: 6999},
	} {
		if from.CanTransition(to) {
			t.Errorf("%s -> %s allowed: the amount returned went down", from, to)
		}
	}
}

func TestUnknownStatusesTakeNoPartInTransitions(t *testing.T) {
	S := provider.PaymentSuccessful
	for _, s := range []provider.PaymentStatus{"", "PAID", "EXPIRED", "successful", "REFUND"} {
		if s.Valid() || s.CanTransition(S) || provider.PaymentPending.CanTransition(s) {
			t.Errorf("unknown status %q takes part in transitions", s)
		}
		if (provider.PaymentState{Status: s}).CanTransition(provider.PaymentState{Status: S}) {
			t.Errorf("unknown state %q may move", s)
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

func TestStatusKinds(t *testing.T) {
	for _, c := range []struct {
		s                       provider.PaymentStatus
		paid, returned, partial bool
	}{
		{provider.PaymentPending, false, false, false},
		{provider.PaymentCancelled, false, false, false},
		{provider.PaymentFailed, false, false, false},
		{provider.PaymentSuccessful, true, false, false},
		{provider.PaymentPartiallyRefunded, true, true, true},
		{provider.PaymentPartiallyChargedBack, true, true, true},
		{provider.PaymentRefunded, true, true, false},
		{provider.PaymentChargedBack, true, true, false},
		{provider.PaymentReversed, true, true, false},
	} {
		if c.s.Paid() != c.paid || c.s.Returned() != c.returned || c.s.Partial() != c.partial {
			t.Errorf("%s: Paid, Returned, Partial = %v, %v, %v; want %v, %v, %v",
				c.s, c.s.Paid(), c.s.Returned(), c.s.Partial(), c.paid, c.returned, c.partial)
		}
	}
	if len(provider.PaymentStatuses()) != 9 {
		t.Errorf("PaymentStatuses lists %d statuses, want 9", len(provider.PaymentStatuses()))
	}
}

func TestEventKeyOfAPartialStateCarriesTheAmount(t *testing.T) {
	ev := provider.Event{Provider: "midtrans", Payment: provider.Payment{ID: "order-1",
		Status: provider.PaymentPartiallyRefunded, RefundedAmount: provider.Rupiah(3000)}}
	if got := ev.Key().String(); got != "midtrans:order-1:PARTIALLY_REFUNDED:3000" {
		t.Errorf("key = %q", got)
	}
	ev.Payment.Status, ev.Payment.RefundedAmount = provider.PaymentRefunded, provider.Rupiah(10000)
	if got := ev.Key().String(); got != "midtrans:order-1:REFUNDED" {
		t.Errorf("key of a full refund = %q, want no amount (there is one full refund)", got)
	}
	for _, k := range []provider.EventKey{
		{Status: provider.PaymentSuccessful},
		{Status: provider.PaymentPartiallyChargedBack, Refunded: 9223372036854775807, Flag: provider.VerdictAmountMismatch},
		{Flag: provider.VerdictUnknownStatus},
	} {
		var back provider.EventKey
		back.ParseStatusKey(k.StatusKey() + map[bool]string{true: "!" + string(k.Flag)}[k.Flag != ""])
		if back != k {
			t.Errorf("ParseStatusKey(StatusKey(%+v)) = %+v", k, back)
		}
	}
}

func ExamplePaymentStatus_CanTransition() {
	fmt.Println(provider.PaymentPending.CanTransition(provider.PaymentSuccessful))
	fmt.Println(provider.PaymentSuccessful.CanTransition(provider.PaymentCancelled))
	fmt.Println(provider.PaymentCancelled.CanTransition(provider.PaymentPending))
	fmt.Println(provider.PaymentRefunded.CanTransition(provider.PaymentChargedBack))
	// Output:
	// true
	// false
	// false
	// false
}

func ExamplePaymentState_CanTransition() {
	first := provider.PaymentState{Status: provider.PaymentPartiallyRefunded, Refunded: 3000}
	fmt.Println(first.CanTransition(provider.PaymentState{Status: provider.PaymentPartiallyRefunded, Refunded: 7000}))
	fmt.Println(first.CanTransition(first))
	fmt.Println(first.CanTransition(provider.PaymentState{Status: provider.PaymentSuccessful}))
	// Output:
	// true
	// false
	// false
}
