package fliptest

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"
)

// This file holds the fake's own wire format, written from flip-api.md and
// deliberately independent of package flip, so that the fake tests the
// client instead of agreeing with it.

// Flip's timestamp layouts. Every timestamp is in Asia/Jakarta (WIB, UTC+7,
// no daylight saving).
const (
	layoutDateTime = "2006-01-02 15:04:05"
	layoutMinute   = "2006-01-02 15:04"
	layoutDate     = "2006-01-02"
)

// wib is Asia/Jakarta. A fixed zone keeps the fake free of tzdata.
var wib = time.FixedZone("WIB", 7*60*60)

func flipTime(t time.Time) string { return t.In(wib).Format(layoutDateTime) }

// schemeless is u without its scheme, as Flip writes link_url and
// bill_link ("flip.id/$company/#slug").
func schemeless(u string) string {
	if _, rest, ok := strings.Cut(u, "://"); ok {
		return rest
	}
	return u
}

// flipStatusBody is the shape of Flip's 401 and 404 bodies.
type flipStatusBody struct {
	Name    string `json:"name"`
	Message string `json:"message"`
	Status  int    `json:"status"`
}

// flipFieldError is one entry of a 422 body's errors array.
type flipFieldError struct {
	Attribute string `json:"attribute"`
	Code      int    `json:"code"`
	Message   string `json:"message"`
}

// flipValidationBody is Flip's 422 body.
type flipValidationBody struct {
	Code   string           `json:"code"`
	Errors []flipFieldError `json:"errors"`
}

type customerJSON struct {
	Name    string  `json:"name"`
	Email   string  `json:"email"`
	Address *string `json:"address"`
	Phone   *string `json:"phone"`
}

type bankAccountJSON struct {
	AccountNumber *string  `json:"account_number"`
	AccountType   BankType `json:"account_type"`
	BankCode      string   `json:"bank_code"`
	AccountHolder string   `json:"account_holder"`
	QRCodeData    string   `json:"qr_code_data,omitempty"`
}

type billPaymentJSON struct {
	ID                  string          `json:"id"`
	Amount              int64           `json:"amount"`
	UniqueCode          int64           `json:"unique_code"`
	Status              PaymentStatus   `json:"status"`
	SenderBank          string          `json:"sender_bank"`
	SenderBankType      BankType        `json:"sender_bank_type"`
	ReceiverBankAccount bankAccountJSON `json:"receiver_bank_account"`
	UserAddress         *string         `json:"user_address"`
	UserPhone           *string         `json:"user_phone"`
	CreatedAt           int64           `json:"created_at"`
}

type paymentMethodJSON struct {
	SenderBank     string   `json:"sender_bank"`
	SenderBankType BankType `json:"sender_bank_type"`
}

// billJSON is Flip's Bill object.
type billJSON struct {
	LinkID                json.Number        `json:"link_id"`
	LinkURL               string             `json:"link_url"`
	Title                 string             `json:"title"`
	Type                  BillType           `json:"type"`
	Amount                int64              `json:"amount"`
	RedirectURL           *string            `json:"redirect_url"`
	ExpiredDate           *string            `json:"expired_date"`
	CreatedFrom           string             `json:"created_from"`
	Status                BillStatus         `json:"status"`
	IsAddressRequired     int                `json:"is_address_required"`
	IsPhoneNumberRequired int                `json:"is_phone_number_required"`
	Step                  int                `json:"step"`
	Customer              *customerJSON      `json:"customer,omitempty"`
	BillPayment           *billPaymentJSON   `json:"bill_payment,omitempty"`
	PaymentURL            string             `json:"payment_url,omitempty"`
	PaymentMethod         *paymentMethodJSON `json:"payment_method,omitempty"`
}

// paymentJSON is Flip's Payment object of the payment lists.
type paymentJSON struct {
	ID                         string        `json:"id"`
	LinkID                     string        `json:"link_id"`
	BillLink                   string        `json:"bill_link"`
	BillTitle                  string        `json:"bill_title"`
	SenderName                 string        `json:"sender_name"`
	SenderBank                 string        `json:"sender_bank"`
	SenderBankType             BankType      `json:"sender_bank_type"`
	VirtualAccountNumber       *string       `json:"virtual_account_number"`
	Amount                     int64         `json:"amount"`
	Status                     PaymentStatus `json:"status"`
	SettlementStatus           string        `json:"settlement_status"`
	ReferenceID                *string       `json:"reference_id"`
	PaymentURL                 string        `json:"payment_url"`
	CreatedAt                  string        `json:"created_at"`
	CompletedAt                *string       `json:"completed_at"`
	TransactionReferenceNumber *string       `json:"transaction_reference_number"`
	SettlementDate             *string       `json:"settlement_date"`
}

// paymentPageJSON is the envelope of the payment lists. LinkID is set only
// for the payments of one bill.
type paymentPageJSON struct {
	LinkID      json.Number   `json:"link_id,omitempty"`
	TotalData   int           `json:"total_data"`
	DataPerPage int           `json:"data_per_page"`
	TotalPage   int           `json:"total_page"`
	Page        int           `json:"page"`
	Data        []paymentJSON `json:"data"`
}

type confirmJSON struct {
	ConfirmedAt string `json:"confirmed_at"`
	PaymentURL  string `json:"payment_url"`
}

// billView says which variant of the Bill object to write: Create Bill
// answers a step-3 bill with its bill_payment and payment_url; Get Bill,
// Get All Bills and Edit Bill answer it with payment_method instead (a quirk
// of Flip's documented responses).
type billView int

