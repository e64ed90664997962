package midtrans

import (
	"bytes"
	"context"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"strings"

	"github.com/paylinkgo/paylink/provider"
)

// DefaultMaxNotificationBytes caps a notification body.
const DefaultMaxNotificationBytes = 64 << 10

// Sentinel errors of notification verification. Each carries a portable
// code: the first three CodeUnauthenticated, ErrMalformedNotification
// CodeInvalidArgument.
var (
	// ErrNoServerKey: no server key is configured, so nothing can be
	// verified and every notification is refused (fail closed).
	ErrNoServerKey error = &codedError{provider.CodeUnauthenticated, "midtrans: no server key configured to verify notifications"}
	// ErrMissingSignature: the notification has no signature_key.
	ErrMissingSignature error = &codedError{provider.CodeUnauthenticated, "midtrans: notification has no signature_key"}
	// ErrBadSignature: the signature_key does not match.
	ErrBadSignature error = &codedError{provider.CodeUnauthenticated, "midtrans: notification signature_key does not match"}
	// ErrMalformedNotification: the body is not a notification.
	ErrMalformedNotification error = &codedError{provider.CodeInvalidArgument, "midtrans: malformed notification"}
)

// codedError is a sentinel error with a portable code.
type codedError struct {
	code provider.ErrorCode
	msg  string
}

func (e *codedError) Error() string                 { return e.msg }
func (e *codedError) ErrorCode() provider.ErrorCode { return e.code }
func (e *codedError) Is(target error) bool {
	c, ok := target.(provider.ErrorCode)
	return ok && c == e.code
}

// Signature returns Midtrans's signature_key: the lowercase hex SHA-512
// of order_id + status_code + gross_amount + server key, the strings
// concatenated exactly as they appear in the notification
// (gross_amount with its ".00").
func Signature(orderID, statusCode, grossAmount, serverKey string) string {
	sum := sha512.Sum512([]byte(orderID + statusCode + grossAmount + serverKey))
	return hex.EncodeToString(sum[:])
}

// VerifySignature checks a transaction's signature_key against serverKey
// in constant time. It returns ErrNoServerKey for a blank key (fail
// closed), ErrMissingSignature or ErrBadSignature.
func VerifySignature(t *Transaction, serverKey string) error {
	if strings.TrimSpace(serverKey) == "" {
		return ErrNoServerKey
	}
	if t.SignatureKey == "" {
		return ErrMissingSignature
	}
	got := []byte(strings.ToLower(strings.TrimSpace(t.SignatureKey)))
	ok := subtle.ConstantTimeCompare(got, []byte(Signature(t.OrderID, t.StatusCode, t.GrossAmount, serverKey)))
	if t.grossLiteral != "" {
		// gross_amount came as a JSON number: how Midtrans signs one is
		// undocumented, so its text as sent is taken too. Either proves
		// the server key; the status API confirms the rest.
		ok |= subtle.ConstantTimeCompare(got, []byte(Signature(t.OrderID, t.StatusCode, t.grossLiteral, serverKey)))
	}
	if ok != 1 {
		return ErrBadSignature
	}
	return nil
}

// ParseNotification reads an HTTP notification (a JSON POST), verifies
// its signature with serverKey and decodes it. maxBytes caps the body
// (0 means DefaultMaxNotificationBytes). It returns the transaction and
// the body as received.
//
// The body is decoded and checked (see [DecodeNotification]) before the
// signature is, as the signature is computed over its fields: an
// undecodable body gives ErrMalformedNotification, and so does one
// without order_id, status_code or gross_amount, or whose status_code or
// gross_amount is not what Midtrans sends. Everything else that fails is
// one of the CodeUnauthenticated sentinels.
//
// A signature proves little: it covers order_id, status_code and
// gross_amount only, not transaction_status, fraud_status or
// refund_amount (see the package documentation). The [Provider] has every
// notification confirmed with the status API.
func ParseNotification(r *http.Request, serverKey string, maxBytes int64) (*Transaction, []byte, error) {
	if strings.TrimSpace(serverKey) == "" {
		return nil, nil, ErrNoServerKey
	}
	if maxBytes <= 0 {
		maxBytes = DefaultMaxNotificationBytes
	}
	if r.Method != http.MethodPost {
		return nil, nil, fmt.Errorf("%w: method %s, want POST", ErrMalformedNotification, r.Method)
	}
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
			return nil, nil, fmt.Errorf("%w: content type %q, want application/json", ErrMalformedNotification, ct)
		}
	}
	if r.Body == nil {
		return nil, nil, fmt.Errorf("%w: no body", ErrMalformedNotification)
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBytes+1))
	if err != nil {
		return nil, nil, fmt.Errorf("%w: reading the body: %w", ErrMalformedNotification, err)
	}
	if int64(len(body)) > maxBytes {
		return nil, nil, &provider.Error{Code: provider.CodeTooLarge, Op: "midtrans.ParseNotification",
			Message: fmt.Sprintf("notification is larger than %d bytes", maxBytes)}
	}
	t, err := DecodeNotification(body)
	if err != nil {
		return nil, body, err
	}
	if err := VerifySignature(t, serverKey); err != nil {
		return nil, body, err
	}
	return t, body, nil
}

