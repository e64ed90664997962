package flip

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/paylinkgo/paylink/provider"
)

// DefaultMaxCallbackBytes caps a callback body when no other cap is given.
// Flip's callbacks are well under 2 KiB.
const DefaultMaxCallbackBytes = 64 << 10

// codedError is a sentinel error with a portable code.
type codedError struct {
	code provider.ErrorCode
	msg  string
}

func (e *codedError) Error() string                 { return e.msg }
func (e *codedError) ErrorCode() provider.ErrorCode { return e.code }

// Is matches the error's portable code.
func (e *codedError) Is(target error) bool {
	code, ok := target.(provider.ErrorCode)
	return ok && code == e.code
}

// The errors of [ParseCallback]. Each also matches its portable code with
// errors.Is.
var (
	// ErrTokenNotConfigured: no callback token is configured, so every
	// callback is refused (fail closed). Matches provider.CodeUnauthenticated.
	ErrTokenNotConfigured error = &codedError{provider.CodeUnauthenticated, "flip: callback token not configured"}
	// ErrMissingToken: the callback has no token. Matches provider.CodeUnauthenticated.
	ErrMissingToken error = &codedError{provider.CodeUnauthenticated, "flip: callback token missing"}
	// ErrInvalidToken: the callback's token is wrong. Matches provider.CodeUnauthenticated.
	ErrInvalidToken error = &codedError{provider.CodeUnauthenticated, "flip: callback token invalid"}
	// ErrMalformedCallback: the request is not a callback Flip would send.
	// Matches provider.CodeInvalidArgument.
	ErrMalformedCallback error = &codedError{provider.CodeInvalidArgument, "flip: malformed callback"}
	// ErrCallbackTooLarge: the body is over the size limit. Matches
	// provider.CodeTooLarge.
	ErrCallbackTooLarge error = &codedError{provider.CodeTooLarge, "flip: callback body too large"}
)

// Callback is an accept-payment callback: the decoded data field.
type Callback struct {
	// ID is the payment id ("PGPWF1011...", "FT1").
	ID string
	// BillLink is the bill's scheme-less link ("flip.id/$company/#slug").
	BillLink       string
	BillLinkID     ID
	BillTitle      string
	SenderName     string
	SenderEmail    string
	SenderBank     string
	SenderBankType string
	// Amount in rupiah.
	Amount int64
	// Status is SUCCESSFUL, CANCELLED (or CANCELED), FAILED or PENDING.
	Status string
	// CreatedAt is the payment's creation time (read in Asia/Jakarta).
	CreatedAt   time.Time
	ReferenceID string
	// Raw is the data JSON exactly as received.
	Raw []byte
}

// callbackData is the wire form of the data field, in Flip's field order.
type callbackData struct {
	ID             ID         `json:"id"`
	BillLink       string     `json:"bill_link,omitempty"`
	BillLinkID     ID         `json:"bill_link_id"`
	BillTitle      string     `json:"bill_title,omitempty"`
	SenderName     string     `json:"sender_name,omitempty"`
	SenderBank     string     `json:"sender_bank,omitempty"`
	SenderEmail    string     `json:"sender_email,omitempty"`
	Amount         *flexInt   `json:"amount"`
	Status         string     `json:"status"`
	SenderBankType string     `json:"sender_bank_type,omitempty"`
	CreatedAt      *Timestamp `json:"created_at,omitempty"`
	ReferenceID    *string    `json:"reference_id,omitempty"`
}

// ParseCallback verifies and decodes a Flip accept-payment callback.
//
// It refuses with [ErrTokenNotConfigured] when token is empty or only
// white space (fail closed), [ErrCallbackTooLarge] when the body is over
// maxBytes (DefaultMaxCallbackBytes when maxBytes <= 0),
// [ErrMalformedCallback] when the content type is not
// application/x-www-form-urlencoded or the data is not a valid callback,
// and [ErrMissingToken] or [ErrInvalidToken] when the token is absent or
// wrong (compared in constant time).
//
// The body is read once; afterwards r.Body reads the same bytes again and
// r.PostForm holds the parsed form, so later handlers see the request
// intact. The data field must carry id, bill_link_id, an amount (a
// non-negative number or numeric string; a CANCELLED payment of an
// open-amount bill may carry 0) and a status of SUCCESSFUL, CANCELLED,
// CANCELED, FAILED or PENDING; unknown fields are ignored.
func ParseCallback(r *http.Request, token string, maxBytes int64) (*Callback, error) {
	cb, _, err := parseCallback(r, token, maxBytes)
	return cb, err
}

