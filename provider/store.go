package provider

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"time"
)

// Store is the ledger: links, payments, their status history and the
// callbacks received. gormstore implements it on PostgreSQL and SQLite;
// providertest has an in-memory one. Every Store passes
// providertest.TestStore.
//
// The payment rules live in [Service], never in a store: a store reads what
// the rules need in one call ([Store.LoadApply]) and writes what they
// decided in another ([Store.Apply]), all or nothing, refusing the write
// when what it read has changed since. A callback thus costs a store two
// round trips, and concurrent callbacks never wait for each other's locks.
//
// Reads return CodeNotFound for a missing row. A Store starts no goroutines.
type Store interface {
	// LoadApply reads, in one round trip and without locking, what applying
	// news about one payment needs: the link, the payment, the event keys
	// already claimed for the payment and, for a SINGLE link, another of
	// its payments that is paid. The link and the payment come
	// without their Raw provider payloads (a hook event's snapshot does
	// not carry them); GetLink and GetPayment have them.
	LoadApply(ctx context.Context, providerName, linkID, paymentID string) (*ApplyState, error)
	// Apply writes w atomically. It returns an error matching
	// [ErrWriteConflict], having written nothing, when w.Claim was claimed
	// or the payment's status or refunded amount is no longer
	// w.PreviousStatus and w.PreviousRefunded: news applied concurrently. The caller reads again and decides again.
	Apply(ctx context.Context, w *ApplyWrite) error

	// SaveLink writes w in one atomic step: the link, the completion of
	// its idempotency intent and its reconciliation mark, all or nothing.
	// It fails with an error matching [ErrWriteConflict], having written
	// nothing, when w.PreviousUpdatedAt is set and the stored link is no
	// longer the one read (changed since, or gone); the caller reads again
	// and decides again. See [LinkWrite] for each part's rules.
	SaveLink(ctx context.Context, w *LinkWrite) error

	// GetLink reads a link by provider name and provider id.
	GetLink(ctx context.Context, providerName, linkID string) (*Link, error)
	// GetLinkByIdempotencyKey reads the link created with key.
	GetLinkByIdempotencyKey(ctx context.Context, key string) (*Link, error)
	// GetPayment reads a payment by provider name and provider id.
	GetPayment(ctx context.Context, providerName, paymentID string) (*Payment, error)
	// PutLinkIntent stores in, the intent to create a link with the
	// idempotency key in.Key, unless an intent with that key is stored
	// already: keys are unique per store, whatever the provider. It returns
	// (nil, nil) when it stored in, and the stored intent, unchanged, when
	// there was one. Of concurrent calls with one key, exactly one stores
	// its intent and the others return it. An empty Key, Provider or
	// ParamsHash is CodeInvalidArgument.
	PutLinkIntent(ctx context.Context, in LinkIntent) (existing *LinkIntent, err error)
	// DeleteLinkIntent removes the pending intent with key, freeing the key
	// (the provider refused the link, so none exists). Deleting an unknown
	// key is not an error; a completed intent is CodeFailedPrecondition and
	// stays.
	DeleteLinkIntent(ctx context.Context, key string) error
}

// Reader is the read side of a store, optional: what the reconciler, the
// console, the JSON routes and reports list. [Service] finds it by type
// assertion on its Store (gormstore's and the in-memory store are
// Readers); without one, the reconciler, RefreshLink, LinkPayments and
// operator actions answer CodeUnimplemented. Reads take no locks and
// return empty slices, not errors, when nothing matches.
type Reader interface {
	// ListLinks returns up to filter.Limit links of filter.Provider that
	// the filter selects, in reconciliation order: never-reconciled
	// links first (oldest created first), then the least recently
	// reconciled. The links are whole, Raw included, as GetLink reads
	// them: the reconciler hands them to the provider (see [Provider]).
	ListLinks(ctx context.Context, filter LinkFilter) ([]Link, error)
	// ListLinkPayments returns a link's payments, oldest first.
	ListLinkPayments(ctx context.Context, providerName, linkID string) ([]Payment, error)
	// ListStatusChanges returns a payment's status history, oldest first.
	ListStatusChanges(ctx context.Context, providerName, paymentID string) ([]StatusChange, error)
	// ListCallbacks returns recorded callbacks, newest first (by
	// ReceivedAt, then by ID).
	ListCallbacks(ctx context.Context, filter CallbackFilter) ([]CallbackRecord, error)
	// ListHookRuns returns hook runs, oldest first.
	ListHookRuns(ctx context.Context, filter HookRunFilter) ([]HookRun, error)
	// HookBacklog counts the runs due at or before the store's now that
	// have not finished (pending or retrying, those running included) and
	// reads when the oldest of them came due. Metrics call it on every
	// scrape: a store answers it from an index, without reading the runs.
	HookBacklog(ctx context.Context) (HookBacklog, error)
}

