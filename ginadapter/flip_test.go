package ginadapter_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
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
	"github.com/paylinkgo/paylink/provider/providertest"
)

const flipSecret = "sk-test-7c1e"

// flipApp is paylink over flip, the fake Flip, and gormstore on SQLite.
type flipApp struct {
	t     *testing.T
	fake  *fliptest.Server
	db    *gorm.DB
	store *gormstore.Store
	svc   *provider.Service
	r     *gin.Engine
	srv   *httptest.Server
}

func newFlipApp(t *testing.T, cfg ginadapter.Config) *flipApp {
	t.Helper()
	ctx := context.Background()
	db, err := gorm.Open(sqlite.Open(gormstore.OpenSQLiteDSN(filepath.Join(t.TempDir(), "paylink.db"))), &gorm.Config{Logger: logger.Discard})
	if err != nil {
		t.Fatal(err)
	}
	if err := gormstore.ConfigureSQLite(db); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if sqlDB, err := db.DB(); err == nil {
			sqlDB.Close()
		}
	})
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
	fp := flip.NewProvider(client, flip.ProviderOptions{CallbackToken: testToken})
	svc, err := provider.NewService(store, provider.ServiceOptions{Providers: []provider.Provider{fp}})
	if err != nil {
		t.Fatal(err)
	}
	a := &flipApp{t: t, fake: fake, db: db, store: store, svc: svc, r: gin.New()}
	if err := ginadapter.Mount(a.r, svc, cfg); err != nil {
		t.Fatal(err)
	}
	a.srv = httptest.NewServer(a.r)
	t.Cleanup(a.srv.Close)
	fake.SetCallbackURL(a.srv.URL + cbPath)
	return a
}

// flipCallback builds the form Flip posts for a payment of linkID.
func flipCallback(t *testing.T, token, linkID string) *http.Request {
	t.Helper()
	req, err := flip.NewCallbackRequest(context.Background(), cbPath, token, flip.Callback{
		ID: "PGPWF00000000000000000001", BillLinkID: flip.ID(linkID), BillTitle: "Order 1",
		SenderName: "Budi", SenderBank: "bni", SenderBankType: "virtual_account",
		Amount: 45000, Status: "SUCCESSFUL", CreatedAt: time.Date(2026, 1, 2, 10, 0, 0, 0, flip.Location()),
	})
	if err != nil {
		t.Fatal(err)
	}
	req.RemoteAddr = "192.0.2.10:40000"
	return req
}

