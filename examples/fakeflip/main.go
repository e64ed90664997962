package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strings"
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
	modes         modes
}

// modes are the fake's optional behaviours, named in FLIP_FAKE_MODES.
type modes struct {
	quirks               fliptest.Quirks
	emptyPaymentsCode    int
	refuseLocalRedirects bool
}

// modeNames lists the names FLIP_FAKE_MODES accepts.
const modeNames = "loose, null-strings, string-numbers, decimal-amounts, unencoded-callbacks, " +
	"empty-payments-1050, empty-payments-1043, refuse-local-redirects"

// parseModes reads a comma-separated list of mode names; "loose" names
// every quirk and empty-payments-1050 at once.
func parseModes(v string) (modes, error) {
	var m modes
	for name := range strings.SplitSeq(v, ",") {
		switch strings.TrimSpace(name) {
		case "":
		case "loose":
			m.quirks = fliptest.Quirks{NullStrings: true, StringNumbers: true, DecimalAmounts: true, UnencodedCallbacks: true}
			m.emptyPaymentsCode = 1050
		case "null-strings":
			m.quirks.NullStrings = true
		case "string-numbers":
			m.quirks.StringNumbers = true
		case "decimal-amounts":
			m.quirks.DecimalAmounts = true
		case "unencoded-callbacks":
			m.quirks.UnencodedCallbacks = true
		case "empty-payments-1050":
			m.emptyPaymentsCode = 1050
		case "empty-payments-1043":
			m.emptyPaymentsCode = 1043
		case "refuse-local-redirects":
			m.refuseLocalRedirects = true
		default:
			return modes{}, fmt.Errorf("FLIP_FAKE_MODES: unknown mode %q (known: %s)", strings.TrimSpace(name), modeNames)
		}
	}
	return m, nil
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
	m, err := parseModes(getenv("FLIP_FAKE_MODES"))
	if err != nil {
		return config{}, err
	}
	cfg.modes = m
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
		LongIDs:              true,
		Logger:               log,
		Quirks:               cfg.modes.quirks,
		EmptyPaymentsCode:    cfg.modes.emptyPaymentsCode,
		RefuseLocalRedirects: cfg.modes.refuseLocalRedirects,
	})
	fake.Listener = ln
	fake.Start()
	defer fake.Close()

	fmt.Fprintf(stdout, "fake Flip listening on %s\n", fake.URL)
	fmt.Fprintf(stdout, "  API base (FLIP_BASE_URL): %s   e.g. POST %s/v2/pwf/bill\n", fake.URL, fake.URL)
	if cfg.secretKey == defaultSecretKey {
		fmt.Fprintln(stdout, "  secret key: the default one (FLIP_SECRET_KEY unset; see README.md)")
	}
	if v := strings.TrimSpace(getenv("FLIP_FAKE_MODES")); v != "" {
		fmt.Fprintf(stdout, "  modes: %s\n", v)
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
