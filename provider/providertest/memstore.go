package providertest

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/paylinkgo/paylink/provider"
)

// MemStore is an in-memory [provider.Store]: the reference implementation
// of the Store contract. Transactions are serialized and atomic (a failed
// one leaves nothing behind). Hook runs are delivered by a worker started
// with StartHooks, with the policy's retries. Nothing survives the process,
// so use it in tests and demos, never in production.
type MemStore struct {
	mu    sync.Mutex // guards state; held for the whole of a transaction
	state memState
	wake  chan struct{}

	runMu  sync.Mutex // guards the worker fields below
	cancel context.CancelFunc
	done   chan struct{}
}

type memState struct {
	links     map[string]provider.Link // key: provider \x00 id
	payments  map[string]provider.Payment
	callbacks []provider.CallbackRecord
	events    map[string]provider.HookEvent // claimed keys; value set by EnqueueHooks
	changes   []provider.StatusChange
	runs      []memRun
	reconAt   map[string]time.Time
	nextID    int64
}

type memRun struct {
	run  provider.HookRun
	next time.Time // earliest next attempt
}

// NewMemStore returns an empty in-memory store.
func NewMemStore() *MemStore {
	return &MemStore{
		state: memState{
			links: map[string]provider.Link{}, payments: map[string]provider.Payment{},
			events: map[string]provider.HookEvent{}, reconAt: map[string]time.Time{},
		},
		wake: make(chan struct{}, 1),
	}
}

var _ provider.Store = (*MemStore)(nil)

func key(providerName, id string) string { return providerName + "\x00" + id }

func notFound(what, id string) error {
	return provider.Errorf(provider.CodeNotFound, "providertest.MemStore", "%s %q not found", what, id)
}

type memTxKey struct{}

// InTx runs fn atomically. A nested InTx (ctx from an outer fn) joins the
// outer transaction.
func (s *MemStore) InTx(ctx context.Context, fn func(ctx context.Context, tx provider.Tx) error) error {
	if tx, ok := ctx.Value(memTxKey{}).(*memTx); ok && tx.store == s {
		return fn(ctx, tx)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	tx := &memTx{store: s, st: &s.state}
	err := fn(context.WithValue(ctx, memTxKey{}, tx), tx)
	if err != nil {
		tx.rollback()
	}
	s.mu.Unlock()
	if err == nil && tx.enqueued {
		s.poke()
	}
	return err
}

func (s *MemStore) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func (s *MemStore) locked(fn func(st *memState)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fn(&s.state)
}

// GetLink implements provider.Store.
func (s *MemStore) GetLink(ctx context.Context, providerName, linkID string) (l *provider.Link, err error) {
	s.locked(func(st *memState) { l, err = st.getLink(providerName, linkID) })
	return l, err
}

func (st *memState) getLink(providerName, linkID string) (*provider.Link, error) {
	l, ok := st.links[key(providerName, linkID)]
	if !ok {
		return nil, notFound("link", linkID)
	}
	return &l, nil
}

// GetLinkByIdempotencyKey implements provider.Store.
func (s *MemStore) GetLinkByIdempotencyKey(ctx context.Context, k string) (l *provider.Link, err error) {
	s.locked(func(st *memState) {
		for _, x := range st.links {
			if k != "" && x.IdempotencyKey == k {
				l = &x
				return
			}
		}
		err = notFound("idempotency key", k)
	})
	return l, err
}

// ListOpenLinks implements provider.Store.
func (s *MemStore) ListOpenLinks(ctx context.Context, providerName string, since time.Time, limit int) (out []provider.Link, err error) {
	s.locked(func(st *memState) {
		for _, l := range st.links {
			if l.Provider == providerName && l.Status == provider.LinkActive && !l.CreatedAt.Before(since) {
				out = append(out, l)
			}
		}
		slices.SortFunc(out, func(a, b provider.Link) int {
			ra, rb := st.reconAt[key(a.Provider, a.ID)], st.reconAt[key(b.Provider, b.ID)]
			return cmp.Or(ra.Compare(rb), a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID))
		})
	})
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// MarkReconciled implements provider.Store.
func (s *MemStore) MarkReconciled(ctx context.Context, providerName, linkID string, at time.Time) error {
	return s.InTx(ctx, func(ctx context.Context, t provider.Tx) error {
		tx := t.(*memTx)
		if _, err := tx.st.getLink(providerName, linkID); err != nil {
			return err
		}
		setKey(tx, tx.st.reconAt, key(providerName, linkID), at)
		return nil
	})
}

// GetPayment implements provider.Store.
func (s *MemStore) GetPayment(ctx context.Context, providerName, paymentID string) (p *provider.Payment, err error) {
	s.locked(func(st *memState) { p, err = st.getPayment(providerName, paymentID) })
	return p, err
}

func (st *memState) getPayment(providerName, paymentID string) (*provider.Payment, error) {
	p, ok := st.payments[key(providerName, paymentID)]
	if !ok {
		return nil, notFound("payment", paymentID)
	}
	return &p, nil
}

// ListLinkPayments implements provider.Store.
func (s *MemStore) ListLinkPayments(ctx context.Context, providerName, linkID string) (out []provider.Payment, err error) {
	s.locked(func(st *memState) {
		for _, p := range st.payments {
			if p.Provider == providerName && p.LinkID == linkID {
				out = append(out, p)
			}
		}
	})
	slices.SortFunc(out, func(a, b provider.Payment) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID))
	})
	return out, nil
}

