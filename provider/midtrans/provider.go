package midtrans

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/paylinkgo/paylink/provider"
)

// Limits of Snap's fields that CreateLink checks before calling.
const (
	maxOrderIDLen     = 50
	maxCustomFieldLen = 255
	maxItemNameLen    = 50
	// DefaultPageLifetime is how long a Snap page lives when no expiry
	// is given (Midtrans's page_expiry default).
	DefaultPageLifetime = 24 * time.Hour
)

// ProviderOptions configures a [Provider].
type ProviderOptions struct {
	// Name is the provider's name in links, payments and events; default
	// "midtrans".
	Name string
	// MaxCallbackBytes caps a notification body; default
	// DefaultMaxNotificationBytes.
	MaxCallbackBytes int64
	// OrderIDPrefix is put before every order id the provider creates
	// (the idempotency key, or a random id). Midtrans refuses an order id
	// it has seen on the account, forever: an app whose keys restart
	// ("order-1" again after its database is reset, or two databases
	// sharing one sandbox account) gives each database its own prefix.
	// At most 18 of A-Z a-z 0-9 - _ ~ . (the order id stays within
	// Midtrans's 50 characters); anything else makes CreateLink fail with
	// CodeFailedPrecondition.
	OrderIDPrefix string
	// Logger receives the provider's records (unknown statuses); default
	// the client's logger.
	Logger *slog.Logger
	// Now returns the current time; default time.Now.
	Now func() time.Time
	// AllowFeeImposition lets Midtrans's Automatic Fee Imposition add its
	// fee to what the customer pays. By default CreateLink turns the fee
	// off ("customer_imposed_payment_fee":{"enable":false}), and a payment
	// whose gross_amount still differs from the order's is reported with
	// the gross_amount Midtrans charged, which paylink flags
	// amount_mismatch and never applies. With AllowFeeImposition set,
	// CreateLink leaves the fee to the dashboard, and a payment whose
	// breakdown (gross_amount_info) shows original_amount + fee =
	// gross_amount is reported with Payment.Amount the order's amount
	// (original_amount); the fee stays visible in Payment.Raw. A lower
	// gross_amount (a promo) is always reported as charged, and flagged.
	AllowFeeImposition bool
}

// Provider is Midtrans Snap as a [provider.Provider]: a link is a Snap
// transaction keyed by the app's order id. It also deactivates links and
// checks its callback configuration. It keeps no state between calls:
// what it needs of a Snap page is in the stored link's Raw (see
// [Provider.GetLink]), so any Provider value over the same account, on
// any replica or after a restart, acts on any link.
type Provider struct {
	c        *Client
	name     string
	maxBytes int64
	prefix   string
	log      *slog.Logger
	now      func() time.Time
	fees     bool
}

// Compile-time checks of the capabilities Provider offers.
var (
	_ provider.Provider           = (*Provider)(nil)
	_ provider.LinkDeactivator    = (*Provider)(nil)
	_ provider.Refunder           = (*Provider)(nil)
	_ provider.CallbackChecker    = (*Provider)(nil)
	_ provider.CallbackMediaTyper = (*Provider)(nil)
	_ provider.CallbackDecoder    = (*Provider)(nil)
	_ provider.CallbackRedactor   = (*Provider)(nil)
	_ provider.PaymentGetter      = (*Provider)(nil)
	_ provider.UnsignedCallbacks  = (*Provider)(nil)
)