// DecodeNotification decodes a notification body without verifying its
// signature. It checks what can be checked without the server key, and
// refuses with ErrMalformedNotification (CodeInvalidArgument) a body
// whose signed fields are not as Midtrans writes them: status_code must be
// three digits and one Midtrans documents for the transaction_status (the
// package documentation has the table), and gross_amount whole rupiah written with two decimals
// and no leading zero ("10000.00"). The signature joins the three
// strings without a separator; these checks refuse the signature of one
// order moved to another by shifting digits between order_id and
// status_code ("order-1" + "201" read as "order-12" + "01"), though not
// every such move (see the package documentation).
func DecodeNotification(body []byte) (*Transaction, error) {
	var t Transaction
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&t); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformedNotification, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: data after the JSON object", ErrMalformedNotification)
	}
	if t.OrderID == "" || t.StatusCode == "" || t.GrossAmount == "" {
		return nil, fmt.Errorf("%w: order_id, status_code and gross_amount are required", ErrMalformedNotification)
	}
	if err := checkSignedFields(&t); err != nil {
		return nil, err
	}
	t.Raw = append(json.RawMessage(nil), bytes.TrimSpace(body)...)
	return &t, nil
}

// NewNotificationRequest builds a notification request as Midtrans sends
// it (POST, JSON, User-Agent "Veritrans"), signed with serverKey, for
// tests of code that receives notifications. t's SignatureKey is
// replaced by the correct signature; Raw is ignored.
func NewNotificationRequest(ctx context.Context, url, serverKey string, t Transaction) (*http.Request, error) {
	if strings.TrimSpace(serverKey) == "" {
		return nil, errors.New("midtrans.NewNotificationRequest: empty server key")
	}
	t.SignatureKey = Signature(t.OrderID, t.StatusCode, t.GrossAmount, serverKey)
	if t.StatusMessage == "" {
		t.StatusMessage = "midtrans payment notification"
	}
	body, err := json.Marshal(t)
	if err != nil {
		return nil, err
	}
	r, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("Accept", "application/json")
	r.Header.Set("User-Agent", "Veritrans")
	return r, nil
}

// statusCodes is the status_code Midtrans documents for each
// transaction_status. Where its documents give several codes for one
// status the row lists exactly those; where they give none the row
// follows the documented code classes (docs.midtrans.com "Status Code":
// 200 success, 201 pending or challenge, 202 denied). Sources: the
// notification samples of "HTTP(S) Notification / Webhooks", "Get
// Transaction Status", "Cancel Transaction", "Refund Transaction", the
// code table of "Code 4xx", and the official Go SDK's sample.
var statusCodes = map[TransactionStatus][]string{
	// "201" in pending notifications and status answers; the status
	// page's DANA sample has "PENDING" with "200".
	StatusPending: {"201", "200"},
	// Undocumented: an authorization succeeded, class 200.
	StatusAuthorize: {"200"},
	// "200"; a capture under fraud challenge is "201", the code of
	// pending/challenge (see statusCodesFor).
	StatusCapture: {"200", "201"},
	// "200" in every settlement sample.
	StatusSettlement: {"200"},
	// "202" (the webhook page, the Go SDK's sample).
	StatusDeny: {"202"},
	// "202" in the cancel notification sample; "200" from the cancel API
	// and the status API after it ("200 covers settlement or cancel").
	StatusCancel: {"202", "200"},
	// "202" in the expire notification sample; "407" from the expire API
	// and the status API after it.
	StatusExpire: {"202", "407"},
	// Undocumented: a failed payment, class 202.
	StatusFailure: {"202"},
	// "200" in the refund samples, partial or full.
	StatusRefund:        {"200"},
	StatusPartialRefund: {"200"},
	// No sample; reported like a refund, class 200.
	StatusChargeback:        {"200"},
	StatusPartialChargeback: {"200"},
}

// unknownStatusCodes are the codes taken with a transaction_status the
// table does not know (one Midtrans adds later): the code classes 200,
// 201 and 202. Such a notification moves no money: its payment has no
// portable status, and paylink records and flags it.
var unknownStatusCodes = []string{"200", "201", "202"}

// statusCodesFor returns the status_code values a notification may carry
// with transaction status tx and fraud status fraud (both compared
// case-insensitively). A capture under fraud challenge is "201", any
// other capture "200".
func statusCodesFor(tx TransactionStatus, fraud FraudStatus) []string {
	tx = TransactionStatus(strings.ToLower(strings.TrimSpace(string(tx))))
	if tx == StatusCapture {
		if FraudStatus(strings.ToLower(strings.TrimSpace(string(fraud)))) == FraudChallenge {
			return []string{"201"}
		}
		return []string{"200"}
	}
	if codes, ok := statusCodes[tx]; ok {
		return codes
	}
	return unknownStatusCodes
}

// checkSignedFields refuses a notification whose status_code or
// gross_amount is not what Midtrans sends for it.
func checkSignedFields(t *Transaction) error {
	if !threeDigits(t.StatusCode) {
		return fmt.Errorf("%w: status_code %.8q is not three digits", ErrMalformedNotification, t.StatusCode)
	}
	if !slices.Contains(statusCodesFor(t.TransactionStatus, t.FraudStatus), t.StatusCode) {
		return fmt.Errorf("%w: status_code %q is not the one Midtrans sends for transaction_status %.40q",
			ErrMalformedNotification, t.StatusCode, RawStatus(t.TransactionStatus, t.FraudStatus))
	}
	if !grossAmountFormat(t.GrossAmount) {
		return fmt.Errorf("%w: gross_amount %.40q is not whole rupiah with two decimals", ErrMalformedNotification, t.GrossAmount)
	}
	return nil
}

func threeDigits(s string) bool {
	return len(s) == 3 && isDigits(s)
}

// grossAmountFormat reports whether s is written as Midtrans writes a
// gross_amount: whole rupiah without a leading zero, ".00"
// ("10000.00").
func grossAmountFormat(s string) bool {
	whole, ok := strings.CutSuffix(s, ".00")
	return ok && whole != "" && whole[0] != '0' && isDigits(whole)
}

func isDigits(s string) bool {
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
