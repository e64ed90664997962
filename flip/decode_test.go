package flip_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/paylinkgo/paylink/flip"
	"github.com/paylinkgo/paylink/provider"
)

// basePayment is a payment as Flip's docs show it; each variant below
// replaces one field.
var basePayment = map[string]string{
	"id":                     `"PGPWF10117182757505748433"`,
	"link_id":                `"110561"`,
	"bill_link":              `"flip.id/pwf-sandbox/$co/#p"`,
	"bill_title":             `"Order 1"`,
	"sender_name":            `"Budi"`,
	"sender_bank":            `"bni"`,
	"sender_bank_type":       `"virtual_account"`,
	"virtual_account_number": `"8808123456789012"`,
	"amount":                 `45000`,
	"status":                 `"SUCCESSFUL"`,
	"settlement_status":      `"Settled"`,
	"reference_id":           `null`,
	"payment_url":            `"https://flip.id/pwf/transaction/consolidated?id=1"`,
	"created_at":             `"2024-06-13 10:49:10"`,
	"completed_at":           `"2024-06-13 10:55:00"`,
	"settlement_date":        `null`,
}

// paymentWith renders basePayment with some fields replaced (a value of
// "" drops the field).
func paymentWith(fields map[string]string) string {
	var parts []string
	for _, k := range []string{"id", "link_id", "bill_link", "bill_title", "sender_name", "sender_bank",
		"sender_bank_type", "virtual_account_number", "amount", "status", "settlement_status", "reference_id",
		"payment_url", "created_at", "completed_at", "settlement_date"} {
		v, ok := fields[k]
		if !ok {
			v = basePayment[k]
		}
		if v != "" {
			parts = append(parts, fmt.Sprintf("%q:%s", k, v))
		}
	}
	for k, v := range fields {
		if _, known := basePayment[k]; !known {
			parts = append(parts, fmt.Sprintf("%q:%s", k, v))
		}
	}
	return "{" + strings.Join(parts, ",") + "}"
}

func wibTime(y int, mo time.Month, d, h, mi, s int) time.Time {
	return time.Date(y, mo, d, h, mi, s, 0, flip.Location())
}

