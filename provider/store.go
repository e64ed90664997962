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
	// InTx runs fn in one database transaction and commits when fn returns
	// nil. If ctx already carries a transaction the store understands (the
	// caller's own, see the store's docs), fn joins it and InTx neither
	// commits nor rolls back. Store methods called with the ctx given to fn
	// run in the transaction too.
	InTx(ctx context.Context, fn func(ctx context.Context, tx Tx) error) error

	// LoadApply reads, in one round trip and without locking, what applying
	// news about one payment needs: the link, the payment and the event
	// keys already claimed for the payment. The link and the payment come
	// without their Raw provider payloads (a hook event's snapshot does
	// not carry them); GetLink and GetPayment have them.
	LoadApply(ctx context.Context, providerName, linkID, paymentID string) (*ApplyState, error)
	// Apply writes w atomically. It returns an error matching
	// [ErrWriteConflict], having written nothing, when w.Claim was claimed
	// or the payment's status or refunded amount is no longer
	// w.PreviousStatus and w.PreviousRefunded: news applied concurrently. The caller reads again and decides again.
	Apply(ctx context.Context, w *ApplyWrite) error

	// GetLink reads a link by provider name and provider id.
	GetLink(ctx context.Context, providerName, linkID string) (*Link, error)
	// GetLinkByIdempotencyKey reads the link created with key.
	GetLinkByIdempotencyKey(ctx context.Context, key string) (*Link, error)
	// ListOpenLinks returns up to limit ACTIVE links of a provider, created
	// at or after since, oldest reconciliation first. The links are whole,
	// Raw included, as GetLink reads them: the reconciler hands them to the
	// provider (see [Provider]).
	ListOpenLinks(ctx context.Context, providerName string, since time.Time, limit int) ([]Link, error)
	// ListLinksWithPayments returns up to limit links of a provider,
	// created at or after since, whatever their status, that hold at least
	// one payment in one of statuses; never-reconciled links first (oldest
	// created first), then the least recently reconciled, as ListOpenLinks;
	// whole, as ListOpenLinks returns them.
	ListLinksWithPayments(ctx context.Context, providerName string, statuses []PaymentStatus, since time.Time, limit int) ([]Link, error)
	// MarkReconciled records that linkID was reconciled at at.
	MarkReconciled(ctx context.Context, providerName, linkID string, at time.Time) error

	// GetPayment reads a payment by provider name and provider id.
	GetPayment(ctx context.Context, providerName, paymentID string) (*Payment, error)
	// ListLinkPayments returns a link's payments, oldest first.
	ListLinkPayments(ctx context.Context, providerName, linkID string) ([]Payment, error)
	// ListStatusChanges returns a payment's status history, oldest first.
	ListStatusChanges(ctx context.Context, providerName, paymentID string) ([]StatusChange, error)
	// ListCallbacks returns recorded callbacks, newest first (by
	// ReceivedAt, then by ID).
	ListCallbacks(ctx context.Context, filter CallbackFilter) ([]CallbackRecord, error)
	// GetCallback reads one recorded callback by its ID.
	GetCallback(ctx context.Context, id int64) (*CallbackRecord, error)

	// PutLinkIntent stores in, the intent to create a link with the
	// idempotency key in.Key, unless an intent with that key is stored
	// already: keys are unique per store, whatever the provider. It returns
	// (nil, nil) when it stored in, and the stored intent, unchanged, when
	// there was one. Of concurrent calls with one key, exactly one stores
	// its intent and the others return it. An empty Key, Provider or
	// ParamsHash is CodeInvalidArgument.
	PutLinkIntent(ctx context.Context, in LinkIntent) (existing *LinkIntent, err error)
	// CompleteLinkIntent records that the link linkID was created and
	// stored for the intent with key, at at. Completing it again with the
	// same link changes nothing; with another link it is CodeConflict. An
	// unknown key is CodeNotFound. [Service] calls it in the transaction
	// that stores the link.
	CompleteLinkIntent(ctx context.Context, key, linkID string, at time.Time) error
	// DeleteLinkIntent removes the pending intent with key, freeing the key
	// (the provider refused the link, so none exists). Deleting an unknown
	// key is not an error; a completed intent is CodeFailedPrecondition and
	// stays.
	DeleteLinkIntent(ctx context.Context, key string) error

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
	// [Service.Prune] loops over it.
	Prune(ctx context.Context, q PruneQuery) (PruneReport, error)
}

// Tx is a Store inside one transaction, for changes to links (creation,
// edits) that read and write under a row lock.
type Tx interface {
	// GetLinkForUpdate reads and locks a link until the transaction ends.
	GetLinkForUpdate(ctx context.Context, providerName, linkID string) (*Link, error)
	// PutLink inserts or updates a link keyed by (Provider, ID). A
	// non-empty IdempotencyKey already used by another link gives
	// CodeConflict.
	PutLink(ctx context.Context, link *Link) error
}

// ErrWriteConflict is what [Store.Apply] returns (possibly wrapped) when
// news about the same payment was applied between its LoadApply and its
// Apply. Nothing was written; [Service] reads again and decides again.
var ErrWriteConflict = errors.New("paylink: the payment changed since it was read")

// ApplyState is what [Store.LoadApply] read.
type ApplyState struct {
	// Link is the stored link, nil when the store has no such link.
	Link *Link
	// Payment is the stored payment, nil when it is new.
	Payment *Payment
	// Claimed lists the event keys already claimed for the payment.
	Claimed []EventKey
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
}

