package ginadapter_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/paylinkgo/paylink/ginadapter"
	"github.com/paylinkgo/paylink/provider"
	"github.com/paylinkgo/paylink/provider/providertest"
)

// Mount paylink on a gin.Engine, with the in-memory provider and store,
// create a link through the JSON route (which needs an authorization),
// and receive its callback.
func ExampleMount() {
	gin.SetMode(gin.ReleaseMode) // no route debug output

	gateway := providertest.NewMemProvider("mem", "callback-token")
	svc, err := provider.NewService(providertest.NewMemStore(), provider.ServiceOptions{
		Providers: []provider.Provider{gateway},
	})
	if err != nil {
		log.Fatal(err)
	}
	r := gin.New()
	cfg := ginadapter.DefaultConfig()
	cfg.CallbackPath = "/mem/callback"
	cfg.APIPrefix = "/paylink"
	cfg.APIAuth = gin.BasicAuth(gin.Accounts{"shop-frontend": "s3cret"})
	if err := ginadapter.Mount(r, svc, cfg); err != nil {
		log.Fatal(err)
	}

	// A front end creates a link.
	req := httptest.NewRequest(http.MethodPost, "/paylink/links", strings.NewReader(`{"title":"Order 1","amount":45000}`))
	req.Header.Set("Content-Type", "application/json")
	req.SetBasicAuth("shop-frontend", "s3cret")
	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, req)
	var link provider.Link
	if err := json.Unmarshal(rec.Body.Bytes(), &link); err != nil {
		log.Fatal(err)
	}
	fmt.Println("create:", rec.Code, link.Amount, link.Status)

	// The customer pays; the gateway calls back, twice.
	pay, err := gateway.Settle(link.ID, provider.PaymentSuccessful, 0)
	if err != nil {
		log.Fatal(err)
	}
	for range 2 {
		cb, err := providertest.NewCallbackRequest(context.Background(), "/mem/callback", "callback-token", pay)
		if err != nil {
			log.Fatal(err)
		}
		rec := httptest.NewRecorder()
		r.ServeHTTP(rec, cb)
		fmt.Println("callback:", rec.Code, rec.Body)
	}

	// A forged callback is refused.
	forged, _ := providertest.NewCallbackRequest(context.Background(), "/mem/callback", "guess", pay)
	rec = httptest.NewRecorder()
	r.ServeHTTP(rec, forged)
	fmt.Println("forged:", rec.Code, rec.Body)

	// Output:
	// create: 201 IDR 45000 ACTIVE
	// callback: 200 {"ok":true,"verdict":"applied"}
	// callback: 200 {"ok":true,"verdict":"duplicate"}
	// forged: 401 {"ok":false,"error":"unauthenticated"}
}

// A status for every portable error code, in one place.
func ExampleStatusCode() {
	for _, err := range []error{
		provider.Errorf(provider.CodeInvalidArgument, "op", "bad amount"),
		provider.Errorf(provider.CodeNotFound, "op", "no such link"),
		provider.Errorf(provider.CodeUnavailable, "op", "database down"),
		context.DeadlineExceeded,
	} {
		fmt.Println(ginadapter.StatusCode(err))
	}
	// Output:
	// 422
	// 404
	// 503
	// 504
}

// Mount the callback handler by hand, behind the app's own middleware.
func ExampleCallbackHandler() {
	gin.SetMode(gin.ReleaseMode)
	gateway := providertest.NewMemProvider("mem", "callback-token")
	svc, err := provider.NewService(providertest.NewMemStore(), provider.ServiceOptions{
		Providers: []provider.Provider{gateway},
	})
	if err != nil {
		log.Fatal(err)
	}
	h, err := ginadapter.CallbackHandler(svc, ginadapter.Config{})
	if err != nil {
		log.Fatal(err)
	}
	r := gin.New()
	r.POST("/payments/callback", h, func(c *gin.Context) {
		if out, ok := ginadapter.OutcomeFrom(c); ok {
			fmt.Println("after the commit:", out.Verdict)
		}
	})

	// A callback for a link this app never made: recorded, flagged, and
	// still answered 200 so the gateway stops retrying.
	cb, _ := providertest.NewCallbackRequest(context.Background(), "/payments/callback", "callback-token",
		provider.Payment{ID: "P1", LinkID: "404", Status: provider.PaymentSuccessful, Amount: provider.Rupiah(1000)})
	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, cb)
	fmt.Println(rec.Code, rec.Body)
	// Output:
	// after the commit: unknown_link
	// 200 {"ok":true,"verdict":"unknown_link"}
}
