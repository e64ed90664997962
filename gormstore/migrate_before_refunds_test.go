package gormstore_test

import "time"

// paylink_payments as the release before refunds created it, without
// refunded amounts: Migrate refuses to adopt it (see
// TestMigrateRefusesTablesOlderThanTheLastAutoMigrateRelease).
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