// NewHookRun is a hook run to create with an [ApplyWrite].
type NewHookRun struct {
	EventID        string
	Hook           string
	IdempotencyKey string
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
	// VerdictFailedAfterPaid: the provider reported a paid payment (SUCCESSFUL,
	// or partly or fully returned since) CANCELLED or FAILED. The ladder
	// never goes back, so nothing changes, but money may have: Midtrans
	// reports a bank's reversal of a settled card payment as deny. Recorded
	// and flagged for a human, never applied.
	VerdictFailedAfterPaid Verdict = "failed_after_paid"
	// VerdictLinkMismatch: the event names a payment this store keeps
	// under another link. A payment never moves between links (it would
	// pay the wrong order): recorded and flagged, never applied.
	VerdictLinkMismatch Verdict = "link_mismatch"
	// VerdictLinkInactive: a payment was paid on a SINGLE link that is no
	// longer active: paid already by another payment, or deactivated.
	// Money arrived all the same: recorded and flagged for a human (a
	// refund, or delivering the order), never applied, so the success
	// hooks do not run twice for one order.
	VerdictLinkInactive Verdict = "link_inactive"
)

// Flagged reports whether the verdict needs a human to look.
func (v Verdict) Flagged() bool {
	switch v {
	case VerdictUnknownLink, VerdictAmountMismatch, VerdictUnverified, VerdictUnknownStatus, VerdictFailedAfterPaid,
		VerdictLinkMismatch, VerdictLinkInactive:
		return true
	}
	return false
}

// Verdicts lists every verdict.
func Verdicts() []Verdict {
	return []Verdict{VerdictApplied, VerdictDuplicate, VerdictStale, VerdictUnknownLink,
		VerdictAmountMismatch, VerdictUnverified, VerdictUnknownStatus, VerdictFailedAfterPaid,
		VerdictLinkMismatch, VerdictLinkInactive}
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

// HookQueue persists hook runs and hands them out under leases. The rules
// (which hooks exist, attempts, backoff, timeouts, panics, when a run has
// failed for good) live in [Service]; a queue only stores and delivers.
// gormstore's Store is also a HookQueue, in the same database as the
// ledger, so [Store.Apply] queues runs atomically with the event; the
// in-memory store likewise. Every HookQueue passes providertest.TestStore's
// queue tests.
type HookQueue interface {
	// ClaimHookRuns leases up to limit due runs (pending or retrying, due
	// at or before now, not under a live lease) of the named hooks only,
	// oldest due first, until now+lease. Each claimed run's Attempts is
	// incremented: a claim is an attempt, even if the process dies in it.
	// Two concurrent claims never return the same run.
	ClaimHookRuns(ctx context.Context, hooks []string, limit int, now time.Time, lease time.Duration) ([]ClaimedHookRun, error)
	// ExtendHookLeases moves the lease of each run still held under its
	// token to until.
	ExtendHookLeases(ctx context.Context, leases []HookLease, until time.Time) error
	// FinishHookRuns records the outcomes of attempts, each only if its
	// lease token still holds the run; it returns the ids whose lease had
	// been lost (their outcome was not recorded).
	FinishHookRuns(ctx context.Context, results []HookResult) (lost []int64, err error)
	// RetryHookRun puts a FAILED run back in the queue, pending, due now,
	// with no attempts. Retrying a run in any other state is
	// CodeFailedPrecondition; an unknown id is CodeNotFound.
	RetryHookRun(ctx context.Context, id int64) error
	// ListHookRuns returns hook runs, oldest first.
	ListHookRuns(ctx context.Context, filter HookRunFilter) ([]HookRun, error)
	// HookBacklog counts the runs due at or before now that have not
	// finished (pending or retrying, those running included) and reads
	// when the oldest of them came due. Metrics call it on every scrape:
	// a store answers it from an index, without reading the runs.
	HookBacklog(ctx context.Context, now time.Time) (HookBacklog, error)
}

// HookBacklog is what [HookQueue.HookBacklog] counted.
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

// HookResult is the outcome of one attempt, as [Service] decided it.
type HookResult struct {
	HookLease
	// State is the run's new state: succeeded, retrying or failed; or
	// pending with Release, for an attempt given back unfinished (the
	// process is stopping), which does not count.
	State HookRunState
	// Release gives the run back without counting the attempt.
	Release bool
	// NextAt is when a retrying or released run is due again.
	NextAt time.Time
	// Error is the attempt's error, empty on success.
	Error string
}

// HookRunState is where one hook run stands.
type HookRunState string

// The hook run states.
const (
	// HookRunPending: queued, not yet attempted (or put back by RetryHookRun).
	HookRunPending HookRunState = "pending"
	// HookRunRetrying: attempted, failed, will be tried again.
	HookRunRetrying HookRunState = "retrying"
	// HookRunSucceeded: the hook returned nil. It will not run again.
	HookRunSucceeded HookRunState = "succeeded"
	// HookRunFailed: every attempt failed, or the run cannot be delivered
	// (its event is missing). Retry it with [Service.RetryHookRun].
	HookRunFailed HookRunState = "failed"
)

// HookRun is the delivery of one event to one named hook.
type HookRun struct {
	ID      int64
	EventID string // EventKey.String()
	Hook    string
	State   HookRunState
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
	// claimed for that payment (applied and flagged ones; see [EventKey]).
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