// NewProvider returns a Provider calling Midtrans through c, verifying
// notifications with c's server key. It panics if c is nil.
func NewProvider(c *Client, opts ProviderOptions) *Provider {
	if c == nil {
		panic("midtrans.NewProvider: nil *Client")
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	return &Provider{
		now:      now,
		c:        c,
		name:     cmp.Or(opts.Name, "midtrans"),
		maxBytes: cmp.Or(max(opts.MaxCallbackBytes, 0), DefaultMaxNotificationBytes),
		prefix:   opts.OrderIDPrefix,
		log:      cmp.Or(opts.Logger, c.log),
		fees:     opts.AllowFeeImposition,
	}
}

// Name returns the provider's name.
func (p *Provider) Name() string { return p.name }

// Client returns the underlying client.
func (p *Provider) Client() *Client { return p.c }

// String describes the provider without its key.
func (p *Provider) String() string {
	return fmt.Sprintf("midtrans.Provider{name: %s, client: %s}", p.name, p.c)
}

// GoString is String.
func (p *Provider) GoString() string { return p.String() }

// CallbackMediaType returns "application/json": Midtrans notifications
// are JSON.
func (p *Provider) CallbackMediaType() string { return "application/json" }

// CheckCallbackConfig returns an error matching ErrNoServerKey when no
// server key is configured.
func (p *Provider) CheckCallbackConfig() error {
	if strings.TrimSpace(p.c.key) == "" {
		return fmt.Errorf("provider %q: %w", p.name, ErrNoServerKey)
	}
	return nil
}

// CreateLink creates a Snap transaction. The order id, which is also the
// link's id, is OrderIDPrefix followed by params.IdempotencyKey when set
// (together a valid Midtrans order id: at most 50 of A-Z a-z 0-9 - _ ~ .),
// else by a random id. Midtrans refuses an order id it has seen; a
// create whose key's order id is taken finds the order made before with
// the key through the status API (an order with a transaction for the
// same amount and title is returned as the link) and fails with CodeConflict only
// when that order is for other parameters.
//
// The title is required; it is sent as custom_field1 (so that the status
// API returns it) and as the name of the one item. Only SINGLE links at
// steps 1 and 2 exist (a Snap page takes one payment, and its method is
// chosen by the customer); the method is ignored. ExpiresAt becomes Snap's
// expiry (5 minutes to 7 days from now); without it the page lives
// DefaultPageLifetime, which Link.ExpiresAt reports.
//
// Link.Raw is Snap's answer, {"token": ..., "redirect_url": ...}: the
// token is what GetLink and DeactivateLink need of a page whose customer
// has not picked a method yet, so store the link as it is returned
// (provider.Service does).
func (p *Provider) CreateLink(ctx context.Context, params provider.CreateLinkParams) (*provider.Link, error) {
	const op = "midtrans.CreateLink"
	now := p.now()
	var fields []provider.FieldError
	bad := func(field, rule, msg string) {
		fields = append(fields, provider.FieldError{Field: field, Rule: rule, Message: msg})
	}
	title := strings.TrimSpace(params.Title)
	switch {
	case title == "":
		bad("title", "required", "is required")
	case utf8.RuneCountInString(title) > maxCustomFieldLen:
		bad("title", "max", fmt.Sprintf("must be at most %d characters", maxCustomFieldLen))
	}
	if t := cmp.Or(params.Type, provider.LinkSingle); t != provider.LinkSingle {
		bad("type", "oneof", "a Snap transaction takes one payment: only SINGLE links")
	}
	if params.Step == provider.StepConfirmation {
		bad("step", "max", "Snap lets the customer pick the method: steps 1 and 2 only")
	}
	if !validOrderIDPrefix(p.prefix) {
		return nil, provider.Errorf(provider.CodeFailedPrecondition, op,
			"OrderIDPrefix must be at most %d of A-Z a-z 0-9 - _ ~ .", maxOrderIDPrefixLen)
	}
	orderID := ""
	if params.IdempotencyKey != "" {
		orderID = p.prefix + params.IdempotencyKey
		if !ValidOrderID(orderID) {
			bad("idempotency_key", "order_id", fmt.Sprintf("is the Midtrans order id (after the prefix of %d characters): at most %d of A-Z a-z 0-9 - _ ~ .", len(p.prefix), maxOrderIDLen))
		}
	}
	var expiry *Expiry
	expiresAt := now.Add(DefaultPageLifetime)
	if !params.ExpiresAt.IsZero() {
		d := params.ExpiresAt.Sub(now)
		if d < 5*time.Minute || d > 7*24*time.Hour {
			bad("expires_at", "range", "must be 5 minutes to 7 days from now")
		}
		mins := int64((d + time.Minute - 1) / time.Minute)
		expiry = &Expiry{StartTime: now, Unit: ExpiryMinute, Duration: mins}
		expiresAt = now.Add(time.Duration(mins) * time.Minute)
	}
	if len(fields) > 0 {
		return nil, &provider.Error{Code: provider.CodeInvalidArgument, Op: op, Message: "invalid parameters", Fields: fields}
	}
	if err := checkAmount(op, params.Amount); err != nil {
		return nil, err
	}
	if orderID == "" {
		orderID = p.prefix + newOrderID()
	}
	itemName := title
	if utf8.RuneCountInString(itemName) > maxItemNameLen {
		itemName = string([]rune(itemName)[:maxItemNameLen])
	}
	cp := CreateTransactionParams{
		OrderID:      orderID,
		GrossAmount:  params.Amount.Amount,
		Items:        []Item{{ID: "link", Name: itemName, Price: params.Amount.Amount, Quantity: 1}},
		Expiry:       expiry,
		FinishURL:    params.RedirectURL,
		CustomField1: title,
		// Off unless the app takes the fee: an amount other than the
		// order's is never paid.
		AllowFeeImposition: p.fees,
	}
	if c := params.Customer; c != (provider.Customer{}) {
		first, last, _ := strings.Cut(strings.TrimSpace(c.Name), " ")
		cp.Customer = &CustomerDetails{FirstName: first, LastName: strings.TrimSpace(last), Email: c.Email, Phone: c.Phone}
		if c.Address != "" {
			cp.Customer.BillingAddress = &Address{Address: c.Address}
		}
	}
	st, err := p.c.CreateTransaction(ctx, cp)
	for retry := 2; err != nil && params.IdempotencyKey != "" && errors.Is(err, provider.CodeConflict); retry++ {
		// The order id is taken: an earlier create with this key made it.
		l, ferr := p.keyOrder(ctx, cp.OrderID, params, now)
		if l != nil || ferr != nil {
			return l, ferr
		}
		// A Snap page without a transaction: Snap will not answer for it
		// again. Unless the caller knows its URL was never handed out, a
		// second page could be a second way to pay.
		next := orderID + "~" + strconv.Itoa(retry)
		if !params.KeyNeverReturned || retry > maxKeyRetries || !ValidOrderID(next) {
			return nil, &provider.Error{Code: provider.CodeConflict, Op: op, Err: err,
				Message: fmt.Sprintf("order id %q of idempotency key %q is a Snap page with no transaction yet; Midtrans does not answer for it again: use the link created first, or another key", cp.OrderID, params.IdempotencyKey)}
		}
		// Nobody was given the earlier page (provider.Service says so: it
		// returns only stored links, and none is stored for the key): it
		// expires unpaid. The link is made under the next order id.
		cp.OrderID = next
		st, err = p.c.CreateTransaction(ctx, cp)
	}
	if err != nil {
		return nil, err
	}
	orderID = cp.OrderID
	raw, err := json.Marshal(st)
	if err != nil {
		return nil, &provider.Error{Code: provider.CodeInternal, Op: op, Message: "encoding Snap's answer", Err: err}
	}
	l := provider.Link{
		ID:             orderID,
		Provider:       p.name,
		URL:            st.RedirectURL,
		Title:          title,
		Type:           provider.LinkSingle,
		Amount:         provider.Rupiah(params.Amount.Amount),
		Status:         provider.LinkActive,
		ExpiresAt:      expiresAt,
		Step:           cmp.Or(params.Step, provider.StepInputData),
		Customer:       params.Customer,
		RedirectURL:    params.RedirectURL,
		IdempotencyKey: params.IdempotencyKey,
		CreatedAt:      now,
		UpdatedAt:      now,
		Raw:            raw,
	}
	return &l, nil
}

// maxKeyRetries bounds the order ids one idempotency key may take:
// key, key~2, ... key~maxKeyRetries (see CreateLink).
const maxKeyRetries = 9

// keyOrder reads order id, taken at Snap by an earlier create with the
// same idempotency key, through the status API. An order with a
// transaction for params (same gross_amount and custom_field1) is the
// link that create made, returned as GetLink would (without URL: the
// status API does not tell the Snap page). An order without a
// transaction gives nil, nil; one for other parameters CodeConflict.
func (p *Provider) keyOrder(ctx context.Context, orderID string, params provider.CreateLinkParams, now time.Time) (*provider.Link, error) {
	const op = "midtrans.CreateLink"
	t, err := p.c.GetStatus(ctx, orderID)
	if errors.Is(err, provider.CodeNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, &provider.Error{Code: provider.CodeOf(err), Op: op, Err: err,
			Message: fmt.Sprintf("order id %q is taken at Midtrans; reading it failed", orderID)}
	}
	title := strings.TrimSpace(params.Title)
	amount, _, aerr := p.amounts(t)
	if aerr != nil || t.OrderID != orderID || amount != params.Amount.Amount || t.CustomField1 != "" && t.CustomField1 != title {
		return nil, provider.Errorf(provider.CodeConflict, op,
			"order id %q of idempotency key %q is taken at Midtrans by an order for other parameters", orderID, params.IdempotencyKey)
	}
	stored := &provider.Link{ID: orderID, Title: title, Step: cmp.Or(params.Step, provider.StepInputData), Customer: params.Customer,
		RedirectURL: params.RedirectURL, IdempotencyKey: params.IdempotencyKey, CreatedAt: now}
	l, err := p.link(t, stored)
	if err != nil {
		return nil, err
	}
	l.UpdatedAt = now
	return l, nil
}

// ValidOrderID reports whether id is a valid Snap order id: 1 to 50 of
// A-Z a-z 0-9 - _ ~ .
func ValidOrderID(id string) bool {
	if id == "" || len(id) > maxOrderIDLen {
		return false
	}
	for _, r := range id {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_~.", r)
		if !ok {
			return false
		}
	}
	return true
}

// maxOrderIDPrefixLen caps ProviderOptions.OrderIDPrefix, leaving room
// for a random order id (32 characters) within Midtrans's 50.
const maxOrderIDPrefixLen = 18

// validOrderIDPrefix reports whether prefix is empty or fits before an
// order id.
func validOrderIDPrefix(prefix string) bool {
	return prefix == "" || len(prefix) <= maxOrderIDPrefixLen && ValidOrderID(prefix)
}

// newOrderID returns a random order id ("paylink-" and 24 hex digits).
func newOrderID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return "paylink-" + hex.EncodeToString(b[:])
}

