package main

import (
	"context"
	"crypto/rand"
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

	"github.com/paylinkgo/paylink/flip"
	"github.com/paylinkgo/paylink/flip/fliptest"
	"github.com/paylinkgo/paylink/ginadapter"
	"github.com/paylinkgo/paylink/gormstore"
	"github.com/paylinkgo/paylink/provider"
)

// Timings of the shop's background work and shutdown.
const (
	// reconcileInterval is how often open links are re-checked with Flip,
	// so a callback that never arrived is still applied.
	reconcileInterval = time.Minute
	// shutdownTimeout bounds each shutdown step (in-flight requests, then
	// running hooks).
	shutdownTimeout = 30 * time.Second
	// fakeRetryInterval is how soon the offline fake retries a callback the
	// shop did not answer 200 (Flip waits 2 minutes; a demo should not).
	fakeRetryInterval = 5 * time.Second
)

// run is the whole shop: it reads the configuration through getenv, opens
// the database, wires paylink (Flip or the offline fake, gormstore, the
// hooks, ginadapter's callback route), serves HTTP until ctx is done, and
// shuts down gracefully. Logs go to stdout. ready, if not nil, is called
// with the listening address ("127.0.0.1:8080") once requests are served.
//
// Shutdown order, so that no callback is lost: stop accepting connections
// and let in-flight requests (callbacks included) finish, stop the
// reconciler, stop the hooks (running ones finish; queued ones stay in the
// database for the next start), then close the fake Flip and the database.
func run(ctx context.Context, getenv func(string) string, stdout io.Writer, ready func(addr string)) (err error) {
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

	prov, fake, err := newProvider(cfg, localURL+ginadapter.DefaultConfig().CallbackPath, log)
	if err != nil {
		return err
	}
	if fake != nil {
		defer fake.Close() // after the hooks stop, before the database closes
	}

	// The store logs only what needs attention: keep the demo's output to
	// what matters.
	quiet := slog.New(slog.NewTextHandler(stdout, &slog.HandlerOptions{Level: slog.LevelWarn}))
	store, err := gormstore.New(db, gormstore.Options{Logger: quiet.With("component", "gormstore")})
	if err != nil {
		return fmt.Errorf("shop: %w", err)
	}
	svc, err := provider.NewService(store, provider.ServiceOptions{
		Providers: []provider.Provider{prov},
		Logger:    log,
		// Confirm every SUCCESSFUL callback with Flip's API before paying.
		VerifyByRefetch: true,
	})
	if err != nil {
		return fmt.Errorf("shop: %w", err)
	}
	s := newShop(db, svc, log, publicURL)
	if err := s.registerHooks(svc); err != nil {
		return fmt.Errorf("shop: %w", err)
	}

	router := gin.New()
	router.Use(gin.Recovery())
	// No reverse proxy in front: c.ClientIP() is the peer's address. Behind
	// one, list it here instead.
	if err := router.SetTrustedProxies(nil); err != nil {
		return fmt.Errorf("shop: %w", err)
	}
	acfg := ginadapter.DefaultConfig()
	acfg.Logger = log
	if err := ginadapter.Mount(router, svc, acfg); err != nil {
		return fmt.Errorf("shop: mounting paylink: %w", err)
	}
	if err := s.routes(router); err != nil {
		return fmt.Errorf("shop: %w", err)
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

	srv := &http.Server{
		Handler:           router,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	log.InfoContext(ctx, "shop: started", "config", cfg.String(), "url", publicURL)
	if fake != nil {
		fmt.Fprintf(stdout, "\npaylink shop (offline: fake Flip at %s)\n  open %s/\n\n", fake.URL, publicURL)
	} else {
		fmt.Fprintf(stdout, "\npaylink shop (Flip %s; set the callback URL in Flip's dashboard to %s%s)\n  open %s/\n\n",
			cfg.flipEnv, publicURL, acfg.CallbackPath, publicURL)
	}
	if ready != nil {
		ready(net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
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
	if err := srv.Shutdown(shutCtx); err != nil {
		serveErr = errors.Join(serveErr, fmt.Errorf("shop: HTTP shutdown: %w", err))
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
	// 4. The deferred calls close the fake Flip, then the database.
	log.Info("shop: stopped")
	if errors.Is(serveErr, http.ErrServerClosed) {
		serveErr = nil
	}
	return serveErr
}

// newProvider returns the Flip provider: the real Flip when a secret key is
// configured, otherwise an in-process fake Flip (returned too, for the
// caller to close) that sends its callbacks to callbackURL.
func newProvider(cfg config, callbackURL string, log *slog.Logger) (*flip.Provider, *fliptest.Server, error) {
	if !cfg.offline() {
		client, err := flip.NewClient(cfg.secretKey, flip.Options{
			Environment: cfg.flipEnv,
			BaseURL:     cfg.flipBaseURL,
			Logger:      log.With("component", "flip"),
		})
		if err != nil {
			return nil, nil, fmt.Errorf("shop: %w", err)
		}
		return flip.NewProvider(client, flip.ProviderOptions{
			CallbackToken: cfg.callbackToken, PreviousCallbackToken: cfg.previousCallbackToken,
			Logger: log.With("component", "flip"),
		}), nil, nil
	}

	token := cfg.callbackToken
	if token == "" {
		token = rand.Text()
	}
	secret := rand.Text()
	fake := fliptest.NewUnstartedServer(fliptest.Options{
		SecretKey:     secret,
		CallbackToken: token,
		CallbackURL:   callbackURL,
		RetryInterval: fakeRetryInterval,
		// Flip's 19-digit, time-based link ids: they do not repeat when the
		// shop restarts on the same database with a fresh fake.
		LongIDs: true,
		Logger:  log.With("component", "fliptest"),
	})
	if cfg.fakeAddr != "127.0.0.1:0" {
		ln, err := net.Listen("tcp", cfg.fakeAddr)
		if err != nil {
			fake.Close()
			return nil, nil, fmt.Errorf("shop: listening for the fake Flip on %s: %w", cfg.fakeAddr, err)
		}
		fake.Listener = ln
	}
	fake.Start()
	client, err := flip.NewClient(secret, flip.Options{BaseURL: fake.URL, Logger: log.With("component", "flip")})
	if err != nil {
		fake.Close()
		return nil, nil, fmt.Errorf("shop: %w", err)
	}
	return flip.NewProvider(client, flip.ProviderOptions{CallbackToken: token}), fake, nil
}
