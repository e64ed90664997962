package providertest

import (
	"bytes"
	"cmp"
	"context"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/paylinkgo/paylink/provider"
)

// CallbackTokenHeader carries the shared secret on MemProvider callbacks.
const CallbackTokenHeader = "X-Callback-Token"

// MemProvider is an in-memory [provider.Provider]: the reference
// implementation of the Provider contract, and a stand-in gateway for apps
// that want to run without Flip. Its callbacks are JSON bodies (a
// [provider.Payment]) with the token in the X-Callback-Token header.
type MemProvider struct {
	name  string
	token string
	now   func() time.Time

	mu       sync.Mutex
	seq      int
	links    map[string]*provider.Link
	payments map[string][]provider.Payment
	refunds  map[string]bool // payment id \x00 refund key
}

var (
	_ provider.Provider           = (*MemProvider)(nil)
	_ provider.LinkEditor         = (*MemProvider)(nil)
	_ provider.LinkDeactivator    = (*MemProvider)(nil)
	_ provider.PaymentLister      = (*MemProvider)(nil)
	_ provider.LinkFinder         = (*MemProvider)(nil)
	_ provider.CallbackChecker    = (*MemProvider)(nil)
	_ provider.CallbackMediaTyper = (*MemProvider)(nil)
	_ provider.Refunder           = (*MemProvider)(nil)
	_ provider.CallbackDecoder    = (*MemProvider)(nil)
	_ provider.CallbackRedactor   = (*MemProvider)(nil)
)

// NewMemProvider returns an empty provider called name whose callbacks
// must carry token. An empty token refuses every callback.
func NewMemProvider(name, token string) *MemProvider {
	return &MemProvider{name: name, token: token, now: time.Now, links: map[string]*provider.Link{},
		payments: map[string][]provider.Payment{}, refunds: map[string]bool{}}
}

// Name implements provider.Provider.
func (m *MemProvider) Name() string { return m.name }

// CheckCallbackConfig implements provider.CallbackChecker.
func (m *MemProvider) CheckCallbackConfig() error {
	if m.token == "" {
		return provider.Errorf(provider.CodeFailedPrecondition, m.name+".CheckCallbackConfig", "no callback token configured")
	}
	return nil
}

// CallbackMediaType implements provider.CallbackMediaTyper: callbacks are JSON.
func (m *MemProvider) CallbackMediaType() string { return "application/json" }

// CreateLink implements provider.Provider.
func (m *MemProvider) CreateLink(ctx context.Context, p provider.CreateLinkParams) (*provider.Link, error) {
	op := m.name + ".CreateLink"
	if p.Title == "" {
		return nil, &provider.Error{Code: provider.CodeInvalidArgument, Op: op, Message: "invalid link",
			Fields: []provider.FieldError{{Field: "title", Rule: "required", Message: "title is required"}}}
	}
	if p.Amount.Amount < 0 {
		return nil, &provider.Error{Code: provider.CodeInvalidArgument, Op: op, Message: "invalid link",
			Fields: []provider.FieldError{{Field: "amount", Rule: "min", Message: "amount must not be negative"}}}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.seq++
	id := strconv.Itoa(m.seq)
	l := &provider.Link{
		ID: id, Provider: m.name, URL: "https://pay.invalid/" + m.name + "/" + id, Title: p.Title,
		Type: cmp.Or(p.Type, provider.LinkSingle), Amount: p.Amount, Status: provider.LinkActive,
		ExpiresAt: p.ExpiresAt, Step: cmp.Or(p.Step, provider.StepInputData), Customer: p.Customer,
		Method: p.Method, RedirectURL: p.RedirectURL, CreatedAt: m.now(),
	}
	if l.Amount.Currency == "" {
		l.Amount.Currency = provider.IDR
	}
	m.links[id] = l
	c := *l
	return &c, nil
}

// GetLink implements provider.Provider: the link it holds under link.ID.
func (m *MemProvider) GetLink(ctx context.Context, link *provider.Link) (*provider.Link, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	l, ok := m.links[link.ID]
	if !ok {
		return nil, provider.Errorf(provider.CodeNotFound, m.name+".GetLink", "link %q not found", link.ID)
	}
	c := *l
	return &c, nil
}

// EditLink implements provider.LinkEditor.
func (m *MemProvider) EditLink(ctx context.Context, link *provider.Link, p provider.EditLinkParams) (*provider.Link, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	l, ok := m.links[link.ID]
	if !ok {
		return nil, provider.Errorf(provider.CodeNotFound, m.name+".EditLink", "link %q not found", link.ID)
	}
	set(&l.Title, p.Title)
	set(&l.Type, p.Type)
	set(&l.Amount, p.Amount)
	set(&l.ExpiresAt, p.ExpiresAt)
	set(&l.RedirectURL, p.RedirectURL)
	set(&l.Status, p.Status)
	c := *l
	return &c, nil
}

func set[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}

// DeactivateLink implements provider.LinkDeactivator.
func (m *MemProvider) DeactivateLink(ctx context.Context, link *provider.Link) (*provider.Link, error) {
	inactive := provider.LinkInactive
	return m.EditLink(ctx, link, provider.EditLinkParams{Status: &inactive})
}

// FindLinks implements provider.LinkFinder: the links q selects, oldest
// first.
func (m *MemProvider) FindLinks(ctx context.Context, q provider.LinkQuery) ([]provider.Link, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out := []provider.Link{}
	for _, l := range m.Links() {
		if q.Matches(&l) {
			out = append(out, l)
		}
	}
	return out, nil
}

// Links returns every link the provider holds, oldest first: what a test
// counts to make sure a retry created no second link.
func (m *MemProvider) Links() []provider.Link {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]provider.Link, 0, len(m.links))
	for _, l := range m.links {
		out = append(out, *l)
	}
	slices.SortFunc(out, func(a, b provider.Link) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(len(a.ID), len(b.ID)), cmp.Compare(a.ID, b.ID))
	})
	return out
}

