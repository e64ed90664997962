package providertest

import (
	"context"
	"slices"
	"time"

	"github.com/paylinkgo/paylink/provider"
)

// Prune implements provider.Store: in one step, it deletes the oldest
// callbacks and succeeded hook runs and clears the oldest finished events'
// payloads, at most q.Limit of each, older than q.Before (callbacks with a
// verdict in q.Keep: older than q.KeptBefore, and never when it is zero).
func (s *MemStore) Prune(ctx context.Context, q provider.PruneQuery) (provider.PruneReport, error) {
	before, limit := q.Before, q.Limit
	if limit < 1 {
		return provider.PruneReport{}, provider.Errorf(provider.CodeInvalidArgument, "providertest.MemStore.Prune", "limit must be at least 1")
	}
	if err := ctx.Err(); err != nil {
		return provider.PruneReport{}, err
	}
	var rep provider.PruneReport
	err := s.do(ctx, func(tx *memTx) error {
		st := tx.st
		cbs := oldest(st.callbacks, limit, func(c provider.CallbackRecord) (time.Time, bool) {
			if slices.Contains(q.Keep, c.Verdict) {
				return c.ReceivedAt, !q.KeptBefore.IsZero() && c.ReceivedAt.Before(q.KeptBefore)
			}
			return c.ReceivedAt, c.ReceivedAt.Before(before)
		})
		runs := oldest(st.runs, limit, func(r memRun) (time.Time, bool) {
			return r.run.UpdatedAt, r.run.State == provider.HookRunSucceeded && r.run.UpdatedAt.Before(before)
		})
		open := map[string]bool{} // events with a run that is not succeeded
		for _, r := range st.runs {
			if r.run.State != provider.HookRunSucceeded {
				open[r.run.EventID] = true
			}
		}
		var events []string
		for id, payload := range st.events {
			if payload != nil && !open[id] && st.eventAt[id].Before(before) {
				events = append(events, id)
			}
		}
		slices.SortFunc(events, func(a, b string) int { return st.eventAt[a].Compare(st.eventAt[b]) })
		events = events[:min(len(events), limit)]

		cbsBefore, runsBefore := st.callbacks, st.runs
		st.callbacks = without(st.callbacks, cbs)
		st.runs = without(st.runs, runs)
		tx.onRollback(func() { st.callbacks, st.runs = cbsBefore, runsBefore })
		for _, id := range events {
			setKey(tx, st.events, id, nil)
		}
		rep = provider.PruneReport{Callbacks: len(cbs), HookRuns: len(runs), EventPayloads: len(events)}
		return nil
	})
	return rep, err
}

// oldest returns the indexes of up to limit elements of xs that match,
// oldest first by the time match returns.
func oldest[T any](xs []T, limit int, match func(T) (time.Time, bool)) []int {
	var idx []int
	for i, x := range xs {
		if _, ok := match(x); ok {
			idx = append(idx, i)
		}
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		ta, _ := match(xs[a])
		tb, _ := match(xs[b])
		return ta.Compare(tb)
	})
	return idx[:min(len(idx), limit)]
}

// without returns a new slice of xs without the elements at idx, leaving
// xs itself untouched (so a rollback can restore it).
func without[T any](xs []T, idx []int) []T {
	if len(idx) == 0 {
		return xs
	}
	drop := make(map[int]bool, len(idx))
	for _, i := range idx {
		drop[i] = true
	}
	out := make([]T, 0, len(xs)-len(idx))
	for i, x := range xs {
		if !drop[i] {
			out = append(out, x)
		}
	}
	return out
}
