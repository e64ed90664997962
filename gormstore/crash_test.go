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
	crashChildMode = "PAYLINK_CRASH_CHILD_MODE"
	crashHook      = "crash.receipt"
	crashToken     = "crash-token"
)

// TestHookRunsOnceAfterSIGKILL: an app process answers a callback 200 and
// is killed with SIGKILL before its hook ran. After a restart the hook runs
// exactly once, and a repeat of the callback changes nothing.
//
// With mode "mid-hook" the process is killed while its hook is running:
// the attempt never finishes, the run's lease (the default, 15 s) lapses
// and the restarted process runs the hook to success, once, within 30 s
// of the kill.
func TestHookRunsOnceAfterSIGKILL(t *testing.T) {
	if kind := os.Getenv(crashChildKind); kind != "" {
		crashChild(t, kind, os.Getenv(crashChildDSN), os.Getenv(crashChildMode))
		return
	}
	for _, mode := range []string{"before-hook", "mid-hook"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			testHookAfterSIGKILL(t, mode)
		})
	}
}

var crashPolicy = provider.HookPolicy{MaxAttempts: 5, Backoff: func(int) time.Duration { return 100 * time.Millisecond }, Timeout: time.Second}

func testHookAfterSIGKILL(t *testing.T, mode string) {
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
			t.Parallel()
			dsn, db := b.dsn(t)
			ctx, cancel := context.WithTimeout(t.Context(), 4*time.Minute)
			defer cancel()
			if err := gormstore.Migrate(ctx, db); err != nil {
				t.Fatal(err)
			}
			store, err := gormstore.New(db, testOptions())
			if err != nil {
				t.Fatal(err)
			}
			mem := providertest.NewMemProvider("mem", crashToken)
			svc, err := provider.NewService(store, provider.ServiceOptions{Providers: []provider.Provider{mem}, HookPolicy: crashPolicy})
			if err != nil {
				t.Fatal(err)
			}
			var calls atomic.Int32
			if err := svc.On(crashHook, provider.When(provider.PaymentSuccessful), func(ctx context.Context, ev *provider.HookEvent) error {
				calls.Add(1)
				return nil
			}); err != nil {
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
			addr, child, lines := startCrashChild(t, b.name, dsn, mode)
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
			if mode == "mid-hook" {
				waitLine(t, ctx, lines, "CRASH-CHILD-HOOK-STARTED")
			}
			if err := child.Process.Kill(); err != nil { // SIGKILL
				t.Fatal(err)
			}
			_ = child.Wait()

			runs, err := store.ListHookRuns(ctx, provider.HookRunFilter{Hook: crashHook})
			if err != nil {
				t.Fatal(err)
			}
			wantAttempts := 0 // the child never claimed it
			if mode == "mid-hook" {
				wantAttempts = 1 // the claim the child died in counts
			}
			if len(runs) != 1 || runs[0].State != provider.HookRunPending || runs[0].Attempts != wantAttempts {
				t.Fatalf("after the kill: runs = %+v, want one pending run with %d attempts", runs, wantAttempts)
			}
			killed := time.Now()

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
			if took := time.Since(killed); took > 30*time.Second {
				t.Errorf("the hook ran %v after the kill, want within 30 s", took)
			}

			// Flip repeats the callback after the restart: still one run.
			req, _ = providertest.NewCallbackRequest(ctx, "http://app.invalid/callback", crashToken, pay)
			if _, out, err := providertest.Deliver(ctx, svc, "mem", req); err != nil || out.Verdict != provider.VerdictDuplicate {
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

// startCrashChild starts the app process and returns its address and the
// lines it prints.
func startCrashChild(t *testing.T, kind, dsn, mode string) (string, *exec.Cmd, <-chan string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHookRunsOnceAfterSIGKILL$", "-test.v")
	cmd.Env = append(os.Environ(), crashChildKind+"="+kind, crashChildDSN+"="+dsn, crashChildMode+"="+mode)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	lines := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	addr := waitLine(t, ctx, lines, "CRASH-CHILD-LISTENING ")
	return addr, cmd, lines
}

// waitLine waits for a line starting with prefix and returns the rest.
func waitLine(t *testing.T, ctx context.Context, lines <-chan string, prefix string) string {
	t.Helper()
	for {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatalf("the child process exited before printing %q", prefix)
			}
			if rest, found := strings.CutPrefix(line, prefix); found {
				return rest
			}
		case <-ctx.Done():
			t.Fatalf("the child process did not print %q", prefix)
		}
	}
}

// crashChild is the app process. In mode "before-hook" it applies
// callbacks and answers 200 but never starts its hook workers, so every
// hook run it enqueues is still waiting when it is killed. In mode
// "mid-hook" it runs its hooks, and its hook announces itself and hangs
// until the process is killed.
func crashChild(t *testing.T, kind, dsn, mode string) {
	db := openCrashDB(t, kind, dsn)
	store, err := gormstore.New(db, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	// The child's fake is its own, empty: the parent's fake made the
	// payment. What is checked is the hook runs across a SIGKILL.
	svc, err := provider.NewService(store, provider.ServiceOptions{Providers: []provider.Provider{providertest.NewMemProvider("mem", crashToken)}, HookPolicy: crashPolicy, InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	hook := func(ctx context.Context, ev *provider.HookEvent) error {
		return errors.New("the child never runs hooks")
	}
	if mode == "mid-hook" {
		hook = func(ctx context.Context, ev *provider.HookEvent) error {
			fmt.Println("CRASH-CHILD-HOOK-STARTED")
			select {} // until SIGKILL, whatever the context says
		}
	}
	if err := svc.On(crashHook, provider.When(provider.PaymentSuccessful), hook); err != nil {
		t.Fatal(err)
	}
	if mode == "mid-hook" {
		if err := svc.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fmt.Println("CRASH-CHILD-LISTENING", ln.Addr().String())
	_ = http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, _, err := providertest.Deliver(r.Context(), svc, "mem", r); err != nil {
			http.Error(w, "callback failed", http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
}
