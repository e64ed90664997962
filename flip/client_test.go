package flip_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paylinkgo/paylink/flip"
	"github.com/paylinkgo/paylink/provider"
)

// The seed's example key and the header Flip documents for it.
const (
	seedKey  = "JDJ5JDEzJDBkRTB6T2tBdk8uQWcvRDU2TTY0TmVQd0NrNC5POVF5elZuQnpJUTJvdWc4a2t0Tm44RnlT"
	seedAuth = "Basic SkRKNUpERXpKREJrUlRCNlQydEJkazh1UVdjdlJEVTJUVFkwVG1WUWQwTnJOQzVQT1ZGNWVsWnVRbnBKVVRKdmRXYzRhMnQwVG00NFJubFQ6"
)

// seen is what a test server recorded about one request.
type seen struct {
	Method, Path, RawQuery string
	Header                 http.Header
	Body                   string
}

// fake is a scripted Flip: each request is recorded and answered by
// handle (status and body), defaulting to 200 with body.
type fake struct {
	t      *testing.T
	srv    *httptest.Server
	mu     sync.Mutex
	reqs   []seen
	handle func(n int, r *http.Request) (int, string)
}

// setup starts a scripted server and a client pointed at it. Retries wait
// one millisecond so tests stay fast.
func setup(t *testing.T, opts flip.Options, handle func(n int, r *http.Request) (int, string)) (*flip.Client, *fake) {
	t.Helper()
	f := &fake{t: t, handle: handle}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.reqs = append(f.reqs, seen{r.Method, r.URL.EscapedPath(), r.URL.RawQuery, r.Header.Clone(), string(body)})
		n := len(f.reqs)
		f.mu.Unlock()
		status, resp := f.handle(n, r)
		if strings.HasPrefix(strings.TrimSpace(resp), "<") {
			w.Header().Set("Content-Type", "text/html")
		} else {
			w.Header().Set("Content-Type", "application/json")
		}
		w.WriteHeader(status)
		io.WriteString(w, resp)
	}))
	t.Cleanup(f.srv.Close)
	opts.BaseURL = f.srv.URL
	if opts.RetryBackoff == 0 {
		opts.RetryBackoff = time.Millisecond
	}
	c, err := flip.NewClient(seedKey, opts)
	if err != nil {
		t.Fatal(err)
	}
	return c, f
}

func (f *fake) requests() []seen {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]seen(nil), f.reqs...)
}

func (f *fake) last() seen {
	f.t.Helper()
	r := f.requests()
	if len(r) == 0 {
		f.t.Fatal("no request reached the server")
	}
	return r[len(r)-1]
}

func answer(status int, body string) func(int, *http.Request) (int, string) {
	return func(int, *http.Request) (int, string) { return status, body }
}

