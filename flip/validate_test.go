package flip_test

import (
	"cmp"
	"errors"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/paylinkgo/paylink/flip"
	"github.com/paylinkgo/paylink/provider"
)

// rule names one refused parameter: Flip's name and the failed rule.
type rule struct{ field, rule string }

func refused(t *testing.T, err error) []rule {
	t.Helper()
	if err == nil {
		return nil
	}
	var perr *provider.Error
	if !errors.As(err, &perr) || perr.Code != provider.CodeInvalidArgument {
		t.Fatalf("err = %#v, want a *provider.Error with CodeInvalidArgument", err)
	}
	var out []rule
	for _, f := range perr.Fields {
		if f.Message == "" {
			t.Errorf("field error %+v has no message", f)
		}
		out = append(out, rule{f.Field, f.Rule})
	}
	slices.SortFunc(out, func(a, b rule) int {
		return cmp.Or(strings.Compare(a.field, b.field), strings.Compare(a.rule, b.rule))
	})
	return out
}

// endOfThisMinute is a time after now that, cut to the minute as Flip
// receives it, is not.
func endOfThisMinute() time.Time {
	return time.Now().Truncate(time.Minute).Add(time.Minute - time.Millisecond)
}

func TestCreateBillValidation(t *testing.T) {
	t.Parallel()
	step1 := func() flip.CreateBillParams {
		return flip.CreateBillParams{Title: "Order 1", Type: flip.BillSingle, Amount: 45000}
	}
	step2 := func() flip.CreateBillParams {
		p := step1()
		p.Step, p.SenderName, p.SenderEmail = flip.StepPaymentMethod, "Jon", "jon@example.com"
		return p
	}
	step3 := func() flip.CreateBillParams {
		p := step2()
		p.Step, p.SenderBank, p.SenderBankType = flip.StepConfirmation, "bni", flip.BankTypeVirtualAccount
		return p
	}
	with := func(p flip.CreateBillParams, f func(*flip.CreateBillParams)) flip.CreateBillParams { f(&p); return p }

	tests := []struct {
		name   string
		params flip.CreateBillParams
		want   []rule // sorted; nil means valid
	}{
		{"step 1, fixed amount", step1(), nil},
		{"step 1, open amount", with(step1(), func(p *flip.CreateBillParams) { p.Amount = 0 }), nil},
		{"step 1, step left zero", with(step1(), func(p *flip.CreateBillParams) { p.Step = 0 }), nil},
		{"step 1, MULTIPLE", with(step1(), func(p *flip.CreateBillParams) { p.Type = flip.BillMultiple }), nil},
		{"step 1, everything optional set", with(step1(), func(p *flip.CreateBillParams) {
			p.ExpiredDate = time.Now().Add(24 * time.Hour)
			p.RedirectURL = "http://shop.example.com/thanks?order=1"
			p.IsAddressRequired, p.IsPhoneNumberRequired = true, true
		}), nil},
		{"step 2 complete", step2(), nil},
		{"step 3 complete", step3(), nil},
		{"step 3 with every bank type", with(step3(), func(p *flip.CreateBillParams) { p.SenderBankType = flip.BankTypeCreditCard }), nil},

		{"title required", with(step1(), func(p *flip.CreateBillParams) { p.Title = "" }), []rule{{"title", "required"}}},
		{"title blank", with(step1(), func(p *flip.CreateBillParams) { p.Title = "  " }), []rule{{"title", "required"}}},
		{"type required", with(step1(), func(p *flip.CreateBillParams) { p.Type = "" }), []rule{{"type", "required"}}},
		{"type must be known", with(step1(), func(p *flip.CreateBillParams) { p.Type = "single" }), []rule{{"type", "oneof"}}},
		{"amount minimum", with(step1(), func(p *flip.CreateBillParams) { p.Amount = 9999 }), []rule{{"amount", "min"}}},
		{"negative amount", with(step1(), func(p *flip.CreateBillParams) { p.Amount = -10000 }), []rule{{"amount", "min"}}},
		{"amount minimum is inclusive", with(step1(), func(p *flip.CreateBillParams) { p.Amount = 10000 }), nil},
		{"unknown step", with(step1(), func(p *flip.CreateBillParams) { p.Step = 4 }), []rule{{"step", "oneof"}}},
		{"step 2 needs amount", with(step2(), func(p *flip.CreateBillParams) { p.Amount = 0 }), []rule{{"amount", "required"}}},
		{"step 2 needs sender_name", with(step2(), func(p *flip.CreateBillParams) { p.SenderName = " " }), []rule{{"sender_name", "required"}}},
		{"step 2 needs sender_email", with(step2(), func(p *flip.CreateBillParams) { p.SenderEmail = "" }), []rule{{"sender_email", "required"}}},
		{"sender_email must be an email", with(step2(), func(p *flip.CreateBillParams) { p.SenderEmail = "jon" }), []rule{{"sender_email", "email"}}},
		{"sender_email checked at step 1 too", with(step1(), func(p *flip.CreateBillParams) { p.SenderEmail = "jon@" }), []rule{{"sender_email", "email"}}},
		{"step 2 needs no bank", with(step2(), func(p *flip.CreateBillParams) { p.SenderBank = "" }), nil},
		{"step 2 with nothing", flip.CreateBillParams{Title: "t", Type: flip.BillSingle, Step: flip.StepPaymentMethod},
			[]rule{{"amount", "required"}, {"sender_email", "required"}, {"sender_name", "required"}}},
		{"step 3 needs amount", with(step3(), func(p *flip.CreateBillParams) { p.Amount = 0 }), []rule{{"amount", "required"}}},
		{"step 3 needs sender_bank", with(step3(), func(p *flip.CreateBillParams) { p.SenderBank = "" }), []rule{{"sender_bank", "required"}}},
		{"step 3 needs sender_bank_type", with(step3(), func(p *flip.CreateBillParams) { p.SenderBankType = "" }), []rule{{"sender_bank_type", "required"}}},
		// sender_bank_type is checked for its shape only: Flip enables new
		// kinds per merchant (the seed's QRIS callback says e_wallet).
		{"sender_bank_type e_wallet passes", with(step3(), func(p *flip.CreateBillParams) { p.SenderBankType = flip.BankTypeEWallet }), nil},
		{"sender_bank_type new to Flip passes", with(step3(), func(p *flip.CreateBillParams) { p.SenderBankType = "direct_debit_account" }), nil},
		{"sender_bank_type upper case", with(step3(), func(p *flip.CreateBillParams) { p.SenderBankType = "VIRTUAL_ACCOUNT" }), []rule{{"sender_bank_type", "flip_code"}}},
		{"sender_bank_type with a hyphen", with(step3(), func(p *flip.CreateBillParams) { p.SenderBankType = "e-wallet" }), []rule{{"sender_bank_type", "flip_code"}}},
		{"sender_bank_type with a space", with(step3(), func(p *flip.CreateBillParams) { p.SenderBankType = "bank account" }), []rule{{"sender_bank_type", "flip_code"}}},
		{"sender_bank_type starting with _", with(step3(), func(p *flip.CreateBillParams) { p.SenderBankType = "_x" }), []rule{{"sender_bank_type", "flip_code"}}},
		{"sender_bank_type of 64 letters", with(step3(), func(p *flip.CreateBillParams) { p.SenderBankType = flip.BankType(strings.Repeat("a", 64)) }), nil},
		{"sender_bank_type of 65 letters", with(step3(), func(p *flip.CreateBillParams) { p.SenderBankType = flip.BankType(strings.Repeat("a", 65)) }), []rule{{"sender_bank_type", "flip_code"}}},
		{"charge_fee and reference_id", with(step1(), func(p *flip.CreateBillParams) { p.ChargeFee, p.ReferenceID = true, "order-1" }), nil},
		{"an extra parameter", with(step1(), func(p *flip.CreateBillParams) { p.Extra = url.Values{"item_details": {"[]"}} }), nil},
		{"an extra parameter that is a named one", with(step1(), func(p *flip.CreateBillParams) { p.Extra = url.Values{"amount": {"1"}} }), []rule{{"amount", "reserved"}}},
		{"an extra parameter that is a typed one", with(step1(), func(p *flip.CreateBillParams) { p.Extra = url.Values{"charge_fee": {"1"}} }), []rule{{"charge_fee", "reserved"}}},
		{"an extra parameter with a bad name", with(step1(), func(p *flip.CreateBillParams) { p.Extra = url.Values{"a&b": {"1"}} }), []rule{{"a&b", "param_name"}}},
		{"step 3 only SINGLE", with(step3(), func(p *flip.CreateBillParams) { p.Type = flip.BillMultiple }), []rule{{"type", "eq"}}},
		{"step 3 with nothing", flip.CreateBillParams{Title: "t", Type: flip.BillMultiple, Step: flip.StepConfirmation},
			[]rule{{"amount", "required"}, {"sender_bank", "required"}, {"sender_bank_type", "required"},
				{"sender_email", "required"}, {"sender_name", "required"}, {"type", "eq"}}},
		{"expired_date in the past", with(step1(), func(p *flip.CreateBillParams) { p.ExpiredDate = time.Now().Add(-time.Minute) }), []rule{{"expired_date", "future"}}},
		// Flip gets expired_date to the minute: later in this minute is
		// sent as this minute, already past (Flip: 1048 link expired).
		{"expired_date later this minute", with(step1(), func(p *flip.CreateBillParams) { p.ExpiredDate = endOfThisMinute() }), []rule{{"expired_date", "future"}}},
		{"redirect_url relative", with(step1(), func(p *flip.CreateBillParams) { p.RedirectURL = "/thanks" }), []rule{{"redirect_url", "http_url"}}},
		{"redirect_url without scheme", with(step1(), func(p *flip.CreateBillParams) { p.RedirectURL = "example.com/thanks" }), []rule{{"redirect_url", "http_url"}}},
		{"redirect_url not http", with(step1(), func(p *flip.CreateBillParams) { p.RedirectURL = "ftp://example.com/x" }), []rule{{"redirect_url", "http_url"}}},
	}
	c, f := setup(t, flip.Options{}, answer(200, string(readTestdata(t, "bill_step1.json"))))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(f.requests())
			_, err := c.CreateBill(t.Context(), tt.params)
			got := refused(t, err)
			if !slices.Equal(got, tt.want) {
				t.Errorf("refused %v, want %v (err: %v)", got, tt.want, err)
			}
			sent := len(f.requests()) > before
			if sent != (tt.want == nil) {
				t.Errorf("request sent = %v, want %v", sent, tt.want == nil)
			}
		})
	}
}

