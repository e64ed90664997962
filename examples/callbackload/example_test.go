package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"strings"
)

// A small run: 50 callbacks at c=1 against the bare Gin route and the
// hand-written handler on SQLite, no open loop. The report is Markdown:
// the closed-loop table and the ratios (their figures differ from run to
// run; this prints which rows there are).
func Example() {
	exe, err := os.Executable() // the test binary serves as the server process too (see TestMain)
	if err != nil {
		fmt.Println(err)
		return
	}
	args := []string{"-n", "50", "-warmup", "5", "-c", "1", "-db", "sqlite", "-handlers", "bare,handwritten", "-links", "5", "-sustain", "0"}
	var report bytes.Buffer
	if err := run(context.Background(), args, exe, func(string) string { return "" }, &report, io.Discard); err != nil {
		fmt.Println(err)
		return
	}
	for line := range strings.Lines(report.String()) {
		switch {
		case strings.HasPrefix(line, "## "):
			fmt.Print(line)
		case strings.HasPrefix(line, "| bare "), strings.HasPrefix(line, "| handwritten "), strings.HasPrefix(line, "| sqlite "):
			cells := strings.Split(line, "|")
			fmt.Println(strings.TrimSpace(cells[1]), strings.TrimSpace(cells[2]), strings.TrimSpace(cells[3]))
		}
	}
	// Output:
	// ## Closed loop: up to 50 callbacks per cell (at most 15s), after 5 unmeasured
	// bare sqlite 1
	// handwritten sqlite 1
	// ## Ratios (same run, same database, same c)
	// sqlite 1 -
}
