package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/paylinkgo/paylink/flip/fliptest"
)

// Defaults of the environment.
const (
	defaultAddr          = ":9090"
	defaultSecretKey     = "fakeflip-secret-key"
	defaultCallbackToken = "fakeflip-callback-token"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Getenv, os.Stdout, nil); err != nil {
		fmt.Fprintln(os.Stderr, "fakeflip:", err)
		os.Exit(1)
	}
}

// config is the environment, read and checked.
type config struct {
	addr          string
	secretKey     string
	callbackToken string
	callbackURL   string
	retryInterval time.Duration
}

func loadConfig(getenv func(string) string) (config, error) {
	cfg := config{
		addr:          getenv("ADDR"),
		secretKey:     getenv("FLIP_SECRET_KEY"),
		callbackToken: getenv("FLIP_CALLBACK_TOKEN"),
		callbackURL:   getenv("FLIP_CALLBACK_URL"),
	}
	if cfg.addr == "" {
		cfg.addr = defaultAddr
	}
	if cfg.secretKey == "" {
		cfg.secretKey = defaultSecretKey
	}
	if cfg.callbackToken == "" {
		cfg.callbackToken = defaultCallbackToken
	}
	if v := getenv("FLIP_CALLBACK_RETRY_INTERVAL"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return config{}, fmt.Errorf("FLIP_CALLBACK_RETRY_INTERVAL=%q is not a positive Go duration (e.g. 10s)", v)
		}
		cfg.retryInterval = d
	}
	return cfg, nil
}

// run serves the fake Flip until ctx is done. ready, if not nil, is called
// with the listening address once requests are served.
func run(ctx context.Context, getenv func(string) string, stdout io.Writer, ready func(addr string)) error {
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", cfg.addr, err)
	}
	log := slog.New(slog.NewTextHandler(stdout, &slog.HandlerOptions{Level: slog.LevelInfo}))
	fake := fliptest.NewUnstartedServer(fliptest.Options{
		SecretKey:     cfg.secretKey,
		CallbackToken: cfg.callbackToken,
		CallbackURL:   cfg.callbackURL,
		RetryInterval: cfg.retryInterval,
		// Time-based ids do not repeat when the fake restarts but the
		// app's database keeps the links of the previous run.
		LongIDs: true,
		Logger:  log,
	})
	fake.Listener = ln
	fake.Start()
	defer fake.Close()

	fmt.Fprintf(stdout, "fake Flip listening on %s\n", fake.URL)
	fmt.Fprintf(stdout, "  API base (FLIP_BASE_URL): %s   e.g. POST %s/v2/pwf/bill\n", fake.URL, fake.URL)
	if cfg.secretKey == defaultSecretKey {
		fmt.Fprintln(stdout, "  secret key: the default one (FLIP_SECRET_KEY unset; see README.md)")
	}
	if cfg.callbackURL == "" {
		fmt.Fprintln(stdout, "  callbacks: recorded, not sent (FLIP_CALLBACK_URL unset)")
	} else {
		fmt.Fprintf(stdout, "  callbacks: POST %s\n", cfg.callbackURL)
	}
	if ready != nil {
		ready(ln.Addr().String())
	}
	<-ctx.Done()
	fmt.Fprintln(stdout, "fake Flip shutting down")
	return nil
}
