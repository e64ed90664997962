package gormstore_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paylinkgo/paylink/gormstore"
	"github.com/paylinkgo/paylink/provider"
	"github.com/paylinkgo/paylink/provider/midtrans"
	"github.com/paylinkgo/paylink/provider/midtrans/midtranstest"
)

// Point 11 of going live (provider/midtrans/doc.go): a crash between
// Snap create and the store. Midtrans answers nothing about a Snap page
// whose customer has not picked a method (the status API does not know
// it, a second create of its order id is "has already been taken"), and
// its token is lost with the process: no retry can return the page that
// was made. But nobody was given it either (the Service returns only
// stored links), so the Service makes the link again under the next
// order id (key~2). These tests pin that, on each database: the key is
// never refused for good, one link is stored, the page that was not
// stored is cancelled where it can be, and the new one takes the payment.

// snapCreates counts the Snap pages a proxy in front of the fake saw made.
type snapCreates struct{ n atomic.Int32 }

// proxy returns the base URL of a proxy to target that counts the 201
// answers to Snap create.
func (c *snapCreates) proxy(t *testing.T, target string) string {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.ModifyResponse = func(r *http.Response) error {
		if r.Request.Method == http.MethodPost && r.Request.URL.Path == "/snap/v1/transactions" && r.StatusCode == http.StatusCreated {
			c.n.Add(1)
		}
		return nil
	}
	srv := httptest.NewServer(rp)
	t.Cleanup(srv.Close)
	return srv.URL
}

// crashingStore fails the next SaveLink calls, as a process that dies
// after Snap answered and before the link is stored.
type crashingStore struct {
	*gormstore.Store
	fail atomic.Int32
}

func (s *crashingStore) SaveLink(ctx context.Context, w *provider.LinkWrite) error {
	if s.fail.Add(-1) >= 0 {
		return errors.New("the process died before the link was stored")
	}
	return s.Store.SaveLink(ctx, w)
}

// deadProvider is the Midtrans provider of a process that died: it cannot
// deactivate the page it has just made.
type deadProvider struct{ *midtrans.Provider }

func (p deadProvider) DeactivateLink(context.Context, *provider.Link) (*provider.Link, error) {
	return nil, provider.Errorf(provider.CodeUnavailable, "test", "the process died")
}

type crashE2E struct {
	fake    *midtranstest.Server
	store   *crashingStore
	svc     *provider.Service
	creates *snapCreates
}

// newCrashE2E is a Service over a store of b that fails the next SaveLink,
// and the fake Midtrans behind a counting proxy; wrap, if not nil, wraps
// the provider.
func newCrashE2E(t *testing.T, b backend, window time.Duration, wrap func(*midtrans.Provider) provider.Provider) *crashE2E {
	t.Helper()
	e := &crashE2E{creates: &snapCreates{}}
	e.fake = midtranstest.NewServer(midtranstest.Options{ServerKey: e2eKey})
	t.Cleanup(e.fake.Close)
	c, err := midtrans.NewClient(e2eKey, midtrans.Options{BaseURL: e.creates.proxy(t, e.fake.URL), RetryBackoff: 1})
	if err != nil {
		t.Fatal(err)
	}
	var p provider.Provider = midtrans.NewProvider(c, midtrans.ProviderOptions{})
	if wrap != nil {
		p = wrap(p.(*midtrans.Provider))
	}
	e.store = &crashingStore{Store: migrated(t, b.open(t))}
	e.svc, err = provider.NewService(e.store, provider.ServiceOptions{Providers: []provider.Provider{p}, LinkIntentWindow: window})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

var crashParams = provider.CreateLinkParams{Title: "Order 11", Amount: provider.Rupiah(10000), IdempotencyKey: "order-11"}

// wantStoredAndPayable checks that the key's stored link is id and that
// paying it through the fake is applied to it.
func (e *crashE2E) wantStoredAndPayable(t *testing.T, got *provider.Link, id string) {
	t.Helper()
	ctx := t.Context()
	stored, err := e.store.GetLinkByIdempotencyKey(ctx, crashParams.IdempotencyKey)
	if err != nil || stored.ID != id || got.ID != id {
		t.Fatalf("stored for the key: %+v, %v; returned %s; want %s", stored, err, got.ID, id)
	}
	if _, err := e.fake.Pay(ctx, id, midtranstest.PayOptions{}); err != nil {
		t.Fatalf("paying the stored link %s: %v", id, err)
	}
}

// When storing the link fails and the process lives on, the Service
// cancels the Snap page it could not store, so that nobody can pay it; a
// retry with the same key makes the link under the next order id, and
// that one is stored and can be paid.
func TestAnUnstoredSnapPageIsCancelledAndARetryMakesTheLinkOverMidtrans(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			ctx := t.Context()
			e := newCrashE2E(t, b, 0, nil)
			e.store.fail.Store(1)
			if _, err := e.svc.CreateLink(ctx, "midtrans", crashParams); err == nil {
				t.Fatal("CreateLink succeeded with a store that failed")
			}
			if _, err := e.fake.Pay(ctx, crashParams.IdempotencyKey, midtranstest.PayOptions{}); !errors.Is(err, midtranstest.ErrWrongState) {
				t.Fatalf("paying the page that was not stored: %v, want it refused (the Snap session cancelled)", err)
			}
			got, err := e.svc.CreateLink(ctx, "midtrans", crashParams)
			if err != nil {
				t.Fatalf("the retry: %v, want the link", err)
			}
			e.wantStoredAndPayable(t, got, crashParams.IdempotencyKey+"~2")
			if again, err := e.svc.CreateLink(ctx, "midtrans", crashParams); err != nil || again.ID != got.ID {
				t.Fatalf("a later call: %+v, %v; want %s", again, err, got.ID)
			}
			if n := e.creates.n.Load(); n != 2 {
				t.Fatalf("%d Snap pages made, want 2 (the cancelled one and the stored one)", n)
			}
		})
	}
}

// When the process dies between Snap create and the store (the page is
// left as it was, nobody given its URL, and the intent pending), a retry
// with the same key is CodeUnavailable while the first call may still be
// running (LinkIntentWindow), and after it makes and stores the link under
// the next order id; one page more, never two stored.
func TestACrashBetweenSnapCreateAndTheStoreIsRecoveredOverMidtrans(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			ctx := t.Context()
			const window = 200 * time.Millisecond
			e := newCrashE2E(t, b, window, func(p *midtrans.Provider) provider.Provider { return deadProvider{p} })
			e.store.fail.Store(1)
			if _, err := e.svc.CreateLink(ctx, "midtrans", crashParams); err == nil {
				t.Fatal("CreateLink succeeded with a store that failed")
			}
			if _, err := e.svc.CreateLink(ctx, "midtrans", crashParams); !errors.Is(err, provider.CodeUnavailable) {
				t.Fatalf("a retry within the window: %v, want unavailable", err)
			}
			if n := e.creates.n.Load(); n != 1 {
				t.Fatalf("%d Snap pages made within the window, want 1", n)
			}
			time.Sleep(window)
			got, err := e.svc.CreateLink(ctx, "midtrans", crashParams)
			if err != nil {
				t.Fatalf("a retry after the window: %v, want the link", err)
			}
			e.wantStoredAndPayable(t, got, crashParams.IdempotencyKey+"~2")
			if n := e.creates.n.Load(); n != 2 {
				t.Fatalf("%d Snap pages made, want 2", n)
			}
		})
	}
}
