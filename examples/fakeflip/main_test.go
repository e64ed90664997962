package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paylinkgo/paylink/examples/internal/runtest"
)

const (
	testKey   = "JDJ5JDEzJDBkRTB6T2tBdk8uQWcvRDU2TTY0TmVQd0NrNC5POVF5elZuQnpJUTJvdWc4a2t0Tm44RnlT"
	testToken = "$2y$13$UsffNb9Y69sU4r5PzWgPwu038C28EUTM8wxSe4COTImnKbtQMnjzK"
	timeout   = 30 * time.Second
)

// callback is one callback as the app's endpoint receives it.
type callback struct {
	contentType string
	form        url.Values
}

// callbackSink is the app's callback endpoint: it answers the scripted
// statuses in turn, then 200.
type callbackSink struct {
	mu       sync.Mutex
	statuses []int
	got      []callback
	arrived  chan struct{}
}

func (c *callbackSink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	c.mu.Lock()
	c.got = append(c.got, callback{contentType: r.Header.Get("Content-Type"), form: r.PostForm})
	status := http.StatusOK
	if len(c.statuses) > 0 {
		status, c.statuses = c.statuses[0], c.statuses[1:]
	}
	c.mu.Unlock()
	w.WriteHeader(status)
	c.arrived <- struct{}{}
}

// start runs the program in-process on 127.0.0.1:0 and returns its base URL.
func start(t *testing.T, env map[string]string) (string, *runtest.Buffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out := &runtest.Buffer{}
	addr := make(chan string, 1)
	done := make(chan error, 1)
	env["ADDR"] = "127.0.0.1:0"
	go func() {
		done <- run(ctx, func(k string) string { return env[k] }, out, func(a string) { addr <- a })
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
		if !strings.Contains(out.String(), "shutting down") {
			t.Errorf("no shutdown message in %q", out.String())
		}
	})
	select {
	case a := <-addr:
		return "http://" + a, out
	case err := <-done:
		t.Fatalf("run ended early: %v", err)
	case <-time.After(timeout):
		t.Fatal("the fake did not start")
	}
	return "", nil
}

// curl sends a request built as the seed's curl samples build it: -d
// parts joined with "&", as they are (curl does not encode them).
func curl(t *testing.T, base, key, method, path string, d ...string) (int, []byte) {
	t.Helper()
	var body io.Reader
	if d != nil {
		body = strings.NewReader(strings.Join(d, "&"))
	}
	req, err := http.NewRequestWithContext(t.Context(), method, base+path, body)
	if err != nil {
		t.Fatal(err)
	}
	// As the seed's samples: the content type on every request (Flip
	// requires it on GETs too).
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if key != "" {
		req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(key+":")))
	}
	client := &http.Client{Timeout: timeout}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

func decodeObject(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("not a JSON object: %v: %s", err, b)
	}
	return m
}

// sameKeys fails unless m has exactly the keys of the seed's sample.
func sameKeys(t *testing.T, what string, m map[string]any, want ...string) {
	t.Helper()
	got := slices.Sorted(maps.Keys(m))
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("%s keys = %v, want the seed's %v", what, got, want)
	}
}

var (
	step1Keys    = []string{"link_id", "link_url", "title", "type", "amount", "redirect_url", "expired_date", "created_from", "status", "is_address_required", "is_phone_number_required", "step"}
	customerKeys = []string{"name", "email", "address", "phone"}
	paymentKeys  = []string{"id", "amount", "unique_code", "status", "sender_bank", "sender_bank_type", "receiver_bank_account", "user_address", "user_phone", "created_at"}
	accountKeys  = []string{"account_number", "account_type", "bank_code", "account_holder"}
)

