package main

import (
	"cmp"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"

	"github.com/paylinkgo/paylink/flip"
	"github.com/paylinkgo/paylink/ginadapter"
	"github.com/paylinkgo/paylink/provider/midtrans"
)

// The payment providers PAYMENT_PROVIDER selects.
const (
	providerFlip     = "flip"
	providerMidtrans = "midtrans"
)

// config is the shop's configuration, read from the environment by
// [loadConfig]. Every variable is optional.
type config struct {
	// addr is where the shop listens (ADDR, default ":8080").
	addr string
	// adminAddr is where GET /metrics and the operations console listen
	// (SHOP_ADMIN_ADDR, e.g. "127.0.0.1:9090"): set, they are served there
	// and not on addr, so the public listener carries only the shop and
	// the payment callbacks; empty, they share addr.
	adminAddr string
	// databaseURL is a postgres:// URL (DATABASE_URL); empty selects SQLite.
	databaseURL string
	// sqlitePath is the SQLite file (SHOP_SQLITE_PATH, default "shop.db").
	sqlitePath string
	// paymentProvider is "flip" (PAYMENT_PROVIDER unset or "flip") or
	// "midtrans".
	paymentProvider string
	// publicURL is the shop's base URL as customers reach it
	// (SHOP_PUBLIC_URL); empty means http://localhost:<port>. Flip sends
	// customers back to publicURL + "/orders/<id>/view" after paying.
	publicURL string

	// secretKey is the Flip secret key (FLIP_SECRET_KEY); empty selects the
	// in-process fake Flip.
	secretKey string
	// flipEnv is sandbox or production (FLIP_ENV).
	flipEnv flip.Environment
	// flipBaseURL overrides Flip's API base (FLIP_BASE_URL).
	flipBaseURL string
	// callbackToken is Flip's validation token (FLIP_CALLBACK_TOKEN).
	// Required with a real key; offline it is the fake's token (random when
	// empty).
	callbackToken string
	// previousCallbackToken is the token being rotated out
	// (FLIP_PREVIOUS_CALLBACK_TOKEN): accepted beside callbackToken during a
	// rotation, see docs/callbacks-and-security.md.
	previousCallbackToken string
	// fakeAddr is where the offline fake Flip listens (FLIPTEST_ADDR,
	// default a random port on 127.0.0.1).
	fakeAddr string

	// midtransServerKey is the Midtrans server key (MIDTRANS_SERVER_KEY);
	// empty selects the in-process fake Midtrans. It authenticates the
	// shop's API calls and verifies every notification's signature.
	midtransServerKey string
	// midtransClientKey is the Midtrans client key (MIDTRANS_CLIENT_KEY),
	// for a front end embedding Snap.js; the shop itself sends customers
	// to Snap's redirect URL and does not need it.
	midtransClientKey string
	// midtransEnv is sandbox or production (MIDTRANS_ENV).
	midtransEnv midtrans.Environment
	// midtransBaseURL replaces both Midtrans hosts, Snap's and the Core
	// API's (MIDTRANS_BASE_URL): a stand-in such as examples/fakemidtrans.
	midtransBaseURL string
	// midtransFakeKey is the offline fake Midtrans's server key
	// (MIDTRANSTEST_SERVER_KEY, random when empty).
	midtransFakeKey string
	// midtransOrderPrefix goes before every Midtrans order id: the
	// database's own (see Instance), so that a reset database's order 1
	// is not refused as an order id the account has seen.
	midtransOrderPrefix string

	// consoleUser and consolePassword sign an operator in to paylink's
	// operations console at /ops/ (PAYLINK_CONSOLE_USER,
	// PAYLINK_CONSOLE_PASSWORD). Both set: the console is mounted behind
	// basic auth; neither: it is not mounted; one alone is an error.
	consoleUser, consolePassword string
	// hookAttempts is how often a failing hook is attempted before its run
	// is FAILED and waits for an operator's retry (SHOP_HOOK_MAX_ATTEMPTS,
	// default provider.DefaultHookPolicy's 10).
	hookAttempts int
}

// console reports whether the operations console is mounted.
func (c config) console() bool { return c.consoleUser != "" && c.consolePassword != "" }

// midtrans reports whether the shop takes payments through Midtrans.
func (c config) midtrans() bool { return c.paymentProvider == providerMidtrans }

// offline reports whether the shop runs against an in-process fake of its
// payment provider.
func (c config) offline() bool {
	if c.midtrans() {
		return c.midtransServerKey == ""
	}
	return c.secretKey == ""
}

// callbackPath is the route the provider's callbacks arrive on.
func (c config) callbackPath() string {
	if c.midtrans() {
		return "/midtrans/notification"
	}
	return ginadapter.DefaultCallbackPath
}