// LinkFilter selects links for [Reader.ListLinks].
type LinkFilter struct {
	// Provider is required.
	Provider string
	// Since selects links created at or after it; zero selects all.
	Since time.Time
	// Active selects ACTIVE links only.
	Active bool
	// PaymentStatuses, when set, selects links holding at least one
	// payment in one of these statuses, whatever the link's own status.
	PaymentStatuses []PaymentStatus
	// Limit bounds the list; zero or less is no bound.
	Limit int
}

// Pruner is a store that removes what it keeps only for a while,
// optional: [Service] needs one for ServiceOptions.Retention.
type Pruner interface {
	// Prune removes, in one bounded batch, what the store keeps only for a
	// while; the ledger (links, payments, status history) stays forever.
	// It deletes at most q.Limit callbacks: those received before q.Before
	// whose verdict is not in q.Keep, and those received before
	// q.KeptBefore whose verdict is (none when q.KeptBefore is zero). It
	// deletes at most q.Limit SUCCEEDED hook runs last updated before
	// q.Before, and clears the stored HookEvent of at most q.Limit events
	// created before q.Before whose every hook run has succeeded (or that
	// have none). The event claims themselves are never removed, so news
	// about a pruned event is still a duplicate; failed, pending and
	// retrying runs, and the events they deliver, stay. It reports how
	// much of each it removed: a batch that comes back with every count
	// below q.Limit was the last. Oldest rows go first (callbacks: within
	// each of the two bounds). A q.Limit below 1 is CodeInvalidArgument.
	// [Service.Reconcile] loops over it when ServiceOptions.Retention is set.
	Prune(ctx context.Context, q PruneQuery) (PruneReport, error)
}

// LinkWrite is one atomic change to a stored link, written by
// [Store.SaveLink]. Zero fields are not written.
type LinkWrite struct {
	// Provider and ID name the link (the provider's name and id).
	Provider, ID string
	// Link, when set, is stored: inserted, or replacing every field of the
	// stored link with the same Provider and ID (which it must have), its
	// reconciliation time excepted. A zero CreatedAt keeps the stored one
	// (now for a new link); UpdatedAt is set to when it was written, and
	// both are set on Link. A non-empty IdempotencyKey used by another link
	// is CodeConflict.
	Link *Link
	// PreviousUpdatedAt, when not zero, is the UpdatedAt of the stored
	// link the write was decided on: the write is refused with
	// ErrWriteConflict when the stored link has another (or is gone).
	PreviousUpdatedAt time.Time
	// IntentKey, when set, completes the pending intent with this key for
	// the link, at the write's time. Completing it again for the same link
	// changes nothing; for another link it is CodeConflict; an unknown key
	// is CodeNotFound.
	IntentKey string
	// ReconciledAt, when not zero, records that the reconciler visited the
	// link then. A link the store does not have is CodeNotFound.
	ReconciledAt time.Time
}

// ErrWriteConflict is what [Store.Apply] returns (possibly wrapped) when
// news about the same payment was applied between its LoadApply and its
// Apply, and [Store.SaveLink] when the link changed since it was read.
// Nothing was written; [Service] reads again and decides again.
var ErrWriteConflict = errors.New("paylink: the payment changed since it was read")

// ApplyState is what [Store.LoadApply] read.
type ApplyState struct {
	// Link is the stored link, nil when the store has no such link.
	Link *Link
	// Payment is the stored payment, nil when it is new.
	Payment *Payment
	// Claimed lists the event keys already claimed for the payment.
	Claimed []EventKey
	// LinkPaidBy is, for a SINGLE link, the id of another of its payments
	// that is paid (SUCCESSFUL or later); empty when there is none, and
	// for MULTIPLE links.
	LinkPaidBy string
}

// HasClaimed reports whether key was claimed.
func (st *ApplyState) HasClaimed(key EventKey) bool {
	for _, k := range st.Claimed {
		if k == key {
			return true
		}
	}
	return false
}

