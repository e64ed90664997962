package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Example runs the whole shop offline, as `go run ./examples/shop` does,
// creates an order, pays it on the fake Flip and waits for the hook to
// mark it paid.
func Example() {
	dir, err := os.MkdirTemp("", "shop-example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	env := map[string]string{"ADDR": "127.0.0.1:0", "SHOP_SQLITE_PATH": filepath.Join(dir, "shop.db")}

	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	addrc, done := make(chan string, 1), make(chan error, 1)
	go func() {
		done <- run(ctx, func(k string) string { return env[k] }, io.Discard, func(a listening) { addrc <- a.public })
	}()
	var shop string
	select {
	case addr := <-addrc:
		shop = "http://" + addr
	case err := <-done:
		fmt.Println("the shop did not start:", err)
		return
	}

	type order struct {
		ID           int64  `json:"id"`
		Status       string `json:"status"`
		ReceiptsSent int    `json:"receipts_sent"`
		Payment      struct {
			LinkID  string `json:"link_id"`
			LinkURL string `json:"link_url"`
		} `json:"payment"`
	}
	client := &http.Client{Timeout: 30 * time.Second}
	call := func(method, u, body string) (o order) {
		req, _ := http.NewRequest(method, u, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		res, err := client.Do(req)
		if err != nil {
			panic(err)
		}
		defer res.Body.Close()
		json.NewDecoder(res.Body).Decode(&o)
		return o
	}

	o := call("POST", shop+"/orders", `{"title": "Coffee beans", "amount": 45000, "customer": {"name": "Budi", "email": "budi@example.com"}}`)
	fmt.Println("order", o.ID, o.Status)

	// The customer pays on the (fake) Flip checkout page.
	checkout, _ := url.Parse(o.Payment.LinkURL)
	call("POST", checkout.Scheme+"://"+checkout.Host+"/_fliptest/bills/"+o.Payment.LinkID+"/pay", "")

	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if o = call("GET", fmt.Sprintf("%s/orders/%d", shop, o.ID), ""); o.Status == "PAID" {
			break
		}
	}
	fmt.Println("order", o.ID, o.Status, "receipts sent:", o.ReceiptsSent)

	stop()
	fmt.Println("shutdown:", <-done)
	// Output:
	// order 1 PENDING
	// order 1 PAID receipts sent: 1
	// shutdown: <nil>
}
