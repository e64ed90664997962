package midtranstest

import (
	"context"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

var wib = time.FixedZone("WIB", 7*60*60)

const timeLayout = "2006-01-02 15:04:05"

// Method is how the customer pays on the Snap page.
type Method struct {
	// PaymentType is Midtrans's payment_type: "bank_transfer" (default),
	// "echannel", "credit_card", "gopay", "qris", "cstore".
	PaymentType string
	// Bank is the VA bank for bank_transfer ("bca" default, "bni", "bri",
	// "permata"), the acquiring bank for credit_card, the store for cstore.
	Bank string
}

// PayOptions are the options of [Server.Pay].
type PayOptions struct {
	// Method is used when the customer has not picked one yet.
	Method Method
	// Fraud is the fraud_status of a credit_card capture: "accept"
	// (default) or "challenge". Other methods settle with "accept".
	Fraud string
	// Promo is a promo discount the customer applies on the page (opt-in):
	// the transaction's gross_amount becomes the order's amount (plus any
	// imposed fee) less Promo, and its metadata.extra_info.gross_amount_info
	// shows the original_amount. Midtrans documents no field naming the
	// discount, and the fake sends none.
	Promo int64
}

// Transaction is a snapshot of an order's transaction, as the status API
// would describe it.
type Transaction struct {
	OrderID           string
	TransactionID     string
	TransactionStatus string
	FraudStatus       string
	PaymentType       string
	GrossAmount       int64
	RefundAmount      int64
}

// canMove is Midtrans's lifecycle: which status may follow which.
func canMove(from, to string) bool {
	allowed := map[string][]string{
		"cancel":     {"pending", "authorize", "capture"},
		"expire":     {"pending"},
		"capture":    {"pending", "authorize"},
		"settlement": {"pending", "capture"},
		"deny":       {"pending", "authorize", "capture", "settlement"},
		"failure":    {"pending"},
		"chargeback": {"settlement", "partial_refund", "partial_chargeback"},
	}
	for _, f := range allowed[to] {
		if f == from {
			return true
		}
	}
	return false
}

// statusCode is the status_code of a status answer in each state;
// notifyCode that of a notification.
func statusCode(tx *transaction) string {
	switch tx.status {
	case "pending":
		return "201"
	case "capture":
		if tx.fraud == "challenge" {
			return "201"
		}
		return "200"
	case "deny", "failure":
		return "202"
	case "expire":
		return "407"
	}
	return "200"
}

func notifyCode(tx *transaction) string {
	switch tx.status {
	case "cancel", "expire":
		return "202"
	}
	return statusCode(tx)
}

func amount(n int64) string { return strconv.FormatInt(n, 10) + ".00" }

func (s *Server) signature(orderID, code, gross string) string {
	sum := sha512.Sum512([]byte(orderID + code + gross + s.opts.ServerKey))
	return hex.EncodeToString(sum[:])
}

// wireTx is a transaction on the wire (status answers and notifications).
type wireTx struct {
	VANumbers         []vaNumber `json:"va_numbers,omitempty"`
	PaymentAmounts    []any      `json:"payment_amounts,omitempty"`
	TransactionTime   string     `json:"transaction_time"`
	TransactionStatus string     `json:"transaction_status"`
	TransactionID     string     `json:"transaction_id"`
	StatusMessage     string     `json:"status_message"`
	StatusCode        string     `json:"status_code"`
	SignatureKey      string     `json:"signature_key"`
	SettlementTime    string     `json:"settlement_time,omitempty"`
	ExpiryTime        string     `json:"expiry_time,omitempty"`
	PaymentType       string     `json:"payment_type"`
	OrderID           string     `json:"order_id"`
	MerchantID        string     `json:"merchant_id"`
	GrossAmount       string     `json:"gross_amount"`
	FraudStatus       string     `json:"fraud_status,omitempty"`
	Currency          string     `json:"currency"`
	PermataVANumber   string     `json:"permata_va_number,omitempty"`
	BillerCode        string     `json:"biller_code,omitempty"`
	BillKey           string     `json:"bill_key,omitempty"`
	Store             string     `json:"store,omitempty"`
	PaymentCode       string     `json:"payment_code,omitempty"`
	Bank              string     `json:"bank,omitempty"`
	MaskedCard        string     `json:"masked_card,omitempty"`
	RefundAmount      string     `json:"refund_amount,omitempty"`
	Refunds           []refund   `json:"refunds,omitempty"`
	CustomField1      string     `json:"custom_field1,omitempty"`
	CustomField2      string     `json:"custom_field2,omitempty"`
	CustomField3      string     `json:"custom_field3,omitempty"`
	Metadata          any        `json:"metadata,omitempty"`
}

type vaNumber struct {
	VANumber string `json:"va_number"`
	Bank     string `json:"bank"`
}

// wire describes o's transaction with the given status, status_code and
// message; the caller holds s.mu.
func (s *Server) wire(o *order, status, code, msg string) wireTx {
	tx := o.tx
	w := wireTx{
		TransactionTime:   tx.time.In(wib).Format(timeLayout),
		TransactionStatus: status,
		TransactionID:     tx.id,
		StatusMessage:     msg,
		StatusCode:        code,
		PaymentType:       tx.paymentType,
		OrderID:           o.id,
		MerchantID:        s.opts.MerchantID,
		GrossAmount:       amount(tx.gross),
		FraudStatus:       tx.fraud,
		Currency:          "IDR",
		CustomField1:      o.customFields[0],
		CustomField2:      o.customFields[1],
		CustomField3:      o.customFields[2],
		Refunds:           tx.refunds,
	}
	if !tx.settled.IsZero() {
		w.SettlementTime = tx.settled.In(wib).Format(timeLayout)
	}
	if !tx.expiry.IsZero() {
		w.ExpiryTime = tx.expiry.In(wib).Format(timeLayout)
	}
	if tx.refunded > 0 {
		w.RefundAmount = amount(tx.refunded)
	}
	if tx.gross != o.gross {
		// As real payloads carry it (the doc sample has it at the top
		// level, extra_info.gross_amount_info), types mixed.
		info := map[string]any{"original_amount": strconv.FormatInt(o.gross, 10), "gross_amount": tx.gross}
		if o.fee > 0 {
			info["customer_imposed_payment_fee"] = strconv.FormatInt(o.fee, 10)
		}
		w.Metadata = map[string]any{"extra_info": map[string]any{"gross_amount_info": info}}
	}
	switch tx.paymentType {
	case "bank_transfer":
		if tx.bank == "permata" {
			w.PermataVANumber = tx.vaNumber
		} else {
			w.VANumbers = []vaNumber{{VANumber: tx.vaNumber, Bank: tx.bank}}
			w.PaymentAmounts = []any{}
		}
	case "echannel":
		w.BillerCode, w.BillKey = "70012", tx.vaNumber
	case "cstore":
		w.Store, w.PaymentCode = tx.bank, tx.vaNumber
	case "credit_card":
		w.Bank, w.MaskedCard = tx.bank, "48111111-1114"
	}
	w.SignatureKey = s.signature(o.id, code, w.GrossAmount)
	return w
}

// statusBody is the status API's answer for o (msg defaults to
// "Success, transaction is found"); the caller holds s.mu.
func (s *Server) statusBody(o *order, msg string) []byte {
	if msg == "" {
		msg = "Success, transaction is found"
	}
	b, _ := json.Marshal(s.wire(o, o.tx.status, statusCode(o.tx), msg))
	return b
}

// choose makes the customer pick a method, creating the pending
// transaction; the caller holds s.mu.
func (s *Server) choose(o *order, m Method) {
	now := s.now()
	if m.PaymentType == "" {
		m.PaymentType = "bank_transfer"
	}
	tx := &transaction{id: newUUID(), status: "pending", paymentType: m.PaymentType, bank: m.Bank, time: now,
		expiry: s.paymentExpiry(o, now), gross: o.gross + o.fee}
	switch m.PaymentType {
	case "bank_transfer":
		if tx.bank == "" {
			tx.bank = "bca"
		}
		tx.vaNumber = randomDigits(15)
		if tx.bank == "permata" {
			tx.vaNumber = randomDigits(16)
		}
	case "echannel":
		tx.vaNumber = randomDigits(12)
	case "cstore":
		if tx.bank == "" {
			tx.bank = "indomaret"
		}
		tx.vaNumber = randomDigits(14)
	case "credit_card":
		if tx.bank == "" {
			tx.bank = "bni"
		}
	}
	o.tx = tx
	s.byTxID[tx.id] = o
	s.enqueue(o)
}

// move changes o's transaction status and queues its notification; the
// caller holds s.mu and has checked canMove.
func (s *Server) move(o *order, to, fraud string) {
	tx := o.tx
	tx.status = to
	if fraud != "" {
		tx.fraud = fraud
	}
	switch to {
	case "settlement":
		tx.settled = s.now()
	case "capture":
		tx.captured = s.now()
	}
	s.enqueue(o)
}

// refund applies a refund of amount (0: the rest) and sends its two
// notifications, without then with bank_confirmed_at; the caller holds
// s.mu. It returns Midtrans's code and message.
func (s *Server) refund(o *order, amt int64, key, reason string) (int, string) {
	tx := o.tx
	// Refunds are for settled transactions only: a card captured today
	// must be cancelled (Midtrans answers 412 to its refund).
	if tx.status != "settlement" && tx.status != "partial_refund" {
		return 412, "Merchant cannot modify the status of the transaction"
	}
	switch tx.paymentType {
	case "bank_transfer", "echannel", "cstore":
		return 412, "Merchant cannot modify the status of the transaction"
	}
	for _, r := range tx.refunds {
		if key != "" && r.Key == key {
			return 406, "Duplicate refund ID"
		}
	}
	if code, msg := s.refundLimit(tx, amt); code != 0 {
		return code, msg
	}
	rest := tx.gross - tx.refunded
	if amt == 0 {
		amt = rest
	}
	if amt <= 0 || amt > rest {
		return 414, "Refund request is rejected due to invalid amount"
	}
	tx.refunded += amt
	tx.refunds = append(tx.refunds, refund{ID: int64(len(tx.refunds) + 1), Amount: amount(amt),
		At: s.now().In(wib).Format(timeLayout), Reason: reason, Key: key})
	status := "partial_refund"
	if tx.refunded == tx.gross {
		status = "refund"
	}
	s.move(o, status, "")
	// Midtrans notifies a refund twice: at once, then with
	// bank_confirmed_at once the bank has confirmed it.
	tx.refunds[len(tx.refunds)-1].BankConfirmed = s.now().In(wib).Format(timeLayout)
	s.enqueue(o)
	return 200, ""
}

// sim runs a simulation step on an order under the lock.
func (s *Server) sim(ctx context.Context, orderID string, step func(o *order) error) (*Transaction, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dueLocked()
	o, ok := s.orders[orderID]
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrUnknownOrder, orderID)
	}
	if err := step(o); err != nil {
		return nil, err
	}
	t := snapshot(o)
	return &t, nil
}

