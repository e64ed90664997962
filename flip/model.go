package flip

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
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

// BankType is a kind of payment method (Flip's sender_bank_type). Flip
// enables new kinds per merchant, so any value of the right shape is
// sent and any value read is kept as it came.
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
	// BankTypeEWallet: an e-wallet or QRIS payment as Flip's own callback
	// sample reports it (the documented value is wallet_account).
	BankTypeEWallet BankType = "e_wallet"
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
	// PaymentExpired is not in Flip's docs; third-party code uses it for
	// what Flip calls CANCELLED, and it is read as such.
	PaymentExpired PaymentStatus = "EXPIRED"
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

// UnmarshalJSON decodes a bill_payment field by field (see [Bill]); a
// field that cannot be read is an error here. Inside a Bill, such fields
// are recorded in Bill.Problems instead.
func (p *BillPayment) UnmarshalJSON(data []byte) error {
	var problems []FieldProblem
	o, err := newObjectReader(data, "", &problems)
	if err != nil {
		return err
	}
	*p = readBillPayment(o)
	if len(problems) > 0 {
		return problems[0]
	}
	return nil
}

// readBillPayment reads a bill_payment object.
func readBillPayment(o *objectReader) BillPayment {
	p := BillPayment{
		ID:             o.id("id"),
		Amount:         o.amount("amount"),
		UniqueCode:     o.int("unique_code"),
		Status:         PaymentStatus(o.str("status")),
		SenderBank:     o.str("sender_bank"),
		SenderBankType: BankType(o.str("sender_bank_type")),
		UserAddress:    o.str("user_address"),
		UserPhone:      o.str("user_phone"),
		CreatedAt:      UnixTime{o.time("created_at")},
	}
	if a := o.object("receiver_bank_account"); a != nil {
		p.ReceiverBankAccount = &BankAccount{
			AccountNumber: a.str("account_number"),
			AccountType:   BankType(a.str("account_type")),
			BankCode:      a.str("bank_code"),
			AccountHolder: a.str("account_holder"),
			QRCodeData:    a.str("qr_code_data"),
		}
	}
	return p
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
	// Problems lists the fields that could not be read (left at their
	// zero value); empty when every field was read.
	Problems []FieldProblem `json:"-"`
}

// UnmarshalJSON decodes a bill field by field, tolerating Flip's
// variants: numbers sent as strings and strings as numbers, the string
// "null" for a missing value, 0/1 or boolean flags, amounts with a zero
// fraction, timestamps in any format [ParseTimestamp] reads. A field that
// cannot be read is left at its zero value and listed in Problems; the
// raw JSON is kept in Raw. Only a payload that is not a JSON object is an
// error.
func (b *Bill) UnmarshalJSON(data []byte) error {
	var problems []FieldProblem
	o, err := newObjectReader(data, "", &problems)
	if err != nil {
		return err
	}
	*b = Bill{
		LinkID:                o.id("link_id"),
		LinkURL:               absoluteURL(o.str("link_url")),
		Title:                 o.str("title"),
		Type:                  BillType(o.str("type")),
		Amount:                o.amount("amount"),
		RedirectURL:           o.str("redirect_url"),
		ExpiredDate:           Timestamp{o.time("expired_date")},
		CreatedFrom:           o.str("created_from"),
		Status:                BillStatus(o.str("status")),
		IsAddressRequired:     o.flag("is_address_required"),
		IsPhoneNumberRequired: o.flag("is_phone_number_required"),
		Step:                  Step(o.int("step")),
		PaymentURL:            absoluteURL(o.str("payment_url")),
	}
	if c := o.object("customer"); c != nil {
		b.Customer = &Customer{Name: c.str("name"), Email: c.str("email"), Address: c.str("address"), Phone: c.str("phone")}
	}
	if bp := o.object("bill_payment"); bp != nil {
		b.BillPayment = new(readBillPayment(bp))
	}
	if pm := o.object("payment_method"); pm != nil {
		b.PaymentMethod = &PaymentMethod{SenderBank: pm.str("sender_bank"), SenderBankType: BankType(pm.str("sender_bank_type"))}
	}
	b.Problems = problems
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
	// Problems lists the fields that could not be read (left at their
	// zero value); empty when every field was read. An amount that is not
	// a whole, non-negative number of rupiah is one, and reads as 0.
	Problems []FieldProblem `json:"-"`
}

