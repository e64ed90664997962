package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// startTimeout bounds a server's start: migrations and link creation.
const startTimeout = 3 * time.Minute

// cellResult is one row of the report: one handler on one database at one
// concurrency (closed loop), or paylink's open-loop run (sustain).
type cellResult struct {
	handler, db string
	c           int     // closed-loop concurrency; 0 for the open-loop run
	rate        float64 // open loop: the offered rate
	offered     int     // open loop: callbacks due during the run
	load        loadResult
	allocs      float64 // server-side heap allocations per callback
	// paylink only:
	hooks     int64   // payments of this cell whose hook ran (by the end of the drain wait)
	hookRate  float64 // hooks started per second during the cell
	lagN      int     // hook starts measured
	lagP50    float64 // ms from the event's OccurredAt to the hook's start
	lagP99    float64
	backlog   int // hook runs not yet succeeded when the load stopped
	left      int // hook runs not yet succeeded after the drain wait
	drainTime time.Duration
}

// run is the load driver: it parses args, starts one server process per
// handler and database (exe re-executed with serveArg), drives each, and
// prints the report to stdout and progress to stderr.
func run(ctx context.Context, args []string, exe string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := parseFlags(args, getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.timeout)
	defer cancel()
	d := &driver{cfg: cfg, exe: exe, stderr: stderr, token: rand.Text(), start: time.Now()}
	results, err := d.runAll(ctx)
	if len(results) > 0 {
		if errW := writeReport(stdout, results, cfg); errW != nil {
			err = errors.Join(err, errW)
		}
	}
	if cfg.png != "" && len(results) > 0 {
		if errP := writePlot(cfg.png, results, cfg); errP != nil {
			err = errors.Join(err, errP)
		} else {
			d.logf("wrote %s", cfg.png)
		}
	}
	d.logf("done")
	return err
}

// driver runs the cells of one invocation.
type driver struct {
	cfg    config
	exe    string
	token  string
	start  time.Time
	mu     sync.Mutex // guards stderr: servers write to it too
	stderr io.Writer
}

// logf prints one progress line to stderr, with the time since the start.
func (d *driver) logf(format string, args ...any) {
	d.mu.Lock()
	defer d.mu.Unlock()
	fmt.Fprintf(d.stderr, "[%5.1fs] %s\n", time.Since(d.start).Seconds(), fmt.Sprintf(format, args...))
}

// Write lets servers' stderr share the driver's, line by line.
func (d *driver) Write(p []byte) (int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.stderr.Write(p)
}

// runAll runs every cell in order: per database, each handler at each
// concurrency, then paylink's open-loop run. It returns what it measured
// before the first error.
func (d *driver) runAll(ctx context.Context) ([]cellResult, error) {
	var results []cellResult
	for _, db := range d.cfg.dbs {
		for _, h := range d.cfg.handlers {
			rs, err := d.runHandler(ctx, db, h)
			results = append(results, rs...)
			if err != nil {
				return results, err
			}
		}
		if d.cfg.sustain == 0 || !slices.Contains(d.cfg.handlers, handlerPaylink) {
			continue
		}
		rate := d.cfg.rate
		if rate == 0 {
			rate = handwrittenRate(results, db)
		}
		if rate == 0 {
			d.logf("%s: no open-loop run: give -rate, or include handwritten in -handlers", db)
			continue
		}
		r, err := d.runSustain(ctx, db, rate)
		if err != nil {
			return results, err
		}
		results = append(results, r)
	}
	return results, nil
}

// handwrittenRate is the handwritten handler's rate on db at c=16, or at
// the concurrency closest to 16 when 16 was not run; 0 if it was not run.
func handwrittenRate(results []cellResult, db string) float64 {
	best, dist := 0.0, -1
	for _, r := range results {
		if r.handler != handlerHandwritten || r.db != db || r.c == 0 {
			continue
		}
		if dd := abs(r.c - 16); dist < 0 || dd < dist {
			best, dist = r.load.rate(), dd
		}
	}
	return best
}

func abs(n int) int { return max(n, -n) }

