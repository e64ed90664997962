package main

import (
	"bytes"
	"cmp"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// metrics reads GET /metrics as Prometheus scrapes it (from the admin
// listener when there is one).
func (s *testShop) metrics() string {
	s.t.Helper()
	res, err := s.client.Get(cmp.Or(s.admin, s.base) + "/metrics")
	if err != nil {
		s.t.Fatalf("GET /metrics: %v", err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		s.t.Fatal(err)
	}
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/plain") {
		s.t.Fatalf("GET /metrics = %d %s, want 200 text/plain", res.StatusCode, res.Header.Get("Content-Type"))
	}
	return string(body)
}

// sample returns the value of the series of name whose labels include
// every label given ("k", "v", ...), and whether there is exactly one.
func sample(text, name string, labels ...string) (string, bool) {
	var found []string
	for line := range strings.Lines(text) {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, name+"{") && !strings.HasPrefix(line, name+" ") {
			continue
		}
		ok := true
		for i := 0; i+1 < len(labels); i += 2 {
			if !strings.Contains(line, labels[i]+`="`+labels[i+1]+`"`) {
				ok = false
			}
		}
		if ok {
			found = append(found, line[strings.LastIndexByte(line, ' ')+1:])
		}
	}
	if len(found) != 1 {
		return "", false
	}
	return found[0], true
}

func TestMetricsServePaylinksAfterAPayment(t *testing.T) {
	t.Parallel()
	s := startShop(t, shopEnv(t.TempDir()))

	// Before the first callback, the series alerts need exist at zero.
	before := s.metrics()
	for _, v := range []string{"applied", "duplicate", "unverified", "amount_mismatch", "unknown_link"} {
		if got, ok := sample(before, "paylink_callbacks_total", "paylink_provider", "flip", "paylink_verdict", v); got != "0" {
			t.Errorf("before any callback, paylink_callbacks_total{verdict=%q} = %q (found %v), want 0", v, got, ok)
		}
	}
	if got, _ := sample(before, "paylink_callbacks_total", "paylink_verdict", "refused", "paylink_refusal_reason", "unauthenticated"); got != "0" {
		t.Errorf("before any callback, refused unauthenticated = %q, want 0", got)
	}
	if got, _ := sample(before, "paylink_hook_runs_total", "paylink_hook", "shop.mark-paid", "paylink_outcome", "failed"); got != "0" {
		t.Errorf("before any hook run, paylink_hook_runs_total{failed} = %q, want 0\n%s", got, grep(before, "paylink_hook_runs_total"))
	}

	o := s.createOrder(coffee())
	s.pay(o)()
	s.waitOrder(o.ID, "PAID with one receipt", func(o orderView) bool { return o.Status == OrderPaid && o.ReceiptsSent == 1 })

	// The hook marks the order paid before its outcome is counted: wait for it.
	deadline := time.Now().Add(waitTimeout)
	text := s.metrics()
	for got, _ := sample(text, "paylink_hook_runs_total", "paylink_outcome", "succeeded", "paylink_hook", "shop.mark-paid"); got != "1" && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
		text = s.metrics()
		got, _ = sample(text, "paylink_hook_runs_total", "paylink_outcome", "succeeded", "paylink_hook", "shop.mark-paid")
	}
	for _, c := range []struct {
		name   string
		labels []string
		want   string
	}{
		{"paylink_callbacks_total", []string{"paylink_provider", "flip", "paylink_verdict", "applied"}, "1"},
		{"paylink_callbacks_total", []string{"paylink_provider", "flip", "paylink_verdict", "duplicate"}, "1"},
		{"paylink_callback_duration_seconds_count", []string{"paylink_provider", "flip", "paylink_verdict", "applied"}, "1"},
		{"paylink_hook_runs_total", []string{"paylink_hook", "shop.mark-paid", "paylink_outcome", "succeeded"}, "1"},
		{"paylink_hook_runs_total", []string{"paylink_hook", "shop.mark-paid", "paylink_outcome", "failed"}, "0"},
		{"paylink_hook_lag_seconds_count", []string{"paylink_hook", "shop.mark-paid"}, "1"},
		{"paylink_hook_backlog", nil, "0"},
	} {
		if got, ok := sample(text, c.name, c.labels...); !ok || got != c.want {
			t.Errorf("%s%v = %q (found: %v), want %s\n%s", c.name, c.labels, got, ok, c.want, grep(text, c.name))
		}
	}
	// The payment provider's API calls, through the otelhttp transport.
	if !regexp.MustCompile(`(?m)^http_client_request_duration_seconds_count\{[^}]*http_request_method="POST"[^}]*\} [1-9]`).MatchString(text) {
		t.Errorf("no http_client_request_duration_seconds for the provider's POST:\n%s", grep(text, "http_client_request_duration_seconds_count"))
	}
}

