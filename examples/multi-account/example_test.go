package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// Each account has its own routes; their link ids may be equal, since each
// link belongs to its provider.
func Example() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	env := map[string]string{"ADDR": "127.0.0.1:0", "API_TOKEN": "s3cret"}
	ready, done := make(chan string, 1), make(chan error, 1)
	go func() {
		done <- run(ctx, func(k string) string { return env[k] }, io.Discard, func(u string) { ready <- u })
	}()
	var baseURL string
	select {
	case baseURL = <-ready:
	case err := <-done:
		fmt.Println("run:", err)
		return
	}

	for _, account := range []string{"flip-books", "flip-coffee"} {
		req, err := http.NewRequest("POST", baseURL+"/"+account+"/api/links",
			strings.NewReader(`{"title": "Gift card", "amount": 100000}`))
		if err != nil {
			fmt.Println(err)
			continue
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer s3cret") // API_TOKEN
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			fmt.Println(err)
			continue
		}
		var link struct{ ID, Provider string }
		_ = json.NewDecoder(resp.Body).Decode(&link)
		resp.Body.Close()
		fmt.Println(resp.StatusCode, link.Provider, "link", link.ID)
	}
	cancel()
	fmt.Println("stopped:", <-done)
	// Output:
	// 201 flip-books link 1
	// 201 flip-coffee link 1
	// stopped: <nil>
}
