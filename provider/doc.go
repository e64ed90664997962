// Package provider is the portable core of paylink: the domain types
// ([Link], [Payment], [Event], [Money] and the typed statuses), the small
// [Provider] interface every payment gateway implements, the [Store]
// interface every database implements, hook registration, the portable
// error codes, and [Service], the one place the payment rules live.
//
// It imports only the standard library. Package flip implements Provider
// for Flip for Business; gormstore implements Store on PostgreSQL and
// SQLite; ginadapter mounts a Service into a Gin app.
//
// # The rules
//
// [Service.ApplyEvent] applies every piece of news about a payment (a
// callback, a reconciliation, a customer's return): it reads what the
// rules need in one store call ([Store.LoadApply]), decides here (claim
// the event, payment id + status (+ the amount returned, for a partial
// refund or chargeback), so a repeat is a duplicate; move the payment
// along its state machine, see [PaymentStatus] and
// [PaymentState.CanTransition]: never backwards, refunds and chargebacks
// after success included;
// deactivate a paid SINGLE link; queue hook runs), and writes the decision
// in one atomic store call ([Store.Apply]) that the store refuses when the
// payment changed in between, so the Service decides again. It answers
// only once the write is durable. An event for an unknown link, with the
// wrong amount (or a refunded amount that does not fit its status) or an
// unknown status is recorded and flagged, never paid. By default every
// callback that would change a payment, run a hook or record a flagged
// money fact is first confirmed with the provider, and the provider's
// answer is what is stored (ServiceOptions.InsecureSkipVerify opts out).
//
// # The storage boundary
//
// A [Store] is eight methods, each one atomic step: [Store.LoadApply]
// reads what a decision needs, [Store.Apply] writes a decided event with
// its guard, [Store.SaveLink] writes a link with its idempotency intent and
// its reconciliation mark, and GetLink, GetLinkByIdempotencyKey,
// GetPayment, PutLinkIntent and DeleteLinkIntent read and reserve what
// link creation and refunds need. No transaction crosses the boundary
// (none is carried in a context): an app that wants its own writes to go
// with a payment does them in a hook, which runs after the payment is
// durable, once per event, with an idempotency key. The rest is optional,
// found by type assertion: [Reader] (six reads for the reconciler, the
// console and the JSON routes, a filter struct per resource), [Pruner]
// (retention), [HookQueue] (three writes of the hook runner) and
// [ActionLog] (operator actions). gormstore and providertest's MemStore
// implement them all and pass providertest.TestStore.
//
// # Hooks
//
// Register hooks with [Service.On] before [Service.Start]: a name, a
// [Trigger] that selects the events ([When] some statuses, When() every
// status, [WhenFlagged] events recorded but not applied) and a [HookFunc]:
//
//	svc.On("orders.mark-paid", provider.When(provider.PaymentSuccessful), markPaid)
//
// Each
// registered hook runs once per payment event when it succeeds; a hook that
// returns an error or panics is retried with backoff ([HookPolicy]), and
// after its last attempt its run is FAILED and visible through
// [Reader.ListHookRuns] until an operator retries it ([Service.Act]). A hook receives a
// stable [HookEvent.IdempotencyKey] for its own side effects. The runner
// that does all this lives here, once, over the small [HookQueue] a store
// implements (three writes: claim, extend, finish; reads are
// [Reader]); it claims only runs of hooks this process has
// registered, and starts none once [Service.Stop] has begun. Due times and
// leases are on the store's clock, never a replica's, so replicas whose
// clocks disagree never run one hook run at once. A [HookRun] names its
// payment (Provider, PaymentID); never parse it out of the event id.
//
// # Observing
//
// Set ServiceOptions.Observer to be told about every callback (its
// verdict, or why it was refused), every hook attempt and every
// reconciliation pass: see [Observer]. Package provider/otelpaylink
// implements it with OpenTelemetry; nil, the default, costs nothing.
//
// # Errors
//
// Every error carries an [ErrorCode]; match it with errors.Is(err,
// provider.CodeNotFound) or read it with [CodeOf]. Field-level validation
// errors are available through [FieldErrorsOf].
//
// # Capabilities
//
// Operations not every gateway has are optional interfaces found by type
// assertion ([LinkEditor], [LinkDeactivator], [PaymentLister],
// [LinkFinder], [Refunder], [CallbackChecker], [CallbackMediaTyper],
// [CallbackDecoder], [CallbackRedactor]); the helpers [EditLink],
// [DeactivateLink], [ListPayments], [FindLinks] and [Refund] return an
// error matching errors.ErrUnsupported when the provider lacks them.
// Methods that act on an existing link take the stored link, Raw
// included, not only its id (see [Provider]): a provider keeps what it
// needs of a link in the Raw its CreateLink returns, and no state of its
// own. [Service.Refund] refunds a stored payment and applies the provider's
// answer through the same rules as a callback. A store may likewise be an
// [ActionLog], the audit trail of the operator actions [Service.Act] does
// (reprocess a callback, re-fetch a payment, reconcile a link, retry a
// hook run).
package provider