// ListLinkPayments implements provider.Provider.
func (m *MemProvider) ListLinkPayments(ctx context.Context, link *provider.Link) ([]provider.Payment, error) {
	linkID := link.ID
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.links[linkID]; !ok {
		return nil, provider.Errorf(provider.CodeNotFound, m.name+".ListLinkPayments", "link %q not found", linkID)
	}
	return slices.Clone(m.payments[linkID]), nil
}

// ListPayments implements provider.PaymentLister.
func (m *MemProvider) ListPayments(ctx context.Context, p provider.ListPaymentsParams) ([]provider.Payment, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []provider.Payment
	for _, ps := range m.payments {
		for _, x := range ps {
			if (p.From.IsZero() || !x.CreatedAt.Before(p.From)) && (p.To.IsZero() || !x.CreatedAt.After(p.To)) {
				out = append(out, x)
			}
		}
	}
	slices.SortFunc(out, func(a, b provider.Payment) int { return a.CreatedAt.Compare(b.CreatedAt) })
	if p.Order == provider.SortDescending {
		slices.Reverse(out)
	}
	if p.Limit > 0 && len(out) > p.Limit {
		out = out[:p.Limit]
	}
	return out, nil
}

// Settle simulates the customer: the link's latest payment (a new one when
// there is none, or when the latest is final and the link is MULTIPLE)
// moves to status with the given amount (0 = the link's amount). It
// returns the payment; build its callback with NewCallbackRequest.
func (m *MemProvider) Settle(linkID string, status provider.PaymentStatus, amount int64) (provider.Payment, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	l, ok := m.links[linkID]
	if !ok {
		return provider.Payment{}, provider.Errorf(provider.CodeNotFound, m.name+".Settle", "link %q not found", linkID)
	}
	if l.Status != provider.LinkActive {
		return provider.Payment{}, provider.Errorf(provider.CodeFailedPrecondition, m.name+".Settle", "link %q is inactive", linkID)
	}
	if amount == 0 {
		amount = l.Amount.Amount
	}
	ps := m.payments[linkID]
	if n := len(ps); n == 0 || ps[n-1].Status.Final() {
		m.seq++
		ps = append(ps, provider.Payment{ID: "MEM" + strconv.Itoa(m.seq), Provider: m.name, LinkID: linkID,
			Status: provider.PaymentPending, CreatedAt: m.now()})
	}
	p := &ps[len(ps)-1]
	p.Status, p.RawStatus, p.Amount = status, string(status), provider.Money{Amount: amount, Currency: provider.IDR}
	if status.Final() {
		p.CompletedAt = m.now()
	}
	if status == provider.PaymentSuccessful && l.Type == provider.LinkSingle {
		l.Status = provider.LinkInactive
	}
	m.payments[linkID] = ps
	return *p, nil
}

// Refund implements provider.Refunder: it refunds params.Amount (zero:
// all that is left) of a paid payment that is not fully refunded or
// charged back yet. More than is left is CodeInvalidArgument; a Key used
// before for the payment CodeConflict; a payment that is not paid, or
// fully returned, CodeFailedPrecondition.
func (m *MemProvider) Refund(ctx context.Context, paymentID string, params provider.RefundParams) (*provider.Payment, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	op := m.name + ".Refund"
	if params.Key != "" && m.refunds[paymentID+"\x00"+params.Key] {
		return nil, provider.Errorf(provider.CodeConflict, op, "refund key %q was used before for payment %q", params.Key, paymentID)
	}
	p, err := m.giveBack(op, paymentID, params.Amount.Amount, provider.PaymentPartiallyRefunded, provider.PaymentRefunded)
	if err != nil {
		return nil, err
	}
	if params.Key != "" {
		m.refunds[paymentID+"\x00"+params.Key] = true
	}
	return p, nil
}

