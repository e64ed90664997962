package flip

import (
	"bytes"
	"encoding/json"
	"strings"
)

// BillType says how many payments a bill accepts.
type BillType string

// The bill types.
const (
	// BillSingle accepts one successful payment, then becomes INACTIVE.
	BillSingle BillType = "SINGLE"
	// BillMultiple accepts any number of payments.
	BillMultiple BillType = "MULTIPLE"
)

// BillStatus is whether a bill accepts payments.
type BillStatus string

// The bill statuses.
const (
	BillActive   BillStatus = "ACTIVE"
	BillInactive BillStatus = "INACTIVE"
)

// Step is where the customer lands when opening a bill's link.
type Step int

// The checkout steps.
const (
	// StepInputData: the customer types name and email, then picks a method.
	StepInputData Step = 1
	// StepPaymentMethod: the customer's data is pre-filled from sender_*;
	// the customer picks a method.
	StepPaymentMethod Step = 2
	// StepConfirmation: the method is fixed by sender_bank and
	// sender_bank_type; Flip creates the payment (VA number, QR data) at once.
	StepConfirmation Step = 3
)

// UnmarshalJSON accepts the step as a number or a numeric string.
func (s *Step) UnmarshalJSON(data []byte) error {
	var n flexInt
	if err := n.UnmarshalJSON(data); err != nil {
		return err
	}
	*s = Step(n.v)
	return nil
}

// BankType is a kind of payment method (Flip's sender_bank_type).
type BankType string

// The payment method kinds Flip documents.
const (
	// BankTypeVirtualAccount: a bank virtual account.
	BankTypeVirtualAccount BankType = "virtual_account"
	// BankTypeWallet: an e-wallet (OVO, DANA, ShopeePay, LinkAja) or QRIS.
	BankTypeWallet BankType = "wallet_account"
	// BankTypeBankAccount: a manual bank transfer of amount + unique code.
	BankTypeBankAccount BankType = "bank_account"
	// BankTypeOnlineToOffline: payment at a retail store (Alfamart).
	BankTypeOnlineToOffline BankType = "online_to_offline_account"
	// BankTypeCreditCard: a credit card.
	BankTypeCreditCard BankType = "credit_card_account"
)

// PaymentStatus is a payment status exactly as Flip sends it. Payments
// listed by the API are PENDING, SUCCESSFUL or FAILED; callbacks add
// CANCELLED (older docs spell it CANCELED); a step-3 bill's bill_payment
// moves through NOT_CONFIRMED, PENDING, PROCESSED and DONE. Use
// [PaymentStatus.Portable] or [MapPaymentStatus] for the portable status.
type PaymentStatus string

// The raw payment statuses.
const (
	PaymentSuccessful   PaymentStatus = "SUCCESSFUL"
	PaymentPending      PaymentStatus = "PENDING"
	PaymentFailed       PaymentStatus = "FAILED"
	PaymentCancelled    PaymentStatus = "CANCELLED"
	PaymentCanceled     PaymentStatus = "CANCELED" // older spelling
	PaymentNotConfirmed PaymentStatus = "NOT_CONFIRMED"
	PaymentProcessed    PaymentStatus = "PROCESSED"
	PaymentDone         PaymentStatus = "DONE"
)

// Customer is the payer recorded on a step 2 or 3 bill.
type Customer struct {
	Name    string `json:"name"`
	Email   string `json:"email"`
	Address string `json:"address"`
	Phone   string `json:"phone"`
}

// BankAccount is where the customer sends money for a step-3 bill.
type BankAccount struct {
	// AccountNumber is the VA or account number; empty for e-wallets.
	AccountNumber string   `json:"account_number"`
	AccountType   BankType `json:"account_type"`
	BankCode      string   `json:"bank_code"`
	AccountHolder string   `json:"account_holder"`
	// QRCodeData is the QRIS payload to render, for sender_bank "qris".
	QRCodeData string `json:"qr_code_data,omitempty"`
}

// BillPayment is the payment Flip creates with a step-3 bill.
type BillPayment struct {
	ID ID `json:"id"`
	// Amount is what the bill asks; for bank_account transfers the customer
	// must send Amount + UniqueCode.
	Amount              int64         `json:"amount"`
	UniqueCode          int64         `json:"unique_code"`
	Status              PaymentStatus `json:"status"`
	SenderBank          string        `json:"sender_bank"`
	SenderBankType      BankType      `json:"sender_bank_type"`
	ReceiverBankAccount *BankAccount  `json:"receiver_bank_account,omitempty"`
	UserAddress         string        `json:"user_address"`
	UserPhone           string        `json:"user_phone"`
	CreatedAt           UnixTime      `json:"created_at"`
}

