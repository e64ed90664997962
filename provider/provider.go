package provider

import (
	"context"
	"net/http"
)

// Provider is what every payment gateway offers: payment links, their
// payments, and verified callbacks. Implementations are thin; rules live in
// [Service].
//
// Methods return errors that carry an [ErrorCode] ([CodeOf] reads it).
//
// Methods that act on an existing link (GetLink, ListLinkPayments and the
// optional EditLink, DeactivateLink and GetPayment) take the link as the
// caller stored it, not only its id: a gateway that cannot read every
// link back by id (a Midtrans Snap page whose customer has not picked a
// method yet exists only as the token CreateLink answered) finds what it
// needs in the Raw its CreateLink (or a later answer) left there, on any
// replica and after any restart, without keeping state of its own. The
// link is never nil and its ID is always set. Raw may be empty: a link
// only a callback names (the store does not know it) is passed as
// &Link{Provider: name, ID: id}, and [Service] confirms callbacks with
// the link as [Store.LoadApply] reads it, without Raw. So a provider
// works from link.ID whenever it can, uses Raw only when it must, and
// answers CodeNotFound when Raw is empty and the id alone is not enough.
// A provider never changes the link it is given.
type Provider interface {
	// Name is the provider's name as stored with links and payments
	// ("flip"). Two instances for two accounts have two names.
	Name() string

	// CreateLink asks the provider for a new payment link. It never
	// retries on its own once a request may have reached the provider.
	CreateLink(ctx context.Context, params CreateLinkParams) (*Link, error)

	// GetLink reads a stored link as the provider shows it now. A link
	// the provider does not know gives CodeNotFound.
	GetLink(ctx context.Context, link *Link) (*Link, error)

	// ListLinkPayments returns every payment of a stored link (all
	// pages). A link with no payments gives an empty slice and no error.
	ListLinkPayments(ctx context.Context, link *Link) ([]Payment, error)

	// ParseCallback verifies a callback request and decodes it. The body
	// has already been capped by the caller. It fails with
	// CodeUnauthenticated when the request's credentials are missing or
	// wrong, or when the provider has no callback secret configured (fail
	// closed), and with CodeInvalidArgument when the body is malformed.
	// The returned event's Raw holds the body as received.
	ParseCallback(ctx context.Context, r *http.Request) (*Event, error)
}

// LinkEditor is a Provider that can change a link after creating it.
type LinkEditor interface {
	// EditLink changes the stored link (see [Provider] for what link
	// holds) and returns it as the provider shows it afterwards.
	EditLink(ctx context.Context, link *Link, params EditLinkParams) (*Link, error)
}

// LinkDeactivator is a Provider that can stop a link from taking payments.
type LinkDeactivator interface {
	// DeactivateLink stops the stored link (see [Provider] for what link
	// holds) from taking payments and returns it as the provider shows
	// it afterwards.
	DeactivateLink(ctx context.Context, link *Link) (*Link, error)
}

// PaymentLister is a Provider that can list payments across all links.
type PaymentLister interface {
	ListPayments(ctx context.Context, params ListPaymentsParams) ([]Payment, error)
}

// LinkFinder is a Provider that can search the links it holds, whoever
// created them. [Service.CreateLink] uses it to find a link it asked for
// but never stored (the process died, the answer was lost) instead of
// creating a second one.
type LinkFinder interface {
	// FindLinks returns the provider's links that q selects (see
	// [LinkQuery.Matches]), in any order; none is an empty slice and no
	// error. It may return more than q selects (the caller filters
	// again), never fewer.
	FindLinks(ctx context.Context, q LinkQuery) ([]Link, error)
}

// PaymentGetter is a Provider that can read one payment of a link without
// reading the others. [Service] uses it to confirm a callback; a provider
// without it has ListLinkPayments read instead. An unknown payment (or
// link) gives CodeNotFound.
type PaymentGetter interface {
	// GetPayment reads one payment of link. When it confirms a callback,
	// [Service] passes the link as [Store.LoadApply] read it, without Raw
	// (or, for a link the store does not know, only its provider and id):
	// reading a payment must work from link.ID.
	GetPayment(ctx context.Context, link *Link, paymentID string) (*Payment, error)
}

// GetPayment reads one payment of a link: through [PaymentGetter] when p
// has it, otherwise by listing the link's payments. A payment the
// provider does not list gives CodeNotFound; a nil link
// CodeInvalidArgument.
func GetPayment(ctx context.Context, p Provider, link *Link, paymentID string) (*Payment, error) {
	const op = "GetPayment"
	if err := checkLinkArg(p, op, link); err != nil {
		return nil, err
	}
	if g, ok := p.(PaymentGetter); ok {
		return g.GetPayment(ctx, link, paymentID)
	}
	pays, err := p.ListLinkPayments(ctx, link)
	if err != nil {
		return nil, err
	}
	for i := range pays {
		if pays[i].ID == paymentID {
			return &pays[i], nil
		}
	}
	return nil, Errorf(CodeNotFound, p.Name()+"."+op, "link %q has no payment %q", link.ID, paymentID)
}

// checkLinkArg refuses a nil link, or one without an id, before it
// reaches a provider.
func checkLinkArg(p Provider, op string, link *Link) error {
	if link == nil || link.ID == "" {
		return Errorf(CodeInvalidArgument, p.Name()+"."+op, "a link with an id is required")
	}
	return nil
}