const (
	viewCreated billView = iota
	viewStored
)

func optString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// billWire renders b; p is the step-3 bill's own payment for viewCreated.
func billWire(b *bill, view billView, p *payment) billJSON {
	out := billJSON{
		LinkID:                json.Number(b.LinkID),
		LinkURL:               schemeless(b.LinkURL),
		Title:                 b.Title,
		Type:                  b.Type,
		Amount:                b.Amount,
		RedirectURL:           optString(b.RedirectURL),
		CreatedFrom:           "API",
		Status:                b.Status,
		IsAddressRequired:     boolInt(b.IsAddressRequired),
		IsPhoneNumberRequired: boolInt(b.IsPhoneNumberRequired),
		Step:                  b.Step,
	}
	if !b.ExpiresAt.IsZero() {
		out.ExpiredDate = optString(flipTime(b.ExpiresAt))
	}
	if b.Step >= 2 {
		out.Customer = &customerJSON{
			Name:    b.Customer.Name,
			Email:   b.Customer.Email,
			Address: optString(b.Customer.Address),
			Phone:   optString(b.Customer.Phone),
		}
		if view == viewCreated && b.Step == 2 {
			// The seed's step-2 answer echoes address and phone as null,
			// although the request sent both.
			out.Customer.Address, out.Customer.Phone = nil, nil
		}
	}
	if b.Step == 3 {
		if view == viewCreated && p != nil {
			bp := billPaymentWire(b, p)
			out.BillPayment = &bp
			out.PaymentURL = b.PaymentURL
		} else {
			out.PaymentMethod = &paymentMethodJSON{SenderBank: b.SenderBank, SenderBankType: b.SenderBankType}
		}
	}
	return out
}

func billPaymentWire(b *bill, p *payment) billPaymentJSON {
	acct := bankAccountJSON{
		AccountType:   p.SenderBankType,
		BankCode:      p.SenderBank,
		AccountHolder: p.SenderName,
		QRCodeData:    p.QRCodeData,
	}
	switch p.SenderBankType {
	case VirtualAccount:
		acct.AccountNumber = optString(p.VANumber)
	case BankAccount:
		acct.AccountNumber = optString(flipAccountNumber(p.SenderBank))
	}
	return billPaymentJSON{
		ID:                  p.ID,
		Amount:              p.Amount,
		UniqueCode:          p.UniqueCode,
		Status:              p.Status,
		SenderBank:          p.SenderBank,
		SenderBankType:      p.SenderBankType,
		ReceiverBankAccount: acct,
		UserAddress:         optString(b.Customer.Address),
		UserPhone:           optString(b.Customer.Phone),
		CreatedAt:           p.CreatedAt.Unix(),
	}
}

// flipAccountNumber is the fake Flip account a bank transfer goes to.
func flipAccountNumber(bank string) string {
	switch bank {
	case "bca":
		return "5425123456"
	case "mandiri":
		return "1230009876543"
	default:
		return "0987654321"
	}
}

func settlementStatus(s PaymentStatus) string {
	switch s {
	case PaymentSuccessful:
		return "Settled"
	case PaymentPending:
		return "Pending"
	default:
		return "Cancelled"
	}
}

func paymentWire(p *payment) paymentJSON {
	out := paymentJSON{
		ID:                   p.ID,
		LinkID:               p.LinkID,
		BillLink:             p.BillLink,
		BillTitle:            p.BillTitle,
		SenderName:           p.SenderName,
		SenderBank:           p.SenderBank,
		SenderBankType:       p.SenderBankType,
		VirtualAccountNumber: optString(p.VANumber),
		Amount:               p.Amount,
		Status:               p.Status,
		SettlementStatus:     settlementStatus(p.Status),
		ReferenceID:          optString(p.ReferenceID),
		PaymentURL:           p.PaymentURL,
		CreatedAt:            flipTime(p.CreatedAt),
	}
	if !p.CompletedAt.IsZero() {
		out.CompletedAt = optString(flipTime(p.CompletedAt))
	}
	if p.Status == PaymentSuccessful {
		out.SettlementDate = optString(flipTime(p.CompletedAt))
	}
	return out
}

func callbackData(p *payment, status PaymentStatus) CallbackData {
	return CallbackData{
		ID:             p.ID,
		BillLink:       p.BillLink,
		BillLinkID:     json.Number(p.LinkID),
		BillTitle:      p.BillTitle,
		SenderName:     p.SenderName,
		SenderEmail:    p.SenderEmail,
		SenderBank:     p.SenderBank,
		SenderBankType: p.SenderBankType,
		Amount:         p.Amount,
		Status:         status,
		CreatedAt:      flipTime(p.CreatedAt),
	}
}

// writeJSON writes v as Flip does: JSON with a charset.
func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		// Every value written here is a plain struct; this is a bug.
		http.Error(w, `{"name":"Internal Server Error","message":"fliptest: cannot encode response","status":500}`, http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func writeNotFound(w http.ResponseWriter) {
	writeJSON(w, http.StatusNotFound, flipStatusBody{Name: "Not Found", Message: "Page not found.", Status: http.StatusNotFound})
}

func writeValidation(w http.ResponseWriter, errs []flipFieldError) {
	writeJSON(w, http.StatusUnprocessableEntity, flipValidationBody{Code: "VALIDATION_ERROR", Errors: errs})
}
