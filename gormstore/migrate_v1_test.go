package gormstore_test

import (
	"context"
	"time"

	"gorm.io/gorm"
)

// The models of the last release before versioned migrations, frozen:
// the upgrade tests build "a database of that release" with them, by
// GORM AutoMigrate as that release's Migrate did. Never change them when
// gormstore.Models changes; that drift is exactly what the upgrade tests
// guard against.

type v1LinkRecord struct {
	ID             int64   `gorm:"primaryKey;autoIncrement"`
	Provider       string  `gorm:"size:64;not null;uniqueIndex:paylink_links_provider_link,priority:1"`
	LinkID         string  `gorm:"column:link_id;size:128;not null;uniqueIndex:paylink_links_provider_link,priority:2"`
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

	ExpiresAt        *time.Time
	LastReconciledAt *time.Time
	Raw              []byte
	CreatedAt        time.Time `gorm:"not null;autoCreateTime:false;index:paylink_links_created_at"`
	UpdatedAt        time.Time `gorm:"not null;autoUpdateTime:false"`
}

func (v1LinkRecord) TableName() string { return "paylink_links" }

type v1PaymentRecord struct {
	ID             int64  `gorm:"primaryKey;autoIncrement"`
	Provider       string `gorm:"size:64;not null;uniqueIndex:paylink_payments_provider_payment,priority:1;index:paylink_payments_link,priority:1"`
	PaymentID      string `gorm:"column:payment_id;size:128;not null;uniqueIndex:paylink_payments_provider_payment,priority:2"`
	LinkID         string `gorm:"column:link_id;size:128;not null;index:paylink_payments_link,priority:2"`
	Amount         int64  `gorm:"not null"`
	Currency       string `gorm:"size:8;not null"`
	Status         string `gorm:"size:32;not null"`
	RawStatus      string `gorm:"size:64;not null"`
	RefundedAmount int64  `gorm:"not null;default:0"`

	SenderName    string `gorm:"not null"`
	SenderEmail   string `gorm:"not null"`
	SenderPhone   string `gorm:"not null"`
	SenderAddress string `gorm:"not null"`
	MethodBank    string `gorm:"size:64;not null"`
	MethodType    string `gorm:"size:64;not null"`
	VANumber      string `gorm:"column:va_number;size:64;not null"`
	PaymentURL    string `gorm:"column:payment_url;not null"`

	ProviderCreatedAt *time.Time
	CompletedAt       *time.Time
	Raw               []byte
	RecordedAt        time.Time `gorm:"not null"`
	UpdatedAt         time.Time `gorm:"not null;autoUpdateTime:false"`
}

func (v1PaymentRecord) TableName() string { return "paylink_payments" }

