package main

import (
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// signInFrom returns a function that signs in to the console of s as
// consoleUser with a password, from the local address ip (another client
// as far as the shop can tell), and returns the answer's status and
// Retry-After header.
func signInFrom(t *testing.T, s *testShop, ip string) func(password string) (int, string) {
	t.Helper()
	dialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DialContext: dialer.DialContext}}
	t.Cleanup(client.CloseIdleConnections)
	return func(password string) (int, string) {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, s.base+"/ops/", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.SetBasicAuth(consoleUser, password)
		res, err := client.Do(req)
		if err != nil {
			t.Fatalf("GET /ops/ from %s: %v", ip, err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return res.StatusCode, res.Header.Get("Retry-After")
	}
}

// TestConsoleSignInIsThrottled guesses the console's password from one
// client: the first 10 wrong passwords are 401, then every attempt, the
// right password included, is 429 with a Retry-After of the backoff
// (a minute) and the password is not even checked. Another client still
// signs in.
func TestConsoleSignInIsThrottled(t *testing.T) {
	t.Parallel()
	s := startShop(t, consoleEnv(t.TempDir()))
	guesser := signInFrom(t, s, "127.0.0.1")
	limit := defaultSignInLimits.perClient
	for i := range 500 {
		st, retry := guesser(fmt.Sprintf("guess-%d", i))
		if i < limit {
			if st != http.StatusUnauthorized {
				t.Fatalf("wrong password %d = %d, want 401", i+1, st)
			}
			continue
		}
		if st != http.StatusTooManyRequests {
			t.Fatalf("wrong password %d, after %d failures = %d, want 429", i+1, limit, st)
		}
		secs, err := strconv.Atoi(retry)
		if err != nil || secs < 1 || secs > int(defaultSignInLimits.backoff/time.Second) {
			t.Fatalf("Retry-After %q, want 1 to %d seconds", retry, int(defaultSignInLimits.backoff/time.Second))
		}
		break
	}
	if st, _ := guesser(consolePassword); st != http.StatusTooManyRequests {
		t.Errorf("the right password from the locked-out client = %d, want 429 (not checked while locked out)", st)
	}
	operator := signInFrom(t, s, "127.0.0.2")
	if st, _ := operator(consolePassword); st != http.StatusOK {
		t.Errorf("the operator's sign-in from another client = %d, want 200", st)
	}
	if st, _ := operator("a typo"); st != http.StatusUnauthorized {
		t.Errorf("the operator's typo from another client = %d, want 401", st)
	}
	if !strings.Contains(s.logs.String(), "console sign-in locked for a client") {
		t.Errorf("no lockout in the logs:\n%s", s.logs)
	}
}

// TestConsoleSignInsAreNotSlowed: signing in (every console request does,
// basic auth sends the password each time) is never counted, and a
// successful one clears the client's failures, so an operator who
// mistypes now and then is never locked out.
func TestConsoleSignInsAreNotSlowed(t *testing.T) {
	t.Parallel()
	s := startShop(t, consoleEnv(t.TempDir()))
	signIn := signInFrom(t, s, "127.0.0.1")
	for i := range 50 {
		if st, _ := signIn(consolePassword); st != http.StatusOK {
			t.Fatalf("sign-in %d = %d, want 200", i+1, st)
		}
	}
	for round := range 3 {
		for i := range defaultSignInLimits.perClient - 1 {
			if st, _ := signIn("a typo"); st != http.StatusUnauthorized {
				t.Fatalf("round %d, typo %d = %d, want 401", round+1, i+1, st)
			}
		}
		if st, _ := signIn(consolePassword); st != http.StatusOK {
			t.Fatalf("round %d, sign-in after %d typos = %d, want 200", round+1, defaultSignInLimits.perClient-1, st)
		}
	}
}

// testClock is a clock the test moves.
type testClock struct{ t time.Time }

func (c *testClock) now() time.Time          { return c.t }
func (c *testClock) advance(d time.Duration) { c.t = c.t.Add(d) }

// testThrottle returns a throttle with limits on a clock the test moves.
func testThrottle(limits signInLimits) (*signInThrottle, *testClock) {
	clock := &testClock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	th := newSignInThrottle(limits, slog.New(slog.DiscardHandler))
	th.now = clock.now
	return th, clock
}

var testLimits = signInLimits{perClient: 3, global: 10, window: 10 * time.Minute, backoff: time.Minute, maxBackoff: 4 * time.Minute, maxClients: 5}

// TestSignInThrottleBacksOff: a client's lockouts last 1, 2, 4, 4 minutes
// (the backoff doubles up to its maximum); between them it gets perClient
// tries; failures older than the window are forgotten.
func TestSignInThrottleBacksOff(t *testing.T) {
	t.Parallel()
	limits := testLimits
	limits.global = 1000 // not the global lockout
	th, clock := testThrottle(limits)
	const c = "192.0.2.1"
	for _, want := range []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute, 4 * time.Minute} {
		for i := range limits.perClient {
			if w := th.wait(c); w != 0 {
				t.Fatalf("before failure %d of a %s lockout: wait %s, want 0", i+1, want, w)
			}
			th.failed(c)
		}
		if w := th.wait(c); w != want {
			t.Fatalf("lockout: wait %s, want %s", w, want)
		}
		clock.advance(want - time.Second)
		if w := th.wait(c); w != time.Second {
			t.Fatalf("a second before the lockout ends: wait %s, want 1s", w)
		}
		clock.advance(time.Second)
	}

	// Two failures, then a quiet window: the count starts again.
	th2, clock2 := testThrottle(testLimits)
	th2.failed(c)
	th2.failed(c)
	clock2.advance(testLimits.window)
	th2.failed(c)
	th2.failed(c)
	if w := th2.wait(c); w != 0 {
		t.Errorf("2 failures, a window, 2 failures: wait %s, want 0", w)
	}
}

