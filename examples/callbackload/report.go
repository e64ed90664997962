package main

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
)

// Targets of the open-loop run (the project's, on PostgreSQL): the server
// takes the offered rate, the hook backlog at the end holds less than one
// second of callbacks at that rate, and half the hooks start within 50 ms
// of their event.
const (
	targetKeptUp         = 0.95 // share of the offered callbacks sent and answered
	targetBacklogSeconds = 1.0
	targetLagP50MS       = 50.0
)

// writeReport prints the results as Markdown tables: the closed-loop cells,
// the ratios between handlers, and the open-loop runs.
func writeReport(w io.Writer, results []cellResult, cfg config) error {
	var closed, open []cellResult
	for _, r := range results {
		if r.c == 0 {
			open = append(open, r)
		} else {
			closed = append(closed, r)
		}
	}
	var b strings.Builder
	if len(closed) > 0 {
		fmt.Fprintf(&b, "\n## Closed loop: up to %d callbacks per cell (at most %s), after %d unmeasured\n\n", cfg.n, cfg.cellTime, cfg.warmup)
		t := newTable(&b, "handler", "db", "c", "callbacks", "callbacks/s", "p50 ms", "p99 ms", "max ms", "errors", "allocs/cb",
			"hook lag p50 ms", "hook lag p99 ms", "hooks", "hooks/s", "backlog", "after drain")
		for _, r := range closed {
			t.row(append([]string{r.handler, r.db, strconv.Itoa(r.c)}, r.columns()...)...)
		}
		t.flush()

		fmt.Fprintf(&b, "\n## Ratios (same run, same database, same c)\n\n")
		// The observer's columns only when the run measured it.
		withOTel := slices.Contains(cfg.handlers, handlerPaylinkOTel)
		cols := []string{"db", "c", "paylink/handwritten callbacks/s", "handwritten/bare callbacks/s", "paylink/handwritten allocs/cb"}
		if withOTel {
			cols = append(cols, "paylink-otel/paylink callbacks/s", "paylink-otel - paylink allocs/cb")
		}
		t = newTable(&b, cols...)
		for _, db := range cfg.dbs {
			for _, c := range cfg.conc {
				bare, hw, pl := find(closed, handlerBare, db, c), find(closed, handlerHandwritten, db, c), find(closed, handlerPaylink, db, c)
				po := find(closed, handlerPaylinkOTel, db, c)
				if bare == nil && hw == nil && pl == nil && po == nil {
					continue
				}
				cells := []string{db, strconv.Itoa(c),
					ratio(pl, hw, func(r *cellResult) float64 { return r.load.rate() }),
					ratio(hw, bare, func(r *cellResult) float64 { return r.load.rate() }),
					ratio(pl, hw, func(r *cellResult) float64 { return r.allocs })}
				if withOTel {
					cells = append(cells, ratio(po, pl, func(r *cellResult) float64 { return r.load.rate() }),
						difference(po, pl, func(r *cellResult) float64 { return r.allocs }))
				}
				t.row(cells...)
			}
		}
		t.flush()
	}
	if len(open) > 0 {
		fmt.Fprintf(&b, "\n## Open loop: paylink at a fixed rate for %s\n\n", cfg.sustain)
		fmt.Fprintf(&b, "Target (PostgreSQL): the offered rate taken, a hook backlog under %.0f s of callbacks at the end, hook lag p50 under %.0f ms.\n\n",
			targetBacklogSeconds, targetLagP50MS)
		t := newTable(&b, "db", "offered/s", "offered", "callbacks", "callbacks/s", "p50 ms", "p99 ms", "max ms", "errors", "allocs/cb",
			"hook lag p50 ms", "hook lag p99 ms", "hooks", "hooks/s", "backlog", "after drain", "backlog s", "target")
		for _, r := range open {
			backlogSec := float64(r.backlog) / r.rate
			t.row(append(append([]string{r.db, fmt.Sprintf("%.0f", r.rate), strconv.Itoa(r.offered)}, r.columns()...),
				fmt.Sprintf("%.2f", backlogSec), verdict(float64(r.load.sent)/float64(max(r.offered, 1)), backlogSec, r.lagP50))...)
		}
		t.flush()
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// columns are the measured columns shared by both tables.
func (r cellResult) columns() []string {
	l := r.load
	cols := []string{strconv.Itoa(l.sent), fmt.Sprintf("%.0f", l.rate()),
		msCell(ms(percentile(l.lat, 0.50))), msCell(ms(percentile(l.lat, 0.99))), msCell(ms(percentile(l.lat, 1))),
		strconv.Itoa(l.errors), fmt.Sprintf("%.0f", r.allocs)}
	if !isPaylink(r.handler) {
		return append(cols, "-", "-", "-", "-", "-", "-")
	}
	return append(cols, msCell(r.lagP50), msCell(r.lagP99), strconv.FormatInt(r.hooks, 10),
		fmt.Sprintf("%.0f", r.hookRate), strconv.Itoa(r.backlog), strconv.Itoa(r.left))
}

// verdict says whether an open-loop run met the targets, and if not, why.
func verdict(taken, backlogSec, lagP50 float64) string {
	var missed []string
	if taken < targetKeptUp {
		missed = append(missed, fmt.Sprintf("took %.0f%% of the rate", 100*taken))
	}
	if backlogSec >= targetBacklogSeconds {
		missed = append(missed, fmt.Sprintf("backlog %.1f s", backlogSec))
	}
	if lagP50 >= targetLagP50MS {
		missed = append(missed, fmt.Sprintf("lag p50 %.0f ms", lagP50))
	}
	if len(missed) == 0 {
		return "met"
	}
	return "missed: " + strings.Join(missed, ", ")
}

// find returns the closed-loop result of handler on db at c, or nil.
func find(results []cellResult, handler, db string, c int) *cellResult {
	for i := range results {
		if r := &results[i]; r.handler == handler && r.db == db && r.c == c {
			return r
		}
	}
	return nil
}

// ratio formats f(a)/f(b), or "-" when either is missing or zero.
func ratio(a, b *cellResult, f func(*cellResult) float64) string {
	if a == nil || b == nil || f(a) == 0 || f(b) == 0 {
		return "-"
	}
	return strconv.FormatFloat(f(a)/f(b), 'g', 3, 64)
}

// msCell formats milliseconds with a precision that suits their size.
func msCell(v float64) string {
	switch {
	case v < 10:
		return fmt.Sprintf("%.2f", v)
	case v < 100:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.0f", v)
}

// table writes an aligned Markdown table.
type table struct {
	tw *tabwriter.Writer
}

func newTable(w io.Writer, header ...string) *table {
	t := &table{tw: tabwriter.NewWriter(w, 0, 0, 1, ' ', 0)}
	t.row(header...)
	sep := make([]string, len(header))
	for i := range sep {
		sep[i] = "---"
	}
	t.row(sep...)
	return t
}

func (t *table) row(cells ...string) { fmt.Fprintf(t.tw, "| %s\t|\n", strings.Join(cells, "\t| ")) }

func (t *table) flush() { _ = t.tw.Flush() }

// difference formats f(a)-f(b), or "-" when either is missing.
func difference(a, b *cellResult, f func(*cellResult) float64) string {
	if a == nil || b == nil {
		return "-"
	}
	return fmt.Sprintf("%+.0f", f(a)-f(b))
}