func TestValidationErrorReadsWell(t *testing.T) {
	t.Parallel()
	c, _ := setup(t, flip.Options{}, answer(200, `{}`))
	_, err := c.CreateBill(t.Context(), flip.CreateBillParams{Title: "t", Type: flip.BillSingle, Amount: 45000, Step: flip.StepPaymentMethod, SenderName: "Jon"})
	if got, want := err.Error(), "flip.CreateBill: invalid parameters (sender_email: is required)"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	fields := provider.FieldErrorsOf(err)
	if len(fields) != 1 || fields[0].Field != "sender_email" || fields[0].Rule != "required" {
		t.Errorf("FieldErrorsOf = %+v", fields)
	}
}

func TestEditBillValidation(t *testing.T) {
	t.Parallel()
	past := time.Now().Add(-time.Hour)
	future := time.Now().Add(time.Hour)
	tests := []struct {
		name   string
		params flip.EditBillParams
		want   []rule
	}{
		{"nothing", flip.EditBillParams{}, nil},
		{"everything valid", flip.EditBillParams{Title: new("x"), Type: new(flip.BillMultiple), Amount: new(int64(10000)),
			ExpiredDate: &future, RedirectURL: new("https://example.com"), Status: new(flip.BillActive),
			IsAddressRequired: new(true), IsPhoneNumberRequired: new(false)}, nil},
		{"open amount", flip.EditBillParams{Amount: new(int64(0))}, nil},
		{"empty title", flip.EditBillParams{Title: new("")}, []rule{{"title", "required"}}},
		{"blank title", flip.EditBillParams{Title: new(" ")}, []rule{{"title", "required"}}},
		{"unknown type", flip.EditBillParams{Type: new(flip.BillType("ONCE"))}, []rule{{"type", "oneof"}}},
		{"small amount", flip.EditBillParams{Amount: new(int64(5000))}, []rule{{"amount", "eq=0|min=10000"}}},
		{"past expiry", flip.EditBillParams{ExpiredDate: &past}, []rule{{"expired_date", "future"}}},
		{"expiry later this minute", flip.EditBillParams{ExpiredDate: new(endOfThisMinute())}, []rule{{"expired_date", "future"}}},
		{"bad redirect", flip.EditBillParams{RedirectURL: new("nope")}, []rule{{"redirect_url", "http_url"}}},
		{"unknown status", flip.EditBillParams{Status: new(flip.BillStatus("PAUSED"))}, []rule{{"status", "oneof"}}},
	}
	c, f := setup(t, flip.Options{}, answer(200, string(readTestdata(t, "edit_bill.json"))))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(f.requests())
			_, err := c.EditBill(t.Context(), "4706", tt.params)
			if got := refused(t, err); !slices.Equal(got, tt.want) {
				t.Errorf("refused %v, want %v (err: %v)", got, tt.want, err)
			}
			if sent := len(f.requests()) > before; sent != (tt.want == nil) {
				t.Errorf("request sent = %v, want %v", sent, tt.want == nil)
			}
		})
	}
}

