package gormstore_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"

	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"gorm.io/gorm"

	"github.com/paylinkgo/paylink/flip"
	"github.com/paylinkgo/paylink/flip/fliptest"
	"github.com/paylinkgo/paylink/ginadapter"
	"github.com/paylinkgo/paylink/gormstore"
	"github.com/paylinkgo/paylink/provider"
	"github.com/paylinkgo/paylink/provider/midtrans/midtranstest"
)

// seenByHooks keeps the JSON of every HookEvent handed to a hook.
type seenByHooks struct {
	mu   sync.Mutex
	seen []byte
}

func (s *seenByHooks) hook(_ context.Context, ev *provider.HookEvent) error {
	b, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seen = append(append(s.seen, b...), '\n')
	return nil
}

func (s *seenByHooks) text() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return string(s.seen)
}

// register adds the hooks whose inputs the test searches.
func (s *seenByHooks) register(svc *provider.Service) error {
	if err := svc.On("secrets.every", provider.When(), s.hook); err != nil {
		return err
	}
	return svc.On("secrets.flagged", provider.WhenFlagged(), s.hook)
}

// dumpTables returns every value of every row of every table of the
// connection's schema, as text: what an attacker with a database backup
// would read.
func dumpTables(t *testing.T, db *gorm.DB) string {
	t.Helper()
	var tables []string
	var err error
	if db.Dialector.Name() == "sqlite" {
		err = db.Raw(`SELECT name FROM sqlite_master WHERE type = 'table'`).Scan(&tables).Error
	} else {
		err = db.Raw(`SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()`).Scan(&tables).Error
	}
	if err != nil || len(tables) == 0 {
		t.Fatalf("listing tables: %v (%d)", err, len(tables))
	}
	var out strings.Builder
	for _, table := range tables {
		rows, err := db.Raw(`SELECT * FROM "` + table + `"`).Rows()
		if err != nil {
			t.Fatalf("reading %s: %v", table, err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			for i, v := range vals {
				if b, ok := v.([]byte); ok {
					v = string(b)
				}
				fmt.Fprintf(&out, "%s.%s=%v\n", table, cols[i], v)
			}
		}
		rows.Close()
	}
	return out.String()
}

// mustNotHold fails when any form of secret appears in text.
func mustNotHold(t *testing.T, where, text string, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		for _, form := range []string{s, url.QueryEscape(s)} {
			if strings.Contains(text, form) {
				i := strings.Index(text, form)
				t.Fatalf("%s holds a secret (%q) near %q", where, s, text[max(0, i-80):min(len(text), i+len(form)+20)])
			}
		}
	}
}