// ListStatusChanges implements provider.Store.
func (s *MemStore) ListStatusChanges(ctx context.Context, providerName, paymentID string) (out []provider.StatusChange, err error) {
	s.locked(func(st *memState) {
		for _, c := range st.changes {
			if c.Provider == providerName && c.PaymentID == paymentID {
				out = append(out, c)
			}
		}
	})
	return out, nil
}

// ListCallbacks implements provider.Store.
func (s *MemStore) ListCallbacks(ctx context.Context, f provider.CallbackFilter) (out []provider.CallbackRecord, err error) {
	s.locked(func(st *memState) {
		for i := len(st.callbacks) - 1; i >= 0; i-- {
			c := st.callbacks[i]
			if (f.Provider == "" || c.Provider == f.Provider) && (f.PaymentID == "" || c.PaymentID == f.PaymentID) &&
				(f.LinkID == "" || c.LinkID == f.LinkID) && (!f.Flagged || c.Verdict.Flagged()) {
				out = append(out, c)
				if f.Limit > 0 && len(out) == f.Limit {
					return
				}
			}
		}
	})
	return out, nil
}

// ListHookRuns implements provider.Store.
func (s *MemStore) ListHookRuns(ctx context.Context, f provider.HookRunFilter) (out []provider.HookRun, err error) {
	s.locked(func(st *memState) {
		for _, r := range st.runs {
			if (f.EventID == "" || r.run.EventID == f.EventID) && (f.Hook == "" || r.run.Hook == f.Hook) &&
				(f.State == "" || r.run.State == f.State) {
				out = append(out, r.run)
				if f.Limit > 0 && len(out) == f.Limit {
					return
				}
			}
		}
	})
	return out, nil
}

// RetryHookRun implements provider.Store.
func (s *MemStore) RetryHookRun(ctx context.Context, id int64) error {
	return s.InTx(ctx, func(ctx context.Context, t provider.Tx) error {
		tx := t.(*memTx)
		for i := range tx.st.runs {
			r := &tx.st.runs[i]
			if r.run.ID != id {
				continue
			}
			if r.run.State != provider.HookRunFailed {
				return provider.Errorf(provider.CodeFailedPrecondition, "providertest.MemStore.RetryHookRun",
					"hook run %d is %s, only failed runs can be retried", id, r.run.State)
			}
			old := *r
			tx.onRollback(func() { *r = old })
			r.run.State, r.run.Attempts, r.next = provider.HookRunPending, 0, time.Time{}
			r.run.UpdatedAt = time.Now()
			tx.enqueued = true
			return nil
		}
		return notFound("hook run", strconv.FormatInt(id, 10))
	})
}