// TestFlipEndToEnd: a link created through the JSON route on the fake
// Flip, paid, its callback delivered twice over HTTP: one payment, one
// hook run, both callbacks answered 200, the return route redirects.
func TestFlipEndToEnd(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	a := newFlipApp(t, ginadapter.Config{APIPrefix: "/paylink", APIAuth: trustedCaller, ReturnPath: "/paylink/return"})
	var receipts atomic.Int32
	if err := a.svc.On("receipt", provider.When(provider.PaymentSuccessful), func(context.Context, *provider.HookEvent) error {
		receipts.Add(1)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := a.svc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stopCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		a.svc.Stop(stopCtx)
	})

	resp, err := a.srv.Client().Post(a.srv.URL+"/paylink/links", "application/json",
		strings.NewReader(`{"title":"Order 1","amount":45000,"step":2,"customer":{"name":"Budi","email":"budi@example.com"}}`))
	if err != nil {
		t.Fatal(err)
	}
	var link provider.Link
	if err := json.NewDecoder(resp.Body).Decode(&link); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated || link.ID == "" || link.Provider != "flip" {
		t.Fatalf("create: %d %+v", resp.StatusCode, link)
	}

	pay, err := a.fake.Pay(ctx, link.ID, fliptest.PayOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.fake.WaitDeliveries(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if err := a.fake.Redeliver(ctx, pay.ID); err != nil {
		t.Fatal(err)
	}
	if err := a.fake.WaitDeliveries(ctx, 2); err != nil {
		t.Fatal(err)
	}
	for _, d := range a.fake.Deliveries() {
		if d.StatusCode != http.StatusOK {
			t.Errorf("delivery %+v answered %d, want 200", d, d.StatusCode)
		}
	}

	resp, err = a.srv.Client().Get(a.srv.URL + "/paylink/links/" + link.ID)
	if err != nil {
		t.Fatal(err)
	}
	var got ginadapter.LinkResponse
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if len(got.Payments) != 1 || got.Payments[0].Status != provider.PaymentSuccessful || got.Payments[0].Amount != provider.Rupiah(45000) {
		t.Errorf("payments = %+v, want one SUCCESSFUL IDR 45000", got.Payments)
	}
	if got.Link.Status != provider.LinkInactive {
		t.Errorf("link status %s, want INACTIVE", got.Link.Status)
	}

	noFollow := *a.srv.Client()
	noFollow.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err = noFollow.Get(a.srv.URL + "/paylink/return/" + link.ID)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/paylink/links/"+link.ID {
		t.Errorf("return: %d Location %q", resp.StatusCode, resp.Header.Get("Location"))
	}

	cbs, err := a.store.ListCallbacks(ctx, provider.CallbackFilter{})
	if err != nil {
		t.Fatal(err)
	}
	verdicts := map[provider.Verdict]int{}
	for _, cb := range cbs {
		verdicts[cb.Verdict]++
	}
	if len(cbs) != 2 || verdicts[provider.VerdictApplied] != 1 || verdicts[provider.VerdictDuplicate] != 1 {
		t.Errorf("callbacks recorded: %v, want one applied and one duplicate", verdicts)
	}

	// The hook runs once, from the queue; poll with a generous deadline.
	for {
		runs, err := a.svc.Store().(provider.Reader).ListHookRuns(ctx, provider.HookRunFilter{State: provider.HookRunSucceeded})
		if err != nil {
			t.Fatal(err)
		}
		if len(runs) >= 1 {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the hook did not run: %v", ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
	all, err := a.svc.Store().(provider.Reader).ListHookRuns(ctx, provider.HookRunFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 1 || receipts.Load() != 1 {
		t.Errorf("hook runs %d, receipts %d; want 1 and 1", len(all), receipts.Load())
	}
}

// TestFlipCallbackAnswers: Flip's form callbacks through flip.Provider and
// gormstore on SQLite.
func TestFlipCallbackAnswers(t *testing.T) {
	t.Parallel()

	t.Run("a wrong or missing token is 401 and stores nothing", func(t *testing.T) {
		t.Parallel()
		a := newFlipApp(t, ginadapter.Config{})
		for _, tok := range []string{"not-the-token", ""} {
			rec := httptest.NewRecorder()
			a.r.ServeHTTP(rec, flipCallback(t, tok, "1"))
			if rec.Code != http.StatusUnauthorized {
				t.Errorf("token %q: %d, want 401", tok, rec.Code)
			}
		}
		cbs, err := a.store.ListCallbacks(context.Background(), provider.CallbackFilter{})
		if err != nil || len(cbs) != 0 {
			t.Errorf("callbacks stored: %d, %v; want none", len(cbs), err)
		}
	})

	t.Run("a form without data is 400", func(t *testing.T) {
		t.Parallel()
		a := newFlipApp(t, ginadapter.Config{})
		req := httptest.NewRequest(http.MethodPost, cbPath, strings.NewReader("token="+testToken))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		a.r.ServeHTTP(rec, req)
		if rec.Code != http.StatusBadRequest {
			t.Errorf("answer %d, want 400", rec.Code)
		}
	})

	t.Run("a closed database is 503 so Flip retries", func(t *testing.T) {
		t.Parallel()
		a := newFlipApp(t, ginadapter.Config{})
		sqlDB, err := a.db.DB()
		if err != nil {
			t.Fatal(err)
		}
		if err := sqlDB.Close(); err != nil {
			t.Fatal(err)
		}
		rec := httptest.NewRecorder()
		a.r.ServeHTTP(rec, flipCallback(t, testToken, "1"))
		if rec.Code != http.StatusServiceUnavailable {
			t.Errorf("answer %d %s, want 503", rec.Code, rec.Body)
		}
	})

	t.Run("a later handler reads the form body and the form, without the token", func(t *testing.T) {
		t.Parallel()
		var raw []byte
		var data string
		a := newFlipApp(t, ginadapter.Config{CallbackHandlers: []gin.HandlerFunc{func(c *gin.Context) {
			data = c.PostForm("data")
			raw, _ = io.ReadAll(c.Request.Body)
		}}})
		req := flipCallback(t, testToken, "1")
		sent, err := io.ReadAll(req.Body)
		if err != nil {
			t.Fatal(err)
		}
		req.Body = io.NopCloser(strings.NewReader(string(sent)))
		rec := httptest.NewRecorder()
		a.r.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			t.Fatalf("answer %d %s", rec.Code, rec.Body)
		}
		if !strings.HasPrefix(string(raw), "data=") || strings.Contains(string(raw), testToken) {
			t.Errorf("later handler read %q, want the body %q without its token", raw, sent)
		}
		if !strings.Contains(data, `"id":"PGPWF00000000000000000001"`) {
			t.Errorf("form data = %q, want the callback JSON", data)
		}
		if ans := decode[ginadapter.CallbackAnswer](t, rec); ans.Verdict != provider.VerdictUnknownLink {
			t.Errorf("verdict %q, want unknown_link (no such link was created)", ans.Verdict)
		}
	})
}

// TestMountRefusesBlankFlipToken: a callback token of only white space (an
// env var set to " ") is no secret; Mount must fail closed as for an empty one.
func TestMountRefusesBlankFlipToken(t *testing.T) {
	t.Parallel()
	client, err := flip.NewClient(flipSecret, flip.Options{BaseURL: "http://127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	for _, token := range []string{"", " ", "\t\n"} {
		fp := flip.NewProvider(client, flip.ProviderOptions{CallbackToken: token})
		svc, err := provider.NewService(providertest.NewMemStore(), provider.ServiceOptions{Providers: []provider.Provider{fp}})
		if err != nil {
			t.Fatal(err)
		}
		r := gin.New()
		if err := ginadapter.Mount(r, svc, ginadapter.Config{}); !errors.Is(err, provider.CodeFailedPrecondition) {
			t.Errorf("token %q: Mount error = %v, want CodeFailedPrecondition", token, err)
		}
		if routes := r.Routes(); len(routes) != 0 {
			t.Errorf("token %q: routes mounted: %v", token, routes)
		}
	}
}

// Handlers after the callback read the body and the form as the flip
// provider keeps them: the payment's data, never Flip's token.
func TestLaterHandlersNeverSeeFlipsToken(t *testing.T) {
	t.Parallel()
	var body, data, token string
	read := func(c *gin.Context) {
		data, token = c.PostForm("data"), c.PostForm("token")
		b, _ := io.ReadAll(c.Request.Body)
		body = string(b)
	}
	a := newFlipApp(t, ginadapter.Config{CallbackHandlers: []gin.HandlerFunc{read}})
	l, err := a.svc.CreateLink(t.Context(), "", provider.CreateLinkParams{Title: "Order 1", Amount: provider.Rupiah(45000)})
	if err != nil {
		t.Fatal(err)
	}
	pay, err := a.fake.Pay(t.Context(), l.ID, fliptest.PayOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.fake.WaitIdle(t.Context()); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(data, pay.ID) {
		t.Fatalf("later handler read data %q, want the payment %s", data, pay.ID)
	}
	if token != "" || strings.Contains(body, testToken) || strings.Contains(body, "token=") {
		t.Fatalf("later handler read the token: form %q, body %q", token, body)
	}
}
