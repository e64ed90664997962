package main

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/glebarez/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/paylinkgo/paylink/flip"
	"github.com/paylinkgo/paylink/flip/fliptest"
	"github.com/paylinkgo/paylink/ginadapter"
	"github.com/paylinkgo/paylink/gormstore"
	"github.com/paylinkgo/paylink/provider"
)

// run starts the app, calls ready with its base URL once it accepts
// requests, and serves until ctx is done. getenv and stdout are os.Getenv
// and os.Stdout in main; tests pass their own.
func run(ctx context.Context, getenv func(string) string, stdout io.Writer, ready func(baseURL string)) error {
	log := slog.New(slog.NewTextHandler(stdout, nil))
	adminToken := getenv("ADMIN_TOKEN")
	if adminToken == "" {
		return errors.New("ADMIN_TOKEN is required: it protects /api/admin and paylink's JSON routes")
	}
	dbPath := cmp.Or(getenv("SQLITE_PATH"), filepath.Join(os.TempDir(), "paylink-mount-existing.db"))

	// Listen first: the fake Flip needs the callback URL.
	ln, err := net.Listen("tcp", cmp.Or(getenv("ADDR"), "127.0.0.1:8080"))
	if err != nil {
		return err
	}
	defer ln.Close()
	baseURL := fmt.Sprintf("http://127.0.0.1:%d", ln.Addr().(*net.TCPAddr).Port)

	// The offline Flip account: a fake with fresh credentials.
	secretKey, callbackToken := rand.Text(), rand.Text()
	fake := fliptest.NewServer(fliptest.Options{
		SecretKey: secretKey, CallbackToken: callbackToken,
		CallbackURL: baseURL + "/paylink/flip/callback", Logger: log,
		// Flip's time-based link ids: a restart on the same database with a
		// fresh fake does not reuse (and overwrite) an earlier run's links.
		LongIDs: true,
	})
	defer fake.Close()
	client, err := flip.NewClient(secretKey, flip.Options{BaseURL: fake.URL, Logger: log})
	if err != nil {
		return err
	}
	flipProvider := flip.NewProvider(client, flip.ProviderOptions{CallbackToken: callbackToken})

	// paylink's tables live in the app's own database.
	db, err := gorm.Open(sqlite.Open(gormstore.OpenSQLiteDSN(dbPath)), &gorm.Config{Logger: logger.Discard})
	if err != nil {
		return err
	}
	if sqlDB, err := db.DB(); err == nil {
		defer sqlDB.Close()
	}
	if err := gormstore.ConfigureSQLite(db); err != nil {
		return err
	}
	if err := gormstore.Migrate(ctx, db); err != nil {
		return err
	}
	store, err := gormstore.New(db, gormstore.Options{Logger: log})
	if err != nil {
		return err
	}
	svc, err := provider.NewService(store, provider.ServiceOptions{Providers: []provider.Provider{flipProvider}, Logger: log})
	if err != nil {
		return err
	}
	err = svc.On("log-paid", provider.When(provider.PaymentSuccessful), func(ctx context.Context, ev *provider.HookEvent) error {
		log.InfoContext(ctx, "payment received", "link", ev.Link.ID, "amount", ev.Payment.Amount.String())
		return nil
	})
	if err != nil {
		return err
	}

	// The existing app: its middleware, its routes, its admin group.
	r := gin.New()
	r.Use(gin.Recovery(), requestID(), accessLog(log))
	r.GET("/healthz", func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"ok": true}) })
	r.GET("/api/products", func(c *gin.Context) {
		c.JSON(http.StatusOK, []gin.H{{"sku": "TEA-1", "name": "Jasmine tea", "price": 45000}})
	})
	admin := r.Group("/api/admin", requireToken(adminToken))
	admin.GET("/callbacks", func(c *gin.Context) { listCallbacks(c, svc) })

	// paylink on its own group, outside /api/admin: Flip authenticates with
	// its callback token, which ginadapter checks. The JSON routes reuse
	// the app's auth, as their APIAuth: Mount refuses JSON routes without
	// one.
	err = ginadapter.Mount(r.Group("/paylink"), svc, ginadapter.Config{
		CallbackPath: "/flip/callback",
		APIPrefix:    "/api",
		APIAuth:      requireToken(adminToken),
		Logger:       log,
	})
	if err != nil {
		return err
	}

	if err := svc.Start(ctx); err != nil {
		return err
	}
	srv := &http.Server{Handler: r, ReadHeaderTimeout: 10 * time.Second}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	log.Info("listening", "url", baseURL, "fake_flip", fake.URL)
	if ready != nil {
		ready(baseURL)
	}

	var errServe error
	select {
	case errServe = <-serveErr:
	case <-ctx.Done():
	}
	stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	return errors.Join(errServe, srv.Shutdown(stopCtx), svc.Stop(stopCtx))
}

// requestID gives every request an id (the caller's X-Request-ID when it
// sends a short one), echoed in the response and kept for the access log.
func requestID() gin.HandlerFunc {
	return func(c *gin.Context) {
		id := c.GetHeader("X-Request-ID")
		if id == "" || len(id) > 64 {
			id = rand.Text()
		}
		c.Set("request_id", id)
		c.Header("X-Request-ID", id)
		c.Next()
	}
}

// accessLog logs one line per request. It logs the path, never the query
// or the body: a callback body carries Flip's token.
func accessLog(log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		log.InfoContext(c.Request.Context(), "request", "method", c.Request.Method, "path", c.Request.URL.Path,
			"status", c.Writer.Status(), "duration", time.Since(start), "request_id", c.GetString("request_id"))
	}
}

// requireToken is the app's auth: "Authorization: Bearer <token>".
func requireToken(token string) gin.HandlerFunc {
	want := []byte("Bearer " + token)
	return func(c *gin.Context) {
		if subtle.ConstantTimeCompare([]byte(c.GetHeader("Authorization")), want) != 1 {
			c.AbortWithStatusJSON(http.StatusUnauthorized, gin.H{"error": "unauthorized"})
			return
		}
		c.Next()
	}
}

// listCallbacks shows the callbacks paylink recorded, for the back office.
// The raw body is left out: it holds Flip's callback token.
func listCallbacks(c *gin.Context, svc *provider.Service) {
	r, ok := svc.Store().(provider.Reader)
	if !ok {
		c.AbortWithStatusJSON(http.StatusNotImplemented, gin.H{"error": "the store keeps no readable callbacks"})
		return
	}
	recs, err := r.ListCallbacks(c.Request.Context(), provider.CallbackFilter{Limit: 50})
	if err != nil {
		c.AbortWithStatusJSON(ginadapter.StatusCode(err), gin.H{"error": err.Error()})
		return
	}
	out := make([]gin.H, 0, len(recs))
	for _, rec := range recs {
		out = append(out, gin.H{"provider": rec.Provider, "link_id": rec.LinkID, "payment_id": rec.PaymentID,
			"status": rec.Status, "verdict": rec.Verdict, "received_at": rec.ReceivedAt})
	}
	c.JSON(http.StatusOK, out)
}
