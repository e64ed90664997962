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
	// MaxCallbackBytes caps a callback body; default DefaultMaxCallbackBytes.
	MaxCallbackBytes int64
}

// Provider is Flip as a [provider.Provider]. It also edits, deactivates
// and lists links' payments, and checks its callback configuration.
type Provider struct {
	c        *Client
	name     string
	token    string
	maxBytes int64
}

// Compile-time checks of the capabilities Provider offers.
var (
	_ provider.Provider        = (*Provider)(nil)
	_ provider.LinkEditor      = (*Provider)(nil)
	_ provider.LinkDeactivator = (*Provider)(nil)
	_ provider.PaymentLister   = (*Provider)(nil)
	_ provider.CallbackChecker = (*Provider)(nil)
)

// listPageSize is the page size used to read all payments; maxPages stops
// a server that never runs out of pages.
const (
	listPageSize = 100
	maxPages     = 10000
)

// NewProvider returns a Provider calling Flip through c. It panics if c is
// nil, which is a programming error.
func NewProvider(c *Client, opts ProviderOptions) *Provider {
	if c == nil {
		panic("flip.NewProvider: nil *Client")
	}
	p := &Provider{c: c, name: cmp.Or(opts.Name, "flip"), token: opts.CallbackToken, maxBytes: opts.MaxCallbackBytes}
	if p.maxBytes <= 0 {
		p.maxBytes = DefaultMaxCallbackBytes
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
	if !tokenConfigured(p.token) {
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
	if l.Customer == (provider.Customer{}) {
		l.Customer = params.Customer
	}
	if l.Method.IsZero() {
		l.Method = params.Method
	}
	l.IdempotencyKey = params.IdempotencyKey
	return l, nil
}

// GetLink reads a bill.
func (p *Provider) GetLink(ctx context.Context, id string) (*provider.Link, error) {
	b, err := p.c.GetBill(ctx, id)
	if err != nil {
		return nil, err
	}
	return p.link(b), nil
}

// EditLink edits a bill; nil fields stay as they are.
func (p *Provider) EditLink(ctx context.Context, id string, params provider.EditLinkParams) (*provider.Link, error) {
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
	b, err := p.c.EditBill(ctx, id, ep)
	if err != nil {
		return nil, err
	}
	return p.link(b), nil
}

// DeactivateLink sets a bill INACTIVE.
func (p *Provider) DeactivateLink(ctx context.Context, id string) (*provider.Link, error) {
	b, err := p.c.EditBill(ctx, id, EditBillParams{Status: new(BillInactive)})
	if err != nil {
		return nil, err
	}
	return p.link(b), nil
}

// ListLinkPayments reads every page of a bill's payments. Flip has been
// seen answering 422 VALIDATION_ERROR for a bill without payments; that
// answer gives an empty list when the bill exists (checked with Get Bill),
// and Get Bill's error otherwise.
func (p *Provider) ListLinkPayments(ctx context.Context, linkID string) ([]provider.Payment, error) {
	out := []provider.Payment{}
	seen := map[ID]bool{}
	for page := 1; page <= maxPages; page++ {
		pg, err := p.c.ListBillPayments(ctx, linkID, PaymentQuery{Page: page, Pagination: listPageSize})
		if err != nil {
			if page == 1 && isNoPaymentsAnswer(err) {
				if _, gerr := p.c.GetBill(ctx, linkID); gerr != nil {
					return nil, gerr
				}
				return out, nil
			}
			return nil, err
		}
		for i := range pg.Data {
			if seen[pg.Data[i].ID] {
				continue
			}
			seen[pg.Data[i].ID] = true
			out = append(out, p.payment(ctx, &pg.Data[i], linkID))
		}
		if len(pg.Data) == 0 || page >= pg.TotalPage {
			break
		}
	}
	return out, nil
}

// isNoPaymentsAnswer reports whether err is Flip's 422 VALIDATION_ERROR
// that is not about a missing, expired or used link.
func isNoPaymentsAnswer(err error) bool {
	var apiErr *APIError
	return errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusUnprocessableEntity &&
		strings.EqualFold(apiErr.Code, "VALIDATION_ERROR") && apiErr.ErrorCode() == provider.CodeInvalidArgument
}

// ListPayments reads the payments of every bill, all pages, up to
// params.Limit. Dates are whole days in Asia/Jakarta, both inclusive; the
// result is filtered by created_at so it does not depend on how Flip reads
// end_date. Flip's payment list does not always name the bill, so LinkID
// may be empty.
func (p *Provider) ListPayments(ctx context.Context, params provider.ListPaymentsParams) ([]provider.Payment, error) {
	q := PaymentQuery{Pagination: listPageSize}
	var from, until time.Time // inclusive start, exclusive end, both midnight WIB
	if !params.From.IsZero() {
		from = midnight(params.From)
		q.StartDate = from
	}
	if !params.To.IsZero() {
		until = midnight(params.To).AddDate(0, 0, 1)
		q.EndDate = midnight(params.To)
		if !from.IsZero() && !q.EndDate.After(from) {
			q.EndDate = from.AddDate(0, 0, 1) // Flip wants end_date > start_date
		}
	}
	switch params.Order {
	case provider.SortAscending:
		q.SortBy, q.SortType = SortByCreatedAt, SortAsc
	case provider.SortDescending:
		q.SortBy, q.SortType = SortByCreatedAt, SortDesc
	}
	out := []provider.Payment{}
	seen := map[ID]bool{}
	for page := 1; page <= maxPages; page++ {
		q.Page = page
		pg, err := p.c.ListPayments(ctx, q)
		if err != nil {
			return nil, err
		}
		for i := range pg.Data {
			fp := &pg.Data[i]
			if seen[fp.ID] {
				continue
			}
			seen[fp.ID] = true
			if t := fp.CreatedAt.Time; !t.IsZero() && (!from.IsZero() && t.Before(from) || !until.IsZero() && !t.Before(until)) {
				continue
			}
			out = append(out, p.payment(ctx, fp, ""))
			if params.Limit > 0 && len(out) >= params.Limit {
				return out, nil
			}
		}
		if len(pg.Data) == 0 || page >= pg.TotalPage {
			break
		}
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

// ParseCallback verifies a callback with the configured token (see
// [ParseCallback]) and returns it as an event. Event.Raw is the request
// body as received minus its token field (see [RedactToken]), so storing
// it never stores the secret; Payment.Raw is the data JSON.
func (p *Provider) ParseCallback(ctx context.Context, r *http.Request) (*provider.Event, error) {
	cb, body, err := parseCallback(r, p.token, p.maxBytes)
	if err != nil {
		return nil, err
	}
	status, _ := MapPaymentStatus(cb.Status) // parseCallback accepts mapped statuses only
	return &provider.Event{
		Provider:   p.name,
		Source:     provider.SourceCallback,
		Raw:        RedactToken(body),
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
	}, nil
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

// payment converts a listed payment. A status missing from the table
// becomes PENDING (which never triggers a transition) and is logged;
// RawStatus keeps Flip's string.
func (p *Provider) payment(ctx context.Context, fp *Payment, linkID string) provider.Payment {
	status, ok := fp.Status.Portable()
	if !ok {
		status = provider.PaymentPending
		p.c.log.LogAttrs(ctx, slog.LevelWarn, "flip: unknown payment status, treated as PENDING",
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
	}
}

// checkRupiah refuses amounts in another currency.
func checkRupiah(op string, m provider.Money) error {
	if m.Currency == "" || m.Currency == provider.IDR {
		return nil
	}
	return &provider.Error{Code: provider.CodeInvalidArgument, Op: op, Message: "invalid parameters",
		Fields: []provider.FieldError{{Field: "amount", Rule: "currency", Message: "must be in IDR, not " + string(m.Currency)}}}
}
