package provider_test

import (
	"context"
	"sync"
	"testing"

	"github.com/paylinkgo/paylink/provider"
	"github.com/paylinkgo/paylink/provider/providertest"
)

// sessionProvider is a MemProvider that, like Midtrans, keeps what it
// needs of a link in the Raw its CreateLink returns, and records the
// links the Service hands its methods.
type sessionProvider struct {
	*providertest.MemProvider
	mu    sync.Mutex
	given map[string][]provider.Link // method name: the links given, in order
}

func (s *sessionProvider) record(method string, l *provider.Link) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.given[method] = append(s.given[method], *l)
}

// last returns the link last given to method.
func (s *sessionProvider) last(t *testing.T, method string) provider.Link {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	ls := s.given[method]
	if len(ls) == 0 {
		t.Fatalf("the Service never called %s", method)
	}
	return ls[len(ls)-1]
}

func (s *sessionProvider) forget() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.given = map[string][]provider.Link{}
}

func (s *sessionProvider) CreateLink(ctx context.Context, p provider.CreateLinkParams) (*provider.Link, error) {
	l, err := s.MemProvider.CreateLink(ctx, p)
	if err == nil {
		l.Raw = []byte(`{"session":"s-` + l.ID + `"}`)
	}
	return l, err
}

func (s *sessionProvider) GetLink(ctx context.Context, l *provider.Link) (*provider.Link, error) {
	s.record("GetLink", l)
	return s.MemProvider.GetLink(ctx, l)
}

func (s *sessionProvider) ListLinkPayments(ctx context.Context, l *provider.Link) ([]provider.Payment, error) {
	s.record("ListLinkPayments", l)
	return s.MemProvider.ListLinkPayments(ctx, l)
}

func (s *sessionProvider) EditLink(ctx context.Context, l *provider.Link, p provider.EditLinkParams) (*provider.Link, error) {
	s.record("EditLink", l)
	return s.MemProvider.EditLink(ctx, l, p)
}

func (s *sessionProvider) DeactivateLink(ctx context.Context, l *provider.Link) (*provider.Link, error) {
	s.record("DeactivateLink", l)
	return s.MemProvider.DeactivateLink(ctx, l)
}

func newSessionFixture(t *testing.T) (*provider.Service, *sessionProvider, *provider.Link) {
	t.Helper()
	sp := &sessionProvider{MemProvider: providertest.NewMemProvider("mem", "tok"), given: map[string][]provider.Link{}}
	svc, err := provider.NewService(providertest.NewMemStore(), provider.ServiceOptions{Providers: []provider.Provider{sp}})
	must(t, err)
	l, err := svc.CreateLink(t.Context(), "mem", provider.CreateLinkParams{Title: "Order 7", Amount: provider.Rupiah(45000), Type: provider.LinkMultiple})
	must(t, err)
	return svc, sp, l
}

// wantStored fails unless got is the stored link, Raw included: what the
// provider put in Raw when it created the link comes back to it.
func wantStored(t *testing.T, method string, got provider.Link, l *provider.Link) {
	t.Helper()
	if got.ID != l.ID || got.Provider != "mem" || got.Title != "Order 7" || string(got.Raw) != `{"session":"s-`+l.ID+`"}` {
		t.Fatalf("%s was given %+v (Raw %s), want the stored link %s with its Raw", method, got, got.Raw, l.ID)
	}
}

// Every Service call that acts on a stored link hands the provider the
// link as stored, Raw included, so a provider needs no memory of its own.
func TestTheServiceHandsProvidersTheStoredLink(t *testing.T) {
	ctx := t.Context()
	svc, sp, l := newSessionFixture(t)

	title := "Order 7"
	_, err := svc.EditLink(ctx, "mem", l.ID, provider.EditLinkParams{Title: &title})
	must(t, err)
	wantStored(t, "EditLink", sp.last(t, "EditLink"), l)

	_, _, err = svc.RefreshLink(ctx, "mem", l.ID)
	must(t, err)
	wantStored(t, "ListLinkPayments (RefreshLink)", sp.last(t, "ListLinkPayments"), l)

	sp.forget()
	_, err = svc.Reconcile(ctx)
	must(t, err)
	wantStored(t, "ListLinkPayments (Reconcile)", sp.last(t, "ListLinkPayments"), l)

	sp.forget()
	_, err = svc.Act(ctx, provider.Action{Kind: provider.ActionReconcileLink, Actor: "ana", Provider: "mem", LinkID: l.ID})
	must(t, err)
	wantStored(t, "ListLinkPayments (reconcile_link)", sp.last(t, "ListLinkPayments"), l)

	pay, err := sp.Settle(l.ID, provider.PaymentSuccessful, 45000)
	must(t, err)
	_, _, err = svc.RefreshLink(ctx, "mem", l.ID)
	must(t, err)
	sp.forget()
	_, err = svc.Act(ctx, provider.Action{Kind: provider.ActionRefetchPayment, Actor: "ana", Provider: "mem", PaymentID: pay.ID})
	must(t, err)
	wantStored(t, "ListLinkPayments (refetch_payment)", sp.last(t, "ListLinkPayments"), l)

	_, err = svc.DeactivateLink(ctx, "mem", l.ID)
	must(t, err)
	wantStored(t, "DeactivateLink", sp.last(t, "DeactivateLink"), l)
}

// Confirming a callback needs only the link's id: the provider is handed
// the link as the store read it for the callback, and a link the store
// does not know as its provider and id alone.
func TestACallbackIsConfirmedWithTheLinkItNames(t *testing.T) {
	ctx := t.Context()
	svc, sp, l := newSessionFixture(t)
	pay, err := sp.Settle(l.ID, provider.PaymentSuccessful, 45000)
	must(t, err)

	sp.forget()
	if _, err := svc.ApplyEvent(ctx, event(l.ID, pay.ID, provider.PaymentSuccessful, 45000)); err != nil {
		t.Fatal(err)
	}
	if got := sp.last(t, "ListLinkPayments"); got.ID != l.ID || got.Provider != "mem" || got.Title != "Order 7" {
		t.Fatalf("confirmation was given %+v, want the stored link %s", got, l.ID)
	}

	// The stored payment, named under a link the store does not know: a
	// money fact worth confirming.
	sp.forget()
	_, _ = svc.ApplyEvent(ctx, event("nobody-knows", pay.ID, provider.PaymentSuccessful, 45000))
	if got := sp.last(t, "ListLinkPayments"); got.ID != "nobody-knows" || got.Provider != "mem" || got.Title != "" || len(got.Raw) != 0 {
		t.Fatalf("confirmation of an unknown link was given %+v, want provider and id only", got)
	}
}
