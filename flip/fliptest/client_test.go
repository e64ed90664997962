package fliptest_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/paylinkgo/paylink/flip"
	"github.com/paylinkgo/paylink/flip/fliptest"
	"github.com/paylinkgo/paylink/provider"
)

// These tests run package flip's client against the fake: two codebases
// written separately from flip-api.md must agree on the wire.

func TestClient_AgreesWithTheFake(t *testing.T) {
	t.Parallel()
	for _, long := range []bool{false, true} {
		name := "small ids"
		if long {
			name = "19-digit ids"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := fliptest.NewServer(fliptest.Options{SecretKey: "key", LongIDs: long})
			defer s.Close()
			c := s.Client()
			ctx := t.Context()

			b1, err := c.CreateBill(ctx, flip.CreateBillParams{Title: "Coffee", Type: flip.BillSingle, Amount: 45_000,
				RedirectURL: "https://example.com", ExpiredDate: time.Now().Add(time.Hour)})
			if err != nil {
				t.Fatal(err)
			}
			fb, ok := s.Bill(b1.LinkID.String())
			if !ok || b1.LinkURL != fb.LinkURL || b1.Amount != 45_000 || b1.Status != flip.BillActive || b1.ExpiredDate.IsZero() {
				t.Errorf("client bill %+v, fake bill %+v", b1, fb)
			}

			b3, err := c.CreateBill(ctx, flip.CreateBillParams{Title: "Tea", Type: flip.BillSingle, Amount: 20_000,
				Step: flip.StepConfirmation, SenderName: "Jon Snow", SenderEmail: "jon@example.com",
				SenderBank: "mandiri", SenderBankType: flip.BankTypeVirtualAccount})
			if err != nil {
				t.Fatal(err)
			}
			pending := s.Payments(b3.LinkID.String())[0]
			if b3.BillPayment == nil || b3.BillPayment.ID.String() != pending.ID ||
				b3.BillPayment.ReceiverBankAccount == nil || b3.BillPayment.ReceiverBankAccount.AccountNumber != pending.VANumber ||
				b3.PaymentURL != pending.PaymentURL {
				t.Errorf("step-3 bill %+v, fake payment %+v", b3, pending)
			}
			got3, err := c.GetBill(ctx, b3.LinkID.String())
			if err != nil {
				t.Fatal(err)
			}
			if bank, typ := got3.Method(); bank != "mandiri" || typ != flip.BankTypeVirtualAccount {
				t.Errorf("GetBill method = %s %s", bank, typ)
			}

			if bills, err := c.ListBills(ctx); err != nil || len(bills) != 2 {
				t.Errorf("ListBills = %d, %v", len(bills), err)
			}
			edited, err := c.EditBill(ctx, b1.LinkID.String(), flip.EditBillParams{Title: new("Coffee beans"), Amount: new(int64(50_000))})
			if err != nil || edited.Title != "Coffee beans" || edited.Amount != 50_000 {
				t.Errorf("EditBill = %+v, %v", edited, err)
			}

			paid, err := s.Pay(ctx, b3.LinkID.String(), fliptest.PayOptions{})
			if err != nil {
				t.Fatal(err)
			}
			page, err := c.ListBillPayments(ctx, b3.LinkID.String(), flip.PaymentQuery{})
			if err != nil {
				t.Fatal(err)
			}
			if page.TotalData != 1 || page.LinkID != b3.LinkID || page.Data[0].ID.String() != paid.ID ||
				page.Data[0].Status != flip.PaymentSuccessful || page.Data[0].CompletedAt.IsZero() {
				t.Errorf("ListBillPayments = %+v", page)
			}
			all, err := c.ListPayments(ctx, flip.PaymentQuery{SortBy: flip.SortByAmount, SortType: flip.SortDesc,
				StartDate: time.Now().AddDate(0, 0, -1), EndDate: time.Now().AddDate(0, 0, 1)})
			if err != nil || all.TotalData != 1 {
				t.Errorf("ListPayments = %+v, %v", all, err)
			}
			if on, err := c.IsMaintenance(ctx); err != nil || on {
				t.Errorf("IsMaintenance = %v, %v", on, err)
			}
		})
	}
}

func TestClient_ErrorsMapToPortableCodes(t *testing.T) {
	t.Parallel()
	s := fliptest.NewServer(fliptest.Options{SecretKey: "key"})
	defer s.Close()
	c := s.Client()
	ctx := t.Context()

	_, err := c.GetBill(ctx, "424242")
	var apiErr *flip.APIError
	if !errors.Is(err, provider.CodeNotFound) || !errors.As(err, &apiErr) || apiErr.StatusCode != 422 || apiErr.Errors[0].Code != 1050 {
		t.Errorf("unknown bill: %v", err)
	}

	wrong, err := flip.NewClient("wrong", flip.Options{BaseURL: s.URL})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := wrong.ListBills(ctx); !errors.Is(err, provider.CodeUnauthenticated) {
		t.Errorf("wrong key: %v", err)
	}

	s.InjectFault(fliptest.Fault{Method: http.MethodPost, PathPrefix: "/v2/pwf/bill", Status: 500, Body: `{"name":"Internal Server Error"}`, Times: 1})
	_, err = c.CreateBill(ctx, flip.CreateBillParams{Title: "Coffee", Type: flip.BillSingle, Amount: 45_000})
	if !errors.Is(err, provider.CodeUnavailable) {
		t.Errorf("500 on create: %v", err)
	}
	if n := len(s.Bills()); n != 0 {
		t.Errorf("a failed create was retried: %d bills", n)
	}
}

func TestProvider_ParsesTheFakesCallbacks(t *testing.T) {
	t.Parallel()
	events := make(chan *provider.Event, 4)
	var p *flip.Provider
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ev, err := p.ParseCallback(r.Context(), r)
		if err != nil {
			t.Errorf("ParseCallback: %v", err)
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		events <- ev
	}))
	defer receiver.Close()
	s := fliptest.NewServer(fliptest.Options{SecretKey: "key", CallbackToken: "token", CallbackURL: receiver.URL, LongIDs: true})
	defer s.Close()
	p = flip.NewProvider(s.Client(), flip.ProviderOptions{CallbackToken: "token"})
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()

	link, err := p.CreateLink(ctx, provider.CreateLinkParams{Title: "Coffee", Amount: provider.Rupiah(45_000)})
	if err != nil {
		t.Fatal(err)
	}
	paid, err := s.Pay(ctx, link.ID, fliptest.PayOptions{})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case ev := <-events:
		if ev.Payment.ID != paid.ID || ev.Payment.LinkID != link.ID || ev.Payment.Status != provider.PaymentSuccessful ||
			ev.Payment.Amount != provider.Rupiah(45_000) {
			t.Errorf("event payment = %+v", ev.Payment)
		}
	case <-ctx.Done():
		t.Fatal("no callback")
	}
	payments, err := p.ListLinkPayments(ctx, link)
	if err != nil || len(payments) != 1 || payments[0].Status != provider.PaymentSuccessful || payments[0].LinkID != link.ID {
		t.Errorf("ListLinkPayments = %+v, %v", payments, err)
	}
}
