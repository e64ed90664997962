package gormstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/paylinkgo/paylink/gormstore"
	"github.com/paylinkgo/paylink/provider"
	"github.com/paylinkgo/paylink/provider/providertest"
)

// The tables as the release before refunds created them: payments and
// status changes without refunded amounts, event statuses of 32
// characters.
type paymentBeforeRefunds struct {
	ID                int64  `gorm:"primaryKey;autoIncrement"`
	Provider          string `gorm:"size:64;not null;uniqueIndex:paylink_payments_provider_payment,priority:1;index:paylink_payments_link,priority:1"`
	PaymentID         string `gorm:"column:payment_id;size:128;not null;uniqueIndex:paylink_payments_provider_payment,priority:2"`
	LinkID            string `gorm:"column:link_id;size:128;not null;index:paylink_payments_link,priority:2"`
	Amount            int64  `gorm:"not null"`
	Currency          string `gorm:"size:8;not null"`
	Status            string `gorm:"size:32;not null"`
	RawStatus         string `gorm:"size:64;not null"`
	SenderName        string `gorm:"not null"`
	SenderEmail       string `gorm:"not null"`
	SenderPhone       string `gorm:"not null"`
	SenderAddress     string `gorm:"not null"`
	MethodBank        string `gorm:"size:64;not null"`
	MethodType        string `gorm:"size:64;not null"`
	VANumber          string `gorm:"column:va_number;size:64;not null"`
	PaymentURL        string `gorm:"column:payment_url;not null"`
	ProviderCreatedAt *time.Time
	CompletedAt       *time.Time
	Raw               []byte
	RecordedAt        time.Time `gorm:"not null"`
	UpdatedAt         time.Time `gorm:"not null;autoUpdateTime:false"`
}

func (paymentBeforeRefunds) TableName() string { return "paylink_payments" }

type eventBeforeRefunds struct {
	ID        int64  `gorm:"primaryKey;autoIncrement"`
	EventID   string `gorm:"column:event_id;size:320;not null;uniqueIndex:paylink_events_event_id"`
	Provider  string `gorm:"size:64;not null;uniqueIndex:paylink_events_key,priority:1"`
	PaymentID string `gorm:"column:payment_id;size:128;not null;uniqueIndex:paylink_events_key,priority:2"`
	Status    string `gorm:"size:32;not null;uniqueIndex:paylink_events_key,priority:3"`
	Payload   []byte
	CreatedAt time.Time `gorm:"not null;autoCreateTime:false;index:paylink_events_payload_created_at,where:payload IS NOT NULL"`
}

func (eventBeforeRefunds) TableName() string { return "paylink_events" }

type statusChangeBeforeRefunds struct {
	ID         int64     `gorm:"primaryKey;autoIncrement"`
	Provider   string    `gorm:"size:64;not null;index:paylink_status_changes_payment,priority:1"`
	PaymentID  string    `gorm:"column:payment_id;size:128;not null;index:paylink_status_changes_payment,priority:2"`
	FromStatus string    `gorm:"size:32;not null"`
	ToStatus   string    `gorm:"size:32;not null"`
	Source     string    `gorm:"size:32;not null"`
	At         time.Time `gorm:"not null"`
}

func (statusChangeBeforeRefunds) TableName() string { return "paylink_status_changes" }