// runHandler starts one server and runs its cells, one per concurrency.
func (d *driver) runHandler(ctx context.Context, db, handler string) ([]cellResult, error) {
	srv, err := d.startServer(ctx, db, handler, handler)
	if err != nil {
		return nil, err
	}
	defer d.stopServer(srv)
	var results []cellResult
	for _, c := range d.cfg.conc {
		r, err := d.runCell(ctx, srv, c)
		if err != nil {
			return results, fmt.Errorf("%s on %s, c=%d: %w", handler, db, c, err)
		}
		results = append(results, r)
	}
	return results, nil
}

// runCell runs one closed-loop cell: warm-up, (paylink: drain), measure.
func (d *driver) runCell(ctx context.Context, s *server, c int) (cellResult, error) {
	r := cellResult{handler: s.handler, db: s.db, c: c}
	if err := d.warmUp(ctx, s, c); err != nil {
		return r, err
	}
	s0, err := s.stats(ctx, true)
	if err != nil {
		return r, err
	}
	r.load = closedLoop(ctx, s.client, d.cfg.n, c, d.cfg.cellTime)
	if err := ctx.Err(); err != nil {
		return r, fmt.Errorf("stopped: %w", err)
	}
	return r, d.finish(ctx, s, &r, s0)
}

// runSustain runs paylink open-loop at rate on a fresh server.
func (d *driver) runSustain(ctx context.Context, db string, rate float64) (cellResult, error) {
	srv, err := d.startServer(ctx, db, handlerPaylink, "sustain")
	if err != nil {
		return cellResult{}, err
	}
	defer d.stopServer(srv)
	r := cellResult{handler: handlerPaylink, db: db, rate: rate}
	if err := d.warmUp(ctx, srv, 16); err != nil {
		return r, err
	}
	s0, err := srv.stats(ctx, true)
	if err != nil {
		return r, err
	}
	d.logf("%s paylink open loop: %.0f callbacks/s for %s", db, rate, d.cfg.sustain)
	r.load, r.offered = openLoop(ctx, srv.client, rate, d.cfg.sustain)
	if err := ctx.Err(); err != nil {
		return r, fmt.Errorf("paylink open loop on %s stopped: %w", db, err)
	}
	return r, d.finish(ctx, srv, &r, s0)
}

// warmUp sends the unmeasured callbacks at concurrency c and, for paylink,
// waits until their hooks have run.
func (d *driver) warmUp(ctx context.Context, s *server, c int) error {
	if d.cfg.warmup == 0 {
		return nil
	}
	w := closedLoop(ctx, s.client, d.cfg.warmup, c, d.cfg.cellTime)
	if w.errors > 0 {
		d.logf("%s %s c=%d warm-up: %d errors, first: %v", s.db, s.handler, c, w.errors, w.firstErr)
	}
	if !isPaylink(s.handler) {
		return ctx.Err()
	}
	left, err := d.drain(ctx, s)
	if left > 0 {
		d.logf("%s %s c=%d warm-up: WARNING: %d hook runs still not succeeded after %s; they run during the cell",
			s.db, s.handler, c, left, d.cfg.drain)
	}
	return err
}

