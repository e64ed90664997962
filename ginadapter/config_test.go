package ginadapter_test

import (
	"context"
	"errors"
	"math"
	"net/http"
	"net/netip"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/paylinkgo/paylink/ginadapter"
	"github.com/paylinkgo/paylink/provider"
)

func TestDefaultConfig(t *testing.T) {
	t.Parallel()
	cfg := ginadapter.DefaultConfig()
	if cfg.CallbackPath != "/flip/callback" || cfg.MaxBodyBytes != 64<<10 {
		t.Errorf("DefaultConfig() = %+v, want /flip/callback and 64 KiB", cfg)
	}
	if cfg.APIPrefix != "" || cfg.ReturnPath != "" || len(cfg.AllowedNetworks) != 0 {
		t.Errorf("DefaultConfig() mounts optional routes: %+v", cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Errorf("DefaultConfig().Validate() = %v", err)
	}
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	redirect := func(*gin.Context, *provider.Link, []provider.Payment) string { return "/thanks" }
	tests := []struct {
		name string
		cfg  ginadapter.Config
		// want lists substrings of the error; none means valid.
		want []string
	}{
		{name: "zero value takes defaults", cfg: ginadapter.Config{}},
		{name: "every route", cfg: ginadapter.Config{CallbackPath: "/cb", APIPrefix: "/paylink", APIAuth: trustedCaller, ReturnPath: "/paylink/return",
			AllowedNetworks: []netip.Prefix{netip.MustParsePrefix("34.101.0.0/16")}, MaxBodyBytes: 1 << 20}},
		{name: "public JSON routes, explicitly", cfg: ginadapter.Config{APIPrefix: "/paylink", APIPublic: true}},
		{name: "JSON routes without an authorization", cfg: ginadapter.Config{APIPrefix: "/paylink"}, want: []string{"APIAuth", "APIPublic"}},
		{name: "JSON routes both public and authorized", cfg: ginadapter.Config{APIPrefix: "/paylink", APIAuth: trustedCaller, APIPublic: true}, want: []string{"APIPublic", "choose one"}},
		{name: "negative re-check burst", cfg: ginadapter.Config{ReturnRecheckBurst: -1}, want: []string{"ReturnRecheckBurst"}},
		{name: "re-check rate not a number", cfg: ginadapter.Config{ReturnRechecksPerSecond: math.NaN()}, want: []string{"ReturnRechecksPerSecond"}},
		{name: "return route with its own redirect needs no API", cfg: ginadapter.Config{ReturnPath: "/back", ReturnRedirect: redirect}},
		{name: "relative callback path", cfg: ginadapter.Config{CallbackPath: "flip/callback"}, want: []string{"CallbackPath", "must start with /"}},
		{name: "callback path with a parameter", cfg: ginadapter.Config{CallbackPath: "/flip/:id"}, want: []string{"CallbackPath", "route parameters"}},
		{name: "callback path with a wildcard", cfg: ginadapter.Config{CallbackPath: "/flip/*rest"}, want: []string{"CallbackPath", "route parameters"}},
		{name: "callback path with a trailing slash", cfg: ginadapter.Config{CallbackPath: "/flip/callback/"}, want: []string{"CallbackPath", "not a clean path"}},
		{name: "callback path with dot segments", cfg: ginadapter.Config{CallbackPath: "/a/../flip"}, want: []string{"CallbackPath", "not a clean path"}},
		{name: "callback path with a query", cfg: ginadapter.Config{CallbackPath: "/flip?x=1"}, want: []string{"CallbackPath", "without query"}},
		{name: "callback path with a space", cfg: ginadapter.Config{CallbackPath: "/flip callback"}, want: []string{"CallbackPath", "spaces"}},
		{name: "negative body size", cfg: ginadapter.Config{MaxBodyBytes: -1}, want: []string{"MaxBodyBytes", "negative"}},
		{name: "absurd body size", cfg: ginadapter.Config{MaxBodyBytes: 1 << 40}, want: []string{"MaxBodyBytes", "limit"}},
		{name: "invalid network", cfg: ginadapter.Config{AllowedNetworks: []netip.Prefix{{}}}, want: []string{"AllowedNetworks[0]"}},
		{name: "API prefix at the root", cfg: ginadapter.Config{APIPrefix: "/"}, want: []string{"APIPrefix"}},
		{name: "relative API prefix", cfg: ginadapter.Config{APIPrefix: "paylink"}, want: []string{"APIPrefix", "must start with /"}},
		{name: "return path without a redirect target", cfg: ginadapter.Config{ReturnPath: "/back"}, want: []string{"ReturnPath", "APIPrefix or ReturnRedirect"}},
		{name: "return path at the root", cfg: ginadapter.Config{ReturnPath: "/", ReturnRedirect: redirect}, want: []string{"ReturnPath"}},
		{name: "return path on the JSON route", cfg: ginadapter.Config{APIPrefix: "/p", ReturnPath: "/p/links"}, want: []string{"ReturnPath", "collides"}},
		{name: "callback path on the JSON route", cfg: ginadapter.Config{APIPrefix: "/p", CallbackPath: "/p/links"}, want: []string{"CallbackPath", "collides"}},
		{name: "nil callback handler", cfg: ginadapter.Config{CallbackHandlers: []gin.HandlerFunc{nil}}, want: []string{"CallbackHandlers[0]"}},
		{name: "nil API middleware", cfg: ginadapter.Config{APIMiddleware: []gin.HandlerFunc{nil}}, want: []string{"APIMiddleware[0]"}},
		{name: "every problem is reported", cfg: ginadapter.Config{CallbackPath: "x", MaxBodyBytes: -5, APIPrefix: "y"},
			want: []string{"CallbackPath", "MaxBodyBytes", "APIPrefix"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.cfg.Validate()
			if len(tt.want) == 0 {
				if err != nil {
					t.Errorf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate() = nil, want an error mentioning %q", tt.want)
			}
			if !errors.Is(err, provider.CodeInvalidArgument) {
				t.Errorf("Validate() = %v, want CodeInvalidArgument", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Validate() = %q, want it to mention %q", err, w)
				}
			}
		})
	}
}

// TestMountOnGroup: paths are relative to the router passed in, and the
// Location of a created link includes the group's base path.
func TestMountOnGroup(t *testing.T) {
	t.Parallel()
	a := &app{t: t, logs: &syncBuffer{}}
	base := newApp(t, nil, ginadapter.Config{})
	a.mem, a.store, a.svc, a.r = base.mem, base.store, base.svc, gin.New()
	if err := ginadapter.Mount(a.r.Group("/shop"), a.svc, ginadapter.Config{APIPrefix: "/paylink", APIAuth: trustedCaller, ReturnPath: "/paylink/return"}); err != nil {
		t.Fatal(err)
	}
	rec := a.do(jsonRequest(http.MethodPost, "/shop/paylink/links", `{"title":"T","amount":10000}`))
	if rec.Code != http.StatusCreated {
		t.Fatalf("create: %d %s", rec.Code, rec.Body)
	}
	id := decode[provider.Link](t, rec).ID
	if got, want := rec.Header().Get("Location"), "/shop/paylink/links/"+id; got != want {
		t.Errorf("Location = %q, want %q", got, want)
	}
	rec = a.do(jsonRequest(http.MethodGet, "/shop/paylink/return/"+id, ""))
	if got, want := rec.Header().Get("Location"), "/shop/paylink/links/"+id; rec.Code != http.StatusSeeOther || got != want {
		t.Errorf("return = %d Location %q, want 303 %q", rec.Code, got, want)
	}
	p := a.settle(id, provider.PaymentSuccessful)
	if rec := a.do(a.callback("/shop/flip/callback", testToken, p)); rec.Code != 200 {
		t.Errorf("callback on the group: %d %s", rec.Code, rec.Body)
	}
	if _, err := a.store.GetPayment(context.Background(), "mem", p.ID); err != nil {
		t.Errorf("payment not stored: %v", err)
	}
}
