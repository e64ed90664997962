package main

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/paylinkgo/paylink/flip"
	"github.com/paylinkgo/paylink/flip/fliptest"
	"github.com/paylinkgo/paylink/ginadapter"
	"github.com/paylinkgo/paylink/provider"
	"github.com/paylinkgo/paylink/provider/providertest"
)

// account is one Flip account: its provider name (also its route prefix)
// and the environment variable holding its callback token.
type account struct {
	name     string
	tokenEnv string
}

// callbackPath is the callback route of every account, under its prefix.
const callbackPath = "/flip/callback"

// run starts the app, calls ready with its base URL once it accepts
// requests, and serves until ctx is done.
func run(ctx context.Context, getenv func(string) string, stdout io.Writer, ready func(baseURL string)) error {
	log := slog.New(slog.NewTextHandler(stdout, nil))
	apiToken := getenv("API_TOKEN")
	if apiToken == "" {
		return errors.New("API_TOKEN is required: it protects both accounts' JSON routes")
	}
	ln, err := net.Listen("tcp", cmp.Or(getenv("ADDR"), "127.0.0.1:8080"))
	if err != nil {
		return err
	}
	defer ln.Close()
	baseURL := fmt.Sprintf("http://127.0.0.1:%d", ln.Addr().(*net.TCPAddr).Port)

	accounts := []account{
		{name: "flip-books", tokenEnv: "BOOKS_CALLBACK_TOKEN"},
		{name: "flip-coffee", tokenEnv: "COFFEE_CALLBACK_TOKEN"},
	}
	// One fake Flip, one client and one provider per account.
	var providers []provider.Provider
	for _, a := range accounts {
		secretKey, token := rand.Text(), cmp.Or(getenv(a.tokenEnv), rand.Text())
		fake := fliptest.NewServer(fliptest.Options{
			SecretKey: secretKey, CallbackToken: token, CallbackURL: baseURL + "/" + a.name + callbackPath,
			Logger: log.With("fake_flip", a.name),
		})
		defer fake.Close()
		client, err := flip.NewClient(secretKey, flip.Options{BaseURL: fake.URL, Logger: log})
		if err != nil {
			return err
		}
		providers = append(providers, flip.NewProvider(client, flip.ProviderOptions{Name: a.name, CallbackToken: token}))
	}
	svc, err := provider.NewService(providertest.NewMemStore(), provider.ServiceOptions{Providers: providers, Logger: log})
	if err != nil {
		return err
	}
	err = svc.On("log-paid", provider.When(provider.PaymentSuccessful), func(ctx context.Context, ev *provider.HookEvent) error {
		log.InfoContext(ctx, "payment received", "account", ev.Payment.Provider, "link", ev.Link.ID, "amount", ev.Payment.Amount.String())
		return nil
	})
	if err != nil {
		return err
	}

	r := gin.New()
	r.Use(gin.Recovery())
	// The JSON routes create links and show customers: Mount refuses them
	// without an APIAuth. Both accounts' routes take the app's API token;
	// the callback routes take each account's own callback token.
	for _, a := range accounts {
		err := ginadapter.Mount(r.Group("/"+a.name), svc, ginadapter.Config{
			Provider:     a.name,
			CallbackPath: callbackPath,
			APIPrefix:    "/api",
			APIAuth:      requireToken(apiToken),
			Logger:       log,
		})
		if err != nil {
			return err
		}
	}

	if err := svc.Start(ctx); err != nil {
		return err
	}
	srv := &http.Server{Handler: r, ReadHeaderTimeout: 10 * time.Second}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	log.Info("listening", "url", baseURL, "accounts", accountNames(accounts))
	if ready != nil {
		ready(baseURL)
	}

	var errServe error
	select {
	case errServe = <-serveErr:
	case <-ctx.Done():
	}
	stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	return errors.Join(errServe, srv.Shutdown(stopCtx), svc.Stop(stopCtx))
}

// requireToken authorizes "Authorization: Bearer <token>".
func requireToken(token string) gin.HandlerFunc {
	want := []byte("Bearer " + token)
	return func(c *gin.Context) {
		if subtle.ConstantTimeCompare([]byte(c.GetHeader("Authorization")), want) != 1 {
			c.AbortWithStatusJSON(http.StatusUnauthorized, gin.H{"error": "unauthorized"})
			return
		}
		c.Next()
	}
}

// accountNames lists the accounts' provider names, for the log.
func accountNames(accounts []account) []string {
	names := make([]string, len(accounts))
	for i, a := range accounts {
		names[i] = a.name
	}
	return names
}