func TestCreateBill_TheSeedsThreeSamples(t *testing.T) {
	t.Parallel()
	base, out := start(t, map[string]string{"FLIP_SECRET_KEY": testKey})
	if !strings.Contains(out.String(), "fake Flip listening on "+base) {
		t.Errorf("output %q does not name the base URL %s", out.String(), base)
	}

	t.Run("step 1", func(t *testing.T) {
		status, body := curl(t, base, testKey, "POST", "/v2/pwf/bill",
			"title=Test New Bill", "type=SINGLE", "amount=45000", "redirect_url=https%3A%2F%2Fexample.com",
			"is_address_required=0", "is_phone_number_required=0", "step=1")
		if status != http.StatusOK {
			t.Fatalf("status %d: %s", status, body)
		}
		m := decodeObject(t, body)
		sameKeys(t, "bill", m, step1Keys...)
		id := m["link_id"].(json.Number).String()
		if len(id) != 19 {
			t.Errorf("link_id = %s, want Flip's 19 digits", id)
		}
		// Scheme-less, as the seed's "flip.id/pwf-sandbox/$testflip/#test-1542".
		if m["link_url"] != strings.TrimPrefix(base, "http://")+"/pwf/checkout/"+id || m["title"] != "Test New Bill" || m["redirect_url"] != "https://example.com" ||
			m["amount"] != json.Number("45000") || m["status"] != "ACTIVE" || m["created_from"] != "API" || m["expired_date"] != nil {
			t.Errorf("bill = %s", body)
		}
	})

	t.Run("step 2", func(t *testing.T) {
		status, body := curl(t, base, testKey, "POST", "/v2/pwf/bill",
			"title=Test New Bill step 2", "type=SINGLE", "amount=45000", "redirect_url=https%3A%2F%2Fexample.com",
			"step=2", "sender_name=Jon Snow", "sender_email=jon.snow@example.com",
			"sender_phone_number=0812345678", "sender_address=jakarta selatan")
		if status != http.StatusOK {
			t.Fatalf("status %d: %s", status, body)
		}
		m := decodeObject(t, body)
		sameKeys(t, "bill", m, append(slices.Clone(step1Keys), "customer")...)
		c := m["customer"].(map[string]any)
		sameKeys(t, "customer", c, customerKeys...)
		// The seed answers address and phone as null, although sent.
		if c["name"] != "Jon Snow" || c["email"] != "jon.snow@example.com" || c["address"] != nil || c["phone"] != nil || m["step"] != json.Number("2") {
			t.Errorf("bill = %s", body)
		}
	})

	t.Run("step 3", func(t *testing.T) {
		status, body := curl(t, base, testKey, "POST", "/v2/pwf/bill",
			"title=test", "type=SINGLE", "amount=45000", "redirect_url=https://example.com", "step=3",
			"sender_name=Jon Snow", "sender_email=jon.snow@example.com", "sender_bank=mandiri",
			"sender_bank_type=virtual_account")
		if status != http.StatusOK {
			t.Fatalf("status %d: %s", status, body)
		}
		m := decodeObject(t, body)
		sameKeys(t, "bill", m, append(slices.Clone(step1Keys), "customer", "bill_payment", "payment_url")...)
		bp := m["bill_payment"].(map[string]any)
		sameKeys(t, "bill_payment", bp, paymentKeys...)
		acct := bp["receiver_bank_account"].(map[string]any)
		sameKeys(t, "receiver_bank_account", acct, accountKeys...)
		if n := acct["account_number"].(string); len(n) < 16 || len(n) > 17 {
			t.Errorf("VA number %q, want 16-17 digits", n)
		}
		if bp["status"] != "PENDING" || !strings.HasPrefix(bp["id"].(string), "PGPWF") {
			t.Errorf("bill_payment = %v", bp)
		}
	})
}

