package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/glebarez/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/paylinkgo/paylink/examples/internal/runtest"
)

// A hook attempt that fails after the outbox row was written sends the mail
// on the next attempt; attempts after a successful send do nothing.
func Example_sendOnce() {
	db, _ := gorm.Open(sqlite.Open(":memory:"), &gorm.Config{Logger: logger.Discard})
	sqlDB, _ := db.DB()
	defer sqlDB.Close()
	sqlDB.SetMaxOpenConns(1) // one in-memory database
	_ = db.AutoMigrate(&OutboxMail{})

	var out runtest.Buffer
	h := &hooks{db: db, mailer: &flakyMailer{log: slog.New(slog.NewTextHandler(&out, nil)), failures: 1}}
	for attempt := 1; attempt <= 3; attempt++ {
		err := h.sendOnce(context.Background(), "run-key-1", Mail{To: "ana@example.com", Subject: "Receipt"})
		fmt.Printf("attempt %d: %v\n", attempt, err)
	}
	fmt.Println("mails sent:", out.Count(`msg="mail sent"`))
	// Output:
	// attempt 1: sending "Receipt": mail service unavailable
	// attempt 2: <nil>
	// attempt 3: <nil>
	// mails sent: 1
}
