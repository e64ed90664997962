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
	want := Signature(t.OrderID, t.StatusCode, t.GrossAmount, serverKey)
	got := strings.ToLower(strings.TrimSpace(t.SignatureKey))
	if subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
		return ErrBadSignature
	}
	return nil
}

// ParseNotification reads an HTTP notification (a JSON POST), verifies
// its signature with serverKey and decodes it. maxBytes caps the body
// (0 means DefaultMaxNotificationBytes). It returns the transaction and
// the body as received.
//
// The body is decoded before the signature is checked, as the signature
// is computed over its fields: an undecodable body gives
// ErrMalformedNotification, a decodable one without order_id,
// status_code or gross_amount too. Everything else that fails is one of
// the CodeUnauthenticated sentinels.
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

// DecodeNotification decodes a notification body without verifying it.
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