// snapToken returns the Snap token CreateLink kept in a link's Raw, or ""
// when Raw holds none (a link only a callback named, one read through the
// status API, or one created by something else).
func snapToken(link *provider.Link) string {
	var st SnapTransaction
	if len(link.Raw) == 0 || json.Unmarshal(link.Raw, &st) != nil {
		return ""
	}
	return st.Token
}

// withSnapToken adds the Snap token a stored link's Raw held to raw, a
// status answer, so that a link stored again after a read still lets
// DeactivateLink cancel its Snap page.
func withSnapToken(raw []byte, token string) []byte {
	if token == "" || len(raw) == 0 || raw[0] != '{' {
		return raw
	}
	var has struct {
		Token *json.RawMessage `json:"token"`
	}
	if json.Unmarshal(raw, &has) != nil || has.Token != nil {
		return raw
	}
	tok, _ := json.Marshal(token)
	out := append([]byte(`{"token":`), tok...)
	if rest := bytes.TrimSpace(raw[1:]); len(rest) > 0 && rest[0] != '}' {
		out = append(out, ',')
	}
	return append(out, raw[1:]...)
}

// GetLink reads an order through the status API.
//
// Midtrans has no API that reads a Snap page: until the customer picks a
// payment method, the status API answers "Transaction doesn't exist." For
// such an order GetLink answers with the link it is given, INACTIVE once
// its expiry has passed, provided its Raw holds the Snap token CreateLink
// put there (the page exists); without a token it is CodeNotFound. So a
// link stored as CreateLink returned it reads the same on every replica
// and after a restart. Once the order has a transaction, the link is
// what the status API says, with what only the stored link knows (URL,
// step, customer, redirect URL, idempotency key, creation time) carried
// over, and Raw the status API's answer with the stored link's Snap
// token added as "token" (DeactivateLink needs it to cancel the page).
func (p *Provider) GetLink(ctx context.Context, link *provider.Link) (*provider.Link, error) {
	t, err := p.c.GetStatus(ctx, link.ID)
	if errors.Is(err, provider.CodeNotFound) && snapToken(link) != "" {
		l := *link
		l.Provider = p.name
		if !l.Open(p.now()) {
			l.Status = provider.LinkInactive
		}
		return &l, nil
	}
	if err != nil {
		return nil, err
	}
	return p.link(t, link)
}

