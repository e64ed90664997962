package fliptest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/paylinkgo/paylink/provider"
)

// CallbackMode scripts how callbacks made from now on are delivered. The
// zero value is Flip's behaviour: each callback delivered once, retried
// until answered 200.
type CallbackMode struct {
	// Drop makes callbacks (recorded in [Server.Callbacks]) that are never
	// sent: a callback lost for good, for testing reconciliation.
	Drop bool
	// Hold queues callbacks until [Server.Release], to deliver them late or
	// out of order. Drop wins over Hold.
	Hold bool
	// Copies sends each callback this many times at once, each copy with
	// its own retries (0 and 1 mean once): Flip "may send multiple
	// callbacks for the same event".
	Copies int
}

// ReleaseOrder is the order in which [Server.Release] sends held callbacks.
type ReleaseOrder int

const (
	// ReleaseInOrder sends held callbacks in the order they were made.
	ReleaseInOrder ReleaseOrder = iota
	// ReleaseReversed sends them newest first (e.g. CANCELLED before the
	// SUCCESSFUL that preceded it).
	ReleaseReversed
)

// callbackState is the callback half of the server's state, guarded by
// Server.mu.
type callbackState struct {
	mode       CallbackMode
	callbacks  []Callback
	last       map[string]Callback // by payment id
	held       []Callback
	queue      []callbackJob
	deliveries []Delivery
	// inflight counts callback copies queued or being delivered.
	inflight int
	// changed is closed and replaced whenever deliveries or inflight change.
	changed chan struct{}
}

type callbackJob struct {
	cb     Callback
	copies int
}

func (c *callbackState) init() {
	c.last = make(map[string]Callback)
	c.changed = make(chan struct{})
}

// SetCallbackMode changes how callbacks made from now on are delivered.
// Callbacks already held stay held until Release.
func (s *Server) SetCallbackMode(m CallbackMode) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.state.mode = m
}

// Callbacks returns every callback made, in order, whatever the mode:
// dropped, held and sent ones alike.
func (s *Server) Callbacks() []Callback {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.state.callbacks)
}

// Held returns the callbacks waiting for Release, oldest first.
func (s *Server) Held() []Callback {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.state.held)
}

// Release sends the held callbacks in the given order and returns how many
// it queued. Each one's first attempt ends before the next one's starts,
// so the receiver sees them in that order. The mode is unchanged: with
// Hold still set, later callbacks are held again.
func (s *Server) Release(order ReleaseOrder) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	held := s.state.held
	s.state.held = nil
	if order == ReleaseReversed {
		slices.Reverse(held)
	}
	for _, cb := range held {
		s.queueLocked(cb)
	}
	return len(held)
}

// Redeliver makes the payment's last callback again, as a new callback with
// the same data (Flip's repeated callbacks). The current mode applies to
// it. A payment that never had a callback (still PENDING) is refused with
// provider.CodeFailedPrecondition; an unknown one with CodeNotFound.
func (s *Server) Redeliver(ctx context.Context, paymentID string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.payments[paymentID]; !ok {
		return simError("Redeliver", provider.CodeNotFound, fieldErr("id", codeBillNotFound, "Payment %s is not found", paymentID))
	}
	last, ok := s.state.last[paymentID]
	if !ok {
		return simError("Redeliver", provider.CodeFailedPrecondition, fieldErr("id", 999, "Payment %s has had no callback", paymentID))
	}
	s.addCallbackLocked(last.Data, true, s.now())
	return nil
}

// SendCallback makes a callback for the payment claiming status, without
// changing the payment: a stale or contradictory report, such as a late
// CANCELLED for a payment that is SUCCESSFUL. The current mode applies.
func (s *Server) SendCallback(ctx context.Context, paymentID string, status PaymentStatus) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if !status.valid() {
		return simError("SendCallback", provider.CodeInvalidArgument, fieldErr("status", codeStatus, "Status %q is invalid", status))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.payments[paymentID]
	if !ok {
		return simError("SendCallback", provider.CodeNotFound, fieldErr("id", codeBillNotFound, "Payment %s is not found", paymentID))
	}
	s.addCallbackLocked(callbackData(p, status), true, s.now())
	return nil
}

// Deliveries returns every finished delivery attempt, in the order they
// finished.
func (s *Server) Deliveries() []Delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.state.deliveries)
}

// WaitDeliveries waits until at least n delivery attempts have finished
// (successful or not), ctx is done, or the server is closed.
func (s *Server) WaitDeliveries(ctx context.Context, n int) error {
	for {
		s.mu.Lock()
		got, changed := len(s.state.deliveries), s.state.changed
		s.mu.Unlock()
		if got >= n {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return fmt.Errorf("fliptest: %d of %d callback deliveries finished: %w", got, n, ctx.Err())
		case <-s.ctx.Done():
			return fmt.Errorf("fliptest: server closed after %d of %d callback deliveries", got, n)
		}
	}
}