// parseCallback is ParseCallback, also returning the body as received.
func parseCallback(r *http.Request, token string, maxBytes int64) (*Callback, []byte, error) {
	if !tokenConfigured(token) {
		return nil, nil, ErrTokenNotConfigured
	}
	if maxBytes <= 0 {
		maxBytes = DefaultMaxCallbackBytes
	}
	ct, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || ct != "application/x-www-form-urlencoded" {
		return nil, nil, fmt.Errorf("%w: content type %.60q is not application/x-www-form-urlencoded",
			ErrMalformedCallback, r.Header.Get("Content-Type"))
	}
	body, form, err := readForm(r, maxBytes)
	if err != nil {
		return nil, nil, err
	}
	got := form.Get("token")
	if got == "" {
		return nil, nil, ErrMissingToken
	}
	if !tokenEqual(got, token) {
		return nil, nil, ErrInvalidToken
	}
	data := form.Get("data")
	if strings.TrimSpace(data) == "" {
		return nil, nil, fmt.Errorf("%w: no data field", ErrMalformedCallback)
	}
	cb, err := decodeCallback([]byte(data))
	if err != nil {
		return nil, nil, err
	}
	return cb, body, nil
}

// readForm reads the capped body once, puts it back for later readers and
// parses it. A body already consumed by r.ParseForm is rebuilt from
// r.PostForm.
func readForm(r *http.Request, maxBytes int64) ([]byte, url.Values, error) {
	var body []byte
	if r.Body != nil && r.Body != http.NoBody {
		var err error
		body, err = io.ReadAll(http.MaxBytesReader(nil, r.Body, maxBytes))
		r.Body.Close()
		if err != nil {
			if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
				return nil, nil, ErrCallbackTooLarge
			}
			return nil, nil, fmt.Errorf("%w: reading body: %v", ErrMalformedCallback, err)
		}
	}
	if len(body) == 0 && len(r.PostForm) > 0 {
		body = []byte(r.PostForm.Encode())
		if int64(len(body)) > maxBytes {
			return nil, nil, ErrCallbackTooLarge
		}
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, nil, fmt.Errorf("%w: form: %v", ErrMalformedCallback, err)
	}
	r.PostForm = form
	return body, form, nil
}

// tokenConfigured reports whether token can authenticate anything: a
// token of only white space (an env var set to " ") is as good as none.
func tokenConfigured(token string) bool { return strings.TrimSpace(token) != "" }

// tokenEqual compares tokens in constant time; hashing first hides the
// expected token's length too.
func tokenEqual(got, want string) bool {
	g, w := sha256.Sum256([]byte(got)), sha256.Sum256([]byte(want))
	return subtle.ConstantTimeCompare(g[:], w[:]) == 1
}