// link converts a transaction to its link, carrying over from stored what
// the status API does not tell.
func (p *Provider) link(t *Transaction, stored *provider.Link) (*provider.Link, error) {
	amount, _, err := p.amounts(t)
	if err != nil {
		return nil, &provider.Error{Code: provider.CodeInternal, Op: "midtrans.GetLink", Message: "reading gross_amount", Err: err}
	}
	l := provider.Link{
		ID:       t.OrderID,
		Provider: p.name,
		Title:    t.CustomField1,
		Type:     provider.LinkSingle,
		Amount:   provider.Rupiah(amount),
		Status:   linkStatus(t.TransactionStatus, t.FraudStatus),
		Step:     provider.StepInputData,
		Raw:      withoutSignature(t.Raw),
	}
	if s := stored; s != nil && s.ID == t.OrderID {
		l.URL, l.Title, l.Step, l.Customer = s.URL, cmp.Or(l.Title, s.Title), cmp.Or(s.Step, l.Step), s.Customer
		l.RedirectURL, l.IdempotencyKey, l.CreatedAt = s.RedirectURL, s.IdempotencyKey, s.CreatedAt
		l.Raw = withSnapToken(l.Raw, snapToken(s))
	}
	if exp := Time(t.ExpiryTime); !exp.IsZero() {
		l.ExpiresAt = exp
	}
	return &l, nil
}

