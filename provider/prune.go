package provider

import "time"

// PruneReport says what [Pruner.Prune], or a [Service.Reconcile] pass, pruned.
type PruneReport struct {
	// Callbacks is how many raw callbacks were deleted.
	Callbacks int
	// HookRuns is how many succeeded hook runs were deleted.
	HookRuns int
	// EventPayloads is how many events lost their stored HookEvent (the
	// event rows, which are the exactly-once claims, stay).
	EventPayloads int
}

// Add returns the sum of r and o.
func (r PruneReport) Add(o PruneReport) PruneReport {
	return PruneReport{
		Callbacks:     r.Callbacks + o.Callbacks,
		HookRuns:      r.HookRuns + o.HookRuns,
		EventPayloads: r.EventPayloads + o.EventPayloads,
	}
}

// Total is the number of rows removed or cleared.
func (r PruneReport) Total() int { return r.Callbacks + r.HookRuns + r.EventPayloads }

// full reports whether a batch of limit removed limit rows of some kind,
// so more may remain.
func (r PruneReport) full(limit int) bool {
	return r.Callbacks >= limit || r.HookRuns >= limit || r.EventPayloads >= limit
}

// PruneQuery says what one [Store.Prune] batch removes.
type PruneQuery struct {
	// Before: callbacks received before it go (but see Keep), and so do
	// succeeded hook runs last updated before it and the payloads of
	// finished events stored before it.
	Before time.Time
	// Keep lists the verdicts whose callbacks follow KeptBefore instead
	// of Before.
	Keep []Verdict
	// KeptBefore: callbacks with a verdict in Keep go only when received
	// before it. The zero time keeps them all.
	KeptBefore time.Time
	// Limit is the most rows of each kind one batch removes; at least 1.
	Limit int
}

// KeptForOperators reports whether callbacks with this verdict are the
// operators' to keep: every flagged verdict but VerdictUnverified. They
// are the inbox a human works from (for an underpayment, the only record
// of what was paid), so pruning keeps them for
// ServiceOptions.FlaggedRetention (by default, forever). An unverified
// callback is a forgery or a delivery the provider retries, and follows
// ServiceOptions.Retention like an applied one.
func (v Verdict) KeptForOperators() bool {
	return v.Flagged() && v != VerdictUnverified
}

// keptVerdicts lists the verdicts for which KeptForOperators is true.
func keptVerdicts() []Verdict {
	var out []Verdict
	for _, v := range Verdicts() {
		if v.KeptForOperators() {
			out = append(out, v)
		}
	}
	return out
}