func TestPaymentReadsEachFieldLeniently(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		fields   map[string]string
		check    func(p *flip.Payment) bool
		problems []string // the fields listed in Problems
	}{
		{"as documented", nil, func(p *flip.Payment) bool {
			return p.ID == "PGPWF10117182757505748433" && p.Amount == 45000 && p.CompletedAt.Equal(wibTime(2024, 6, 13, 10, 55, 0))
		}, nil},
		// "null" as a string: Flip's Get Payment example.
		{`completed_at "null"`, map[string]string{"completed_at": `"null"`}, func(p *flip.Payment) bool { return p.CompletedAt.IsZero() }, nil},
		{`settlement_date "null"`, map[string]string{"settlement_date": `"null"`}, func(p *flip.Payment) bool { return p.SettlementDate.IsZero() }, nil},
		{`reference_id "null"`, map[string]string{"reference_id": `"null"`}, func(p *flip.Payment) bool { return p.ReferenceID == "" }, nil},
		{`virtual_account_number "null"`, map[string]string{"virtual_account_number": `"null"`}, func(p *flip.Payment) bool { return p.VirtualAccountNumber == "" }, nil},
		{`sender_name "NULL"`, map[string]string{"sender_name": `"NULL"`}, func(p *flip.Payment) bool { return p.SenderName == "" }, nil},
		{`link_id "null"`, map[string]string{"link_id": `"null"`}, func(p *flip.Payment) bool { return p.LinkID == "" }, nil},
		{"empty strings", map[string]string{"completed_at": `""`, "amount": `""`}, func(p *flip.Payment) bool { return p.CompletedAt.IsZero() && p.Amount == 0 }, nil},
		// Numbers as strings and strings as numbers.
		{"amount as a string", map[string]string{"amount": `"45000"`}, func(p *flip.Payment) bool { return p.Amount == 45000 }, nil},
		{"link_id as a number", map[string]string{"link_id": `110561`}, func(p *flip.Payment) bool { return p.LinkID == "110561" }, nil},
		{"19-digit link_id as a number", map[string]string{"link_id": `2502091430251230000`}, func(p *flip.Payment) bool { return p.LinkID == "2502091430251230000" }, nil},
		{"id as a number", map[string]string{"id": `123456`}, func(p *flip.Payment) bool { return p.ID == "123456" }, nil},
		{"VA number as a number", map[string]string{"virtual_account_number": `65143710135726484`}, func(p *flip.Payment) bool { return p.VirtualAccountNumber == "65143710135726484" }, nil},
		{"title as a number", map[string]string{"bill_title": `1001`}, func(p *flip.Payment) bool { return p.BillTitle == "1001" }, nil},
		// Whole amounts with a fraction.
		{"amount 45000.00 as a string", map[string]string{"amount": `"45000.00"`}, func(p *flip.Payment) bool { return p.Amount == 45000 }, nil},
		{"amount 45000.0 as a number", map[string]string{"amount": `45000.0`}, func(p *flip.Payment) bool { return p.Amount == 45000 }, nil},
		// Fractional or unreadable amounts: a problem, read as 0, never rounded.
		{"fractional amount", map[string]string{"amount": `45000.5`}, func(p *flip.Payment) bool { return p.Amount == 0 }, []string{"amount"}},
		{"ambiguous amount", map[string]string{"amount": `"45.000"`}, func(p *flip.Payment) bool { return p.Amount == 0 }, []string{"amount"}},
		{"negative amount", map[string]string{"amount": `-45000`}, func(p *flip.Payment) bool { return p.Amount == 0 }, []string{"amount"}},
		{"amount as words", map[string]string{"amount": `"empat lima ribu"`}, func(p *flip.Payment) bool { return p.Amount == 0 }, []string{"amount"}},
		// Unknown enum values are kept raw.
		{"unknown status", map[string]string{"status": `"SETTLED_LATER"`}, func(p *flip.Payment) bool { return p.Status == "SETTLED_LATER" }, nil},
		{"unknown settlement status", map[string]string{"settlement_status": `"Pending Settlement"`}, func(p *flip.Payment) bool { return p.SettlementStatus == "Pending Settlement" }, nil},
		{"unknown bank type", map[string]string{"sender_bank_type": `"e_wallet"`}, func(p *flip.Payment) bool { return p.SenderBankType == "e_wallet" }, nil},
		// Timestamps in every format seen.
		{"created_at RFC 3339", map[string]string{"created_at": `"2024-06-13T10:49:10+07:00"`}, func(p *flip.Payment) bool { return p.CreatedAt.Equal(wibTime(2024, 6, 13, 10, 49, 10)) }, nil},
		{"created_at UTC", map[string]string{"created_at": `"2024-06-13T03:49:10Z"`}, func(p *flip.Payment) bool { return p.CreatedAt.Equal(wibTime(2024, 6, 13, 10, 49, 10)) }, nil},
		{"created_at without a zone", map[string]string{"created_at": `"2024-06-13T10:49:10"`}, func(p *flip.Payment) bool { return p.CreatedAt.Equal(wibTime(2024, 6, 13, 10, 49, 10)) }, nil},
		{"created_at in minutes", map[string]string{"created_at": `"2024-06-13 10:49"`}, func(p *flip.Payment) bool { return p.CreatedAt.Equal(wibTime(2024, 6, 13, 10, 49, 0)) }, nil},
		{"created_at unix", map[string]string{"created_at": `1718250550`}, func(p *flip.Payment) bool { return p.CreatedAt.Equal(wibTime(2024, 6, 13, 10, 49, 10)) }, nil},
		{"created_at zero date", map[string]string{"created_at": `"0000-00-00 00:00:00"`}, func(p *flip.Payment) bool { return p.CreatedAt.IsZero() }, nil},
		{"created_at not understood", map[string]string{"created_at": `"kemarin"`}, func(p *flip.Payment) bool { return p.CreatedAt.IsZero() && p.Amount == 45000 }, []string{"created_at"}},
		{"created_at an object", map[string]string{"created_at": `{"date":"2024-06-13"}`}, func(p *flip.Payment) bool { return p.CreatedAt.IsZero() }, []string{"created_at"}},
		// Odd types never fail the payment.
		{"sender name an object", map[string]string{"sender_name": `{"first":"Budi"}`}, func(p *flip.Payment) bool { return p.SenderName == "" && p.Amount == 45000 }, []string{"sender_name"}},
		{"id fractional", map[string]string{"id": `1.5`}, func(p *flip.Payment) bool { return p.ID == "" }, []string{"id"}},
		{"several odd fields", map[string]string{"amount": `true`, "created_at": `[]`, "bill_title": `false`},
			func(p *flip.Payment) bool { return p.ID != "" && p.Status == "SUCCESSFUL" }, []string{"bill_title", "amount", "created_at"}},
		{"unknown fields", map[string]string{"transaction_reference_number": `null`, "future": `{"x":[1]}`}, func(p *flip.Payment) bool { return p.Amount == 45000 }, nil},
		{"field names in another case", map[string]string{"amount": "", "AMOUNT": `"45000"`}, func(p *flip.Payment) bool { return p.Amount == 45000 }, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			data := paymentWith(tt.fields)
			var p flip.Payment
			if err := json.Unmarshal([]byte(data), &p); err != nil {
				t.Fatalf("Unmarshal(%s): %v", data, err)
			}
			if !tt.check(&p) {
				t.Errorf("payment = %+v\nfrom %s", p, data)
			}
			var fields []string
			for _, pr := range p.Problems {
				fields = append(fields, pr.Field)
				if pr.Err == nil || pr.Value == "" {
					t.Errorf("incomplete problem %+v", pr)
				}
			}
			if fmt.Sprint(fields) != fmt.Sprint(tt.problems) && !(len(fields) == 0 && len(tt.problems) == 0) {
				t.Errorf("problems = %v, want %v", fields, tt.problems)
			}
			if string(p.Raw) != data {
				t.Errorf("Raw = %s, want the payment as received", p.Raw)
			}
		})
	}
}