// UnsignedCallbacks is a Provider whose callback credentials do not cover
// the payment's status or amount (Midtrans signs order id, status code and
// gross amount, not transaction_status). [Service] confirms its callbacks
// with the provider's API even with ServiceOptions.InsecureSkipVerify.
type UnsignedCallbacks interface {
	// CallbacksUnsigned reports whether callbacks need confirmation
	// whatever the service's options say.
	CallbacksUnsigned() bool
}

// CallbackChecker is a Provider that can tell, before any request arrives,
// whether its callback verification is configured. Adapters refuse to mount
// a callback route when it returns an error.
type CallbackChecker interface {
	CheckCallbackConfig() error
}

// EditLink edits a stored link if p supports it, or returns an error
// matching CodeUnimplemented and errors.ErrUnsupported. A nil link gives
// CodeInvalidArgument.
func EditLink(ctx context.Context, p Provider, link *Link, params EditLinkParams) (*Link, error) {
	e, ok := p.(LinkEditor)
	if !ok {
		return nil, Unsupported(p.Name() + ".EditLink")
	}
	if err := checkLinkArg(p, "EditLink", link); err != nil {
		return nil, err
	}
	return e.EditLink(ctx, link, params)
}

// DeactivateLink deactivates a stored link if p supports it (directly, or
// through EditLink), or returns an error matching CodeUnimplemented. A
// nil link gives CodeInvalidArgument.
func DeactivateLink(ctx context.Context, p Provider, link *Link) (*Link, error) {
	d, canDeactivate := p.(LinkDeactivator)
	e, canEdit := p.(LinkEditor)
	if !canDeactivate && !canEdit {
		return nil, Unsupported(p.Name() + ".DeactivateLink")
	}
	if err := checkLinkArg(p, "DeactivateLink", link); err != nil {
		return nil, err
	}
	if canDeactivate {
		return d.DeactivateLink(ctx, link)
	}
	inactive := LinkInactive
	return e.EditLink(ctx, link, EditLinkParams{Status: &inactive})
}

// ListPayments lists all payments if p supports it, or returns an error
// matching CodeUnimplemented.
func ListPayments(ctx context.Context, p Provider, params ListPaymentsParams) ([]Payment, error) {
	if l, ok := p.(PaymentLister); ok {
		return l.ListPayments(ctx, params)
	}
	return nil, Unsupported(p.Name() + ".ListPayments")
}

// FindLinks searches p's links if p supports it, or returns an error
// matching CodeUnimplemented.
func FindLinks(ctx context.Context, p Provider, q LinkQuery) ([]Link, error) {
	if f, ok := p.(LinkFinder); ok {
		return f.FindLinks(ctx, q)
	}
	return nil, Unsupported(p.Name() + ".FindLinks")
}

// CallbackMediaTyper is a Provider that declares the media type of its
// callback requests ("application/x-www-form-urlencoded" for Flip), so
// adapters can refuse anything else (415) before reading the body.
type CallbackMediaTyper interface {
	CallbackMediaType() string
}

// Refunder is a Provider that can return money of a successful payment
// to the customer, in part or in full.
type Refunder interface {
	// Refund asks the provider to refund params.Amount of the payment
	// (zero: all that is left) and returns the payment as the provider
	// shows it afterwards: PARTIALLY_REFUNDED or REFUNDED, with the
	// cumulative RefundedAmount. A refund the provider refuses gives
	// CodeInvalidArgument (an amount above what is left),
	// CodeConflict (params.Key used before) or CodeFailedPrecondition
	// (the payment cannot be refunded: not paid, or a method without
	// refunds).
	Refund(ctx context.Context, paymentID string, params RefundParams) (*Payment, error)
}

// RefundParams asks for a refund.
type RefundParams struct {
	// Amount is how much to refund; zero refunds all that is left.
	Amount Money
	// Key makes the refund idempotent at the provider: a refund with a
	// key used before for the payment is refused with CodeConflict
	// instead of paid twice. Up to 100 characters.
	Key string
	// Reason is shown to the merchant (and maybe the customer).
	Reason string
}

// Refund refunds a payment if p supports it, or returns an error matching
// CodeUnimplemented and errors.ErrUnsupported.
func Refund(ctx context.Context, p Provider, paymentID string, params RefundParams) (*Payment, error) {
	if r, ok := p.(Refunder); ok {
		return r.Refund(ctx, paymentID, params)
	}
	return nil, Unsupported(p.Name() + ".Refund")
}

// Named returns the provider of ps called name; an empty name selects the
// only one when ps holds exactly one. Adapters use it with
// [Service.Providers]. An empty name among several is CodeInvalidArgument,
// an unknown one CodeNotFound.
func Named(ps []Provider, name string) (Provider, error) {
	for _, p := range ps {
		if p.Name() == name || name == "" && len(ps) == 1 {
			return p, nil
		}
	}
	if name == "" {
		return nil, Errorf(CodeInvalidArgument, "provider.Named", "%d providers: the name must say which", len(ps))
	}
	return nil, Errorf(CodeNotFound, "provider.Named", "no provider named %q", name)
}
