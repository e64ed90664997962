package ginadapter_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/glebarez/sqlite"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/paylinkgo/paylink/flip"
	"github.com/paylinkgo/paylink/flip/fliptest"
	"github.com/paylinkgo/paylink/ginadapter"
	"github.com/paylinkgo/paylink/gormstore"
	"github.com/paylinkgo/paylink/gormstore/gormstoretest"
	"github.com/paylinkgo/paylink/provider"
)

// This file is the harness of the bad-input suite (badinput_test.go):
// paylink mounted as an app mounts it, flip over the fake Flip, on
// gormstore over SQLite or PostgreSQL.

// postgresEnv names the PostgreSQL server the PostgreSQL runs use, as a
// postgres:// URL. CI always sets it.
const postgresEnv = "PAYLINK_TEST_POSTGRES_DSN"

// database opens a fresh, migrated database for one test.
type database struct {
	name string
	open func(t *testing.T) *gorm.DB
}

// databases are the databases the bad-input suite runs on.
func databases() []database {
	return []database{{"SQLite", openSQLiteDB}, {"PostgreSQL", openPostgresDB}}
}

// openSQLiteDB opens a SQLite file of the test's own, configured as the
// examples configure it.
func openSQLiteDB(t *testing.T) *gorm.DB {
	t.Helper()
	db, err := gorm.Open(sqlite.Open(gormstore.OpenSQLiteDSN(filepath.Join(t.TempDir(), "paylink.db"))), &gorm.Config{Logger: logger.Discard})
	if err != nil {
		t.Fatal(err)
	}
	if err := gormstore.ConfigureSQLite(db); err != nil {
		t.Fatal(err)
	}
	closeOnCleanup(t, db)
	return db
}

// openPostgresDB creates a schema of the test's own on the server named by
// PAYLINK_TEST_POSTGRES_DSN (other packages' tests use the server at the
// same time), drops it when the test ends, and opens it. Without the
// variable the test is skipped, with the reason.
func openPostgresDB(t *testing.T) *gorm.DB {
	t.Helper()
	dsn := gormstoretest.PostgresSchema(t, "paylink_ginadapter")
	db, err := gorm.Open(postgres.Open(dsn), &gorm.Config{Logger: logger.Discard})
	if err != nil {
		t.Fatalf("opening the test's schema: %v", err)
	}
	closeOnCleanup(t, db)
	return db
}

func closeOnCleanup(t *testing.T, db *gorm.DB) {
	t.Cleanup(func() {
		if sqlDB, err := db.DB(); err == nil {
			sqlDB.Close()
		}
	})
}

// linkAmount is the amount of every link the suite makes.
const linkAmount = 45000

// guardedApp is paylink over flip, the fake Flip and gormstore, with the
// callback route and the JSON routes mounted, behind a middleware that
// turns a panic into a recorded failure (and a 500) instead of a crash.
type guardedApp struct {
	t     *testing.T
	fake  *fliptest.Server
	db    *gorm.DB
	store *gormstore.Store
	svc   *provider.Service
	r     *gin.Engine
	srv   *httptest.Server
	logs  *syncBuffer

	mu     sync.Mutex // guards panics and the fake's callback mode
	panics []string
}