func TestNewClient(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		key     string
		opts    flip.Options
		wantErr bool
		wantEnv flip.Environment
		wantURL string
	}{
		{"defaults to sandbox", "k", flip.Options{}, false, flip.Sandbox, flip.SandboxBaseURL},
		{"production", "k", flip.Options{Environment: flip.Production}, false, flip.Production, flip.ProductionBaseURL},
		{"base URL override", "k", flip.Options{BaseURL: "http://127.0.0.1:9/flip/"}, false, flip.Sandbox, "http://127.0.0.1:9/flip"},
		{"trailing /v2 tolerated", "k", flip.Options{BaseURL: "https://bigflip.id/api/v2"}, false, flip.Sandbox, flip.ProductionBaseURL},
		{"empty key", "", flip.Options{}, true, "", ""},
		{"unknown environment", "k", flip.Options{Environment: "staging"}, true, "", ""},
		{"relative base URL", "k", flip.Options{BaseURL: "bigflip.id/api"}, true, "", ""},
		{"base URL with credentials", "k", flip.Options{BaseURL: "https://u:p@bigflip.id/api"}, true, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := flip.NewClient(tt.key, tt.opts)
			if tt.wantErr {
				if !errors.Is(err, provider.CodeInvalidArgument) {
					t.Fatalf("err = %v, want CodeInvalidArgument", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.Environment() != tt.wantEnv || c.BaseURL() != tt.wantURL {
				t.Errorf("env, base = %q, %q; want %q, %q", c.Environment(), c.BaseURL(), tt.wantEnv, tt.wantURL)
			}
		})
	}
}

func TestClientNeverPrintsTheSecret(t *testing.T) {
	t.Parallel()
	c, err := flip.NewClient(seedKey, flip.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var logged bytes.Buffer
	slog.New(slog.NewTextHandler(&logged, nil)).Info("client", "c", c)
	printed := fmt.Sprintf("%v %+v %#v %s", c, c, c, c)
	for _, s := range []string{printed, logged.String()} {
		if strings.Contains(s, seedKey) || strings.Contains(s, seedAuth[len("Basic "):]) {
			t.Errorf("secret leaked in %q", s)
		}
	}
}

func TestAuthorizationHeaderMatchesFlipsExample(t *testing.T) {
	t.Parallel()
	c, f := setup(t, flip.Options{}, answer(200, `{"maintenance":false}`))
	if _, err := c.IsMaintenance(t.Context()); err != nil {
		t.Fatal(err)
	}
	h := f.last().Header
	if got := h.Get("Authorization"); got != seedAuth {
		t.Errorf("Authorization = %q\nwant            %q", got, seedAuth)
	}
	if got := h.Get("Accept"); got != "application/json" {
		t.Errorf("Accept = %q", got)
	}
	if got := h.Get("User-Agent"); got != flip.DefaultUserAgent {
		t.Errorf("User-Agent = %q", got)
	}
}

// TestEndpoints checks method, path, query, content type and body of every
// endpoint, and that each answer is decoded.
func TestEndpoints(t *testing.T) {
	t.Parallel()
	future := time.Date(2031, 5, 6, 7, 8, 9, 0, time.UTC) // 14:08 in Jakarta
	tests := []struct {
		name      string
		opts      flip.Options
		response  string
		call      func(ctx context.Context, c *flip.Client) (any, error)
		method    string
		path      string
		query     url.Values
		form      url.Values // nil: no body expected
		checkResp func(t *testing.T, got any)
	}{
		{
			name:     "CreateBill step 1",
			response: string(readTestdata(t, "bill_step1.json")),
			call: func(ctx context.Context, c *flip.Client) (any, error) {
				return c.CreateBill(ctx, flip.CreateBillParams{Title: "Test New Bill", Type: flip.BillSingle, Amount: 45000,
					RedirectURL: "https://example.com", ExpiredDate: future})
			},
			method: "POST", path: "/v2/pwf/bill",
			form: url.Values{"title": {"Test New Bill"}, "type": {"SINGLE"}, "amount": {"45000"},
				"redirect_url": {"https://example.com"}, "expired_date": {"2031-05-06 14:08"},
				"is_address_required": {"0"}, "is_phone_number_required": {"0"}, "step": {"1"}},
			checkResp: func(t *testing.T, got any) {
				if b := got.(*flip.Bill); b.LinkID != "130068" || b.LinkURL != "https://flip.id/pwf-sandbox/$testflip/#test-1542" {
					t.Errorf("bill = %+v", b)
				}
			},
		},
		{
			name:     "CreateBill step 3 open-amount flags",
			response: string(readTestdata(t, "bill_step3_va.json")),
			call: func(ctx context.Context, c *flip.Client) (any, error) {
				return c.CreateBill(ctx, flip.CreateBillParams{Title: "test", Type: flip.BillSingle, Amount: 45000,
					Step: flip.StepConfirmation, SenderName: "Jon Snow", SenderEmail: "jon.snow@example.com",
					SenderPhoneNumber: "0812345678", SenderAddress: "jakarta selatan",
					SenderBank: "mandiri", SenderBankType: flip.BankTypeVirtualAccount,
					IsAddressRequired: true, IsPhoneNumberRequired: true})
			},
			method: "POST", path: "/v2/pwf/bill",
			form: url.Values{"title": {"test"}, "type": {"SINGLE"}, "amount": {"45000"}, "step": {"3"},
				"is_address_required": {"1"}, "is_phone_number_required": {"1"},
				"sender_name": {"Jon Snow"}, "sender_email": {"jon.snow@example.com"}, "sender_phone_number": {"0812345678"},
				"sender_address": {"jakarta selatan"}, "sender_bank": {"mandiri"}, "sender_bank_type": {"virtual_account"}},
			checkResp: func(t *testing.T, got any) {
				if b := got.(*flip.Bill); b.BillPayment == nil || b.BillPayment.ReceiverBankAccount.AccountNumber != "65143710135726484" {
					t.Errorf("bill = %+v", b)
				}
			},
		},
		{
			name:     "EditBill",
			response: string(readTestdata(t, "edit_bill.json")),
			call: func(ctx context.Context, c *flip.Client) (any, error) {
				return c.EditBill(ctx, "4706", flip.EditBillParams{Title: new("Coffee Table Edited"), Type: new(flip.BillMultiple),
					Amount: new(int64(950000)), ExpiredDate: &future, RedirectURL: new("https://someurl.com"),
					Status: new(flip.BillInactive), IsAddressRequired: new(true), IsPhoneNumberRequired: new(false)})
			},
			method: "PUT", path: "/v2/pwf/4706/bill",
			form: url.Values{"title": {"Coffee Table Edited"}, "type": {"MULTIPLE"}, "amount": {"950000"},
				"expired_date": {"2031-05-06 14:08"}, "redirect_url": {"https://someurl.com"}, "status": {"INACTIVE"},
				"is_address_required": {"1"}, "is_phone_number_required": {"0"}},
			checkResp: func(t *testing.T, got any) {
				if b := got.(*flip.Bill); b.Status != flip.BillInactive || b.Type != flip.BillMultiple {
					t.Errorf("bill = %+v", b)
				}
			},
		},
		{
			name:     "EditBill open amount and nothing else",
			response: string(readTestdata(t, "edit_bill.json")),
			call: func(ctx context.Context, c *flip.Client) (any, error) {
				return c.EditBill(ctx, "4706", flip.EditBillParams{Amount: new(int64(0))})
			},
			method: "PUT", path: "/v2/pwf/4706/bill",
			form: url.Values{"amount": {""}},
		},
		{
			name:     "GetBill escapes the id",
			response: string(readTestdata(t, "get_bill_step3.json")),
			call: func(ctx context.Context, c *flip.Client) (any, error) {
				return c.GetBill(ctx, "47/06")
			},
			method: "GET", path: "/v2/pwf/47%2F06/bill",
			checkResp: func(t *testing.T, got any) {
				if bank, typ := got.(*flip.Bill).Method(); bank != "bni" || typ != flip.BankTypeVirtualAccount {
					t.Errorf("method = %q %q", bank, typ)
				}
			},
		},
		{
			name:     "ListBills",
			response: string(readTestdata(t, "list_bills.json")),
			call: func(ctx context.Context, c *flip.Client) (any, error) {
				return c.ListBills(ctx)
			},
			method: "GET", path: "/v2/pwf/bill",
			checkResp: func(t *testing.T, got any) {
				if bills := got.([]flip.Bill); len(bills) != 2 {
					t.Errorf("bills = %+v", bills)
				}
			},
		},
		{
			name:     "ListBillPayments with every filter",
			response: string(readTestdata(t, "bill_payments.json")),
			call: func(ctx context.Context, c *flip.Client) (any, error) {
				return c.ListBillPayments(ctx, "1065", flip.PaymentQuery{
					StartDate:  time.Date(2022, 12, 1, 20, 0, 0, 0, time.UTC), // already Dec 2 in Jakarta
					EndDate:    time.Date(2022, 12, 31, 0, 0, 0, 0, flip.Location()),
					Pagination: 2, Page: 1, SortBy: flip.SortByCreatedAt, SortType: flip.SortDesc})
			},
			method: "GET", path: "/v2/pwf/1065/payment",
			query: url.Values{"start_date": {"2022-12-02"}, "end_date": {"2022-12-31"}, "pagination": {"2"},
				"page": {"1"}, "sort_by": {"created_at"}, "sort_type": {"sort_desc"}},
			checkResp: func(t *testing.T, got any) {
				if p := got.(*flip.PaymentPage); p.LinkID != "1065" || len(p.Data) != 2 {
					t.Errorf("page = %+v", p)
				}
			},
		},
		{
			name:     "ListPayments with reference_id",
			response: string(readTestdata(t, "payments.json")),
			call: func(ctx context.Context, c *flip.Client) (any, error) {
				return c.ListPayments(ctx, flip.PaymentQuery{ReferenceID: "static-va-17", SortBy: flip.SortBySenderBank, SortType: flip.SortAsc})
			},
			method: "GET", path: "/v2/pwf/payment",
			query: url.Values{"reference_id": {"static-va-17"}, "sort_by": {"sender_bank"}, "sort_type": {"sort_asc"}},
			checkResp: func(t *testing.T, got any) {
				if p := got.(*flip.PaymentPage); p.TotalPage != 3 || len(p.Data) != 1 {
					t.Errorf("page = %+v", p)
				}
			},
		},
		{
			name:     "ConfirmBillPayment in production",
			opts:     flip.Options{Environment: flip.Production},
			response: string(readTestdata(t, "confirm.json")),
			call: func(ctx context.Context, c *flip.Client) (any, error) {
				return c.ConfirmBillPayment(ctx, "PGPWF12")
			},
			method: "PUT", path: "/v2/pwf/bill-payment/PGPWF12/confirm",
			checkResp: func(t *testing.T, got any) {
				if c := got.(*flip.Confirmation); c.ConfirmedAt.IsZero() || !strings.HasPrefix(c.PaymentURL, "https://flip.id/") {
					t.Errorf("confirmation = %+v", c)
				}
			},
		},
		{
			name:     "IsMaintenance",
			response: `{"maintenance": true}`,
			call: func(ctx context.Context, c *flip.Client) (any, error) {
				return c.IsMaintenance(ctx)
			},
			method: "GET", path: "/v2/general/maintenance",
			checkResp: func(t *testing.T, got any) {
				if got != true {
					t.Errorf("maintenance = %v, want true", got)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, f := setup(t, tt.opts, answer(200, tt.response))
			got, err := tt.call(t.Context(), c)
			if err != nil {
				t.Fatal(err)
			}
			req := f.last()
			if req.Method != tt.method || req.Path != tt.path {
				t.Errorf("request = %s %s, want %s %s", req.Method, req.Path, tt.method, tt.path)
			}
			if q, _ := url.ParseQuery(req.RawQuery); !equalValues(q, tt.query) {
				t.Errorf("query = %v, want %v", q, tt.query)
			}
			// Flip requires the content type on every request, GETs included.
			if ct := req.Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
				t.Errorf("Content-Type = %q", ct)
			}
			if tt.form == nil {
				if req.Body != "" {
					t.Errorf("unexpected body %q", req.Body)
				}
			} else {
				if form, err := url.ParseQuery(req.Body); err != nil || !equalValues(form, tt.form) {
					t.Errorf("form = %v (%v)\nwant   %v", form, err, tt.form)
				}
			}
			if req.Header.Get("Authorization") != seedAuth {
				t.Errorf("Authorization = %q", req.Header.Get("Authorization"))
			}
			if tt.checkResp != nil {
				tt.checkResp(t, got)
			}
		})
	}
}

func equalValues(a, b url.Values) bool {
	if len(a) != len(b) {
		return false
	}
	for k, av := range a {
		bv := b[k]
		if len(av) != len(bv) {
			return false
		}
		for i := range av {
			if av[i] != bv[i] {
				return false
			}
		}
	}
	return true
}

func TestConfirmBillPaymentRefusedInSandbox(t *testing.T) {
	t.Parallel()
	c, f := setup(t, flip.Options{Environment: flip.Sandbox}, answer(200, `{}`))
	_, err := c.ConfirmBillPayment(t.Context(), "PGPWF12")
	if !errors.Is(err, provider.CodeFailedPrecondition) {
		t.Fatalf("err = %v, want CodeFailedPrecondition", err)
	}
	if n := len(f.requests()); n != 0 {
		t.Errorf("%d requests sent, want none", n)
	}
}

func TestEmptyIDsAreRefusedBeforeSending(t *testing.T) {
	t.Parallel()
	c, f := setup(t, flip.Options{Environment: flip.Production}, answer(200, `{}`))
	ctx := t.Context()
	calls := map[string]func() error{
		"GetBill":            func() error { _, err := c.GetBill(ctx, ""); return err },
		"EditBill":           func() error { _, err := c.EditBill(ctx, " ", flip.EditBillParams{}); return err },
		"ListBillPayments":   func() error { _, err := c.ListBillPayments(ctx, "", flip.PaymentQuery{}); return err },
		"ConfirmBillPayment": func() error { _, err := c.ConfirmBillPayment(ctx, ""); return err },
	}
	for name, call := range calls {
		if err := call(); !errors.Is(err, provider.CodeInvalidArgument) {
			t.Errorf("%s: err = %v, want CodeInvalidArgument", name, err)
		}
	}
	if n := len(f.requests()); n != 0 {
		t.Errorf("%d requests sent, want none", n)
	}
}

// TestDotSegmentIDsAreRefusedBeforeSending: "." and ".." survive path
// escaping and would move the request to another endpoint (GET
// /v2/pwf/./payment is the account's every payment, not one bill's).
func TestDotSegmentIDsAreRefusedBeforeSending(t *testing.T) {
	t.Parallel()
	c, f := setup(t, flip.Options{Environment: flip.Production}, answer(200, `{}`))
	ctx := t.Context()
	for _, id := range []string{".", ".."} {
		calls := map[string]func() error{
			"GetBill":            func() error { _, err := c.GetBill(ctx, id); return err },
			"EditBill":           func() error { _, err := c.EditBill(ctx, id, flip.EditBillParams{}); return err },
			"ListBillPayments":   func() error { _, err := c.ListBillPayments(ctx, id, flip.PaymentQuery{}); return err },
			"ConfirmBillPayment": func() error { _, err := c.ConfirmBillPayment(ctx, id); return err },
		}
		for name, call := range calls {
			if err := call(); !errors.Is(err, provider.CodeInvalidArgument) {
				t.Errorf("%s(%q): err = %v, want CodeInvalidArgument", name, id, err)
			}
		}
	}
	for _, r := range f.requests() {
		t.Errorf("request sent: %s %s", r.Method, r.Path)
	}
}

func TestBillWithoutLinkIDIsAnError(t *testing.T) {
	t.Parallel()
	for _, body := range []string{`{}`, `{"title":"x","link_id":null}`} {
		c, _ := setup(t, flip.Options{}, answer(200, body))
		_, err := c.CreateBill(t.Context(), flip.CreateBillParams{Title: "x", Type: flip.BillSingle})
		if !errors.Is(err, provider.CodeInternal) {
			t.Errorf("body %s: err = %v, want CodeInternal", body, err)
		}
	}
}

func TestUndecodableSuccessIsInternal(t *testing.T) {
	t.Parallel()
	c, _ := setup(t, flip.Options{}, answer(200, `<html>oops</html>`))
	_, err := c.GetBill(t.Context(), "1")
	if !errors.Is(err, provider.CodeInternal) {
		t.Fatalf("err = %v, want CodeInternal", err)
	}
}

func TestAPIErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		status     int
		body       string
		wantCode   provider.ErrorCode
		want       flip.APIError
		wantFields []provider.FieldError
	}{
		{"validation", 422, string(readTestdata(t, "error_validation.json")), provider.CodeInvalidArgument,
			flip.APIError{StatusCode: 422, Code: "VALIDATION_ERROR", Errors: []flip.FieldError{
				{Attribute: "sender_email", Code: 1001, Message: "Param sender_email is required"},
				{Attribute: "amount", Code: 1058, Message: "Minimum transfer amount is Rp10.000"}}},
			[]provider.FieldError{{Field: "sender_email", ProviderCode: 1001, Message: "Param sender_email is required"},
				{Field: "amount", ProviderCode: 1058, Message: "Minimum transfer amount is Rp10.000"}}},
		{"unauthorized", 401, string(readTestdata(t, "error_unauthorized.json")), provider.CodeUnauthenticated,
			flip.APIError{StatusCode: 401, Name: "Unauthorized", Message: "You are requesting with an invalid credential."}, nil},
		{"ip not whitelisted", 401, string(readTestdata(t, "error_ip.json")), provider.CodePermissionDenied,
			flip.APIError{StatusCode: 401, Name: "Unauthorized", Message: "IP is not Whitelisted"}, nil},
		{"page not found", 404, string(readTestdata(t, "error_not_found.json")), provider.CodeNotFound,
			flip.APIError{StatusCode: 404, Name: "Not Found", Message: "Page not found."}, nil},
		{"bill not found", 422, string(readTestdata(t, "error_bill_not_found.json")), provider.CodeNotFound,
			flip.APIError{StatusCode: 422, Code: "VALIDATION_ERROR", Errors: []flip.FieldError{
				{Attribute: "bill_link_id", Code: 1050, Message: "Bill link ID is not Found"}}},
			[]provider.FieldError{{Field: "bill_link_id", ProviderCode: 1050, Message: "Bill link ID is not Found"}}},
		{"product bill not found", 422, `{"code":"VALIDATION_ERROR","errors":[{"attribute":"id","code":"1054","message":"Product bill link ID is not found"}]}`,
			provider.CodeNotFound, flip.APIError{StatusCode: 422, Code: "VALIDATION_ERROR", Errors: []flip.FieldError{
				{Attribute: "id", Code: 1054, Message: "Product bill link ID is not found"}}},
			[]provider.FieldError{{Field: "id", ProviderCode: 1054, Message: "Product bill link ID is not found"}}},
		{"bill not found, newer docs", 422, `{"code":"VALIDATION_ERROR","errors":[{"attribute":"id","code":1050,"message":"Product Bill Link ID Not Found"}]}`,
			provider.CodeNotFound, flip.APIError{StatusCode: 422, Code: "VALIDATION_ERROR", Errors: []flip.FieldError{
				{Attribute: "id", Code: 1050, Message: "Product Bill Link ID Not Found"}}},
			[]provider.FieldError{{Field: "id", ProviderCode: 1050, Message: "Product Bill Link ID Not Found"}}},
		{"bill not found as 1043", 422, `{"code":"VALIDATION_ERROR","errors":[{"attribute":"id","code":1043,"message":"Param Bill Link ID is Not Found"}]}`,
			provider.CodeNotFound, flip.APIError{StatusCode: 422, Code: "VALIDATION_ERROR", Errors: []flip.FieldError{
				{Attribute: "id", Code: 1043, Message: "Param Bill Link ID is Not Found"}}},
			[]provider.FieldError{{Field: "id", ProviderCode: 1043, Message: "Param Bill Link ID is Not Found"}}},
		// 1043 is also "title required" in Flip's older list.
		{"1043 about the title", 422, `{"code":"VALIDATION_ERROR","errors":[{"attribute":"title","code":1043,"message":"Bill title param is required"}]}`,
			provider.CodeInvalidArgument, flip.APIError{StatusCode: 422, Code: "VALIDATION_ERROR", Errors: []flip.FieldError{
				{Attribute: "title", Code: 1043, Message: "Bill title param is required"}}},
			[]provider.FieldError{{Field: "title", ProviderCode: 1043, Message: "Bill title param is required"}}},
		{"expired", 422, string(readTestdata(t, "error_expired.json")), provider.CodeFailedPrecondition,
			flip.APIError{StatusCode: 422, Code: "VALIDATION_ERROR", Errors: []flip.FieldError{
				{Attribute: "expired_date", Code: 1048, Message: "Bill link has already expired"}}},
			[]provider.FieldError{{Field: "expired_date", ProviderCode: 1048, Message: "Bill link has already expired"}}},
		{"used", 422, string(readTestdata(t, "error_used.json")), provider.CodeConflict,
			flip.APIError{StatusCode: 422, Code: "VALIDATION_ERROR", Errors: []flip.FieldError{
				{Attribute: "bill_link_id", Code: 1049, Message: "Bill link has already used"}}},
			[]provider.FieldError{{Field: "bill_link_id", ProviderCode: 1049, Message: "Bill link has already used"}}},
		{"maintenance 503", 503, string(readTestdata(t, "error_maintenance.json")), provider.CodeUnavailable,
			flip.APIError{StatusCode: 503, Name: "SERVICE_UNAVAILABLE", Message: "Service or server is under maintenance"}, nil},
		{"html gateway page", 502, string(readTestdata(t, "error_gateway.html")), provider.CodeUnavailable,
			flip.APIError{StatusCode: 502, Message: "Bad Gateway"}, nil},
		{"empty 500", 500, "", provider.CodeUnavailable,
			flip.APIError{StatusCode: 500, Message: "Internal Server Error"}, nil},
		{"rate limited", 429, `{"message":"slow down"}`, provider.CodeUnavailable,
			flip.APIError{StatusCode: 429, Message: "slow down"}, nil},
		{"forbidden", 403, `{"name":"Forbidden","message":"no","status":403}`, provider.CodePermissionDenied,
			flip.APIError{StatusCode: 403, Name: "Forbidden", Message: "no"}, nil},
		{"odd shapes: numeric code, list of messages", 400, `{"code":1001,"message":["title is required","type is required"]}`, provider.CodeInvalidArgument,
			flip.APIError{StatusCode: 400, Code: "1001", Message: `["title is required","type is required"]`}, nil},
		{"teapot", 418, `[]`, provider.CodeUnknown, flip.APIError{StatusCode: 418, Message: "I'm a teapot"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, _ := setup(t, flip.Options{MaxRetries: -1}, answer(tt.status, tt.body))
			_, err := c.GetBill(t.Context(), "4706")
			var apiErr *flip.APIError
			if !errors.As(err, &apiErr) {
				t.Fatalf("err = %#v, want *flip.APIError", err)
			}
			tt.want.Op = "flip.GetBill"
			if apiErr.StatusCode != tt.want.StatusCode || apiErr.Code != tt.want.Code || apiErr.Name != tt.want.Name ||
				apiErr.Message != tt.want.Message || apiErr.Op != tt.want.Op || !equalFieldErrors(apiErr.Errors, tt.want.Errors) {
				t.Errorf("APIError = %+v\nwant       %+v", *apiErr, tt.want)
			}
			if got := provider.CodeOf(err); got != tt.wantCode {
				t.Errorf("CodeOf = %v, want %v", got, tt.wantCode)
			}
			if !errors.Is(err, tt.wantCode) {
				t.Errorf("errors.Is(err, %v) = false", tt.wantCode)
			}
			if tt.wantCode != provider.CodeInternal && errors.Is(err, provider.CodeInternal) {
				t.Errorf("errors.Is(err, CodeInternal) = true")
			}
			if got := provider.FieldErrorsOf(err); len(got) != len(tt.wantFields) || (len(got) > 0 && !equalProviderFields(got, tt.wantFields)) {
				t.Errorf("FieldErrors = %+v, want %+v", got, tt.wantFields)
			}
			if msg := err.Error(); !strings.Contains(msg, "flip.GetBill") || strings.Contains(msg, seedKey) {
				t.Errorf("Error() = %q", msg)
			}
		})
	}
}