// UnmarshalJSON decodes a bill_payment, tolerating amounts sent as strings.
func (p *BillPayment) UnmarshalJSON(data []byte) error {
	type plain BillPayment
	aux := struct {
		*plain
		Amount     flexInt `json:"amount"`
		UniqueCode flexInt `json:"unique_code"`
	}{plain: (*plain)(p)}
	if err := json.Unmarshal(data, &aux); err != nil {
		return err
	}
	p.Amount, p.UniqueCode = aux.Amount.v, aux.UniqueCode.v
	return nil
}

// PaymentMethod is the fixed method Get Bill reports for a step-3 bill
// (instead of the bill_payment that Create Bill returns).
type PaymentMethod struct {
	SenderBank     string   `json:"sender_bank"`
	SenderBankType BankType `json:"sender_bank_type"`
}

// Bill is a Flip payment link.
type Bill struct {
	// LinkID is the bill's id (Flip's link_id, the {bill_id} of every path).
	LinkID ID `json:"link_id"`
	// LinkURL is the customer-facing link. Flip sends it without a scheme;
	// it is made absolute with "https://".
	LinkURL string   `json:"link_url"`
	Title   string   `json:"title"`
	Type    BillType `json:"type"`
	// Amount is the fixed amount in rupiah; 0 is an open amount.
	Amount      int64  `json:"amount"`
	RedirectURL string `json:"redirect_url"`
	// ExpiredDate is when the bill stops accepting payments; zero is never.
	ExpiredDate           Timestamp  `json:"expired_date"`
	CreatedFrom           string     `json:"created_from"`
	Status                BillStatus `json:"status"`
	IsAddressRequired     bool       `json:"is_address_required"`
	IsPhoneNumberRequired bool       `json:"is_phone_number_required"`
	Step                  Step       `json:"step,omitempty"`
	// Customer is set for step 2 and 3 bills.
	Customer *Customer `json:"customer,omitempty"`
	// BillPayment is the payment Create Bill makes for a step-3 bill.
	BillPayment *BillPayment `json:"bill_payment,omitempty"`
	// PaymentMethod is what Get Bill reports for a step-3 bill.
	PaymentMethod *PaymentMethod `json:"payment_method,omitempty"`
	// PaymentURL is the page of a step-3 bill's payment.
	PaymentURL string `json:"payment_url,omitempty"`

	// Raw is the bill's JSON object exactly as received.
	Raw json.RawMessage `json:"-"`
}

// UnmarshalJSON decodes a bill, tolerating Flip's variants (0/1 or boolean
// flags, numbers sent as strings) and keeping the raw JSON in Raw.
func (b *Bill) UnmarshalJSON(data []byte) error {
	type plain Bill
	aux := struct {
		*plain
		Amount                flexInt `json:"amount"`
		IsAddressRequired     flag    `json:"is_address_required"`
		IsPhoneNumberRequired flag    `json:"is_phone_number_required"`
	}{plain: (*plain)(b)}
	if err := json.Unmarshal(data, &aux); err != nil {
		return err
	}
	b.Amount = aux.Amount.v
	b.IsAddressRequired = bool(aux.IsAddressRequired)
	b.IsPhoneNumberRequired = bool(aux.IsPhoneNumberRequired)
	b.LinkURL = absoluteURL(b.LinkURL)
	b.PaymentURL = absoluteURL(b.PaymentURL)
	b.Raw = append(json.RawMessage(nil), bytes.TrimSpace(data)...)
	return nil
}

// MarshalJSON writes the bill in Flip's shape (flags as 0/1).
func (b Bill) MarshalJSON() ([]byte, error) {
	type plain Bill
	return json.Marshal(struct {
		plain
		IsAddressRequired     flag `json:"is_address_required"`
		IsPhoneNumberRequired flag `json:"is_phone_number_required"`
	}{plain(b), flag(b.IsAddressRequired), flag(b.IsPhoneNumberRequired)})
}

// Method returns the bill's fixed payment method (sender_bank and
// sender_bank_type) from whichever field Flip used, or empty strings.
func (b *Bill) Method() (bank string, typ BankType) {
	switch {
	case b.BillPayment != nil:
		return b.BillPayment.SenderBank, b.BillPayment.SenderBankType
	case b.PaymentMethod != nil:
		return b.PaymentMethod.SenderBank, b.PaymentMethod.SenderBankType
	}
	return "", ""
}

