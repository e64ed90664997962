package provider

import (
	"fmt"
	"strconv"
)

// Currency is an ISO 4217 currency code.
type Currency string

// IDR is the Indonesian rupiah, the only currency Flip accepts.
const IDR Currency = "IDR"

// Money is an amount in whole units of a currency. Rupiah has no minor
// unit in practice, so Flip amounts are whole rupiah. Money is never a
// float.
type Money struct {
	Amount   int64    `json:"amount"`
	Currency Currency `json:"currency"`
}

// Rupiah returns an IDR amount.
func Rupiah(amount int64) Money { return Money{Amount: amount, Currency: IDR} }

// IsZero reports whether m has no amount.
func (m Money) IsZero() bool { return m.Amount == 0 }

// Equal reports whether m and o are the same amount in the same currency.
func (m Money) Equal(o Money) bool { return m.Amount == o.Amount && m.Currency == o.Currency }

// String formats m as "IDR 45000".
func (m Money) String() string {
	c := m.Currency
	if c == "" {
		c = "???"
	}
	return fmt.Sprintf("%s %s", c, strconv.FormatInt(m.Amount, 10))
}