// WaitIdle waits until no callback is queued or being delivered (each one
// was answered 200, ran out of retries, or found no callback URL), ctx is
// done, or the server is closed. Held callbacks do not count.
func (s *Server) WaitIdle(ctx context.Context) error {
	for {
		s.mu.Lock()
		busy, changed := s.state.inflight, s.state.changed
		s.mu.Unlock()
		if busy == 0 {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return fmt.Errorf("fliptest: %d callback deliveries still running: %w", busy, ctx.Err())
		case <-s.ctx.Done():
			return errors.New("fliptest: server closed with callback deliveries running")
		}
	}
}

func (s *Server) broadcastLocked() {
	close(s.state.changed)
	s.state.changed = make(chan struct{})
}

// makeCallbackLocked makes the callback of p reaching status.
func (s *Server) makeCallbackLocked(p *payment, status PaymentStatus, redelivery bool, now time.Time) {
	s.addCallbackLocked(callbackData(p, status), redelivery, now)
}

func (s *Server) addCallbackLocked(data CallbackData, redelivery bool, now time.Time) {
	cb := Callback{ID: len(s.state.callbacks) + 1, Data: data, Redelivery: redelivery, MadeAt: now}
	s.state.callbacks = append(s.state.callbacks, cb)
	s.state.last[data.ID] = cb
	switch m := s.state.mode; {
	case m.Drop:
		s.log.Debug("fliptest: callback dropped", "callback", cb.ID, "payment_id", data.ID, "status", data.Status)
	case m.Hold:
		s.state.held = append(s.state.held, cb)
	default:
		s.queueLocked(cb)
	}
}

// queueLocked hands cb to the dispatcher, unless there is nowhere to send it.
func (s *Server) queueLocked(cb Callback) {
	if s.callbackURL == "" {
		return
	}
	job := callbackJob{cb: cb, copies: max(1, s.state.mode.Copies)}
	s.state.queue = append(s.state.queue, job)
	s.state.inflight += job.copies
	select {
	case s.notify <- struct{}{}:
	default:
	}
}

// dispatch starts queued callbacks one at a time, in order: it waits for
// the first attempt of every copy of one callback before starting the next.
// Retries run on their own.
func (s *Server) dispatch() {
	defer s.wg.Done()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-s.notify:
		}
		for {
			s.mu.Lock()
			if len(s.state.queue) == 0 {
				s.mu.Unlock()
				break
			}
			job := s.state.queue[0]
			s.state.queue = s.state.queue[1:]
			s.mu.Unlock()

			var first sync.WaitGroup
			for c := 1; c <= job.copies; c++ {
				first.Add(1)
				s.wg.Add(1)
				go s.deliver(job.cb, c, first.Done)
			}
			first.Wait()
			if s.ctx.Err() != nil {
				return
			}
		}
	}
}

// deliver sends one copy of cb until it is answered 200 or the retries run
// out, calling firstDone once after the first attempt (or on giving up
// before it).
func (s *Server) deliver(cb Callback, copyN int, firstDone func()) {
	defer s.wg.Done()
	defer func() {
		s.mu.Lock()
		s.state.inflight--
		s.broadcastLocked()
		s.mu.Unlock()
	}()
	var once sync.Once
	defer once.Do(firstDone)
	for attempt := 1; attempt <= 1+s.opts.MaxRetries; attempt++ {
		if attempt > 1 {
			t := time.NewTimer(s.opts.RetryInterval)
			select {
			case <-s.ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
		}
		status, sent, err := s.attempt(cb)
		if !sent || s.ctx.Err() != nil {
			return
		}
		d := Delivery{
			CallbackID: cb.ID, PaymentID: cb.Data.ID, Status: cb.Data.Status,
			Copy: copyN, Attempt: attempt, StatusCode: status, At: time.Now(),
		}
		if err != nil {
			d.Err = err.Error()
		}
		s.recordDelivery(d)
		once.Do(firstDone)
		if d.OK() {
			return
		}
	}
	s.log.Warn("fliptest: callback not delivered, retries exhausted",
		"callback", cb.ID, "payment_id", cb.Data.ID, "status", cb.Data.Status)
}

func (s *Server) recordDelivery(d Delivery) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.state.deliveries = append(s.state.deliveries, d)
	s.broadcastLocked()
	s.log.Debug("fliptest: callback attempt", "callback", d.CallbackID, "payment_id", d.PaymentID,
		"status", d.Status, "attempt", d.Attempt, "http_status", d.StatusCode, "error", d.Err)
}

// attempt POSTs cb once. sent is false when there is no callback URL any
// more (nothing was attempted).
func (s *Server) attempt(cb Callback) (status int, sent bool, err error) {
	s.mu.Lock()
	target := s.callbackURL
	s.mu.Unlock()
	if target == "" {
		return 0, false, nil
	}
	data, err := json.Marshal(cb.Data)
	if err == nil {
		data, err = s.opts.Quirks.looseCallbackData(data)
	}
	if err != nil {
		return 0, true, err
	}
	body := s.opts.Quirks.callbackBody(data, s.opts.CallbackToken)
	ctx, cancel := context.WithTimeout(s.ctx, s.opts.CallbackTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, strings.NewReader(body))
	if err != nil {
		return 0, true, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "fliptest-callback")
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, true, err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	return resp.StatusCode, true, nil
}
