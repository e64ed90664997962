package midtrans

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/paylinkgo/paylink/provider"
)

// wib is Western Indonesian Time (UTC+7), the zone of Midtrans's times.
var wib = time.FixedZone("WIB", 7*60*60)

// timeLayout is how Midtrans writes transaction_time and friends.
const timeLayout = "2006-01-02 15:04:05"

// CreateTransactionParams is a Snap create transaction request. Only
// OrderID and GrossAmount are required.
type CreateTransactionParams struct {
	// OrderID is the merchant's order id: at most 50 of A-Z a-z 0-9 - _ ~ .
	OrderID string
	// GrossAmount is the amount in whole rupiah.
	GrossAmount int64
	// Customer is sent as customer_details when not nil.
	Customer *CustomerDetails
	// Items are sent as item_details; their price×quantity must add up to
	// GrossAmount.
	Items []Item
	// Expiry limits the page and the payment (5 minutes to 7 days).
	Expiry *Expiry
	// FinishURL is callbacks.finish, where Snap sends the customer back
	// with order_id, status_code and transaction_status in the query.
	FinishURL string
	// CustomField1..3 are stored by Midtrans and echoed in the status API
	// and notifications (up to 255 characters each).
	CustomField1, CustomField2, CustomField3 string
	// OverrideNotificationURLs, when set, replace the dashboard's
	// notification URL for this transaction (X-Override-Notification).
	OverrideNotificationURLs []string
	// AppendNotificationURLs are added to it (X-Append-Notification).
	AppendNotificationURLs []string
	// AllowFeeImposition leaves Automatic Fee Imposition as the
	// dashboard sets it. By default the request sends
	// "customer_imposed_payment_fee":{"enable":false}, which turns the fee
	// off for this transaction even when the dashboard turns it on, so
	// the customer is charged exactly GrossAmount.
	AllowFeeImposition bool
}

// CustomerDetails is Snap's customer_details.
type CustomerDetails struct {
	FirstName      string   `json:"first_name,omitempty"`
	LastName       string   `json:"last_name,omitempty"`
	Email          string   `json:"email,omitempty"`
	Phone          string   `json:"phone,omitempty"`
	BillingAddress *Address `json:"billing_address,omitempty"`
}

// Address is a billing or shipping address.
type Address struct {
	Address     string `json:"address,omitempty"`
	City        string `json:"city,omitempty"`
	PostalCode  string `json:"postal_code,omitempty"`
	CountryCode string `json:"country_code,omitempty"`
}

// Item is one of Snap's item_details.
type Item struct {
	ID       string `json:"id,omitempty"`
	Name     string `json:"name"`
	Price    int64  `json:"price"`
	Quantity int64  `json:"quantity"`
}

// ExpiryUnit is the unit of an [Expiry] duration.
type ExpiryUnit string

// The expiry units.
const (
	ExpiryMinute ExpiryUnit = "minute"
	ExpiryHour   ExpiryUnit = "hour"
	ExpiryDay    ExpiryUnit = "day"
)

// Expiry is Snap's expiry object.
type Expiry struct {
	// StartTime is when the expiry counts from; zero means when the
	// customer picks a method.
	StartTime time.Time
	Unit      ExpiryUnit
	Duration  int64
}

// MarshalJSON writes start_time as "YYYY-MM-DD HH:MM:SS +0700".
func (e Expiry) MarshalJSON() ([]byte, error) {
	w := struct {
		StartTime string     `json:"start_time,omitempty"`
		Unit      ExpiryUnit `json:"unit"`
		Duration  int64      `json:"duration"`
	}{Unit: e.Unit, Duration: e.Duration}
	if !e.StartTime.IsZero() {
		w.StartTime = e.StartTime.In(wib).Format("2006-01-02 15:04:05 -0700")
	}
	return json.Marshal(w)
}

// feeToggle is Snap's customer_imposed_payment_fee.
type feeToggle struct {
	Enable bool `json:"enable"`
}

// SnapTransaction is Snap's answer to a create: the token and the page.
type SnapTransaction struct {
	Token       string `json:"token"`
	RedirectURL string `json:"redirect_url"`
}