// ApplyWrite is everything one event changes, written by [Store.Apply] in
// one atomic step. Nil and empty fields are not written.
type ApplyWrite struct {
	// Callback is the callback as received, with its verdict (callbacks
	// only; every callback is kept, duplicates included). Apply sets its ID.
	Callback *CallbackRecord
	// Claim is the event key to claim, unique per store: Apply fails with
	// ErrWriteConflict when it was claimed before.
	Claim *EventKey
	// Event is the JSON of the [HookEvent] the HookRuns deliver, stored with
	// the claim.
	Event []byte
	// Payment is the payment as it must be stored (insert or update).
	Payment *Payment
	// PreviousStatus is the status the payment had when it was read ("" when
	// it was new): Apply fails with ErrWriteConflict when the stored payment
	// differs from it.
	PreviousStatus PaymentStatus
	// PreviousRefunded is the payment's RefundedAmount.Amount when it was
	// read: Apply fails with ErrWriteConflict when the stored payment's
	// differs, so of two partial refunds decided on the same read only one
	// is written, and the other is decided again.
	PreviousRefunded int64
	// StatusChange is appended to the payment's history.
	StatusChange *StatusChange
	// LinkStatus, when set, is the link's new status (a SINGLE link that
	// was paid becomes INACTIVE), written with LinkUpdatedAt.
	LinkStatus    LinkStatus
	LinkUpdatedAt time.Time
	// HookRuns are queued for delivery, one per hook, pending and due at
	// once. A run that exists for the same event and hook is left alone.
	HookRuns []NewHookRun
	// HookLease, when set, inserts the HookRuns already leased under this
	// token until the store's now + HookLeaseFor, their first attempt
	// counted, as ClaimHookRuns would have leased them: the process that
	// applied the event runs them at once, without a claim of its own.
	// Apply then sets the ID of each run it inserted (0 for a run that
	// existed, which keeps its own lease).
	HookLease    string
	HookLeaseFor time.Duration
}

// NewHookRun is a hook run to create with an [ApplyWrite].
type NewHookRun struct {
	EventID string
	// Provider and PaymentID name the payment of the event: the run is
	// listed under it (see [HookRunFilter]).
	Provider       string
	PaymentID      string
	Hook           string
	IdempotencyKey string
	// ID is set by Apply for a run it inserted under ApplyWrite.HookLease.
	ID int64
}

// Verdict is what the library decided about one callback or event.
type Verdict string

// The verdicts.
const (
	// VerdictApplied: the event changed the payment.
	VerdictApplied Verdict = "applied"
	// VerdictDuplicate: the same payment and status (and, for a partial
	// refund or chargeback, the same cumulative amount) was seen before.
	VerdictDuplicate Verdict = "duplicate"
	// VerdictStale: the event would move the payment backwards; ignored.
	VerdictStale Verdict = "stale"
	// VerdictUnknownLink: the event names a link this store does not have.
	// Recorded and flagged, never paid.
	VerdictUnknownLink Verdict = "unknown_link"
	// VerdictAmountMismatch: the amount differs from the link's, or the
	// amount refunded or charged back does not fit the status (nothing,
	// more than the payment, all of it in a partial state, less than all
	// in a full one). Recorded and flagged, never applied.
	VerdictAmountMismatch Verdict = "amount_mismatch"
	// VerdictUnverified: verify-by-refetch could not confirm the event with
	// the provider. The callback is recorded and answered with an error, so
	// the provider delivers it again; nothing else changes.
	VerdictUnverified Verdict = "unverified"
	// VerdictUnknownStatus: the provider reported a status this library
	// does not know. Recorded and flagged, never applied; the raw status is
	// in the callback's body.
	VerdictUnknownStatus Verdict = "unknown_status"
	// VerdictFailedAfterPaid: no longer produced; kept so that callbacks
	// recorded by earlier releases still read (and count as flagged). It
	// was the verdict of a paid payment reported CANCELLED or FAILED,
	// recorded and flagged with nothing changed. Such a report (a
	// reversal: Midtrans's settlement → deny, capture → cancel) is now
	// applied: the payment moves to [PaymentReversed], with the whole
	// amount returned, and the When(PaymentReversed) hooks run once.
	VerdictFailedAfterPaid Verdict = "failed_after_paid"
	// VerdictLinkMismatch: the event names a payment this store keeps
	// under another link. A payment never moves between links (it would
	// pay the wrong order): recorded and flagged, never applied.
	VerdictLinkMismatch Verdict = "link_mismatch"
	// VerdictSecondPayment: a second payment was paid on a SINGLE link
	// that another payment paid already. Money arrived all the same:
	// recorded and flagged for a human (a refund, or a second delivery),
	// never applied, so the success hooks do not run twice for one order.
	VerdictSecondPayment Verdict = "second_payment"
)

// Flagged reports whether the verdict needs a human to look.
func (v Verdict) Flagged() bool {
	switch v {
	case VerdictUnknownLink, VerdictAmountMismatch, VerdictUnverified, VerdictUnknownStatus, VerdictFailedAfterPaid,
		VerdictLinkMismatch, VerdictSecondPayment:
		return true
	}
	return false
}

