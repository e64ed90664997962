package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// The fake runs in-process here; `go run ./examples/fakeflip` runs the
// same code on :9090 until Ctrl-C.
func Example() {
	ctx, cancel := context.WithCancel(context.Background())
	env := map[string]string{"ADDR": "127.0.0.1:0", "FLIP_SECRET_KEY": "my-key"}
	addr := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, func(k string) string { return env[k] }, io.Discard, func(a string) { addr <- a })
	}()
	base := "http://" + <-addr

	req, _ := http.NewRequest(http.MethodPost, base+"/v2/pwf/bill",
		strings.NewReader("title=Coffee&type=SINGLE&amount=45000&step=1"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("my-key", "")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Println(err)
	} else {
		resp.Body.Close()
		fmt.Println("create bill:", resp.Status)
	}

	cancel()
	fmt.Println("stopped:", <-done)
	// Output:
	// create bill: 200 OK
	// stopped: <nil>
}