// postgres reports whether the shop stores its data in PostgreSQL.
func (c config) postgres() bool { return c.databaseURL != "" }

// String describes the configuration without its secrets.
func (c config) String() string {
	db := "sqlite:" + c.sqlitePath
	if c.postgres() {
		db = "postgres"
	}
	var mode string
	switch {
	case c.midtrans() && c.offline():
		mode = "offline fake Midtrans"
	case c.midtrans():
		mode = "Midtrans " + string(c.midtransEnv)
	case c.offline():
		mode = "offline fake Flip"
	default:
		mode = "Flip " + string(c.flipEnv)
	}
	ops := "off"
	if c.console() {
		ops = "/ops/ as " + c.consoleUser
	}
	admin := "on addr"
	if c.adminAddr != "" {
		admin = c.adminAddr
	}
	return fmt.Sprintf("addr=%s admin=%s db=%s provider=%s payments=%q console=%q", c.addr, admin, db, c.paymentProvider, mode, ops)
}

// errNoCallbackToken is returned when a real Flip key comes without the
// token that authenticates Flip's callbacks.
var errNoCallbackToken = errors.New("FLIP_CALLBACK_TOKEN is required when FLIP_SECRET_KEY is set: " +
	"copy the callback validation token from Flip's dashboard (API Setting > Callback), " +
	"otherwise anyone could forge a payment callback")

// errNoSecretKey is returned when the configuration asks for the real
// Flip (FLIP_ENV=production, or an API base of its own) without the secret
// key: rather than falling back to the offline fake, whose checkout page
// lets anyone mark an order paid, the shop refuses to start.
var errNoSecretKey = errors.New("FLIP_SECRET_KEY is required with FLIP_ENV=production or FLIP_BASE_URL: " +
	"copy the secret key from Flip's dashboard (API Setting); " +
	"without it the shop would run on the offline fake Flip, where anyone can mark an order paid")

// errUnknownProvider is returned when PAYMENT_PROVIDER names a provider
// the shop does not know.
var errUnknownProvider = errors.New(`PAYMENT_PROVIDER must be "flip" (the default) or "midtrans"`)

// errNoServerKey is returned when the configuration asks for the real
// Midtrans (a client key, the production environment, or an API base of
// its own) without the server key that signs its notifications: rather
// than falling back to the offline fake, the shop refuses to start.
var errNoServerKey = errors.New("MIDTRANS_SERVER_KEY is required with MIDTRANS_CLIENT_KEY, MIDTRANS_ENV=production or MIDTRANS_BASE_URL: " +
	"copy the server key from Midtrans's dashboard (Settings > Access Keys); " +
	"it authenticates the shop and verifies every payment notification")

