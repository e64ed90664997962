package flip

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/paylinkgo/paylink/provider"
)

// ProviderOptions configures a [Provider]. The zero value is usable but
// refuses every callback until CallbackToken is set.
type ProviderOptions struct {
	// Name is the provider's name in links, payments and events; default
	// "flip". Give two accounts in one process two names.
	Name string
	// CallbackToken is the validation token from Flip's dashboard. Empty
	// (or only white space) means every callback is refused (fail closed).
	CallbackToken string
	// PreviousCallbackToken is accepted too while it is not blank: the
	// token being retired during a rotation, so that callbacks Flip made
	// with it before the switch (and retries of them) are not lost. Each accepted
	// callback is logged with the token it matched ("current" or
	// "previous") while it is set; clear it once the previous token stops
	// appearing. It never stands in for CallbackToken: without that, every
	// callback is still refused. See docs/callbacks-and-security.md.
	PreviousCallbackToken string
	// MaxCallbackBytes caps a callback body; default DefaultMaxCallbackBytes.
	MaxCallbackBytes int64
	// PageSize is the number of payments asked per page when reading
	// payment lists (Flip's pagination parameter). 0 leaves the page size
	// to Flip; a size Flip refuses is dropped for Flip's default.
	PageSize int
	// Logger receives the provider's records (unknown statuses, fields
	// that could not be read, which callback token matched). The default
	// is the client's logger.
	Logger *slog.Logger
}

// Provider is Flip as a [provider.Provider]. It also edits, deactivates
// and finds links, lists links' payments, and checks its callback
// configuration.
type Provider struct {
	c        *Client
	name     string
	verifier CallbackVerifier
	pageSize int
	log      *slog.Logger
}

// Compile-time checks of the capabilities Provider offers.
var (
	_ provider.Provider         = (*Provider)(nil)
	_ provider.LinkEditor       = (*Provider)(nil)
	_ provider.LinkDeactivator  = (*Provider)(nil)
	_ provider.PaymentLister    = (*Provider)(nil)
	_ provider.PaymentGetter    = (*Provider)(nil)
	_ provider.LinkFinder       = (*Provider)(nil)
	_ provider.CallbackChecker  = (*Provider)(nil)
	_ provider.CallbackDecoder  = (*Provider)(nil)
	_ provider.CallbackRedactor = (*Provider)(nil)
)

// maxPages stops a server that never runs out of pages.
const maxPages = 10000

// NewProvider returns a Provider calling Flip through c. It panics if c is
// nil, which is a programming error.
func NewProvider(c *Client, opts ProviderOptions) *Provider {
	if c == nil {
		panic("flip.NewProvider: nil *Client")
	}
	p := &Provider{
		c:    c,
		name: cmp.Or(opts.Name, "flip"),
		verifier: CallbackVerifier{
			Token:         opts.CallbackToken,
			PreviousToken: opts.PreviousCallbackToken,
			MaxBytes:      cmp.Or(max(opts.MaxCallbackBytes, 0), DefaultMaxCallbackBytes),
		},
		pageSize: max(opts.PageSize, 0),
		log:      cmp.Or(opts.Logger, c.log),
	}
	return p
}

// Name returns the provider's name.
func (p *Provider) Name() string { return p.name }

// Client returns the underlying client, for the endpoints the portable
// interface does not cover.
func (p *Provider) Client() *Client { return p.c }

// String describes the provider without its token or key.
func (p *Provider) String() string {
	return fmt.Sprintf("flip.Provider{name: %s, client: %s}", p.name, p.c)
}

// GoString is String, so that %#v never prints the token either.
func (p *Provider) GoString() string { return p.String() }

// CheckCallbackConfig returns an error (matching ErrTokenNotConfigured)
// when no callback token is configured, or only white space.
func (p *Provider) CheckCallbackConfig() error {
	if !tokenConfigured(p.verifier.Token) {
		return fmt.Errorf("provider %q: %w", p.name, ErrTokenNotConfigured)
	}
	return nil
}