// Transaction is a Core API transaction as the status, cancel and expire
// endpoints and notifications describe it. Midtrans sends every field as
// a string; fields vary by payment method, and Raw keeps the whole body.
type Transaction struct {
	StatusCode        string            `json:"status_code"`
	StatusMessage     string            `json:"status_message,omitempty"`
	TransactionID     string            `json:"transaction_id,omitempty"`
	OrderID           string            `json:"order_id"`
	MerchantID        string            `json:"merchant_id,omitempty"`
	GrossAmount       string            `json:"gross_amount"`
	Currency          string            `json:"currency,omitempty"`
	PaymentType       string            `json:"payment_type,omitempty"`
	TransactionTime   string            `json:"transaction_time,omitempty"`
	TransactionStatus TransactionStatus `json:"transaction_status"`
	FraudStatus       FraudStatus       `json:"fraud_status,omitempty"`
	SignatureKey      string            `json:"signature_key,omitempty"`
	SettlementTime    string            `json:"settlement_time,omitempty"`
	ExpiryTime        string            `json:"expiry_time,omitempty"`
	VANumbers         []VANumber        `json:"va_numbers,omitempty"`
	PermataVANumber   string            `json:"permata_va_number,omitempty"`
	BillKey           string            `json:"bill_key,omitempty"`
	BillerCode        string            `json:"biller_code,omitempty"`
	Store             string            `json:"store,omitempty"`
	PaymentCode       string            `json:"payment_code,omitempty"`
	Issuer            string            `json:"issuer,omitempty"`
	Bank              string            `json:"bank,omitempty"`
	// RefundAmount is the cumulative amount refunded or charged back
	// ("3000.00"), set once there is any.
	RefundAmount string `json:"refund_amount,omitempty"`
	// Refunds lists each refund and chargeback.
	Refunds      []Refund `json:"refunds,omitempty"`
	CustomField1 string   `json:"custom_field1,omitempty"`
	CustomField2 string   `json:"custom_field2,omitempty"`
	CustomField3 string   `json:"custom_field3,omitempty"`
	// Raw is the body as received.
	Raw json.RawMessage `json:"-"`

	// grossLiteral is gross_amount's text when Midtrans sent a JSON
	// number, which GrossAmount holds as "N.00"; the signature is checked
	// against both.
	grossLiteral string
}

// UnmarshalJSON decodes leniently, as Midtrans asks: a JSON number where
// a string is declared (gross_amount, status_code, refund_amount, also in
// refunds and va_numbers) is taken as its decimal text, and a
// gross_amount number that is whole rupiah as "N.00" (see
// [DecodeNotification]).
func (t *Transaction) UnmarshalJSON(b []byte) error {
	type plain Transaction
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	var gross string
	for k, v := range m {
		switch {
		case isJSONNumber(v):
			if strings.EqualFold(k, "gross_amount") {
				gross = string(v)
			}
			m[k] = quoteJSON(v)
		case strings.EqualFold(k, "refunds"), strings.EqualFold(k, "va_numbers"):
			var list []map[string]json.RawMessage
			if json.Unmarshal(v, &list) != nil {
				continue
			}
			for _, o := range list {
				for kk, vv := range o {
					if isJSONNumber(vv) && !strings.EqualFold(kk, "refund_chargeback_id") {
						o[kk] = quoteJSON(vv)
					}
				}
			}
			m[k], _ = json.Marshal(list)
		}
	}
	norm, err := json.Marshal(m)
	if err != nil {
		return err
	}
	var p plain
	if err := json.Unmarshal(norm, &p); err != nil {
		return err
	}
	*t = Transaction(p)
	if gross != "" {
		t.grossLiteral = gross
		if n, err := ParseAmount(gross); err == nil && !strings.HasPrefix(gross, "0") {
			t.GrossAmount = FormatAmount(n)
		}
	}
	return nil
}

func isJSONNumber(v json.RawMessage) bool {
	v = bytes.TrimSpace(v)
	return len(v) > 0 && (v[0] == '-' || v[0] >= '0' && v[0] <= '9')
}

func quoteJSON(v json.RawMessage) json.RawMessage {
	b, _ := json.Marshal(string(bytes.TrimSpace(v)))
	return b
}

