package provider

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// This file holds the rules for text that crosses paylink's boundary from
// a provider: what every store can keep, what is cleaned so that it can be
// kept, and what is refused. A store must never be the one to refuse a
// genuine payment's text: PostgreSQL refuses a NUL byte or invalid UTF-8
// in a text column, and an id longer than its column, and a callback it
// refuses is answered 500 on every delivery and never applied.

// MaxIDBytes is the length, in bytes, of the longest id of a link or a
// payment paylink accepts. Stores keep ids of up to this length
// (gormstore's id columns hold 128 characters).
const MaxIDBytes = 128

// MaxCodeBytes is the length, in bytes, of the longest short code an event
// keeps: a raw status, a payment method's bank and type, a virtual account
// number. A longer one is cut (at a character boundary); the raw payload
// keeps it whole. Stores keep codes of up to this length.
const MaxCodeBytes = 64

// CheckID returns an error matching CodeInvalidArgument when id cannot be
// the id of a link or a payment: empty, longer than [MaxIDBytes], not
// valid UTF-8, or holding a control character (a NUL byte, a newline).
// Such an id is refused rather than cleaned: a cleaned id would name
// another payment.
func CheckID(id string) error {
	if msg := idProblem(id); msg != "" {
		return Errorf(CodeInvalidArgument, "provider.CheckID", "id %.40q %s", id, msg)
	}
	return nil
}

// idProblem says what is wrong with id, or "" when nothing is.
func idProblem(id string) string {
	switch {
	case id == "":
		return "is empty"
	case len(id) > MaxIDBytes:
		return fmt.Sprintf("is %d bytes long, over the %d byte limit", len(id), MaxIDBytes)
	case !utf8.ValidString(id):
		return "is not valid UTF-8"
	case strings.IndexFunc(id, unicode.IsControl) >= 0:
		return "holds a control character"
	}
	return ""
}

// CleanText returns s as every store can keep it: without NUL bytes, and
// with each run of invalid UTF-8 replaced by U+FFFD. Other characters,
// control characters included, are kept as they are.
func CleanText(s string) string {
	if strings.IndexByte(s, 0) >= 0 {
		s = strings.ReplaceAll(s, "\x00", "")
	}
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	return s
}

// cleanCode is CleanText, cut to MaxCodeBytes at a character boundary.
func cleanCode(s string) string {
	s = CleanText(s)
	if len(s) <= MaxCodeBytes {
		return s
	}
	n := MaxCodeBytes
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// cleanEvent makes the free text of an event's payment storable (see
// CleanText and MaxCodeBytes), so that a genuine payment is never lost to
// a byte the database refuses. The ids are left alone for validateEvent
// to check, and Raw stays as received.
func cleanEvent(ev *Event) {
	p := &ev.Payment
	for _, s := range []*string{&p.Sender.Name, &p.Sender.Email, &p.Sender.Phone, &p.Sender.Address, &p.PaymentURL} {
		*s = CleanText(*s)
	}
	for _, s := range []*string{&p.RawStatus, &p.Method.Bank, &p.Method.Type, &p.VANumber} {
		*s = cleanCode(*s)
	}
}

// idFieldErrors returns a field error for each id of p that is set but
// cannot be an id (see CheckID); a missing id is validateEvent's to report.
func idFieldErrors(p Payment) []FieldError {
	var fields []FieldError
	for _, id := range []struct{ field, value string }{{"payment.id", p.ID}, {"payment.link_id", p.LinkID}} {
		if id.value == "" {
			continue
		}
		if msg := idProblem(id.value); msg != "" {
			fields = append(fields, FieldError{Field: id.field, Rule: "id", Message: id.field + " " + msg})
		}
	}
	return fields
}