func equalFieldErrors(a, b []flip.FieldError) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func equalProviderFields(a, b []provider.FieldError) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestErrorsNeverContainTheSecret(t *testing.T) {
	t.Parallel()
	// A hostile or buggy server echoes the credentials back.
	echo := func(_ int, r *http.Request) (int, string) {
		auth := r.Header.Get("Authorization")
		b, _ := json.Marshal(map[string]any{"code": auth, "message": "key " + seedKey + " / " + auth,
			"errors": []map[string]any{{"attribute": seedKey, "code": 1, "message": auth}}})
		return 422, string(b)
	}
	c, _ := setup(t, flip.Options{}, echo)
	_, err := c.GetBill(t.Context(), "1")
	if err == nil {
		t.Fatal("no error")
	}
	encoded := strings.TrimPrefix(seedAuth, "Basic ")
	if msg := err.Error(); strings.Contains(msg, seedKey) || strings.Contains(msg, encoded) {
		t.Errorf("secret in error: %q", msg)
	}

	// A transport error names the URL, which never holds the key.
	dead, err := flip.NewClient(seedKey, flip.Options{BaseURL: "http://127.0.0.1:1", MaxRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	_, err = dead.GetBill(t.Context(), "1")
	if !errors.Is(err, provider.CodeUnavailable) {
		t.Errorf("err = %v, want CodeUnavailable", err)
	}
	if msg := err.Error(); strings.Contains(msg, seedKey) || strings.Contains(msg, encoded) {
		t.Errorf("secret in error: %q", msg)
	}
}

func TestRetries(t *testing.T) {
	t.Parallel()
	flaky := func(failures int, status int) func(int, *http.Request) (int, string) {
		return func(n int, _ *http.Request) (int, string) {
			if n <= failures {
				return status, `{"name":"Oops","message":"try again","status":500}`
			}
			return 200, `{"maintenance":false}`
		}
	}
	tests := []struct {
		name         string
		maxRetries   int
		failures     int
		status       int
		call         func(ctx context.Context, c *flip.Client) error
		wantRequests int
		wantOK       bool
	}{
		{"GET retried on 503 until it succeeds", 0, 2, 503, maintenance, 3, true},
		{"GET retried on 429", 0, 1, 429, maintenance, 2, true},
		{"GET gives up after MaxRetries", 2, 10, 500, maintenance, 3, false},
		{"negative MaxRetries means no retry", -1, 1, 503, maintenance, 1, false},
		{"GET not retried on 422", 0, 1, 422, maintenance, 1, false},
		{"GET not retried on 401", 0, 1, 401, maintenance, 1, false},
		{"CreateBill never retried", 5, 1, 503, func(ctx context.Context, c *flip.Client) error {
			_, err := c.CreateBill(ctx, flip.CreateBillParams{Title: "t", Type: flip.BillSingle})
			return err
		}, 1, false},
		{"EditBill never retried", 5, 1, 502, func(ctx context.Context, c *flip.Client) error {
			_, err := c.EditBill(ctx, "1", flip.EditBillParams{Title: new("t")})
			return err
		}, 1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, f := setup(t, flip.Options{MaxRetries: tt.maxRetries}, flaky(tt.failures, tt.status))
			err := tt.call(t.Context(), c)
			if (err == nil) != tt.wantOK {
				t.Errorf("err = %v, want ok = %v", err, tt.wantOK)
			}
			if n := len(f.requests()); n != tt.wantRequests {
				t.Errorf("%d requests, want %d", n, tt.wantRequests)
			}
		})
	}
}

func maintenance(ctx context.Context, c *flip.Client) error {
	_, err := c.IsMaintenance(ctx)
	return err
}

func TestConfirmBillPaymentNeverRetried(t *testing.T) {
	t.Parallel()
	c, f := setup(t, flip.Options{Environment: flip.Production, MaxRetries: 5}, answer(503, `{}`))
	if _, err := c.ConfirmBillPayment(t.Context(), "PGPWF1"); !errors.Is(err, provider.CodeUnavailable) {
		t.Fatalf("err = %v, want CodeUnavailable", err)
	}
	if n := len(f.requests()); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
}

func TestRetryOnNetworkError(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			// Drop the connection without an answer.
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.Close()
			}
			return
		}
		io.WriteString(w, `{"maintenance":false}`)
	}))
	t.Cleanup(srv.Close)
	c, err := flip.NewClient("k", flip.Options{BaseURL: srv.URL, RetryBackoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.IsMaintenance(t.Context()); err != nil {
		t.Fatalf("err = %v, want success after a retry", err)
	}
	if n := calls.Load(); n != 2 {
		t.Errorf("%d calls, want 2", n)
	}
}

func TestContextCancelStopsRetries(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	// The first answer cancels the context; the long backoff must not be waited out.
	c, f := setup(t, flip.Options{RetryBackoff: time.Hour, MaxRetries: 5}, func(int, *http.Request) (int, string) {
		cancel()
		return 503, `{}`
	})
	done := make(chan error, 1)
	go func() { _, err := c.GetBill(ctx, "1"); done <- err }()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) || !errors.Is(err, provider.CodeCanceled) {
			t.Errorf("err = %v, want context.Canceled and CodeCanceled", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("GetBill did not stop when its context was canceled")
	}
	if n := len(f.requests()); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
}

func TestContextAlreadyCanceled(t *testing.T) {
	t.Parallel()
	c, f := setup(t, flip.Options{}, answer(200, `{}`))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := c.ListBills(ctx)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	if n := len(f.requests()); n != 0 {
		t.Errorf("%d requests reached the server", n)
	}
}

func TestDeadlineExceeded(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	c, _ := setup(t, flip.Options{}, func(_ int, r *http.Request) (int, string) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
		return 200, `{}`
	})
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	_, err := c.GetBill(ctx, "1")
	if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, provider.CodeDeadlineExceeded) {
		t.Errorf("err = %v, want DeadlineExceeded", err)
	}
}

