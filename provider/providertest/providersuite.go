package providertest

import (
	"context"
	"errors"
	"io"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/paylinkgo/paylink/provider"
)

// BadCallback names a kind of callback request a provider must refuse.
type BadCallback int

// The kinds of bad callbacks.
const (
	// WrongToken carries credentials, but not the configured ones.
	WrongToken BadCallback = iota + 1
	// MissingToken carries no credentials at all.
	MissingToken
	// Malformed carries valid credentials and a body that cannot be decoded.
	Malformed
)

// Harness lets [TestProvider] drive a provider as its customers would.
type Harness interface {
	// Provider returns the provider under test, configured with a callback secret.
	Provider() provider.Provider
	// Settle makes the provider move the link's payment to status (as a
	// customer paying, or the link expiring) and returns the callback
	// request the provider sends for it, exactly as it would arrive.
	Settle(ctx context.Context, link *provider.Link, status provider.PaymentStatus) (*http.Request, error)
	// BadCallback returns a callback request of the given bad kind.
	BadCallback(ctx context.Context, kind BadCallback) (*http.Request, error)
}

// RefundHarness is the Harness of a provider that is a
// [provider.Refunder]: [TestProvider] needs it to pay in a way the
// provider can refund, and to play the customer's bank.
type RefundHarness interface {
	Harness
	// PayRefundable pays the link with a method the provider can refund
	// and returns the SUCCESSFUL callback.
	PayRefundable(ctx context.Context, link *provider.Link) (*http.Request, error)
	// RefundCallback returns the callback the provider sends once the
	// link's payment has reached status with refunded returned in all
	// (after a refund the suite asked for).
	RefundCallback(ctx context.Context, link *provider.Link, status provider.PaymentStatus, refunded int64) (*http.Request, error)
	// ChargeBack makes the customer's bank charge amount (zero: all that
	// is left) of the link's payment back, and returns the callback.
	ChargeBack(ctx context.Context, link *provider.Link, amount int64) (*http.Request, error)
}

