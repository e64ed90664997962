package runtest_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"testing"

	"github.com/paylinkgo/paylink/examples/internal/runtest"
)

// hello is a tiny program in the examples' shape.
func hello(ctx context.Context, getenv func(string) string, stdout io.Writer, ready func(string)) error {
	ln, err := net.Listen("tcp", getenv("ADDR"))
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, "hello")
	})}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	fmt.Fprintln(stdout, "serving")
	ready("http://" + ln.Addr().String())
	<-ctx.Done()
	if err := srv.Shutdown(context.WithoutCancel(ctx)); err != nil {
		return err
	}
	if err := <-serveErr; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func TestStartCallShutdown(t *testing.T) {
	t.Parallel()
	app := runtest.Start(t, hello, map[string]string{"ADDR": "127.0.0.1:0"})
	if status, body := app.Call(t, http.MethodGet, "/", "", nil); status != http.StatusOK || string(body) != "hello" {
		t.Errorf("GET / = %d %q, want 200 \"hello\"", status, body)
	}
	app.Shutdown(t)
	if got := app.Out.String(); got != "serving\n" {
		t.Errorf("stdout = %q, want %q", got, "serving\n")
	}
}

func TestFakeFlip(t *testing.T) {
	t.Parallel()
	base, id := runtest.FakeFlip(t, "http://127.0.0.1:5000/pwf/checkout/42")
	if base != "http://127.0.0.1:5000" || id != "42" {
		t.Errorf("FakeFlip = %q, %q; want the base URL and 42", base, id)
	}
}

func TestEventuallyPollsUntilTrue(t *testing.T) {
	t.Parallel()
	calls := 0
	runtest.Eventually(t, func() (bool, string) {
		calls++
		return calls == 3, fmt.Sprint(calls, " calls")
	})
	if calls != 3 {
		t.Errorf("cond called %d times, want 3", calls)
	}
}