// CreateLink creates a bill. Type defaults to SINGLE and Step to 1; the
// customer is sent (as sender_*) from step 2 on and the method from step 3.
// Amounts must be in IDR. The idempotency key is not sent: Flip has none
// for bills, so the caller's store must keep it.
func (p *Provider) CreateLink(ctx context.Context, params provider.CreateLinkParams) (*provider.Link, error) {
	const op = "flip.CreateLink"
	if err := checkRupiah(op, params.Amount); err != nil {
		return nil, err
	}
	bp := CreateBillParams{
		Title:                 params.Title,
		Type:                  BillType(cmp.Or(params.Type, provider.LinkSingle)),
		Amount:                params.Amount.Amount,
		ExpiredDate:           params.ExpiresAt,
		RedirectURL:           params.RedirectURL,
		IsAddressRequired:     params.RequireAddress,
		IsPhoneNumberRequired: params.RequirePhone,
		Step:                  Step(cmp.Or(params.Step, provider.StepInputData)),
	}
	if bp.Step >= StepPaymentMethod {
		bp.SenderName = params.Customer.Name
		bp.SenderEmail = params.Customer.Email
		bp.SenderPhoneNumber = params.Customer.Phone
		bp.SenderAddress = params.Customer.Address
	}
	if bp.Step == StepConfirmation {
		bp.SenderBank = params.Method.Bank
		bp.SenderBankType = BankType(params.Method.Type)
	}
	b, err := p.c.CreateBill(ctx, bp)
	if err != nil {
		return nil, err
	}
	l := p.link(b)
	if l.Step == 0 {
		l.Step = provider.Step(bp.Step)
	}
	// Flip echoes only some of the customer (the step-2 sample answers
	// address and phone as null): fill what it left out from the request.
	l.Customer.Name = cmp.Or(l.Customer.Name, params.Customer.Name)
	l.Customer.Email = cmp.Or(l.Customer.Email, params.Customer.Email)
	l.Customer.Phone = cmp.Or(l.Customer.Phone, params.Customer.Phone)
	l.Customer.Address = cmp.Or(l.Customer.Address, params.Customer.Address)
	if l.Method.IsZero() {
		l.Method = params.Method
	}
	l.IdempotencyKey = params.IdempotencyKey
	return l, nil
}

// GetLink reads a bill by link.ID (Flip reads every bill by its id; Raw
// is not needed).
func (p *Provider) GetLink(ctx context.Context, link *provider.Link) (*provider.Link, error) {
	b, err := p.c.GetBill(ctx, link.ID)
	if err != nil {
		return nil, err
	}
	return p.link(b), nil
}

// EditLink edits the bill link.ID; nil fields stay as they are.
func (p *Provider) EditLink(ctx context.Context, link *provider.Link, params provider.EditLinkParams) (*provider.Link, error) {
	const op = "flip.EditLink"
	var ep EditBillParams
	ep.Title = params.Title
	if params.Type != nil {
		ep.Type = new(BillType(*params.Type))
	}
	if params.Amount != nil {
		if err := checkRupiah(op, *params.Amount); err != nil {
			return nil, err
		}
		ep.Amount = new(params.Amount.Amount)
	}
	ep.ExpiredDate = params.ExpiresAt
	ep.RedirectURL = params.RedirectURL
	if params.Status != nil {
		ep.Status = new(BillStatus(*params.Status))
	}
	ep.IsAddressRequired = params.RequireAddress
	ep.IsPhoneNumberRequired = params.RequirePhone
	b, err := p.c.EditBill(ctx, link.ID, ep)
	if err != nil {
		return nil, err
	}
	return p.link(b), nil
}

// DeactivateLink sets the bill link.ID INACTIVE.
func (p *Provider) DeactivateLink(ctx context.Context, link *provider.Link) (*provider.Link, error) {
	b, err := p.c.EditBill(ctx, link.ID, EditBillParams{Status: new(BillInactive)})
	if err != nil {
		return nil, err
	}
	return p.link(b), nil
}

// FindLinks implements provider.LinkFinder over Get All Bills, which
// answers every bill of the account at once: it returns the bills whose
// title, type and amount are q's ([provider.LinkQuery.Matches]). Flip's
// bills carry no creation time, so q.CreatedFrom selects nothing here: a
// bill made for the same title, type and amount long ago is found too,
// and the caller (provider.Service) tells them apart by what its store
// already holds. Amounts must be in IDR.
func (p *Provider) FindLinks(ctx context.Context, q provider.LinkQuery) ([]provider.Link, error) {
	if err := checkRupiah("flip.FindLinks", q.Amount); err != nil {
		return nil, err
	}
	bills, err := p.c.ListBills(ctx)
	if err != nil {
		return nil, err
	}
	out := []provider.Link{}
	for i := range bills {
		if l := p.link(&bills[i]); l.ID != "" && q.Matches(l) {
			out = append(out, *l)
		}
	}
	return out, nil
}