// A database made by the release before refunds, holding a paid payment,
// migrates: the payment reads back with nothing refunded, and refunds,
// partial ones with the longest event keys included, are applied on it.
func TestMigrateAnExistingDatabaseForRefunds(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			db := b.open(t)
			old := []any{&gormstore.LinkRecord{}, &paymentBeforeRefunds{}, &gormstore.CallbackRecord{},
				&eventBeforeRefunds{}, &statusChangeBeforeRefunds{}, &gormstore.HookRunRecord{}, &gormstore.LinkIntentRecord{}}
			if err := db.AutoMigrate(old...); err != nil {
				t.Fatalf("creating the old tables: %v", err)
			}
			now := time.Now().UTC()
			if err := db.Create(&gormstore.LinkRecord{Provider: "mem", LinkID: "L1", Status: "INACTIVE", Amount: 10000, Currency: "IDR",
				Type: "SINGLE", Step: 1, CreatedAt: now, UpdatedAt: now}).Error; err != nil {
				t.Fatal(err)
			}
			if err := db.Create(&paymentBeforeRefunds{Provider: "mem", PaymentID: "P1", LinkID: "L1", Amount: 10000, Currency: "IDR",
				Status: "SUCCESSFUL", RawStatus: "SUCCESSFUL", RecordedAt: now, UpdatedAt: now}).Error; err != nil {
				t.Fatal(err)
			}
			if err := db.Create(&eventBeforeRefunds{EventID: "mem:P1:SUCCESSFUL", Provider: "mem", PaymentID: "P1", Status: "SUCCESSFUL", CreatedAt: now}).Error; err != nil {
				t.Fatal(err)
			}

			store := migrated(t, db)
			p, err := store.GetPayment(t.Context(), "mem", "P1")
			if err != nil || p.Status != provider.PaymentSuccessful || !p.RefundedAmount.IsZero() {
				t.Fatalf("the old payment after Migrate: %+v, %v; want SUCCESSFUL, nothing refunded", p, err)
			}
			// The events are about rows written before Migrate, which no fake
			// made: what is checked is how the migrated rows take them.
			svc, err := provider.NewService(store, provider.ServiceOptions{Providers: []provider.Provider{providertest.NewMemProvider("mem", "tok")}, InsecureSkipVerify: true})
			if err != nil {
				t.Fatal(err)
			}
			// A flagged hook makes a flagged event claim its own key.
			if err := svc.On("ops", provider.WhenFlagged(), func(context.Context, *provider.HookEvent) error { return nil }); err != nil {
				t.Fatal(err)
			}
			apply := func(st provider.PaymentStatus, refunded int64) provider.Verdict {
				t.Helper()
				out, err := svc.ApplyEvent(t.Context(), &provider.Event{Provider: "mem", Source: provider.SourceCallback, Raw: []byte("{}"),
					Payment: provider.Payment{ID: "P1", LinkID: "L1", Status: st, Amount: provider.Rupiah(10000), RefundedAmount: provider.Rupiah(refunded)}})
				if err != nil {
					t.Fatalf("ApplyEvent %s %d: %v", st, refunded, err)
				}
				return out.Verdict
			}
			if v := apply(provider.PaymentSuccessful, 0); v != provider.VerdictDuplicate {
				t.Errorf("the old success again: %s, want duplicate", v)
			}
			// The longest status an event row holds: a flagged partial chargeback.
			if v := apply(provider.PaymentPartiallyChargedBack, 1<<62); v != provider.VerdictAmountMismatch {
				t.Errorf("a partial chargeback above the amount: %s, want amount_mismatch", v)
			}
			if v := apply(provider.PaymentPartiallyChargedBack, 4000); v != provider.VerdictApplied {
				t.Errorf("a partial chargeback: %s, want applied", v)
			}
			if v := apply(provider.PaymentPartiallyChargedBack, 4000); v != provider.VerdictDuplicate {
				t.Errorf("the partial chargeback again: %s, want duplicate", v)
			}
			st, err := store.LoadApply(t.Context(), "mem", "L1", "P1")
			if err != nil || len(st.Claimed) != 3 {
				t.Fatalf("claims after the chargebacks: %+v, %v; want the success, the flagged and the applied chargeback", st, err)
			}
			p, err = store.GetPayment(t.Context(), "mem", "P1")
			if err != nil || p.State() != (provider.PaymentState{Status: provider.PaymentPartiallyChargedBack, Refunded: 4000}) {
				t.Fatalf("after the chargeback: %+v, %v", p, err)
			}
		})
	}
}
