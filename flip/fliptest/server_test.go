package fliptest

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestAuth_RequiresTheSecretKeyAsBasicUser(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, Options{})
	a := newAPI(t, s)
	const unauthorized = `{"name":"Unauthorized","message":"You are requesting with an invalid credential.","status":401}`
	tests := []struct {
		name   string
		header string
		want   int
	}{
		{"no header", "", http.StatusUnauthorized},
		{"wrong key", basicAuth("not-the-key"), http.StatusUnauthorized},
		{"key without the colon", "Basic " + base64.StdEncoding.EncodeToString([]byte(testKey)), http.StatusUnauthorized},
		{"key with a password", "Basic " + base64.StdEncoding.EncodeToString([]byte(testKey+":x")), http.StatusUnauthorized},
		{"bearer", "Bearer " + testKey, http.StatusUnauthorized},
		{"right key", basicAuth(testKey), http.StatusOK},
	}
	for _, tt := range tests {
		for _, path := range []string{"/v2/pwf/bill", "/v2/pwf/payment", "/v2/general/maintenance", "/v2/pwf/1/bill"} {
			t.Run(tt.name+" "+path, func(t *testing.T) {
				t.Parallel()
				req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, s.URL+path, nil)
				if tt.header != "" {
					req.Header.Set("Authorization", tt.header)
				}
				r := a.do(req)
				if tt.want == http.StatusOK {
					if r.status == http.StatusUnauthorized {
						t.Errorf("status 401 with the right key")
					}
					return
				}
				if r.status != tt.want || string(r.body) != unauthorized {
					t.Errorf("got %d %s", r.status, r.body)
				}
			})
		}
	}
}

func TestNotFound_UsesFlipsBody(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, Options{})
	a := newAPI(t, s)
	const notFound = `{"name":"Not Found","message":"Page not found.","status":404}`
	tests := []struct{ method, path string }{
		{http.MethodGet, "/v2/pwf/nothing/here"},
		{http.MethodGet, "/v3/pwf/bill"},
		{http.MethodDelete, "/v2/pwf/bill"},
		{http.MethodPost, "/v2/pwf/1/bill"},
		{http.MethodPost, "/v2/pwf/payment"},
		{http.MethodGet, "/"},
		{http.MethodGet, "/v2/pwf/bill-payment/PGPWF1/confirm"},
	}
	for _, tt := range tests {
		r := a.send(tt.method, tt.path, nil)
		if r.status != http.StatusNotFound || string(r.body) != notFound {
			t.Errorf("%s %s: %d %s", tt.method, tt.path, r.status, r.body)
		}
	}
}

func TestMaintenance(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, Options{})
	a := newAPI(t, s)
	if got := string(a.get("/v2/general/maintenance").body); got != `{"maintenance":false}` {
		t.Errorf("maintenance = %s", got)
	}
	s.SetMaintenance(true)
	if got := string(a.get("/v2/general/maintenance").body); got != `{"maintenance":true}` {
		t.Errorf("maintenance = %s", got)
	}
	if r := a.get("/v2/pwf/bill"); r.status != http.StatusUnauthorized {
		t.Errorf("during maintenance: %d %s", r.status, r.body)
	}
	s.SetMaintenance(false)
	if r := a.get("/v2/pwf/bill"); r.status != http.StatusOK {
		t.Errorf("after maintenance: %d %s", r.status, r.body)
	}
}

func TestFaults(t *testing.T) {
	t.Parallel()

	t.Run("status and body, limited times", func(t *testing.T) {
		t.Parallel()
		s := newTestServer(t, Options{})
		a := newAPI(t, s)
		s.InjectFault(Fault{Method: http.MethodPost, PathPrefix: "/v2/pwf/bill", Status: 500,
			Body: `{"code":"INTERNAL_SERVER_ERROR"}`, Times: 2})
		for i := range 2 {
			r := a.send(http.MethodPost, "/v2/pwf/bill", form(step1()...))
			if r.status != 500 || string(r.body) != `{"code":"INTERNAL_SERVER_ERROR"}` {
				t.Errorf("request %d: %d %s", i, r.status, r.body)
			}
		}
		if r := a.get("/v2/pwf/bill"); r.status != http.StatusOK {
			t.Errorf("GET matched a POST fault: %d", r.status)
		}
		if r := a.send(http.MethodPost, "/v2/pwf/bill", form(step1()...)); r.status != http.StatusOK {
			t.Errorf("third request: %d %s", r.status, r.body)
		}
		if n := len(s.Bills()); n != 1 {
			t.Errorf("%d bills, want 1: a faulted request must not reach the API", n)
		}
	})

	t.Run("malformed body and gateway html", func(t *testing.T) {
		t.Parallel()
		s := newTestServer(t, Options{})
		a := newAPI(t, s)
		s.InjectFault(Fault{PathPrefix: "/v2/pwf/payment", Status: 200, Body: `{"total_data":1,"data":[{"id":`})
		s.InjectFault(Fault{PathPrefix: "/v2/pwf/bill", Status: 502, Body: "<html>Bad Gateway</html>", ContentType: "text/html"})
		for range 3 {
			if r := a.get("/v2/pwf/payment"); string(r.body) != `{"total_data":1,"data":[{"id":` {
				t.Errorf("body = %s", r.body)
			}
		}
		r := a.get("/v2/pwf/bill")
		if r.status != 502 || r.header.Get("Content-Type") != "text/html" {
			t.Errorf("got %d %q", r.status, r.header.Get("Content-Type"))
		}
		s.ClearFaults()
		if r := a.get("/v2/pwf/payment"); r.status != http.StatusOK || r.object(t)["total_data"] == nil {
			t.Errorf("after ClearFaults: %d %s", r.status, r.body)
		}
	})

	t.Run("empty prefix matches the API only", func(t *testing.T) {
		t.Parallel()
		s := newTestServer(t, Options{})
		a := newAPI(t, s)
		id := a.createBill(step1()...)
		s.InjectFault(Fault{Status: 503, Body: "down"})
		if r := a.get("/v2/general/maintenance"); r.status != 503 {
			t.Errorf("API: %d", r.status)
		}
		if r := a.get("/pwf/checkout/" + id); r.status != http.StatusOK {
			t.Errorf("checkout page: %d", r.status)
		}
	})

	t.Run("delay then the real answer", func(t *testing.T) {
		t.Parallel()
		s := newTestServer(t, Options{})
		a := newAPI(t, s)
		s.InjectFault(Fault{Delay: 20 * time.Millisecond, Times: 1})
		if r := a.get("/v2/general/maintenance"); r.status != http.StatusOK {
			t.Errorf("delayed request: %d %s", r.status, r.body)
		}
	})

	t.Run("a client that gives up during a delay", func(t *testing.T) {
		t.Parallel()
		s := newTestServer(t, Options{})
		s.InjectFault(Fault{Delay: time.Hour})
		ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+"/v2/general/maintenance", nil)
		req.Header.Set("Authorization", basicAuth(testKey))
		tr := &http.Transport{}
		defer tr.CloseIdleConnections()
		_, err := (&http.Client{Transport: tr}).Do(req)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("err = %v, want the client's deadline", err)
		}
	})
}

