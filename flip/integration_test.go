package flip_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paylinkgo/paylink/flip"
	"github.com/paylinkgo/paylink/flip/fliptest"
	"github.com/paylinkgo/paylink/provider"
)

// integration runs a client against the fake Flip of package fliptest.
type integration struct {
	fake   *fliptest.Server
	client *flip.Client
}

func newIntegration(t *testing.T, fo fliptest.Options, co flip.Options) *integration {
	t.Helper()
	fo.SecretKey = seedKey
	if fo.CallbackToken == "" {
		fo.CallbackToken = testToken
	}
	if fo.RetryInterval == 0 {
		fo.RetryInterval = 10 * time.Millisecond
	}
	fake := fliptest.NewServer(fo)
	t.Cleanup(fake.Close)
	co.BaseURL = fake.URL
	if co.RetryBackoff == 0 {
		co.RetryBackoff = time.Millisecond
	}
	c, err := flip.NewClient(seedKey, co)
	if err != nil {
		t.Fatal(err)
	}
	return &integration{fake: fake, client: c}
}

// waitCtx bounds a wait generously: the machine may be slow.
func waitCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func TestIntegrationBills(t *testing.T) {
	t.Parallel()
	for _, long := range []bool{false, true} {
		t.Run(map[bool]string{false: "short ids", true: "19-digit ids"}[long], func(t *testing.T) {
			t.Parallel()
			it := newIntegration(t, fliptest.Options{LongIDs: long}, flip.Options{})
			ctx := t.Context()
			expiry := time.Now().Add(48 * time.Hour).Truncate(time.Minute)

			b1, err := it.client.CreateBill(ctx, flip.CreateBillParams{Title: "Order 1", Type: flip.BillSingle, Amount: 45000,
				RedirectURL: "https://shop.example/thanks", ExpiredDate: expiry, IsAddressRequired: true})
			if err != nil {
				t.Fatal(err)
			}
			if b1.LinkID == "" || !strings.HasPrefix(b1.LinkURL, "http") || b1.Status != flip.BillActive ||
				!b1.ExpiredDate.Equal(expiry) || !b1.IsAddressRequired || b1.Step != flip.StepInputData {
				t.Errorf("created %+v", b1)
			}
			if long && len(b1.LinkID) != 19 {
				t.Errorf("LinkID %q is not 19 digits", b1.LinkID)
			}

			b2, err := it.client.CreateBill(ctx, flip.CreateBillParams{Title: "Order 2", Type: flip.BillSingle, Amount: 50000,
				Step: flip.StepPaymentMethod, SenderName: "Jon Snow", SenderEmail: "jon@example.com", SenderPhoneNumber: "0812"})
			if err != nil {
				t.Fatal(err)
			}
			if b2.Customer == nil || b2.Customer.Name != "Jon Snow" || b2.Step != flip.StepPaymentMethod {
				t.Errorf("step 2 bill %+v", b2)
			}

			b3, err := it.client.CreateBill(ctx, flip.CreateBillParams{Title: "Order 3", Type: flip.BillSingle, Amount: 60000,
				Step: flip.StepConfirmation, SenderName: "Jon Snow", SenderEmail: "jon@example.com",
				SenderBank: "mandiri", SenderBankType: flip.BankTypeVirtualAccount})
			if err != nil {
				t.Fatal(err)
			}
			if b3.BillPayment == nil || b3.BillPayment.Status != flip.PaymentPending || b3.BillPayment.ReceiverBankAccount == nil ||
				b3.BillPayment.ReceiverBankAccount.AccountNumber == "" || b3.BillPayment.CreatedAt.IsZero() || b3.PaymentURL == "" {
				t.Errorf("step 3 bill %+v (payment %+v)", b3, b3.BillPayment)
			}

			got, err := it.client.GetBill(ctx, string(b3.LinkID))
			if err != nil {
				t.Fatal(err)
			}
			if bank, typ := got.Method(); got.LinkID != b3.LinkID || bank != "mandiri" || typ != flip.BankTypeVirtualAccount {
				t.Errorf("GetBill = %+v", got)
			}

			all, err := it.client.ListBills(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(all) != 3 || all[0].LinkID != b1.LinkID {
				t.Errorf("ListBills = %d bills", len(all))
			}

			edited, err := it.client.EditBill(ctx, string(b1.LinkID), flip.EditBillParams{Title: new("Order 1 (edited)"),
				Amount: new(int64(47000)), Status: new(flip.BillInactive)})
			if err != nil {
				t.Fatal(err)
			}
			if edited.Title != "Order 1 (edited)" || edited.Amount != 47000 || edited.Status != flip.BillInactive {
				t.Errorf("edited %+v", edited)
			}

			if _, err := it.client.GetBill(ctx, "999999"); !errors.Is(err, provider.CodeNotFound) {
				t.Errorf("unknown bill: %v, want CodeNotFound", err)
			}
		})
	}
}

func TestIntegrationPayments(t *testing.T) {
	t.Parallel()
	it := newIntegration(t, fliptest.Options{}, flip.Options{Environment: flip.Production})
	ctx := t.Context()
	var ids []string
	for _, title := range []string{"A", "B", "C"} {
		b, err := it.client.CreateBill(ctx, flip.CreateBillParams{Title: "Order " + title, Type: flip.BillMultiple, Amount: 20000})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, string(b.LinkID))
	}
	empty, err := it.client.ListBillPayments(ctx, ids[0], flip.PaymentQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if len(empty.Data) != 0 || empty.TotalData != 0 {
		t.Errorf("payments of an unpaid bill = %+v", empty)
	}
	for i := range 3 {
		if _, err := it.fake.Pay(ctx, ids[0], fliptest.PayOptions{ReferenceID: "ref-" + string(rune('0'+i))}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := it.fake.Fail(ctx, ids[1]); err != nil {
		t.Fatal(err)
	}

	page, err := it.client.ListBillPayments(ctx, ids[0], flip.PaymentQuery{Pagination: 2, Page: 2, SortBy: flip.SortByCreatedAt, SortType: flip.SortAsc})
	if err != nil {
		t.Fatal(err)
	}
	if page.LinkID != flip.ID(ids[0]) || page.TotalData != 3 || page.TotalPage != 2 || page.Page != 2 || len(page.Data) != 1 {
		t.Errorf("page 2 = %+v", page)
	} else if p := page.Data[0]; p.Status != flip.PaymentSuccessful || p.Amount != 20000 || p.CreatedAt.IsZero() || p.CompletedAt.IsZero() {
		t.Errorf("payment = %+v", p)
	}

	today := time.Now()
	everything, err := it.client.ListPayments(ctx, flip.PaymentQuery{StartDate: today.AddDate(0, 0, -1), EndDate: today.AddDate(0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	if everything.TotalData != 4 {
		t.Errorf("ListPayments total = %d, want 4", everything.TotalData)
	}
	byRef, err := it.client.ListPayments(ctx, flip.PaymentQuery{ReferenceID: "ref-1"})
	if err != nil {
		t.Fatal(err)
	}
	if len(byRef.Data) != 1 || byRef.Data[0].ReferenceID != "ref-1" {
		t.Errorf("by reference = %+v", byRef.Data)
	}

	conf, err := it.client.ConfirmBillPayment(ctx, string(byRef.Data[0].ID))
	if err != nil {
		t.Fatal(err)
	}
	if conf.ConfirmedAt.IsZero() || conf.PaymentURL == "" {
		t.Errorf("confirmation = %+v", conf)
	}
	if _, err := it.client.ConfirmBillPayment(ctx, "PGPWF0"); !errors.Is(err, provider.CodeNotFound) {
		t.Errorf("confirming an unknown payment: %v, want CodeNotFound", err)
	}
	if _, err := it.client.ListBillPayments(ctx, "424242", flip.PaymentQuery{}); !errors.Is(err, provider.CodeNotFound) {
		t.Errorf("payments of an unknown bill: %v, want CodeNotFound", err)
	}
}

func TestIntegrationErrorsAndMaintenance(t *testing.T) {
	t.Parallel()
	it := newIntegration(t, fliptest.Options{}, flip.Options{})
	ctx := t.Context()

	on, err := it.client.IsMaintenance(ctx)
	if err != nil || on {
		t.Errorf("IsMaintenance = %v, %v", on, err)
	}
	it.fake.SetMaintenance(true)
	if on, err := it.client.IsMaintenance(ctx); err != nil || !on {
		t.Errorf("IsMaintenance during maintenance = %v, %v", on, err)
	}
	if _, err := it.client.ListBills(ctx); !errors.Is(err, provider.CodeUnauthenticated) {
		t.Errorf("ListBills during maintenance: %v, want 401", err)
	}
	it.fake.SetMaintenance(false)

	wrong, err := flip.NewClient("not-the-key", flip.Options{BaseURL: it.fake.URL})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := wrong.ListBills(ctx); !errors.Is(err, provider.CodeUnauthenticated) || strings.Contains(err.Error(), "not-the-key") {
		t.Errorf("wrong key: %v", err)
	}

	// Rules the client leaves to Flip come back as *APIError with field errors.
	_, err = it.client.CreateBill(ctx, flip.CreateBillParams{Title: "t", Type: flip.BillSingle, Amount: 45000,
		Step: flip.StepConfirmation, SenderName: "Jon", SenderEmail: "jon@example.com", SenderBank: "nosuchbank",
		SenderBankType: flip.BankTypeVirtualAccount})
	var apiErr *flip.APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 422 || !errors.Is(err, provider.CodeInvalidArgument) || len(apiErr.Errors) == 0 {
		t.Errorf("disabled channel: %v", err)
	}

	// A used SINGLE bill cannot be reactivated: Flip's 1049 is a conflict.
	b, err := it.client.CreateBill(ctx, flip.CreateBillParams{Title: "Once", Type: flip.BillSingle, Amount: 45000})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := it.fake.Pay(ctx, string(b.LinkID), fliptest.PayOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := it.client.EditBill(ctx, string(b.LinkID), flip.EditBillParams{Status: new(flip.BillActive)}); !errors.Is(err, provider.CodeConflict) {
		t.Errorf("reactivating a used bill: %v, want CodeConflict", err)
	}
}

func TestIntegrationFaults(t *testing.T) {
	t.Parallel()
	it := newIntegration(t, fliptest.Options{}, flip.Options{MaxRetries: 3})
	ctx := t.Context()

	// Reads survive transient failures.
	it.fake.InjectFault(fliptest.Fault{Method: "GET", Status: 500, Body: `{"name":"Internal Server Error","message":"boom","status":500}`, Times: 2})
	if _, err := it.client.ListBills(ctx); err != nil {
		t.Errorf("ListBills after two 500s: %v", err)
	}

	// A gateway's HTML page on a write is reported, not retried.
	it.fake.InjectFault(fliptest.Fault{Method: "POST", Status: 502, ContentType: "text/html",
		Body: string(readTestdata(t, "error_gateway.html")), Times: 1})
	_, err := it.client.CreateBill(ctx, flip.CreateBillParams{Title: "t", Type: flip.BillSingle, Amount: 45000})
	var apiErr *flip.APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 502 || !errors.Is(err, provider.CodeUnavailable) {
		t.Errorf("502 on create: %v", err)
	}
	if bills, _ := it.client.ListBills(ctx); len(bills) != 0 {
		t.Errorf("%d bills exist, want 0: the failed create must not have been retried", len(bills))
	}

	// A slow Flip is cut off by the context.
	it.fake.InjectFault(fliptest.Fault{Method: "GET", Delay: time.Hour, Times: 1})
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if _, err := it.client.ListBills(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("slow Flip: %v, want DeadlineExceeded", err)
	}
}

// receiver is a callback endpoint backed by a Provider.
type receiver struct {
	mu     sync.Mutex
	events []*provider.Event
	errs   []error
}

func (rc *receiver) handler(p *flip.Provider) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ev, err := p.ParseCallback(r.Context(), r)
		rc.mu.Lock()
		defer rc.mu.Unlock()
		if err != nil {
			rc.errs = append(rc.errs, err)
			http.Error(w, "refused", http.StatusUnauthorized)
			return
		}
		rc.events = append(rc.events, ev)
	})
}

func (rc *receiver) snapshot() ([]*provider.Event, []error) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]*provider.Event(nil), rc.events...), append([]error(nil), rc.errs...)
}

func TestIntegrationProviderEndToEnd(t *testing.T) {
	t.Parallel()
	it := newIntegration(t, fliptest.Options{LongIDs: true}, flip.Options{})
	p := flip.NewProvider(it.client, flip.ProviderOptions{CallbackToken: testToken})
	var rc receiver
	hook := httptest.NewServer(rc.handler(p))
	t.Cleanup(hook.Close)
	it.fake.SetCallbackURL(hook.URL)
	ctx := t.Context()

	link, err := p.CreateLink(ctx, provider.CreateLinkParams{Title: "Order 9", Amount: provider.Rupiah(45000),
		Step: provider.StepPaymentMethod, Customer: provider.Customer{Name: "Jon Snow", Email: "jon@example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(link.ID) != 19 || link.Provider != "flip" || link.Customer.Email != "jon@example.com" || link.Status != provider.LinkActive {
		t.Errorf("link = %+v", link)
	}
	if payments, err := p.ListLinkPayments(ctx, link); err != nil || len(payments) != 0 {
		t.Errorf("payments before paying = %v, %v", payments, err)
	}

	paid, err := it.fake.Pay(ctx, link.ID, fliptest.PayOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := it.fake.WaitDeliveries(waitCtx(t), 1); err != nil {
		t.Fatal(err)
	}
	events, errs := rc.snapshot()
	if len(errs) != 0 || len(events) != 1 {
		t.Fatalf("events %v, errors %v", events, errs)
	}
	ev := events[0]
	if ev.Payment.ID != paid.ID || ev.Payment.LinkID != link.ID || ev.Payment.Status != provider.PaymentSuccessful ||
		ev.Payment.Amount != provider.Rupiah(45000) || ev.Source != provider.SourceCallback || len(ev.Raw) == 0 {
		t.Errorf("event = %+v", ev)
	}

	payments, err := p.ListLinkPayments(ctx, link)
	if err != nil {
		t.Fatal(err)
	}
	if len(payments) != 1 || payments[0].ID != paid.ID || payments[0].Status != provider.PaymentSuccessful || payments[0].LinkID != link.ID {
		t.Errorf("payments = %+v", payments)
	}
	all, err := p.ListPayments(ctx, provider.ListPaymentsParams{From: time.Now(), To: time.Now(), Order: provider.SortDescending})
	if err != nil || len(all) != 1 {
		t.Errorf("ListPayments = %+v, %v", all, err)
	}
	got, err := p.GetLink(ctx, link)
	if err != nil || got.Status != provider.LinkInactive {
		t.Errorf("paid SINGLE link = %+v, %v", got, err)
	}

	// An expiring MULTIPLE link cancels its pending payment.
	multi, err := p.CreateLink(ctx, provider.CreateLinkParams{Title: "Donation", Type: provider.LinkMultiple})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := it.fake.Expire(ctx, multi.ID); err != nil {
		t.Fatal(err)
	}
	if err := it.fake.WaitDeliveries(waitCtx(t), 2); err != nil {
		t.Fatal(err)
	}
	events, _ = rc.snapshot()
	if len(events) != 2 || events[1].Payment.Status != provider.PaymentCancelled || events[1].Payment.LinkID != multi.ID {
		_, errs := rc.snapshot()
		t.Errorf("events after expiry = %+v, errs %v, deliveries %+v", events, errs, it.fake.Deliveries())
	}

	deactivated, err := p.DeactivateLink(ctx, multi)
	if err != nil || deactivated.Status != provider.LinkInactive {
		t.Errorf("DeactivateLink = %+v, %v", deactivated, err)
	}
	edited, err := p.EditLink(ctx, multi, provider.EditLinkParams{Title: new("Donation (closed)")})
	if err != nil || edited.Title != "Donation (closed)" {
		t.Errorf("EditLink = %+v, %v", edited, err)
	}
}

func TestIntegrationWrongCallbackTokenIsRefused(t *testing.T) {
	t.Parallel()
	it := newIntegration(t, fliptest.Options{CallbackToken: "another-token", MaxRetries: -1}, flip.Options{})
	p := flip.NewProvider(it.client, flip.ProviderOptions{CallbackToken: testToken})
	var rc receiver
	hook := httptest.NewServer(rc.handler(p))
	t.Cleanup(hook.Close)
	it.fake.SetCallbackURL(hook.URL)

	b, err := it.client.CreateBill(t.Context(), flip.CreateBillParams{Title: "t", Type: flip.BillSingle, Amount: 45000})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := it.fake.Pay(t.Context(), string(b.LinkID), fliptest.PayOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := it.fake.WaitDeliveries(waitCtx(t), 1); err != nil {
		t.Fatal(err)
	}
	events, errs := rc.snapshot()
	if len(events) != 0 || len(errs) != 1 || !errors.Is(errs[0], flip.ErrInvalidToken) {
		t.Errorf("events %v, errors %v; want one ErrInvalidToken", events, errs)
	}
	if d := it.fake.Deliveries(); len(d) != 1 || d[0].StatusCode != http.StatusUnauthorized {
		t.Errorf("deliveries = %+v", d)
	}
}
