package gormstore

import (
	"time"

	"github.com/paylinkgo/paylink/provider"
)

// utc normalizes a time for storage: UTC, at the microsecond precision
// PostgreSQL keeps, so that SQLite and PostgreSQL give back the same value.
func utc(t time.Time) time.Time { return t.UTC().Round(time.Microsecond) }

// utcPtr stores a zero time as NULL.
func utcPtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := utc(t)
	return &u
}

// fromPtr reads a NULL time back as the zero time.
func fromPtr(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}

func nilIfEmpty(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}

func linkToRecord(l *provider.Link) LinkRecord {
	rec := LinkRecord{
		Provider: l.Provider, LinkID: l.ID,
		Status: string(l.Status), Amount: l.Amount.Amount, Currency: string(l.Amount.Currency),
		Type: string(l.Type), Step: int(l.Step), URL: l.URL, Title: l.Title,
		PaymentURL: l.PaymentURL, RedirectURL: l.RedirectURL,
		CustomerName: l.Customer.Name, CustomerEmail: l.Customer.Email,
		CustomerPhone: l.Customer.Phone, CustomerAddress: l.Customer.Address,
		MethodBank: l.Method.Bank, MethodType: l.Method.Type,
		ExpiresAt: utcPtr(l.ExpiresAt), Raw: nilIfEmpty(l.Raw),
	}
	if l.IdempotencyKey != "" {
		key := l.IdempotencyKey
		rec.IdempotencyKey = &key
	}
	if !l.CreatedAt.IsZero() {
		rec.CreatedAt = utc(l.CreatedAt)
	}
	return rec
}

func linkFromRecord(r *LinkRecord) *provider.Link {
	l := &provider.Link{
		ID: r.LinkID, Provider: r.Provider, URL: r.URL, Title: r.Title,
		Type:      provider.LinkType(r.Type),
		Amount:    provider.Money{Amount: r.Amount, Currency: provider.Currency(r.Currency)},
		Status:    provider.LinkStatus(r.Status),
		ExpiresAt: fromPtr(r.ExpiresAt),
		Step:      provider.Step(r.Step),
		Customer: provider.Customer{
			Name: r.CustomerName, Email: r.CustomerEmail, Phone: r.CustomerPhone, Address: r.CustomerAddress,
		},
		Method:      provider.PaymentMethod{Bank: r.MethodBank, Type: r.MethodType},
		PaymentURL:  r.PaymentURL,
		RedirectURL: r.RedirectURL,
		CreatedAt:   r.CreatedAt.UTC(),
		UpdatedAt:   r.UpdatedAt.UTC(),
		Raw:         nilIfEmpty(r.Raw),
	}
	if r.IdempotencyKey != nil {
		l.IdempotencyKey = *r.IdempotencyKey
	}
	return l
}

func paymentToRecord(p *provider.Payment) PaymentRecord {
	return PaymentRecord{
		Provider: p.Provider, PaymentID: p.ID, LinkID: p.LinkID,
		Amount: p.Amount.Amount, Currency: string(p.Amount.Currency),
		Status: string(p.Status), RawStatus: p.RawStatus, RefundedAmount: p.RefundedAmount.Amount,
		SenderName: p.Sender.Name, SenderEmail: p.Sender.Email,
		SenderPhone: p.Sender.Phone, SenderAddress: p.Sender.Address,
		MethodBank: p.Method.Bank, MethodType: p.Method.Type,
		VANumber: p.VANumber, PaymentURL: p.PaymentURL,
		ProviderCreatedAt: utcPtr(p.CreatedAt), CompletedAt: utcPtr(p.CompletedAt),
		Raw: nilIfEmpty(p.Raw),
	}
}

func paymentFromRecord(r *PaymentRecord) *provider.Payment {
	return &provider.Payment{
		ID: r.PaymentID, Provider: r.Provider, LinkID: r.LinkID,
		Amount:         provider.Money{Amount: r.Amount, Currency: provider.Currency(r.Currency)},
		Status:         provider.PaymentStatus(r.Status),
		RawStatus:      r.RawStatus,
		RefundedAmount: refunded(r.RefundedAmount, r.Currency),
		Sender: provider.Customer{
			Name: r.SenderName, Email: r.SenderEmail, Phone: r.SenderPhone, Address: r.SenderAddress,
		},
		Method:      provider.PaymentMethod{Bank: r.MethodBank, Type: r.MethodType},
		VANumber:    r.VANumber,
		PaymentURL:  r.PaymentURL,
		CreatedAt:   fromPtr(r.ProviderCreatedAt),
		CompletedAt: fromPtr(r.CompletedAt),
		UpdatedAt:   r.UpdatedAt.UTC(),
		Raw:         nilIfEmpty(r.Raw),
	}
}

func hookRunFromRecord(r *HookRunRecord) provider.HookRun {
	return provider.HookRun{
		ID: r.ID, EventID: r.EventID, Provider: r.Provider, PaymentID: r.PaymentID, Hook: r.Hook,
		State: provider.HookRunState(r.State), Attempts: r.Attempts, LastError: r.LastError,
		IdempotencyKey: r.IdempotencyKey, NextAt: r.NextAt.UTC(), CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
	}
}

// refunded reads a refunded amount back: the zero Money when nothing was
// returned (as the payment was written), else the amount in the
// payment's currency.
func refunded(amount int64, currency string) provider.Money {
	if amount == 0 {
		return provider.Money{}
	}
	return provider.Money{Amount: amount, Currency: provider.Currency(currency)}
}