// ChargeBack simulates the customer's bank charging amount (zero: all
// that is left) of a paid payment back: PARTIALLY_CHARGED_BACK, or
// CHARGED_BACK once nothing is left. It returns the payment; build its
// callback with NewCallbackRequest.
func (m *MemProvider) ChargeBack(paymentID string, amount int64) (provider.Payment, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	p, err := m.giveBack(m.name+".ChargeBack", paymentID, amount, provider.PaymentPartiallyChargedBack, provider.PaymentChargedBack)
	if err != nil {
		return provider.Payment{}, err
	}
	return *p, nil
}

// giveBack returns amount (zero: the rest) of a paid payment, moving it
// to partial or full; the caller holds m.mu.
func (m *MemProvider) giveBack(op, paymentID string, amount int64, partial, full provider.PaymentStatus) (*provider.Payment, error) {
	var p *provider.Payment
	for _, ps := range m.payments {
		for i := range ps {
			if ps[i].ID == paymentID {
				p = &ps[i]
			}
		}
	}
	if p == nil {
		return nil, provider.Errorf(provider.CodeNotFound, op, "payment %q not found", paymentID)
	}
	if !p.Status.Paid() || (p.Status.Returned() && !p.Status.Partial()) {
		return nil, provider.Errorf(provider.CodeFailedPrecondition, op, "payment %q is %s", paymentID, p.Status)
	}
	left := p.Amount.Amount - p.RefundedAmount.Amount
	if amount == 0 {
		amount = left
	}
	if amount < 0 || amount > left {
		return nil, provider.Errorf(provider.CodeInvalidArgument, op, "amount %d: %d is left of payment %q", amount, left, paymentID)
	}
	p.RefundedAmount = provider.Money{Amount: p.RefundedAmount.Amount + amount, Currency: p.Amount.Currency}
	p.Status = partial
	if p.RefundedAmount.Amount == p.Amount.Amount {
		p.Status = full
	}
	p.RawStatus = string(p.Status)
	c := *p
	return &c, nil
}

// NewCallbackRequest builds the callback MemProvider would send for p,
// signed with token.
func NewCallbackRequest(ctx context.Context, url, token string, p provider.Payment) (*http.Request, error) {
	body, err := json.Marshal(p)
	if err != nil {
		return nil, err
	}
	r, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set(CallbackTokenHeader, token)
	return r, nil
}

// ParseCallback implements provider.Provider: the token header must match
// (compared in constant time; refused when none is configured) and the
// body must be a JSON payment.
func (m *MemProvider) ParseCallback(ctx context.Context, r *http.Request) (*provider.Event, error) {
	op := m.name + ".ParseCallback"
	got := r.Header.Get(CallbackTokenHeader)
	if m.token == "" || got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(m.token)) != 1 {
		return nil, provider.Errorf(provider.CodeUnauthenticated, op, "missing or wrong callback token")
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, provider.Errorf(provider.CodeInvalidArgument, op, "reading body: %w", err)
	}
	return m.decode(op, body)
}

// DecodeCallback implements provider.CallbackDecoder: the body of a
// callback verified earlier (the token travels in a header, so the body
// holds no secret).
func (m *MemProvider) DecodeCallback(ctx context.Context, body []byte) (*provider.Event, error) {
	return m.decode(m.name+".DecodeCallback", body)
}

// RedactCallback implements provider.CallbackRedactor: the body holds no
// secret, so it comes back as it is.
func (m *MemProvider) RedactCallback(body []byte) []byte { return body }

func (m *MemProvider) decode(op string, body []byte) (*provider.Event, error) {
	var p provider.Payment
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&p); err != nil {
		return nil, provider.Errorf(provider.CodeInvalidArgument, op, "malformed callback: %w", err)
	}
	if p.ID == "" || p.LinkID == "" || !p.Status.Valid() {
		return nil, provider.Errorf(provider.CodeInvalidArgument, op, "callback needs id, link_id and a valid status")
	}
	p.Provider = m.name
	return &provider.Event{Provider: m.name, Payment: p, Source: provider.SourceCallback, Raw: body, ReceivedAt: time.Now()}, nil
}

// String describes the provider without its token.
func (m *MemProvider) String() string { return fmt.Sprintf("providertest.MemProvider(%s)", m.name) }

// Deliver hands a callback request to svc as an adapter does: the named
// provider ("" for the only one) verifies and parses it, and the event is
// applied, the callback observed once whatever becomes of it. Tests and
// adapters other than ginadapter use it.
func Deliver(ctx context.Context, svc *provider.Service, providerName string, r *http.Request) (*provider.Event, provider.Outcome, error) {
	p, err := provider.Named(svc.Providers(), providerName)
	if err != nil {
		return nil, provider.Outcome{}, err
	}
	ctx, end := svc.ObserveCallback(ctx, p.Name())
	ev, err := p.ParseCallback(ctx, r)
	if err != nil {
		end(provider.Outcome{}, err)
		return nil, provider.Outcome{}, err
	}
	out, err := svc.ApplyEvent(ctx, ev)
	end(out, err)
	return ev, out, err
}