// ListLinkPayments returns the order's payment, read through the status
// API: none before the customer picks a method, else exactly one.
//
// A Midtrans order has one current transaction, so the payment's ID is
// the order id (the same as the link's), not the transaction_id: a
// customer who retries after a denied attempt, or an expired order id
// reused, keeps one payment whose status moves forward, and the status
// API (which only shows the latest transaction) can always list it. The
// transaction_id stays in Payment.Raw.
func (p *Provider) ListLinkPayments(ctx context.Context, link *provider.Link) ([]provider.Payment, error) {
	t, err := p.c.GetStatus(ctx, link.ID)
	if errors.Is(err, provider.CodeNotFound) {
		return []provider.Payment{}, nil
	}
	if err != nil {
		return nil, err
	}
	pay, err := p.payment(ctx, "midtrans.ListLinkPayments", t)
	if err != nil {
		return nil, err
	}
	return []provider.Payment{pay}, nil
}

// GetPayment implements provider.PaymentGetter: the order's payment as
// the status API (GET /v2/{order_id}/status) reports it now. An order has
// one payment, whose ID is the order id (see [Provider.ListLinkPayments]),
// so a paymentID other than link.ID is CodeNotFound, and so is an order
// Midtrans does not know, including a Snap page whose customer has not
// picked a method yet. It reads the order by link.ID alone (Raw is not
// needed). The Service reads it to confirm every notification (see
// [Provider.CallbacksUnsigned]).
func (p *Provider) GetPayment(ctx context.Context, link *provider.Link, paymentID string) (*provider.Payment, error) {
	const op = "midtrans.GetPayment"
	linkID := link.ID
	if paymentID != linkID {
		return nil, provider.Errorf(provider.CodeNotFound, op, "order %q has one payment, %q, not %q", linkID, linkID, paymentID)
	}
	t, err := p.c.GetStatus(ctx, linkID)
	if err != nil {
		return nil, err
	}
	if t.OrderID != linkID {
		// The status API also reads a transaction by its transaction_id;
		// that is another order's payment, not this one.
		return nil, provider.Errorf(provider.CodeNotFound, op, "Midtrans answered for order %.60q, not %q", t.OrderID, linkID)
	}
	pay, err := p.payment(ctx, op, t)
	if err != nil {
		return nil, err
	}
	return &pay, nil
}

// CallbacksUnsigned implements provider.UnsignedCallbacks and returns
// true: Midtrans's signature_key covers order_id, status_code and
// gross_amount, not transaction_status, fraud_status or refund_amount,
// so a signed notification does not prove the status it reports. The
// Service confirms every Midtrans notification that would change a
// payment through [Provider.GetPayment], even with
// ServiceOptions.InsecureSkipVerify.
func (p *Provider) CallbacksUnsigned() bool { return true }

// DeactivateLink stops an order from taking a payment: a pending
// transaction is expired (POST /v2/{id}/expire), an authorized or
// challenged one cancelled, and a Snap page without a transaction
// cancelled by the token CreateLink kept in the link's Raw (any Provider
// value can do it, given the stored link). A page without a transaction
// whose link carries no token is CodeNotFound. An order that is already
// final is returned as it is (INACTIVE).
func (p *Provider) DeactivateLink(ctx context.Context, link *provider.Link) (*provider.Link, error) {
	id := link.ID
	t, err := p.c.GetStatus(ctx, id)
	if errors.Is(err, provider.CodeNotFound) {
		token := snapToken(link)
		if token == "" {
			return nil, &provider.Error{Code: provider.CodeNotFound, Op: "midtrans.DeactivateLink", Err: err,
				Message: fmt.Sprintf("order %q has no transaction and the link's Raw holds no Snap token to cancel its page", id)}
		}
		if err := p.c.CancelSnapSession(ctx, token); err != nil {
			return nil, err
		}
		l := *link
		l.Provider = p.name
		l.Status = provider.LinkInactive
		l.UpdatedAt = p.now()
		return &l, nil
	}
	if err != nil {
		return nil, err
	}
	if linkStatus(t.TransactionStatus, t.FraudStatus) == provider.LinkActive {
		next := p.c.Cancel
		if strings.EqualFold(string(t.TransactionStatus), string(StatusPending)) {
			next = p.c.Expire
		}
		if t, err = next(ctx, id); err != nil {
			return nil, err
		}
	}
	if retryable(t.TransactionStatus) {
		// Snap lets the customer make a new attempt on the same order_id
		// after one that ended unpaid: only a cancelled session stops it.
		if err := p.cancelSession(ctx, link); err != nil {
			return nil, err
		}
	}
	return p.link(t, link)
}

// retryable reports whether an order whose current transaction is in
// status takes a new attempt on its Snap page: one that ended without
// payment (deny, expire, cancel, failure). Midtrans reuses an expired
// order_id "for the same or different payment methods", lets a cancelled
// one be reused, and a customer retries after a denied card.
func retryable(status TransactionStatus) bool {
	switch TransactionStatus(strings.ToLower(strings.TrimSpace(string(status)))) {
	case StatusDeny, StatusExpire, StatusCancel, StatusFailure:
		return true
	}
	return false
}