// TestSignInThrottleLocksEveryClientOut: failures from many clients, none
// at its own limit, lock every client out once they reach the global
// limit, for the (undoubled) backoff.
func TestSignInThrottleLocksEveryClientOut(t *testing.T) {
	t.Parallel()
	th, clock := testThrottle(testLimits)
	for i := range testLimits.global {
		if w := th.wait("192.0.2.200"); w != 0 {
			t.Fatalf("after %d failures: wait %s, want 0", i, w)
		}
		th.failed(fmt.Sprintf("198.51.100.%d", i))
	}
	if w := th.wait("192.0.2.200"); w != testLimits.backoff {
		t.Fatalf("after %d failures from %d clients, a new client waits %s, want %s", testLimits.global, testLimits.global, w, testLimits.backoff)
	}
	clock.advance(testLimits.backoff)
	if w := th.wait("192.0.2.200"); w != 0 {
		t.Errorf("after the global lockout: wait %s, want 0", w)
	}
}

// TestSignInThrottleIsBounded: a guesser with a new address for every
// guess fills the table up to maxClients and no further; its failures
// still count toward the global limit, and clients gone quiet make room.
func TestSignInThrottleIsBounded(t *testing.T) {
	t.Parallel()
	limits := testLimits
	limits.global = 1_000_000
	th, clock := testThrottle(limits)
	for i := range 10_000 {
		th.failed(fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255))
	}
	if n := len(th.clients); n != limits.maxClients {
		t.Fatalf("%d clients remembered after 10,000 distinct ones, want the bound %d", n, limits.maxClients)
	}
	if th.all.n != 10_000 {
		t.Errorf("global failures = %d, want 10000", th.all.n)
	}
	clock.advance(limits.window)
	th.failed("192.0.2.9")
	if _, ok := th.clients["192.0.2.9"]; !ok || len(th.clients) != 1 {
		t.Errorf("after a quiet window, the table holds %d clients (new one kept: %v), want only the new one", len(th.clients), ok)
	}
}

// TestSignInThrottleForgetsOnSuccess: a successful sign-in clears its
// client's count (not the global one).
func TestSignInThrottleForgetsOnSuccess(t *testing.T) {
	t.Parallel()
	th, _ := testThrottle(testLimits)
	const c = "192.0.2.1"
	for range 3 {
		for range testLimits.perClient - 1 {
			th.failed(c)
		}
		th.succeeded(c)
	}
	if w := th.wait(c); w != 0 {
		t.Errorf("wait %s after failures each followed by a success, want 0", w)
	}
	if th.all.n != 3*(testLimits.perClient-1) {
		t.Errorf("global failures = %d, want %d", th.all.n, 3*(testLimits.perClient-1))
	}
}