func TestCreateBill_RefusesBadInputWithFlipsCodes(t *testing.T) {
	t.Parallel()
	base, _ := start(t, map[string]string{"FLIP_SECRET_KEY": testKey})
	tests := []struct {
		name string
		d    []string
		want []string // attribute:code
	}{
		{"no type, tiny amount", []string{"title=Coffee", "amount=5000", "step=1"}, []string{"type:1044", "amount:1058"}},
		{"amount not a number", []string{"title=Coffee", "type=SINGLE", "amount=45rb"}, []string{"amount:1064"}},
		{"step 3 multiple without a bank", []string{"title=Coffee", "type=MULTIPLE", "amount=45000", "step=3",
			"sender_name=Jon", "sender_email=jon@example.com"}, []string{"type:1045", "sender_bank:1001", "sender_bank_type:1001"}},
		{"channel not enabled", []string{"title=Coffee", "type=SINGLE", "amount=45000", "step=3", "sender_name=Jon",
			"sender_email=jon@example.com", "sender_bank=mandiri", "sender_bank_type=credit_card_account"}, []string{"sender_bank:1091"}},
		{"expired", []string{"title=Coffee", "type=SINGLE", "amount=45000", "expired_date=2020-01-01 10:00"}, []string{"expired_date:1048"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			status, body := curl(t, base, testKey, "POST", "/v2/pwf/bill", tt.d...)
			if status != http.StatusUnprocessableEntity {
				t.Fatalf("status %d: %s", status, body)
			}
			var e struct {
				Code   string `json:"code"`
				Errors []struct {
					Attribute string `json:"attribute"`
					Code      int    `json:"code"`
				} `json:"errors"`
			}
			if err := json.Unmarshal(body, &e); err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, fe := range e.Errors {
				got = append(got, fe.Attribute+":"+strconv.Itoa(fe.Code))
			}
			if e.Code != "VALIDATION_ERROR" || !slices.Equal(got, tt.want) {
				t.Errorf("got %s %v, want %v", e.Code, got, tt.want)
			}
		})
	}
	t.Run("wrong key", func(t *testing.T) {
		t.Parallel()
		status, body := curl(t, base, "wrong", "GET", "/v2/pwf/bill")
		if status != http.StatusUnauthorized ||
			string(body) != `{"name":"Unauthorized","message":"You are requesting with an invalid credential.","status":401}` {
			t.Errorf("%d %s", status, body)
		}
	})
}

func TestPay_SendsTheCallbackAndRetriesUntil200(t *testing.T) {
	t.Parallel()
	sink := &callbackSink{statuses: []int{http.StatusInternalServerError}, arrived: make(chan struct{}, 8)}
	app := httptest.NewServer(sink)
	defer app.Close()
	base, _ := start(t, map[string]string{
		"FLIP_SECRET_KEY":              testKey,
		"FLIP_CALLBACK_TOKEN":          testToken,
		"FLIP_CALLBACK_URL":            app.URL + "/flip/callback",
		"FLIP_CALLBACK_RETRY_INTERVAL": "10ms",
	})
	status, body := curl(t, base, testKey, "POST", "/v2/pwf/bill",
		"title=Test New Bill", "type=SINGLE", "amount=45000", "step=1")
	if status != http.StatusOK {
		t.Fatalf("create: %d %s", status, body)
	}
	bill := decodeObject(t, body)
	id := bill["link_id"].(json.Number).String()

	status, body = curl(t, base, "", "POST", "/_fliptest/bills/"+id+"/pay", "sender_name=Jon Doe", "sender_email=jon@example.com", "sender_bank=bni")
	if status != http.StatusOK {
		t.Fatalf("pay: %d %s", status, body)
	}
	payment := decodeObject(t, body)

	for i := range 2 { // the 500, then the retry answered 200
		select {
		case <-sink.arrived:
		case <-time.After(timeout):
			t.Fatalf("callback %d never arrived", i+1)
		}
	}
	sink.mu.Lock()
	got := slices.Clone(sink.got)
	sink.mu.Unlock()
	if len(got) != 2 || got[0].form.Get("data") != got[1].form.Get("data") {
		t.Fatalf("callbacks = %+v, want one retried callback", got)
	}
	cb := got[0]
	if cb.contentType != "application/x-www-form-urlencoded" || cb.form.Get("token") != testToken {
		t.Errorf("content type %q, token %q", cb.contentType, cb.form.Get("token"))
	}
	data := decodeObject(t, []byte(cb.form.Get("data")))
	sameKeys(t, "data", data, "id", "bill_link", "bill_link_id", "bill_title", "sender_name", "sender_email",
		"sender_bank", "sender_bank_type", "amount", "status", "created_at")
	want := map[string]any{
		"id": payment["id"], "bill_link": bill["link_url"], "bill_link_id": json.Number(id), "bill_title": "Test New Bill",
		"sender_name": "Jon Doe", "sender_email": "jon@example.com", "sender_bank": "bni",
		"sender_bank_type": "virtual_account", "amount": json.Number("45000"), "status": "SUCCESSFUL",
	}
	for k, v := range want {
		if data[k] != v {
			t.Errorf("data.%s = %#v, want %#v", k, data[k], v)
		}
	}

	// The fake reports both attempts (it records each once it has the
	// answer, so poll).
	var ds []struct {
		Attempt    int `json:"attempt"`
		StatusCode int `json:"status_code"`
	}
	deadline := time.Now().Add(timeout)
	for len(ds) < 2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
		status, body = curl(t, base, "", "GET", "/_fliptest/deliveries")
		if err := json.Unmarshal(body, &ds); err != nil || status != http.StatusOK {
			t.Fatalf("deliveries: %d %s", status, body)
		}
	}
	if len(ds) != 2 || ds[0].StatusCode != 500 || ds[1].StatusCode != 200 || ds[1].Attempt != 2 {
		t.Errorf("deliveries = %+v", ds)
	}
}