// Verdicts lists every verdict.
func Verdicts() []Verdict {
	return []Verdict{VerdictApplied, VerdictDuplicate, VerdictStale, VerdictUnknownLink,
		VerdictAmountMismatch, VerdictUnverified, VerdictUnknownStatus, VerdictFailedAfterPaid,
		VerdictLinkMismatch, VerdictSecondPayment}
}

// HookIdempotencyKey is the idempotency key of the run of hook for the
// event eventID: the same in every process and store, "paylink_" and the
// hex SHA-256 of both.
func HookIdempotencyKey(eventID, hook string) string {
	sum := sha256.Sum256([]byte(eventID + "\x00" + hook))
	return "paylink_" + hex.EncodeToString(sum[:])
}

// CallbackRecord is one callback as received.
type CallbackRecord struct {
	ID         int64
	Provider   string
	PaymentID  string
	LinkID     string
	Status     PaymentStatus
	Amount     Money
	Body       []byte // the raw request body
	Verdict    Verdict
	ReceivedAt time.Time
}

// CallbackFilter selects recorded callbacks; zero fields match everything.
type CallbackFilter struct {
	Provider  string
	PaymentID string
	LinkID    string
	// Verdict selects only callbacks with this verdict.
	Verdict Verdict
	// Flagged selects only callbacks whose verdict is Flagged.
	Flagged bool
	// ID, when set, selects the one callback with this ID.
	ID int64
	// BeforeID, when set, selects only the callbacks listed after the
	// callback with this ID (newest first: received earlier, or at the
	// same time with a lower ID), for the next page of a list that ended
	// with it. A BeforeID the store does not hold selects nothing.
	BeforeID int64
	Limit    int
}

// StatusChange is one step in a payment's history.
type StatusChange struct {
	Provider  string
	PaymentID string
	From      PaymentStatus // empty for the first record
	To        PaymentStatus
	// Refunded is the payment's cumulative RefundedAmount after the
	// change (refund and chargeback statuses; zero otherwise).
	Refunded int64
	Source   Source
	At       time.Time
}

// HookQueue persists hook runs and hands them out under leases: the
// write side of the queue, three calls. The rules (which hooks exist,
// attempts, backoff, timeouts, panics, when a run has failed for good)
// live in [Service]; a queue only stores and delivers. gormstore's Store
// is also a HookQueue, in the same database as the ledger, so
// [Store.Apply] queues runs atomically with the event; the in-memory store
// likewise. Every HookQueue passes providertest.TestStore's queue tests.
//
// Times are the STORE's: a run is due when its next_at has passed on the
// store's clock, and a lease lapses on the store's clock, never on the
// caller's. Replicas whose clocks disagree therefore agree on every lease:
// a replica whose clock runs ahead cannot take over a run another one
// still holds. (gormstore on PostgreSQL uses the server's now(); on
// SQLite, whose file is local to one host, the host's clock.) Callers
// pass durations, never instants.
type HookQueue interface {
	// ClaimHookRuns leases up to limit due runs (pending or retrying, due
	// at or before the store's now, not under a live lease) of the named
	// hooks only, oldest due first, until the store's now + lease. Each
	// claimed run's Attempts is incremented: a claim is an attempt, even
	// if the process dies in it. Two concurrent claims never return the
	// same run.
	ClaimHookRuns(ctx context.Context, hooks []string, limit int, lease time.Duration) ([]ClaimedHookRun, error)
	// ExtendHookLeases moves the lease of each run still held under its
	// token to the store's now + lease.
	ExtendHookLeases(ctx context.Context, leases []HookLease, lease time.Duration) error
	// FinishHookRuns records outcomes. An attempt's outcome is recorded
	// only if its lease token still holds the run; the ids whose lease had
	// been lost are returned (their outcome was not recorded). A Requeue
	// result needs no token; if one cannot be applied (the run is not
	// FAILED: CodeFailedPrecondition; no such run: CodeNotFound),
	// FinishHookRuns returns that error and records nothing of the batch.
	FinishHookRuns(ctx context.Context, results []HookResult) (lost []int64, err error)
}

// HookBacklog is what [Reader.HookBacklog] counted.
type HookBacklog struct {
	// Runs is how many runs are due and not finished.
	Runs int64
	// OldestDue is when the oldest of them came due; zero when Runs is 0.
	OldestDue time.Time
}

