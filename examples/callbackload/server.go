package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/glebarez/sqlite"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/paylinkgo/paylink/gormstore"
)

// tokenEnv carries the callback token from the driver to the server, so it
// never shows in a process listing.
const tokenEnv = "CALLBACKLOAD_TOKEN"

// The server's routes. The callback path is the same for every handler, so
// the driver sends identical requests to each.
const (
	callbackPath = "/flip/callback"
	linksPath    = "/_load/links"
	statsPath    = "/_load/stats"
	backlogPath  = "/_load/backlog"
)

// serverConfig is the server's configuration, from the flags after -serve.
type serverConfig struct {
	handler string
	db      string
	dsn     string // PostgreSQL
	path    string // SQLite file
	links   int
	pool    int
}

// readyLine is the one line the server writes to stdout once it serves.
type readyLine struct {
	URL string `json:"url"`
}

// serverStats is what GET statsPath answers: counters since the server
// started, and hook lag percentiles since the last reset.
type serverStats struct {
	// Mallocs is runtime.MemStats.Mallocs: heap objects allocated so far.
	Mallocs uint64 `json:"mallocs"`
	// Hooks counts calls of the success hook; HookPayments counts the
	// distinct payments it was called for (fewer means a repeated call).
	Hooks        int64 `json:"hooks"`
	HookPayments int64 `json:"hook_payments"`
	// Lag percentiles, in milliseconds, of the hooks started since the
	// last reset: time from the event's OccurredAt to the hook's start.
	LagN   int     `json:"lag_n"`
	LagP50 float64 `json:"lag_p50_ms"`
	LagP99 float64 `json:"lag_p99_ms"`
}

// backlog is what GET backlogPath answers: hook runs not yet succeeded.
type backlog struct {
	Pending  int `json:"pending"`
	Retrying int `json:"retrying"`
	Failed   int `json:"failed"`
}

// Total is every run that has not succeeded.
func (b backlog) Total() int { return b.Pending + b.Retrying + b.Failed }

// target is one handler under test, ready to mount.
type target struct {
	// mount adds the route that answers Flip's callbacks at callbackPath.
	mount func(r gin.IRouter) error
	// links are the ids of the bills the callbacks may name.
	links []string
	// hooks is nil except for paylink.
	hooks *hookRecorder
	// backlog counts hook runs not yet succeeded, up to limit per state
	// (0: no limit); nil except for paylink.
	backlog func(ctx context.Context, limit int) (backlog, error)
	// stop releases what the target started.
	stop func(ctx context.Context) error
}

// serve is the server under test: it builds one handler on one database,
// listens on a loopback port, writes a readyLine to stdout and serves until
// stdin is closed (the driver exits or stops it) or ctx is done.
func serve(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout io.Writer) (err error) {
	var cfg serverConfig
	fs := flag.NewFlagSet("callbackload "+serveArg, flag.ContinueOnError)
	fs.StringVar(&cfg.handler, "handler", "", "bare, handwritten or paylink")
	fs.StringVar(&cfg.db, "db", "", "postgres or sqlite")
	fs.StringVar(&cfg.dsn, "dsn", "", "PostgreSQL DSN, with its search_path")
	fs.StringVar(&cfg.path, "sqlite", "", "SQLite file")
	fs.IntVar(&cfg.links, "links", 1000, "links to create")
	fs.IntVar(&cfg.pool, "pool", 20, "PostgreSQL connections")
	if err := fs.Parse(args); err != nil {
		return err
	}
	token := getenv(tokenEnv)
	if token == "" {
		return fmt.Errorf("server: %s is not set", tokenEnv)
	}
	gin.SetMode(gin.ReleaseMode)
	if dir := getenv(profileEnv); dir != "" {
		stop, err := startCPUProfile(filepath.Join(dir, cfg.handler+"-"+cfg.db+".pprof"))
		if err != nil {
			return fmt.Errorf("server: %w", err)
		}
		defer stop()
		defer writeAllocProfile(filepath.Join(dir, cfg.handler+"-"+cfg.db+".allocs.pprof"))
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		// The driver closes our stdin to stop us, and so does its death.
		_, _ = io.Copy(io.Discard, stdin)
		cancel()
	}()

	db, err := openDB(cfg)
	if err != nil {
		return err
	}
	if sqlDB, err := db.DB(); err == nil {
		defer sqlDB.Close()
	}
	var t *target
	switch cfg.handler {
	case handlerBare:
		t, err = newBare(cfg.links)
	case handlerHandwritten:
		t, err = newHandwritten(ctx, db, token, cfg.links)
	case handlerPaylink:
		t, err = newPaylink(ctx, db, token, cfg.links, nil)
	case handlerPaylinkOTel:
		t, err = newPaylinkOTel(ctx, db, token, cfg.links)
	default:
		err = fmt.Errorf("unknown handler %q", cfg.handler)
	}
	if err != nil {
		return fmt.Errorf("server: %s on %s: %w", cfg.handler, cfg.db, err)
	}
	if t.stop != nil {
		defer func() {
			stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
			defer cancel()
			err = errors.Join(err, t.stop(stopCtx))
		}()
	}

	r := gin.New()
	r.Use(gin.Recovery())
	if err := t.mount(r); err != nil {
		return fmt.Errorf("server: mounting %s: %w", cfg.handler, err)
	}
	r.GET(linksPath, func(c *gin.Context) { c.JSON(http.StatusOK, t.links) })
	r.GET(statsPath, func(c *gin.Context) { c.JSON(http.StatusOK, t.stats(c.Query("reset") == "1")) })
	r.GET(backlogPath, func(c *gin.Context) {
		if t.backlog == nil {
			c.JSON(http.StatusOK, backlog{})
			return
		}
		limit, _ := strconv.Atoi(c.Query("limit"))
		b, err := t.backlog(c.Request.Context(), limit)
		if err != nil {
			c.String(http.StatusInternalServerError, err.Error())
			return
		}
		c.JSON(http.StatusOK, b)
	})

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: r, ReadHeaderTimeout: 10 * time.Second}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	if err := json.NewEncoder(stdout).Encode(readyLine{URL: "http://" + ln.Addr().String()}); err != nil {
		return err
	}

	select {
	case err = <-serveErr:
	case <-ctx.Done():
	}
	shutCtx, stop := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer stop()
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	if errShut := srv.Shutdown(shutCtx); errShut != nil {
		err = errors.Join(err, errShut)
	}
	return err
}