// UnmarshalJSON decodes a payment field by field, as [Bill.UnmarshalJSON]
// does: one odd field is listed in Problems and never fails the payment,
// nor the page it is on.
func (p *Payment) UnmarshalJSON(data []byte) error {
	var problems []FieldProblem
	o, err := newObjectReader(data, "", &problems)
	if err != nil {
		return err
	}
	*p = readPayment(o)
	p.Problems = problems
	p.Raw = append(json.RawMessage(nil), bytes.TrimSpace(data)...)
	return nil
}

// readPayment reads a payment object.
func readPayment(o *objectReader) Payment {
	return Payment{
		ID:                         o.id("id"),
		LinkID:                     o.id("link_id"),
		BillLink:                   o.str("bill_link"),
		BillTitle:                  o.str("bill_title"),
		SenderName:                 o.str("sender_name"),
		SenderEmail:                o.str("sender_email"),
		SenderBank:                 o.str("sender_bank"),
		SenderBankType:             BankType(o.str("sender_bank_type")),
		VirtualAccountNumber:       o.str("virtual_account_number"),
		Amount:                     o.amount("amount"),
		Status:                     PaymentStatus(o.str("status")),
		SettlementStatus:           o.str("settlement_status"),
		ReferenceID:                o.str("reference_id"),
		PaymentURL:                 absoluteURL(o.str("payment_url")),
		CreatedAt:                  Timestamp{o.time("created_at")},
		CompletedAt:                Timestamp{o.time("completed_at")},
		SettlementDate:             Timestamp{o.time("settlement_date")},
		TransactionReferenceNumber: o.str("transaction_reference_number"),
	}
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
	// Problems lists the envelope's fields that could not be read, and
	// the entries of data that are not payment objects (skipped, named
	// "data[i]"). Each payment lists its own problems.
	Problems []FieldProblem `json:"-"`
}

// UnmarshalJSON decodes a page field by field. An entry of data that is
// not a JSON object is skipped and listed in Problems; data itself must
// be an array (or absent): a page whose data cannot be read says nothing
// about which payments exist, so it is an error rather than an empty page.
func (p *PaymentPage) UnmarshalJSON(data []byte) error {
	var problems []FieldProblem
	o, err := newObjectReader(data, "", &problems)
	if err != nil {
		return err
	}
	*p = PaymentPage{
		LinkID:      o.id("link_id"),
		TotalData:   int(o.int("total_data")),
		DataPerPage: int(o.int("data_per_page")),
		TotalPage:   int(o.int("total_page")),
		Page:        int(o.int("page")),
	}
	if raw, ok := o.present("data"); ok {
		var items []json.RawMessage
		if err := json.Unmarshal(raw, &items); err != nil {
			return fmt.Errorf("flip: payment list: data is not an array: %w", err)
		}
		p.Data = make([]Payment, 0, len(items))
		for i, item := range items {
			var pay Payment
			if err := pay.UnmarshalJSON(item); err != nil {
				o.problem(fmt.Sprintf("data[%d]", i), item, err)
				continue
			}
			p.Data = append(p.Data, pay)
		}
	}
	p.Problems = problems
	return nil
}

// UnmarshalJSON decodes a confirmation leniently: a field that cannot be
// read is left at its zero value.
func (c *Confirmation) UnmarshalJSON(data []byte) error {
	var problems []FieldProblem
	o, err := newObjectReader(data, "", &problems)
	if err != nil {
		return err
	}
	*c = Confirmation{ConfirmedAt: Timestamp{o.time("confirmed_at")}, PaymentURL: absoluteURL(o.str("payment_url"))}
	return nil
}

// Confirmation is Flip's answer to [Client.ConfirmBillPayment].
type Confirmation struct {
	ConfirmedAt Timestamp `json:"confirmed_at"`
	PaymentURL  string    `json:"payment_url"`
}

// absoluteURL makes Flip's scheme-less link URLs ("flip.id/$company/#slug")
// absolute and leaves absolute URLs as they are. The scheme is https,
// except for a loopback host ("localhost", 127.0.0.0/8, [::1]): a server
// on this machine, such as package fliptest's fake, serves plain http.
func absoluteURL(s string) string {
	s = strings.TrimSpace(s)
	if s == "" || hasScheme(s) {
		return s
	}
	s = strings.TrimPrefix(s, "//")
	if isLoopbackHost(s) {
		return "http://" + s
	}
	return "https://" + s
}

// isLoopbackHost reports whether the scheme-less URL s names a loopback host.
func isLoopbackHost(s string) bool {
	end := strings.IndexAny(s, "/?#")
	if end < 0 {
		end = len(s)
	}
	hostport := s[:end]
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.Trim(host, "[]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
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