// grep returns the lines of text that mention name.
func grep(text, name string) string {
	var b strings.Builder
	for line := range strings.Lines(text) {
		if strings.Contains(line, name) {
			b.WriteString(line)
		}
	}
	return b.String()
}

// otlpSink is an OTLP/HTTP receiver that keeps the bodies it is sent, by path.
type otlpSink struct {
	mu     sync.Mutex
	bodies map[string][]byte
}

func (s *otlpSink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	s.bodies[r.URL.Path] = append(s.bodies[r.URL.Path], body...)
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-protobuf")
	w.WriteHeader(http.StatusOK)
}

func (s *otlpSink) received(path string) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.bodies[path]
}

func TestOTLPExportsPaylinksSpansAndMetrics(t *testing.T) {
	t.Parallel()
	sink := &otlpSink{bodies: map[string][]byte{}}
	collector := httptest.NewServer(sink)
	defer collector.Close()
	env := shopEnv(t.TempDir())
	env["OTEL_EXPORTER_OTLP_ENDPOINT"] = collector.URL
	s := startShop(t, env)

	o := s.createOrder(coffee())
	s.pay(o)
	s.waitOrder(o.ID, "PAID with one receipt", func(o orderView) bool { return o.Status == OrderPaid && o.ReceiptsSent == 1 })
	// Shutdown flushes the exporters.
	if err := s.stop(); err != nil {
		t.Fatalf("run returned %v", err)
	}
	traces, metrics := sink.received("/v1/traces"), sink.received("/v1/metrics")
	for _, name := range []string{"paylink.callback", "paylink.hook.run", "paylink-shop"} {
		if !bytes.Contains(traces, []byte(name)) {
			t.Errorf("the exported traces (%d bytes) have no %q", len(traces), name)
		}
	}
	for _, name := range []string{"paylink.callbacks", "paylink.hook.runs", "paylink.hook.backlog", "http.client.request.duration"} {
		if !bytes.Contains(metrics, []byte(name)) {
			t.Errorf("the exported metrics (%d bytes) have no %q", len(metrics), name)
		}
	}
}

// serverSeries returns the series of http_server_request_duration_seconds
// (the _count lines, by their labels) in a /metrics text.
func serverSeries(text string) map[string]bool {
	series := make(map[string]bool)
	for line := range strings.Lines(text) {
		if labels, ok := strings.CutPrefix(line, "http_server_request_duration_seconds_count{"); ok {
			series[labels[:strings.LastIndexByte(labels, '}')]] = true
		}
	}
	return series
}

// TestHostHeadersAddNoSeries: the Host header is the client's to choose.
// Were it a label of the HTTP server metrics, every distinct one would be
// a new series in /metrics, kept for the life of the process: 50 requests
// with 50 Host headers must add none, and name none of them.
func TestHostHeadersAddNoSeries(t *testing.T) {
	t.Parallel()
	s := startShop(t, shopEnv(t.TempDir()))
	get := func(host string) {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, s.base+"/", nil)
		if err != nil {
			t.Fatal(err)
		}
		if host != "" {
			req.Host = host
		}
		res, err := s.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Fatalf("GET / with Host %q = %d, want 200", host, res.StatusCode)
		}
	}
	get("")
	before := serverSeries(s.metrics())
	if len(before) == 0 {
		t.Fatalf("no http_server_request_duration_seconds series after a request:\n%s", grep(s.metrics(), "http_server"))
	}
	for i := range 50 {
		get(fmt.Sprintf("host-%d.attacker.example:%d", i, 1000+i))
	}
	text := s.metrics()
	after := serverSeries(text)
	for series := range after {
		if !before[series] {
			t.Errorf("new series after requests with distinct Host headers: {%s}", series)
		}
	}
	_, port, _ := strings.Cut(strings.TrimPrefix(s.base, "http://"), ":")
	for series := range after {
		if !strings.Contains(series, `server_address="127.0.0.1"`) || !strings.Contains(series, `server_port="`+port+`"`) {
			t.Errorf("series {%s}: want server_address and server_port of the listener, 127.0.0.1:%s", series, port)
		}
	}
	if strings.Contains(text, "attacker.example") {
		t.Errorf("a Host header made its way into /metrics:\n%s", grep(text, "attacker.example"))
	}
}
