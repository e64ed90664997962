package fliptest

import (
	"encoding/json"
	"time"
)

// BillType is a bill's type as Flip spells it.
type BillType string

// The bill types.
const (
	// BillSingle collects one successful payment, then becomes INACTIVE.
	BillSingle BillType = "SINGLE"
	// BillMultiple collects any number of payments.
	BillMultiple BillType = "MULTIPLE"
)

// BillStatus is whether a bill accepts payments.
type BillStatus string

// The bill statuses.
const (
	BillActive   BillStatus = "ACTIVE"
	BillInactive BillStatus = "INACTIVE"
)

// PaymentStatus is a payment's status as Flip reports it in lists and
// callbacks.
type PaymentStatus string

// The payment statuses. A payment starts PENDING; the simulations move it to
// exactly one of the final statuses.
const (
	PaymentPending    PaymentStatus = "PENDING"
	PaymentSuccessful PaymentStatus = "SUCCESSFUL"
	PaymentCancelled  PaymentStatus = "CANCELLED"
	PaymentFailed     PaymentStatus = "FAILED"
)

// Final reports whether s is SUCCESSFUL, CANCELLED or FAILED.
func (s PaymentStatus) Final() bool {
	return s == PaymentSuccessful || s == PaymentCancelled || s == PaymentFailed
}

func (s PaymentStatus) valid() bool { return s == PaymentPending || s.Final() }

// BankType is Flip's sender_bank_type: the kind of payment channel.
type BankType string

// The sender_bank_type values.
const (
	VirtualAccount         BankType = "virtual_account"
	WalletAccount          BankType = "wallet_account"
	BankAccount            BankType = "bank_account"
	OnlineToOfflineAccount BankType = "online_to_offline_account"
	CreditCardAccount      BankType = "credit_card_account"
)

// Channel is a payment channel the fake merchant has enabled: a sender_bank
// code with its sender_bank_type. A step-3 bill (or a simulated payment)
// naming a pair that is not enabled is refused with Flip's code 1091.
type Channel struct {
	Bank string   `json:"sender_bank"`
	Type BankType `json:"sender_bank_type"`
}

// DefaultChannels returns the channels enabled when [Options].Channels is
// empty: virtual accounts at bni, bri, mandiri, cimb, danamon, permata, bca
// and bsm; the e-wallets ovo, shopeepay_app, linkaja, linkaja_app and dana;
// qris (a wallet_account); and bank transfer (bank_account) at bca, bni, bri
// and mandiri.
func DefaultChannels() []Channel {
	var cs []Channel
	for _, b := range []string{"bni", "bri", "mandiri", "cimb", "danamon", "permata", "bca", "bsm"} {
		cs = append(cs, Channel{Bank: b, Type: VirtualAccount})
	}
	for _, b := range []string{"ovo", "shopeepay_app", "linkaja", "linkaja_app", "dana", "qris"} {
		cs = append(cs, Channel{Bank: b, Type: WalletAccount})
	}
	for _, b := range []string{"bca", "bni", "bri", "mandiri"} {
		cs = append(cs, Channel{Bank: b, Type: BankAccount})
	}
	return cs
}

// Customer is the payer a step-2 or step-3 bill was created for.
type Customer struct {
	Name    string `json:"name,omitempty"`
	Email   string `json:"email,omitempty"`
	Phone   string `json:"phone,omitempty"`
	Address string `json:"address,omitempty"`
}

// Bill is the fake's view of one bill (payment link), as [Server.Bill]
// returns it. It is a copy: changing it changes nothing in the server.
type Bill struct {
	LinkID string `json:"link_id"`
	// LinkURL is the bill's checkout page, with its scheme, for a browser.
	// The API's link_url is the same without the scheme, as Flip writes it.
	LinkURL string   `json:"link_url"`
	Title   string   `json:"title"`
	Type    BillType `json:"type"`
	// Amount is the fixed amount; 0 is an open amount (step 1 only).
	Amount int64      `json:"amount"`
	Status BillStatus `json:"status"`
	Step   int        `json:"step"`
	// RedirectURL is where the customer returns after paying, if set.
	RedirectURL string `json:"redirect_url,omitempty"`
	// ExpiresAt is the bill's expiry; zero means none.
	ExpiresAt             time.Time `json:"expires_at,omitzero"`
	IsAddressRequired     bool      `json:"is_address_required"`
	IsPhoneNumberRequired bool      `json:"is_phone_number_required"`
	// Customer is set for step 2 and step 3 bills.
	Customer Customer `json:"customer,omitzero"`
	// SenderBank and SenderBankType are the fixed method of a step-3 bill.
	SenderBank     string   `json:"sender_bank,omitempty"`
	SenderBankType BankType `json:"sender_bank_type,omitempty"`
	// PaymentURL is the step-3 bill's payment page.
	PaymentURL string `json:"payment_url,omitempty"`
	// Used reports that a SINGLE bill has collected its payment.
	Used      bool      `json:"used"`
	CreatedAt time.Time `json:"created_at"`
}