func TestErrorBodyIsCapped(t *testing.T) {
	t.Parallel()
	huge := `{"name":"Big","message":"` + strings.Repeat("x", 1<<20) + `","status":500}`
	c, _ := setup(t, flip.Options{MaxRetries: -1}, answer(500, huge))
	_, err := c.GetBill(t.Context(), "1")
	var apiErr *flip.APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("err = %v", err)
	}
	// Cut at 64 KiB the JSON no longer parses, so only the status text remains.
	if apiErr.Message != "Internal Server Error" || len(err.Error()) > 1024 {
		t.Errorf("error of %d bytes: %.200s", len(err.Error()), err.Error())
	}
}

func TestRequestsAreLoggedWithoutSecrets(t *testing.T) {
	t.Parallel()
	var buf syncBuffer
	logger := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c, _ := setup(t, flip.Options{Logger: logger, MaxRetries: 1}, func(n int, _ *http.Request) (int, string) {
		if n == 1 {
			return 500, `{}`
		}
		return 200, string(readTestdata(t, "bill_step1.json"))
	})
	if _, err := c.GetBill(t.Context(), "130068"); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 {
		t.Fatalf("want one record per attempt, got:\n%s", out)
	}
	for _, want := range []string{`"method":"GET"`, `"path":"/v2/pwf/130068/bill"`, `"status":500`, `"status":200`, `"duration"`, `"attempt":2`} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %s:\n%s", want, out)
		}
	}
	if strings.Contains(out, seedKey) || strings.Contains(out, strings.TrimPrefix(seedAuth, "Basic ")) {
		t.Errorf("secret in log:\n%s", out)
	}
}

