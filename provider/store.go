package provider

import (
	"context"
	"time"
)

// Store persists links, payments, callbacks, status history and hook runs,
// and delivers hook runs durably. gormstore implements it on PostgreSQL and
// SQLite; providertest has an in-memory one. Every Store passes
// providertest.TestStore.
//
// Reads return CodeNotFound for a missing row. Store methods never start
// goroutines except inside StartHooks.
type Store interface {
	// InTx runs fn in one database transaction and commits when fn returns
	// nil. If ctx already carries a transaction the store understands (the
	// caller's own, see the store's docs), fn joins it and InTx neither
	// commits nor rolls back.
	InTx(ctx context.Context, fn func(ctx context.Context, tx Tx) error) error

	// GetLink reads a link by provider name and provider id.
	GetLink(ctx context.Context, providerName, linkID string) (*Link, error)
	// GetLinkByIdempotencyKey reads the link created with key.
	GetLinkByIdempotencyKey(ctx context.Context, key string) (*Link, error)
	// ListOpenLinks returns up to limit ACTIVE links of a provider, created
	// at or after since, oldest reconciliation first.
	ListOpenLinks(ctx context.Context, providerName string, since time.Time, limit int) ([]Link, error)
	// MarkReconciled records that linkID was reconciled at at.
	MarkReconciled(ctx context.Context, providerName, linkID string, at time.Time) error

	// GetPayment reads a payment by provider name and provider id.
	GetPayment(ctx context.Context, providerName, paymentID string) (*Payment, error)
	// ListLinkPayments returns a link's payments, oldest first.
	ListLinkPayments(ctx context.Context, providerName, linkID string) ([]Payment, error)
	// ListStatusChanges returns a payment's status history, oldest first.
	ListStatusChanges(ctx context.Context, providerName, paymentID string) ([]StatusChange, error)
	// ListCallbacks returns recorded callbacks, newest first.
	ListCallbacks(ctx context.Context, filter CallbackFilter) ([]CallbackRecord, error)

	// ListHookRuns returns hook runs, oldest first.
	ListHookRuns(ctx context.Context, filter HookRunFilter) ([]HookRun, error)
	// RetryHookRun puts a FAILED run back in the queue with a fresh
	// attempt budget. Retrying a run in any other state is CodeFailedPrecondition.
	RetryHookRun(ctx context.Context, id int64) error

	// StartHooks begins delivering hook runs to d, in the background, until
	// StopHooks or until ctx is done. Runs enqueued before StartHooks (even
	// by another process, or before a crash) are delivered too.
	StartHooks(ctx context.Context, d HookDispatcher, policy HookPolicy) error
	// StopHooks stops delivery, waiting for running hooks until ctx is done.
	StopHooks(ctx context.Context) error
}

// Tx is a Store inside one transaction. Methods that read "for update"
// lock the row until the transaction ends, so concurrent callbacks for one
// link are applied one at a time.
type Tx interface {
	// GetLinkForUpdate reads and locks a link.
	GetLinkForUpdate(ctx context.Context, providerName, linkID string) (*Link, error)
	// PutLink inserts or updates a link keyed by (Provider, ID). A
	// non-empty IdempotencyKey already used by another link gives
	// CodeConflict.
	PutLink(ctx context.Context, link *Link) error

	// RecordCallback stores one received callback (every one, duplicates
	// included) and sets rec.ID.
	RecordCallback(ctx context.Context, rec *CallbackRecord) error

	// ClaimEvent records that the event key has been seen. It returns false
	// when the key was claimed before (a duplicate). Two concurrent
	// transactions claiming one key: exactly one gets true.
	ClaimEvent(ctx context.Context, key EventKey) (bool, error)

	// GetPaymentForUpdate reads and locks a payment.
	GetPaymentForUpdate(ctx context.Context, providerName, paymentID string) (*Payment, error)
	// PutPayment inserts or updates a payment keyed by (Provider, ID).
	PutPayment(ctx context.Context, p *Payment) error
	// AddStatusChange appends to a payment's status history.
	AddStatusChange(ctx context.Context, c StatusChange) error

	// EnqueueHooks creates one run per hook name for ev (unique per event
	// and hook) and queues them for delivery once the transaction commits.
	EnqueueHooks(ctx context.Context, ev HookEvent, hooks []string) error
}

// Verdict is what the library decided about one callback or event.
type Verdict string

// The verdicts.
const (
	// VerdictApplied: the event changed the payment.
	VerdictApplied Verdict = "applied"
	// VerdictDuplicate: the same payment and status was seen before.
	VerdictDuplicate Verdict = "duplicate"
	// VerdictStale: the event would move the payment backwards; ignored.
	VerdictStale Verdict = "stale"
	// VerdictUnknownLink: the event names a link this store does not have.
	// Recorded and flagged, never paid.
	VerdictUnknownLink Verdict = "unknown_link"
	// VerdictAmountMismatch: the amount differs from the link's. Recorded
	// and flagged, never paid.
	VerdictAmountMismatch Verdict = "amount_mismatch"
	// VerdictUnverified: verify-by-refetch could not confirm the event with
	// the provider. Recorded and flagged, never paid.
	VerdictUnverified Verdict = "unverified"
)

// Flagged reports whether the verdict needs a human to look.
func (v Verdict) Flagged() bool {
	return v == VerdictUnknownLink || v == VerdictAmountMismatch || v == VerdictUnverified
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
	// Flagged selects only callbacks whose verdict is Flagged.
	Flagged bool
	Limit   int
}

// StatusChange is one step in a payment's history.
type StatusChange struct {
	Provider  string
	PaymentID string
	From      PaymentStatus // empty for the first record
	To        PaymentStatus
	Source    Source
	At        time.Time
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
	// HookRunFailed: every attempt failed. Retry it with Store.RetryHookRun.
	HookRunFailed HookRunState = "failed"
)

// HookRun is the delivery of one event to one named hook.
type HookRun struct {
	ID      int64
	EventID string // EventKey.String()
	Hook    string
	State   HookRunState
	// Attempts counts finished attempts.
	Attempts  int
	LastError string
	// IdempotencyKey is stable for the run across attempts and processes:
	// hooks use it to make their own side effects idempotent.
	IdempotencyKey string
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// HookRunFilter selects hook runs; zero fields match everything.
type HookRunFilter struct {
	EventID string
	Hook    string
	State   HookRunState
	Limit   int
}

// HookDispatcher runs one attempt of a hook run. [Service] implements it.
// A nil error marks the run succeeded; an error schedules a retry (or marks
// the run failed after the policy's last attempt).
type HookDispatcher interface {
	DispatchHook(ctx context.Context, run HookRun, ev HookEvent) error
}

// HookPolicy says how often and how patiently hook runs are attempted.
type HookPolicy struct {
	// MaxAttempts is the number of attempts before a run is FAILED.
	MaxAttempts int
	// Backoff returns the wait before attempt n+1 after attempt n failed (n >= 1).
	Backoff func(attempt int) time.Duration
	// Timeout bounds one attempt.
	Timeout time.Duration
}

// DefaultHookPolicy is 10 attempts with exponential backoff from 1 s
// doubling to at most 10 min (with jitter added by the store), and 1 min per attempt.
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