// cancelSession cancels the Snap session of link, whose last attempt is
// over, so that its page takes no new one. A session cancelled before,
// or one Snap no longer knows (its page expired), is done. A link whose
// Raw holds no token (one created by something else, or only a callback
// named) is CodeFailedPrecondition: its page may still take a new
// attempt, and only the dashboard can stop it.
func (p *Provider) cancelSession(ctx context.Context, link *provider.Link) error {
	token := snapToken(link)
	if token == "" {
		return &provider.Error{Code: provider.CodeFailedPrecondition, Op: "midtrans.DeactivateLink",
			Message: fmt.Sprintf("order %q ended unpaid, and Snap lets its page take a new attempt; the link's Raw holds no Snap token to cancel the page (store links as CreateLink returns them)", link.ID)}
	}
	err := p.c.CancelSnapSession(ctx, token)
	var apiErr *APIError
	if err == nil || errors.As(err, &apiErr) && apiErr.sessionGone() {
		return nil
	}
	return err
}

// payment converts a transaction to the order's payment.
func (p *Provider) payment(ctx context.Context, op string, t *Transaction) (provider.Payment, error) {
	amount, gross, err := p.amounts(t)
	if err != nil {
		return provider.Payment{}, &provider.Error{Code: provider.CodeInvalidArgument, Op: op, Message: "reading gross_amount", Err: err}
	}
	status, ok := t.PaymentStatus()
	if !ok {
		p.log.LogAttrs(ctx, slog.LevelWarn, "midtrans: status with no portable equivalent",
			slog.String("order_id", t.OrderID), slog.String("transaction_status", string(t.TransactionStatus)),
			slog.String("fraud_status", string(t.FraudStatus)))
	}
	pay := provider.Payment{
		ID:        t.OrderID,
		Provider:  p.name,
		LinkID:    t.OrderID,
		Amount:    provider.Rupiah(amount),
		Status:    status,
		RawStatus: RawStatus(t.TransactionStatus, t.FraudStatus),
		Method:    provider.PaymentMethod{Type: t.PaymentType, Bank: cmp.Or(t.Bank, t.Store, t.Issuer)},
		VANumber:  cmp.Or(t.PermataVANumber, t.BillKey),
		CreatedAt: Time(t.TransactionTime),
		Raw:       withoutSignature(t.Raw),
	}
	if len(t.VANumbers) > 0 {
		pay.Method.Bank, pay.VANumber = t.VANumbers[0].Bank, t.VANumbers[0].VANumber
	}
	if t.PermataVANumber != "" {
		pay.Method.Bank = cmp.Or(pay.Method.Bank, "permata")
	}
	if status.Final() {
		pay.CompletedAt = Time(t.SettlementTime)
	}
	if status.Returned() {
		refunded, err := t.Refunded()
		if err != nil {
			return provider.Payment{}, &provider.Error{Code: provider.CodeInvalidArgument, Op: op, Message: "reading refund_amount", Err: err}
		}
		if gross > amount {
			// refund_amount counts the imposed fee too: all of the order
			// went back once what went back covers it.
			refunded = min(refunded, amount)
		}
		pay.RefundedAmount = provider.Rupiah(refunded)
	}
	return pay, nil
}

// amounts returns the amount a payment reports (the order's) and the
// gross_amount Midtrans charged. They differ only with
// AllowFeeImposition, when gross_amount_info shows original_amount +
// customer_imposed_payment_fee = gross_amount; otherwise the amount is
// the gross_amount, so a fee or promo the app did not allow reads as an
// amount other than the link's.
func (p *Provider) amounts(t *Transaction) (amount, gross int64, err error) {
	gross, err = t.Amount()
	if err != nil {
		return 0, 0, err
	}
	if !p.fees {
		return gross, gross, nil
	}
	if info, ok := grossAmountInfo(t.Raw); ok && info.fee > 0 && info.original > 0 && info.original+info.fee == gross {
		return info.original, gross, nil
	}
	return gross, gross, nil
}

