package readme_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/glebarez/sqlite"
	"gorm.io/gorm"

	"github.com/paylinkgo/paylink/examples/internal/readme"
	"github.com/paylinkgo/paylink/examples/internal/runtest"
	"github.com/paylinkgo/paylink/flip/fliptest"
	"github.com/paylinkgo/paylink/gormstore"
)

const quickstartHeading = "## Quickstart: mount it into your Gin app"

// buildQuickstart writes the README's quickstart into a directory of this
// module (under testdata, which ./... skips) and builds it, as a user
// pasting it into a main.go would. It returns the binary's path.
func buildQuickstart(t *testing.T) string {
	t.Helper()
	md, err := os.ReadFile(filepath.Join("..", "..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	code, err := readme.GoBlock(string(md), quickstartHeading)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll("testdata", 0o755); err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("testdata", "quickstart-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(code), 0o644); err != nil {
		t.Fatal(err)
	}
	goTool := filepath.Join(runtime.GOROOT(), "bin", "go")
	pkg := "./" + filepath.ToSlash(dir)
	bin := filepath.Join(t.TempDir(), "quickstart")
	for _, args := range [][]string{{"vet", pkg}, {"build", "-o", bin, pkg}} {
		out, err := exec.Command(goTool, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("go %s: the README's quickstart does not compile as written: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	return bin
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// The quickstart, built from README.md, pays an order end to end on the
// offline fake: checkout redirects to the fake's page, the customer pays,
// the fake's callback is confirmed with the fake's API, and the hook
// marks the order PAID. It stops cleanly on an interrupt.
func TestTheReadmeQuickstartBuildsAndPaysAnOrder(t *testing.T) {
	bin := buildQuickstart(t)
	addr := freeAddr(t)
	fake := fliptest.NewServer(fliptest.Options{SecretKey: "quickstart-key", CallbackToken: "quickstart-token",
		CallbackURL: "http://" + addr + "/flip/callback", RetryInterval: 100 * time.Millisecond})
	t.Cleanup(fake.Close)

	work := t.TempDir()
	var logs runtest.Buffer
	cmd := exec.Command(bin)
	cmd.Dir = work
	cmd.Env = append(os.Environ(), "ADDR="+addr, "FLIP_SECRET_KEY=quickstart-key",
		"FLIP_CALLBACK_TOKEN=quickstart-token", "FLIP_BASE_URL="+fake.URL, "GIN_MODE=release")
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})

	noRedirect := &http.Client{Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	var linkURL string
	runtest.Eventually(t, func() (bool, string) {
		resp, err := noRedirect.Post("http://"+addr+"/orders/42/checkout", "application/json", nil)
		if err != nil {
			return false, "checkout: " + err.Error() + "\n" + logs.String()
		}
		resp.Body.Close()
		linkURL = resp.Header.Get("Location")
		return resp.StatusCode == http.StatusSeeOther && linkURL != "", "checkout answered " + resp.Status + "\n" + logs.String()
	})
	runtest.Simulate(t, linkURL, "pay")

	db, err := gorm.Open(sqlite.Open(gormstore.OpenSQLiteDSN(filepath.Join(work, "app.db"))), &gorm.Config{})
	if err != nil {
		t.Fatal(err)
	}
	runtest.Eventually(t, func() (bool, string) {
		var status string
		err := db.Raw("SELECT status FROM orders WHERE id = ?", "42").Scan(&status).Error
		return err == nil && status == "PAID", "order 42 is " + status + "\n" + logs.String()
	})
	if !strings.Contains(logs.String(), "verdict=applied") {
		t.Fatalf("the quickstart logged nothing about the callback through slog.Default():\n%s", logs.String())
	}

	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			t.Fatalf("quickstart exited with %v after an interrupt:\n%s", err, logs.String())
		}
	case <-time.After(runtest.Timeout):
		t.Fatal("quickstart did not stop after an interrupt")
	}
	exited <- nil // for the cleanup
}

// Without a secret key the quickstart refuses to start: it fails closed.
func TestTheReadmeQuickstartRefusesToStartWithoutAKey(t *testing.T) {
	bin := buildQuickstart(t)
	ctx, cancel := context.WithTimeout(t.Context(), runtest.Timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin)
	cmd.Dir = t.TempDir()
	cmd.Env = append(os.Environ(), "ADDR="+freeAddr(t), "FLIP_SECRET_KEY=", "FLIP_CALLBACK_TOKEN=")
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(strings.ToLower(string(out)), "key") {
		t.Fatalf("started without a key: err %v\n%s", err, out)
	}
}