// Expired reports whether the bill's expiry has passed at now.
func (b Bill) Expired(now time.Time) bool {
	return !b.ExpiresAt.IsZero() && !now.Before(b.ExpiresAt)
}

// Payment is the fake's view of one payment of a bill, as [Server.Payments]
// and the /_fliptest routes return it.
type Payment struct {
	// ID is Flip-shaped: "PGPWF" and 20 digits.
	ID     string `json:"id"`
	LinkID string `json:"link_id"`
	// BillLink is the bill's link without its scheme, as Flip writes
	// bill_link; BillTitle is the bill's title when paid.
	BillLink  string        `json:"bill_link"`
	BillTitle string        `json:"bill_title"`
	Amount    int64         `json:"amount"`
	Status    PaymentStatus `json:"status"`
	// UniqueCode is added by bank transfers (bank_account); 0 otherwise.
	UniqueCode     int64    `json:"unique_code"`
	SenderName     string   `json:"sender_name"`
	SenderEmail    string   `json:"sender_email"`
	SenderBank     string   `json:"sender_bank"`
	SenderBankType BankType `json:"sender_bank_type"`
	// VANumber is the virtual account number (16 or 17 digits) of a
	// virtual_account payment.
	VANumber string `json:"va_number,omitempty"`
	// QRCodeData is the QRIS payload of a qris payment.
	QRCodeData string `json:"qr_code_data,omitempty"`
	PaymentURL string `json:"payment_url"`
	// ReferenceID is the merchant reference, if the simulation set one.
	ReferenceID string    `json:"reference_id,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
	// CompletedAt is when the payment reached a final status.
	CompletedAt time.Time `json:"completed_at,omitzero"`
}

// CallbackData is the JSON object Flip sends in a callback's data field
// (flip-api.md §5). bill_link_id is a JSON number, even with
// [Options].LongIDs.
type CallbackData struct {
	ID             string        `json:"id"`
	BillLink       string        `json:"bill_link"`
	BillLinkID     json.Number   `json:"bill_link_id"`
	BillTitle      string        `json:"bill_title"`
	SenderName     string        `json:"sender_name"`
	SenderEmail    string        `json:"sender_email"`
	SenderBank     string        `json:"sender_bank"`
	SenderBankType BankType      `json:"sender_bank_type"`
	Amount         int64         `json:"amount"`
	Status         PaymentStatus `json:"status"`
	CreatedAt      string        `json:"created_at"`
}

// Callback is one callback the fake made: a status change of a payment, or a
// redelivery. Copies sent by [CallbackMode].Copies share one Callback.
type Callback struct {
	// ID numbers callbacks from 1 in the order they were made.
	ID   int          `json:"id"`
	Data CallbackData `json:"data"`
	// Redelivery reports a callback made by Redeliver or SendCallback.
	Redelivery bool      `json:"redelivery,omitempty"`
	MadeAt     time.Time `json:"made_at"`
}

// Delivery is one finished attempt to deliver a callback.
type Delivery struct {
	CallbackID int           `json:"callback_id"`
	PaymentID  string        `json:"payment_id"`
	Status     PaymentStatus `json:"status"`
	// Copy is 1, or 2.. for the extra copies of [CallbackMode].Copies.
	Copy int `json:"copy"`
	// Attempt is 1 for the first attempt, 2 for the first retry, and so on.
	Attempt int `json:"attempt"`
	// StatusCode is the receiver's HTTP status, 0 if the request failed.
	StatusCode int `json:"status_code,omitempty"`
	// Err is why the request failed (connection refused, timeout), if it did.
	Err string `json:"error,omitempty"`
	// At is when the attempt finished (by the wall clock, not Options.Now).
	At time.Time `json:"at"`
}

// OK reports whether the receiver answered 200, which ends the retries.
func (d Delivery) OK() bool { return d.StatusCode == 200 }
