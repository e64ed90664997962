package provider

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ReconcileReport says what one reconciliation pass found.
type ReconcileReport struct {
	// Links is how many links were visited, PaidLinks included.
	Links int
	// PaidLinks is how many of them were visited because they hold a paid
	// payment a refund or chargeback may still move (see
	// ServiceOptions.ReconcilePaid).
	PaidLinks int
	// Payments is how many payments the providers reported for them.
	Payments int
	// Applied is how many of those changed a stored payment: each one is
	// a callback that had not (yet) arrived.
	Applied int
	// Errors lists links that could not be reconciled; later passes try
	// them again, after the links that have waited longer.
	Errors []error
	// Pruned is what the pass pruned afterwards (ServiceOptions.Retention).
	Pruned PruneReport
}

// Reconcile visits the open links of every provider (ACTIVE, created within
// ReconcileLookback, least recently reconciled first, ReconcileBatch per
// provider), asks the provider for their payments and applies whatever it
// finds through [Service.ApplyEvent]. A callback lost for longer than the
// provider's retry window is applied this way. With ReconcilePaid it then
// visits, likewise, the links created within it that hold a payment a
// refund or chargeback may still move (SUCCESSFUL or partly returned). Safe to run concurrently
// with callbacks and on several replicas: every event is claimed once.
//
// With ServiceOptions.Retention set, the pass then prunes what is older
// than that (see [Pruner]; the report's Pruned says what went).
//
// The returned error joins the per-link errors and a pruning error; the
// report is valid either way.
func (s *Service) Reconcile(ctx context.Context) (ReconcileReport, error) {
	var rep ReconcileReport
	var err error
	if s.obs == nil {
		rep, err = s.reconcile(ctx)
	} else {
		start := s.now()
		octx := s.obs.StartReconcile(ctx)
		rep, err = s.reconcile(octx)
		s.obs.EndReconcile(octx, rep, s.now().Sub(start))
	}
	if s.retention > 0 {
		pruned, perr := s.prune(ctx, s.retention)
		rep.Pruned = pruned
		err = errors.Join(err, perr)
	}
	return rep, err
}

func (s *Service) reconcile(ctx context.Context) (ReconcileReport, error) {
	var rep ReconcileReport
	r, err := s.reader("provider.Service.Reconcile")
	if err != nil {
		return rep, err
	}
	now := s.now()
	for _, name := range s.names {
		p := s.providers[name]
		links, err := r.ListLinks(ctx, LinkFilter{Provider: name, Active: true, Since: now.Add(-s.lookback), Limit: s.batch})
		if err != nil {
			rep.Errors = append(rep.Errors, fmt.Errorf("listing open links of %s: %w", name, err))
			continue
		}
		visited := make(map[string]bool, len(links))
		for _, l := range links {
			if !s.visit(ctx, p, &l, &rep) {
				return rep, errors.Join(rep.Errors...)
			}
			visited[l.ID] = true
		}
		if s.paidFor <= 0 {
			continue
		}
		paid, err := r.ListLinks(ctx, LinkFilter{Provider: name, PaymentStatuses: mayStillBeReturned(), Since: now.Add(-s.paidFor), Limit: s.batch})
		if err != nil {
			rep.Errors = append(rep.Errors, fmt.Errorf("listing paid links of %s: %w", name, err))
			continue
		}
		for _, l := range paid {
			if visited[l.ID] { // an open MULTIPLE link with paid payments
				continue
			}
			rep.PaidLinks++
			if !s.visit(ctx, p, &l, &rep) {
				return rep, errors.Join(rep.Errors...)
			}
		}
	}
	if rep.Applied > 0 {
		s.log.WarnContext(ctx, "paylink: reconciliation applied events that no callback had delivered", "applied", rep.Applied)
	}
	return rep, errors.Join(rep.Errors...)
}

// visit reconciles one stored link (as the store listed it, Raw
// included) into rep. It reports false, having recorded why, when ctx is
// done and the pass must stop.
func (s *Service) visit(ctx context.Context, p Provider, link *Link, rep *ReconcileReport) bool {
	if err := ctx.Err(); err != nil {
		rep.Errors = append(rep.Errors, err)
		return false
	}
	rep.Links++
	linkID := link.ID
	seen, applied, err := s.pull(ctx, p, link, SourceReconcile)
	rep.Payments += seen
	rep.Applied += applied
	if err != nil {
		rep.Errors = append(rep.Errors, fmt.Errorf("reconciling %s link %s: %w", p.Name(), linkID, err))
	}
	// Mark the visit even when it failed, so the link goes to the back of
	// the queue: a link that keeps failing must not hold the head of every
	// pass and starve the links behind it.
	if err := s.store.SaveLink(ctx, &LinkWrite{Provider: p.Name(), ID: linkID, ReconciledAt: s.now()}); err != nil {
		rep.Errors = append(rep.Errors, err)
	}
	return true
}

// mayStillBeReturned lists the statuses of a paid payment that a refund,
// chargeback or reversal may still move: SUCCESSFUL and the partial ones
// (REFUNDED, CHARGED_BACK and REVERSED are absorbing).
func mayStillBeReturned() []PaymentStatus {
	var out []PaymentStatus
	for _, st := range PaymentStatuses() {
		if st == PaymentSuccessful || st.Partial() {
			out = append(out, st)
		}
	}
	return out
}

// RunReconciler calls Reconcile every interval until ctx is done, logging
// each pass (and what it pruned, with ServiceOptions.Retention), and
// returns ctx's error.
// Run it in its own goroutine; on several replicas, running it on each is
// safe (but one is enough).
func (s *Service) RunReconciler(ctx context.Context, interval time.Duration) error {
	if interval <= 0 {
		return Errorf(CodeInvalidArgument, "provider.RunReconciler", "interval must be positive")
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
			rep, err := s.Reconcile(ctx)
			if err != nil && ctx.Err() == nil {
				s.log.ErrorContext(ctx, "paylink: reconciliation pass had errors", "links", rep.Links, "applied", rep.Applied, "err", err)
			} else {
				s.log.InfoContext(ctx, "paylink: reconciliation pass", "links", rep.Links, "payments", rep.Payments, "applied", rep.Applied,
					"pruned_callbacks", rep.Pruned.Callbacks, "pruned_hook_runs", rep.Pruned.HookRuns, "pruned_event_payloads", rep.Pruned.EventPayloads)
			}
		}
	}
}
