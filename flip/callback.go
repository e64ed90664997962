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

// TokenMatch says which configured callback token a callback carried.
type TokenMatch string

// The tokens a callback can match.
const (
	// TokenCurrent: the callback carried the current token
	// ([CallbackVerifier].Token, [ProviderOptions].CallbackToken).
	TokenCurrent TokenMatch = "current"
	// TokenPrevious: the callback carried the previous token, accepted
	// during a token rotation ([CallbackVerifier].PreviousToken,
	// [ProviderOptions].PreviousCallbackToken).
	TokenPrevious TokenMatch = "previous"
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
	// Status is the status exactly as Flip sent it: SUCCESSFUL, CANCELLED,
	// FAILED, PENDING, or anything else Flip may start sending. A status
	// is never refused; [Callback.PaymentStatus] maps it.
	Status string
	// CreatedAt is the payment's creation time (read in Asia/Jakarta);
	// zero when Flip sent none, or one in a format not understood (it
	// stays in Raw and Problems).
	CreatedAt   time.Time
	ReferenceID string
	// MatchedToken says which configured token the callback carried; it is
	// set by [ParseCallback] and [CallbackVerifier.Parse].
	MatchedToken TokenMatch
	// Raw is the data JSON exactly as received; white space around it
	// that JSON does not allow (a vertical tab, a no-break space), which
	// the decoder tolerates, is cut, so Raw is always valid JSON.
	Raw []byte
	// Problems lists the optional fields that could not be read (left at
	// their zero value); a callback is never refused for them.
	Problems []FieldProblem
}

// PaymentStatus returns the portable status of the callback's status
// (case and surrounding space ignored; see [MapPaymentStatus]), and false
// for a status outside [StatusMappings].
func (cb *Callback) PaymentStatus() (provider.PaymentStatus, bool) {
	return MapPaymentStatus(cb.Status)
}

// callbackData is the wire form of the data field, in Flip's field order,
// as [CallbackForm] writes it.
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

// ParseCallback verifies and decodes a Flip accept-payment callback with
// one token; it is CallbackVerifier{Token: token, MaxBytes: maxBytes}.Parse(r).
// See [CallbackVerifier.Parse].
func ParseCallback(r *http.Request, token string, maxBytes int64) (*Callback, error) {
	return CallbackVerifier{Token: token, MaxBytes: maxBytes}.Parse(r)
}

// CallbackVerifier verifies Flip's callbacks. Its zero value refuses every
// callback (no token configured).
type CallbackVerifier struct {
	// Token is the validation token from Flip's dashboard. Empty, or only
	// white space, refuses every callback (fail closed).
	Token string
	// PreviousToken, when not blank, is accepted too: the token being
	// retired during a rotation (docs/callbacks-and-security.md). Leave it
	// empty outside a rotation.
	PreviousToken string
	// MaxBytes caps the body; DefaultMaxCallbackBytes when <= 0.
	MaxBytes int64
}

// Parse verifies and decodes a Flip accept-payment callback.
//
// It refuses with [ErrTokenNotConfigured] when Token is empty or only
// white space (fail closed, whatever PreviousToken says),
// [ErrCallbackTooLarge] when the body is over MaxBytes,
// [ErrMalformedCallback] when the content type is not
// application/x-www-form-urlencoded, the body is neither a form nor Flip's
// unencoded sample shape, or the data lacks what a payment needs, and
// [ErrMissingToken] or [ErrInvalidToken] when the token is absent or
// matches neither configured token. The sent token is compared with both
// tokens, each in constant time, every time; Callback.MatchedToken says
// which one matched.
//
// The body is read once; afterwards r.Body reads the same bytes again and
// r.PostForm holds the parsed form, so later handlers see the request
// intact. A body that is not form-encoded but written as Flip's own sample
// curl writes it (data={...JSON...}&token=..., nothing escaped) is read as
// sent: "+" and "%" in it stay as they are.
//
// The data is read generously: id and bill_link_id as numbers or strings,
// the amount as a number or a numeric string, a zero fraction allowed
// ("45000.00"; a non-zero fraction is refused, never rounded), any status
// kept as sent, unknown fields ignored, and an optional field that cannot
// be read (a created_at in an unknown format) left at its zero value and
// listed in Callback.Problems. The data must carry id, bill_link_id, a
// non-negative amount (a CANCELLED payment of an open-amount bill may
// carry 0) and a non-blank status.
func (v CallbackVerifier) Parse(r *http.Request) (*Callback, error) {
	cb, _, err := v.parse(r)
	return cb, err
}

