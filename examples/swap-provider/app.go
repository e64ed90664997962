package main

import (
	"cmp"
	"context"
	"crypto/rand"
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

// callbackPath is where either gateway sends its callbacks.
const callbackPath = "/payments/callback"

// run starts the app on the gateway PAYMENT_PROVIDER names, calls ready
// with its base URL once it accepts requests, and serves until ctx is done.
func run(ctx context.Context, getenv func(string) string, stdout io.Writer, ready func(baseURL string)) error {
	log := slog.New(slog.NewTextHandler(stdout, nil))
	ln, err := net.Listen("tcp", cmp.Or(getenv("ADDR"), "127.0.0.1:8080"))
	if err != nil {
		return err
	}
	defer ln.Close()
	baseURL := fmt.Sprintf("http://127.0.0.1:%d", ln.Addr().(*net.TCPAddr).Port)

	gw, err := newGateway(cmp.Or(getenv("PAYMENT_PROVIDER"), "flip"), baseURL+callbackPath, log)
	if err != nil {
		return err
	}
	defer gw.close()
	svc, err := provider.NewService(providertest.NewMemStore(), provider.ServiceOptions{
		Providers: []provider.Provider{gw.provider}, Logger: log,
	})
	if err != nil {
		return err
	}

	// From here on, nothing depends on which gateway was chosen.
	app := newShop(svc, gw.provider.Name())
	if err := svc.On("mark-order-paid", provider.When(provider.PaymentSuccessful), app.markPaid); err != nil {
		return err
	}
	r := gin.New()
	r.Use(gin.Recovery())
	r.POST("/orders", app.createOrder)
	r.GET("/orders/:id", app.getOrder)
	if err := ginadapter.Mount(r, svc, ginadapter.Config{CallbackPath: callbackPath, Logger: log}); err != nil {
		return err
	}
	r.POST("/sandbox/orders/:id/pay", func(c *gin.Context) {
		o, ok := app.order(c.Param("id"))
		if !ok {
			c.AbortWithStatusJSON(http.StatusNotFound, gin.H{"error": "no such order"})
			return
		}
		if err := gw.pay(c.Request.Context(), o.LinkID); err != nil {
			c.AbortWithStatusJSON(http.StatusBadGateway, gin.H{"error": err.Error()})
			return
		}
		c.JSON(http.StatusAccepted, gin.H{"paid": o.LinkID})
	})

	if err := svc.Start(ctx); err != nil {
		return err
	}
	srv := &http.Server{Handler: r, ReadHeaderTimeout: 10 * time.Second}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	log.Info("listening", "url", baseURL, "provider", gw.provider.Name())
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

// gateway is a payment provider plus, for this demo, a way to play the
// customer at it.
type gateway struct {
	provider provider.Provider
	// pay makes the customer pay the link; the gateway then sends its
	// callback to the app.
	pay   func(ctx context.Context, linkID string) error
	close func()
}

// newGateway returns the gateway named kind, sending callbacks to
// callbackURL. Credentials are fresh for each run: both gateways are local.
func newGateway(kind, callbackURL string, log *slog.Logger) (*gateway, error) {
	token := rand.Text()
	switch kind {
	case "flip":
		secretKey := rand.Text()
		fake := fliptest.NewServer(fliptest.Options{SecretKey: secretKey, CallbackToken: token, CallbackURL: callbackURL, Logger: log})
		client, err := flip.NewClient(secretKey, flip.Options{BaseURL: fake.URL, Logger: log})
		if err != nil {
			fake.Close()
			return nil, err
		}
		return &gateway{
			provider: flip.NewProvider(client, flip.ProviderOptions{Name: "flip", CallbackToken: token}),
			pay: func(ctx context.Context, linkID string) error {
				_, err := fake.Pay(ctx, linkID, fliptest.PayOptions{}) // the fake posts the callback
				return err
			},
			close: fake.Close,
		}, nil
	case "memory":
		mem := providertest.NewMemProvider("memory", token)
		hc := &http.Client{Timeout: 30 * time.Second}
		return &gateway{
			provider: mem,
			pay: func(ctx context.Context, linkID string) error {
				p, err := mem.Settle(linkID, provider.PaymentSuccessful, 0)
				if err != nil {
					return err
				}
				req, err := providertest.NewCallbackRequest(ctx, callbackURL, token, p)
				if err != nil {
					return err
				}
				resp, err := hc.Do(req)
				if err != nil {
					return err
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					return fmt.Errorf("callback answered %s", resp.Status)
				}
				return nil
			},
			close: func() { hc.CloseIdleConnections() },
		}, nil
	}
	return nil, fmt.Errorf("PAYMENT_PROVIDER must be flip or memory, not %q", kind)
}