// newGuardedApp migrates db and mounts paylink on it. A hook is registered
// for SUCCESSFUL payments but the hooks are not started, so every hook run
// an applied payment queues stays in paylink_hook_runs to be counted.
func newGuardedApp(t *testing.T, db *gorm.DB) *guardedApp {
	t.Helper()
	ctx := context.Background()
	if err := gormstore.Migrate(ctx, db); err != nil {
		t.Fatal(err)
	}
	store, err := gormstore.New(db, gormstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	fake := fliptest.NewServer(fliptest.Options{SecretKey: flipSecret, CallbackToken: testToken, RetryInterval: 50 * time.Millisecond, MaxRetries: -1})
	t.Cleanup(fake.Close)
	client, err := flip.NewClient(flipSecret, flip.Options{BaseURL: fake.URL})
	if err != nil {
		t.Fatal(err)
	}
	a := &guardedApp{t: t, fake: fake, db: db, store: store, r: gin.New(), logs: &syncBuffer{}}
	log := slog.New(slog.NewTextHandler(a.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	fp := flip.NewProvider(client, flip.ProviderOptions{CallbackToken: testToken, Logger: log})
	svc, err := provider.NewService(store, provider.ServiceOptions{Providers: []provider.Provider{fp}, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	a.svc = svc
	if err := svc.On("receipt", provider.When(provider.PaymentSuccessful), func(context.Context, *provider.HookEvent) error { return nil }); err != nil {
		t.Fatal(err)
	}
	a.r.Use(a.recoverPanics)
	if err := ginadapter.Mount(a.r, svc, ginadapter.Config{APIPrefix: "/paylink", APIAuth: trustedCaller, ReturnPath: "/paylink/return", Logger: log}); err != nil {
		t.Fatal(err)
	}
	a.srv = httptest.NewServer(a.r)
	t.Cleanup(a.srv.Close)
	fake.SetCallbackURL(a.srv.URL + cbPath)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("logs:\n%s", a.logs)
		}
	})
	return a
}

// recoverPanics records a panic of a later handler and answers 500.
func (a *guardedApp) recoverPanics(c *gin.Context) {
	defer func() {
		if v := recover(); v != nil {
			a.mu.Lock()
			a.panics = append(a.panics, fmt.Sprint(v))
			a.mu.Unlock()
			c.AbortWithStatus(http.StatusInternalServerError)
		}
	}()
	c.Next()
}

// panicked returns the panics recorded so far and forgets them.
func (a *guardedApp) panicked() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	p := a.panics
	a.panics = nil
	return p
}

// serve serves req in process.
func (a *guardedApp) serve(req *http.Request) *httptest.ResponseRecorder {
	if req.RemoteAddr == "" {
		req.RemoteAddr = "192.0.2.10:40000"
	}
	rec := httptest.NewRecorder()
	a.r.ServeHTTP(rec, req)
	return rec
}

// paylinkTables are the tables whose row counts the suite compares.
func paylinkTables() []string {
	return []string{
		"paylink_links", "paylink_payments", "paylink_callbacks",
		"paylink_events", "paylink_status_changes", "paylink_hook_runs",
	}
}

// rowCounts counts the rows of every paylink table.
func (a *guardedApp) rowCounts(t *testing.T) map[string]int64 {
	t.Helper()
	counts := make(map[string]int64)
	for _, table := range paylinkTables() {
		var n int64
		if err := a.db.Table(table).Count(&n).Error; err != nil {
			t.Fatalf("counting %s: %v", table, err)
		}
		counts[table] = n
	}
	return counts
}

// effect is what a request must add to the database.
type effect int

const (
	// storesNothing: every paylink table is unchanged.
	storesNothing effect = iota
	// recordsCallback: the callback is recorded (for an operator); no
	// payment, no event, no hook run.
	recordsCallback
	// paysOnce: the callback is recorded and the payment stored with its
	// event, its status change and one hook run.
	paysOnce
	// createsLink: one link is stored.
	createsLink
)

// rows returns the number of rows the effect adds to each table.
func (e effect) rows() map[string]int64 {
	switch e {
	case recordsCallback:
		return map[string]int64{"paylink_callbacks": 1}
	case paysOnce:
		return map[string]int64{"paylink_callbacks": 1, "paylink_payments": 1, "paylink_events": 1, "paylink_status_changes": 1, "paylink_hook_runs": 1}
	case createsLink:
		return map[string]int64{"paylink_links": 1}
	}
	return nil
}

func (e effect) String() string {
	return [...]string{"stores nothing", "records the callback only", "pays once", "creates a link"}[e]
}

// checkEffect compares the row counts before and after a request with
// what the effect adds.
func checkEffect(t *testing.T, e effect, before, after map[string]int64) {
	t.Helper()
	want := e.rows()
	for _, table := range paylinkTables() {
		if got := after[table] - before[table]; got != want[table] {
			t.Errorf("%s gained %d rows, want %d (the request %s)", table, got, want[table], e)
		}
	}
}

// fixture is what one case's request is made from: a fresh link of
// linkAmount rupiah, created on the fake Flip and stored, and paid on the
// fake (its callback dropped), so that the case's callback is one Flip
// confirms when asked: paylink verifies every callback that would change
// a payment with the provider first.
type fixture struct {
	t      *testing.T
	linkID string
	payID  string
}

// newFixture creates and pays the case's link on the fake.
func (a *guardedApp) newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	l, err := a.svc.CreateLink(ctx, "", provider.CreateLinkParams{Title: "Order 1", Amount: provider.Rupiah(linkAmount)})
	if err != nil {
		t.Fatalf("creating the case's link: %v", err)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.fake.SetCallbackMode(fliptest.CallbackMode{Drop: true}) // the case sends the callback itself
	pay, err := a.fake.Pay(ctx, l.ID, fliptest.PayOptions{SenderName: "Budi", SenderEmail: "budi@example.com"})
	a.fake.SetCallbackMode(fliptest.CallbackMode{})
	if err != nil {
		t.Fatalf("paying the case's link on the fake: %v", err)
	}
	return &fixture{t: t, linkID: l.ID, payID: pay.ID}
}

// genuine is the callback Flip sends when the fixture's link is paid.
func (f *fixture) genuine() flip.Callback {
	return flip.Callback{
		ID: f.payID, BillLink: "flip.id/$paylink/#order-1", BillLinkID: flip.ID(f.linkID), BillTitle: "Order 1",
		SenderName: "Budi", SenderEmail: "budi@example.com", SenderBank: "bni", SenderBankType: "virtual_account",
		Amount: linkAmount, Status: "SUCCESSFUL", CreatedAt: time.Date(2026, 1, 2, 10, 0, 0, 0, flip.Location()),
	}
}

// callback is the genuine callback, changed by edit, as Flip posts it.
func (f *fixture) callback(edit func(cb *flip.Callback)) *http.Request {
	f.t.Helper()
	cb := f.genuine()
	if edit != nil {
		edit(&cb)
	}
	req, err := flip.NewCallbackRequest(context.Background(), cbPath, testToken, cb)
	if err != nil {
		f.t.Fatal(err)
	}
	return req
}

// data returns the genuine callback's data JSON with the named fields
// replaced by raw JSON text, sent exactly as written (valid JSON or not);
// an empty text removes the field.
func (f *fixture) data(raw map[string]string) string {
	f.t.Helper()
	dec := json.NewDecoder(strings.NewReader(flip.CallbackForm(testToken, f.genuine()).Get("data")))
	dec.UseNumber()
	var fields map[string]any
	if err := dec.Decode(&fields); err != nil {
		f.t.Fatal(err)
	}
	names := make([]string, 0, len(raw))
	for name := range raw {
		delete(fields, name)
		names = append(names, name)
	}
	rest, err := json.Marshal(fields)
	if err != nil {
		f.t.Fatal(err)
	}
	slices.Sort(names)
	var b strings.Builder
	b.WriteString("{")
	for _, name := range names {
		if raw[name] == "" {
			continue
		}
		fmt.Fprintf(&b, "%q:%s,", name, raw[name])
	}
	b.Write(rest[1:])
	return b.String()
}

// withData posts the genuine callback with the named data fields
// replaced (see data) and the right token.
func (f *fixture) withData(raw map[string]string) *http.Request {
	f.t.Helper()
	return postForm(url.Values{"data": {f.data(raw)}, "token": {testToken}}.Encode())
}

// postForm posts body as a form to the callback route.
func postForm(body string) *http.Request {
	return post(cbPath, "application/x-www-form-urlencoded", body)
}

// post posts body with the content type (none when empty).
func post(path, contentType, body string) *http.Request {
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	return req
}

// nested returns depth JSON arrays, one inside the other.
func nested(depth int) string {
	return strings.Repeat("[", depth) + strings.Repeat("]", depth)
}

// quoted returns s as a JSON string.
func quoted(s string) string {
	b, err := json.Marshal(s)
	if err != nil {
		panic(err)
	}
	return string(b)
}
