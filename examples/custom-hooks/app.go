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
	"strconv"
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
// requests, and serves until ctx is done.
func run(ctx context.Context, getenv func(string) string, stdout io.Writer, ready func(baseURL string)) error {
	log := slog.New(slog.NewTextHandler(stdout, nil))
	apiToken := getenv("API_TOKEN")
	if apiToken == "" {
		return errors.New("API_TOKEN is required: it protects paylink's JSON routes")
	}
	failures, err1 := strconv.Atoi(cmp.Or(getenv("MAILER_FAILURES"), "1"))
	maxAttempts, err2 := strconv.Atoi(cmp.Or(getenv("HOOK_MAX_ATTEMPTS"), "3"))
	if err := errors.Join(err1, err2); err != nil {
		return fmt.Errorf("MAILER_FAILURES and HOOK_MAX_ATTEMPTS must be numbers: %w", err)
	}
	dbPath := cmp.Or(getenv("SQLITE_PATH"), filepath.Join(os.TempDir(), "paylink-custom-hooks.db"))

	ln, err := net.Listen("tcp", cmp.Or(getenv("ADDR"), "127.0.0.1:8080"))
	if err != nil {
		return err
	}
	defer ln.Close()
	baseURL := fmt.Sprintf("http://127.0.0.1:%d", ln.Addr().(*net.TCPAddr).Port)

	secretKey, callbackToken := rand.Text(), rand.Text()
	fake := fliptest.NewServer(fliptest.Options{
		SecretKey: secretKey, CallbackToken: callbackToken, CallbackURL: baseURL + "/flip/callback", Logger: log,
		// Flip's time-based link ids: a restart on the same database with a
		// fresh fake does not reuse (and overwrite) an earlier run's links.
		LongIDs: true,
	})
	defer fake.Close()
	client, err := flip.NewClient(secretKey, flip.Options{BaseURL: fake.URL, Logger: log})
	if err != nil {
		return err
	}

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
	if err := db.WithContext(ctx).AutoMigrate(&OutboxMail{}, &AuditEvent{}); err != nil {
		return err
	}
	store, err := gormstore.New(db, gormstore.Options{Logger: log})
	if err != nil {
		return err
	}
	svc, err := provider.NewService(store, provider.ServiceOptions{
		Providers: []provider.Provider{flip.NewProvider(client, flip.ProviderOptions{CallbackToken: callbackToken})},
		Logger:    log,
		// Short waits so the demo shows a retry at once; the default
		// policy waits from 1 s up to 10 min over 10 attempts.
		HookPolicy: provider.HookPolicy{MaxAttempts: maxAttempts, Backoff: provider.ExponentialBackoff(time.Second, 30*time.Second)},
	})
	if err != nil {
		return err
	}
	h := &hooks{db: db, mailer: &flakyMailer{log: log, failures: failures}}
	if err := h.register(svc); err != nil {
		return err
	}

	r := gin.New()
	r.Use(gin.Recovery())
	// The JSON routes create links and show customers' names and emails:
	// Mount refuses them without an APIAuth.
	err = ginadapter.Mount(r, svc, ginadapter.Config{
		APIPrefix: "/paylink",
		APIAuth:   requireToken(apiToken),
		Logger:    log,
	})
	if err != nil {
		return err
	}
	admin := r.Group("/admin")
	admin.GET("/hook-runs", func(c *gin.Context) {
		runs, err := svc.Store().(provider.Reader).ListHookRuns(c.Request.Context(), provider.HookRunFilter{
			State: provider.HookRunState(c.Query("state")), Hook: c.Query("hook"),
		})
		reply(c, runs, err)
	})
	admin.POST("/hook-runs/:id/retry", func(c *gin.Context) {
		id, err := strconv.ParseInt(c.Param("id"), 10, 64)
		if err != nil {
			err = provider.Errorf(provider.CodeInvalidArgument, "retry", "hook run id must be a number")
		} else {
			_, err = svc.Act(c.Request.Context(), provider.Action{Kind: provider.ActionRetryHookRun, Actor: "admin", HookRunID: id})
		}
		reply(c, gin.H{"retried": id}, err)
	})
	admin.GET("/outbox", func(c *gin.Context) {
		mails := []OutboxMail{}
		err := db.WithContext(c.Request.Context()).Order("created_at").Find(&mails).Error
		reply(c, mails, err)
	})
	admin.GET("/audit", func(c *gin.Context) {
		rows := []AuditEvent{}
		err := db.WithContext(c.Request.Context()).Order("created_at").Find(&rows).Error
		reply(c, rows, err)
	})

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

// requireToken authorizes "Authorization: Bearer <token>".
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

// reply answers v as JSON, or err with the status ginadapter maps it to.
func reply(c *gin.Context, v any, err error) {
	if err != nil {
		c.AbortWithStatusJSON(ginadapter.StatusCode(err), gin.H{"error": err.Error()})
		return
	}
	c.JSON(http.StatusOK, v)
}