type v1CallbackRecord struct {
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

func (v1CallbackRecord) TableName() string { return "paylink_callbacks" }

type v1EventRecord struct {
	ID        int64  `gorm:"primaryKey;autoIncrement"`
	EventID   string `gorm:"column:event_id;size:320;not null;uniqueIndex:paylink_events_event_id"`
	Provider  string `gorm:"size:64;not null;uniqueIndex:paylink_events_key,priority:1"`
	PaymentID string `gorm:"column:payment_id;size:128;not null;uniqueIndex:paylink_events_key,priority:2"`
	Status    string `gorm:"size:64;not null;uniqueIndex:paylink_events_key,priority:3"`
	Payload   []byte
	CreatedAt time.Time `gorm:"not null;autoCreateTime:false;index:paylink_events_payload_created_at,where:payload IS NOT NULL"`
}

func (v1EventRecord) TableName() string { return "paylink_events" }

type v1StatusChangeRecord struct {
	ID         int64     `gorm:"primaryKey;autoIncrement"`
	Provider   string    `gorm:"size:64;not null;index:paylink_status_changes_payment,priority:1"`
	PaymentID  string    `gorm:"column:payment_id;size:128;not null;index:paylink_status_changes_payment,priority:2"`
	FromStatus string    `gorm:"size:32;not null"`
	ToStatus   string    `gorm:"size:32;not null"`
	Refunded   int64     `gorm:"not null;default:0"`
	Source     string    `gorm:"size:32;not null"`
	At         time.Time `gorm:"not null"`
}

func (v1StatusChangeRecord) TableName() string { return "paylink_status_changes" }

type v1HookRunRecord struct {
	ID             int64  `gorm:"primaryKey;autoIncrement"`
	EventID        string `gorm:"column:event_id;size:320;not null;uniqueIndex:paylink_hook_runs_event_hook,priority:1"`
	Hook           string `gorm:"size:200;not null;uniqueIndex:paylink_hook_runs_event_hook,priority:2"`
	State          string `gorm:"size:16;not null;index:paylink_hook_runs_due,priority:1,where:state = 'pending' OR state = 'retrying'"`
	Attempts       int    `gorm:"not null"`
	LastError      string `gorm:"not null"`
	IdempotencyKey string `gorm:"size:128;not null"`
	LeaseUntil     *time.Time
	LeaseToken     string    `gorm:"size:64;not null;default:''"`
	NextAt         time.Time `gorm:"not null;index:paylink_hook_runs_due,priority:2"`
	CreatedAt      time.Time `gorm:"not null;autoCreateTime:false"`
	UpdatedAt      time.Time `gorm:"not null;autoUpdateTime:false;index:paylink_hook_runs_succeeded,where:state = 'succeeded'"`
}

func (v1HookRunRecord) TableName() string { return "paylink_hook_runs" }

type v1LinkIntentRecord struct {
	ID             int64     `gorm:"primaryKey;autoIncrement"`
	IdempotencyKey string    `gorm:"size:255;not null;uniqueIndex:paylink_link_intents_key"`
	Provider       string    `gorm:"size:64;not null"`
	ParamsHash     string    `gorm:"size:128;not null"`
	Title          string    `gorm:"not null"`
	Type           string    `gorm:"size:32;not null"`
	Amount         int64     `gorm:"not null"`
	Currency       string    `gorm:"size:8;not null"`
	CreatedAt      time.Time `gorm:"not null;autoCreateTime:false"`
	LinkID         *string   `gorm:"column:link_id;size:128"`
	CompletedAt    *time.Time
}

func (v1LinkIntentRecord) TableName() string { return "paylink_link_intents" }

type v1ActionRecord struct {
	ID         int64     `gorm:"primaryKey;autoIncrement"`
	Kind       string    `gorm:"size:32;not null"`
	Actor      string    `gorm:"size:200;not null;index:paylink_operator_actions_actor"`
	Provider   string    `gorm:"size:64;not null;index:paylink_operator_actions_payment,priority:1;index:paylink_operator_actions_link,priority:1"`
	CallbackID int64     `gorm:"column:callback_id;not null;index:paylink_operator_actions_callback"`
	PaymentID  string    `gorm:"column:payment_id;size:128;not null;index:paylink_operator_actions_payment,priority:2"`
	LinkID     string    `gorm:"column:link_id;size:128;not null;index:paylink_operator_actions_link,priority:2"`
	HookRunID  int64     `gorm:"column:hook_run_id;not null;index:paylink_operator_actions_hook_run"`
	Result     string    `gorm:"not null"`
	Error      string    `gorm:"not null"`
	At         time.Time `gorm:"not null;index:paylink_operator_actions_at"`
}

func (v1ActionRecord) TableName() string { return "paylink_operator_actions" }

// v1Models returns the frozen models in that release's migration order.
func v1Models() []any {
	return []any{
		&v1LinkRecord{}, &v1PaymentRecord{}, &v1CallbackRecord{},
		&v1EventRecord{}, &v1StatusChangeRecord{}, &v1HookRunRecord{},
		&v1LinkIntentRecord{}, &v1ActionRecord{},
	}
}

// v1ConflictFunctionSQL is the function that release's Migrate created on
// PostgreSQL.
const v1ConflictFunctionSQL = `CREATE OR REPLACE FUNCTION paylink_write_conflict() RETURNS bigint
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
	RAISE EXCEPTION USING ERRCODE = '40001', MESSAGE = 'paylink: write conflict';
END
$$`

// migrateAsV1 does what gormstore.Migrate did in the last release before
// versioned migrations: AutoMigrate of its models and, on PostgreSQL, the
// conflict function. No version table.
func migrateAsV1(ctx context.Context, db *gorm.DB) error {
	db = db.WithContext(ctx)
	if err := db.AutoMigrate(v1Models()...); err != nil {
		return err
	}
	if db.Dialector.Name() == "postgres" {
		return db.Exec(v1ConflictFunctionSQL).Error
	}
	return nil
}