// syncBuffer is a bytes.Buffer safe for the concurrent writes of a logger.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestRedirectsNeverCarryTheKeyToAnotherOrigin: net/http keeps the
// Authorization header on a redirect to the same host name, even on another
// port or from https down to http. The client follows a redirect only
// within the origin (scheme, host and port) of its request.
func TestRedirectsNeverCarryTheKeyToAnotherOrigin(t *testing.T) {
	t.Parallel()
	var leaked atomic.Int32
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" {
			leaked.Add(1)
		}
		io.WriteString(w, `{"maintenance":false}`)
	}))
	t.Cleanup(target.Close)
	redirect := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL+r.URL.Path, http.StatusTemporaryRedirect)
	})
	plain := httptest.NewServer(redirect)
	t.Cleanup(plain.Close)
	secure := httptest.NewTLSServer(redirect)
	t.Cleanup(secure.Close)

	tests := []struct {
		name string
		opts flip.Options
	}{
		{"another port, default client", flip.Options{BaseURL: plain.URL}},
		{"https down to http, injected client", flip.Options{BaseURL: secure.URL, HTTPClient: secure.Client()}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.MaxRetries = -1
			c, err := flip.NewClient(seedKey, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.IsMaintenance(t.Context()); err == nil {
				t.Error("a redirect to another origin was followed")
			}
			if n := leaked.Load(); n != 0 {
				t.Fatalf("the secret key reached another origin %d times", n)
			}
		})
	}
	if secure.Client().CheckRedirect != nil {
		t.Error("NewClient changed the injected *http.Client")
	}
}