// snapshot describes o's transaction; the caller holds s.mu.
func snapshot(o *order) Transaction {
	if o.tx == nil {
		return Transaction{OrderID: o.id, GrossAmount: o.gross}
	}
	return Transaction{OrderID: o.id, TransactionID: o.tx.id, TransactionStatus: o.tx.status, FraudStatus: o.tx.fraud,
		PaymentType: o.tx.paymentType, GrossAmount: o.tx.gross, RefundAmount: o.tx.refunded}
}

func (s *Server) to(o *order, to, fraud string) error {
	if o.tx == nil || !canMove(o.tx.status, to) {
		from := "no transaction"
		if o.tx != nil {
			from = o.tx.status
		}
		return fmt.Errorf("%w: %s to %s", ErrWrongState, from, to)
	}
	s.move(o, to, fraud)
	return nil
}

// Choose makes the customer pick a payment method on the Snap page: the
// order gets a pending transaction (and a "201" notification). Until
// then the status API does not know the order. After a final attempt
// (deny, expire, cancel, failure) it is a new attempt on the same
// order_id, with a new transaction_id, unless the Snap session was
// cancelled (see the package doc).
func (s *Server) Choose(ctx context.Context, orderID string, m Method) (*Transaction, error) {
	return s.sim(ctx, orderID, func(o *order) error {
		if o.tx != nil && o.tx.status == "pending" {
			return nil
		}
		return s.newAttempt(o, m)
	})
}

