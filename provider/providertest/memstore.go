package providertest

import (
	"cmp"
	"context"
	crand "crypto/rand"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/paylinkgo/paylink/provider"
)

// MemStore is an in-memory [provider.Store], [provider.Reader],
// [provider.Pruner], [provider.HookQueue] and [provider.ActionLog]: the
// reference implementation of the contracts. Its clock, for due times and
// leases, is the host's. Every call is atomic under one lock, and a call
// that fails leaves nothing behind. Nothing survives the process, so use it in tests
// and demos, never in production.
type MemStore struct {
	mu    sync.Mutex // guards state; held for the whole of a transaction
	state memState
}

type memState struct {
	links     map[string]provider.Link // key: provider \x00 id
	payments  map[string]provider.Payment
	callbacks []provider.CallbackRecord
	events    map[string][]byte    // claimed event ids -> hook event JSON
	eventAt   map[string]time.Time // claimed event ids -> when claimed
	claims    map[string][]provider.EventKey
	changes   []provider.StatusChange
	runs      []memRun
	reconAt   map[string]time.Time
	intents   map[string]provider.LinkIntent // key: idempotency key
	actions   []provider.OperatorAction
	nextID    int64
}

type memRun struct {
	run        provider.HookRun
	leaseUntil time.Time
	token      string
}

// NewMemStore returns an empty in-memory store.
func NewMemStore() *MemStore {
	return &MemStore{
		state: memState{
			links: map[string]provider.Link{}, payments: map[string]provider.Payment{},
			events: map[string][]byte{}, eventAt: map[string]time.Time{}, claims: map[string][]provider.EventKey{}, reconAt: map[string]time.Time{},
			intents: map[string]provider.LinkIntent{},
		},
	}
}

var (
	_ provider.Store     = (*MemStore)(nil)
	_ provider.HookQueue = (*MemStore)(nil)
	_ provider.ActionLog = (*MemStore)(nil)
	_ provider.Reader    = (*MemStore)(nil)
	_ provider.Pruner    = (*MemStore)(nil)
)

func key(providerName, id string) string { return providerName + "\x00" + id }

func notFound(what, id string) error {
	return provider.Errorf(provider.CodeNotFound, "providertest.MemStore", "%s %q not found", what, id)
}

type memTxKey struct{}

