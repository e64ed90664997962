package providertest

import (
	"context"
	"errors"
	"io"
	"net/http"
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
		got, err := h.Provider().GetLink(ctx(t), l.ID)
		if err != nil {
			t.Fatalf("GetLink: %v", err)
		}
		if got.ID != l.ID || !got.Amount.Equal(l.Amount) || got.Type != l.Type || got.Status != provider.LinkActive {
			t.Errorf("GetLink = %+v, want the created link %+v", got, l)
		}
	})

	t.Run("GetLinkOfAnUnknownIDIsNotFound", func(t *testing.T) {
		h := newHarness(t)
		_, err := h.Provider().GetLink(ctx(t), "999999999")
		if !errors.Is(err, provider.CodeNotFound) {
			t.Fatalf("err = %v, want CodeNotFound", err)
		}
	})

	t.Run("ANewLinkHasNoPayments", func(t *testing.T) {
		h := newHarness(t)
		l := create(t, h, params)
		ps, err := h.Provider().ListLinkPayments(ctx(t), l.ID)
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
			ps, err := p.ListLinkPayments(ctx(t), l.ID)
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
		title := "Renamed order"
		got, err := provider.EditLink(ctx(t), p, l.ID, provider.EditLinkParams{Title: &title})
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
		got, err = provider.DeactivateLink(ctx(t), p, l.ID)
		switch {
		case errors.Is(err, provider.CodeUnimplemented):
		case err != nil:
			t.Errorf("DeactivateLink: %v", err)
		case got.Status != provider.LinkInactive:
			t.Errorf("DeactivateLink status = %s, want INACTIVE", got.Status)
		}
		if _, err := provider.ListPayments(ctx(t), p, provider.ListPaymentsParams{}); err != nil && !errors.Is(err, provider.CodeUnimplemented) {
			t.Errorf("ListPayments: %v", err)
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
