package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/paylinkgo/paylink/provider/midtrans/midtranstest"
)

// Defaults of the environment.
const (
	defaultAddr = ":9091"
	// randomKeyPrefix marks a generated key as the fake's: it never looks
	// like a real Midtrans key ("SB-Mid-server-…" or "Mid-server-…").
	randomKeyPrefix = "fakemidtrans-"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Getenv, os.Stdout, nil); err != nil {
		fmt.Fprintln(os.Stderr, "fakemidtrans:", err)
		os.Exit(1)
	}
}

// config is the environment, read and checked.
type config struct {
	addr            string
	serverKey       string
	randomKey       bool // serverKey was generated, not configured
	notificationURL string
	// pendingExpiry, when set, turns on expiry on the clock
	// (MIDTRANSTEST_EXPIRY).
	pendingExpiry    time.Duration
	cancelChallenges bool // MIDTRANSTEST_CANCEL_CHALLENGES
	refundLimits     bool // MIDTRANSTEST_REFUND_LIMITS
}

// options is the fake's configuration for cfg.
func (cfg config) options() midtranstest.Options {
	return midtranstest.Options{
		ServerKey:                  cfg.serverKey,
		NotificationURL:            cfg.notificationURL,
		ExpireOnClock:              cfg.pendingExpiry > 0,
		PendingExpiry:              cfg.pendingExpiry,
		CancelUnapprovedChallenges: cfg.cancelChallenges,
		RefundLimits:               cfg.refundLimits,
	}
}

func loadConfig(getenv func(string) string) (config, error) {
	cfg := config{
		addr:            getenv("ADDR"),
		serverKey:       strings.TrimSpace(getenv("MIDTRANSTEST_SERVER_KEY")),
		notificationURL: strings.TrimSpace(getenv("MIDTRANS_NOTIFICATION_URL")),
	}
	if cfg.addr == "" {
		cfg.addr = defaultAddr
	}
	if cfg.serverKey == "" {
		cfg.serverKey = randomKeyPrefix + rand.Text()
		cfg.randomKey = true
	}
	if v := strings.TrimSpace(getenv("MIDTRANSTEST_EXPIRY")); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return config{}, fmt.Errorf("MIDTRANSTEST_EXPIRY=%q is not a positive duration such as 24h or 2m", v)
		}
		cfg.pendingExpiry = d
	}
	for name, dst := range map[string]*bool{
		"MIDTRANSTEST_CANCEL_CHALLENGES": &cfg.cancelChallenges,
		"MIDTRANSTEST_REFUND_LIMITS":     &cfg.refundLimits,
	} {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			on, err := strconv.ParseBool(v)
			if err != nil {
				return config{}, fmt.Errorf("%s=%q is not a boolean", name, v)
			}
			*dst = on
		}
	}
	if cfg.notificationURL != "" {
		u, err := url.Parse(cfg.notificationURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return config{}, fmt.Errorf("MIDTRANS_NOTIFICATION_URL=%q is not an absolute http(s) URL", cfg.notificationURL)
		}
	}
	return cfg, nil
}

// run serves the fake Midtrans until ctx is done. ready, if not nil, is
// called with the listening address once requests are served.
func run(ctx context.Context, getenv func(string) string, stdout io.Writer, ready func(addr string)) error {
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", cfg.addr, err)
	}
	// The fake listens on a loopback port of its own; this server puts it
	// behind ADDR.
	fake := midtranstest.NewServer(cfg.options())
	defer fake.Close()
	if cfg.pendingExpiry > 0 || cfg.cancelChallenges {
		// Deadlines pass on the wall clock: apply them every second, so
		// that their notifications go out without a request.
		tickCtx, stopTicks := context.WithCancel(ctx)
		ticked := make(chan struct{})
		defer func() { stopTicks(); <-ticked }()
		go tick(tickCtx, fake, ticked)
	}
	srv := &http.Server{Handler: proxy(fake.URL), ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	base := displayURL(ln.Addr())
	fmt.Fprintf(stdout, "fake Midtrans listening on %s\n", base)
	fmt.Fprintf(stdout, "  API base (Snap and Core API): %s   e.g. POST %s/snap/v1/transactions\n", base, base)
	if cfg.randomKey {
		fmt.Fprintf(stdout, "  server key: %s (random, MIDTRANSTEST_SERVER_KEY unset)\n", cfg.serverKey)
	} else {
		fmt.Fprintln(stdout, "  server key: from MIDTRANSTEST_SERVER_KEY")
	}
	if cfg.notificationURL == "" {
		fmt.Fprintln(stdout, "  notifications: only to X-Override-Notification / X-Append-Notification (MIDTRANS_NOTIFICATION_URL unset)")
	} else {
		fmt.Fprintf(stdout, "  notifications: POST %s\n", cfg.notificationURL)
	}
	if cfg.pendingExpiry > 0 {
		fmt.Fprintf(stdout, "  expiry: pending payments after %s (or the create request's expiry), Snap pages after 24h (MIDTRANSTEST_EXPIRY)\n", cfg.pendingExpiry)
	}
	if cfg.cancelChallenges {
		fmt.Fprintln(stdout, "  challenged cards not approved are cancelled at 16:00 WIB the next day (MIDTRANSTEST_CANCEL_CHALLENGES)")
	}
	if cfg.refundLimits {
		fmt.Fprintln(stdout, "  refund windows and full-only methods enforced (MIDTRANSTEST_REFUND_LIMITS)")
	}
	if ready != nil {
		ready(ln.Addr().String())
	}
	select {
	case <-ctx.Done():
	case err := <-served:
		return fmt.Errorf("serving: %w", err)
	}
	fmt.Fprintln(stdout, "fake Midtrans shutting down")
	shutCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutCtx); err != nil {
		return fmt.Errorf("shutting down: %w", err)
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serving: %w", err)
	}
	return nil
}

// tick applies the fake's deadlines every second until ctx is done, then
// closes done.
func tick(ctx context.Context, fake *midtranstest.Server, done chan<- struct{}) {
	defer close(done)
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			_, _ = fake.Tick(ctx)
		}
	}
}

// displayURL is the base URL of a listening address, with "localhost"
// for an unspecified host (ADDR ":9091").
func displayURL(a net.Addr) string {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return "http://" + a.String()
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// publicBase carries, in a proxied request's context, the base URL the
// client used.
type publicBase struct{}

// proxy forwards every request to the fake at target. The fake writes its
// own URL into the redirect_url of Snap create (and could into a
// Location); those are rewritten to the URL the client used, so the
// hosted page is reached through ADDR too.
func proxy(target string) http.Handler {
	to, err := url.Parse(target)
	if err != nil {
		panic(err) // the fake's own URL is valid
	}
	return &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(to)
			pr.Out = pr.Out.WithContext(context.WithValue(pr.Out.Context(), publicBase{}, "http://"+pr.In.Host))
		},
		ModifyResponse: func(resp *http.Response) error {
			public, _ := resp.Request.Context().Value(publicBase{}).(string)
			if public == "" || public == "http://" {
				return nil
			}
			if loc := resp.Header.Get("Location"); strings.HasPrefix(loc, target) {
				resp.Header.Set("Location", public+strings.TrimPrefix(loc, target))
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				return err
			}
			body = bytes.ReplaceAll(body, []byte(target), []byte(public))
			resp.Body = io.NopCloser(bytes.NewReader(body))
			resp.ContentLength = int64(len(body))
			resp.Header.Set("Content-Length", strconv.Itoa(len(body)))
			return nil
		},
	}
}