// StartHooks implements provider.Store: one worker goroutine delivers due
// runs, one at a time, until StopHooks or ctx is done.
func (s *MemStore) StartHooks(ctx context.Context, d provider.HookDispatcher, policy provider.HookPolicy) error {
	s.runMu.Lock()
	defer s.runMu.Unlock()
	if s.cancel != nil {
		return provider.Errorf(provider.CodeFailedPrecondition, "providertest.MemStore.StartHooks", "hooks already started")
	}
	ctx, cancel := context.WithCancel(ctx)
	s.cancel, s.done = cancel, make(chan struct{})
	go s.work(ctx, d, policy.WithDefaults(), s.done)
	return nil
}

// StopHooks implements provider.Store.
func (s *MemStore) StopHooks(ctx context.Context) error {
	s.runMu.Lock()
	cancel, done := s.cancel, s.done
	s.cancel, s.done = nil, nil
	s.runMu.Unlock()
	if cancel == nil {
		return nil
	}
	cancel()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *MemStore) work(ctx context.Context, d provider.HookDispatcher, policy provider.HookPolicy, done chan struct{}) {
	defer close(done)
	for {
		wait := s.runDue(ctx, d, policy)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-s.wake:
		case <-t.C:
		}
		t.Stop()
	}
}

// runDue runs every due hook run once and returns how long to wait for the next.
func (s *MemStore) runDue(ctx context.Context, d provider.HookDispatcher, policy provider.HookPolicy) time.Duration {
	for ctx.Err() == nil {
		var (
			run  provider.HookRun
			ev   provider.HookEvent
			wait = time.Minute
			due  bool
		)
		now := time.Now()
		s.locked(func(st *memState) {
			for _, r := range st.runs {
				if r.run.State != provider.HookRunPending && r.run.State != provider.HookRunRetrying {
					continue
				}
				if !r.next.After(now) {
					run, ev, due = r.run, st.events[r.run.EventID], true
					return
				}
				wait = min(wait, r.next.Sub(now))
			}
		})
		if !due {
			return wait
		}
		err := dispatch(ctx, d, policy, run, ev)
		if ctx.Err() != nil && err != nil {
			return 0 // stopping: leave the run for the next start
		}
		s.locked(func(st *memState) {
			for i := range st.runs {
				r := &st.runs[i]
				if r.run.ID != run.ID {
					continue
				}
				r.run.Attempts++
				r.run.UpdatedAt = time.Now()
				switch {
				case err == nil:
					r.run.State, r.run.LastError = provider.HookRunSucceeded, ""
				case r.run.Attempts >= policy.MaxAttempts:
					r.run.State, r.run.LastError = provider.HookRunFailed, err.Error()
				default:
					r.run.State, r.run.LastError = provider.HookRunRetrying, err.Error()
					r.next = time.Now().Add(jitter(policy.Backoff(r.run.Attempts)))
				}
			}
		})
	}
	return 0
}

// dispatch runs one attempt under the policy's timeout; a panic that
// escapes the dispatcher becomes an error, so the worker lives on.
func dispatch(ctx context.Context, d provider.HookDispatcher, policy provider.HookPolicy, run provider.HookRun, ev provider.HookEvent) (err error) {
	ctx, cancel := context.WithTimeout(ctx, policy.Timeout)
	defer cancel()
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("hook %q panicked: %v", run.Hook, r)
		}
	}()
	return d.DispatchHook(ctx, run, ev)
}

func jitter(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return d + rand.N(d/10+1)
}

// memTx changes the store's state in place, under the store's lock, and
// keeps an undo log: a failed transaction is rolled back by running it
// backwards. Each change costs O(1), whatever the store holds.
type memTx struct {
	store    *MemStore
	st       *memState
	undo     []func()
	enqueued bool
}

func (tx *memTx) onRollback(f func()) { tx.undo = append(tx.undo, f) }

func (tx *memTx) rollback() {
	for i := len(tx.undo) - 1; i >= 0; i-- {
		tx.undo[i]()
	}
	tx.undo = nil
}

