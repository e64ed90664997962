package provider

// PruneReport says what [Store.Prune] or [Service.Prune] removed.
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