// parse is Parse, also returning the body as received.
func (v CallbackVerifier) parse(r *http.Request) (*Callback, []byte, error) {
	if !tokenConfigured(v.Token) {
		return nil, nil, ErrTokenNotConfigured
	}
	maxBytes := v.MaxBytes
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
	match, ok := matchToken(got, v.Token, v.PreviousToken)
	if !ok {
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
	cb.MatchedToken = match
	return cb, body, nil
}

// readForm reads the capped body once, puts it back for later readers and
// parses it (see parseBody). A body already consumed by r.ParseForm is
// rebuilt from r.PostForm.
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
	form, err := parseBody(body)
	if err != nil {
		return nil, nil, err
	}
	r.PostForm = form
	return body, form, nil
}

// parseBody parses a callback body. A form-encoder always escapes "{", so
// a data value that starts with a literal "{" means the body was written
// by hand, as Flip's sample curl does (-d 'data={...}&token=...'): such a
// body is split with the JSON value kept whole and every value taken
// literally, so "+", "%" and "&" inside the JSON stay as sent. Any other
// body is parsed as the form it claims to be.
func parseBody(body []byte) (url.Values, error) {
	pairs, raw, err := splitBody(body)
	if err != nil {
		return nil, err
	}
	if !raw {
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, fmt.Errorf("%w: form: %v", ErrMalformedCallback, err)
		}
		return form, nil
	}
	form := url.Values{}
	for _, p := range pairs {
		if p.name == "" && p.value == "" {
			continue
		}
		form.Add(p.name, p.value)
	}
	return form, nil
}

// pair is one name=value of a callback body, both as sent (not unescaped).
type pair struct {
	name, value string
	start, end  int // the pair's bytes in the body
}

// splitBody splits body at "&" into its pairs, as sent. A data value
// starting with a literal "{" is an unencoded JSON object: it runs to the
// end of that JSON value, which must be followed by "&" or the end of the
// body, and raw is true. Such a value that is not one JSON object is
// ErrMalformedCallback.
func splitBody(body []byte) (pairs []pair, raw bool, err error) {
	for start := 0; start <= len(body); {
		end := start + bytes.IndexByte(body[start:], '&')
		if end < start {
			end = len(body)
		}
		name, value, _ := bytes.Cut(body[start:end], []byte("="))
		if bytes.HasPrefix(body[start:], []byte("data={")) {
			from := start + len("data=")
			n, err := jsonValueLen(body[from:])
			if err != nil {
				return nil, false, fmt.Errorf("%w: data is neither form-encoded nor one JSON object: %v", ErrMalformedCallback, err)
			}
			end = from + n
			if end < len(body) && body[end] != '&' {
				return nil, false, fmt.Errorf("%w: unencoded data is followed by %.8q, not &", ErrMalformedCallback, body[end:])
			}
			value, raw = body[from:end], true
		}
		pairs = append(pairs, pair{name: string(name), value: string(value), start: start, end: end})
		start = end + 1
	}
	return pairs, raw, nil
}

// jsonValueLen returns the length of the JSON value at the start of b.
func jsonValueLen(b []byte) (int, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	var v json.RawMessage
	if err := dec.Decode(&v); err != nil {
		return 0, err
	}
	return int(dec.InputOffset()), nil
}

// tokenConfigured reports whether token can authenticate anything: a
// token of only white space (an env var set to " ") is as good as none.
func tokenConfigured(token string) bool { return strings.TrimSpace(token) != "" }