// Payment is one payment of a bill, as the payment list endpoints return it.
type Payment struct {
	// ID is the payment (transaction) id, e.g. "PGPWF1011..." or "FT123".
	ID ID `json:"id"`
	// LinkID is the bill's id; Flip does not always send it.
	LinkID               ID            `json:"link_id,omitempty"`
	BillLink             string        `json:"bill_link"`
	BillTitle            string        `json:"bill_title"`
	SenderName           string        `json:"sender_name"`
	SenderEmail          string        `json:"sender_email,omitempty"`
	SenderBank           string        `json:"sender_bank"`
	SenderBankType       BankType      `json:"sender_bank_type"`
	VirtualAccountNumber string        `json:"virtual_account_number"`
	Amount               int64         `json:"amount"`
	Status               PaymentStatus `json:"status"`
	// SettlementStatus is Flip's mixed-case settlement state ("Pending",
	// "Settled", "Cancelled", "Pending Settlement").
	SettlementStatus string `json:"settlement_status"`
	// ReferenceID is the merchant's reference (static VA payments only).
	ReferenceID                string    `json:"reference_id"`
	PaymentURL                 string    `json:"payment_url"`
	CreatedAt                  Timestamp `json:"created_at"`
	CompletedAt                Timestamp `json:"completed_at"`
	SettlementDate             Timestamp `json:"settlement_date"`
	TransactionReferenceNumber string    `json:"transaction_reference_number,omitempty"`

	// Raw is the payment's JSON object exactly as received.
	Raw json.RawMessage `json:"-"`
}

// UnmarshalJSON decodes a payment, tolerating amounts sent as strings and
// keeping the raw JSON in Raw.
func (p *Payment) UnmarshalJSON(data []byte) error {
	type plain Payment
	aux := struct {
		*plain
		Amount flexInt `json:"amount"`
	}{plain: (*plain)(p)}
	if err := json.Unmarshal(data, &aux); err != nil {
		return err
	}
	p.Amount = aux.Amount.v
	p.PaymentURL = absoluteURL(p.PaymentURL)
	p.Raw = append(json.RawMessage(nil), bytes.TrimSpace(data)...)
	return nil
}

// PaymentPage is one page of a payment list.
type PaymentPage struct {
	// LinkID is the bill's id (payments of one bill only).
	LinkID ID `json:"link_id,omitempty"`
	// TotalData is the number of payments over all pages.
	TotalData int `json:"total_data"`
	// DataPerPage is the number of payments on this page.
	DataPerPage int `json:"data_per_page"`
	// TotalPage is the number of pages.
	TotalPage int `json:"total_page"`
	// Page is this page's number, from 1.
	Page int       `json:"page"`
	Data []Payment `json:"data"`
}

// UnmarshalJSON decodes a page, tolerating counters sent as strings.
func (p *PaymentPage) UnmarshalJSON(data []byte) error {
	type plain PaymentPage
	aux := struct {
		*plain
		TotalData   flexInt `json:"total_data"`
		DataPerPage flexInt `json:"data_per_page"`
		TotalPage   flexInt `json:"total_page"`
		Page        flexInt `json:"page"`
	}{plain: (*plain)(p)}
	if err := json.Unmarshal(data, &aux); err != nil {
		return err
	}
	p.TotalData, p.DataPerPage = int(aux.TotalData.v), int(aux.DataPerPage.v)
	p.TotalPage, p.Page = int(aux.TotalPage.v), int(aux.Page.v)
	return nil
}

// Confirmation is Flip's answer to [Client.ConfirmBillPayment].
type Confirmation struct {
	ConfirmedAt Timestamp `json:"confirmed_at"`
	PaymentURL  string    `json:"payment_url"`
}

// absoluteURL prepends "https://" to Flip's scheme-less link URLs
// ("flip.id/$company/#slug") and leaves absolute URLs as they are.
func absoluteURL(s string) string {
	s = strings.TrimSpace(s)
	if s == "" || hasScheme(s) {
		return s
	}
	return "https://" + strings.TrimPrefix(s, "//")
}

// hasScheme reports whether s starts with "scheme://".
func hasScheme(s string) bool {
	i := strings.Index(s, "://")
	if i <= 0 {
		return false
	}
	for j, r := range s[:i] {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z':
		case j > 0 && (r >= '0' && r <= '9' || r == '+' || r == '-' || r == '.'):
		default:
			return false
		}
	}
	return true
}