// TestProvider runs the Provider conformance suite. newHarness returns a
// harness over a fresh provider account; it registers its own cleanup.
func TestProvider(t *testing.T, newHarness func(t *testing.T) Harness) {
	t.Helper()
	ctx := func(t *testing.T) context.Context {
		c, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		t.Cleanup(cancel)
		return c
	}
	params := provider.CreateLinkParams{
		Title: "Conformance order 1", Type: provider.LinkSingle, Amount: provider.Rupiah(45000),
		Step: provider.StepInputData, RedirectURL: "https://shop.example.com/return",
	}
	create := func(t *testing.T, h Harness, p provider.CreateLinkParams) *provider.Link {
		t.Helper()
		l, err := h.Provider().CreateLink(ctx(t), p)
		if err != nil {
			t.Fatalf("CreateLink: %v", err)
		}
		return l
	}

	t.Run("NameIsSet", func(t *testing.T) {
		if newHarness(t).Provider().Name() == "" {
			t.Fatal("Name() is empty")
		}
	})

	t.Run("CreateLinkReturnsAnActiveLink", func(t *testing.T) {
		h := newHarness(t)
		l := create(t, h, params)
		if l.ID == "" {
			t.Error("link has no ID")
		}
		if l.Provider != h.Provider().Name() {
			t.Errorf("Provider = %q, want %q", l.Provider, h.Provider().Name())
		}
		if !strings.HasPrefix(l.URL, "http://") && !strings.HasPrefix(l.URL, "https://") {
			t.Errorf("URL %q is not absolute", l.URL)
		}
		if !l.Amount.Equal(provider.Rupiah(45000)) {
			t.Errorf("Amount = %v, want IDR 45000", l.Amount)
		}
		if l.Type != provider.LinkSingle || l.Status != provider.LinkActive {
			t.Errorf("Type, Status = %s, %s; want SINGLE, ACTIVE", l.Type, l.Status)
		}
		if l.Title == "" {
			t.Error("Title is empty")
		}
	})

	t.Run("CreateLinkRefusesAnEmptyTitle", func(t *testing.T) {
		h := newHarness(t)
		p := params
		p.Title = ""
		_, err := h.Provider().CreateLink(ctx(t), p)
		if !errors.Is(err, provider.CodeInvalidArgument) {
			t.Fatalf("err = %v, want CodeInvalidArgument", err)
		}
	})

	t.Run("GetLinkReadsWhatCreateLinkMade", func(t *testing.T) {
		h := newHarness(t)
		l := create(t, h, params)
		got, err := h.Provider().GetLink(ctx(t), l)
		if err != nil {
			t.Fatalf("GetLink: %v", err)
		}
		if got.ID != l.ID || !got.Amount.Equal(l.Amount) || got.Type != l.Type || got.Status != provider.LinkActive {
			t.Errorf("GetLink = %+v, want the created link %+v", got, l)
		}
	})

	t.Run("GetLinkOfAnUnknownIDIsNotFound", func(t *testing.T) {
		h := newHarness(t)
		p := h.Provider()
		_, err := p.GetLink(ctx(t), &provider.Link{Provider: p.Name(), ID: "999999999"})
		if !errors.Is(err, provider.CodeNotFound) {
			t.Fatalf("err = %v, want CodeNotFound", err)
		}
	})

	t.Run("ANewLinkHasNoPayments", func(t *testing.T) {
		h := newHarness(t)
		l := create(t, h, params)
		ps, err := h.Provider().ListLinkPayments(ctx(t), l)
		if err != nil {
			t.Fatalf("ListLinkPayments: %v", err)
		}
		if len(ps) != 0 {
			t.Fatalf("got %d payments, want none", len(ps))
		}
	})

	for _, st := range []provider.PaymentStatus{provider.PaymentSuccessful, provider.PaymentCancelled, provider.PaymentFailed} {
		t.Run("CallbackFor"+string(st), func(t *testing.T) {
			h := newHarness(t)
			p := h.Provider()
			l := create(t, h, params)
			req, err := h.Settle(ctx(t), l, st)
			if err != nil {
				t.Fatalf("Settle: %v", err)
			}
			ev, err := p.ParseCallback(ctx(t), req)
			if err != nil {
				t.Fatalf("ParseCallback of a genuine callback: %v", err)
			}
			if ev.Provider != p.Name() || ev.Payment.LinkID != l.ID || ev.Payment.ID == "" {
				t.Errorf("event names provider %q link %q payment %q; want %q, %q, non-empty",
					ev.Provider, ev.Payment.LinkID, ev.Payment.ID, p.Name(), l.ID)
			}
			if ev.Payment.Status != st {
				t.Errorf("status = %s, want %s", ev.Payment.Status, st)
			}
			if !ev.Payment.Amount.Equal(l.Amount) {
				t.Errorf("amount = %v, want %v", ev.Payment.Amount, l.Amount)
			}
			if len(ev.Raw) == 0 {
				t.Error("event has no raw body")
			}
			if ev.Source != provider.SourceCallback {
				t.Errorf("source = %q, want callback", ev.Source)
			}
			if st == provider.PaymentCancelled {
				return // an expired link's payment list may or may not show it
			}
			ps, err := p.ListLinkPayments(ctx(t), l)
			if err != nil {
				t.Fatalf("ListLinkPayments: %v", err)
			}
			var found bool
			for _, x := range ps {
				if x.ID == ev.Payment.ID {
					found = true
					if x.Status != st || !x.Amount.Equal(l.Amount) || x.LinkID != l.ID {
						t.Errorf("listed payment = %+v, want status %s, amount %v, link %s", x, st, l.Amount, l.ID)
					}
				}
			}
			if !found {
				t.Errorf("payment %s from the callback is not in ListLinkPayments (%d payments)", ev.Payment.ID, len(ps))
			}
			// Reading the one payment (through PaymentGetter when the
			// provider has it, as the Service confirms a callback: from
			// the link's id alone, since the link it passes has no Raw)
			// gives what the list gives; a payment the link does not have
			// is CodeNotFound.
			idOnly := &provider.Link{Provider: p.Name(), ID: l.ID}
			got, err := provider.GetPayment(ctx(t), p, idOnly, ev.Payment.ID)
			if err != nil {
				t.Fatalf("GetPayment of the callback's payment: %v", err)
			}
			for _, x := range ps {
				if x.ID == got.ID && (x.Status != got.Status || !x.Amount.Equal(got.Amount) || x.LinkID != got.LinkID) {
					t.Errorf("GetPayment = %+v, ListLinkPayments lists %+v", *got, x)
				}
			}
			if got.ID != ev.Payment.ID {
				t.Errorf("GetPayment returned payment %q, want %q", got.ID, ev.Payment.ID)
			}
			if _, err := provider.GetPayment(ctx(t), p, idOnly, ev.Payment.ID+"-not-there"); !errors.Is(err, provider.CodeNotFound) {
				t.Errorf("GetPayment of a payment the link does not have: %v, want CodeNotFound", err)
			}
		})
	}

	for _, c := range []struct {
		name string
		kind BadCallback
		code provider.ErrorCode
	}{
		{"WrongTokenIsUnauthenticated", WrongToken, provider.CodeUnauthenticated},
		{"MissingTokenIsUnauthenticated", MissingToken, provider.CodeUnauthenticated},
		{"MalformedBodyIsInvalid", Malformed, provider.CodeInvalidArgument},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t)
			req, err := h.BadCallback(ctx(t), c.kind)
			if err != nil {
				t.Fatalf("BadCallback: %v", err)
			}
			ev, err := h.Provider().ParseCallback(ctx(t), req)
			if !errors.Is(err, c.code) {
				t.Fatalf("ParseCallback = %v, %v; want %v", ev, err, c.code)
			}
		})
	}

	t.Run("CapabilitiesWorkOrSayUnsupported", func(t *testing.T) {
		h := newHarness(t)
		p := h.Provider()
		l := create(t, h, params)
		given := *l
		given.Raw = slices.Clone(l.Raw)
		title := "Renamed order"
		got, err := provider.EditLink(ctx(t), p, l, provider.EditLinkParams{Title: &title})
		switch {
		case errors.Is(err, provider.CodeUnimplemented):
			if !errors.Is(err, errors.ErrUnsupported) {
				t.Errorf("EditLink unsupported error %v does not match errors.ErrUnsupported", err)
			}
		case err != nil:
			t.Errorf("EditLink: %v", err)
		case got.Title != title:
			t.Errorf("EditLink title = %q, want %q", got.Title, title)
		}
		got, err = provider.DeactivateLink(ctx(t), p, l)
		switch {
		case errors.Is(err, provider.CodeUnimplemented):
		case err != nil:
			t.Errorf("DeactivateLink: %v", err)
		case got.Status != provider.LinkInactive:
			t.Errorf("DeactivateLink status = %s, want INACTIVE", got.Status)
		}
		if !reflect.DeepEqual(*l, given) {
			t.Errorf("the provider changed the link it was given:\n got %+v\nwant %+v", *l, given)
		}
		if _, err := provider.ListPayments(ctx(t), p, provider.ListPaymentsParams{}); err != nil && !errors.Is(err, provider.CodeUnimplemented) {
			t.Errorf("ListPayments: %v", err)
		}
		if _, ok := p.(provider.Refunder); !ok {
			_, err := provider.Refund(ctx(t), p, "any", provider.RefundParams{})
			if !errors.Is(err, provider.CodeUnimplemented) || !errors.Is(err, errors.ErrUnsupported) {
				t.Errorf("Refund of a provider without refunds: %v, want CodeUnimplemented and errors.ErrUnsupported", err)
			}
		}
	})

	t.Run("FindLinksFindsTheLinkByTitleTypeAndAmount", func(t *testing.T) {
		h := newHarness(t)
		p := h.Provider()
		if _, ok := p.(provider.LinkFinder); !ok {
			if _, err := provider.FindLinks(ctx(t), p, provider.LinkQuery{Title: params.Title}); !errors.Is(err, errors.ErrUnsupported) {
				t.Errorf("FindLinks of a provider without it: %v, want errors.ErrUnsupported", err)
			}
			return
		}
		before := time.Now().Add(-time.Minute)
		want := create(t, h, params)
		other := params
		other.Title = "Conformance order 2"
		create(t, h, other) // another title
		other = params
		other.Amount = provider.Rupiah(46000)
		create(t, h, other) // another amount
		other = params
		other.Type = provider.LinkMultiple
		create(t, h, other) // another type

		q := provider.LinkQuery{Title: params.Title, Type: params.Type, Amount: params.Amount, CreatedFrom: before}
		found, err := provider.FindLinks(ctx(t), p, q)
		if err != nil {
			t.Fatalf("FindLinks: %v", err)
		}
		var selected []string
		for _, l := range found {
			if q.Matches(&l) {
				selected = append(selected, l.ID)
			}
		}
		if len(selected) != 1 || selected[0] != want.ID {
			t.Fatalf("FindLinks selected %v, want only the link %s", selected, want.ID)
		}

		none, err := provider.FindLinks(ctx(t), p, provider.LinkQuery{Title: "No such order", Amount: params.Amount})
		if err != nil || none == nil {
			t.Fatalf("FindLinks of nothing = %v, %v; want an empty slice and no error", none, err)
		}
		for _, l := range none {
			if l.Title == "No such order" {
				t.Fatalf("FindLinks found a link nobody made: %+v", l)
			}
		}
	})

	t.Run("ContextCancelStopsCalls", func(t *testing.T) {
		h := newHarness(t)
		c, cancel := context.WithCancel(t.Context())
		cancel()
		_, err := h.Provider().CreateLink(c, params)
		if err == nil {
			t.Fatal("CreateLink with a canceled context succeeded")
		}
	})

	refundHarness := func(t *testing.T) (RefundHarness, provider.Refunder) {
		t.Helper()
		h := newHarness(t)
		r := h.Provider().(provider.Refunder)
		rh, ok := h.(RefundHarness)
		if !ok {
			t.Fatal("the provider is a provider.Refunder, but its harness is not a RefundHarness")
		}
		return rh, r
	}
	// parse parses a callback and checks the state it reports.
	parse := func(t *testing.T, h Harness, req *http.Request, err error, l *provider.Link, want provider.PaymentState) provider.Payment {
		t.Helper()
		if err != nil {
			t.Fatalf("callback of %s: %v", want, err)
		}
		ev, err := h.Provider().ParseCallback(ctx(t), req)
		if err != nil {
			t.Fatalf("ParseCallback of %s: %v", want, err)
		}
		if got := ev.Payment.State(); got != want || !ev.Payment.Amount.Equal(l.Amount) || ev.Payment.LinkID != l.ID {
			t.Fatalf("callback = %s of %v on link %s, want %s of %v on %s", got, ev.Payment.Amount, ev.Payment.LinkID, want, l.Amount, l.ID)
		}
		return ev.Payment
	}
	// listed checks the state ListLinkPayments reports for the payment.
	listed := func(t *testing.T, h Harness, l *provider.Link, id string, want provider.PaymentState) {
		t.Helper()
		ps, err := h.Provider().ListLinkPayments(ctx(t), l)
		if err != nil {
			t.Fatalf("ListLinkPayments: %v", err)
		}
		for _, p := range ps {
			if p.ID == id {
				if p.State() != want || !p.Amount.Equal(l.Amount) {
					t.Fatalf("listed payment is %s of %v, want %s of %v", p.State(), p.Amount, want, l.Amount)
				}
				return
			}
		}
		t.Fatalf("payment %s is not listed (%d payments)", id, len(ps))
	}
	state := func(st provider.PaymentStatus, refunded int64) provider.PaymentState {
		return provider.PaymentState{Status: st, Refunded: refunded}
	}

	// A provider without refunds says so (CapabilitiesWorkOrSayUnsupported);
	// one with them runs the rest of the suite.
	if _, ok := newHarness(t).Provider().(provider.Refunder); !ok {
		return
	}

	t.Run("RefundPartThenTheRest", func(t *testing.T) {
		h, r := refundHarness(t)
		l := create(t, h, params)
		req, err := h.PayRefundable(ctx(t), l)
		paid := parse(t, h, req, err, l, state(provider.PaymentSuccessful, 0))

		got, err := r.Refund(ctx(t), paid.ID, provider.RefundParams{Amount: provider.Rupiah(15000), Key: "conformance-1", Reason: "one item out of stock"})
		if err != nil {
			t.Fatalf("Refund of 15000: %v", err)
		}
		if got.ID != paid.ID || got.State() != state(provider.PaymentPartiallyRefunded, 15000) || !got.Amount.Equal(l.Amount) {
			t.Fatalf("Refund of 15000 answered %s %s of %v", got.ID, got.State(), got.Amount)
		}
		req, err = h.RefundCallback(ctx(t), l, provider.PaymentPartiallyRefunded, 15000)
		parse(t, h, req, err, l, state(provider.PaymentPartiallyRefunded, 15000))
		listed(t, h, l, paid.ID, state(provider.PaymentPartiallyRefunded, 15000))

		_, err = r.Refund(ctx(t), paid.ID, provider.RefundParams{Amount: provider.Rupiah(1000), Key: "conformance-1"})
		if !errors.Is(err, provider.CodeConflict) {
			t.Errorf("Refund with a key used before: %v, want CodeConflict", err)
		}
		_, err = r.Refund(ctx(t), paid.ID, provider.RefundParams{Amount: provider.Rupiah(30001), Key: "conformance-2"})
		if !errors.Is(err, provider.CodeInvalidArgument) {
			t.Errorf("Refund of more than is left: %v, want CodeInvalidArgument", err)
		}
		listed(t, h, l, paid.ID, state(provider.PaymentPartiallyRefunded, 15000))

		got, err = r.Refund(ctx(t), paid.ID, provider.RefundParams{Key: "conformance-3"})
		if err != nil {
			t.Fatalf("Refund of the rest: %v", err)
		}
		if got.State() != state(provider.PaymentRefunded, 45000) {
			t.Fatalf("Refund of the rest answered %s", got.State())
		}
		req, err = h.RefundCallback(ctx(t), l, provider.PaymentRefunded, 45000)
		parse(t, h, req, err, l, state(provider.PaymentRefunded, 45000))
		listed(t, h, l, paid.ID, state(provider.PaymentRefunded, 45000))

		_, err = r.Refund(ctx(t), paid.ID, provider.RefundParams{Key: "conformance-4"})
		if !errors.Is(err, provider.CodeFailedPrecondition) {
			t.Errorf("Refund of a refunded payment: %v, want CodeFailedPrecondition", err)
		}
	})

	t.Run("RefundOfAnUnpaidPaymentIsRefused", func(t *testing.T) {
		h, r := refundHarness(t)
		l := create(t, h, params)
		req, err := h.Settle(ctx(t), l, provider.PaymentCancelled)
		cancelled := parse(t, h, req, err, l, state(provider.PaymentCancelled, 0))
		_, err = r.Refund(ctx(t), cancelled.ID, provider.RefundParams{Key: "conformance-1"})
		if !errors.Is(err, provider.CodeFailedPrecondition) {
			t.Errorf("Refund of a cancelled payment: %v, want CodeFailedPrecondition", err)
		}
	})

	t.Run("ChargeBackPartThenTheRest", func(t *testing.T) {
		h, _ := refundHarness(t)
		l := create(t, h, params)
		req, err := h.PayRefundable(ctx(t), l)
		paid := parse(t, h, req, err, l, state(provider.PaymentSuccessful, 0))
		req, err = h.ChargeBack(ctx(t), l, 5000)
		parse(t, h, req, err, l, state(provider.PaymentPartiallyChargedBack, 5000))
		listed(t, h, l, paid.ID, state(provider.PaymentPartiallyChargedBack, 5000))
		req, err = h.ChargeBack(ctx(t), l, 0)
		parse(t, h, req, err, l, state(provider.PaymentChargedBack, 45000))
		listed(t, h, l, paid.ID, state(provider.PaymentChargedBack, 45000))
	})
}

// ReadBody returns a request's body and puts it back, for harnesses and
// tests that need to look at a callback before parsing it.
func ReadBody(r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, err
	}
	r.Body = io.NopCloser(strings.NewReader(string(b)))
	return b, nil
}
