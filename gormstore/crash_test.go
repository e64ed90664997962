package gormstore_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/glebarez/sqlite"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"

	"github.com/paylinkgo/paylink/gormstore"
	"github.com/paylinkgo/paylink/provider"
	"github.com/paylinkgo/paylink/provider/providertest"
)

// The crash test runs the test binary a second time as a child process:
// these variables tell the child which database to use.
const (
	crashChildKind = "PAYLINK_CRASH_CHILD_KIND"
	crashChildDSN  = "PAYLINK_CRASH_CHILD_DSN"
	crashHook      = "crash.receipt"
	crashToken     = "crash-token"
)

// TestHookRunsOnceAfterSIGKILL: an app process answers a callback 200 and
// is killed with SIGKILL before its hook ran. After a restart the hook runs
// exactly once, and a repeat of the callback changes nothing.
func TestHookRunsOnceAfterSIGKILL(t *testing.T) {
	if kind := os.Getenv(crashChildKind); kind != "" {
		crashChild(t, kind, os.Getenv(crashChildDSN))
		return
	}
	for _, b := range []struct {
		name string
		dsn  func(t *testing.T) (string, *gorm.DB)
	}{
		{"sqlite", func(t *testing.T) (string, *gorm.DB) {
			path := filepath.Join(t.TempDir(), "crash.db")
			db := openCrashDB(t, "sqlite", path)
			closeOnCleanup(t, db)
			return path, db
		}},
		{"postgres", func(t *testing.T) (string, *gorm.DB) {
			dsn := newSchema(t)
			return dsn, openPostgres(t, dsn)
		}},
	} {
		t.Run(b.name, func(t *testing.T) {
			dsn, db := b.dsn(t)
			ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
			defer cancel()
			if err := gormstore.Migrate(ctx, db); err != nil {
				t.Fatal(err)
			}
			store, err := gormstore.New(db, testOptions())
			if err != nil {
				t.Fatal(err)
			}
			mem := providertest.NewMemProvider("mem", crashToken)
			svc, err := provider.NewService(store, provider.ServiceOptions{Providers: []provider.Provider{mem}})
			if err != nil {
				t.Fatal(err)
			}
			var calls atomic.Int32
			if err := svc.OnSucceeded(crashHook, provider.SucceededHookFunc(func(ctx context.Context, ev *provider.HookEvent) error {
				calls.Add(1)
				return nil
			})); err != nil {
				t.Fatal(err)
			}
			link, err := svc.CreateLink(ctx, "mem", provider.CreateLinkParams{Title: "Order 1", Amount: provider.Rupiah(45000)})
			if err != nil {
				t.Fatal(err)
			}
			pay, err := mem.Settle(link.ID, provider.PaymentSuccessful, 0)
			if err != nil {
				t.Fatal(err)
			}

			// The app process: answers the callback, then dies by SIGKILL.
			addr, child := startCrashChild(t, b.name, dsn)
			req, err := providertest.NewCallbackRequest(ctx, "http://"+addr+"/callback", crashToken, pay)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("child answered %d, want 200", resp.StatusCode)
			}
			if err := child.Process.Kill(); err != nil { // SIGKILL
				t.Fatal(err)
			}
			_ = child.Wait()

			runs, err := store.ListHookRuns(ctx, provider.HookRunFilter{Hook: crashHook})
			if err != nil {
				t.Fatal(err)
			}
			if len(runs) != 1 || runs[0].State != provider.HookRunPending {
				t.Fatalf("after the kill: runs = %+v, want one pending run", runs)
			}

			// The restart: this process takes over the queue.
			if err := svc.Start(ctx); err != nil {
				t.Fatal(err)
			}
			defer svc.Stop(context.Background())
			waitUntil(t, ctx, "the hook to succeed after the restart", func() bool {
				runs, err := store.ListHookRuns(ctx, provider.HookRunFilter{Hook: crashHook, State: provider.HookRunSucceeded})
				return err == nil && len(runs) == 1
			})
			if n := calls.Load(); n != 1 {
				t.Fatalf("hook ran %d times, want 1", n)
			}

			// Flip repeats the callback after the restart: still one run.
			req, _ = providertest.NewCallbackRequest(ctx, "http://app.invalid/callback", crashToken, pay)
			if _, out, err := svc.HandleCallback(ctx, "mem", req); err != nil || out.Verdict != provider.VerdictDuplicate {
				t.Fatalf("repeat: %v, %v; want a duplicate", out.Verdict, err)
			}
			runs, _ = store.ListHookRuns(ctx, provider.HookRunFilter{Hook: crashHook})
			if len(runs) != 1 || calls.Load() != 1 {
				t.Fatalf("after the repeat: %d runs, %d calls; want 1 and 1", len(runs), calls.Load())
			}
		})
	}
}

func waitUntil(t *testing.T, ctx context.Context, what string, cond func() bool) {
	t.Helper()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("timed out waiting for %s", what)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func openCrashDB(t testing.TB, kind, dsn string) *gorm.DB {
	t.Helper()
	var dial gorm.Dialector = postgres.Open(dsn)
	if kind == "sqlite" {
		dial = sqlite.Open(gormstore.OpenSQLiteDSN(dsn))
	}
	db, err := gorm.Open(dial, gormConfig())
	if err != nil {
		t.Fatal(err)
	}
	if kind == "sqlite" {
		if err := gormstore.ConfigureSQLite(db); err != nil {
			t.Fatal(err)
		}
	}
	return db
}

// startCrashChild starts the app process and returns its address.
func startCrashChild(t *testing.T, kind, dsn string) (string, *exec.Cmd) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHookRunsOnceAfterSIGKILL$", "-test.v")
	cmd.Env = append(os.Environ(), crashChildKind+"="+kind, crashChildDSN+"="+dsn)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if addr, ok := strings.CutPrefix(sc.Text(), "CRASH-CHILD-LISTENING "); ok {
				lines <- addr
			}
		}
	}()
	select {
	case addr := <-lines:
		return addr, cmd
	case <-time.After(90 * time.Second):
		t.Fatal("the child process did not start listening")
	}
	return "", nil
}

// crashChild is the app process: it applies callbacks and answers 200,
// but never starts its hook workers, so every hook run it enqueues is
// still waiting when it is killed.
func crashChild(t *testing.T, kind, dsn string) {
	db := openCrashDB(t, kind, dsn)
	store, err := gormstore.New(db, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	svc, err := provider.NewService(store, provider.ServiceOptions{Providers: []provider.Provider{providertest.NewMemProvider("mem", crashToken)}})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.OnSucceeded(crashHook, provider.SucceededHookFunc(func(ctx context.Context, ev *provider.HookEvent) error {
		return errors.New("the child never runs hooks")
	})); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fmt.Println("CRASH-CHILD-LISTENING", ln.Addr().String())
	_ = http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, _, err := svc.HandleCallback(r.Context(), "mem", r); err != nil {
			http.Error(w, "callback failed", http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
}
