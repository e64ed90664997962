package flip_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/paylinkgo/paylink/flip"
	"github.com/paylinkgo/paylink/provider"
)

func newProvider(t *testing.T, opts flip.ProviderOptions, handle func(n int, r *http.Request) (int, string)) (*flip.Provider, *fake) {
	t.Helper()
	c, f := setup(t, flip.Options{}, handle)
	return flip.NewProvider(c, opts), f
}

func TestProviderNameAndClient(t *testing.T) {
	t.Parallel()
	c, err := flip.NewClient("k", flip.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if p := flip.NewProvider(c, flip.ProviderOptions{}); p.Name() != "flip" || p.Client() != c {
		t.Errorf("Name, Client = %q, %v", p.Name(), p.Client())
	}
	p := flip.NewProvider(c, flip.ProviderOptions{Name: "flip-b2b", CallbackToken: testToken})
	if p.Name() != "flip-b2b" {
		t.Errorf("Name = %q", p.Name())
	}
	if s := fmt.Sprintf("%v %+v %#v", p, p, p); strings.Contains(s, testToken) {
		t.Errorf("token printed: %s", s)
	}
}

func TestCheckCallbackConfig(t *testing.T) {
	t.Parallel()
	c, _ := flip.NewClient("k", flip.Options{})
	if err := flip.NewProvider(c, flip.ProviderOptions{}).CheckCallbackConfig(); !errors.Is(err, flip.ErrTokenNotConfigured) {
		t.Errorf("without token: %v, want ErrTokenNotConfigured", err)
	}
	if err := flip.NewProvider(c, flip.ProviderOptions{CallbackToken: "  \n"}).CheckCallbackConfig(); !errors.Is(err, flip.ErrTokenNotConfigured) {
		t.Errorf("with a blank token: %v, want ErrTokenNotConfigured", err)
	}
	if err := flip.NewProvider(c, flip.ProviderOptions{CallbackToken: "t"}).CheckCallbackConfig(); err != nil {
		t.Errorf("with token: %v", err)
	}
}

func TestCreateLink(t *testing.T) {
	t.Parallel()
	customer := provider.Customer{Name: "Jon Snow", Email: "jon.snow@example.com", Phone: "0812", Address: "Jakarta"}
	method := provider.PaymentMethod{Bank: "mandiri", Type: "virtual_account"}
	tests := []struct {
		name     string
		params   provider.CreateLinkParams
		response string
		wantForm url.Values
	}{
		{"defaults: SINGLE, step 1, no sender fields",
			provider.CreateLinkParams{Title: "Order 1", Amount: provider.Rupiah(45000), Customer: customer, Method: method},
			"bill_step1.json",
			url.Values{"title": {"Order 1"}, "type": {"SINGLE"}, "amount": {"45000"}, "step": {"1"},
				"is_address_required": {"0"}, "is_phone_number_required": {"0"}}},
		{"step 2 sends the customer, not the method",
			provider.CreateLinkParams{Title: "Order 2", Type: provider.LinkMultiple, Amount: provider.Money{Amount: 45000},
				Step: provider.StepPaymentMethod, Customer: customer, Method: method, RequireAddress: true, RedirectURL: "https://shop.example/r"},
			"bill_step2.json",
			url.Values{"title": {"Order 2"}, "type": {"MULTIPLE"}, "amount": {"45000"}, "step": {"2"},
				"is_address_required": {"1"}, "is_phone_number_required": {"0"}, "redirect_url": {"https://shop.example/r"},
				"sender_name": {"Jon Snow"}, "sender_email": {"jon.snow@example.com"}, "sender_phone_number": {"0812"}, "sender_address": {"Jakarta"}}},
		{"step 3 sends both",
			provider.CreateLinkParams{Title: "test", Amount: provider.Rupiah(45000), Step: provider.StepConfirmation,
				Customer: customer, Method: method, RequirePhone: true},
			"bill_step3_va.json",
			url.Values{"title": {"test"}, "type": {"SINGLE"}, "amount": {"45000"}, "step": {"3"},
				"is_address_required": {"0"}, "is_phone_number_required": {"1"},
				"sender_name": {"Jon Snow"}, "sender_email": {"jon.snow@example.com"}, "sender_phone_number": {"0812"}, "sender_address": {"Jakarta"},
				"sender_bank": {"mandiri"}, "sender_bank_type": {"virtual_account"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, f := newProvider(t, flip.ProviderOptions{}, answer(200, string(readTestdata(t, tt.response))))
			l, err := p.CreateLink(t.Context(), tt.params)
			if err != nil {
				t.Fatal(err)
			}
			if form, _ := url.ParseQuery(f.last().Body); !equalValues(form, tt.wantForm) {
				t.Errorf("form = %v\nwant   %v", form, tt.wantForm)
			}
			if l.Provider != "flip" || !strings.HasPrefix(l.URL, "https://flip.id/") || l.Amount != provider.Rupiah(45000) ||
				l.Status != provider.LinkActive || l.Type != provider.LinkSingle || len(l.Raw) == 0 {
				t.Errorf("link = %+v", l)
			}
		})
	}
}

func TestCreateLinkStep3Mapping(t *testing.T) {
	t.Parallel()
	p, _ := newProvider(t, flip.ProviderOptions{Name: "flip-sandbox"}, answer(200, string(readTestdata(t, "bill_step3_va.json"))))
	l, err := p.CreateLink(t.Context(), provider.CreateLinkParams{Title: "test", Amount: provider.Rupiah(45000),
		Step: provider.StepConfirmation, Customer: provider.Customer{Name: "Jon Snow", Email: "jon.snow@example.com"},
		Method: provider.PaymentMethod{Bank: "mandiri", Type: "virtual_account"}, IdempotencyKey: "order-1"})
	if err != nil {
		t.Fatal(err)
	}
	want := provider.Link{
		ID: "130088", Provider: "flip-sandbox", URL: "https://flip.id/pwf-sandbox/$testflip/#test-7072", Title: "test",
		Type: provider.LinkSingle, Amount: provider.Rupiah(45000), Status: provider.LinkActive, Step: provider.StepConfirmation,
		Customer:       provider.Customer{Name: "Jon Snow", Email: "jon.snow@example.com"},
		Method:         provider.PaymentMethod{Bank: "mandiri", Type: "virtual_account"},
		PaymentURL:     "https://flip.id/pwf-sandbox/transaction/consolidated?redirected_from=internal&id=2ba565331b03401a8b04fe643bd15db3",
		RedirectURL:    "https://example.com",
		IdempotencyKey: "order-1",
	}
	if !json.Valid(l.Raw) {
		t.Errorf("Raw = %q", l.Raw)
	}
	l.Raw = nil
	if fmt.Sprintf("%+v", *l) != fmt.Sprintf("%+v", want) {
		t.Errorf("link\n got %+v\nwant %+v", *l, want)
	}
}

func TestCreateLinkRefusesOtherCurrencies(t *testing.T) {
	t.Parallel()
	p, f := newProvider(t, flip.ProviderOptions{}, answer(200, `{}`))
	_, err := p.CreateLink(t.Context(), provider.CreateLinkParams{Title: "t", Amount: provider.Money{Amount: 100, Currency: "USD"}})
	if !errors.Is(err, provider.CodeInvalidArgument) || provider.FieldErrorsOf(err)[0].Field != "amount" {
		t.Errorf("err = %v", err)
	}
	if len(f.requests()) != 0 {
		t.Error("a request was sent")
	}
}

func TestCreateLinkValidationUsesFlipNames(t *testing.T) {
	t.Parallel()
	p, _ := newProvider(t, flip.ProviderOptions{}, answer(200, `{}`))
	_, err := p.CreateLink(t.Context(), provider.CreateLinkParams{Title: "t", Amount: provider.Rupiah(45000),
		Step: provider.StepPaymentMethod, Customer: provider.Customer{Name: "Jon"}})
	fields := provider.FieldErrorsOf(err)
	if !errors.Is(err, provider.CodeInvalidArgument) || len(fields) != 1 || fields[0].Field != "sender_email" || fields[0].Rule != "required" {
		t.Errorf("err = %v, fields %+v", err, fields)
	}
}

func TestGetLink(t *testing.T) {
	t.Parallel()
	p, f := newProvider(t, flip.ProviderOptions{}, answer(200, string(readTestdata(t, "get_bill_step3.json"))))
	l, err := p.GetLink(t.Context(), &provider.Link{ID: "4706"})
	if err != nil {
		t.Fatal(err)
	}
	if f.last().Path != "/v2/pwf/4706/bill" {
		t.Errorf("path = %s", f.last().Path)
	}
	wantExpiry := time.Date(2022, 12, 30, 8, 50, 0, 0, time.UTC)
	if l.ID != "4706" || !l.ExpiresAt.Equal(wantExpiry) || l.Method != (provider.PaymentMethod{Bank: "bni", Type: "virtual_account"}) ||
		l.Customer.Address != "Jl. Jakarta" {
		t.Errorf("link = %+v", l)
	}
}

func TestGetLinkNotFound(t *testing.T) {
	t.Parallel()
	p, _ := newProvider(t, flip.ProviderOptions{}, answer(404, string(readTestdata(t, "error_not_found.json"))))
	if _, err := p.GetLink(t.Context(), &provider.Link{ID: "1"}); !errors.Is(err, provider.CodeNotFound) {
		t.Errorf("err = %v, want CodeNotFound", err)
	}
}

func TestEditAndDeactivateLink(t *testing.T) {
	t.Parallel()
	p, f := newProvider(t, flip.ProviderOptions{}, answer(200, string(readTestdata(t, "edit_bill.json"))))
	expiry := time.Date(2040, 1, 1, 0, 0, 0, 0, time.UTC) // 07:00 in Jakarta
	l, err := p.EditLink(t.Context(), &provider.Link{ID: "4706"}, provider.EditLinkParams{Title: new("New"), Type: new(provider.LinkMultiple),
		Amount: new(provider.Rupiah(50000)), ExpiresAt: &expiry, Status: new(provider.LinkActive), RequirePhone: new(true)})
	if err != nil {
		t.Fatal(err)
	}
	want := url.Values{"title": {"New"}, "type": {"MULTIPLE"}, "amount": {"50000"}, "expired_date": {"2040-01-01 07:00"},
		"status": {"ACTIVE"}, "is_phone_number_required": {"1"}}
	if req := f.last(); req.Method != "PUT" || req.Path != "/v2/pwf/4706/bill" {
		t.Errorf("request = %s %s", req.Method, req.Path)
	} else if form, _ := url.ParseQuery(req.Body); !equalValues(form, want) {
		t.Errorf("form = %v\nwant   %v", form, want)
	}
	if l.Status != provider.LinkInactive || l.Type != provider.LinkMultiple {
		t.Errorf("link = %+v", l)
	}

	if _, err := p.DeactivateLink(t.Context(), &provider.Link{ID: "4706"}); err != nil {
		t.Fatal(err)
	}
	if form, _ := url.ParseQuery(f.last().Body); !equalValues(form, url.Values{"status": {"INACTIVE"}}) {
		t.Errorf("deactivate form = %v", form)
	}
	if _, err := provider.DeactivateLink(t.Context(), p, &provider.Link{ID: "4706"}); err != nil {
		t.Errorf("through provider.DeactivateLink: %v", err)
	}

	if _, err := p.EditLink(t.Context(), &provider.Link{ID: "4706"}, provider.EditLinkParams{Amount: &provider.Money{Amount: 1, Currency: "EUR"}}); !errors.Is(err, provider.CodeInvalidArgument) {
		t.Errorf("EUR amount: err = %v", err)
	}
}

// paymentJSON is one listed payment.
func paymentJSON(id string, status string, created string) string {
	return fmt.Sprintf(`{"id":%q,"bill_link":"flip.id/$co/#p","bill_title":"t","sender_name":"n","sender_bank":"bni",`+
		`"sender_bank_type":"virtual_account","virtual_account_number":"123","amount":45000,"status":%q,`+
		`"settlement_status":"Pending","reference_id":null,"payment_url":"https://flip.id/x","created_at":%q,"completed_at":null}`,
		id, status, created)
}

// pages answers payment lists from a fixed list, honouring page and
// pagination (10 per page without it).
func pages(payments []string) func(int, *http.Request) (int, string) {
	return func(_ int, r *http.Request) (int, string) {
		q := r.URL.Query()
		page, _ := strconv.Atoi(q.Get("page"))
		size, _ := strconv.Atoi(q.Get("pagination"))
		if size == 0 {
			size = 10
		}
		page, size = max(page, 1), max(size, 1)
		total := (len(payments) + size - 1) / size
		lo, hi := min((page-1)*size, len(payments)), min(page*size, len(payments))
		return 200, fmt.Sprintf(`{"total_data":%d,"data_per_page":%d,"total_page":%d,"page":%d,"data":[%s]}`,
			len(payments), hi-lo, total, page, strings.Join(payments[lo:hi], ","))
	}
}

func TestListLinkPaymentsReadsEveryPage(t *testing.T) {
	t.Parallel()
	var payments []string
	for i := range 250 {
		status := []string{"PENDING", "SUCCESSFUL", "FAILED", "CANCELLED", "WEIRD"}[i%5]
		payments = append(payments, paymentJSON(fmt.Sprintf("PGPWF%03d", i), status, "2024-06-13 10:49:10"))
	}
	p, f := newProvider(t, flip.ProviderOptions{PageSize: 100}, pages(payments))
	got, err := p.ListLinkPayments(t.Context(), &provider.Link{ID: "110561"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 250 {
		t.Fatalf("got %d payments, want 250", len(got))
	}
	if n := len(f.requests()); n != 3 {
		t.Errorf("%d requests, want 3 pages of 100", n)
	}
	for _, r := range f.requests() {
		if q, _ := url.ParseQuery(r.RawQuery); r.Path != "/v2/pwf/110561/payment" || q.Get("pagination") != "100" {
			t.Errorf("request = %s?%s", r.Path, r.RawQuery)
		}
	}
	first := got[0]
	if first.ID != "PGPWF000" || first.LinkID != "110561" || first.Provider != "flip" || first.Amount != provider.Rupiah(45000) ||
		first.Status != provider.PaymentPending || first.VANumber != "123" ||
		first.Method != (provider.PaymentMethod{Bank: "bni", Type: "virtual_account"}) ||
		!first.CreatedAt.Equal(time.Date(2024, 6, 13, 3, 49, 10, 0, time.UTC)) || len(first.Raw) == 0 {
		t.Errorf("first payment = %+v", first)
	}
	wantStatus := []provider.PaymentStatus{provider.PaymentPending, provider.PaymentSuccessful, provider.PaymentFailed,
		provider.PaymentCancelled, provider.PaymentPending}
	for i, pay := range got[:5] {
		if pay.Status != wantStatus[i] {
			t.Errorf("payment %d status = %s (raw %s), want %s", i, pay.Status, pay.RawStatus, wantStatus[i])
		}
	}
	if got[4].RawStatus != "WEIRD" {
		t.Errorf("RawStatus = %q, want WEIRD kept", got[4].RawStatus)
	}
}

func TestListLinkPaymentsEmpty(t *testing.T) {
	t.Parallel()
	p, _ := newProvider(t, flip.ProviderOptions{}, pages(nil))
	got, err := p.ListLinkPayments(t.Context(), &provider.Link{ID: "1"})
	if err != nil || got == nil || len(got) != 0 {
		t.Errorf("got %v, %v; want an empty, non-nil slice", got, err)
	}
}

func TestListLinkPaymentsPageSize(t *testing.T) {
	t.Parallel()
	var payments []string
	for i := range 25 {
		payments = append(payments, paymentJSON(fmt.Sprintf("PGPWF%03d", i), "PENDING", "2024-06-13 10:49:10"))
	}
	t.Run("none by default: Flip's own page size", func(t *testing.T) {
		t.Parallel()
		p, f := newProvider(t, flip.ProviderOptions{}, pages(payments))
		got, err := p.ListLinkPayments(t.Context(), &provider.Link{ID: "7"})
		if err != nil || len(got) != 25 {
			t.Fatalf("got %d payments, %v; want 25", len(got), err)
		}
		for _, r := range f.requests() {
			if q, _ := url.ParseQuery(r.RawQuery); q.Has("pagination") {
				t.Errorf("query %q sends a page size", r.RawQuery)
			}
		}
		if n := len(f.requests()); n != 3 {
			t.Errorf("%d requests, want 3 pages of Flip's 10", n)
		}
	})
	t.Run("a size Flip refuses is dropped", func(t *testing.T) {
		t.Parallel()
		refuse := `{"code":"VALIDATION_ERROR","errors":[{"attribute":"pagination","code":1053,"message":"Param pagination must be a number greater than 0"}]}`
		p, f := newProvider(t, flip.ProviderOptions{PageSize: 500}, func(n int, r *http.Request) (int, string) {
			if r.URL.Query().Get("pagination") == "500" {
				return 422, refuse
			}
			return pages(payments)(n, r)
		})
		got, err := p.ListLinkPayments(t.Context(), &provider.Link{ID: "7"})
		if err != nil || len(got) != 25 {
			t.Fatalf("got %d payments, %v; want 25", len(got), err)
		}
		if n := len(f.requests()); n != 4 {
			t.Errorf("%d requests, want the refused one and 3 pages", n)
		}
	})
}

func TestListLinkPaymentsWithoutTotalPage(t *testing.T) {
	t.Parallel()
	// total_page is missing ("null"): read on until a page brings nothing
	// new, so a server that ignores page cannot loop forever.
	p, f := newProvider(t, flip.ProviderOptions{}, func(_ int, r *http.Request) (int, string) {
		switch r.URL.Query().Get("page") {
		case "1":
			return 200, `{"total_page":"null","data":[` + paymentJSON("A", "PENDING", "2024-06-13 10:49:10") + `]}`
		case "2":
			return 200, `{"total_page":"null","data":[` + paymentJSON("B", "PENDING", "2024-06-13 10:49:10") + `]}`
		}
		return 200, `{"total_page":"null","data":[` + paymentJSON("B", "PENDING", "2024-06-13 10:49:10") + `]}`
	})
	got, err := p.ListLinkPayments(t.Context(), &provider.Link{ID: "7"})
	if err != nil || len(got) != 2 || got[0].ID != "A" || got[1].ID != "B" {
		t.Fatalf("got %+v, %v; want A and B", got, err)
	}
	if n := len(f.requests()); n != 3 {
		t.Errorf("%d requests, want 3 (the third brings nothing new)", n)
	}
}

func TestListLinkPayments422(t *testing.T) {
	t.Parallel()
	notFound1050 := string(readTestdata(t, "error_bill_not_found.json"))
	notFound1043 := `{"code":"VALIDATION_ERROR","errors":[{"attribute":"id","code":1043,"message":"Param Bill Link ID is Not Found"}]}`
	other422 := `{"code":"VALIDATION_ERROR","errors":[{"attribute":"bill","code":999,"message":"no payment"}]}`
	contentType := `{"code":"VALIDATION_ERROR","errors":[{"attribute":"Content-Type","code":999,"message":"Content-Type must be application/x-www-form-urlencoded"}]}`
	tests := []struct {
		name      string
		billState int // status of GET bill
		payments  string
		wantErr   provider.ErrorCode // CodeUnknown: success with no payments
		wantCalls []string
	}{
		// Flip answers Get Payment of a bill without payments as if the
		// bill did not exist; only Get Bill tells the two apart.
		{"1050, bill exists: no payments yet", 200, notFound1050, provider.CodeUnknown, []string{"/v2/pwf/7/payment", "/v2/pwf/7/bill"}},
		{"1043, bill exists: no payments yet", 200, notFound1043, provider.CodeUnknown, []string{"/v2/pwf/7/payment", "/v2/pwf/7/bill"}},
		{"1050, bill missing: not found", 422, notFound1050, provider.CodeNotFound, []string{"/v2/pwf/7/payment", "/v2/pwf/7/bill"}},
		{"1043, bill missing: not found", 404, notFound1043, provider.CodeNotFound, []string{"/v2/pwf/7/payment", "/v2/pwf/7/bill"}},
		// Any other 422 is an error as it came, never an empty list.
		{"another 422 is an error", 200, other422, provider.CodeInvalidArgument, []string{"/v2/pwf/7/payment"}},
		{"a refused request format is an error", 200, contentType, provider.CodeInvalidArgument, []string{"/v2/pwf/7/payment"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, f := newProvider(t, flip.ProviderOptions{}, func(_ int, r *http.Request) (int, string) {
				if strings.HasSuffix(r.URL.Path, "/payment") {
					return 422, tt.payments
				}
				switch tt.billState {
				case 200:
					return 200, strings.Replace(string(readTestdata(t, "bill_step1.json")), "130068", "7", 1)
				case 422:
					return 422, notFound1050
				}
				return tt.billState, string(readTestdata(t, "error_not_found.json"))
			})
			got, err := p.ListLinkPayments(t.Context(), &provider.Link{ID: "7"})
			if tt.wantErr == provider.CodeUnknown {
				if err != nil || got == nil || len(got) != 0 {
					t.Errorf("got %v, %v; want an empty list", got, err)
				}
			} else if !errors.Is(err, tt.wantErr) || got != nil {
				t.Errorf("got %v, %v; want error %v", got, err, tt.wantErr)
			}
			var paths []string
			for _, r := range f.requests() {
				paths = append(paths, r.Path)
			}
			if fmt.Sprint(paths) != fmt.Sprint(tt.wantCalls) {
				t.Errorf("calls = %v, want %v", paths, tt.wantCalls)
			}
		})
	}
	t.Run("after the first page it is an error", func(t *testing.T) {
		t.Parallel()
		var payments []string
		for i := range 15 {
			payments = append(payments, paymentJSON(fmt.Sprintf("P%02d", i), "PENDING", "2024-06-13 10:49:10"))
		}
		p, _ := newProvider(t, flip.ProviderOptions{}, func(n int, r *http.Request) (int, string) {
			if r.URL.Query().Get("page") == "2" {
				return 422, notFound1050
			}
			return pages(payments)(n, r)
		})
		if got, err := p.ListLinkPayments(t.Context(), &provider.Link{ID: "7"}); !errors.Is(err, provider.CodeNotFound) {
			t.Errorf("got %d payments, %v; want the error", len(got), err)
		}
	})
}

func TestListPayments(t *testing.T) {
	t.Parallel()
	payments := []string{
		paymentJSON("A", "SUCCESSFUL", "2024-05-31 23:59:59"), // the day before From
		paymentJSON("B", "SUCCESSFUL", "2024-06-01 00:00:00"),
		paymentJSON("C", "PENDING", "2024-06-01 23:59:59"),
		paymentJSON("D", "FAILED", "2024-06-02 00:00:00"), // the day after To
	}
	p, f := newProvider(t, flip.ProviderOptions{}, pages(payments))
	day := time.Date(2024, 6, 1, 15, 0, 0, 0, flip.Location())
	got, err := p.ListPayments(t.Context(), provider.ListPaymentsParams{From: day, To: day, Order: provider.SortDescending})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, pay := range got {
		ids = append(ids, pay.ID)
	}
	if fmt.Sprint(ids) != "[B C]" {
		t.Errorf("ids = %v, want [B C] (one inclusive day)", ids)
	}
	q, _ := url.ParseQuery(f.last().RawQuery)
	if q.Get("start_date") != "2024-06-01" || q.Get("end_date") != "2024-06-02" || q.Get("sort_by") != "created_at" || q.Get("sort_type") != "sort_desc" {
		t.Errorf("query = %v", q)
	}

	limited, err := p.ListPayments(t.Context(), provider.ListPaymentsParams{Limit: 3, Order: provider.SortAscending})
	if err != nil || len(limited) != 3 {
		t.Errorf("with Limit 3: %d payments, %v", len(limited), err)
	}
	if _, err := provider.ListPayments(t.Context(), p, provider.ListPaymentsParams{}); err != nil {
		t.Errorf("through provider.ListPayments: %v", err)
	}
}

func TestProviderParseCallback(t *testing.T) {
	t.Parallel()
	c, _ := flip.NewClient("k", flip.Options{})
	p := flip.NewProvider(c, flip.ProviderOptions{Name: "flip-test", CallbackToken: testToken})
	body := url.Values{"data": {string(readTestdata(t, "callback/seed_cancelled.json"))}, "token": {testToken}}.Encode()
	ev, err := p.ParseCallback(t.Context(), callbackRequest(t, body))
	if err != nil {
		t.Fatal(err)
	}
	if ev.Provider != "flip-test" || ev.Source != provider.SourceCallback || string(ev.Raw) != string(flip.RedactToken([]byte(body))) || ev.ReceivedAt.IsZero() {
		t.Errorf("event = %+v", ev)
	}
	pay := ev.Payment
	if pay.ID != "PGPWF22595173324048856" || pay.LinkID != "130110" || pay.Provider != "flip-test" ||
		pay.Amount != provider.Rupiah(45000) || pay.Status != provider.PaymentCancelled || pay.RawStatus != "CANCELLED" ||
		pay.Sender.Email != "ap-static-va-testing@gmail.com" || pay.Method.Bank != "qris" ||
		!pay.CreatedAt.Equal(time.Date(2024, 9, 2, 7, 17, 13, 0, time.UTC)) || !json.Valid(pay.Raw) {
		t.Errorf("payment = %+v", pay)
	}
	if key := ev.Key().String(); key != "flip-test:PGPWF22595173324048856:CANCELLED" {
		t.Errorf("key = %s", key)
	}

	unconfigured := flip.NewProvider(c, flip.ProviderOptions{})
	if _, err := unconfigured.ParseCallback(t.Context(), callbackRequest(t, body)); !errors.Is(err, provider.CodeUnauthenticated) {
		t.Errorf("without a token: %v, want CodeUnauthenticated", err)
	}
	small := flip.NewProvider(c, flip.ProviderOptions{CallbackToken: testToken, MaxCallbackBytes: 64})
	if _, err := small.ParseCallback(t.Context(), callbackRequest(t, body)); !errors.Is(err, flip.ErrCallbackTooLarge) {
		t.Errorf("over the cap: %v, want ErrCallbackTooLarge", err)
	}
}

func TestProviderParseCallbackStatuses(t *testing.T) {
	t.Parallel()
	c, _ := flip.NewClient("k", flip.Options{})
	p := flip.NewProvider(c, flip.ProviderOptions{CallbackToken: testToken})
	tests := []struct {
		raw  string
		want provider.PaymentStatus
	}{
		{"SUCCESSFUL", provider.PaymentSuccessful},
		{"successful", provider.PaymentSuccessful},
		{" Failed ", provider.PaymentFailed},
		{"CANCELLED", provider.PaymentCancelled},
		{"Canceled", provider.PaymentCancelled},
		{"EXPIRED", provider.PaymentCancelled},
		{"PENDING", provider.PaymentPending},
		// Unknown: no portable status, the raw one kept, and no error, so
		// that the service records and flags it and Flip gets its 200.
		{"PAID", ""},
		{"REFUNDED", ""},
	}
	for _, tt := range tests {
		data := fmt.Sprintf(`{"id":"A","bill_link_id":7,"amount":10000,"status":%q}`, tt.raw)
		ev, err := p.ParseCallback(t.Context(), callbackRequest(t, form(data, testToken)))
		if err != nil {
			t.Errorf("status %q: %v", tt.raw, err)
			continue
		}
		if ev.Payment.Status != tt.want || ev.Payment.RawStatus != tt.raw {
			t.Errorf("status %q: Status = %q, RawStatus = %q; want %q and the raw one", tt.raw, ev.Payment.Status, ev.Payment.RawStatus, tt.want)
		}
	}
}

func TestProviderTokenRotation(t *testing.T) {
	t.Parallel()
	const oldToken, newToken = "old-token", "new-token"
	var logs syncBuffer
	c, _ := flip.NewClient("k", flip.Options{})
	p := flip.NewProvider(c, flip.ProviderOptions{CallbackToken: newToken, PreviousCallbackToken: oldToken,
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	for _, tok := range []string{newToken, oldToken} {
		if _, err := p.ParseCallback(t.Context(), callbackRequest(t, form(validData(), tok))); err != nil {
			t.Errorf("token %q refused: %v", tok, err)
		}
	}
	if _, err := p.ParseCallback(t.Context(), callbackRequest(t, form(validData(), "other"))); !errors.Is(err, flip.ErrInvalidToken) {
		t.Errorf("another token: %v, want ErrInvalidToken", err)
	}
	out := logs.String()
	if !strings.Contains(out, "token=current") || !strings.Contains(out, "token=previous") {
		t.Errorf("logs do not say which token matched:\n%s", out)
	}
	if strings.Contains(out, oldToken) || strings.Contains(out, newToken) {
		t.Errorf("a token is in the logs:\n%s", out)
	}
	if s := fmt.Sprintf("%v %+v %#v", p, p, p); strings.Contains(s, oldToken) || strings.Contains(s, newToken) {
		t.Errorf("token printed: %s", s)
	}

	// Outside a rotation, nothing is logged per callback.
	var quiet syncBuffer
	single := flip.NewProvider(c, flip.ProviderOptions{CallbackToken: newToken, Logger: slog.New(slog.NewTextHandler(&quiet, nil))})
	if _, err := single.ParseCallback(t.Context(), callbackRequest(t, form(validData(), newToken))); err != nil || quiet.String() != "" {
		t.Errorf("single token: %v, logs %q", err, quiet.String())
	}

	// The previous token alone is not a configuration: fail closed.
	only := flip.NewProvider(c, flip.ProviderOptions{PreviousCallbackToken: oldToken})
	if err := only.CheckCallbackConfig(); !errors.Is(err, flip.ErrTokenNotConfigured) {
		t.Errorf("CheckCallbackConfig with only a previous token = %v", err)
	}
	if _, err := only.ParseCallback(t.Context(), callbackRequest(t, form(validData(), oldToken))); !errors.Is(err, flip.ErrTokenNotConfigured) {
		t.Errorf("ParseCallback with only a previous token = %v", err)
	}
}

func TestProviderParseCallbackUnencodedBody(t *testing.T) {
	t.Parallel()
	c, _ := flip.NewClient("k", flip.Options{})
	p := flip.NewProvider(c, flip.ProviderOptions{CallbackToken: testToken})
	ev, err := p.ParseCallback(t.Context(), callbackRequest(t, flipSampleBody))
	if err != nil {
		t.Fatal(err)
	}
	if ev.Payment.ID != "FT1" || ev.Payment.LinkID != "4740" || ev.Payment.Amount != provider.Rupiah(10000) ||
		strings.Contains(string(ev.Raw), testToken) || !strings.HasPrefix(string(ev.Raw), `data={"id":"FT1"`) {
		t.Errorf("event = %+v, Raw %s", ev.Payment, ev.Raw)
	}
}

func TestCreateLinkKeepsTheCustomerFlipDoesNotEcho(t *testing.T) {
	t.Parallel()
	// Flip's step-2 sample answers address and phone as null.
	p, _ := newProvider(t, flip.ProviderOptions{}, answer(200, string(readTestdata(t, "bill_step2.json"))))
	customer := provider.Customer{Name: "Jon Snow", Email: "jon.snow@example.com", Phone: "0812345678", Address: "jakarta selatan"}
	l, err := p.CreateLink(t.Context(), provider.CreateLinkParams{Title: "t", Amount: provider.Rupiah(45000),
		Step: provider.StepPaymentMethod, Customer: customer})
	if err != nil {
		t.Fatal(err)
	}
	if l.Customer.Phone != customer.Phone || l.Customer.Address != customer.Address || l.Customer.Name != "Jon Snow" {
		t.Errorf("customer = %+v", l.Customer)
	}
}

func TestListPaymentsEndDateCoversTheLastDay(t *testing.T) {
	t.Parallel()
	p, f := newProvider(t, flip.ProviderOptions{}, pages(nil))
	from := time.Date(2024, 6, 1, 9, 0, 0, 0, flip.Location())
	to := time.Date(2024, 6, 3, 9, 0, 0, 0, flip.Location())
	if _, err := p.ListPayments(t.Context(), provider.ListPaymentsParams{From: from, To: to}); err != nil {
		t.Fatal(err)
	}
	// end_date is the day after To, whether Flip reads it as inclusive or
	// as midnight; what lies beyond To is filtered by created_at.
	q, _ := url.ParseQuery(f.last().RawQuery)
	if q.Get("start_date") != "2024-06-01" || q.Get("end_date") != "2024-06-04" {
		t.Errorf("query = %v", q)
	}
	if _, err := p.ListPayments(t.Context(), provider.ListPaymentsParams{From: to, To: from}); !errors.Is(err, provider.CodeInvalidArgument) {
		t.Errorf("To before From: %v, want CodeInvalidArgument", err)
	}
}

// A stored callback body (its token already removed) decodes to the event
// ParseCallback made of the request, without a token; redaction removes a
// token that is still there.
func TestProviderDecodeAndRedactCallback(t *testing.T) {
	t.Parallel()
	c, _ := flip.NewClient("k", flip.Options{})
	p := flip.NewProvider(c, flip.ProviderOptions{Name: "flip-test", CallbackToken: testToken})
	body := url.Values{"data": {string(readTestdata(t, "callback/seed_cancelled.json"))}, "token": {testToken}}.Encode()
	parsed, err := p.ParseCallback(t.Context(), callbackRequest(t, body))
	if err != nil {
		t.Fatal(err)
	}
	decoded, err := p.DecodeCallback(t.Context(), parsed.Raw)
	if err != nil {
		t.Fatalf("DecodeCallback of the stored body: %v", err)
	}
	decoded.ReceivedAt = parsed.ReceivedAt
	if !reflect.DeepEqual(decoded, parsed) {
		t.Errorf("DecodeCallback:\n got %+v\nwant %+v", decoded, parsed)
	}
	for _, bad := range []string{"", "token=x", "data=%7B", "data=" + url.QueryEscape(`{"id":1}`)} {
		if _, err := p.DecodeCallback(t.Context(), []byte(bad)); !errors.Is(err, provider.CodeInvalidArgument) {
			t.Errorf("DecodeCallback(%q): %v, want CodeInvalidArgument", bad, err)
		}
	}
	red := string(p.RedactCallback([]byte(body)))
	if strings.Contains(red, testToken) || !strings.Contains(red, "data=") {
		t.Errorf("RedactCallback kept the token or lost data: %q", red)
	}
}

// Flip's callback token is a static secret in every callback: the event
// ParseCallback returns holds it nowhere (the token field is dropped from
// Raw, not masked), whatever the body's shape, and the body it keeps
// decodes to the same payment without the token.
func TestProviderParseCallbackDropsTheToken(t *testing.T) {
	t.Parallel()
	c, _ := flip.NewClient("k", flip.Options{})
	data := string(readTestdata(t, "callback/seed_cancelled.json"))
	compact := validData()
	tok := url.QueryEscape(testToken)
	for _, tt := range []struct {
		name, body string
	}{
		{"form, token last", url.Values{"data": {data}, "token": {testToken}}.Encode()},
		{"form, token first", "token=" + tok + "&data=" + url.QueryEscape(data)},
		{"form, token twice", "token=" + tok + "&data=" + url.QueryEscape(data) + "&token=" + tok},
		{"form, field name escaped", "data=" + url.QueryEscape(data) + "&tok%65n=" + tok},
		{"Flip's sample curl shape", "data=" + compact + "&token=" + testToken},
		{"Flip's sample curl shape, token first", "token=" + testToken + "&data=" + compact},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := flip.NewProvider(c, flip.ProviderOptions{CallbackToken: testToken})
			ev, err := p.ParseCallback(t.Context(), callbackRequest(t, tt.body))
			if err != nil {
				t.Fatal(err)
			}
			marshalled, err := json.Marshal(ev)
			if err != nil {
				t.Fatal(err)
			}
			for where, s := range map[string]string{
				"Raw":             string(ev.Raw),
				"Payment.Raw":     string(ev.Payment.Raw),
				"the event, JSON": string(marshalled),
				"the event, %#v":  fmt.Sprintf("%#v", ev),
			} {
				for _, secret := range []string{testToken, tok, url.PathEscape(testToken)} {
					if strings.Contains(s, secret) {
						t.Errorf("%s holds the token (as %q): %s", where, secret, s)
					}
				}
			}
			if strings.Contains(string(ev.Raw), "tok") {
				t.Errorf("Raw keeps a token field: %s", ev.Raw)
			}
			decoded, err := p.DecodeCallback(t.Context(), ev.Raw)
			if err != nil {
				t.Fatalf("DecodeCallback(Raw): %v", err)
			}
			if !reflect.DeepEqual(decoded.Payment, ev.Payment) || !bytes.Equal(decoded.Raw, ev.Raw) {
				t.Errorf("DecodeCallback(Raw):\n got %+v\nwant %+v", decoded.Payment, ev.Payment)
			}
		})
	}
}