// Refund implements provider.Refunder: POST /v2/{order_id}/refund with
// params' amount (zero: all that is left), key and reason. It returns the
// order's payment as the status API shows it after the refund.
//
// Going live, Midtrans answers refunds in ways that do not read as they
// look, and Refund reads each as what it is:
//
//   - It reads the status API first. A card payment captured today
//     (capture, not settled yet) cannot be refunded (Midtrans answers
//     412); a refund of all of it cancels it instead (POST
//     /v2/{order_id}/cancel), and is reported as REFUNDED with the whole
//     amount returned: the customer paid, and everything went back, which
//     is the ladder's SUCCESSFUL → REFUNDED (CANCELLED would read as never
//     paid, and a paid payment never goes back to it). A part of a capture
//     is CodeFailedPrecondition: refund it once settled.
//   - A refund is done only when Midtrans answers status_code "200". A
//     bank that declines it is answered HTTP 200 with "202" "Refund
//     denied by the bank", refund_amount "0.00" and the status unchanged
//     (after an earlier partial refund it still reads partial_refund):
//     CodeFailedPrecondition, and nothing changes.
//   - The cumulative amount refunded is read from the status API after
//     the refund (documented cumulative), not from the refund answer's
//     refund_amount, which Midtrans documents as this refund's amount on
//     one page and as cumulative on another. A status API that does not
//     show more refunded than before is CodeUnavailable: the notification
//     of the refund, or [provider.Service.RefreshLink], brings it; do not
//     retry with another key.
//   - 414 means an invalid amount (CodeInvalidArgument), or "merchant
//     insufficient funds" (CodeUnavailable): Midtrans calls the latter
//     retriable with the same refund_key for 7 days, so retry with the
//     same params.Key.
//
// See [Client.Refund] for the other errors; an amount in a currency other
// than IDR is CodeInvalidArgument.
func (p *Provider) Refund(ctx context.Context, paymentID string, params provider.RefundParams) (*provider.Payment, error) {
	const op = "midtrans.Refund"
	if c := params.Amount.Currency; c != "" && c != provider.IDR {
		return nil, provider.Errorf(provider.CodeInvalidArgument, op, "Midtrans refunds rupiah, not %s", c)
	}
	before, err := p.c.GetStatus(ctx, paymentID)
	if err != nil {
		return nil, err
	}
	gross, err := before.Amount()
	if err != nil {
		return nil, &provider.Error{Code: provider.CodeInternal, Op: op, Message: "reading gross_amount", Err: err}
	}
	refundedBefore, err := before.Refunded()
	if err != nil {
		return nil, &provider.Error{Code: provider.CodeInternal, Op: op, Message: "reading refund_amount", Err: err}
	}
	amount := params.Amount.Amount
	if st, _ := before.PaymentStatus(); st == provider.PaymentSuccessful &&
		strings.EqualFold(strings.TrimSpace(string(before.TransactionStatus)), string(StatusCapture)) {
		return p.cancelCapture(ctx, op, before, amount)
	}
	if amount == 0 && refundedBefore > 0 {
		// Midtrans's default is the gross amount; after a partial refund
		// what is left must be named.
		amount = gross - refundedBefore
	}
	t, err := p.c.Refund(ctx, paymentID, RefundRequest{RefundKey: params.Key, Amount: amount, Reason: params.Reason})
	if err != nil {
		var apiErr *APIError
		if errors.As(err, &apiErr) && apiErr.insufficientFunds() {
			return nil, &provider.Error{Code: provider.CodeUnavailable, Op: op, Err: err,
				Message: fmt.Sprintf("Midtrans refused the refund for the merchant's insufficient balance; retry with the same refund key %q (Midtrans keeps it 7 days)", params.Key)}
		}
		return nil, err
	}
	if strings.TrimSpace(t.StatusCode) != "200" {
		// A refund the bank denied is answered "202" and leaves the
		// transaction as it was (partial_refund stays partial_refund):
		// nothing went back.
		return nil, &provider.Error{Code: provider.CodeFailedPrecondition, Op: op,
			Message: fmt.Sprintf("Midtrans did not refund (status_code %.8q, %.120q); the transaction is %s",
				t.StatusCode, t.StatusMessage, RawStatus(t.TransactionStatus, t.FraudStatus))}
	}
	after, err := p.c.GetStatus(ctx, paymentID)
	if err != nil {
		return nil, &provider.Error{Code: provider.CodeUnavailable, Op: op, Err: err,
			Message: "Midtrans accepted the refund but its status could not be read; its notification will bring it"}
	}
	refundedAfter, err := after.Refunded()
	if err != nil {
		return nil, &provider.Error{Code: provider.CodeInternal, Op: op, Message: "reading refund_amount", Err: err}
	}
	pay, err := p.payment(ctx, op, after)
	if err != nil {
		return nil, err
	}
	if refundedAfter <= refundedBefore || !pay.Status.Refund() {
		return nil, provider.Errorf(provider.CodeUnavailable, op,
			"Midtrans accepted the refund, but its status API shows %s with %d refunded (%d before); its notification will bring the refund",
			RawStatus(after.TransactionStatus, after.FraudStatus), refundedAfter, refundedBefore)
	}
	if r, err := ParseAmount(t.RefundAmount); t.RefundAmount != "" && (err != nil || r != refundedAfter-refundedBefore && r != refundedAfter) {
		p.log.LogAttrs(ctx, slog.LevelWarn, "midtrans: the refund answer's refund_amount is neither this refund nor the cumulative amount; the status API's is kept",
			slog.String("order_id", paymentID), slog.String("refund_amount", t.RefundAmount), slog.Int64("status_refund_amount", refundedAfter))
	}
	return &pay, nil
}

