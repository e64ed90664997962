package main

import (
	"cmp"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// serveArg, as the first argument, makes the program the server under test
// instead of the load driver. The driver re-executes itself with it; it is
// not a flag of the driver's own flag set, so -help does not list it.
const serveArg = "-serve"

// The handlers and databases the program knows.
const (
	handlerBare        = "bare"
	handlerHandwritten = "handwritten"
	handlerPaylink     = "paylink"
	// handlerPaylinkOTel is paylink with its OpenTelemetry observer on
	// an SDK that samples every trace (the most it can cost).
	handlerPaylinkOTel = "paylink-otel"

	dbPostgres = "postgres"
	dbSQLite   = "sqlite"
)

// defaultDSN is the PostgreSQL used when neither -dsn nor
// PAYLINK_TEST_POSTGRES_DSN says otherwise.
const defaultDSN = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	if len(os.Args) > 1 && os.Args[1] == serveArg {
		err = serve(ctx, os.Args[2:], os.Getenv, os.Stdin, os.Stdout)
	} else {
		var exe string
		exe, err = os.Executable()
		if err == nil {
			err = run(ctx, os.Args[1:], exe, os.Getenv, os.Stdout, os.Stderr)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "callbackload:", err)
		os.Exit(1)
	}
}

// config is the driver's configuration, from its flags.
type config struct {
	n        int           // measured callbacks per cell
	warmup   int           // unmeasured callbacks before each cell
	cellTime time.Duration // upper bound on the measured part of a cell
	conc     []int         // closed-loop concurrencies
	dbs      []string      // databases, in order
	handlers []string      // handlers, in order
	dsn      string        // PostgreSQL DSN (a fresh schema is added)
	links    int           // MULTIPLE links (bills) the callbacks spread over
	pool     int           // PostgreSQL connections per server
	sustain  time.Duration // open-loop paylink run per database; 0: none
	rate     float64       // open-loop rate; 0: handwritten's c=16 rate
	drain    time.Duration // how long to wait for paylink's hooks after a cell
	timeout  time.Duration // bound on the whole run
	png      string        // where to write the plot; empty: no plot
}

// parseFlags reads the driver's flags. getenv supplies the default DSN.
func parseFlags(args []string, getenv func(string) string, stderr io.Writer) (config, error) {
	var cfg config
	fs := flag.NewFlagSet("callbackload", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: callbackload [flags]\n\nCompares a bare Gin route, a hand-written Gin+GORM callback handler and paylink's\ncallback route under load, on PostgreSQL and SQLite. See README.md.\n\nflags:")
		fs.PrintDefaults()
	}
	fs.IntVar(&cfg.n, "n", 10000, "measured callbacks per cell (handler, db, c), after the warm-up")
	fs.IntVar(&cfg.warmup, "warmup", 300, "unmeasured callbacks sent before each cell")
	fs.DurationVar(&cfg.cellTime, "cell-time", 15*time.Second, "upper bound on the measured part of one cell: it stops at -n callbacks or this long, whichever comes first")
	concFlag := fs.String("c", "1,16,64", "closed-loop concurrencies, comma-separated")
	dbFlag := fs.String("db", "postgres,sqlite", "databases, comma-separated: postgres, sqlite")
	handlerFlag := fs.String("handlers", "bare,handwritten,paylink", "handlers, comma-separated: bare, handwritten, paylink, paylink-otel (paylink with its OpenTelemetry observer, every trace sampled)")
	fs.StringVar(&cfg.dsn, "dsn", cmp.Or(getenv("PAYLINK_TEST_POSTGRES_DSN"), defaultDSN), "PostgreSQL DSN (URL form); each server gets a fresh schema in it, dropped at the end (default $PAYLINK_TEST_POSTGRES_DSN)")
	fs.IntVar(&cfg.links, "links", 1000, "MULTIPLE open-amount links the callbacks are spread over")
	fs.IntVar(&cfg.pool, "pool", 20, "PostgreSQL connections per server (the same for handwritten and paylink)")
	fs.DurationVar(&cfg.sustain, "sustain", 10*time.Second, "open-loop paylink run per database at -rate; 0 skips it")
	fs.Float64Var(&cfg.rate, "rate", 0, "open-loop rate in callbacks/s; 0 means handwritten's c=16 rate measured on the same database in this run")
	fs.DurationVar(&cfg.drain, "drain", 30*time.Second, "how long to wait after a paylink cell for its hook backlog to drain")
	fs.DurationVar(&cfg.timeout, "timeout", 10*time.Minute, "bound on the whole run")
	fs.StringVar(&cfg.png, "png", "", "write a throughput plot to this PNG file")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	var err error
	if cfg.conc, err = parseInts(*concFlag); err != nil {
		return cfg, fmt.Errorf("-c: %w", err)
	}
	if cfg.dbs, err = parseNames(*dbFlag, dbPostgres, dbSQLite); err != nil {
		return cfg, fmt.Errorf("-db: %w", err)
	}
	if cfg.handlers, err = parseNames(*handlerFlag, handlerBare, handlerHandwritten, handlerPaylink, handlerPaylinkOTel); err != nil {
		return cfg, fmt.Errorf("-handlers: %w", err)
	}
	switch {
	case cfg.n < 1:
		return cfg, fmt.Errorf("-n must be at least 1")
	case cfg.warmup < 0:
		return cfg, fmt.Errorf("-warmup must not be negative")
	case cfg.links < 1:
		return cfg, fmt.Errorf("-links must be at least 1")
	case cfg.pool < 2:
		return cfg, fmt.Errorf("-pool must be at least 2 (the hook runner and the callbacks share the pool)")
	case cfg.cellTime <= 0 || cfg.timeout <= 0 || cfg.drain < 0 || cfg.sustain < 0 || cfg.rate < 0:
		return cfg, fmt.Errorf("durations and -rate must be positive")
	}
	return cfg, nil
}

// parseInts parses "1,16,64" into distinct positive integers.
func parseInts(s string) ([]int, error) {
	var out []int
	seen := map[int]bool{}
	for f := range strings.SplitSeq(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%q is not a positive integer", f)
		}
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out, nil
}

// parseNames parses a comma-separated list of names, each one of known.
func parseNames(s string, known ...string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	for f := range strings.SplitSeq(s, ",") {
		f = strings.TrimSpace(f)
		ok := false
		for _, k := range known {
			ok = ok || f == k
		}
		if !ok {
			return nil, fmt.Errorf("%q is not one of %s", f, strings.Join(known, ", "))
		}
		if !seen[f] {
			seen[f] = true
			out = append(out, f)
		}
	}
	return out, nil
}

// isPaylink reports whether handler is paylink's route (with hooks to wait
// for and lags to read), instrumented or not.
func isPaylink(handler string) bool {
	return handler == handlerPaylink || handler == handlerPaylinkOTel
}