// ClaimedHookRun is a run handed out by [HookQueue.ClaimHookRuns].
type ClaimedHookRun struct {
	Run HookRun
	// Lease is the token that holds the run: only its holder may extend
	// the lease or record the outcome.
	Lease string
	// Event is the JSON of the run's HookEvent as stored with its claim;
	// nil when the event row is missing.
	Event []byte
}

// HookLease names one leased run.
type HookLease struct {
	ID    int64
	Token string
}

// HookResult is the outcome of one attempt, as [Service] decided it, or
// an operator's retry of a failed run (Requeue).
type HookResult struct {
	HookLease
	// State is the run's new state: succeeded, retrying or failed; or
	// the claimed run's state (pending or retrying) with Release, for an
	// attempt given back unfinished, which does not count.
	State HookRunState
	// Release gives the run back without counting the attempt.
	Release bool
	// Delay is how long after the store's now a retrying or released run
	// is due again; zero: at once.
	Delay time.Duration
	// Requeue puts a FAILED run back in the queue: pending, due at once,
	// no attempts, no error. It needs no lease token (Token is ignored)
	// and ignores State, Release, Delay and Error.
	Requeue bool
	// Error is the attempt's error, empty on success.
	Error string
}

// HookRunState is where one hook run stands.
type HookRunState string

// The hook run states.
const (
	// HookRunPending: queued, not yet attempted (or put back by a Requeue).
	HookRunPending HookRunState = "pending"
	// HookRunRetrying: attempted, failed, will be tried again.
	HookRunRetrying HookRunState = "retrying"
	// HookRunSucceeded: the hook returned nil. It will not run again.
	HookRunSucceeded HookRunState = "succeeded"
	// HookRunFailed: every attempt failed, or the run cannot be delivered
	// (its event is missing). Retry it with [Service.Act] (ActionRetryHookRun).
	HookRunFailed HookRunState = "failed"
)

// HookRun is the delivery of one event to one named hook.
type HookRun struct {
	ID      int64
	EventID string // EventKey.String()
	// Provider and PaymentID name the payment of the run's event, as the
	// event named it (a partial refund's event id carries the refunded
	// amount too: never parse the payment out of EventID). Empty for a run
	// queued before gormstore's migration step 3 whose event was gone.
	Provider  string
	PaymentID string
	Hook      string
	State     HookRunState
	// Attempts counts started attempts (a claim is an attempt).
	Attempts  int
	LastError string
	// IdempotencyKey is stable for the run across attempts and processes:
	// hooks use it to make their own side effects idempotent.
	IdempotencyKey string
	// NextAt is when the run is due (pending and retrying runs).
	NextAt    time.Time
	CreatedAt time.Time
	UpdatedAt time.Time
}

// HookRunFilter selects hook runs; zero fields match everything.
type HookRunFilter struct {
	// ID selects the one run with this ID.
	ID      int64
	EventID string
	// Provider and PaymentID, set together, select the runs of the events
	// of that payment (applied and flagged ones; see [EventKey]), by the
	// runs' own Provider and PaymentID.
	Provider  string
	PaymentID string
	Hook      string
	State     HookRunState
	Limit     int
}

// HookPolicy says how often and how patiently hook runs are attempted.
type HookPolicy struct {
	// MaxAttempts is the number of attempts before a run is FAILED.
	MaxAttempts int
	// Backoff returns the wait before attempt n+1 after attempt n failed
	// (n >= 1); the runner adds up to 10% jitter.
	Backoff func(attempt int) time.Duration
	// Timeout bounds one attempt.
	Timeout time.Duration
}

// DefaultHookPolicy is 10 attempts with exponential backoff from 1 s
// doubling to at most 10 min (plus up to 10% jitter), and 1 min per attempt.
func DefaultHookPolicy() HookPolicy {
	return HookPolicy{MaxAttempts: 10, Backoff: ExponentialBackoff(time.Second, 10*time.Minute), Timeout: time.Minute}
}

// ExponentialBackoff returns base * 2^(attempt-1), capped at max.
func ExponentialBackoff(base, max time.Duration) func(attempt int) time.Duration {
	return func(attempt int) time.Duration {
		d := base
		for i := 1; i < attempt && d < max; i++ {
			d *= 2
		}
		return min(d, max)
	}
}

// WithDefaults fills zero fields of p from DefaultHookPolicy.
func (p HookPolicy) WithDefaults() HookPolicy {
	def := DefaultHookPolicy()
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = def.MaxAttempts
	}
	if p.Backoff == nil {
		p.Backoff = def.Backoff
	}
	if p.Timeout <= 0 {
		p.Timeout = def.Timeout
	}
	return p
}