// decodeCallback decodes and checks the data JSON.
func decodeCallback(data []byte) (*Callback, error) {
	var w callbackData
	if err := json.Unmarshal(data, &w); err != nil {
		return nil, fmt.Errorf("%w: data: %v", ErrMalformedCallback, err)
	}
	var missing []string
	if w.ID == "" {
		missing = append(missing, "id")
	}
	if w.BillLinkID == "" {
		missing = append(missing, "bill_link_id")
	}
	if w.Amount == nil || !w.Amount.set {
		missing = append(missing, "amount")
	}
	if w.Status == "" {
		missing = append(missing, "status")
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%w: data lacks %s", ErrMalformedCallback, strings.Join(missing, ", "))
	}
	if w.Amount.v < 0 {
		return nil, fmt.Errorf("%w: amount %d is negative", ErrMalformedCallback, w.Amount.v)
	}
	switch PaymentStatus(w.Status) {
	case PaymentSuccessful, PaymentCancelled, PaymentCanceled, PaymentFailed, PaymentPending:
	default:
		return nil, fmt.Errorf("%w: unknown status %.40q", ErrMalformedCallback, w.Status)
	}
	cb := &Callback{
		ID:             string(w.ID),
		BillLink:       w.BillLink,
		BillLinkID:     w.BillLinkID,
		BillTitle:      w.BillTitle,
		SenderName:     w.SenderName,
		SenderEmail:    w.SenderEmail,
		SenderBank:     w.SenderBank,
		SenderBankType: w.SenderBankType,
		Amount:         w.Amount.v,
		Status:         w.Status,
		Raw:            bytes.Clone(data),
	}
	if w.CreatedAt != nil {
		cb.CreatedAt = w.CreatedAt.Time
	}
	if w.ReferenceID != nil {
		cb.ReferenceID = *w.ReferenceID
	}
	return cb, nil
}

// CallbackForm returns the form Flip would POST for cb: data (cb's fields
// as JSON, in Flip's shape: bill_link_id a number when numeric, created_at
// as "YYYY-MM-DD HH:mm:ss") and token. cb.Raw is ignored. Use it to test
// a callback handler.
func CallbackForm(token string, cb Callback) url.Values {
	w := callbackData{
		ID:             ID(cb.ID),
		BillLink:       cb.BillLink,
		BillLinkID:     cb.BillLinkID,
		BillTitle:      cb.BillTitle,
		SenderName:     cb.SenderName,
		SenderBank:     cb.SenderBank,
		SenderEmail:    cb.SenderEmail,
		Amount:         &flexInt{v: cb.Amount, set: true},
		Status:         cb.Status,
		SenderBankType: cb.SenderBankType,
	}
	if !cb.CreatedAt.IsZero() {
		w.CreatedAt = &Timestamp{cb.CreatedAt}
	}
	if cb.ReferenceID != "" {
		w.ReferenceID = &cb.ReferenceID
	}
	data, err := json.Marshal(w)
	if err != nil {
		// Unreachable: every field marshals.
		panic("flip: encoding callback: " + err.Error())
	}
	return url.Values{"data": {string(data)}, "token": {token}}
}

// MarshalJSON writes the integer as a JSON number.
func (n flexInt) MarshalJSON() ([]byte, error) { return strconv.AppendInt(nil, n.v, 10), nil }

// NewCallbackRequest builds the POST request Flip would send to url for cb
// with token, ready for an http.Handler or an http.Client. Use it in
// tests of code that receives callbacks.
func NewCallbackRequest(ctx context.Context, url, token string, cb Callback) (*http.Request, error) {
	body := CallbackForm(token, cb).Encode()
	r, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("Accept", "application/json")
	return r, nil
}

// RedactToken returns a form-encoded callback body without its token
// field; every other byte is kept as received.
func RedactToken(body []byte) []byte {
	parts := bytes.Split(body, []byte("&"))
	kept := parts[:0]
	for _, part := range parts {
		k, _, _ := bytes.Cut(part, []byte("="))
		if name, err := url.QueryUnescape(string(k)); err == nil && name == "token" {
			continue
		}
		kept = append(kept, part)
	}
	return bytes.Join(kept, []byte("&"))
}

// CallbackNetworks returns the addresses Flip's documentation lists as the
// sources of its callbacks, for an optional allowlist
// (ginadapter.Config.AllowedNetworks). The published list may be
// incomplete: keep the token check on, and update the list from Flip's
// docs when they change.
func CallbackNetworks() []netip.Prefix {
	addrs := []string{"149.129.234.86", "149.129.218.31", "34.101.204.31", "34.101.114.113", "34.101.63.196", "34.101.161.100"}
	out := make([]netip.Prefix, 0, len(addrs))
	for _, a := range addrs {
		out = append(out, netip.PrefixFrom(netip.MustParseAddr(a), 32))
	}
	return out
}