func TestClose_WhileARequestIsDelayedReturns(t *testing.T) {
	t.Parallel()
	s := NewServer(Options{SecretKey: testKey})
	s.InjectFault(Fault{Delay: time.Hour, Times: 1})
	errc := make(chan error, 1)
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	go func() {
		req, _ := http.NewRequest(http.MethodGet, s.URL+"/v2/general/maintenance", nil)
		resp, err := (&http.Client{Transport: tr}).Do(req)
		if err == nil {
			resp.Body.Close()
		}
		errc <- err
	}()
	// Wait until the request is inside the server: the fault has been used.
	deadline := time.Now().Add(waitTimeout)
	for !faultInUse(s) {
		if time.Now().After(deadline) {
			t.Fatal("request never reached the server")
		}
		time.Sleep(5 * time.Millisecond)
	}
	s.Close()
	if err := <-errc; err == nil {
		t.Error("a request delayed by a fault was answered after Close")
	}
	s.Close() // a second Close is harmless
}

// faultInUse reports whether the first fault (Times: 1) has been taken by
// a request.
func faultInUse(s *Server) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.faults) > 0 && s.faults[0].left == 0
}

func TestUnstartedServer_ServesOnAChosenListener(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "0.0.0.0:0")
	if err != nil {
		t.Skipf("cannot listen on 0.0.0.0: %v", err)
	}
	s := NewUnstartedServer(Options{SecretKey: testKey})
	s.Listener = ln
	s.Start()
	defer s.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	if s.URL != "http://127.0.0.1:"+port {
		t.Errorf("URL = %q, want http://127.0.0.1:%s", s.URL, port)
	}
	a := newAPI(t, s)
	if r := a.get("/v2/general/maintenance"); r.status != http.StatusOK {
		t.Errorf("status %d", r.status)
	}
}

func TestNewServer_PanicsWithoutSecretKey(t *testing.T) {
	t.Parallel()
	defer func() {
		if r := recover(); r == nil || !strings.Contains(r.(string), "SecretKey") {
			t.Errorf("recover() = %v", r)
		}
	}()
	NewServer(Options{})
}

func TestClose_LeavesNoGoroutines(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, 500, 500, 500)
	s := NewServer(Options{SecretKey: testKey, CallbackURL: rc.url, RetryInterval: time.Hour})
	a := newAPI(t, s)
	id := a.createBill(step1("type", "MULTIPLE")...)
	for range 3 {
		if _, err := s.Pay(t.Context(), id, PayOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.WaitDeliveries(testCtx(t), 3); err != nil {
		t.Fatal(err)
	}
	// Three deliveries now wait an hour to retry; Close must end them.
	s.Close()
	if n := fakeGoroutines(s); n != 0 {
		t.Errorf("%d goroutines of the fake still running after Close", n)
	}
	if err := s.WaitDeliveries(testCtx(t), 4); err == nil {
		t.Error("WaitDeliveries on a closed server returned nil")
	}
}

// fakeGoroutines counts the goroutines running s's delivery code. Tests
// run in parallel, so it matches s's address in the stack frames.
func fakeGoroutines(s *Server) int {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	n := 0
	for _, g := range strings.Split(string(buf), "\n\n") {
		if (strings.Contains(g, "fliptest.(*Server).deliver(") || strings.Contains(g, "fliptest.(*Server).dispatch(")) &&
			strings.Contains(g, fmt.Sprintf("%p", s)) {
			n++
		}
	}
	return n
}