// retryable reports whether a transaction in status is over without
// payment, so that Snap lets the customer make a new attempt on the same
// order_id: Midtrans reuses an expired order_id ("the expired order_id can
// be reused for the same or different payment methods"), lets a pending
// one be cancelled and reused, and lets a customer retry after a denied
// card.
func retryable(status string) bool {
	switch status {
	case "deny", "expire", "cancel", "failure":
		return true
	}
	return false
}

// newAttempt makes the customer pick a method on the Snap page: the first
// transaction of the order, or a new attempt after a final one (deny,
// expire, cancel, failure) while the Snap session is not cancelled; the
// caller holds s.mu.
func (s *Server) newAttempt(o *order, m Method) error {
	switch {
	case o.canceled:
		return fmt.Errorf("%w: the Snap session was cancelled", ErrWrongState)
	case s.pageExpired(o):
		return fmt.Errorf("%w: the Snap page expired", ErrWrongState)
	case o.tx != nil && !retryable(o.tx.status):
		return fmt.Errorf("%w: %s", ErrWrongState, o.tx.status)
	}
	s.choose(o, m)
	return nil
}

// Pay pays an order: it picks opts.Method first if the customer has not
// picked one (a pending notification), or makes a new attempt after a
// final one, unless the Snap session was cancelled, then settles (a
// credit_card is captured with opts.Fraud instead).
func (s *Server) Pay(ctx context.Context, orderID string, opts PayOptions) (*Transaction, error) {
	return s.sim(ctx, orderID, func(o *order) error {
		if o.tx == nil || retryable(o.tx.status) {
			if err := s.newAttempt(o, opts.Method); err != nil {
				return err
			}
		}
		if opts.Promo > 0 {
			if opts.Promo >= o.tx.gross {
				return fmt.Errorf("%w: a promo of %d on %d", ErrWrongState, opts.Promo, o.tx.gross)
			}
			o.tx.gross -= opts.Promo
		}
		if o.tx.paymentType == "credit_card" {
			fraud := opts.Fraud
			if fraud == "" {
				fraud = "accept"
			}
			return s.to(o, "capture", fraud)
		}
		return s.to(o, "settlement", "accept")
	})
}

