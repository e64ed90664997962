package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// The fake runs in-process here; `go run ./examples/fakemidtrans` runs
// the same code on :9091 until Ctrl-C.
func Example() {
	ctx, cancel := context.WithCancel(context.Background())
	env := map[string]string{"ADDR": "127.0.0.1:0", "MIDTRANSTEST_SERVER_KEY": "my-key"}
	addr := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, func(k string) string { return env[k] }, io.Discard, func(a string) { addr <- a })
	}()
	base := "http://" + <-addr

	req, _ := http.NewRequest(http.MethodPost, base+"/snap/v1/transactions",
		strings.NewReader(`{"transaction_details":{"order_id":"coffee-1","gross_amount":45000}}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.SetBasicAuth("my-key", "")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Println(err)
	} else {
		resp.Body.Close()
		fmt.Println("Snap create:", resp.Status)
	}

	cancel()
	fmt.Println("stopped:", <-done)
	// Output:
	// Snap create: 201 Created
	// stopped: <nil>
}