// After a run of genuine, repeated and flagged callbacks through the
// mounted route, no stored table, no hook's input and no log line holds
// Flip's callback token or its secret key.
func TestNoFlipSecretIsStoredLoggedOrHandedToHooks(t *testing.T) {
	const token, key = "flip-token-never-stored-1234", "flip-secret-key-never-stored-5678"
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			ctx := t.Context()
			db := b.open(t)
			store := migrated(t, db)
			var logs bytes.Buffer
			log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			router := gin.New()
			app := httptest.NewServer(router)
			t.Cleanup(app.Close)
			fake := fliptest.NewServer(fliptest.Options{SecretKey: key, CallbackToken: token,
				CallbackURL: app.URL + ginadapter.DefaultCallbackPath, RetryInterval: 50 * time.Millisecond})
			t.Cleanup(fake.Close)
			client, err := flip.NewClient(key, flip.Options{BaseURL: fake.URL, Logger: log})
			if err != nil {
				t.Fatal(err)
			}
			svc, err := provider.NewService(store, provider.ServiceOptions{Logger: log,
				Providers: []provider.Provider{flip.NewProvider(client, flip.ProviderOptions{CallbackToken: token, Logger: log})}})
			if err != nil {
				t.Fatal(err)
			}
			var hooks seenByHooks
			if err := hooks.register(svc); err != nil {
				t.Fatal(err)
			}
			if err := svc.Start(ctx); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = svc.Stop(context.Background()) })
			if err := ginadapter.Mount(router, svc, ginadapter.Config{Logger: log}); err != nil {
				t.Fatal(err)
			}

			l, err := svc.CreateLink(ctx, "", provider.CreateLinkParams{Title: "Order 1", Amount: provider.Rupiah(20000), Type: provider.LinkMultiple})
			if err != nil {
				t.Fatal(err)
			}
			paid, err := fake.Pay(ctx, l.ID, fliptest.PayOptions{})
			if err != nil {
				t.Fatal(err)
			}
			_, err = fake.Pay(ctx, l.ID, fliptest.PayOptions{Amount: 15000}) // flagged: amount_mismatch
			if err != nil {
				t.Fatal(err)
			}
			if err := fake.WaitIdle(ctx); err != nil {
				t.Fatal(err)
			}
			if err := fake.Redeliver(ctx, paid.ID); err != nil { // a duplicate
				t.Fatal(err)
			}
			if err := fake.WaitIdle(ctx); err != nil {
				t.Fatal(err)
			}
			waitHookRuns(t, svc, 2) // the success (When()) and the underpayment (WhenFlagged())
			cbs, err := store.ListCallbacks(ctx, provider.CallbackFilter{})
			if err != nil || len(cbs) < 3 {
				t.Fatalf("callbacks %d, %v: want the payment, its repeat and the underpayment", len(cbs), err)
			}
			mustNotHold(t, "the database", dumpTables(t, db), token, key)
			mustNotHold(t, "the hooks' events", hooks.text(), token, key)
			mustNotHold(t, "the logs", logs.String(), token, key)
		})
	}
}

// The same for Midtrans: its notifications carry signature_key, a hash of
// the server key that verifies the notification again; neither is kept.
func TestNoMidtransSecretIsStoredLoggedOrHandedToHooks(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			ctx := t.Context()
			var hooks seenByHooks
			e := newMidtransE2E(t, b, hooks.register)
			fake, notes, l := e.fake, e.notes, e.link
			if _, err := fake.Choose(ctx, l.ID, midtranstest.Method{PaymentType: "gopay"}); err != nil {
				t.Fatal(err)
			}
			pending := notes.take(t, l.ID, "pending", "")
			e.deliver(t, pending)
			if _, err := fake.Settle(ctx, l.ID); err != nil {
				t.Fatal(err)
			}
			settlement := notes.take(t, l.ID, "settlement", "")
			e.deliver(t, settlement)
			e.deliver(t, settlement) // a duplicate
			var sigs []string
			for _, body := range [][]byte{pending, settlement} {
				var n struct {
					SignatureKey string `json:"signature_key"`
				}
				if err := json.Unmarshal(body, &n); err != nil || n.SignatureKey == "" {
					t.Fatalf("notification without a signature: %s", body)
				}
				sigs = append(sigs, n.SignatureKey)
			}
			waitHookRuns(t, e.svc, 2)
			db := storeDB(t, e.store)
			mustNotHold(t, "the database", dumpTables(t, db), append(sigs, e2eKey)...)
			mustNotHold(t, "the hooks' events", hooks.text(), append(sigs, e2eKey)...)
		})
	}
}

// waitHookRuns waits until at least n hook runs succeeded and none is
// left to run.
func waitHookRuns(t *testing.T, svc *provider.Service, n int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		done, err := svc.Store().(provider.Reader).ListHookRuns(t.Context(), provider.HookRunFilter{State: provider.HookRunSucceeded})
		if err != nil {
			t.Fatal(err)
		}
		left := 0
		for _, st := range []provider.HookRunState{provider.HookRunPending, provider.HookRunRetrying} {
			runs, err := svc.Store().(provider.Reader).ListHookRuns(t.Context(), provider.HookRunFilter{State: st})
			if err != nil {
				t.Fatal(err)
			}
			left += len(runs)
		}
		if len(done) >= n && left == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d hook runs succeeded, %d left; want at least %d done", len(done), left, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// storeDB returns the *gorm.DB behind a store, for reading its tables.
func storeDB(t *testing.T, s *gormstore.Store) *gorm.DB {
	t.Helper()
	return s.DB()
}