// finish reads the server's counters after a run; for paylink it also
// measures the backlog, waits for it to drain and reads the hook lags.
func (d *driver) finish(ctx context.Context, s *server, r *cellResult, s0 serverStats) error {
	s1, err := s.stats(ctx, false)
	if err != nil {
		return err
	}
	if r.load.sent > 0 {
		r.allocs = float64(s1.Mallocs-s0.Mallocs) / float64(r.load.sent)
	}
	label := fmt.Sprintf("%s %s c=%d", s.db, s.handler, r.c)
	if r.c == 0 {
		label = fmt.Sprintf("%s %s open loop", s.db, s.handler)
	}
	d.logf("%s: %d callbacks in %.1fs (%.0f/s), %d errors", label, r.load.sent, r.load.elapsed.Seconds(), r.load.rate(), r.load.errors)
	if r.load.errors > 0 {
		d.logf("%s: first error: %v", label, r.load.firstErr)
	}
	if !isPaylink(s.handler) {
		return nil
	}
	r.hookRate = float64(s1.Hooks-s0.Hooks) / r.load.elapsed.Seconds()
	b, err := s.backlog(ctx, 0)
	if err != nil {
		return err
	}
	r.backlog = b.Total()
	start := time.Now()
	if r.left, err = d.drain(ctx, s); err != nil {
		return err
	}
	r.drainTime = time.Since(start)
	s2, err := s.stats(ctx, true)
	if err != nil {
		return err
	}
	r.hooks = s2.HookPayments - s0.HookPayments
	r.lagN, r.lagP50, r.lagP99 = s2.LagN, s2.LagP50, s2.LagP99
	d.logf("%s: backlog %d at the end, %d after %.1fs of drain; hook lag p50 %.0f ms, p99 %.0f ms",
		label, r.backlog, r.left, r.drainTime.Seconds(), r.lagP50, r.lagP99)
	if extra := s2.Hooks - s2.HookPayments; extra != 0 {
		d.logf("%s: WARNING: the hook ran %d times more than there are payments", label, extra)
	}
	return nil
}

