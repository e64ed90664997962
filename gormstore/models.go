package gormstore

import (
	"time"
)

// The models below are the tables gormstore owns. They are exported so an
// application can read them with its own queries (reports, admin pages) and
// see what [Migrate] creates; write to them only through [Store].
//
// Every table name starts with "paylink_". Provider ids are strings (Flip's
// bill ids have 19 digits), money is an int64 amount plus a currency code,
// and every time is stored in UTC.

// LinkRecord is one payment link (a Flip bill), keyed by provider and link id.
type LinkRecord struct {
	ID       int64  `gorm:"primaryKey;autoIncrement"`
	Provider string `gorm:"size:64;not null;uniqueIndex:paylink_links_provider_link,priority:1"`
	LinkID   string `gorm:"column:link_id;size:128;not null;uniqueIndex:paylink_links_provider_link,priority:2"`
	// IdempotencyKey is NULL when the link was created without a key, so the
	// unique index only applies to links that have one.
	IdempotencyKey *string `gorm:"size:255;uniqueIndex:paylink_links_idempotency_key"`
	Status         string  `gorm:"size:32;not null;index:paylink_links_status"`
	Amount         int64   `gorm:"not null"`
	Currency       string  `gorm:"size:8;not null"`
	Type           string  `gorm:"size:32;not null"`
	Step           int     `gorm:"not null"`
	URL            string  `gorm:"column:url;not null"`
	Title          string  `gorm:"not null"`
	PaymentURL     string  `gorm:"column:payment_url;not null"`
	RedirectURL    string  `gorm:"column:redirect_url;not null"`

	CustomerName    string `gorm:"not null"`
	CustomerEmail   string `gorm:"not null"`
	CustomerPhone   string `gorm:"not null"`
	CustomerAddress string `gorm:"not null"`
	MethodBank      string `gorm:"size:64;not null"`
	MethodType      string `gorm:"size:64;not null"`

	// ExpiresAt is NULL for a link that never expires.
	ExpiresAt *time.Time
	// LastReconciledAt is NULL until the reconciler first looks at the link.
	LastReconciledAt *time.Time
	// Raw is the provider's JSON payload, byte for byte as last received.
	Raw       []byte
	CreatedAt time.Time `gorm:"not null;autoCreateTime:false;index:paylink_links_created_at"`
	UpdatedAt time.Time `gorm:"not null;autoUpdateTime:false"`
}

// TableName returns "paylink_links".
func (LinkRecord) TableName() string { return "paylink_links" }

// PaymentRecord is one payment of a link, keyed by provider and payment id.
type PaymentRecord struct {
	ID        int64  `gorm:"primaryKey;autoIncrement"`
	Provider  string `gorm:"size:64;not null;uniqueIndex:paylink_payments_provider_payment,priority:1;index:paylink_payments_link,priority:1"`
	PaymentID string `gorm:"column:payment_id;size:128;not null;uniqueIndex:paylink_payments_provider_payment,priority:2"`
	LinkID    string `gorm:"column:link_id;size:128;not null;index:paylink_payments_link,priority:2"`
	Amount    int64  `gorm:"not null"`
	Currency  string `gorm:"size:8;not null"`
	Status    string `gorm:"size:32;not null"`
	RawStatus string `gorm:"size:64;not null"`
	// RefundedAmount is how much of Amount went back to the customer in
	// all (refunds and chargebacks), in Currency; 0 before any.
	RefundedAmount int64 `gorm:"not null;default:0"`

	SenderName    string `gorm:"not null"`
	SenderEmail   string `gorm:"not null"`
	SenderPhone   string `gorm:"not null"`
	SenderAddress string `gorm:"not null"`
	MethodBank    string `gorm:"size:64;not null"`
	MethodType    string `gorm:"size:64;not null"`
	VANumber      string `gorm:"column:va_number;size:64;not null"`
	PaymentURL    string `gorm:"column:payment_url;not null"`

	// ProviderCreatedAt is when the provider created the payment, NULL if unknown.
	ProviderCreatedAt *time.Time
	// CompletedAt is when the payment reached a final status, NULL if unknown.
	CompletedAt *time.Time
	Raw         []byte
	// RecordedAt is when this store first saw the payment.
	RecordedAt time.Time `gorm:"not null"`
	UpdatedAt  time.Time `gorm:"not null;autoUpdateTime:false"`
}

// TableName returns "paylink_payments".
func (PaymentRecord) TableName() string { return "paylink_payments" }

// CallbackRecord is one callback as received. Every callback is kept,
// duplicates included, so this table is indexed but has no unique key.
type CallbackRecord struct {
	ID         int64  `gorm:"primaryKey;autoIncrement"`
	Provider   string `gorm:"size:64;not null;index:paylink_callbacks_payment,priority:1"`
	PaymentID  string `gorm:"column:payment_id;size:128;not null;index:paylink_callbacks_payment,priority:2"`
	LinkID     string `gorm:"column:link_id;size:128;not null;index:paylink_callbacks_link"`
	Status     string `gorm:"size:32;not null"`
	Amount     int64  `gorm:"not null"`
	Currency   string `gorm:"size:8;not null"`
	Body       []byte
	Verdict    string    `gorm:"size:32;not null;index:paylink_callbacks_flagged,where:verdict <> 'applied' AND verdict <> 'duplicate' AND verdict <> 'stale'"`
	ReceivedAt time.Time `gorm:"not null;index:paylink_callbacks_received_at"`
}

// TableName returns "paylink_callbacks".
func (CallbackRecord) TableName() string { return "paylink_callbacks" }

