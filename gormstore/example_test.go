package gormstore_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/glebarez/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/paylinkgo/paylink/gormstore"
	"github.com/paylinkgo/paylink/provider"
)

// Open the embedded SQLite database, migrate it, and store a link.
func Example() {
	dir, err := os.MkdirTemp("", "paylink-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	ctx := context.Background()

	db, err := gorm.Open(sqlite.Open(gormstore.OpenSQLiteDSN(filepath.Join(dir, "paylink.db"))),
		&gorm.Config{Logger: logger.Discard})
	if err != nil {
		log.Fatal(err)
	}
	if err := gormstore.ConfigureSQLite(db); err != nil {
		log.Fatal(err)
	}
	if err := gormstore.Migrate(ctx, db); err != nil {
		log.Fatal(err)
	}
	store, err := gormstore.New(db, gormstore.Options{})
	if err != nil {
		log.Fatal(err)
	}

	link := provider.Link{
		ID: "1234567890123456789", Provider: "flip", Title: "Order 42",
		Amount: provider.Rupiah(45000), Status: provider.LinkActive, Type: provider.LinkSingle,
	}
	err = store.SaveLink(ctx, &provider.LinkWrite{Provider: link.Provider, ID: link.ID, Link: &link})
	if err != nil {
		log.Fatal(err)
	}
	got, err := store.GetLink(ctx, "flip", link.ID)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(got.Title, got.Amount, got.Status)

	_, err = store.GetLink(ctx, "flip", "no-such-link")
	fmt.Println(err)
	// Output:
	// Order 42 IDR 45000 ACTIVE
	// gormstore.GetLink: link not found
}

// Migrate at startup, as often as you like: the second call finds every
// step recorded and does nothing. The version table says where the
// database stands.
func ExampleMigrate() {
	dir, err := os.MkdirTemp("", "paylink-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	ctx := context.Background()
	db, err := gorm.Open(sqlite.Open(gormstore.OpenSQLiteDSN(filepath.Join(dir, "paylink.db"))),
		&gorm.Config{Logger: logger.Discard})
	if err != nil {
		log.Fatal(err)
	}
	if err := gormstore.ConfigureSQLite(db); err != nil {
		log.Fatal(err)
	}
	for range 2 {
		if err := gormstore.Migrate(ctx, db); err != nil {
			log.Fatal(err)
		}
	}
	var version int64
	err = db.Raw("SELECT max(version_id) FROM " + gormstore.MigrationsTable + " WHERE is_applied").Scan(&version).Error
	fmt.Println(version, err)
	// Output: 3 <nil>
}
