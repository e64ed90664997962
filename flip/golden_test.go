package flip_test

import (
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/paylinkgo/paylink/flip"
)

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func wib(y int, mo time.Month, d, h, mi, s int) time.Time {
	return time.Date(y, mo, d, h, mi, s, 0, flip.Location())
}

func TestGoldenBills(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file string
		want flip.Bill
	}{
		{"bill_step1.json", flip.Bill{
			LinkID: "130068", LinkURL: "https://flip.id/pwf-sandbox/$testflip/#test-1542", Title: "Test New Bill ",
			Type: flip.BillSingle, Amount: 45000, RedirectURL: "https://example.com", CreatedFrom: "API",
			Status: flip.BillActive, Step: flip.StepInputData,
		}},
		{"bill_step2.json", flip.Bill{
			LinkID: "130080", LinkURL: "https://flip.id/pwf-sandbox/$testflip/#test-3325", Title: "Test New Bill step 2",
			Type: flip.BillSingle, Amount: 45000, RedirectURL: "https://example.com", CreatedFrom: "API",
			Status: flip.BillActive, Step: flip.StepPaymentMethod,
			Customer: &flip.Customer{Name: "Jon Snow", Email: "jon.snow@Example.com"},
		}},
		{"bill_step3_va.json", flip.Bill{
			LinkID: "130088", LinkURL: "https://flip.id/pwf-sandbox/$testflip/#test-7072", Title: "test",
			Type: flip.BillSingle, Amount: 45000, RedirectURL: "https://example.com", CreatedFrom: "API",
			Status: flip.BillActive, Step: flip.StepConfirmation,
			Customer: &flip.Customer{Name: "Jon Snow", Email: "jon.snow@example.com"},
			BillPayment: &flip.BillPayment{
				ID: "PGPWF10117252552383992345", Amount: 45000, Status: flip.PaymentPending,
				SenderBank: "mandiri", SenderBankType: flip.BankTypeVirtualAccount,
				ReceiverBankAccount: &flip.BankAccount{AccountNumber: "65143710135726484",
					AccountType: flip.BankTypeVirtualAccount, BankCode: "mandiri", AccountHolder: "Jon Snow"},
				CreatedAt: flip.UnixTime{Time: time.Unix(1725255238, 0).In(flip.Location())},
			},
			PaymentURL: "https://flip.id/pwf-sandbox/transaction/consolidated?redirected_from=internal&id=2ba565331b03401a8b04fe643bd15db3",
		}},
		{"bill_step3_va_docs.json", flip.Bill{
			LinkID: "4706", LinkURL: "https://flip.id/$companyname/#coffeetable", Title: "Coffee Table",
			Type: flip.BillSingle, Amount: 900000, RedirectURL: "https://someurl.com",
			ExpiredDate: flip.Timestamp{Time: wib(2022, 12, 30, 15, 50, 0)}, CreatedFrom: "API",
			Status: flip.BillActive, Step: flip.StepConfirmation,
			Customer: &flip.Customer{Name: "Customer A", Email: "customer_a@gmail.com", Address: "Jl. Jakarta", Phone: "08123456789"},
			BillPayment: &flip.BillPayment{
				ID: "62d8ddde3e10b", Amount: 900000, Status: flip.PaymentPending,
				SenderBank: "mandiri", SenderBankType: flip.BankTypeVirtualAccount,
				ReceiverBankAccount: &flip.BankAccount{AccountNumber: "3453280274531212",
					AccountType: flip.BankTypeVirtualAccount, BankCode: "mandiri", AccountHolder: "Customer A"},
				UserAddress: "Jl. Jakarta", UserPhone: "08123456789",
				CreatedAt: flip.UnixTime{Time: time.Unix(1658379743, 0).In(flip.Location())},
			},
			PaymentURL: "https://flip.id/pwf/transaction/consolidated?redirected_from=internal&id=1235",
		}},
		{"bill_step3_ewallet.json", flip.Bill{
			LinkID: "4707", LinkURL: "https://flip.id/$companyname/#coffeetable-2", Title: "Coffee Table",
			Type: flip.BillSingle, Amount: 900000, RedirectURL: "https://someurl.com",
			ExpiredDate: flip.Timestamp{Time: wib(2022, 12, 30, 15, 50, 0)}, CreatedFrom: "API",
			Status: flip.BillActive, Step: flip.StepConfirmation,
			Customer: &flip.Customer{Name: "Customer A", Email: "customer_a@gmail.com"},
			BillPayment: &flip.BillPayment{
				ID: "62d8ddde3e10c", Amount: 900000, Status: flip.PaymentPending,
				SenderBank: "ovo", SenderBankType: flip.BankTypeWallet,
				ReceiverBankAccount: &flip.BankAccount{AccountType: flip.BankTypeWallet, BankCode: "ovo", AccountHolder: "Customer A"},
				CreatedAt:           flip.UnixTime{Time: time.Unix(1658379744, 0).In(flip.Location())},
			},
			PaymentURL: "https://ovo.id/pay?ref=62d8ddde3e10c",
		}},
		{"bill_step3_qris.json", flip.Bill{
			LinkID: "4708", LinkURL: "https://flip.id/$companyname/#qris-1", Title: "QRIS Bill",
			Type: flip.BillSingle, Amount: 10000, CreatedFrom: "API", Status: flip.BillActive, Step: flip.StepConfirmation,
			Customer: &flip.Customer{Name: "Customer B", Email: "customer_b@gmail.com"},
			BillPayment: &flip.BillPayment{
				ID: "PGPWF1011688631657552", Amount: 10000, Status: flip.PaymentPending,
				SenderBank: "qris", SenderBankType: flip.BankTypeWallet,
				ReceiverBankAccount: &flip.BankAccount{AccountType: flip.BankTypeWallet, BankCode: "qris", AccountHolder: "Customer B",
					QRCodeData: "00020101021226670016COM.NOBUBANK.WWW01189360050300000898240214520146377902160303UMI51440014ID.CO.QRIS.WWW0215ID20200340729760303UMI5204481653033605405100005802ID5904Flip6013Jakarta Pusat6105101106304ABCD"},
				CreatedAt: flip.UnixTime{Time: time.Unix(1688631657, 0).In(flip.Location())},
			},
			PaymentURL: "https://flip.id/pwf/transaction/consolidated?redirected_from=internal&id=PGPWF1011688631657552",
		}},
		{"get_bill_step3.json", flip.Bill{
			LinkID: "4706", LinkURL: "https://flip.id/$companyname/#coffeetable", Title: "Coffee Table",
			Type: flip.BillSingle, Amount: 900000, RedirectURL: "https://someurl.com",
			ExpiredDate: flip.Timestamp{Time: wib(2022, 12, 30, 15, 50, 0)}, CreatedFrom: "API",
			Status: flip.BillActive, Step: flip.StepConfirmation,
			Customer:      &flip.Customer{Name: "Customer A", Email: "customer_a@gmail.com", Address: "Jl. Jakarta", Phone: "08123456789"},
			PaymentMethod: &flip.PaymentMethod{SenderBank: "bni", SenderBankType: flip.BankTypeVirtualAccount},
		}},
		{"edit_bill.json", flip.Bill{
			LinkID: "4706", LinkURL: "https://flip.id/$companyname/#coffeetable", Title: "Coffee Table Edited",
			Type: flip.BillMultiple, Amount: 950000, RedirectURL: "https://someurl.com",
			ExpiredDate: flip.Timestamp{Time: wib(2022, 12, 31, 23, 59, 0)}, CreatedFrom: "API",
			Status: flip.BillInactive, IsAddressRequired: true, IsPhoneNumberRequired: true,
		}},
		{"bill_19digit.json", flip.Bill{
			LinkID: "2502091430251230000", LinkURL: "https://flip.id/pwf/$company/#big-id", Title: "Big id",
			Type: flip.BillMultiple, CreatedFrom: "API", Status: flip.BillActive, IsAddressRequired: true, Step: flip.StepInputData,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			data := readTestdata(t, tt.file)
			var got flip.Bill
			if err := json.Unmarshal(data, &got); err != nil {
				t.Fatal(err)
			}
			if !json.Valid(got.Raw) || len(got.Raw) == 0 {
				t.Errorf("Raw is not the JSON object: %q", got.Raw)
			}
			got.Raw = nil
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("decoded\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestGoldenListBills(t *testing.T) {
	t.Parallel()
	var bills []flip.Bill
	if err := json.Unmarshal(readTestdata(t, "list_bills.json"), &bills); err != nil {
		t.Fatal(err)
	}
	if len(bills) != 2 {
		t.Fatalf("got %d bills, want 2", len(bills))
	}
	// An id above the int64 range survives as text.
	if bills[1].LinkID != "9223372036854775808" {
		t.Errorf("LinkID = %q", bills[1].LinkID)
	}
	if want := wib(2030, 1, 2, 3, 4, 0); !bills[1].ExpiredDate.Equal(want) {
		t.Errorf("ExpiredDate = %v, want %v", bills[1].ExpiredDate, want)
	}
	if bills[1].Status != flip.BillInactive || !bills[1].IsPhoneNumberRequired || bills[1].CreatedFrom != "DASHBOARD" {
		t.Errorf("second bill = %+v", bills[1])
	}
	var first map[string]any
	if err := json.Unmarshal(bills[0].Raw, &first); err != nil || first["title"] != "Test New Bill " {
		t.Errorf("Raw of the first bill = %s (%v)", bills[0].Raw, err)
	}
}

func TestGoldenPaymentPages(t *testing.T) {
	t.Parallel()
	var byBill flip.PaymentPage
	if err := json.Unmarshal(readTestdata(t, "bill_payments.json"), &byBill); err != nil {
		t.Fatal(err)
	}
	wantPayments := []flip.Payment{
		{
			ID: "FT12345678", BillLink: "flip.id/$companyname/#coffeetable", BillTitle: "Coffee Table",
			SenderName: "Customer A", SenderBank: "bni", SenderBankType: flip.BankTypeBankAccount,
			Amount: 900000, Status: flip.PaymentSuccessful, SettlementStatus: "Settled",
			PaymentURL:  "https://flip.id/pwf/transaction/consolidated?redirected_from=internal&id=1235",
			CreatedAt:   flip.Timestamp{Time: wib(2022, 12, 30, 15, 50, 0)},
			CompletedAt: flip.Timestamp{Time: wib(2022, 12, 30, 16, 1, 2)},
		},
		{
			ID: "PGPWF12345", BillLink: "flip.id/$companyname/#coffeetable", BillTitle: "Coffee Table",
			SenderName: "Customer B", SenderBank: "mandiri", SenderBankType: flip.BankTypeVirtualAccount,
			VirtualAccountNumber: "3453280274531212", Amount: 900000, Status: flip.PaymentPending, SettlementStatus: "Pending",
			PaymentURL: "https://flip.id/pwf/transaction/consolidated?redirected_from=internal&id=1236",
			CreatedAt:  flip.Timestamp{Time: wib(2022, 12, 30, 17, 0, 0)},
		},
	}
	for i := range byBill.Data {
		byBill.Data[i].Raw = nil
	}
	want := flip.PaymentPage{LinkID: "1065", TotalData: 2, DataPerPage: 2, TotalPage: 1, Page: 1, Data: wantPayments}
	if !reflect.DeepEqual(byBill, want) {
		t.Errorf("bill_payments.json\n got %+v\nwant %+v", byBill, want)
	}

	var all flip.PaymentPage
	if err := json.Unmarshal(readTestdata(t, "payments.json"), &all); err != nil {
		t.Fatal(err)
	}
	if all.LinkID != "" || all.TotalData != 3 || all.DataPerPage != 1 || all.TotalPage != 3 || all.Page != 2 || len(all.Data) != 1 {
		t.Fatalf("payments.json envelope = %+v", all)
	}
	p := all.Data[0]
	if p.LinkID != "110561" || p.ID != "PGPWF10117182757505748433" || p.Status != flip.PaymentFailed ||
		p.SettlementStatus != "Pending Settlement" || p.ReferenceID != "static-va-17" ||
		p.VirtualAccountNumber != "89652301234567890" || !p.CompletedAt.IsZero() || !p.SettlementDate.IsZero() {
		t.Errorf("payments.json item = %+v", p)
	}
}

func TestGoldenConfirmation(t *testing.T) {
	t.Parallel()
	var c flip.Confirmation
	if err := json.Unmarshal(readTestdata(t, "confirm.json"), &c); err != nil {
		t.Fatal(err)
	}
	if !c.ConfirmedAt.Equal(wib(2022, 12, 30, 15, 50, 0)) ||
		c.PaymentURL != "https://flip.id/transaksi/bill/PWF12/proses?email=customer%40gmail.com" {
		t.Errorf("confirmation = %+v", c)
	}
}

func TestGoldenCallbacks(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file string
		want flip.Callback
	}{
		{"docs.json", flip.Callback{ID: "FT1", BillLink: "flip.id/$<company_code>/#<product_code>", BillLinkID: "4740",
			BillTitle: "Cimol Goreng", SenderName: "Jon Doe", SenderBank: "bni", SenderBankType: "bank_account",
			Amount: 10000, Status: "SUCCESSFUL", CreatedAt: wib(2021, 11, 29, 10, 10, 10)}},
		{"seed_curl.json", flip.Callback{ID: "FT1", BillLink: "flip.id/$<company_code>/#<product_code>", BillLinkID: "4740",
			BillTitle: "Cimol Goreng", SenderName: "Jon Doe", SenderEmail: "email@email.com", SenderBank: "bni",
			SenderBankType: "bank_account", Amount: 10000, Status: "SUCCESSFUL", CreatedAt: wib(2021, 11, 29, 10, 10, 10)}},
		{"seed_successful.json", flip.Callback{ID: "PGPWF10117252588865176637",
			BillLink: "flip.id/pwf-sandbox/$fliptechlenterainspirasipertiwi-1/#testnewbill-2536", BillLinkID: "130110",
			BillTitle: "Test New Bill ", SenderName: "nisa", SenderEmail: "khoirunnisyazaw@yahoo.com", SenderBank: "mandiri",
			SenderBankType: "virtual_account", Amount: 45000, Status: "SUCCESSFUL", CreatedAt: wib(2024, 9, 2, 13, 34, 46)}},
		{"seed_cancelled.json", flip.Callback{ID: "PGPWF22595173324048856",
			BillLink: "flip.id/pwf-sandbox/$fliptechlenterainspirasipertiwi-1/#testnewbill-2536", BillLinkID: "130110",
			BillTitle: "Test New Bill ", SenderName: "nisa", SenderEmail: "ap-static-va-testing@gmail.com", SenderBank: "qris",
			SenderBankType: "e_wallet", Amount: 45000, Status: "CANCELLED", CreatedAt: wib(2024, 9, 2, 14, 17, 13)}},
		{"seed_failed.json", flip.Callback{ID: "PGPWF210601",
			BillLink: "flip.id/pwf-sandbox/$fliptechlenterainspirasipertiwi-1/#testnewbill-2536", BillLinkID: "130110",
			BillTitle: "Test New Bill ", SenderName: "MIRACLE NARISWARI", SenderEmail: "772111002@civitas.id", SenderBank: "bca",
			SenderBankType: "bank_account", Amount: 2006500, Status: "FAILED", CreatedAt: wib(2024, 7, 9, 11, 0, 40)}},
		{"variant_strings.json", flip.Callback{ID: "PGPWF1", BillLinkID: "2502091430251230000", Amount: 45000,
			Status: "CANCELED", ReferenceID: "ref-1", CreatedAt: wib(2026, 4, 10, 8, 0, 0)}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			data := readTestdata(t, filepath.Join("callback", tt.file))
			r := callbackRequest(t, url.Values{"data": {string(data)}, "token": {testToken}}.Encode())
			got, err := flip.ParseCallback(r, testToken, 0)
			if err != nil {
				t.Fatal(err)
			}
			if string(got.Raw) != string(data) {
				t.Errorf("Raw = %q, want the data field as sent", got.Raw)
			}
			got.Raw = nil
			if got.MatchedToken != flip.TokenCurrent {
				t.Errorf("MatchedToken = %q, want current", got.MatchedToken)
			}
			got.MatchedToken = ""
			if !got.CreatedAt.Equal(tt.want.CreatedAt) {
				t.Errorf("CreatedAt = %v, want %v", got.CreatedAt, tt.want.CreatedAt)
			}
			got.CreatedAt, tt.want.CreatedAt = time.Time{}, time.Time{}
			if !reflect.DeepEqual(*got, tt.want) {
				t.Errorf("decoded\n got %+v\nwant %+v", *got, tt.want)
			}
		})
	}
}