// cancelCapture refunds a card payment captured today, which Midtrans
// refunds only once settled, by cancelling it whole.
func (p *Provider) cancelCapture(ctx context.Context, op string, t *Transaction, amount int64) (*provider.Payment, error) {
	paid, err := p.payment(ctx, op, t)
	if err != nil {
		return nil, err
	}
	gross, _ := t.Amount()
	if amount != 0 && amount != gross && amount != paid.Amount.Amount {
		return nil, provider.Errorf(provider.CodeFailedPrecondition, op,
			"order %q is a card payment captured but not settled yet: Midtrans refunds only settled payments and can only cancel a capture whole; refund %d after settlement, or refund all of it", t.OrderID, amount)
	}
	c, err := p.c.Cancel(ctx, t.OrderID)
	if err != nil {
		return nil, err
	}
	if !strings.EqualFold(strings.TrimSpace(string(c.TransactionStatus)), string(StatusCancel)) {
		return nil, provider.Errorf(provider.CodeFailedPrecondition, op, "Midtrans answered the cancel of a capture with %s",
			RawStatus(c.TransactionStatus, c.FraudStatus))
	}
	pay, err := p.payment(ctx, op, c)
	if err != nil {
		return nil, err
	}
	pay.Status, pay.RefundedAmount = provider.PaymentRefunded, pay.Amount
	pay.CompletedAt = Time(c.TransactionTime)
	return &pay, nil
}

// RawStatus is the raw status kept with a payment: the transaction
// status, and the fraud status after a slash when there is one
// ("capture/challenge").
func RawStatus(tx TransactionStatus, fraud FraudStatus) string {
	if fraud == "" {
		return string(tx)
	}
	return string(tx) + "/" + string(fraud)
}

// ParseCallback verifies a notification's signature_key with the server
// key (in constant time; every notification is refused when no key is
// configured) after checking its status_code and gross_amount (see
// [DecodeNotification]), and returns it as an event. Event.Raw and
// Payment.Raw are the body without its signature_key member, every other
// byte as received.
//
// The event reports what the notification says. A signature does not
// cover the status, so the Provider is [provider.UnsignedCallbacks]: the
// Service confirms the event with the status API ([Provider.GetPayment])
// before it changes a payment.
//
// A refund or chargeback (partial or full) carries the cumulative
// refund_amount, parsed exactly, as Payment.RefundedAmount. A status with
// no portable equivalent (one Midtrans adds later) is not an error: the
// payment has Status "" and RawStatus set, so the caller records and
// flags it and still answers 200.
func (p *Provider) ParseCallback(ctx context.Context, r *http.Request) (*provider.Event, error) {
	const op = "midtrans.ParseCallback"
	t, _, err := ParseNotification(r, p.c.key, p.maxBytes)
	if err != nil {
		return nil, err
	}
	return p.event(ctx, op, t)
}

// DecodeCallback implements provider.CallbackDecoder: it decodes the body
// of a notification verified earlier, as ParseCallback returned it in
// Event.Raw (without signature_key), checking its status_code and
// gross_amount again but not its signature.
func (p *Provider) DecodeCallback(ctx context.Context, body []byte) (*provider.Event, error) {
	const op = "midtrans.DecodeCallback"
	t, err := DecodeNotification(body)
	if err != nil {
		return nil, err
	}
	return p.event(ctx, op, t)
}

// event makes the event of a notification t, without its signature.
func (p *Provider) event(ctx context.Context, op string, t *Transaction) (*provider.Event, error) {
	pay, err := p.payment(ctx, op, t)
	if err != nil {
		return nil, err
	}
	if pay.Raw == nil {
		return nil, fmt.Errorf("%w: %s: the body is not one JSON object", ErrMalformedNotification, op)
	}
	return &provider.Event{Provider: p.name, Payment: pay, Source: provider.SourceCallback, Raw: pay.Raw, ReceivedAt: p.now()}, nil
}

// RedactCallback implements provider.CallbackRedactor: signature_key is
// only a hash, but a hash of the server key, so a person is not shown it.
// Bodies the Provider returns no longer hold it; bodies stored before it
// removed the member may.
func (p *Provider) RedactCallback(body []byte) []byte {
	return provider.RedactFields(body, func(name string) bool { return name == "signature_key" })
}
