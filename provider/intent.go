package provider

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// LinkIntent records that a link is about to be created with an
// idempotency key. [Service.CreateLink] stores it before it asks the
// provider for the link, and completes it in the transaction that stores
// the link. An intent that was never completed is the trace of a create
// whose outcome is unknown (the process died, the provider's answer was
// lost): a retry with the same key looks for the link at the provider
// instead of creating a second one (see [Service.CreateLink]).
//
// An intent keeps what a retry needs to recognise the link at the
// provider (title, type, amount, creation time), and a hash of every
// parameter, never the parameters themselves.
type LinkIntent struct {
	// Key is the idempotency key, unique per store, 1 to 255 characters.
	Key string
	// Provider is the name of the provider asked for the link.
	Provider string
	// ParamsHash is [CreateLinkParams.Fingerprint] of the parameters the
	// link was asked with: an opaque string of at most 128 characters.
	ParamsHash string
	// Title, Type and Amount are the link's, as asked (defaults applied).
	Title  string
	Type   LinkType
	Amount Money
	// CreatedAt is when the intent was recorded, before the provider was
	// asked: the link, if the provider made it, was created at or after it
	// (by the provider's clock, give or take the skew between the two).
	CreatedAt time.Time
	// LinkID is the id of the link created for the intent; empty while the
	// intent is pending.
	LinkID string
	// CompletedAt is when the link was stored; zero while pending.
	CompletedAt time.Time
}

// Completed reports whether the intent's link was stored.
func (in *LinkIntent) Completed() bool { return in.LinkID != "" }

// Fingerprint returns the hex SHA-256 of a canonical encoding of p, after
// the defaults [Service.CreateLink] applies (Type SINGLE, Step 1, currency
// IDR), so that leaving a field at its default and setting the default
// give the same fingerprint. Two calls with one idempotency key must have
// the same fingerprint, or the second is refused with CodeConflict.
//
// Every field counts except IdempotencyKey: Title, Type, Amount (amount
// and currency), ExpiresAt (to the second, as an instant: the time zone
// does not count), RedirectURL, Step, the four Customer fields, Method
// (bank and type), RequireAddress and RequirePhone. Strings count exactly
// as given: "Order 1" and "Order 1 " differ. An app that computes
// ExpiresAt from the current time must compute it once and reuse it on
// retries.
//
// The encoding writes each non-empty field as name=length:value in a
// fixed order after a version line, so a field added to CreateLinkParams
// later leaves the fingerprint of parameters that do not use it as it was.
func (p CreateLinkParams) Fingerprint() string {
	p = p.withDefaults()
	h := sha256.New()
	h.Write([]byte("paylink.CreateLinkParams/1\n"))
	field := func(name, value string) {
		if value != "" {
			fmt.Fprintf(h, "%s=%d:%s\n", name, len(value), value)
		}
	}
	flag := func(b bool) string {
		if b {
			return "1"
		}
		return ""
	}
	expires := ""
	if !p.ExpiresAt.IsZero() {
		expires = strconv.FormatInt(p.ExpiresAt.Unix(), 10)
	}
	for _, f := range [...]struct{ name, value string }{
		{"title", p.Title},
		{"type", string(p.Type)},
		{"amount", strconv.FormatInt(p.Amount.Amount, 10)},
		{"currency", string(p.Amount.Currency)},
		{"expires_at", expires},
		{"redirect_url", p.RedirectURL},
		{"step", strconv.Itoa(int(p.Step))},
		{"customer.name", p.Customer.Name},
		{"customer.email", p.Customer.Email},
		{"customer.phone", p.Customer.Phone},
		{"customer.address", p.Customer.Address},
		{"method.bank", p.Method.Bank},
		{"method.type", p.Method.Type},
		{"require_address", flag(p.RequireAddress)},
		{"require_phone", flag(p.RequirePhone)},
	} {
		field(f.name, f.value)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// withDefaults fills the fields a create defaults: Type SINGLE, Step 1,
// currency IDR.
func (p CreateLinkParams) withDefaults() CreateLinkParams {
	if p.Type == "" {
		p.Type = LinkSingle
	}
	if p.Step == 0 {
		p.Step = StepInputData
	}
	if p.Amount.Currency == "" {
		p.Amount.Currency = IDR
	}
	return p
}

// LinkQuery selects links at a provider, for [LinkFinder.FindLinks].
type LinkQuery struct {
	// Title, Type and Amount must equal the link's. An Amount of zero
	// selects open-amount links; an empty currency is IDR.
	Title  string
	Type   LinkType
	Amount Money
	// CreatedFrom, when set, leaves out links the provider created before
	// it. A provider that does not know when its links were created
	// ignores it (Flip's bills carry no creation time).
	CreatedFrom time.Time
}

// Matches reports whether l is selected by q: same title (white space
// around it aside, which a provider may trim), type and amount (empty type
// and currency read as SINGLE and IDR on both sides), and,
// when both q.CreatedFrom and l.CreatedAt are set, created at or after
// CreatedFrom.
func (q LinkQuery) Matches(l *Link) bool {
	typ, ltyp := q.Type, l.Type
	if typ == "" {
		typ = LinkSingle
	}
	if ltyp == "" {
		ltyp = LinkSingle
	}
	amt, lamt := q.Amount, l.Amount
	if amt.Currency == "" {
		amt.Currency = IDR
	}
	if lamt.Currency == "" {
		lamt.Currency = IDR
	}
	if strings.TrimSpace(l.Title) != strings.TrimSpace(q.Title) || ltyp != typ || !lamt.Equal(amt) {
		return false
	}
	return q.CreatedFrom.IsZero() || l.CreatedAt.IsZero() || !l.CreatedAt.Before(q.CreatedFrom)
}