// matchToken compares got with the current token and, when configured,
// the previous one. Both comparisons always run, in constant time over
// SHA-256 digests (which also hides the tokens' lengths), so the time
// taken does not depend on which token matched, or how much of one did.
func matchToken(got, current, previous string) (TokenMatch, bool) {
	g := sha256.Sum256([]byte(got))
	c := sha256.Sum256([]byte(current))
	p := sha256.Sum256([]byte(previous))
	prevOn := 0
	if tokenConfigured(previous) {
		prevOn = 1
	}
	isCurrent := subtle.ConstantTimeCompare(g[:], c[:])
	isPrevious := subtle.ConstantTimeCompare(g[:], p[:]) & prevOn
	switch {
	case isCurrent == 1:
		return TokenCurrent, true
	case isPrevious == 1:
		return TokenPrevious, true
	}
	return "", false
}

// decodeCallback decodes and checks the data JSON, field by field.
func decodeCallback(data []byte) (*Callback, error) {
	var problems []FieldProblem
	o, err := newObjectReader(data, "", &problems)
	if err != nil {
		return nil, fmt.Errorf("%w: data: %v", ErrMalformedCallback, err)
	}
	cb := &Callback{
		ID:             string(o.id("id")),
		BillLink:       o.str("bill_link"),
		BillLinkID:     o.id("bill_link_id"),
		BillTitle:      o.str("bill_title"),
		SenderName:     o.str("sender_name"),
		SenderEmail:    o.str("sender_email"),
		SenderBank:     o.str("sender_bank"),
		SenderBankType: o.str("sender_bank_type"),
		Status:         o.str("status"),
		CreatedAt:      o.time("created_at"),
		ReferenceID:    o.str("reference_id"),
		Raw:            rawJSON(data),
	}
	// The amount is money: read strictly, never guessed.
	var amountErr error
	if raw, ok := o.present("amount"); ok {
		cb.Amount, amountErr = parseAmount(raw)
	} else {
		amountErr = errors.New("missing")
	}
	var bad []string
	for _, f := range []struct {
		name    string
		missing bool
	}{
		{"id", strings.TrimSpace(cb.ID) == ""},
		{"bill_link_id", strings.TrimSpace(string(cb.BillLinkID)) == ""},
		{"status", strings.TrimSpace(cb.Status) == ""},
	} {
		if f.missing {
			bad = append(bad, f.name+": missing or unreadable")
		}
	}
	if amountErr != nil {
		bad = append(bad, "amount: "+amountErr.Error())
	}
	if len(bad) > 0 {
		return nil, fmt.Errorf("%w: data: %s", ErrMalformedCallback, strings.Join(bad, "; "))
	}
	cb.Problems = problems
	return cb, nil
}

// rawJSON returns a copy of data, a JSON object the decoder read, as valid
// JSON: as it is when it is, otherwise without the white space around it
// that the decoder tolerates and JSON does not.
func rawJSON(data []byte) []byte {
	if json.Valid(data) {
		return bytes.Clone(data)
	}
	return bytes.Clone(bytes.TrimSpace(data))
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

// RedactToken returns a callback body without its token field; every
// other byte is kept as received. An unencoded JSON data value (Flip's
// sample curl shape) is kept whole, whatever it contains.
func RedactToken(body []byte) []byte {
	pairs, _, err := splitBody(body)
	if err != nil {
		// Not a body splitBody can read: split at every "&" (a token
		// field is still found and dropped).
		pairs = pairs[:0]
		for start := 0; start <= len(body); {
			end := start + bytes.IndexByte(body[start:], '&')
			if end < start {
				end = len(body)
			}
			name, _, _ := bytes.Cut(body[start:end], []byte("="))
			pairs = append(pairs, pair{name: string(name), start: start, end: end})
			start = end + 1
		}
	}
	kept := make([][]byte, 0, len(pairs))
	for _, p := range pairs {
		if name, err := url.QueryUnescape(p.name); err == nil && name == "token" {
			continue
		}
		kept = append(kept, body[p.start:p.end])
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