// ListLinkPayments reads every page of the payments of the bill link.ID.
//
// Flip has been seen answering Get Payment of a bill that has no payment
// yet with 422 and code 1050 or 1043 ("Product Bill Link ID Not Found"),
// the same answer as for a bill that does not exist. On that answer, and
// only on it, the bill is read: when it exists the list is empty,
// otherwise Get Bill's error is returned. Any other 422 is returned as it
// came.
func (p *Provider) ListLinkPayments(ctx context.Context, link *provider.Link) ([]provider.Payment, error) {
	linkID := link.ID
	out := []provider.Payment{}
	q := PaymentQuery{Pagination: p.pageSize}
	list := func(q PaymentQuery) (*PaymentPage, error) { return p.c.ListBillPayments(ctx, linkID, q) }
	pages, err := p.eachPayment(ctx, list, q, func(fp *Payment) bool {
		if pay, ok := p.payment(ctx, fp, linkID); ok {
			out = append(out, pay)
		}
		return false
	})
	if err != nil {
		if pages == 0 && isNoPaymentsAnswer(err) {
			if _, gerr := p.c.GetBill(ctx, linkID); gerr != nil {
				return nil, gerr
			}
			return out, nil
		}
		return nil, err
	}
	return out, nil
}

// GetPayment implements provider.PaymentGetter: it reads one payment of
// the bill link.ID (Raw is not needed), for the confirmation of a
// callback. Flip has no endpoint for one
// payment, so it reads Get Payment of the bill newest first
// (sort_by=created_at, sort_type=sort_desc) and stops at the first page
// that holds paymentID: the payment a callback is about is nearly always
// among the newest, so confirming it costs one request however many
// payments the bill has. A payment further back costs one request per
// page up to its own; one the bill does not show costs every page (as
// ListLinkPayments does) and is CodeNotFound. An unknown bill gives Get
// Bill's error, as ListLinkPayments does. The payment is the one
// ListLinkPayments would list.
//
// If Flip refuses the sort parameters on the first page, they are dropped
// (and logged) and the pages are read in Flip's default order, at the
// cost of ListLinkPayments.
func (p *Provider) GetPayment(ctx context.Context, link *provider.Link, paymentID string) (*provider.Payment, error) {
	const op = "flip.GetPayment"
	linkID := link.ID
	if _, err := pathID(op, "payment_id", paymentID); err != nil {
		return nil, err
	}
	q := PaymentQuery{Pagination: p.pageSize, SortBy: SortByCreatedAt, SortType: SortDesc}
	sorted := true
	list := func(q PaymentQuery) (*PaymentPage, error) {
		if !sorted {
			q.SortBy, q.SortType = "", ""
		}
		pg, err := p.c.ListBillPayments(ctx, linkID, q)
		if err != nil && sorted && q.Page == 1 && (refusesParam(err, "sort_by") || refusesParam(err, "sort_type")) {
			// Only on the first page: changing the order later could
			// skip a payment.
			p.log.LogAttrs(ctx, slog.LevelWarn, "flip: payment sort refused, reading in Flip's default order",
				slog.String("link_id", linkID), slog.String("error", err.Error()))
			sorted = false
			q.SortBy, q.SortType = "", ""
			pg, err = p.c.ListBillPayments(ctx, linkID, q)
		}
		return pg, err
	}
	var found *provider.Payment
	pages, err := p.eachPayment(ctx, list, q, func(fp *Payment) bool {
		if string(fp.ID) != paymentID {
			return false
		}
		if pay, ok := p.payment(ctx, fp, linkID); ok {
			found = &pay
		}
		return true
	})
	if err != nil {
		if pages > 0 || !isNoPaymentsAnswer(err) {
			return nil, err
		}
		if _, gerr := p.c.GetBill(ctx, linkID); gerr != nil {
			return nil, gerr
		}
	}
	if found == nil {
		return nil, provider.Errorf(provider.CodeNotFound, op, "bill %q has no payment %q", linkID, paymentID)
	}
	return found, nil
}

