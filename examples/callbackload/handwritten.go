package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// This file is the handler a careful team writes by hand with Gin and GORM,
// without paylink: check the token in constant time, decode Flip's data
// field, and in one transaction insert the payment (a repeated callback
// inserts nothing) and update its bill. It has no callback log, no status
// history, no state machine and no hooks: it is what paylink is measured
// against, not a replacement for it.

// bill is the team's own bill row, one per Flip bill (a payment link).
type bill struct {
	LinkID    string `gorm:"primaryKey;size:32"`
	Title     string `gorm:"not null"`
	Amount    int64  `gorm:"not null"` // 0: open amount
	PaidCount int64  `gorm:"not null"`
	PaidTotal int64  `gorm:"not null"`
	Status    string `gorm:"size:16;not null"`
	UpdatedAt time.Time
}

// TableName keeps the team's tables apart from paylink's.
func (bill) TableName() string { return "handwritten_bills" }

// payment is the team's own payment row, keyed by Flip's payment id.
type payment struct {
	ID             string `gorm:"primaryKey;size:64"`
	BillLinkID     string `gorm:"size:32;not null;index"`
	BillLink       string `gorm:"not null"`
	BillTitle      string `gorm:"not null"`
	SenderName     string `gorm:"not null"`
	SenderBank     string `gorm:"size:32;not null"`
	SenderBankType string `gorm:"size:32;not null"`
	Amount         int64  `gorm:"not null"`
	Status         string `gorm:"size:16;not null"`
	FlipCreatedAt  time.Time
	ReceivedAt     time.Time
}

// TableName keeps the team's tables apart from paylink's.
func (payment) TableName() string { return "handwritten_payments" }

// flipCallback is Flip's callback data. Ids may come as JSON numbers or
// strings, the amount as a number or a numeric string.
type flipCallback struct {
	ID             flexID      `json:"id"`
	BillLink       string      `json:"bill_link"`
	BillLinkID     flexID      `json:"bill_link_id"`
	BillTitle      string      `json:"bill_title"`
	SenderName     string      `json:"sender_name"`
	SenderBank     string      `json:"sender_bank"`
	SenderBankType string      `json:"sender_bank_type"`
	Amount         json.Number `json:"amount"`
	Status         string      `json:"status"`
	CreatedAt      string      `json:"created_at"`
}

// flexID is an id sent as a JSON string or number, kept as its text.
type flexID string

// UnmarshalJSON accepts a JSON string, an integer of any length, or null.
func (id *flexID) UnmarshalJSON(b []byte) error {
	switch {
	case bytes.Equal(b, []byte("null")):
		*id = ""
		return nil
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*id = flexID(s)
		return nil
	case len(b) > 0 && !bytes.ContainsFunc(b, func(r rune) bool { return r < '0' || r > '9' }):
		*id = flexID(b)
		return nil
	}
	return fmt.Errorf("id %.40s is neither a string nor an integer", b)
}

// wib is Flip's time zone, UTC+7.
var wib = time.FixedZone("WIB", 7*60*60)

// errUnknownBill: the callback names a bill this app does not have.
var errUnknownBill = errors.New("unknown bill")

// newHandwritten migrates the team's two tables, creates links bills and
// returns the hand-written handler.
func newHandwritten(ctx context.Context, db *gorm.DB, token string, links int) (*target, error) {
	db = db.WithContext(ctx)
	if err := db.AutoMigrate(&bill{}, &payment{}); err != nil {
		return nil, fmt.Errorf("migrating: %w", err)
	}
	ids := numericIDs(links)
	bills := make([]bill, len(ids))
	for i, id := range ids {
		bills[i] = bill{LinkID: id, Title: fmt.Sprintf("Load test %d", i+1), Status: "ACTIVE", UpdatedAt: time.Now()}
	}
	if err := db.CreateInBatches(bills, 200).Error; err != nil {
		return nil, fmt.Errorf("creating bills: %w", err)
	}
	want := sha256.Sum256([]byte(token))
	return &target{
		mount: func(r gin.IRouter) error {
			r.POST(callbackPath, func(c *gin.Context) { handleCallback(c, db, want) })
			return nil
		},
		links: ids,
	}, nil
}

// handleCallback answers one Flip callback: 401 for a wrong token, 400 for
// a body that is not a callback, 500 when the database fails (Flip
// retries), 200 once the payment is stored (or was already).
func handleCallback(c *gin.Context, db *gorm.DB, wantToken [sha256.Size]byte) {
	got := sha256.Sum256([]byte(c.PostForm("token")))
	if subtle.ConstantTimeCompare(got[:], wantToken[:]) != 1 {
		c.Status(http.StatusUnauthorized)
		return
	}
	var cb flipCallback
	if err := json.Unmarshal([]byte(c.PostForm("data")), &cb); err != nil || cb.ID == "" || cb.BillLinkID == "" {
		c.Status(http.StatusBadRequest)
		return
	}
	amount, err := cb.Amount.Int64()
	if err != nil || amount < 0 {
		c.Status(http.StatusBadRequest)
		return
	}
	now := time.Now()
	p := payment{
		ID: string(cb.ID), BillLinkID: string(cb.BillLinkID), BillLink: cb.BillLink, BillTitle: cb.BillTitle,
		SenderName: cb.SenderName, SenderBank: cb.SenderBank, SenderBankType: cb.SenderBankType,
		Amount: amount, Status: cb.Status, ReceivedAt: now,
	}
	if t, err := time.ParseInLocation(time.DateTime, cb.CreatedAt, wib); err == nil {
		p.FlipCreatedAt = t
	}
	err = db.WithContext(c.Request.Context()).Transaction(func(tx *gorm.DB) error {
		res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&p)
		if res.Error != nil || res.RowsAffected == 0 || p.Status != "SUCCESSFUL" {
			return res.Error // a repeat, or not a success: nothing more to do
		}
		res = tx.Model(&bill{}).Where("link_id = ?", p.BillLinkID).Updates(map[string]any{
			"paid_count": gorm.Expr("paid_count + 1"),
			"paid_total": gorm.Expr("paid_total + ?", amount),
			"status":     "PAID",
			"updated_at": now,
		})
		if res.Error == nil && res.RowsAffected == 0 {
			return errUnknownBill
		}
		return res.Error
	})
	switch {
	case errors.Is(err, errUnknownBill):
		c.Status(http.StatusUnprocessableEntity)
	case err != nil:
		c.Status(http.StatusInternalServerError)
	default:
		c.Status(http.StatusOK)
	}
}