// Refund is one refund or chargeback of a transaction. Midtrans notifies
// a refund twice: first without BankConfirmedAt, then with it.
type Refund struct {
	// ID is Midtrans's refund_chargeback_id (a number on the wire).
	ID              json.Number `json:"refund_chargeback_id,omitempty"`
	Amount          string      `json:"refund_amount"`
	CreatedAt       string      `json:"created_at,omitempty"`
	Reason          string      `json:"reason,omitempty"`
	Key             string      `json:"refund_key,omitempty"`
	Method          string      `json:"refund_method,omitempty"`
	BankConfirmedAt string      `json:"bank_confirmed_at,omitempty"`
}

// VANumber is one virtual account of a bank transfer.
type VANumber struct {
	Bank     string `json:"bank"`
	VANumber string `json:"va_number"`
}

// Amount parses GrossAmount exactly into whole rupiah (see [ParseAmount]).
func (t *Transaction) Amount() (int64, error) { return ParseAmount(t.GrossAmount) }

// Refunded parses the cumulative amount refunded and charged back
// exactly (see [ParseAmount]): refund_amount, or when Midtrans leaves it
// out, the sum of the refunds listed; zero when there is neither.
func (t *Transaction) Refunded() (int64, error) {
	if t.RefundAmount != "" {
		return ParseAmount(t.RefundAmount)
	}
	var sum int64
	for _, r := range t.Refunds {
		n, err := ParseAmount(r.Amount)
		if err != nil {
			return 0, err
		}
		if sum+n < sum {
			return 0, &provider.Error{Code: provider.CodeInvalidArgument, Op: "midtrans.Refunded", Message: "refunds add up to more than an int64"}
		}
		sum += n
	}
	return sum, nil
}

// PaymentStatus maps the transaction's status (see [PortableStatus]).
func (t *Transaction) PaymentStatus() (provider.PaymentStatus, bool) {
	return PortableStatus(t.TransactionStatus, t.FraudStatus)
}

// Time parses one of Midtrans's WIB times ("2020-01-09 18:27:19"); an
// empty or unreadable one is the zero time.
func Time(s string) time.Time {
	t, err := time.ParseInLocation(timeLayout, strings.TrimSpace(s), wib)
	if err != nil {
		return time.Time{}
	}
	return t
}

// CreateTransaction creates a Snap transaction. It is never retried: a
// request that may have reached Midtrans is not sent again.
func (c *Client) CreateTransaction(ctx context.Context, p CreateTransactionParams) (*SnapTransaction, error) {
	const op = "midtrans.CreateTransaction"
	type details struct {
		OrderID     string `json:"order_id"`
		GrossAmount int64  `json:"gross_amount"`
	}
	type callbacks struct {
		Finish string `json:"finish,omitempty"`
	}
	body := struct {
		TransactionDetails details          `json:"transaction_details"`
		CustomerDetails    *CustomerDetails `json:"customer_details,omitempty"`
		ItemDetails        []Item           `json:"item_details,omitempty"`
		Expiry             *Expiry          `json:"expiry,omitempty"`
		Callbacks          *callbacks       `json:"callbacks,omitempty"`
		CustomField1       string           `json:"custom_field1,omitempty"`
		CustomField2       string           `json:"custom_field2,omitempty"`
		CustomField3       string           `json:"custom_field3,omitempty"`
		ImposedFee         *feeToggle       `json:"customer_imposed_payment_fee,omitempty"`
	}{
		TransactionDetails: details{OrderID: p.OrderID, GrossAmount: p.GrossAmount},
		CustomerDetails:    p.Customer,
		ItemDetails:        p.Items,
		Expiry:             p.Expiry,
		CustomField1:       p.CustomField1,
		CustomField2:       p.CustomField2,
		CustomField3:       p.CustomField3,
	}
	if p.FinishURL != "" {
		body.Callbacks = &callbacks{Finish: p.FinishURL}
	}
	if !p.AllowFeeImposition {
		body.ImposedFee = &feeToggle{Enable: false}
	}
	h := http.Header{}
	if len(p.OverrideNotificationURLs) > 0 {
		h.Set("X-Override-Notification", strings.Join(p.OverrideNotificationURLs, ","))
	}
	if len(p.AppendNotificationURLs) > 0 {
		h.Set("X-Append-Notification", strings.Join(p.AppendNotificationURLs, ","))
	}
	var out SnapTransaction
	if _, err := c.do(ctx, request{op: op, method: http.MethodPost, base: c.snapURL,
		path: "/snap/v1/transactions", body: body, header: h}, &out); err != nil {
		return nil, err
	}
	if out.Token == "" || out.RedirectURL == "" {
		return nil, &provider.Error{Code: provider.CodeInternal, Op: op, Message: "Midtrans answered without a token or redirect_url"}
	}
	return &out, nil
}

