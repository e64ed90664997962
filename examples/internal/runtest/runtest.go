package runtest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// Timeout bounds every wait: starting, stopping, and each [Eventually].
// It is generous because the machine may be slow and busy.
const Timeout = 2 * time.Minute

// Program is an example's run function.
type Program func(ctx context.Context, getenv func(string) string, stdout io.Writer, ready func(baseURL string)) error

// App is one running program.
type App struct {
	// URL is the base URL the program passed to ready.
	URL string
	// Out collects what the program wrote to stdout (its logs).
	Out *Buffer

	cancel context.CancelFunc
	done   chan error
}

// Start runs program with env as its environment and waits until it
// serves. The program is cancelled when the test ends; call
// [App.Shutdown] to check that it stops cleanly.
func Start(t testing.TB, program Program, env map[string]string) *App {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	a := &App{Out: &Buffer{}, cancel: cancel, done: make(chan error, 1)}
	ready := make(chan string, 1)
	getenv := func(k string) string { return env[k] }
	go func() { a.done <- program(ctx, getenv, a.Out, func(u string) { ready <- u }) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-a.done:
		case <-time.After(Timeout):
		}
	})
	select {
	case a.URL = <-ready:
	case err := <-a.done:
		a.done <- err
		t.Fatalf("the program returned before serving: %v\n%s", err, a.Out)
	case <-time.After(Timeout):
		t.Fatalf("the program did not start within %s", Timeout)
	}
	return a
}

// Shutdown cancels the program's context and fails the test unless run
// returns nil in time.
func (a *App) Shutdown(t testing.TB) {
	t.Helper()
	a.cancel()
	select {
	case err := <-a.done:
		a.done <- err // for the cleanup
		if err != nil {
			t.Errorf("run returned %v after cancel, want nil", err)
		}
	case <-time.After(Timeout):
		t.Fatalf("the program did not shut down within %s", Timeout)
	}
}

// Call sends a request to the program (path relative to its URL). See [Call].
func (a *App) Call(t testing.TB, method, path, token string, body any) (int, []byte) {
	t.Helper()
	status, _, b := Call(t, method, a.URL+path, token, body)
	return status, b
}

// Call sends a request with a JSON body (unless body is nil) and a bearer
// token (unless token is empty), and returns the status, headers and body.
func Call(t testing.TB, method, url, token string, body any) (int, http.Header, []byte) {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		r = bytes.NewReader(b)
	}
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, url, r)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the body: %v", method, url, err)
	}
	return resp.StatusCode, resp.Header, b
}

// Decode unmarshals a JSON body into v.
func Decode(t testing.TB, body []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("decoding %s: %v", body, err)
	}
}

// Eventually polls cond until it reports true, and fails the test with
// cond's last description if it does not within [Timeout].
func Eventually(t testing.TB, cond func() (ok bool, state string)) {
	t.Helper()
	deadline := time.Now().Add(Timeout)
	for {
		ok, state := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("condition not met within %s; last state: %s", Timeout, state)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// FakeFlip splits a fake Flip checkout URL (".../pwf/checkout/<id>") into
// the fake's base URL and the link id.
func FakeFlip(t testing.TB, linkURL string) (baseURL, linkID string) {
	t.Helper()
	baseURL, linkID, ok := strings.Cut(linkURL, "/pwf/checkout/")
	if !ok || linkID == "" {
		t.Fatalf("%q is not a fake Flip checkout URL", linkURL)
	}
	return baseURL, linkID
}

// Simulate plays the customer on the fake Flip behind linkURL through its
// /_fliptest routes: action "pay", "expire" or "fail". The fake then sends
// its callback. Simulate returns the payment id.
func Simulate(t testing.TB, linkURL, action string) string {
	t.Helper()
	base, id := FakeFlip(t, linkURL)
	status, _, body := Call(t, http.MethodPost, base+"/_fliptest/bills/"+id+"/"+action, "", map[string]any{})
	if status != http.StatusOK {
		t.Fatalf("%s link %s: %d %s", action, id, status, body)
	}
	var p struct {
		ID string `json:"id"`
	}
	Decode(t, body, &p)
	return p.ID
}

// Buffer is a bytes.Buffer that a program may write from several
// goroutines while a test reads it.
type Buffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends p.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns everything written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Count returns how many times s was written so far.
func (b *Buffer) Count(s string) int {
	return strings.Count(b.String(), s)
}
