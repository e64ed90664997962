package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/paylinkgo/paylink/ginadapter"
	"github.com/paylinkgo/paylink/gormstore"
	"github.com/paylinkgo/paylink/provider"
)

// Timings of the shop's background work and shutdown.
const (
	// reconcileInterval is how often open links are re-checked with the
	// payment provider, so a callback that never arrived is still applied.
	reconcileInterval = time.Minute
	// shutdownTimeout bounds each shutdown step (in-flight requests, then
	// running hooks).
	shutdownTimeout = 30 * time.Second
	// fakeRetryInterval is how soon the offline fakes retry a callback the
	// shop did not answer 200 (Flip and Midtrans wait minutes; a demo
	// should not).
	fakeRetryInterval = 5 * time.Second
)

// run is the whole shop: it reads the configuration through getenv, opens
// the database, wires paylink (Flip or Midtrans, real or an offline fake,
// gormstore, the hooks, ginadapter's callback route), serves HTTP until ctx is done, and
// shuts down gracefully. Logs go to stdout. ready, if not nil, is called
// with the listening addresses once requests are served.
//
// Shutdown order, so that no callback is lost: stop accepting connections
// and let in-flight requests (callbacks included) finish, stop the
// reconciler, stop the hooks (running ones finish; queued ones stay in the
// database for the next start), then close the fake provider and the
// database.
func run(ctx context.Context, getenv func(string) string, stdout io.Writer, ready func(listening)) (err error) {
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stdout, nil))

	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return fmt.Errorf("shop: listening on %s: %w", cfg.addr, err)
	}
	defer ln.Close() // a no-op once the server has closed it
	port := ln.Addr().(*net.TCPAddr).Port
	var adminLn net.Listener
	if cfg.adminAddr != "" {
		if adminLn, err = net.Listen("tcp", cfg.adminAddr); err != nil {
			return fmt.Errorf("shop: listening on SHOP_ADMIN_ADDR %s: %w", cfg.adminAddr, err)
		}
		defer adminLn.Close()
	}
	localURL := "http://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	publicURL := cfg.publicURL
	if publicURL == "" {
		publicURL = "http://" + net.JoinHostPort("localhost", strconv.Itoa(port))
	}

	db, err := openDB(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := closeDB(db); cerr != nil {
			err = errors.Join(err, fmt.Errorf("shop: closing the database: %w", cerr))
		}
	}()

	tel, err := newTelemetry(ctx, getenv)
	if err != nil {
		return err
	}
	defer func() { // after the hooks stop, before the database closes
		tctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
		defer cancel()
		if terr := tel.close(tctx); terr != nil {
			log.Warn("shop: flushing telemetry failed", "err", terr)
		}
	}()

	if cfg.midtransOrderPrefix, err = instancePrefix(ctx, db); err != nil {
		return err
	}
	pay, err := newPayments(cfg, localURL+cfg.callbackPath(), log, tel)
	if err != nil {
		return err
	}
	defer pay.close() // after the hooks stop, before the database closes

	// The store logs only what needs attention: keep the demo's output to
	// what matters.
	quiet := slog.New(slog.NewTextHandler(stdout, &slog.HandlerOptions{Level: slog.LevelWarn}))
	store, err := gormstore.New(db, gormstore.Options{Logger: quiet.With("component", "gormstore")})
	if err != nil {
		return fmt.Errorf("shop: %w", err)
	}
	// Callbacks that change a payment are confirmed with the provider's
	// API before they are applied: paylink's default, left on (never set
	// InsecureSkipVerify in a shop that takes money).
	svc, err := provider.NewService(store, provider.ServiceOptions{
		Providers: []provider.Provider{pay.provider},
		Logger:    log,
		// Keep looking for refunds and chargebacks of paid orders whose
		// notification was lost (Midtrans only; Flip has none).
		ReconcilePaid: pay.reconcilePaid,
		// Metrics and traces of callbacks, hooks and reconciliation.
		Observer:   tel.observer,
		HookPolicy: provider.HookPolicy{MaxAttempts: cfg.hookAttempts},
	})
	if err != nil {
		return fmt.Errorf("shop: %w", err)
	}
	s := newShop(db, svc, log, publicURL)
	if err := s.registerHooks(svc); err != nil {
		return fmt.Errorf("shop: %w", err)
	}

	router, err := newRouter()
	if err != nil {
		return fmt.Errorf("shop: %w", err)
	}
	acfg := ginadapter.DefaultConfig()
	acfg.CallbackPath = cfg.callbackPath()
	acfg.Logger = log
	if err := ginadapter.Mount(router, svc, acfg); err != nil {
		return fmt.Errorf("shop: mounting paylink: %w", err)
	}
	if err := s.routes(router); err != nil {
		return fmt.Errorf("shop: %w", err)
	}
	// Prometheus scrapes paylink's metrics (and the HTTP ones) at /metrics;
	// operators use the console at /ops/. With SHOP_ADMIN_ADDR both are on
	// a listener of their own (a private address, see README.md), and
	// the public one has neither; without it they share the shop's.
	admin := router
	if adminLn != nil {
		if admin, err = newRouter(); err != nil {
			return fmt.Errorf("shop: %w", err)
		}
	}
	admin.GET("/metrics", gin.WrapH(tel.metrics))
	if err := mountConsole(admin, svc, cfg, log); err != nil {
		return fmt.Errorf("shop: mounting the console: %w", err)
	}

	// Hooks and the reconciler outlive ctx: they stop in the shutdown
	// sequence below, after the last callback has been answered.
	hooksCtx, cancelHooks := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelHooks()
	if err := svc.Start(hooksCtx); err != nil {
		return fmt.Errorf("shop: starting hooks: %w", err)
	}
	reconcileCtx, stopReconciler := context.WithCancel(context.WithoutCancel(ctx))
	defer stopReconciler()
	var wg sync.WaitGroup
	wg.Go(func() { _ = svc.RunReconciler(reconcileCtx, reconcileInterval) })

	servers := []*http.Server{newServer(tel.handler(router, ln.Addr().String()), log)}
	listeners := []net.Listener{ln}
	addrs := listening{public: dialAddr(ln)}
	if adminLn != nil {
		servers = append(servers, newServer(tel.handler(admin, adminLn.Addr().String()), log.With("listener", "admin")))
		listeners = append(listeners, adminLn)
		addrs.admin = dialAddr(adminLn)
	}
	served := make(chan error, len(servers))
	for i, srv := range servers {
		go func() { served <- srv.Serve(listeners[i]) }()
	}

	log.InfoContext(ctx, "shop: started", "config", cfg.String(), "url", publicURL)
	fmt.Fprintf(stdout, "\npaylink shop (%s)\n  open %s/\n", pay.describe(publicURL+acfg.CallbackPath), publicURL)
	if addrs.admin != "" {
		fmt.Fprintf(stdout, "  metrics and console on http://%s/ (SHOP_ADMIN_ADDR)\n", addrs.admin)
	}
	fmt.Fprintln(stdout)
	if ready != nil {
		ready(addrs)
	}

	var serveErr error
	select {
	case <-ctx.Done():
		log.Info("shop: shutting down")
	case serveErr = <-served:
		log.Error("shop: server stopped", "err", serveErr)
	}

	// 1. Stop accepting; let in-flight requests, callbacks included, finish.
	shutCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	for _, srv := range servers {
		if err := srv.Shutdown(shutCtx); err != nil {
			serveErr = errors.Join(serveErr, fmt.Errorf("shop: HTTP shutdown: %w", err))
		}
	}
	// 2. Stop the reconciler.
	stopReconciler()
	wg.Wait()
	// 3. Stop the hooks: running ones finish, queued ones wait in the
	// database for the next start.
	stopCtx, cancelStop := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancelStop()
	if err := svc.Stop(stopCtx); err != nil {
		serveErr = errors.Join(serveErr, fmt.Errorf("shop: stopping hooks: %w", err))
	}
	cancelHooks()
	// 4. The deferred calls close the fake provider, then the database.
	log.Info("shop: stopped")
	if errors.Is(serveErr, http.ErrServerClosed) {
		serveErr = nil
	}
	return serveErr
}

// listening is what run tells its ready callback: the addresses a client
// on this machine dials ("127.0.0.1:8080").
type listening struct {
	// public serves the shop, its pages and the payment callbacks.
	public string
	// admin serves /metrics and the console (SHOP_ADMIN_ADDR); "" when
	// they are on the public listener.
	admin string
}

// dialAddr is the address to reach ln at from this machine: its own, or
// 127.0.0.1 with its port when it listens on every address.
func dialAddr(ln net.Listener) string {
	a := ln.Addr().(*net.TCPAddr)
	host := "127.0.0.1"
	if !a.IP.IsUnspecified() {
		host = a.IP.String()
	}
	return net.JoinHostPort(host, strconv.Itoa(a.Port))
}

// newRouter returns a gin engine with panic recovery, trusting no proxy.
func newRouter() (*gin.Engine, error) {
	r := gin.New()
	r.Use(gin.Recovery())
	// No reverse proxy in front: c.ClientIP() is the peer's address (the
	// console's sign-in throttle counts by it). Behind one, list it here
	// instead.
	if err := r.SetTrustedProxies(nil); err != nil {
		return nil, err
	}
	return r, nil
}

// newServer returns the HTTP server of one listener, with timeouts.
func newServer(h http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}
