package main

import (
	"bytes"
	"context"
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/paylinkgo/paylink/examples/internal/runtest"
)

// TestMain lets the test binary be the server under test: the driver
// re-executes its own executable, which in a test is this binary.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == serveArg {
		if err := serve(context.Background(), os.Args[2:], os.Getenv, os.Stdin, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "callbackload server:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestSmallRun runs the whole program in a tiny configuration, SQLite
// always and PostgreSQL when PAYLINK_TEST_POSTGRES_DSN is set, and checks
// the report: every row present, every callback answered 200 (paylink's
// with the verdict "applied"), every paylink hook run once, no backlog left.
func TestSmallRun(t *testing.T) {
	if testing.Short() {
		t.Skip("starts server processes")
	}
	const n, conc = 50, "1,4"
	dbs := []string{dbSQLite}
	if os.Getenv("PAYLINK_TEST_POSTGRES_DSN") != "" {
		dbs = []string{dbPostgres, dbSQLite}
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	plot := filepath.Join(t.TempDir(), "throughput.png")
	args := []string{"-n", strconv.Itoa(n), "-warmup", "10", "-c", conc, "-db", strings.Join(dbs, ","),
		"-handlers", "bare,handwritten,paylink,paylink-otel", "-links", "10", "-cell-time", "2m", "-drain", "2m", "-sustain", "1s", "-rate", "20", "-timeout", "8m", "-png", plot}
	var out bytes.Buffer
	progress := &runtest.Buffer{}
	if err := run(t.Context(), args, exe, os.Getenv, &out, progress); err != nil {
		t.Fatalf("run: %v\nprogress:\n%s\nreport:\n%s", err, progress, &out)
	}
	t.Logf("report:\n%s", &out)
	tables := parseReport(t, out.String())

	closed := tables["Closed loop"]
	if want := len(dbs) * 4 * 2; len(closed) != want {
		t.Errorf("closed-loop table has %d rows, want %d", len(closed), want)
	}
	for _, db := range dbs {
		for _, h := range []string{handlerBare, handlerHandwritten, handlerPaylink, handlerPaylinkOTel} {
			for _, c := range []string{"1", "4"} {
				row := findRow(closed, map[string]string{"handler": h, "db": db, "c": c})
				if row == nil {
					t.Errorf("no closed-loop row for %s on %s at c=%s", h, db, c)
					continue
				}
				checkRow(t, row, n)
			}
		}
		for _, c := range []string{"1", "4"} {
			row := findRow(tables["Ratios"], map[string]string{"db": db, "c": c})
			if row == nil || row["paylink/handwritten callbacks/s"] == "-" || row["handwritten/bare callbacks/s"] == "-" ||
				row["paylink-otel/paylink callbacks/s"] == "-" {
				t.Errorf("ratios for %s at c=%s = %v, want every ratio", db, c, row)
			}
		}
		row := findRow(tables["Open loop"], map[string]string{"db": db})
		if row == nil {
			t.Errorf("no open-loop row for %s", db)
			continue
		}
		row["handler"] = handlerPaylink
		checkRow(t, row, 20) // -rate 20 for 1 s
	}

	f, err := os.Open(plot)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if cfg, err := png.DecodeConfig(f); err != nil || cfg.Width != plotWidth || cfg.Height != plotHeight {
		t.Errorf("plot: %+v, %v; want a %dx%d PNG", cfg, err, plotWidth, plotHeight)
	}
}

// checkRow checks one report row: n callbacks, none failed, and for
// paylink a hook run for each, nothing left after the drain.
func checkRow(t *testing.T, row map[string]string, n int) {
	t.Helper()
	want := map[string]string{"callbacks": strconv.Itoa(n), "errors": "0"}
	if isPaylink(row["handler"]) {
		want["hooks"] = strconv.Itoa(n)
		want["after drain"] = "0"
	}
	for col, v := range want {
		if row[col] != v {
			t.Errorf("%v: %s = %q, want %q", row, col, row[col], v)
		}
	}
}

// parseReport splits the report into its tables, keyed by the first two
// words of each heading, each row a map from column name to cell.
func parseReport(t *testing.T, report string) map[string][]map[string]string {
	t.Helper()
	tables := map[string][]map[string]string{}
	for section := range strings.SplitSeq(report, "\n## ") {
		heading, body, _ := strings.Cut(section, "\n")
		name := strings.TrimSpace(strings.TrimLeft(heading, "#"))
		if i := strings.IndexAny(name, ":("); i > 0 {
			name = strings.TrimSpace(name[:i])
		}
		var header []string
		for line := range strings.SplitSeq(body, "\n") {
			if !strings.HasPrefix(line, "|") {
				continue
			}
			cells := strings.Split(strings.Trim(line, "| "), "|")
			for i := range cells {
				cells[i] = strings.TrimSpace(cells[i])
			}
			switch {
			case header == nil:
				header = cells
			case cells[0] == "---":
			default:
				row := map[string]string{}
				for i, c := range cells {
					if i < len(header) {
						row[header[i]] = c
					}
				}
				tables[name] = append(tables[name], row)
			}
		}
	}
	for _, name := range []string{"Closed loop", "Ratios", "Open loop"} {
		if len(tables[name]) == 0 {
			t.Fatalf("the report has no %q table:\n%s", name, report)
		}
	}
	return tables
}

// findRow returns the first row whose cells match want.
func findRow(rows []map[string]string, want map[string]string) map[string]string {
next:
	for _, row := range rows {
		for k, v := range want {
			if row[k] != v {
				continue next
			}
		}
		return row
	}
	return nil
}

func TestParseFlags(t *testing.T) {
	env := func(string) string { return "" }
	cfg, err := parseFlags(nil, env, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.n != 10000 || fmt.Sprint(cfg.conc) != "[1 16 64]" || fmt.Sprint(cfg.dbs) != "[postgres sqlite]" || cfg.dsn != defaultDSN {
		t.Errorf("defaults = %+v", cfg)
	}
	for _, args := range [][]string{
		{"-c", "0"}, {"-c", "1,x"}, {"-db", "mysql"}, {"-handlers", "bare,fast"}, {"-n", "0"}, {"-pool", "1"}, {"extra"},
	} {
		if _, err := parseFlags(args, env, &bytes.Buffer{}); err == nil {
			t.Errorf("parseFlags(%q) = nil error, want one", args)
		}
	}
}

func TestFlexID(t *testing.T) {
	for in, want := range map[string]flexID{
		`"FT123"`: "FT123", `1234567890123456789012`: "1234567890123456789012", `null`: "",
	} {
		var id flexID
		if err := id.UnmarshalJSON([]byte(in)); err != nil || id != want {
			t.Errorf("UnmarshalJSON(%s) = %q, %v; want %q", in, id, err, want)
		}
	}
	for _, in := range []string{`1.5`, `true`, `{}`, `-1`} {
		var id flexID
		if err := id.UnmarshalJSON([]byte(in)); err == nil {
			t.Errorf("UnmarshalJSON(%s) = %q, want an error", in, id)
		}
	}
}