func TestPaymentPageSurvivesOddEntries(t *testing.T) {
	t.Parallel()
	page := `{"link_id":"110561","total_data":"3","data_per_page":3.0,"total_page":"null","page":"1","data":[` +
		paymentWith(map[string]string{"completed_at": `"null"`}) + `,"not a payment",` +
		paymentWith(map[string]string{"id": `"B"`, "amount": `"1.5"`}) + `]}`
	var pg flip.PaymentPage
	if err := json.Unmarshal([]byte(page), &pg); err != nil {
		t.Fatal(err)
	}
	if pg.LinkID != "110561" || pg.TotalData != 3 || pg.DataPerPage != 3 || pg.TotalPage != 0 || pg.Page != 1 || len(pg.Data) != 2 {
		t.Errorf("page = %+v", pg)
	}
	if len(pg.Problems) != 1 || pg.Problems[0].Field != "data[1]" {
		t.Errorf("page problems = %v, want the string entry", pg.Problems)
	}
	if len(pg.Data[1].Problems) != 1 || !errors.Is(pg.Data[1].Problems[0], flip.ErrFractionalAmount) {
		t.Errorf("payment B problems = %v", pg.Data[1].Problems)
	}

	for _, bad := range []string{`[]`, `{"data":{"id":"A"}}`, `{"data":"x"}`} {
		if err := json.Unmarshal([]byte(bad), &pg); err == nil {
			t.Errorf("Unmarshal(%s) accepted a page whose data cannot be read", bad)
		}
	}
	for _, empty := range []string{`{"data":null}`, `{"data":"null"}`, `{}`} {
		if err := json.Unmarshal([]byte(empty), &pg); err != nil || len(pg.Data) != 0 {
			t.Errorf("Unmarshal(%s) = %+v, %v; want an empty page", empty, pg, err)
		}
	}
}

// TestNullCompletedAtKeepsTheListWhole is the bug that started this: one
// "completed_at":"null" failed the whole list, so every callback of the
// link was answered 503 and the reconciler failed for it too.
func TestNullCompletedAtKeepsTheListWhole(t *testing.T) {
	t.Parallel()
	body := `{"link_id":110561,"total_data":2,"data_per_page":2,"total_page":1,"page":1,"data":[` +
		paymentWith(map[string]string{"id": `"A"`, "status": `"PENDING"`, "completed_at": `"null"`, "settlement_date": `"null"`}) + `,` +
		paymentWith(map[string]string{"id": `"B"`, "amount": `"45000.00"`, "link_id": `110561`}) + `]}`
	p, _ := newProvider(t, flip.ProviderOptions{}, answer(200, body))
	got, err := p.ListLinkPayments(t.Context(), &provider.Link{ID: "110561"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].ID != "A" || !got[0].CompletedAt.IsZero() || got[0].Status != provider.PaymentPending ||
		got[1].ID != "B" || got[1].Amount != provider.Rupiah(45000) || got[1].Status != provider.PaymentSuccessful {
		t.Errorf("payments = %+v", got)
	}
}

func TestListedPaymentProblemsAreSafe(t *testing.T) {
	t.Parallel()
	body := `{"total_page":1,"data":[` +
		paymentWith(map[string]string{"id": `null`}) + `,` + // no id: cannot be told apart, skipped
		paymentWith(map[string]string{"id": `"F"`, "amount": `"45000.5"`}) + // fractional: 0, never settles
		`]}`
	var logs syncBuffer
	c, _ := setup(t, flip.Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))}, answer(200, body))
	p := flip.NewProvider(c, flip.ProviderOptions{})
	got, err := p.ListLinkPayments(t.Context(), &provider.Link{ID: "7"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].ID != "F" || got[0].Amount.Amount != 0 || len(got[0].Raw) == 0 {
		t.Errorf("payments = %+v, want only F, with amount 0 and its raw JSON", got)
	}
	for _, want := range []string{"without an id", "could not be read", "amount"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("logs lack %q:\n%s", want, logs.String())
		}
	}
}