// drain waits until paylink has no hook run left that has not succeeded,
// at most -drain, and returns how many are left.
func (d *driver) drain(ctx context.Context, s *server) (int, error) {
	deadline := time.Now().Add(d.cfg.drain)
	for {
		b, err := s.backlog(ctx, 1)
		if err != nil {
			return 0, err
		}
		if b.Total() == 0 {
			return 0, nil
		}
		if time.Now().After(deadline) {
			b, err := s.backlog(ctx, 0)
			return b.Total(), err
		}
		select {
		case <-time.After(100 * time.Millisecond):
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
}

// server is one running server process, from the driver's side.
type server struct {
	handler, db string
	url         string
	client      *loadClient
	cmd         *exec.Cmd
	stdin       io.Closer
	cleanup     func(context.Context) error
}

// startServer creates a fresh database (a PostgreSQL schema, or a SQLite
// file in a new temp dir) named after name, starts a server process on it
// and waits until it serves.
func (d *driver) startServer(ctx context.Context, db, handler, name string) (*server, error) {
	d.logf("%s %s: starting a server (%d links)", db, handler, d.cfg.links)
	args := []string{serveArg, "-handler", handler, "-db", db,
		"-links", strconv.Itoa(d.cfg.links), "-pool", strconv.Itoa(d.cfg.pool)}
	var cleanup func(context.Context) error
	switch db {
	case dbPostgres:
		dsn, drop, err := freshSchema(ctx, d.cfg.dsn, fmt.Sprintf("callbackload_%d_%s", os.Getpid(), name))
		if err != nil {
			return nil, err
		}
		args, cleanup = append(args, "-dsn", dsn), drop
	case dbSQLite:
		dir, err := os.MkdirTemp("", "callbackload-")
		if err != nil {
			return nil, err
		}
		args = append(args, "-sqlite", filepath.Join(dir, name+".db"))
		cleanup = func(context.Context) error { return os.RemoveAll(dir) }
	}
	fail := func(err error) (*server, error) {
		return nil, errors.Join(err, cleanup(context.WithoutCancel(ctx)))
	}

	cmd := exec.Command(d.exe, args...)
	cmd.Env = append(os.Environ(), tokenEnv+"="+d.token)
	cmd.Stderr = d
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return fail(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return fail(err)
	}
	if err := cmd.Start(); err != nil {
		return fail(fmt.Errorf("starting the %s server: %w", handler, err))
	}
	ready := make(chan error, 1)
	var baseURL string
	go func() {
		line, err := bufio.NewReader(stdout).ReadBytes('\n')
		if err == nil {
			var r readyLine
			err = json.Unmarshal(line, &r)
			baseURL = r.URL
		}
		ready <- err
	}()
	select {
	case err = <-ready:
	case <-time.After(startTimeout):
		err = fmt.Errorf("not ready within %s", startTimeout)
	case <-ctx.Done():
		err = ctx.Err()
	}
	if err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return fail(fmt.Errorf("the %s server on %s did not start: %w", handler, db, err))
	}
	srv := &server{handler: handler, db: db, url: baseURL, cmd: cmd, stdin: stdin, cleanup: cleanup}
	hc := newHTTPClient(max(openLoopWorkers, slices.Max(d.cfg.conc)))
	srv.client = &loadClient{http: hc, url: srv.url + callbackPath, token: d.token}
	if isPaylink(handler) {
		srv.client.verdict = "applied"
	}
	if err := srv.getJSON(ctx, linksPath, &srv.client.links); err != nil {
		d.stopServer(srv)
		return nil, err
	}
	if len(srv.client.links) == 0 {
		d.stopServer(srv)
		return nil, errors.New("the server has no links")
	}
	d.logf("%s %s: serving at %s", db, handler, srv.url)
	return srv, nil
}

// stopServer closes the server's stdin (its signal to stop), waits for it
// (killing it after a minute) and drops its database.
func (d *driver) stopServer(s *server) {
	// First our idle connections: the server's graceful shutdown waits 5 s
	// for a connection that never carried a request, and the transport may
	// have dialed a few of those.
	s.client.http.CloseIdleConnections()
	_ = s.stdin.Close()
	done := make(chan error, 1)
	go func() { done <- s.cmd.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-time.After(time.Minute):
		_ = s.cmd.Process.Kill()
		err = errors.Join(errors.New("killed after a minute"), <-done)
	}
	if err != nil {
		d.logf("%s %s server: %v", s.db, s.handler, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.cleanup(ctx); err != nil {
		d.logf("%s %s: removing the database: %v", s.db, s.handler, err)
	}
}

// stats reads the server's counters; reset clears its hook lag samples.
func (s *server) stats(ctx context.Context, reset bool) (serverStats, error) {
	var st serverStats
	path := statsPath
	if reset {
		path += "?reset=1"
	}
	return st, s.getJSON(ctx, path, &st)
}

// backlog counts paylink's hook runs not yet succeeded, up to limit per
// state (0: all).
func (s *server) backlog(ctx context.Context, limit int) (backlog, error) {
	var b backlog
	return b, s.getJSON(ctx, backlogPath+"?limit="+strconv.Itoa(limit), &b)
}

// getJSON GETs path from the server and decodes its JSON answer into v.
func (s *server) getJSON(ctx context.Context, path string, v any) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url+path, nil)
	if err != nil {
		return err
	}
	resp, err := s.client.http.Do(req)
	if err != nil {
		return fmt.Errorf("GET %s: %w", path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<10))
		return fmt.Errorf("GET %s: %d %s", path, resp.StatusCode, b)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		return fmt.Errorf("GET %s: %w", path, err)
	}
	return nil
}

// freshSchema creates the PostgreSQL schema name (dropping any leftover of
// that name first) and returns dsn with its search_path set to it, and a
// function that drops it.
func freshSchema(ctx context.Context, dsn, name string) (string, func(context.Context) error, error) {
	u, err := url.Parse(dsn)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return "", nil, errors.New("-dsn must be a postgres:// URL")
	}
	q := u.Query()
	q.Set("search_path", name)
	u.RawQuery = q.Encode()
	ident := pgx.Identifier{name}.Sanitize()
	exec := func(ctx context.Context, sql ...string) error {
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			return fmt.Errorf("connecting to PostgreSQL: %w", err)
		}
		defer conn.Close(context.WithoutCancel(ctx))
		for _, s := range sql {
			if _, err := conn.Exec(ctx, s); err != nil {
				return fmt.Errorf("%s: %w", strings.Fields(s)[0], err)
			}
		}
		return nil
	}
	if err := exec(ctx, "DROP SCHEMA IF EXISTS "+ident+" CASCADE", "CREATE SCHEMA "+ident); err != nil {
		return "", nil, err
	}
	drop := func(ctx context.Context) error { return exec(ctx, "DROP SCHEMA IF EXISTS "+ident+" CASCADE") }
	return u.String(), drop, nil
}