// stats reads the server's counters; reset clears the lag samples.
func (t *target) stats(reset bool) serverStats {
	var s serverStats
	if t.hooks != nil {
		s = t.hooks.snapshot(reset)
	}
	// Last, so the snapshot's own allocations fall before the count.
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	s.Mallocs = m.Mallocs
	return s
}

// openDB opens the server's database the same way for every handler:
// GORM with its logger off; PostgreSQL with a pool of cfg.pool connections,
// SQLite with gormstore's DSN and single connection.
func openDB(cfg serverConfig) (*gorm.DB, error) {
	gcfg := &gorm.Config{Logger: logger.Discard}
	switch cfg.db {
	case dbPostgres:
		db, err := gorm.Open(postgres.Open(cfg.dsn), gcfg)
		if err != nil {
			return nil, fmt.Errorf("server: opening PostgreSQL: %w", err)
		}
		sqlDB, err := db.DB()
		if err != nil {
			return nil, err
		}
		sqlDB.SetMaxOpenConns(cfg.pool)
		sqlDB.SetMaxIdleConns(cfg.pool)
		return db, nil
	case dbSQLite:
		db, err := gorm.Open(sqlite.Open(gormstore.OpenSQLiteDSN(cfg.path)), gcfg)
		if err != nil {
			return nil, fmt.Errorf("server: opening SQLite: %w", err)
		}
		if err := gormstore.ConfigureSQLite(db); err != nil {
			return nil, err
		}
		return db, nil
	}
	return nil, fmt.Errorf("server: unknown database %q", cfg.db)
}

// hookRecorder is paylink's no-op success hook: it records when each call
// started relative to the event's OccurredAt, and which payments it saw.
type hookRecorder struct {
	mu       sync.Mutex
	calls    int64
	payments map[string]struct{}
	lags     []time.Duration
}

func newHookRecorder() *hookRecorder {
	return &hookRecorder{payments: map[string]struct{}{}}
}

// record notes one hook call for payment, started lag after its event.
func (h *hookRecorder) record(payment string, lag time.Duration) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.calls++
	h.payments[payment] = struct{}{}
	h.lags = append(h.lags, lag)
}

// snapshot returns the counters and lag percentiles; reset clears the lags.
func (h *hookRecorder) snapshot(reset bool) serverStats {
	h.mu.Lock()
	lags := slices.Clone(h.lags)
	s := serverStats{Hooks: h.calls, HookPayments: int64(len(h.payments)), LagN: len(lags)}
	if reset {
		h.lags = h.lags[:0]
	}
	h.mu.Unlock()
	slices.Sort(lags)
	s.LagP50 = ms(percentile(lags, 0.50))
	s.LagP99 = ms(percentile(lags, 0.99))
	return s
}

// profileEnv names a directory: when set, each server writes a CPU profile
// of its whole life there, as HANDLER-DB.pprof, and its allocations as
// HANDLER-DB.allocs.pprof (read them with go tool pprof).
const profileEnv = "CALLBACKLOAD_CPUPROFILE"

// startCPUProfile profiles the process into path until stop is called.
func startCPUProfile(path string) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}

// writeAllocProfile writes the allocations of the process's life to path.
func writeAllocProfile(path string) {
	f, err := os.Create(path)
	if err != nil {
		return
	}
	defer f.Close()
	_ = pprof.Lookup("allocs").WriteTo(f, 0)
}