func TestBillReadsEachFieldLeniently(t *testing.T) {
	t.Parallel()
	data := `{"link_id":"130068","link_url":"flip.id/pwf-sandbox/$testflip/#test-1542","title":12345,"type":"SINGLE",` +
		`"amount":"45000.00","redirect_url":"null","expired_date":"2030-01-02T03:04:00+07:00","created_from":"API",` +
		`"status":"PAUSED","is_address_required":"true","is_phone_number_required":"null","step":"2",` +
		`"customer":{"name":"Jon","email":"jon@example.com","address":null,"phone":"null"},` +
		`"bill_payment":{"id":62,"amount":"45000","unique_code":"0","status":"NOT_CONFIRMED","created_at":"1658379743",` +
		`"receiver_bank_account":{"account_number":65143710135726484,"account_type":"virtual_account","bank_code":"mandiri","account_holder":"Jon"}},` +
		`"payment_method":"null","new_field":[1,2]}`
	var b flip.Bill
	if err := json.Unmarshal([]byte(data), &b); err != nil {
		t.Fatal(err)
	}
	want := flip.Bill{
		LinkID: "130068", LinkURL: "https://flip.id/pwf-sandbox/$testflip/#test-1542", Title: "12345", Type: flip.BillSingle,
		Amount: 45000, ExpiredDate: flip.Timestamp{Time: wibTime(2030, 1, 2, 3, 4, 0)}, CreatedFrom: "API",
		Status: "PAUSED", IsAddressRequired: true, Step: flip.StepPaymentMethod,
		Customer: &flip.Customer{Name: "Jon", Email: "jon@example.com"},
		BillPayment: &flip.BillPayment{ID: "62", Amount: 45000, Status: flip.PaymentNotConfirmed,
			CreatedAt: flip.UnixTime{Time: time.Unix(1658379743, 0).In(flip.Location())},
			ReceiverBankAccount: &flip.BankAccount{AccountNumber: "65143710135726484", AccountType: flip.BankTypeVirtualAccount,
				BankCode: "mandiri", AccountHolder: "Jon"}},
	}
	if !b.ExpiredDate.Equal(want.ExpiredDate.Time) || !b.BillPayment.CreatedAt.Equal(want.BillPayment.CreatedAt.Time) {
		t.Errorf("times = %v, %v", b.ExpiredDate, b.BillPayment.CreatedAt)
	}
	b.ExpiredDate, b.BillPayment.CreatedAt = want.ExpiredDate, want.BillPayment.CreatedAt
	if string(b.Raw) != data || len(b.Problems) != 0 {
		t.Errorf("Raw = %s, Problems = %v", b.Raw, b.Problems)
	}
	b.Raw, b.Problems = nil, nil
	if !reflect.DeepEqual(b, want) {
		t.Errorf("bill\n got %+v\nwant %+v", b, want)
	}
}

func TestBillProblemsNameNestedFields(t *testing.T) {
	t.Parallel()
	data := `{"link_id":1,"amount":"1.5","step":"checkout","customer":"Budi",` +
		`"bill_payment":{"id":"X","amount":45000,"created_at":"soon","receiver_bank_account":[1]}}`
	var b flip.Bill
	if err := json.Unmarshal([]byte(data), &b); err != nil {
		t.Fatal(err)
	}
	var fields []string
	for _, p := range b.Problems {
		fields = append(fields, p.Field)
	}
	want := []string{"amount", "step", "customer", "bill_payment.created_at", "bill_payment.receiver_bank_account"}
	if fmt.Sprint(fields) != fmt.Sprint(want) {
		t.Errorf("problems = %v, want %v", fields, want)
	}
	if b.LinkID != "1" || b.Amount != 0 || b.Customer != nil || b.BillPayment == nil || b.BillPayment.Amount != 45000 {
		t.Errorf("bill = %+v", b)
	}
	if err := json.Unmarshal([]byte(`[1]`), &b); err == nil {
		t.Error("a bill that is not an object was accepted")
	}
}

func TestListBillsSkipsEntriesThatAreNotBills(t *testing.T) {
	t.Parallel()
	body := `[` + string(readTestdata(t, "bill_step1.json")) + `,"oops",{"link_id":"2","amount":"x"}]`
	c, _ := setup(t, flip.Options{}, answer(200, body))
	bills, err := c.ListBills(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(bills) != 2 || bills[0].LinkID != "130068" || bills[1].LinkID != "2" || len(bills[1].Problems) != 1 {
		t.Errorf("bills = %+v", bills)
	}
}

func TestConfirmationReadsLeniently(t *testing.T) {
	t.Parallel()
	var c flip.Confirmation
	if err := json.Unmarshal([]byte(`{"confirmed_at":"null","payment_url":"flip.id/transaksi/bill/PWF12"}`), &c); err != nil {
		t.Fatal(err)
	}
	if !c.ConfirmedAt.IsZero() || c.PaymentURL != "https://flip.id/transaksi/bill/PWF12" {
		t.Errorf("confirmation = %+v", c)
	}
}