// eachPayment reads a payment list page after page, calling fn once per
// payment id (a payment repeated on a later page is skipped) until fn
// returns true or the list ends: at total_page, at an empty page, or, when
// Flip did not say how many pages there are, at a page with nothing new.
// A page size Flip refuses (a 422 on pagination) is dropped for Flip's
// default. It returns how many pages it read.
func (p *Provider) eachPayment(ctx context.Context, list func(PaymentQuery) (*PaymentPage, error), q PaymentQuery, fn func(*Payment) bool) (int, error) {
	seen := map[ID]bool{}
	for page := 1; page <= maxPages; page++ {
		q.Page = page
		pg, err := list(q)
		if err != nil && q.Pagination > 0 && refusesParam(err, "pagination") {
			p.log.LogAttrs(ctx, slog.LevelWarn, "flip: page size refused, using Flip's default",
				slog.Int("pagination", q.Pagination), slog.String("error", err.Error()))
			q.Pagination = 0
			pg, err = list(q)
		}
		if err != nil {
			return page - 1, err
		}
		if len(pg.Problems) > 0 {
			p.log.LogAttrs(ctx, slog.LevelWarn, "flip: payment list has fields that could not be read",
				slog.Int("page", page), slog.String("problems", problemsText(pg.Problems)))
		}
		fresh := 0
		for i := range pg.Data {
			if id := pg.Data[i].ID; id != "" {
				if seen[id] {
					continue
				}
				seen[id] = true
			}
			fresh++
			if fn(&pg.Data[i]) {
				return page, nil
			}
		}
		if fresh == 0 || pg.TotalPage > 0 && page >= pg.TotalPage {
			return page, nil
		}
	}
	return maxPages, nil
}

// isNoPaymentsAnswer reports whether err is the answer Flip gives to Get
// Payment of a bill without payments: 422 with code 1050 or 1043. Flip
// gives the same answer for an unknown bill, so the caller must check
// that the bill exists.
func isNoPaymentsAnswer(err error) bool {
	apiErr, ok := errors.AsType[*APIError](err)
	if !ok || apiErr.StatusCode != http.StatusUnprocessableEntity {
		return false
	}
	for _, f := range apiErr.Errors {
		if f.Code == codeLinkNotFound || f.Code == codeLinkIDNotFound {
			return true
		}
	}
	return false
}

// refusesParam reports whether err is Flip's 422 refusing the parameter name.
func refusesParam(err error, name string) bool {
	apiErr, ok := errors.AsType[*APIError](err)
	if !ok || apiErr.StatusCode != http.StatusUnprocessableEntity {
		return false
	}
	for _, f := range apiErr.Errors {
		if strings.EqualFold(f.Attribute, name) {
			return true
		}
	}
	return false
}

