package midtranstest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"time"
)

// NotificationMode scripts how notifications are delivered.
type NotificationMode struct {
	// Duplicate sends every notification twice.
	Duplicate bool
	// Hold keeps notifications until [Server.Release] sends them, so a
	// test can deliver them late or out of order.
	Hold bool
}

// ReleaseOrder is the order in which [Server.Release] sends held
// notifications.
type ReleaseOrder int

// The release orders.
const (
	// InOrder sends them as they were made.
	InOrder ReleaseOrder = iota
	// Reversed sends the newest first (settlement before pending).
	Reversed
)

// Notification is one notification the fake made.
type Notification struct {
	OrderID           string
	TransactionStatus string
	StatusCode        string
	// Body is the JSON body, signed.
	Body []byte
	urls []string
}

// Delivery is one attempt to deliver a notification.
type Delivery struct {
	OrderID           string
	TransactionStatus string
	URL               string
	// Attempt is 1 for the first try, 2 for the first retry and so on.
	Attempt int
	// Status is the app's HTTP status, 0 when the request failed.
	Status int
	// Err is the request's error, if any.
	Err string
}

type notifyState struct {
	mode       NotificationMode
	made       []Notification
	held       []Notification
	deliveries []Delivery
	changed    chan struct{} // closed and replaced on every delivery
	queues     map[string]*urlQueue
}

// SetNotificationMode changes how later notifications are delivered.
func (s *Server) SetNotificationMode(m NotificationMode) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.notify.mode = m
}

// Notifications returns every notification made, in order.
func (s *Server) Notifications() []Notification {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.notify.made)
}

// Deliveries returns every delivery attempt so far.
func (s *Server) Deliveries() []Delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.notify.deliveries)
}

// WaitDeliveries waits until at least n delivery attempts have finished.
func (s *Server) WaitDeliveries(ctx context.Context, n int) error {
	for {
		s.mu.Lock()
		got := len(s.notify.deliveries)
		ch := s.changedLocked()
		s.mu.Unlock()
		if got >= n {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("midtranstest: %d of %d deliveries: %w", got, n, ctx.Err())
		case <-ch:
		}
	}
}

func (s *Server) changedLocked() chan struct{} {
	if s.notify.changed == nil {
		s.notify.changed = make(chan struct{})
	}
	return s.notify.changed
}

// Release sends the held notifications in the given order and returns
// how many it sent.
func (s *Server) Release(order ReleaseOrder) int {
	s.mu.Lock()
	held := s.notify.held
	s.notify.held = nil
	s.mu.Unlock()
	if order == Reversed {
		slices.Reverse(held)
	}
	for _, n := range held {
		s.deliver(n)
	}
	return len(held)
}

// Redeliver sends the notification of an order's current status again
// (a duplicate).
func (s *Server) Redeliver(ctx context.Context, orderID string) error {
	return s.SendNotification(ctx, orderID, "")
}

// SendNotification sends a notification for an order as if its
// transaction had the given status ("" for its current one), signed
// correctly: a stale "pending" after "settlement" is how Midtrans's
// out-of-order deliveries look. It ignores the mode.
func (s *Server) SendNotification(ctx context.Context, orderID, status string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	o, ok := s.orders[orderID]
	if !ok || o.tx == nil {
		s.mu.Unlock()
		return fmt.Errorf("%w: %q has no transaction", ErrUnknownOrder, orderID)
	}
	n := s.notification(o, status)
	s.mu.Unlock()
	s.deliver(n)
	return nil
}

// notification builds o's notification (status "" for the current one);
// the caller holds s.mu.
func (s *Server) notification(o *order, status string) Notification {
	tx := *o.tx
	if status != "" {
		tx.status = status
	}
	code := notifyCode(&tx)
	w := s.wire(o, tx.status, code, "midtrans payment notification")
	body, _ := json.Marshal(w)
	return Notification{OrderID: o.id, TransactionStatus: tx.status, StatusCode: code, Body: body, urls: slices.Clone(o.notifyURLs)}
}