func TestRun_RefusesABadRetryInterval(t *testing.T) {
	t.Parallel()
	env := map[string]string{"ADDR": "127.0.0.1:0", "FLIP_CALLBACK_RETRY_INTERVAL": "soon"}
	err := run(t.Context(), func(k string) string { return env[k] }, io.Discard, nil)
	if err == nil || !strings.Contains(err.Error(), "FLIP_CALLBACK_RETRY_INTERVAL") {
		t.Errorf("err = %v", err)
	}
}

func TestModes_MakeTheFakeAsLooseAsFlip(t *testing.T) {
	t.Parallel()
	base, out := start(t, map[string]string{"FLIP_SECRET_KEY": testKey, "FLIP_FAKE_MODES": "loose, refuse-local-redirects"})
	if !strings.Contains(out.String(), "modes: loose, refuse-local-redirects") {
		t.Errorf("output %q does not name the modes", out.String())
	}
	status, body := curl(t, base, testKey, "POST", "/v2/pwf/bill",
		"title=Coffee", "type=SINGLE", "amount=45000", "step=1", "redirect_url=http://localhost:8080/thanks")
	if status != http.StatusUnprocessableEntity || !strings.Contains(string(body), `"attribute":"redirect_url","code":1059`) {
		t.Errorf("local redirect: %d %s", status, body)
	}
	status, body = curl(t, base, testKey, "POST", "/v2/pwf/bill", "title=Coffee", "type=SINGLE", "amount=45000", "step=1")
	if status != http.StatusOK {
		t.Fatalf("create: %d %s", status, body)
	}
	id := decodeObject(t, body)["link_id"].(json.Number).String()
	if status, body = curl(t, base, testKey, "GET", "/v2/pwf/"+id+"/payment"); status != http.StatusUnprocessableEntity ||
		!strings.Contains(string(body), `"code":1050`) {
		t.Errorf("payments of a bill without any: %d %s", status, body)
	}
	if status, body = curl(t, base, "", "POST", "/_fliptest/bills/"+id+"/pay"); status != http.StatusOK {
		t.Fatalf("pay: %d %s", status, body)
	}
	status, body = curl(t, base, testKey, "GET", "/v2/pwf/"+id+"/payment")
	if status != http.StatusOK || !strings.Contains(string(body), `"amount":"45000.00"`) ||
		!strings.Contains(string(body), `"reference_id":"null"`) || !strings.Contains(string(body), `"total_data":"1"`) {
		t.Errorf("payments: %d %s", status, body)
	}
}

func TestRun_RefusesAnUnknownMode(t *testing.T) {
	t.Parallel()
	env := map[string]string{"ADDR": "127.0.0.1:0", "FLIP_FAKE_MODES": "null-strings,lenient"}
	err := run(t.Context(), func(k string) string { return env[k] }, io.Discard, nil)
	if err == nil || !strings.Contains(err.Error(), `"lenient"`) || !strings.Contains(err.Error(), "null-strings") {
		t.Errorf("err = %v", err)
	}
}