// ListPayments reads the payments of every bill, all pages, up to
// params.Limit. Dates are whole days in Asia/Jakarta, both inclusive:
// end_date is sent as the day after To, so the last day is read whole
// however Flip bounds end_date, and the result is filtered by created_at.
// Flip's payment list does not always name the bill, so LinkID may be
// empty.
func (p *Provider) ListPayments(ctx context.Context, params provider.ListPaymentsParams) ([]provider.Payment, error) {
	const op = "flip.ListPayments"
	q := PaymentQuery{Pagination: p.pageSize}
	var from, until time.Time // inclusive start, exclusive end, both midnight WIB
	if !params.From.IsZero() {
		from = midnight(params.From)
		q.StartDate = from
	}
	if !params.To.IsZero() {
		until = midnight(params.To).AddDate(0, 0, 1)
		q.EndDate = until
		if !from.IsZero() && !until.After(from) {
			return nil, &provider.Error{Code: provider.CodeInvalidArgument, Op: op, Message: "invalid parameters",
				Fields: []provider.FieldError{{Field: "to", Rule: "gtefield", Message: "must not be before from"}}}
		}
	}
	switch params.Order {
	case provider.SortAscending:
		q.SortBy, q.SortType = SortByCreatedAt, SortAsc
	case provider.SortDescending:
		q.SortBy, q.SortType = SortByCreatedAt, SortDesc
	}
	out := []provider.Payment{}
	list := func(q PaymentQuery) (*PaymentPage, error) { return p.c.ListPayments(ctx, q) }
	_, err := p.eachPayment(ctx, list, q, func(fp *Payment) bool {
		if t := fp.CreatedAt.Time; !t.IsZero() && (!from.IsZero() && t.Before(from) || !until.IsZero() && !t.Before(until)) {
			return false
		}
		if pay, ok := p.payment(ctx, fp, ""); ok {
			out = append(out, pay)
		}
		return params.Limit > 0 && len(out) >= params.Limit
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// midnight returns the start of t's day in Asia/Jakarta.
func midnight(t time.Time) time.Time {
	y, m, d := t.In(jakarta()).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, jakarta())
}

// CallbackMediaType implements provider.CallbackMediaTyper: Flip's
// callbacks are form-encoded.
func (p *Provider) CallbackMediaType() string { return "application/x-www-form-urlencoded" }

// ParseCallback verifies a callback with the configured token, or the
// previous one during a rotation (see [CallbackVerifier.Parse]), and
// returns it as an event. Event.Raw is the request body as received minus
// its token field (see [RedactToken]), so storing it never stores the
// secret; Payment.Raw is the data JSON.
//
// A status outside [StatusMappings] is not an error: the event has
// Payment.Status "" (no portable status) and Payment.RawStatus holding
// Flip's string, so that the caller can record and flag it and still
// answer 200; refusing it would make Flip retry five times and then drop
// the payment.
func (p *Provider) ParseCallback(ctx context.Context, r *http.Request) (*provider.Event, error) {
	cb, body, err := p.verifier.parse(r)
	if err != nil {
		return nil, err
	}
	if tokenConfigured(p.verifier.PreviousToken) {
		// A rotation is under way: say which token each callback used, so
		// an operator sees when the previous one stops appearing.
		p.log.LogAttrs(ctx, slog.LevelInfo, "flip: callback token matched",
			slog.String("provider", p.name), slog.String("token", string(cb.MatchedToken)), slog.String("payment_id", cb.ID))
	}
	return p.event(ctx, cb, RedactToken(body)), nil
}

// DecodeCallback implements provider.CallbackDecoder: it decodes the body
// of a callback verified earlier, as ParseCallback returned it in
// Event.Raw (the token already removed), without checking a token. A body
// without a data field, or whose data is not a callback, is
// CodeInvalidArgument.
func (p *Provider) DecodeCallback(ctx context.Context, body []byte) (*provider.Event, error) {
	form, err := parseBody(body)
	if err != nil {
		return nil, err
	}
	data := form.Get("data")
	if strings.TrimSpace(data) == "" {
		return nil, fmt.Errorf("%w: no data field", ErrMalformedCallback)
	}
	cb, err := decodeCallback([]byte(data))
	if err != nil {
		return nil, err
	}
	return p.event(ctx, cb, RedactToken(body)), nil
}

// RedactCallback implements provider.CallbackRedactor: the token field
// goes (see [RedactToken]); data holds no secret.
func (p *Provider) RedactCallback(body []byte) []byte { return RedactToken(body) }

// event turns a decoded callback into an event whose Raw is body.
func (p *Provider) event(ctx context.Context, cb *Callback, body []byte) *provider.Event {
	if len(cb.Problems) > 0 {
		p.log.LogAttrs(ctx, slog.LevelWarn, "flip: callback has fields that could not be read",
			slog.String("payment_id", cb.ID), slog.String("problems", problemsText(cb.Problems)))
	}
	status, ok := cb.PaymentStatus()
	if !ok {
		status = ""
		p.log.LogAttrs(ctx, slog.LevelWarn, "flip: callback with an unknown status",
			slog.String("payment_id", cb.ID), slog.String("status", cb.Status))
	}
	return &provider.Event{
		Provider:   p.name,
		Source:     provider.SourceCallback,
		Raw:        body,
		ReceivedAt: time.Now(),
		Payment: provider.Payment{
			ID:        cb.ID,
			Provider:  p.name,
			LinkID:    string(cb.BillLinkID),
			Amount:    provider.Rupiah(cb.Amount),
			Status:    status,
			RawStatus: cb.Status,
			Sender:    provider.Customer{Name: cb.SenderName, Email: cb.SenderEmail},
			Method:    provider.PaymentMethod{Bank: cb.SenderBank, Type: cb.SenderBankType},
			CreatedAt: cb.CreatedAt,
			Raw:       cb.Raw,
		},
	}
}

// link converts a bill.
func (p *Provider) link(b *Bill) *provider.Link {
	bank, typ := b.Method()
	l := &provider.Link{
		ID:          string(b.LinkID),
		Provider:    p.name,
		URL:         b.LinkURL,
		Title:       b.Title,
		Type:        provider.LinkType(b.Type),
		Amount:      provider.Rupiah(b.Amount),
		Status:      provider.LinkStatus(b.Status),
		ExpiresAt:   b.ExpiredDate.Time,
		Step:        provider.Step(b.Step),
		Method:      provider.PaymentMethod{Bank: bank, Type: string(typ)},
		PaymentURL:  b.PaymentURL,
		RedirectURL: b.RedirectURL,
		Raw:         b.Raw,
	}
	if c := b.Customer; c != nil {
		l.Customer = provider.Customer{Name: c.Name, Email: c.Email, Phone: c.Phone, Address: c.Address}
	}
	return l
}

// payment converts a listed payment; ok is false for a payment without
// an id, which cannot be told apart from any other and is skipped (and
// logged). A status missing from the table becomes PENDING (which never
// triggers a transition) and is logged; RawStatus keeps Flip's string.
// Fields Flip sent that could not be read are logged; an unreadable
// amount reads as 0, which never settles a link.
func (p *Provider) payment(ctx context.Context, fp *Payment, linkID string) (provider.Payment, bool) {
	if fp.ID == "" {
		p.log.LogAttrs(ctx, slog.LevelWarn, "flip: skipped a listed payment without an id",
			slog.String("link_id", cmp.Or(linkID, string(fp.LinkID))), slog.String("raw", snippet(fp.Raw)))
		return provider.Payment{}, false
	}
	if len(fp.Problems) > 0 {
		p.log.LogAttrs(ctx, slog.LevelWarn, "flip: listed payment has fields that could not be read",
			slog.String("payment_id", string(fp.ID)), slog.String("problems", problemsText(fp.Problems)))
	}
	status, ok := fp.Status.Portable()
	if !ok {
		status = provider.PaymentPending
		p.log.LogAttrs(ctx, slog.LevelWarn, "flip: unknown payment status, treated as PENDING",
			slog.String("payment_id", string(fp.ID)), slog.String("status", string(fp.Status)))
	}
	return provider.Payment{
		ID:          string(fp.ID),
		Provider:    p.name,
		LinkID:      cmp.Or(linkID, string(fp.LinkID)),
		Amount:      provider.Rupiah(fp.Amount),
		Status:      status,
		RawStatus:   string(fp.Status),
		Sender:      provider.Customer{Name: fp.SenderName, Email: fp.SenderEmail},
		Method:      provider.PaymentMethod{Bank: fp.SenderBank, Type: string(fp.SenderBankType)},
		VANumber:    fp.VirtualAccountNumber,
		PaymentURL:  fp.PaymentURL,
		CreatedAt:   fp.CreatedAt.Time,
		CompletedAt: fp.CompletedAt.Time,
		Raw:         fp.Raw,
	}, true
}

// problemsText lists field problems on one line, for a log.
func problemsText(ps []FieldProblem) string {
	parts := make([]string, len(ps))
	for i, pr := range ps {
		parts[i] = pr.Field + "=" + pr.Value + " (" + pr.Err.Error() + ")"
	}
	return strings.Join(parts, "; ")
}

// checkRupiah refuses amounts in another currency.
func checkRupiah(op string, m provider.Money) error {
	if m.Currency == "" || m.Currency == provider.IDR {
		return nil
	}
	return &provider.Error{Code: provider.CodeInvalidArgument, Op: op, Message: "invalid parameters",
		Fields: []provider.FieldError{{Field: "amount", Rule: "currency", Message: "must be in IDR, not " + string(m.Currency)}}}
}