// inTx runs fn atomically under the store's lock: a failed fn leaves
// nothing behind. A nested call (ctx from an outer fn) joins the outer
// one, and so do the store's other methods called with that ctx.
func (s *MemStore) inTx(ctx context.Context, fn func(ctx context.Context, tx *memTx) error) error {
	if tx := s.txOf(ctx); tx != nil {
		return fn(ctx, tx)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	tx := &memTx{store: s, st: &s.state}
	err := fn(context.WithValue(ctx, memTxKey{}, tx), tx)
	if err != nil {
		tx.rollback()
	}
	return err
}

func (s *MemStore) txOf(ctx context.Context) *memTx {
	if tx, ok := ctx.Value(memTxKey{}).(*memTx); ok && tx.store == s {
		return tx
	}
	return nil
}

// do runs fn in ctx's transaction, or in a new one.
func (s *MemStore) do(ctx context.Context, fn func(tx *memTx) error) error {
	return s.inTx(ctx, func(_ context.Context, t *memTx) error { return fn(t) })
}

// read runs fn on the state under the lock (or in ctx's transaction).
func (s *MemStore) read(ctx context.Context, fn func(st *memState)) {
	if tx := s.txOf(ctx); tx != nil {
		fn(tx.st)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	fn(&s.state)
}

// LoadApply implements provider.Store.
func (s *MemStore) LoadApply(ctx context.Context, providerName, linkID, paymentID string) (*provider.ApplyState, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	st := &provider.ApplyState{}
	s.read(ctx, func(ms *memState) {
		if l, ok := ms.links[key(providerName, linkID)]; ok {
			l.Raw = nil
			st.Link = &l
		}
		if p, ok := ms.payments[key(providerName, paymentID)]; ok {
			p.Raw = nil
			st.Payment = &p
		}
		st.Claimed = slices.Clone(ms.claims[key(providerName, paymentID)])
		if st.Link != nil && st.Link.Type == provider.LinkSingle {
			for _, p := range ms.payments {
				if p.Provider == providerName && p.LinkID == linkID && p.ID != paymentID && p.Status.Paid() {
					st.LinkPaidBy = p.ID
					break
				}
			}
		}
	})
	return st, nil
}

// Apply implements provider.Store: it checks the claim and the payment's
// status and refunded amount, then writes everything, under one lock.
func (s *MemStore) Apply(ctx context.Context, w *provider.ApplyWrite) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.do(ctx, func(tx *memTx) error {
		st := tx.st
		if c := w.Claim; c != nil {
			if _, taken := st.events[c.String()]; taken {
				return fmt.Errorf("providertest.MemStore.Apply: event %s: %w", c, provider.ErrWriteConflict)
			}
		}
		if p := w.Payment; p != nil {
			cur, ok := st.payments[key(p.Provider, p.ID)]
			if ok != (w.PreviousStatus != "") || (ok && (cur.Status != w.PreviousStatus || cur.RefundedAmount.Amount != w.PreviousRefunded)) {
				return fmt.Errorf("providertest.MemStore.Apply: payment %s: %w", p.ID, provider.ErrWriteConflict)
			}
		}
		if c := w.Claim; c != nil {
			setKey(tx, st.events, c.String(), slices.Clone(w.Event))
			setKey(tx, st.eventAt, c.String(), time.Now())
			k := key(c.Provider, c.PaymentID)
			setKey(tx, st.claims, k, append(slices.Clip(st.claims[k]), *c))
		}
		if p := w.Payment; p != nil {
			setKey(tx, st.payments, key(p.Provider, p.ID), *p)
		}
		if c := w.StatusChange; c != nil {
			push(tx, &st.changes, *c)
		}
		if w.LinkStatus != "" && w.Payment != nil {
			k := key(w.Payment.Provider, w.Payment.LinkID)
			if l, ok := st.links[k]; ok {
				l.Status, l.UpdatedAt = w.LinkStatus, w.LinkUpdatedAt
				setKey(tx, st.links, k, l)
			}
		}
		now := time.Now()
	runs:
		for i, nr := range w.HookRuns {
			w.HookRuns[i].ID = 0
			for _, r := range st.runs {
				if r.run.EventID == nr.EventID && r.run.Hook == nr.Hook {
					continue runs
				}
			}
			mr := memRun{run: provider.HookRun{
				ID: tx.nextID(), EventID: nr.EventID, Provider: nr.Provider, PaymentID: nr.PaymentID, Hook: nr.Hook, State: provider.HookRunPending,
				IdempotencyKey: nr.IdempotencyKey, NextAt: now, CreatedAt: now, UpdatedAt: now,
			}}
			if w.HookLease != "" {
				mr.run.Attempts, mr.token, mr.leaseUntil = 1, w.HookLease, now.Add(w.HookLeaseFor)
				w.HookRuns[i].ID = mr.run.ID
			}
			push(tx, &st.runs, mr)
		}
		if c := w.Callback; c != nil {
			c.ID = tx.nextID()
			if c.ReceivedAt.IsZero() {
				c.ReceivedAt = now
			}
			rec := *c
			rec.Body = slices.Clone(c.Body)
			push(tx, &st.callbacks, rec)
		}
		return nil
	})
}

// GetLink implements provider.Store.
func (s *MemStore) GetLink(ctx context.Context, providerName, linkID string) (l *provider.Link, err error) {
	s.read(ctx, func(st *memState) { l, err = st.getLink(providerName, linkID) })
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
	s.read(ctx, func(st *memState) {
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

// ListLinks implements provider.Reader.
func (s *MemStore) ListLinks(ctx context.Context, f provider.LinkFilter) (out []provider.Link, err error) {
	s.read(ctx, func(st *memState) {
		var with map[string]bool
		if f.PaymentStatuses != nil {
			with = map[string]bool{}
			for _, p := range st.payments {
				if p.Provider == f.Provider && slices.Contains(f.PaymentStatuses, p.Status) {
					with[p.LinkID] = true
				}
			}
		}
		for _, l := range st.links {
			if l.Provider == f.Provider && !l.CreatedAt.Before(f.Since) && (!f.Active || l.Status == provider.LinkActive) &&
				(with == nil || with[l.ID]) {
				out = append(out, l)
			}
		}
		sortForReconciling(st, out)
	})
	if f.Limit > 0 && len(out) > f.Limit {
		out = out[:f.Limit]
	}
	return out, nil
}

// sortForReconciling orders links never reconciled first (oldest created
// first), then by their last reconciliation.
func sortForReconciling(st *memState, links []provider.Link) {
	slices.SortFunc(links, func(a, b provider.Link) int {
		ra, rb := st.reconAt[key(a.Provider, a.ID)], st.reconAt[key(b.Provider, b.ID)]
		return cmp.Or(ra.Compare(rb), a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID))
	})
}

// SaveLink implements provider.Store.
func (s *MemStore) SaveLink(ctx context.Context, w *provider.LinkWrite) error {
	const op = "providertest.MemStore.SaveLink"
	if w == nil || w.Provider == "" || w.ID == "" || strings.ContainsRune(w.ID, 0) {
		return provider.Errorf(provider.CodeInvalidArgument, op, "a link write needs a provider and an id")
	}
	if w.Link != nil && (w.Link.Provider != w.Provider || w.Link.ID != w.ID) {
		return provider.Errorf(provider.CodeInvalidArgument, op, "the link is %s/%s, the write names %s/%s", w.Link.Provider, w.Link.ID, w.Provider, w.ID)
	}
	return s.do(ctx, func(tx *memTx) error {
		k := key(w.Provider, w.ID)
		cur, found := tx.st.links[k]
		if !w.PreviousUpdatedAt.IsZero() && (!found || !cur.UpdatedAt.Equal(w.PreviousUpdatedAt)) {
			return fmt.Errorf("%s: link %q: %w", op, w.ID, provider.ErrWriteConflict)
		}
		now := time.Now()
		if found && !now.After(cur.UpdatedAt) {
			now = cur.UpdatedAt.Add(time.Nanosecond) // every write is a new version
		}
		if w.Link != nil {
			l := *w.Link
			if l.CreatedAt.IsZero() {
				l.CreatedAt = cmp.Or(cur.CreatedAt, now)
			}
			l.UpdatedAt = now
			if err := tx.putLink(&l); err != nil {
				return err
			}
			w.Link.CreatedAt, w.Link.UpdatedAt = l.CreatedAt, l.UpdatedAt
			found = true
		}
		if w.IntentKey != "" {
			if err := tx.completeIntent(w.IntentKey, w.ID, now); err != nil {
				return err
			}
		}
		if !w.ReconciledAt.IsZero() {
			if !found {
				return notFound("link", w.ID)
			}
			setKey(tx, tx.st.reconAt, k, w.ReconciledAt)
		}
		return nil
	})
}

// GetPayment implements provider.Store.
func (s *MemStore) GetPayment(ctx context.Context, providerName, paymentID string) (p *provider.Payment, err error) {
	s.read(ctx, func(st *memState) {
		x, ok := st.payments[key(providerName, paymentID)]
		if !ok {
			err = notFound("payment", paymentID)
			return
		}
		p = &x
	})
	return p, err
}

// ListLinkPayments implements provider.Store.
func (s *MemStore) ListLinkPayments(ctx context.Context, providerName, linkID string) (out []provider.Payment, err error) {
	s.read(ctx, func(st *memState) {
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
	s.read(ctx, func(st *memState) {
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
	s.read(ctx, func(st *memState) {
		cbs := slices.Clone(st.callbacks)
		slices.SortStableFunc(cbs, newestCallbackFirst)
		var cursor *provider.CallbackRecord
		if f.BeforeID != 0 {
			i := slices.IndexFunc(cbs, func(c provider.CallbackRecord) bool { return c.ID == f.BeforeID })
			if i < 0 {
				return
			}
			cursor = &cbs[i]
		}
		for _, c := range cbs {
			if (f.ID == 0 || c.ID == f.ID) && (f.Provider == "" || c.Provider == f.Provider) && (f.PaymentID == "" || c.PaymentID == f.PaymentID) &&
				(f.LinkID == "" || c.LinkID == f.LinkID) && (!f.Flagged || c.Verdict.Flagged()) &&
				(f.Verdict == "" || c.Verdict == f.Verdict) && (cursor == nil || newestCallbackFirst(*cursor, c) < 0) {
				out = append(out, c)
				if f.Limit > 0 && len(out) == f.Limit {
					return
				}
			}
		}
	})
	return out, nil
}

// newestCallbackFirst orders callbacks as ListCallbacks lists them.
func newestCallbackFirst(a, b provider.CallbackRecord) int {
	return cmp.Or(b.ReceivedAt.Compare(a.ReceivedAt), cmp.Compare(b.ID, a.ID))
}

// ListHookRuns implements provider.Reader.
func (s *MemStore) ListHookRuns(ctx context.Context, f provider.HookRunFilter) (out []provider.HookRun, err error) {
	s.read(ctx, func(st *memState) {
		for _, r := range st.runs {
			if (f.EventID == "" || r.run.EventID == f.EventID) && (f.Hook == "" || r.run.Hook == f.Hook) &&
				(f.State == "" || r.run.State == f.State) && (f.ID == 0 || r.run.ID == f.ID) &&
				(f.PaymentID == "" || r.run.Provider == f.Provider && r.run.PaymentID == f.PaymentID) {
				out = append(out, r.run)
				if f.Limit > 0 && len(out) == f.Limit {
					return
				}
			}
		}
	})
	return out, nil
}

// HookBacklog implements provider.Reader, with the store's clock
// (the host's).
func (s *MemStore) HookBacklog(ctx context.Context) (b provider.HookBacklog, err error) {
	if err := ctx.Err(); err != nil {
		return b, err
	}
	s.read(ctx, func(st *memState) {
		now := time.Now()
		for _, r := range st.runs {
			if (r.run.State == provider.HookRunPending || r.run.State == provider.HookRunRetrying) && !r.run.NextAt.After(now) {
				b.Runs++
				if b.OldestDue.IsZero() || r.run.NextAt.Before(b.OldestDue) {
					b.OldestDue = r.run.NextAt
				}
			}
		}
	})
	return b, nil
}

// ClaimHookRuns implements provider.HookQueue, with the store's clock
// (the host's).
func (s *MemStore) ClaimHookRuns(ctx context.Context, hooks []string, limit int, lease time.Duration) ([]provider.ClaimedHookRun, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []provider.ClaimedHookRun
	err := s.do(ctx, func(tx *memTx) error {
		now := time.Now()
		var due []*memRun
		for i := range tx.st.runs {
			r := &tx.st.runs[i]
			st := r.run.State
			if (st == provider.HookRunPending || st == provider.HookRunRetrying) && !r.run.NextAt.After(now) &&
				!r.leaseUntil.After(now) && slices.Contains(hooks, r.run.Hook) {
				due = append(due, r)
			}
		}
		slices.SortStableFunc(due, func(a, b *memRun) int { return a.run.NextAt.Compare(b.run.NextAt) })
		token := crand.Text()
		for _, r := range due[:min(len(due), max(limit, 0))] {
			old := *r
			tx.onRollback(func() { *r = old })
			r.run.Attempts++
			r.run.UpdatedAt = now
			r.leaseUntil, r.token = now.Add(lease), token
			out = append(out, provider.ClaimedHookRun{Run: r.run, Lease: token, Event: slices.Clone(tx.st.events[r.run.EventID])})
		}
		return nil
	})
	return out, err
}

// ExtendHookLeases implements provider.HookQueue.
func (s *MemStore) ExtendHookLeases(ctx context.Context, leases []provider.HookLease, lease time.Duration) error {
	return s.do(ctx, func(tx *memTx) error {
		until := time.Now().Add(lease)
		for _, l := range leases {
			if r := tx.st.run(l); r != nil {
				old := *r
				tx.onRollback(func() { *r = old })
				r.leaseUntil = until
			}
		}
		return nil
	})
}

// FinishHookRuns implements provider.HookQueue. Requeues come first: if
// one fails, the transaction rolls back and nothing is recorded.
func (s *MemStore) FinishHookRuns(ctx context.Context, results []provider.HookResult) (lost []int64, err error) {
	err = s.do(ctx, func(tx *memTx) error {
		now := time.Now()
		for _, res := range results {
			if res.Requeue {
				if err := tx.requeue(res.ID, now); err != nil {
					return err
				}
			}
		}
		for _, res := range results {
			if res.Requeue {
				continue
			}
			r := tx.st.run(res.HookLease)
			if r == nil {
				lost = append(lost, res.ID)
				continue
			}
			old := *r
			tx.onRollback(func() { *r = old })
			r.run.State, r.run.LastError, r.run.UpdatedAt = res.State, res.Error, now
			if res.Release {
				r.run.Attempts--
			}
			if res.State == provider.HookRunPending || res.State == provider.HookRunRetrying {
				r.run.NextAt = now.Add(max(res.Delay, 0))
			}
			r.leaseUntil, r.token = time.Time{}, ""
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return lost, nil
}

// requeue puts the FAILED run id back in the queue, due at now.
func (tx *memTx) requeue(id int64, now time.Time) error {
	for i := range tx.st.runs {
		r := &tx.st.runs[i]
		if r.run.ID != id {
			continue
		}
		if r.run.State != provider.HookRunFailed {
			return provider.Errorf(provider.CodeFailedPrecondition, "providertest.MemStore.FinishHookRuns",
				"hook run %d is %s, only failed runs can be requeued", id, r.run.State)
		}
		old := *r
		tx.onRollback(func() { *r = old })
		r.run.State, r.run.Attempts, r.run.LastError, r.run.NextAt, r.run.UpdatedAt = provider.HookRunPending, 0, "", now, now
		r.leaseUntil, r.token = time.Time{}, ""
		return nil
	}
	return notFound("hook run", strconv.FormatInt(id, 10))
}

// run returns the run l holds, or nil.
func (st *memState) run(l provider.HookLease) *memRun {
	for i := range st.runs {
		if r := &st.runs[i]; r.run.ID == l.ID {
			if r.token == "" || r.token != l.Token {
				return nil
			}
			return r
		}
	}
	return nil
}

// memTx changes the store's state in place, under the store's lock, and
// keeps an undo log: a failed transaction is rolled back by running it
// backwards. Each change costs O(1), whatever the store holds.
type memTx struct {
	store *MemStore
	st    *memState
	undo  []func()
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

// putLink inserts or replaces a link in the transaction.
func (tx *memTx) putLink(l *provider.Link) error {
	if l.IdempotencyKey != "" {
		for k, x := range tx.st.links {
			if x.IdempotencyKey == l.IdempotencyKey && k != key(l.Provider, l.ID) {
				return provider.Errorf(provider.CodeConflict, "providertest.MemStore.SaveLink", "idempotency key already used by link %q", x.ID)
			}
		}
	}
	setKey(tx, tx.st.links, key(l.Provider, l.ID), *l)
	return nil
}
