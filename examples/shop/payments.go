package main

import (
	"crypto/rand"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"time"

	"github.com/paylinkgo/paylink/flip"
	"github.com/paylinkgo/paylink/flip/fliptest"
	"github.com/paylinkgo/paylink/provider"
	"github.com/paylinkgo/paylink/provider/midtrans"
	"github.com/paylinkgo/paylink/provider/midtrans/midtranstest"
)

// payments is the payment provider the shop was configured with. It is the
// only part of the shop that knows which provider that is: the handlers
// and hooks see a *provider.Service.
type payments struct {
	// provider creates links and verifies callbacks.
	provider provider.Provider
	// describe says, for the start banner, what the shop runs on, given
	// the public URL of the callback route.
	describe func(callbackURL string) string
	// close stops the offline fake, if any.
	close func()
	// reconcilePaid is how long the reconciler keeps visiting paid links
	// for refunds and chargebacks whose notification was lost (see
	// provider.ServiceOptions.ReconcilePaid): Midtrans has them, Flip not.
	reconcilePaid time.Duration
}

// midtransReturnWindow is how long after a payment the shop looks for a
// Midtrans refund or chargeback whose notification was lost.
const midtransReturnWindow = 120 * 24 * time.Hour

// newPayments returns the provider cfg selects: Flip or Midtrans, real
// when its key is configured, otherwise an in-process fake that sends its
// callbacks to callbackURL.
func newPayments(cfg config, callbackURL string, log *slog.Logger, tel *telemetry) (*payments, error) {
	if cfg.midtrans() {
		return newMidtrans(cfg, callbackURL, log, tel)
	}
	return newFlip(cfg, callbackURL, log, tel)
}

// newFlip returns Flip: the real Flip when a secret key is configured,
// otherwise an in-process fake Flip. Its API requests are measured and
// traced (tel's HTTP client).
func newFlip(cfg config, callbackURL string, log *slog.Logger, tel *telemetry) (*payments, error) {
	if !cfg.offline() {
		client, err := flip.NewClient(cfg.secretKey, flip.Options{
			Environment: cfg.flipEnv,
			BaseURL:     cfg.flipBaseURL,
			HTTPClient:  tel.httpClient(flip.DefaultTimeout),
			Logger:      log.With("component", "flip"),
		})
		if err != nil {
			return nil, fmt.Errorf("shop: %w", err)
		}
		return &payments{
			provider: flip.NewProvider(client, flip.ProviderOptions{
				CallbackToken: cfg.callbackToken, PreviousCallbackToken: cfg.previousCallbackToken,
				Logger: log.With("component", "flip"),
			}),
			describe: func(callbackURL string) string {
				return fmt.Sprintf("Flip %s; set the callback URL in Flip's dashboard to %s", cfg.flipEnv, callbackURL)
			},
			close: func() {},
		}, nil
	}

	token := cfg.callbackToken
	if token == "" {
		token = rand.Text()
	}
	secret := rand.Text()
	fake := fliptest.NewUnstartedServer(fliptest.Options{
		SecretKey:     secret,
		CallbackToken: token,
		CallbackURL:   callbackURL,
		RetryInterval: fakeRetryInterval,
		// Flip's 19-digit, time-based link ids: they do not repeat when the
		// shop restarts on the same database with a fresh fake.
		LongIDs: true,
		Logger:  log.With("component", "fliptest"),
	})
	if cfg.fakeAddr != "127.0.0.1:0" {
		ln, err := net.Listen("tcp", cfg.fakeAddr)
		if err != nil {
			fake.Close()
			return nil, fmt.Errorf("shop: listening for the fake Flip on %s: %w", cfg.fakeAddr, err)
		}
		fake.Listener = ln
	}
	fake.Start()
	client, err := flip.NewClient(secret, flip.Options{BaseURL: fake.URL, HTTPClient: tel.httpClient(flip.DefaultTimeout), Logger: log.With("component", "flip")})
	if err != nil {
		fake.Close()
		return nil, fmt.Errorf("shop: %w", err)
	}
	return &payments{
		provider: flip.NewProvider(client, flip.ProviderOptions{CallbackToken: token}),
		describe: func(string) string { return "offline: fake Flip at " + fake.URL },
		close:    fake.Close,
	}, nil
}

// fakeMidtransRetries is how often the offline fake Midtrans retries a
// notification the shop did not answer 200 (Midtrans retries up to five
// times).
const fakeMidtransRetries = 5

// newMidtrans returns Midtrans Snap: the real Midtrans when a server key
// is configured, otherwise an in-process fake Midtrans with its hosted
// payment page.
//
// Either way every notification must carry the signature made with the
// server key: the provider refuses unsigned or wrongly signed ones, and
// ginadapter.Mount refuses to mount the route for a provider without a
// key, so the route never accepts a notification it cannot verify.
func newMidtrans(cfg config, callbackURL string, log *slog.Logger, tel *telemetry) (*payments, error) {
	mlog := log.With("component", "midtrans")
	if !cfg.offline() {
		client, err := midtrans.NewClient(cfg.midtransServerKey, midtrans.Options{
			Environment: cfg.midtransEnv,
			BaseURL:     cfg.midtransBaseURL,
			HTTPClient:  tel.httpClient(midtrans.DefaultTimeout),
			Logger:      mlog,
		})
		if err != nil {
			return nil, fmt.Errorf("shop: %w", err)
		}
		return &payments{
			provider:      midtrans.NewProvider(client, midtrans.ProviderOptions{Logger: mlog, OrderIDPrefix: cfg.midtransOrderPrefix}),
			reconcilePaid: midtransReturnWindow,
			describe: func(callbackURL string) string {
				if cfg.midtransBaseURL != "" {
					return fmt.Sprintf("Midtrans %s at %s; set its Payment Notification URL to %s", cfg.midtransEnv, cfg.midtransBaseURL, callbackURL)
				}
				return fmt.Sprintf("Midtrans %s; set the Payment Notification URL in Midtrans's dashboard to %s", cfg.midtransEnv, callbackURL)
			},
			close: func() {},
		}, nil
	}

	key := cfg.midtransFakeKey
	if key == "" {
		key = "SB-Mid-server-" + rand.Text()
	}
	fake := midtranstest.NewServer(midtranstest.Options{
		ServerKey:       key,
		NotificationURL: callbackURL,
		RetryDelays:     slices.Repeat([]time.Duration{fakeRetryInterval}, fakeMidtransRetries),
	})
	client, err := midtrans.NewClient(key, midtrans.Options{BaseURL: fake.URL, HTTPClient: tel.httpClient(midtrans.DefaultTimeout), Logger: mlog})
	if err != nil {
		fake.Close()
		return nil, fmt.Errorf("shop: %w", err)
	}
	return &payments{
		provider:      midtrans.NewProvider(client, midtrans.ProviderOptions{Logger: mlog, OrderIDPrefix: cfg.midtransOrderPrefix}),
		reconcilePaid: midtransReturnWindow,
		describe:      func(string) string { return "offline: fake Midtrans at " + fake.URL },
		close:         fake.Close,
	}, nil
}
