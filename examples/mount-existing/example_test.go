package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
)

// The program runs in process: start it on a free port, call it, cancel.
func Example() {
	dir, _ := os.MkdirTemp("", "mount-existing")
	defer os.RemoveAll(dir)
	env := map[string]string{"ADDR": "127.0.0.1:0", "ADMIN_TOKEN": "s3cret", "SQLITE_PATH": filepath.Join(dir, "app.db")}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
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

	for _, path := range []string{"/healthz", "/api/admin/callbacks"} {
		resp, err := http.Get(baseURL + path)
		if err != nil {
			fmt.Println(err)
			continue
		}
		resp.Body.Close()
		fmt.Println(path, resp.StatusCode)
	}
	cancel()
	fmt.Println("stopped:", <-done)
	// Output:
	// /healthz 200
	// /api/admin/callbacks 401
	// stopped: <nil>
}