// enqueue makes o's notification for its current status and sends (or
// holds) it; the caller holds s.mu.
func (s *Server) enqueue(o *order) {
	n := s.notification(o, "")
	s.notify.made = append(s.notify.made, n)
	copies := 1
	if s.notify.mode.Duplicate {
		copies = 2
	}
	for range copies {
		if s.notify.mode.Hold {
			s.notify.held = append(s.notify.held, n)
			continue
		}
		s.deliverLocked(n)
	}
}

func (s *Server) deliver(n Notification) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.deliverLocked(n)
}

// deliverLocked queues n for each of its URLs; the caller holds s.mu.
// Each URL has one worker that makes first attempts in the order the
// notifications were made; retries run on their own, as at Midtrans,
// so a failing notification never holds back a later one.
func (s *Server) deliverLocked(n Notification) {
	select {
	case <-s.closed:
		return
	default:
	}
	if s.notify.queues == nil {
		s.notify.queues = map[string]*urlQueue{}
	}
	for _, u := range n.urls {
		q := s.notify.queues[u]
		if q == nil {
			q = &urlQueue{}
			s.notify.queues[u] = q
		}
		q.pending = append(q.pending, n)
		if q.running {
			continue
		}
		q.running = true
		s.inflight.Add(1)
		go func() {
			defer s.inflight.Done()
			s.work(u, q)
		}()
	}
}

// urlQueue is the notifications waiting for their first attempt at one URL.
type urlQueue struct {
	pending []Notification
	running bool
}

// work makes the first attempts of q's notifications in order.
func (s *Server) work(u string, q *urlQueue) {
	for {
		s.mu.Lock()
		if len(q.pending) == 0 {
			q.running = false
			s.mu.Unlock()
			return
		}
		n := q.pending[0]
		q.pending = q.pending[1:]
		s.mu.Unlock()
		if s.attempt(n, u, 1) {
			continue
		}
		s.inflight.Add(1)
		go func() {
			defer s.inflight.Done()
			s.retry(n, u)
		}()
	}
}

// retriesFor is Midtrans's retry count by the app's reply: 500 once,
// 503 four times, 400 and 404 twice, 301-303 never, any other failure
// five times.
func retriesFor(status int) int {
	switch {
	case status == 500:
		return 1
	case status == 503:
		return 4
	case status == 400, status == 404:
		return 2
	case status >= 301 && status <= 303:
		return 0
	}
	return 5
}

// attempt makes one delivery attempt and records it; it reports whether
// the notification is done (delivered, or not to be retried).
func (s *Server) attempt(n Notification, u string, attempt int) bool {
	status, err := s.post(n, u)
	d := Delivery{OrderID: n.OrderID, TransactionStatus: n.TransactionStatus, URL: u, Attempt: attempt, Status: status}
	if err != nil {
		d.Err = err.Error()
	}
	s.mu.Lock()
	s.notify.deliveries = append(s.notify.deliveries, d)
	if s.notify.changed != nil {
		close(s.notify.changed)
		s.notify.changed = nil
	}
	s.mu.Unlock()
	if err == nil && status >= 200 && status < 300 {
		return true
	}
	return attempt > min(retriesFor(status), len(s.opts.RetryDelays))
}

// retry retries a failed notification on the retry schedule.
func (s *Server) retry(n Notification, u string) {
	for attempt := 2; ; attempt++ {
		t := time.NewTimer(s.opts.RetryDelays[attempt-2])
		select {
		case <-s.closed:
			t.Stop()
			return
		case <-t.C:
		}
		if s.attempt(n, u, attempt) {
			return
		}
	}
}

func (s *Server) post(n Notification, u string) (int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), s.opts.NotificationTimeout)
	defer cancel()
	go func() {
		select {
		case <-s.closed:
			cancel()
		case <-ctx.Done():
		}
	}()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(n.Body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "Veritrans")
	resp, err := s.opts.HTTPClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	return resp.StatusCode, nil
}