// EventRecord is the dedupe claim of one payment reaching one status (and,
// for a partial refund or chargeback, one cumulative amount): the unique
// (provider, payment_id, status) row that makes hooks run once per event. Payload holds the JSON of the provider.HookEvent delivered to
// hooks, set when the hooks are enqueued.
type EventRecord struct {
	ID        int64  `gorm:"primaryKey;autoIncrement"`
	EventID   string `gorm:"column:event_id;size:320;not null;uniqueIndex:paylink_events_event_id"`
	Provider  string `gorm:"size:64;not null;uniqueIndex:paylink_events_key,priority:1"`
	PaymentID string `gorm:"column:payment_id;size:128;not null;uniqueIndex:paylink_events_key,priority:2"`
	// Status is the event's status, with the cumulative amount returned
	// for a partial refund or chargeback ("PARTIALLY_REFUNDED:3000") and
	// the verdict of a flagged claim ("SUCCESSFUL!amount_mismatch").
	Status  string `gorm:"size:64;not null;uniqueIndex:paylink_events_key,priority:3"`
	Payload []byte
	// CreatedAt is indexed for the events whose payload Prune may clear.
	CreatedAt time.Time `gorm:"not null;autoCreateTime:false;index:paylink_events_payload_created_at,where:payload IS NOT NULL"`
}

// TableName returns "paylink_events".
func (EventRecord) TableName() string { return "paylink_events" }

// StatusChangeRecord is one step in a payment's status history.
type StatusChangeRecord struct {
	ID         int64  `gorm:"primaryKey;autoIncrement"`
	Provider   string `gorm:"size:64;not null;index:paylink_status_changes_payment,priority:1"`
	PaymentID  string `gorm:"column:payment_id;size:128;not null;index:paylink_status_changes_payment,priority:2"`
	FromStatus string `gorm:"size:32;not null"`
	ToStatus   string `gorm:"size:32;not null"`
	// Refunded is the payment's cumulative refunded amount after the
	// change; 0 for statuses that return nothing.
	Refunded int64     `gorm:"not null;default:0"`
	Source   string    `gorm:"size:32;not null"`
	At       time.Time `gorm:"not null"`
}

// TableName returns "paylink_status_changes".
func (StatusChangeRecord) TableName() string { return "paylink_status_changes" }

// HookRunRecord is the delivery of one event to one named hook: unique per
// (event_id, hook). It is both the queue entry and the truth about whether
// the hook has run.
type HookRunRecord struct {
	ID      int64  `gorm:"primaryKey;autoIncrement"`
	EventID string `gorm:"column:event_id;size:320;not null;uniqueIndex:paylink_hook_runs_event_hook,priority:1"`
	// Provider and PaymentID name the payment of the run's event (step 3;
	// runs queued before it were backfilled from paylink_events).
	Provider       string `gorm:"size:64;not null;default:'';index:paylink_hook_runs_payment,priority:1"`
	PaymentID      string `gorm:"column:payment_id;size:128;not null;default:'';index:paylink_hook_runs_payment,priority:2"`
	Hook           string `gorm:"size:200;not null;uniqueIndex:paylink_hook_runs_event_hook,priority:2"`
	State          string `gorm:"size:16;not null;index:paylink_hook_runs_due,priority:1,where:state = 'pending' OR state = 'retrying'"`
	Attempts       int    `gorm:"not null"`
	LastError      string `gorm:"not null"`
	IdempotencyKey string `gorm:"size:128;not null"`
	// LeaseUntil is set while one process runs the hook, so no other
	// process claims it. The process renews it while the hook runs; if the
	// process dies, the lease lapses and another one takes the run over.
	LeaseUntil *time.Time
	// LeaseToken identifies the claim holding the lease: only it may renew
	// the lease or record the attempt's outcome. Empty when not leased.
	LeaseToken string `gorm:"size:64;not null;default:''"`
	// NextAt is when a pending or retrying run is due.
	NextAt    time.Time `gorm:"not null;index:paylink_hook_runs_due,priority:2"`
	CreatedAt time.Time `gorm:"not null;autoCreateTime:false"`
	// UpdatedAt is indexed for the succeeded runs Prune deletes.
	UpdatedAt time.Time `gorm:"not null;autoUpdateTime:false;index:paylink_hook_runs_succeeded,where:state = 'succeeded'"`
}

// TableName returns "paylink_hook_runs".
func (HookRunRecord) TableName() string { return "paylink_hook_runs" }

// LinkIntentRecord is the intent to create a link with an idempotency
// key, stored before the provider is asked (see provider.LinkIntent):
// unique per key. LinkID and CompletedAt are NULL while it is pending.
type LinkIntentRecord struct {
	ID             int64  `gorm:"primaryKey;autoIncrement"`
	IdempotencyKey string `gorm:"size:255;not null;uniqueIndex:paylink_link_intents_key"`
	Provider       string `gorm:"size:64;not null"`
	ParamsHash     string `gorm:"size:128;not null"`
	Title          string `gorm:"not null"`
	Type           string `gorm:"size:32;not null"`
	Amount         int64  `gorm:"not null"`
	Currency       string `gorm:"size:8;not null"`
	// CreatedAt is when the intent was recorded, before the provider was asked.
	CreatedAt   time.Time `gorm:"not null;autoCreateTime:false"`
	LinkID      *string   `gorm:"column:link_id;size:128"`
	CompletedAt *time.Time
}

// TableName returns "paylink_link_intents".
func (LinkIntentRecord) TableName() string { return "paylink_link_intents" }

// Models returns every model, in migration order.
func Models() []any {
	return []any{
		&LinkRecord{}, &PaymentRecord{}, &CallbackRecord{},
		&EventRecord{}, &StatusChangeRecord{}, &HookRunRecord{},
		&LinkIntentRecord{}, &ActionRecord{},
	}
}
