package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"time"

	"github.com/glebarez/sqlite"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/paylinkgo/paylink/gormstore"
)

// OrderStatus is where an order stands.
type OrderStatus string

// The order statuses. An order starts PENDING; the payment hooks move it to
// PAID, CANCELLED or FAILED, and nothing moves it away from PAID.
const (
	OrderPending   OrderStatus = "PENDING"
	OrderPaid      OrderStatus = "PAID"
	OrderCancelled OrderStatus = "CANCELLED"
	OrderFailed    OrderStatus = "FAILED"
)

// Order is the shop's own order row. The payment link fields are copied
// from the paylink link made for it (idempotency key "order-<id>").
type Order struct {
	ID            int64       `gorm:"primaryKey"`
	Title         string      `gorm:"size:255;not null"`
	Amount        int64       `gorm:"not null"`
	CustomerName  string      `gorm:"size:255"`
	CustomerEmail string      `gorm:"size:255"`
	CustomerPhone string      `gorm:"size:64"`
	Status        OrderStatus `gorm:"size:16;not null;index"`
	PaidAt        *time.Time
	Provider      string `gorm:"size:32"`
	LinkID        string `gorm:"size:64;index"`
	LinkURL       string `gorm:"size:1024"`
	PaymentURL    string `gorm:"size:1024"`
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// TableName keeps the shop's tables apart from paylink's.
func (Order) TableName() string { return "shop_orders" }

// Receipt is one receipt "sent" to a customer. The unique idempotency key
// (the hook run's) makes sending exactly-once: a retried hook inserts
// nothing.
type Receipt struct {
	ID             int64  `gorm:"primaryKey"`
	OrderID        int64  `gorm:"not null;index"`
	IdempotencyKey string `gorm:"size:255;not null;uniqueIndex"`
	CreatedAt      time.Time
}

// TableName keeps the shop's tables apart from paylink's.
func (Receipt) TableName() string { return "shop_receipts" }

// Instance is the one row that names this shop database. Its prefix goes
// before the order ids the shop sends to Midtrans, which refuses an order
// id it has seen on the account forever: a reset database starts again at
// order 1, and without a prefix of its own its first order would be
// refused.
type Instance struct {
	ID     int64  `gorm:"primaryKey;autoIncrement:false"`
	Prefix string `gorm:"size:16;not null"`
}

// TableName keeps the shop's tables apart from paylink's.
func (Instance) TableName() string { return "shop_instance" }

// instancePrefix returns this database's order id prefix ("s" and 8 hex
// digits and "-"), creating it the first time.
func instancePrefix(ctx context.Context, db *gorm.DB) (string, error) {
	var b [4]byte
	_, _ = rand.Read(b[:])
	in := Instance{ID: 1}
	err := db.WithContext(ctx).Where(Instance{ID: 1}).
		Attrs(Instance{Prefix: "s" + hex.EncodeToString(b[:]) + "-"}).FirstOrCreate(&in).Error
	if err != nil {
		return "", fmt.Errorf("shop: reading the database's order id prefix: %w", err)
	}
	return in.Prefix, nil
}

// openDB opens PostgreSQL or the SQLite file the configuration names, and
// migrates both paylink's tables and the shop's.
func openDB(ctx context.Context, cfg config, log *slog.Logger) (*gorm.DB, error) {
	gcfg := &gorm.Config{
		Logger:  logger.Discard,
		NowFunc: func() time.Time { return time.Now().UTC() },
	}
	var (
		db  *gorm.DB
		err error
	)
	if cfg.postgres() {
		db, err = gorm.Open(postgres.Open(cfg.databaseURL), gcfg)
		if err != nil {
			// The driver's message may quote the DSN: keep the password out.
			return nil, fmt.Errorf("shop: opening PostgreSQL from DATABASE_URL failed (check the URL and that the server is up)")
		}
		sqlDB, err := db.DB()
		if err != nil {
			return nil, fmt.Errorf("shop: %w", err)
		}
		sqlDB.SetMaxOpenConns(16)
		sqlDB.SetMaxIdleConns(4)
		sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	} else {
		db, err = gorm.Open(sqlite.Open(gormstore.OpenSQLiteDSN(cfg.sqlitePath)), gcfg)
		if err != nil {
			return nil, fmt.Errorf("shop: opening SQLite file %s: %w", cfg.sqlitePath, err)
		}
		if err := gormstore.ConfigureSQLite(db); err != nil {
			closeDB(db)
			return nil, fmt.Errorf("shop: %w", err)
		}
	}
	if err := migrate(ctx, db); err != nil {
		closeDB(db)
		return nil, err
	}
	log.InfoContext(ctx, "shop: database ready", "dialect", db.Dialector.Name())
	return db, nil
}

// migrate creates or updates paylink's tables, then the
// shop's own.
func migrate(ctx context.Context, db *gorm.DB) error {
	if err := gormstore.Migrate(ctx, db); err != nil {
		return fmt.Errorf("shop: migrating paylink tables: %w", err)
	}
	if err := db.WithContext(ctx).AutoMigrate(&Order{}, &Receipt{}, &Instance{}); err != nil {
		return fmt.Errorf("shop: migrating shop tables: %w", err)
	}
	return nil
}

// closeDB closes the connection pool under db.
func closeDB(db *gorm.DB) error {
	sqlDB, err := db.DB()
	if err != nil {
		return err
	}
	return sqlDB.Close()
}