// Settle settles a captured card payment (or a pending one), as
// Midtrans does at the end of the day. With
// Options.CancelUnapprovedChallenges a capture still challenged is
// cancelled instead, as Midtrans does at settlement.
func (s *Server) Settle(ctx context.Context, orderID string) (*Transaction, error) {
	return s.sim(ctx, orderID, func(o *order) error {
		if s.opts.CancelUnapprovedChallenges && o.tx != nil && o.tx.status == "capture" && o.tx.fraud == "challenge" {
			return s.to(o, "cancel", "")
		}
		return s.to(o, "settlement", "")
	})
}

// Deny denies an order's payment (the bank or the fraud check refused
// it; from settlement this is Midtrans's reversal). A customer who has
// not picked a method picks the default one first.
func (s *Server) Deny(ctx context.Context, orderID string) (*Transaction, error) {
	return s.sim(ctx, orderID, func(o *order) error {
		if o.tx == nil || retryable(o.tx.status) {
			if err := s.newAttempt(o, Method{}); err != nil {
				return err
			}
		}
		fraud := ""
		if o.tx.fraud == "challenge" {
			fraud = "deny"
		}
		return s.to(o, "deny", fraud)
	})
}

// Expire lets a pending payment time out (a "202" expire
// notification). A customer who has not picked a method picks the
// default one first: Midtrans sends no notification when only the Snap
// page expires.
func (s *Server) Expire(ctx context.Context, orderID string) (*Transaction, error) {
	return s.sim(ctx, orderID, func(o *order) error {
		if o.tx == nil || retryable(o.tx.status) {
			if err := s.newAttempt(o, Method{}); err != nil {
				return err
			}
		}
		return s.to(o, "expire", "")
	})
}

