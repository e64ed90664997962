package console_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/gin-gonic/gin"

	"github.com/paylinkgo/paylink/ginadapter/console"
	"github.com/paylinkgo/paylink/provider"
	"github.com/paylinkgo/paylink/provider/providertest"
)

// Mount the console under /ops behind basic auth. Without an Authorize
// middleware it does not mount at all.
func ExampleMount() {
	gin.SetMode(gin.ReleaseMode)
	svc, _ := provider.NewService(providertest.NewMemStore(), provider.ServiceOptions{
		Providers: []provider.Provider{providertest.NewMemProvider("mem", "token")},
	})
	r := gin.New()
	if err := console.Mount(r.Group("/ops"), svc, console.Options{}); err != nil {
		fmt.Println("refused:", provider.CodeOf(err))
	}
	err := console.Mount(r.Group("/ops"), svc, console.Options{
		Authorize: gin.BasicAuth(gin.Accounts{"ana": "correct horse"}),
	})
	fmt.Println("mounted:", err == nil)

	for _, user := range []string{"", "ana"} {
		req := httptest.NewRequest(http.MethodGet, "/ops/", nil)
		if user != "" {
			req.SetBasicAuth(user, "correct horse")
		}
		w := httptest.NewRecorder()
		r.ServeHTTP(w, req)
		fmt.Printf("%q: %d\n", user, w.Code)
	}
	// Output:
	// refused: paylink: invalid argument
	// mounted: true
	// "": 401
	// "ana": 200
}