// CancelSnapSession cancels a Snap page that has no transaction yet, by
// its token.
func (c *Client) CancelSnapSession(ctx context.Context, token string) error {
	const op = "midtrans.CancelSnapSession"
	seg, err := pathID(op, "token", token)
	if err != nil {
		return err
	}
	_, err = c.do(ctx, request{op: op, method: http.MethodPost, base: c.snapURL,
		path: "/snap/v1/transactions/" + seg + "/cancel", body: struct{}{}}, nil)
	return err
}

// GetStatus reads a transaction by order id or transaction id. An unknown
// id (including a Snap order whose customer has not picked a method yet)
// gives an error matching provider.CodeNotFound. Reads are retried on
// network errors, 429 and 5xx.
func (c *Client) GetStatus(ctx context.Context, id string) (*Transaction, error) {
	return c.transaction(ctx, "midtrans.GetStatus", http.MethodGet, id, "/status")
}

// Cancel cancels a transaction that is not settled yet (pending,
// authorize or capture). Midtrans answers 412 (CodeFailedPrecondition) in
// any other state.
func (c *Client) Cancel(ctx context.Context, id string) (*Transaction, error) {
	return c.transaction(ctx, "midtrans.Cancel", http.MethodPost, id, "/cancel")
}

// Expire expires a pending transaction; Midtrans answers status_code
// "407", which is the expected result, not an error.
func (c *Client) Expire(ctx context.Context, id string) (*Transaction, error) {
	return c.transaction(ctx, "midtrans.Expire", http.MethodPost, id, "/expire")
}

// RefundRequest is the body of a refund: all fields optional.
type RefundRequest struct {
	// RefundKey makes the refund idempotent: Midtrans refuses a key used
	// before for the transaction with 406 (CodeConflict).
	RefundKey string `json:"refund_key,omitempty"`
	// Amount in whole rupiah; zero refunds the whole gross amount.
	Amount int64  `json:"amount,omitempty"`
	Reason string `json:"reason,omitempty"`
}

// Refund refunds a settled transaction (POST /v2/{id}/refund), in full or
// in part, and returns the transaction after it: refund or
// partial_refund with the cumulative refund_amount. It is never retried.
// Midtrans answers 414 for an amount above what is left
// (CodeInvalidArgument), 406 for a refund_key used before (CodeConflict)
// and 412 for a transaction that cannot be refunded: not settled, or paid
// by bank transfer, echannel or convenience store
// (CodeFailedPrecondition).
func (c *Client) Refund(ctx context.Context, id string, r RefundRequest) (*Transaction, error) {
	const op = "midtrans.Refund"
	seg, err := pathID(op, "id", id)
	if err != nil {
		return nil, err
	}
	var t Transaction
	data, err := c.do(ctx, request{op: op, method: http.MethodPost, base: c.coreURL, path: "/v2/" + seg + "/refund", body: r, core: true}, &t)
	if err != nil {
		return nil, err
	}
	t.Raw = json.RawMessage(data)
	return &t, nil
}

func (c *Client) transaction(ctx context.Context, op, method, id, suffix string) (*Transaction, error) {
	seg, err := pathID(op, "id", id)
	if err != nil {
		return nil, err
	}
	var t Transaction
	data, err := c.do(ctx, request{op: op, method: method, base: c.coreURL, path: "/v2/" + seg + suffix, core: true}, &t)
	if err != nil {
		return nil, err
	}
	t.Raw = json.RawMessage(data)
	return &t, nil
}