// setKey sets m[k] = v, undoably.
func setKey[K comparable, V any](tx *memTx, m map[K]V, k K, v V) {
	old, had := m[k]
	m[k] = v
	tx.onRollback(func() {
		if had {
			m[k] = old
		} else {
			delete(m, k)
		}
	})
}

// push appends v to *s, undoably.
func push[T any](tx *memTx, s *[]T, v T) {
	n := len(*s)
	*s = append(*s, v)
	tx.onRollback(func() { *s = (*s)[:n] })
}

// nextID returns a fresh id, undoably.
func (tx *memTx) nextID() int64 {
	old := tx.st.nextID
	tx.st.nextID++
	tx.onRollback(func() { tx.st.nextID = old })
	return tx.st.nextID
}

func (tx *memTx) GetLinkForUpdate(ctx context.Context, providerName, linkID string) (*provider.Link, error) {
	return tx.st.getLink(providerName, linkID)
}

func (tx *memTx) PutLink(ctx context.Context, l *provider.Link) error {
	if l.Provider == "" || l.ID == "" {
		return provider.Errorf(provider.CodeInvalidArgument, "providertest.MemStore.PutLink", "link needs a provider and an id")
	}
	if l.IdempotencyKey != "" {
		for k, x := range tx.st.links {
			if x.IdempotencyKey == l.IdempotencyKey && k != key(l.Provider, l.ID) {
				return provider.Errorf(provider.CodeConflict, "providertest.MemStore.PutLink", "idempotency key already used by link %q", x.ID)
			}
		}
	}
	setKey(tx, tx.st.links, key(l.Provider, l.ID), *l)
	return nil
}

func (tx *memTx) RecordCallback(ctx context.Context, rec *provider.CallbackRecord) error {
	rec.ID = tx.nextID()
	c := *rec
	c.Body = slices.Clone(rec.Body)
	push(tx, &tx.st.callbacks, c)
	return nil
}

func (tx *memTx) ClaimEvent(ctx context.Context, k provider.EventKey) (bool, error) {
	if _, ok := tx.st.events[k.String()]; ok {
		return false, nil
	}
	setKey(tx, tx.st.events, k.String(), provider.HookEvent{ID: k.String()})
	return true, nil
}

func (tx *memTx) GetPaymentForUpdate(ctx context.Context, providerName, paymentID string) (*provider.Payment, error) {
	return tx.st.getPayment(providerName, paymentID)
}

func (tx *memTx) PutPayment(ctx context.Context, p *provider.Payment) error {
	if p.Provider == "" || p.ID == "" {
		return provider.Errorf(provider.CodeInvalidArgument, "providertest.MemStore.PutPayment", "payment needs a provider and an id")
	}
	setKey(tx, tx.st.payments, key(p.Provider, p.ID), *p)
	return nil
}

func (tx *memTx) AddStatusChange(ctx context.Context, c provider.StatusChange) error {
	push(tx, &tx.st.changes, c)
	return nil
}

func (tx *memTx) EnqueueHooks(ctx context.Context, ev provider.HookEvent, hooks []string) error {
	setKey(tx, tx.st.events, ev.ID, ev)
	now := time.Now()
outer:
	for _, h := range hooks {
		for _, r := range tx.st.runs {
			if r.run.EventID == ev.ID && r.run.Hook == h {
				continue outer
			}
		}
		push(tx, &tx.st.runs, memRun{run: provider.HookRun{
			ID: tx.nextID(), EventID: ev.ID, Hook: h, State: provider.HookRunPending,
			IdempotencyKey: IdempotencyKey(ev.ID, h), CreatedAt: now, UpdatedAt: now,
		}})
		tx.enqueued = true
	}
	return nil
}

// IdempotencyKey derives a hook run's stable idempotency key from the event
// id and hook name. Stores may use it so keys agree across implementations.
func IdempotencyKey(eventID, hook string) string {
	sum := sha256.Sum256([]byte(eventID + "\x00" + hook))
	return "paylink_" + hex.EncodeToString(sum[:16])
}
