package fliptest

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

const testKey = "JDJ5JDEzJDBkRTB6T2tBdk8uQWcvRDU2TTY0TmVQd0NrNC5POVF5elZuQnpJUTJvdWc4a2t0Tm44RnlT"

// waitTimeout is generous: the machine is shared and slow.
const waitTimeout = 30 * time.Second

func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), waitTimeout)
	t.Cleanup(cancel)
	return ctx
}

// newTestServer starts a fake with testKey and closes it after the test.
func newTestServer(t *testing.T, opts Options) *Server {
	t.Helper()
	if opts.SecretKey == "" {
		opts.SecretKey = testKey
	}
	s := NewServer(opts)
	t.Cleanup(s.Close)
	return s
}

// reply is an HTTP answer read in full.
type reply struct {
	status int
	header http.Header
	body   []byte
}

// object decodes the body as a JSON object, keeping numbers exact.
func (r reply) object(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(r.body))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("body is not a JSON object: %v: %s", err, r.body)
	}
	return m
}

func (r reply) into(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("cannot decode %T: %v: %s", v, err, r.body)
	}
}

// testErrorBody is Flip's 422 body as a client reads it.
type testErrorBody struct {
	Code   string `json:"code"`
	Errors []struct {
		Attribute string `json:"attribute"`
		Code      int    `json:"code"`
		Message   string `json:"message"`
	} `json:"errors"`
}

// codes returns "attribute:code" for each error of a 422 body.
func (r reply) codes(t *testing.T) []string {
	t.Helper()
	if r.status != http.StatusUnprocessableEntity {
		t.Fatalf("status = %d, want 422; body %s", r.status, r.body)
	}
	var e testErrorBody
	r.into(t, &e)
	if e.Code != "VALIDATION_ERROR" {
		t.Errorf("code = %q, want VALIDATION_ERROR", e.Code)
	}
	var out []string
	for _, fe := range e.Errors {
		if fe.Message == "" {
			t.Errorf("error %s/%d has no message", fe.Attribute, fe.Code)
		}
		out = append(out, fe.Attribute+":"+itoa(fe.Code))
	}
	return out
}

func itoa(n int) string { return strconv.Itoa(n) }

// newHTTPTestServer starts h and returns its URL.
func newHTTPTestServer(t *testing.T, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}

// api is a test client of the fake's API.
type api struct {
	t    *testing.T
	base string
	key  string
	hc   *http.Client
}

func newAPI(t *testing.T, s *Server) *api {
	t.Helper()
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	return &api{t: t, base: s.URL, key: testKey, hc: &http.Client{Transport: tr, Timeout: waitTimeout}}
}

func basicAuth(key string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(key+":"))
}

// send makes a request as Flip requires it: the form content type on
// every request, and a non-nil form as the body.
func (a *api) send(method, path string, form url.Values) reply {
	a.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(a.t.Context(), method, a.base+path, body)
	if err != nil {
		a.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if a.key != "" {
		req.Header.Set("Authorization", basicAuth(a.key))
	}
	return a.do(req)
}

func (a *api) do(req *http.Request) reply {
	a.t.Helper()
	resp, err := a.hc.Do(req)
	if err != nil {
		a.t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		a.t.Fatal(err)
	}
	return reply{status: resp.StatusCode, header: resp.Header, body: b}
}

func (a *api) get(path string) reply { return a.send(http.MethodGet, path, nil) }

// form builds url.Values from key, value pairs.
func form(kv ...string) url.Values {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return v
}

// createBill creates a bill and returns its link id, failing the test on
// anything but 200.
func (a *api) createBill(kv ...string) string {
	a.t.Helper()
	r := a.send(http.MethodPost, "/v2/pwf/bill", form(kv...))
	if r.status != http.StatusOK {
		a.t.Fatalf("create bill: status %d: %s", r.status, r.body)
	}
	return r.object(a.t)["link_id"].(json.Number).String()
}

// step1 is the seed's step-1 sample request.
func step1(extra ...string) []string {
	return append([]string{"title", "Test New Bill", "type", "SINGLE", "amount", "45000",
		"redirect_url", "https://example.com", "is_address_required", "0",
		"is_phone_number_required", "0", "step", "1"}, extra...)
}

// step3 is the seed's step-3 sample request.
func step3(extra ...string) []string {
	return append([]string{"title", "test", "type", "SINGLE", "amount", "45000",
		"redirect_url", "https://example.com", "step", "3", "sender_name", "Jon Snow",
		"sender_email", "jon.snow@example.com", "sender_bank", "mandiri",
		"sender_bank_type", "virtual_account"}, extra...)
}

// received is one callback as a receiver sees it.
type received struct {
	contentType string
	token       string
	data        map[string]any
	rawData     string
}

// receiver is a callback endpoint that answers with scripted statuses.
type receiver struct {
	t  *testing.T
	mu sync.Mutex
	// statuses are answered in turn; after them, 200.
	statuses []int
	got      []received
	url      string
	// block, when set, makes the handler wait for the request to end.
	block bool
}

func newReceiver(t *testing.T, statuses ...int) *receiver {
	t.Helper()
	rc := &receiver{t: t, statuses: statuses}
	srv := newHTTPTestServer(t, http.HandlerFunc(rc.serve))
	rc.url = srv
	return rc
}

func (rc *receiver) serve(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	got := received{contentType: r.Header.Get("Content-Type"), token: r.PostForm.Get("token"), rawData: r.PostForm.Get("data")}
	dec := json.NewDecoder(strings.NewReader(got.rawData))
	dec.UseNumber()
	if err := dec.Decode(&got.data); err != nil {
		rc.t.Errorf("callback data is not JSON: %v: %q", err, got.rawData)
	}
	rc.mu.Lock()
	rc.got = append(rc.got, got)
	status := http.StatusOK
	if len(rc.statuses) > 0 {
		status, rc.statuses = rc.statuses[0], rc.statuses[1:]
	}
	block := rc.block
	rc.mu.Unlock()
	if block {
		<-r.Context().Done()
		return
	}
	w.WriteHeader(status)
}

func (rc *receiver) received() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.got...)
}

// statusesSeen lists the status of each callback received, in order.
func (rc *receiver) statusesSeen() []string {
	var out []string
	for _, g := range rc.received() {
		s, _ := g.data["status"].(string)
		out = append(out, s)
	}
	return out
}

func contextWithTimeout(t *testing.T, d time.Duration) (context.Context, context.CancelFunc) {
	t.Helper()
	return context.WithTimeout(t.Context(), d)
}