// TestSameOriginRedirectIsFollowed: a redirect within Flip's own origin
// still works, with the key.
func TestSameOriginRedirectIsFollowed(t *testing.T) {
	t.Parallel()
	var auth atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p, ok := strings.CutPrefix(r.URL.Path, "/old"); ok {
			http.Redirect(w, r, p, http.StatusTemporaryRedirect)
			return
		}
		auth.Store(r.Header.Get("Authorization"))
		io.WriteString(w, `{"maintenance":true}`)
	}))
	t.Cleanup(srv.Close)
	c, err := flip.NewClient(seedKey, flip.Options{BaseURL: srv.URL + "/old"})
	if err != nil {
		t.Fatal(err)
	}
	on, err := c.IsMaintenance(t.Context())
	if err != nil || !on {
		t.Fatalf("IsMaintenance = %v, %v; want true after the redirect", on, err)
	}
	if got, _ := auth.Load().(string); got != seedAuth {
		t.Errorf("Authorization after a same-origin redirect = %q", got)
	}
}

func TestOptionalParametersAreSent(t *testing.T) {
	t.Parallel()
	c, f := setup(t, flip.Options{}, answer(200, string(readTestdata(t, "bill_step2.json"))))
	_, err := c.CreateBill(t.Context(), flip.CreateBillParams{Title: "Order 1", Type: flip.BillSingle, Amount: 45000,
		Step: flip.StepPaymentMethod, SenderName: "Jon", SenderEmail: "jon@example.com",
		ChargeFee: true, ReferenceID: "order-1", Extra: url.Values{"item_details": {`[{"id":"1"}]`}}})
	if err != nil {
		t.Fatal(err)
	}
	form, _ := url.ParseQuery(f.last().Body)
	if form.Get("charge_fee") != "1" || form.Get("reference_id") != "order-1" || form.Get("item_details") != `[{"id":"1"}]` {
		t.Errorf("form = %v", form)
	}

	// Off by default: nothing is sent that Flip's docs do not list.
	if _, err := c.CreateBill(t.Context(), flip.CreateBillParams{Title: "Order 2", Type: flip.BillSingle, Amount: 45000}); err != nil {
		t.Fatal(err)
	}
	form, _ = url.ParseQuery(f.last().Body)
	if form.Has("charge_fee") || form.Has("reference_id") {
		t.Errorf("form = %v", form)
	}

	if _, err := c.EditBill(t.Context(), "1", flip.EditBillParams{Extra: url.Values{"new_option": {"x"}}}); err != nil {
		t.Fatal(err)
	}
	if form, _ = url.ParseQuery(f.last().Body); !equalValues(form, url.Values{"new_option": {"x"}}) {
		t.Errorf("edit form = %v", form)
	}
	before := len(f.requests())
	_, err = c.EditBill(t.Context(), "1", flip.EditBillParams{Extra: url.Values{"status": {"ACTIVE"}}})
	if !errors.Is(err, provider.CodeInvalidArgument) || len(f.requests()) != before {
		t.Errorf("Extra naming status: %v (sent: %v), want refused before sending", err, len(f.requests()) != before)
	}
}
