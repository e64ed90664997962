package gormstore_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/paylinkgo/paylink/gormstore"
	"github.com/paylinkgo/paylink/provider"
	"github.com/paylinkgo/paylink/provider/midtrans"
	"github.com/paylinkgo/paylink/provider/midtrans/midtranstest"
)

// An unpaid Snap page (the customer has not picked a method, so Midtrans's
// status API does not know the order) created through one Service is
// deactivated through a second Service over the same database with a new
// midtrans.Provider, as on another replica or after a restart: the Snap
// token stored in the link's Raw is all it takes, and the page is
// cancelled at Midtrans.
func TestAnUnpaidSnapPageIsDeactivatedByAnotherReplicaOverMidtrans(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			ctx := t.Context()
			app := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
			t.Cleanup(app.Close)
			fake := midtranstest.NewServer(midtranstest.Options{ServerKey: e2eKey, NotificationURL: app.URL})
			t.Cleanup(fake.Close)
			db := b.open(t)
			newService := func(store *gormstore.Store) *provider.Service {
				t.Helper()
				svc, err := provider.NewService(store, provider.ServiceOptions{
					Providers: []provider.Provider{midtrans.NewProvider(fake.Client(), midtrans.ProviderOptions{})}})
				if err != nil {
					t.Fatal(err)
				}
				return svc
			}

			first := newService(migrated(t, db))
			link, err := first.CreateLink(ctx, "midtrans", provider.CreateLinkParams{Title: "Order 1", Amount: provider.Rupiah(10000)})
			if err != nil {
				t.Fatal(err)
			}

			second, err := gormstore.New(db, testOptions())
			if err != nil {
				t.Fatal(err)
			}
			stored, err := second.GetLink(ctx, "midtrans", link.ID)
			if err != nil {
				t.Fatal(err)
			}
			var raw struct{ Token string }
			token, _ := fake.Token(link.ID)
			if err := json.Unmarshal(stored.Raw, &raw); err != nil || raw.Token == "" || raw.Token != token {
				t.Fatalf("the stored link's Raw %s holds no Snap token %q (%v)", stored.Raw, token, err)
			}

			got, err := newService(second).DeactivateLink(ctx, "midtrans", link.ID)
			if err != nil {
				t.Fatalf("DeactivateLink on the second Service: %v", err)
			}
			if got.Status != provider.LinkInactive {
				t.Fatalf("DeactivateLink = %s, want INACTIVE", got.Status)
			}
			if _, err := fake.Choose(ctx, link.ID, midtranstest.Method{PaymentType: "echannel"}); err == nil {
				t.Fatal("the customer picked a method on the page: its Snap session was not cancelled")
			}
			now, err := first.Store().GetLink(ctx, "midtrans", link.ID)
			if err != nil || now.Status != provider.LinkInactive {
				t.Fatalf("the first Service reads the link as %+v, %v; want INACTIVE", now, err)
			}
		})
	}
}