// Cancel cancels an order's transaction as the merchant's dashboard does.
func (s *Server) Cancel(ctx context.Context, orderID string) (*Transaction, error) {
	return s.sim(ctx, orderID, func(o *order) error { return s.to(o, "cancel", "") })
}

// Refund refunds amount of a settled payment (0: all that is left);
// partial refunds give partial_refund until the whole amount is
// refunded. Bank transfers, echannel and cstore cannot be refunded.
func (s *Server) Refund(ctx context.Context, orderID string, amount int64) (*Transaction, error) {
	return s.sim(ctx, orderID, func(o *order) error {
		if o.tx == nil {
			return fmt.Errorf("%w: no transaction", ErrWrongState)
		}
		if code, msg := s.refund(o, amount, "", ""); code != 200 {
			return fmt.Errorf("%w: %d %s", ErrWrongState, code, msg)
		}
		return nil
	})
}

// Chargeback charges a settled payment back: amount 0 (or the rest) is a
// chargeback, less a partial_chargeback.
func (s *Server) Chargeback(ctx context.Context, orderID string, amt int64) (*Transaction, error) {
	return s.sim(ctx, orderID, func(o *order) error {
		if o.tx == nil || !canMove(o.tx.status, "chargeback") {
			return fmt.Errorf("%w: chargeback", ErrWrongState)
		}
		rest := o.tx.gross - o.tx.refunded
		if amt == 0 || amt >= rest {
			amt = rest
		}
		o.tx.refunded += amt
		o.tx.refunds = append(o.tx.refunds, refund{ID: int64(len(o.tx.refunds) + 1), Amount: amount(amt),
			At: s.now().In(wib).Format(timeLayout), Reason: "chargeback"})
		status := "partial_chargeback"
		if o.tx.refunded == o.tx.gross {
			status = "chargeback"
		}
		s.move(o, status, "")
		return nil
	})
}

// Token returns the Snap token of an order, for its hosted page.
func (s *Server) Token(orderID string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.orders[orderID]
	if !ok {
		return "", false
	}
	return o.token, true
}

// RefundFailure is a way Midtrans refuses a refund request, for
// [Server.FailRefunds].
type RefundFailure int

// The refund failures.
const (
	// RefundDeniedByBank: HTTP 200 with status_code "202", "Refund denied
	// by the bank", refund_amount "0.00", the transaction unchanged (a
	// partial_refund stays partial_refund). Nothing is refunded.
	RefundDeniedByBank RefundFailure = iota + 1
	// RefundInsufficientFunds: 414 "Refund request is rejected due to
	// merchant insufficient funds", which Midtrans calls retriable with
	// the same refund_key. The key is not used up.
	RefundInsufficientFunds
)

// FailRefunds makes the next n refund requests to the API fail as f
// (opt-in; the simulation method [Server.Refund] is not affected).
func (s *Server) FailRefunds(f RefundFailure, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refundFailure, s.refundFailures = f, n
}

// takeRefundFailure returns the failure of the next refund request, if
// any; the caller holds s.mu.
func (s *Server) takeRefundFailure() RefundFailure {
	if s.refundFailures <= 0 {
		return 0
	}
	s.refundFailures--
	return s.refundFailure
}

// refundAnswer is the refund API's documented answer: the transaction
// after the refund, with this refund's refund_chargeback_id,
// refund_amount (the amount of this refund: the docs' "total amount to be
// refunded"; the status API's is cumulative) and refund_key, and no
// refunds[]. The caller holds s.mu.
func (s *Server) refundAnswer(o *order, code, msg string, amt int64, key string) []byte {
	tx := o.tx
	body := map[string]any{
		"status_code": code, "status_message": msg, "transaction_id": tx.id, "order_id": o.id,
		"gross_amount": amount(tx.gross), "currency": "IDR", "payment_type": tx.paymentType,
		"transaction_time": tx.time.In(wib).Format(timeLayout), "transaction_status": tx.status,
		"refund_amount": amount(amt),
	}
	if tx.fraud != "" {
		body["fraud_status"] = tx.fraud
	}
	if code == "200" {
		body["refund_chargeback_id"] = len(tx.refunds)
		if key != "" {
			body["refund_key"] = key
		}
	}
	b, _ := json.Marshal(body)
	return b
}
