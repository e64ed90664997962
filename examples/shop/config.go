package main

import (
	"cmp"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/paylinkgo/paylink/flip"
)

// config is the shop's configuration, read from the environment by
// [loadConfig]. Every variable is optional.
type config struct {
	// addr is where the shop listens (ADDR, default ":8080").
	addr string
	// databaseURL is a postgres:// URL (DATABASE_URL); empty selects SQLite.
	databaseURL string
	// sqlitePath is the SQLite file (SHOP_SQLITE_PATH, default "shop.db").
	sqlitePath string
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
}

// offline reports whether the shop runs against the in-process fake Flip.
func (c config) offline() bool { return c.secretKey == "" }

// postgres reports whether the shop stores its data in PostgreSQL.
func (c config) postgres() bool { return c.databaseURL != "" }

// String describes the configuration without its secrets.
func (c config) String() string {
	db := "sqlite:" + c.sqlitePath
	if c.postgres() {
		db = "postgres"
	}
	flipMode := "offline fake Flip"
	if !c.offline() {
		flipMode = "Flip " + string(c.flipEnv)
	}
	return fmt.Sprintf("addr=%s db=%s flip=%q", c.addr, db, flipMode)
}

// errNoCallbackToken is returned when a real Flip key comes without the
// token that authenticates Flip's callbacks.
var errNoCallbackToken = errors.New("FLIP_CALLBACK_TOKEN is required when FLIP_SECRET_KEY is set: " +
	"copy the callback validation token from Flip's dashboard (API Setting > Callback), " +
	"otherwise anyone could forge a payment callback")

// loadConfig reads the configuration through getenv (os.Getenv in main,
// a map in tests) and checks it.
func loadConfig(getenv func(string) string) (config, error) {
	get := func(k string) string { return strings.TrimSpace(getenv(k)) }
	c := config{
		addr:                  cmp.Or(get("ADDR"), ":8080"),
		databaseURL:           get("DATABASE_URL"),
		sqlitePath:            cmp.Or(get("SHOP_SQLITE_PATH"), "shop.db"),
		publicURL:             strings.TrimRight(get("SHOP_PUBLIC_URL"), "/"),
		secretKey:             get("FLIP_SECRET_KEY"),
		flipEnv:               flip.Environment(cmp.Or(get("FLIP_ENV"), string(flip.Sandbox))),
		flipBaseURL:           get("FLIP_BASE_URL"),
		callbackToken:         get("FLIP_CALLBACK_TOKEN"),
		previousCallbackToken: get("FLIP_PREVIOUS_CALLBACK_TOKEN"),
		fakeAddr:              cmp.Or(get("FLIPTEST_ADDR"), "127.0.0.1:0"),
	}
	var errs []error
	if c.databaseURL != "" && !strings.HasPrefix(c.databaseURL, "postgres://") && !strings.HasPrefix(c.databaseURL, "postgresql://") {
		errs = append(errs, errors.New("DATABASE_URL must be a postgres:// URL (leave it empty for the embedded SQLite file)"))
	}
	if c.flipEnv != flip.Sandbox && c.flipEnv != flip.Production {
		errs = append(errs, fmt.Errorf("FLIP_ENV must be %q or %q, not %q", flip.Sandbox, flip.Production, c.flipEnv))
	}
	if !c.offline() && c.callbackToken == "" {
		errs = append(errs, errNoCallbackToken)
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
	if err := errors.Join(errs...); err != nil {
		return config{}, fmt.Errorf("shop: bad configuration: %w", err)
	}
	return c, nil
}
