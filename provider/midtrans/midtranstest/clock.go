package midtranstest

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// defaultPageExpiry is Midtrans's page_expiry default: a Snap page lives
// 24 hours.
const defaultPageExpiry = 24 * time.Hour

// expiryRequest is Snap create's expiry and page_expiry objects.
type expiryRequest struct {
	StartTime string          `json:"start_time"`
	Unit      string          `json:"unit"`
	Duration  json.RawMessage `json:"duration"`
}

// duration reads an expiry object's unit ("minute", "hour", "day", plural
// or not) and duration; what is wrong is said in the fake's own words
// (Midtrans does not document its messages).
func (e *expiryRequest) duration(field string) (time.Duration, string) {
	var n int64
	if err := json.Unmarshal(e.Duration, &n); err != nil || n <= 0 {
		return 0, field + ".duration must be a positive integer"
	}
	var unit time.Duration
	switch strings.TrimSuffix(strings.ToLower(e.Unit), "s") {
	case "minute":
		unit = time.Minute
	case "hour":
		unit = time.Hour
	case "day":
		unit = 24 * time.Hour
	default:
		return 0, field + ".unit must be minute, hour or day"
	}
	return time.Duration(n) * unit, ""
}

// applyExpiry sets o's page expiry and payment lifetime from the create
// request's expiry and page_expiry (page_expiry wins for the page); it
// returns the fake's messages for what is invalid.
func (o *order) applyExpiry(expiry, page *expiryRequest) []string {
	var msgs []string
	o.pageExpiry = o.created.Add(defaultPageExpiry)
	if expiry != nil {
		d, msg := expiry.duration("expiry")
		if msg != "" {
			msgs = append(msgs, msg)
		} else {
			o.payLifetime = d
			start := o.created
			if expiry.StartTime != "" {
				t, err := time.Parse("2006-01-02 15:04:05 -0700", expiry.StartTime)
				if err != nil {
					msgs = append(msgs, "expiry.start_time must be YYYY-MM-DD HH:MM:SS +0700")
				}
				start, o.payStart = t, t
			}
			o.pageExpiry = start.Add(d)
		}
	}
	if page != nil {
		d, msg := page.duration("page_expiry")
		if msg != "" {
			msgs = append(msgs, msg)
		} else {
			o.pageExpiry = o.created.Add(d)
		}
	}
	return msgs
}

// paymentExpiry is when a payment picked at now on o's page expires: the
// create request's blanket expiry (from its start_time, or from now),
// else Options.PendingExpiry from now.
func (s *Server) paymentExpiry(o *order, now time.Time) time.Time {
	switch {
	case o.payLifetime > 0 && !o.payStart.IsZero():
		return o.payStart.Add(o.payLifetime)
	case o.payLifetime > 0:
		return now.Add(o.payLifetime)
	case s.opts.PendingExpiry > 0:
		return now.Add(s.opts.PendingExpiry)
	}
	return now.Add(24 * time.Hour)
}

// pageExpired reports whether o's Snap page has expired on the clock
// (only with Options.ExpireOnClock); the caller holds s.mu.
func (s *Server) pageExpired(o *order) bool {
	return s.opts.ExpireOnClock && !o.pageExpiry.IsZero() && !s.now().Before(o.pageExpiry)
}

// settlementCutoff is when Midtrans settles a card captured at t, and
// cancels it if it is still challenged: 16:00 WIB the next day.
func settlementCutoff(t time.Time) time.Time {
	w := t.In(wib)
	return time.Date(w.Year(), w.Month(), w.Day()+1, 16, 0, 0, 0, wib)
}

// dueLocked applies what the clock says has come due under the opt-in
// modes: pending payments past their expiry_time expire, challenged
// captures past the settlement cut-off are cancelled, each with its
// notification. It returns the orders it changed; the caller holds s.mu.
func (s *Server) dueLocked() []*order {
	if !s.opts.ExpireOnClock && !s.opts.CancelUnapprovedChallenges {
		return nil
	}
	now := s.now()
	var changed []*order
	for _, o := range s.orders {
		tx := o.tx
		switch {
		case tx == nil:
		case s.opts.ExpireOnClock && tx.status == "pending" && !tx.expiry.IsZero() && !now.Before(tx.expiry):
			s.move(o, "expire", "")
			changed = append(changed, o)
		case s.opts.CancelUnapprovedChallenges && tx.status == "capture" && tx.fraud == "challenge" &&
			!now.Before(settlementCutoff(tx.captured)):
			s.move(o, "cancel", "")
			changed = append(changed, o)
		}
	}
	return changed
}

// due applies what has come due (see [Server.Tick]).
func (s *Server) due() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dueLocked()
}

// Tick applies at once what the clock (Options.Now) says has come due
// under the opt-in modes Options.ExpireOnClock and
// Options.CancelUnapprovedChallenges, and returns the transactions it
// changed. API requests, page views and simulation calls do the same
// before they run; Tick is for a test or a server that wants the
// notifications without making a request.
func (s *Server) Tick(ctx context.Context) ([]Transaction, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Transaction
	for _, o := range s.dueLocked() {
		out = append(out, snapshot(o))
	}
	return out, nil
}

// Approve approves a challenged card capture, as the merchant does on
// the dashboard: fraud_status becomes "accept" and the payment counts as
// paid (a "200" capture notification).
func (s *Server) Approve(ctx context.Context, orderID string) (*Transaction, error) {
	return s.sim(ctx, orderID, func(o *order) error {
		if o.tx == nil || o.tx.status != "capture" || o.tx.fraud != "challenge" {
			return fmt.Errorf("%w: only a challenged capture can be approved", ErrWrongState)
		}
		o.tx.fraud = "accept"
		s.enqueue(o)
		return nil
	})
}

// refundWindow is how long after settlement Midtrans refunds a payment
// of this type, 0 for no documented limit: the shortest window Midtrans
// documents for it (see Options.RefundLimits).
func refundWindow(paymentType string) time.Duration {
	const day = 24 * time.Hour
	switch paymentType {
	case "ovo", "qris":
		return 7 * day
	case "kredivo":
		return 14 * day
	case "dana", "gopay":
		return 45 * day
	case "shopeepay":
		return 365 * day
	}
	return 0
}

// fullRefundOnly reports whether Midtrans refunds payments of this type
// in full only.
func fullRefundOnly(paymentType string) bool {
	return paymentType == "shopeepay" || paymentType == "ovo"
}

// refundLimit is Midtrans's refusal of a refund of amt (0: the rest) of
// tx under Options.RefundLimits, or 0; the caller holds s.mu.
func (s *Server) refundLimit(tx *transaction, amt int64) (int, string) {
	if !s.opts.RefundLimits {
		return 0, ""
	}
	if w := refundWindow(tx.paymentType); w > 0 && !tx.settled.IsZero() && s.now().After(tx.settled.Add(w)) {
		return 412, "Merchant cannot modify the status of the transaction"
	}
	if fullRefundOnly(tx.paymentType) && (tx.refunded > 0 || (amt != 0 && amt != tx.gross)) {
		return 414, "Refund request is rejected due to invalid amount"
	}
	return 0, ""
}