func TestPaymentQueryValidation(t *testing.T) {
	t.Parallel()
	day := func(d int) time.Time { return time.Date(2024, 6, d, 12, 0, 0, 0, flip.Location()) }
	tests := []struct {
		name  string
		query flip.PaymentQuery
		want  []rule
	}{
		{"zero", flip.PaymentQuery{}, nil},
		{"dates in order", flip.PaymentQuery{StartDate: day(1), EndDate: day(2)}, nil},
		{"only a start", flip.PaymentQuery{StartDate: day(1)}, nil},
		{"same day", flip.PaymentQuery{StartDate: day(1), EndDate: day(1).Add(time.Hour)}, []rule{{"end_date", "gtfield"}}},
		{"end before start", flip.PaymentQuery{StartDate: day(3), EndDate: day(2)}, []rule{{"end_date", "gtfield"}}},
		{"negative page", flip.PaymentQuery{Page: -1}, []rule{{"page", "min"}}},
		{"negative pagination", flip.PaymentQuery{Pagination: -1}, []rule{{"pagination", "min"}}},
		{"unknown sort_by", flip.PaymentQuery{SortBy: "status"}, []rule{{"sort_by", "oneof"}}},
		{"unknown sort_type", flip.PaymentQuery{SortType: "desc"}, []rule{{"sort_type", "oneof"}}},
	}
	c, _ := setup(t, flip.Options{}, answer(200, string(readTestdata(t, "payments.json"))))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.ListPayments(t.Context(), tt.query)
			if got := refused(t, err); !slices.Equal(got, tt.want) {
				t.Errorf("refused %v, want %v (err: %v)", got, tt.want, err)
			}
		})
	}
	_, err := c.ListBillPayments(t.Context(), "1", flip.PaymentQuery{ReferenceID: "r"})
	if got := refused(t, err); !slices.Equal(got, []rule{{"reference_id", "excluded"}}) {
		t.Errorf("ListBillPayments with reference_id: refused %v", got)
	}
}