// loadConfig reads the configuration through getenv (os.Getenv in main,
// a map in tests) and checks it.
func loadConfig(getenv func(string) string) (config, error) {
	get := func(k string) string { return strings.TrimSpace(getenv(k)) }
	c := config{
		addr:                  cmp.Or(get("ADDR"), ":8080"),
		adminAddr:             get("SHOP_ADMIN_ADDR"),
		databaseURL:           get("DATABASE_URL"),
		sqlitePath:            cmp.Or(get("SHOP_SQLITE_PATH"), "shop.db"),
		publicURL:             strings.TrimRight(get("SHOP_PUBLIC_URL"), "/"),
		secretKey:             get("FLIP_SECRET_KEY"),
		flipEnv:               flip.Environment(cmp.Or(get("FLIP_ENV"), string(flip.Sandbox))),
		flipBaseURL:           get("FLIP_BASE_URL"),
		callbackToken:         get("FLIP_CALLBACK_TOKEN"),
		previousCallbackToken: get("FLIP_PREVIOUS_CALLBACK_TOKEN"),
		fakeAddr:              cmp.Or(get("FLIPTEST_ADDR"), "127.0.0.1:0"),
		paymentProvider:       strings.ToLower(cmp.Or(get("PAYMENT_PROVIDER"), providerFlip)),
		midtransServerKey:     get("MIDTRANS_SERVER_KEY"),
		midtransClientKey:     get("MIDTRANS_CLIENT_KEY"),
		midtransEnv:           midtrans.Environment(cmp.Or(get("MIDTRANS_ENV"), string(midtrans.Sandbox))),
		midtransBaseURL:       strings.TrimRight(get("MIDTRANS_BASE_URL"), "/"),
		midtransFakeKey:       get("MIDTRANSTEST_SERVER_KEY"),
		consoleUser:           get("PAYLINK_CONSOLE_USER"),
		// A password is taken as it is, spaces included.
		consolePassword: getenv("PAYLINK_CONSOLE_PASSWORD"),
	}
	var errs []error
	if (c.consoleUser == "") != (strings.TrimSpace(c.consolePassword) == "") {
		errs = append(errs, errors.New("set both PAYLINK_CONSOLE_USER and PAYLINK_CONSOLE_PASSWORD to mount the operations console, or neither"))
	}
	if strings.ContainsRune(c.consoleUser, ':') {
		errs = append(errs, errors.New("PAYLINK_CONSOLE_USER must not contain a colon (basic auth separates user and password with one)"))
	}
	if v := get("SHOP_HOOK_MAX_ATTEMPTS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			errs = append(errs, errors.New("SHOP_HOOK_MAX_ATTEMPTS must be a number from 1 to 1000"))
		}
		c.hookAttempts = n
	}
	if c.adminAddr != "" {
		if _, port, err := net.SplitHostPort(c.adminAddr); err != nil {
			errs = append(errs, errors.New(`SHOP_ADMIN_ADDR must be a host:port to listen on, such as "127.0.0.1:9090"`))
		} else if c.adminAddr == c.addr && port != "0" {
			errs = append(errs, errors.New("SHOP_ADMIN_ADDR must differ from ADDR: it keeps /metrics and the console off the shop's public listener"))
		}
	}
	if c.databaseURL != "" && !strings.HasPrefix(c.databaseURL, "postgres://") && !strings.HasPrefix(c.databaseURL, "postgresql://") {
		errs = append(errs, errors.New("DATABASE_URL must be a postgres:// URL (leave it empty for the embedded SQLite file)"))
	}
	if c.flipEnv != flip.Sandbox && c.flipEnv != flip.Production {
		errs = append(errs, fmt.Errorf("FLIP_ENV must be %q or %q, not %q", flip.Sandbox, flip.Production, c.flipEnv))
	}
	switch c.paymentProvider {
	case providerFlip:
		if !c.offline() && c.callbackToken == "" {
			errs = append(errs, errNoCallbackToken)
		}
		if c.offline() && (c.flipEnv == flip.Production || c.flipBaseURL != "") {
			errs = append(errs, errNoSecretKey)
		}
		if c.midtransServerKey != "" {
			errs = append(errs, errors.New("MIDTRANS_SERVER_KEY is set but PAYMENT_PROVIDER is flip: set PAYMENT_PROVIDER=midtrans to use Midtrans"))
		}
		if c.midtransBaseURL != "" {
			errs = append(errs, errors.New("MIDTRANS_BASE_URL is set but PAYMENT_PROVIDER is flip: set PAYMENT_PROVIDER=midtrans to use Midtrans"))
		}
	case providerMidtrans:
		if c.flipEnv == flip.Production {
			errs = append(errs, errors.New("FLIP_ENV=production is set but PAYMENT_PROVIDER is midtrans: use MIDTRANS_ENV=production (with MIDTRANS_SERVER_KEY) for Midtrans"))
		}
		if c.midtransEnv != midtrans.Sandbox && c.midtransEnv != midtrans.Production {
			errs = append(errs, fmt.Errorf("MIDTRANS_ENV must be %q or %q, not %q", midtrans.Sandbox, midtrans.Production, c.midtransEnv))
		}
		if c.offline() && (c.midtransClientKey != "" || c.midtransEnv == midtrans.Production || c.midtransBaseURL != "") {
			errs = append(errs, errNoServerKey)
		}
		if c.midtransEnv == midtrans.Production && strings.HasPrefix(c.midtransServerKey, "SB-") {
			errs = append(errs, errors.New("MIDTRANS_SERVER_KEY is a sandbox key (SB-...) but MIDTRANS_ENV is production"))
		}
		if c.secretKey != "" {
			errs = append(errs, errors.New("FLIP_SECRET_KEY is set but PAYMENT_PROVIDER is midtrans: unset one of them"))
		}
	default:
		errs = append(errs, fmt.Errorf("%w, not %q", errUnknownProvider, c.paymentProvider))
	}
	if c.publicURL != "" {
		if u, err := url.Parse(c.publicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, errors.New("SHOP_PUBLIC_URL must be an absolute http(s) URL"))
		}
	}
	if c.flipBaseURL != "" {
		if u, err := url.Parse(c.flipBaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, errors.New("FLIP_BASE_URL must be an absolute http(s) URL"))
		}
	}
	if c.midtransBaseURL != "" {
		if u, err := url.Parse(c.midtransBaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
			errs = append(errs, errors.New("MIDTRANS_BASE_URL must be an absolute http(s) URL without credentials"))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return config{}, fmt.Errorf("shop: bad configuration: %w", err)
	}
	return c, nil
}
