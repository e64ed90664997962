package console_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/paylinkgo/paylink/ginadapter/console"
	"github.com/paylinkgo/paylink/provider"
	"github.com/paylinkgo/paylink/provider/providertest"
)

const password = "correct horse battery"

// harness is the console under /ops over an in-memory store and provider,
// behind basic auth for ana and budi, with one hook that fails while
// fail is set.
type harness struct {
	now   atomic.Pointer[time.Time] // the console's clock
	r     *gin.Engine
	svc   *provider.Service
	store *providertest.MemStore
	mem   *providertest.MemProvider
	fail  atomic.Bool
	// failWith, when set, is the failing hook's error text.
	failWith atomic.Pointer[string]
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	gin.SetMode(gin.TestMode)
	h := &harness{store: providertest.NewMemStore(), mem: providertest.NewMemProvider("mem", "token")}
	svc, err := provider.NewService(h.store, provider.ServiceOptions{
		Providers: []provider.Provider{h.mem}, Logger: slog.New(slog.DiscardHandler),
		HookPolicy:       provider.HookPolicy{MaxAttempts: 1, Timeout: 5 * time.Second},
		HookPollInterval: 10 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	err = svc.On("receipt", provider.When(provider.PaymentSuccessful), func(ctx context.Context, ev *provider.HookEvent) error {
		if h.fail.Load() {
			if msg := h.failWith.Load(); msg != nil {
				return errors.New(*msg)
			}
			return errors.New("mail server down")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { svc.Stop(context.Background()) })
	h.svc = svc
	h.r = gin.New()
	start := time.Date(2026, 1, 2, 10, 0, 0, 0, time.UTC)
	h.now.Store(&start)
	err = console.Mount(h.r.Group("/ops"), svc, console.Options{
		Authorize: gin.BasicAuth(gin.Accounts{"ana": password, "budi": password}),
		CSRFKey:   csrfKey,
		Now:       func() time.Time { return *h.now.Load() },
	})
	if err != nil {
		t.Fatalf("Mount: %v", err)
	}
	return h
}

// request is one request to the console.
type request struct {
	method, path string
	host         string // "" keeps httptest's example.com
	user         string // "" sends no credentials
	form         url.Values
	header       map[string]string
}

func (h *harness) do(t *testing.T, rq request) *httptest.ResponseRecorder {
	t.Helper()
	var body io.Reader
	if rq.form != nil {
		body = strings.NewReader(rq.form.Encode())
	}
	req := httptest.NewRequest(cmpOr(rq.method, http.MethodGet), rq.path, body)
	if rq.form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if rq.user != "" {
		req.SetBasicAuth(rq.user, password)
	}
	for k, v := range rq.header {
		req.Header.Set(k, v)
	}
	if rq.host != "" {
		req.Host = rq.host
	}
	w := httptest.NewRecorder()
	h.r.ServeHTTP(w, req)
	return w
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func (h *harness) get(t *testing.T, path, user string, want int) string {
	t.Helper()
	w := h.do(t, request{path: path, user: user})
	if w.Code != want {
		t.Fatalf("GET %s as %q: %d, want %d\n%s", path, user, w.Code, want, w.Body.String())
	}
	return w.Body.String()
}

// csrfKey is the harness's CSRFKey, so that tests can mint tokens.
var csrfKey = []byte("0123456789abcdef0123456789abcdef")

// advance moves the console's clock.
func (h *harness) advance(d time.Duration) {
	next := h.now.Load().Add(d)
	h.now.Store(&next)
}

// token mints user's token for an action form posted to path (with form's
// provider and id for the payment and link actions), as the console's
// pages do, valid for the default lifetime from the harness's clock.
func (h *harness) token(user, path string, form url.Values) string {
	path, _, _ = strings.Cut(path, "?")
	parts := strings.Split(strings.TrimPrefix(path, "/ops/"), "/")
	var action, target string
	switch {
	case len(parts) == 3 && parts[0] == "callbacks":
		action, target = "reprocess", parts[1]
	case len(parts) == 3 && parts[0] == "hooks":
		action, target = "retry", parts[1]
	case path == "/ops/payment/refetch":
		action, target = "refetch", form.Get("provider")+"\x00"+form.Get("id")
	case path == "/ops/link/reconcile":
		action, target = "reconcile", form.Get("provider")+"\x00"+form.Get("id")
	}
	return console.FormToken(csrfKey, user, action, target, "example.com", h.now.Load().Add(console.DefaultTokenLifetime))
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf reads user's form token from a page: the token of the reprocess
// form of callback 1.
func (h *harness) csrf(t *testing.T, user string) string {
	t.Helper()
	m := csrfField.FindStringSubmatch(h.get(t, "/ops/callbacks/1", user, http.StatusOK))
	if m == nil {
		t.Fatalf("no csrf field on the callback page for %s", user)
	}
	return m[1]
}

// post submits an action form as user with user's token.
func (h *harness) post(t *testing.T, path, user string, form url.Values) *httptest.ResponseRecorder {
	t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if form.Get("csrf") == "" {
		form.Set("csrf", h.token(user, path, form))
	}
	return h.do(t, request{method: http.MethodPost, path: path, user: user, form: form,
		header: map[string]string{"Origin": "http://example.com", "Sec-Fetch-Site": "same-origin"}})
}

// scenario records what every page shows: a callback that arrived before
// its link was stored (flagged), the link stored since, and a paid payment
// of another stored link whose hook run failed.
type scenario struct {
	flagged  provider.CallbackRecord
	late     *provider.Link
	paid     provider.Payment
	paidLink *provider.Link
	failed   provider.HookRun
}

func (h *harness) scenario(t *testing.T) scenario {
	t.Helper()
	ctx := t.Context()
	var s scenario
	var err error
	if s.late, err = h.mem.CreateLink(ctx, provider.CreateLinkParams{Title: "order 1", Amount: provider.Rupiah(45000)}); err != nil {
		t.Fatal(err)
	}
	pay, err := h.mem.Settle(s.late.ID, provider.PaymentSuccessful, 0)
	if err != nil {
		t.Fatal(err)
	}
	h.callback(t, pay, provider.VerdictUnknownLink)
	cbs, err := h.store.ListCallbacks(ctx, provider.CallbackFilter{Flagged: true})
	if err != nil || len(cbs) != 1 {
		t.Fatalf("flagged callbacks: %v, %v", cbs, err)
	}
	s.flagged = cbs[0]
	if err := h.store.SaveLink(ctx, &provider.LinkWrite{Provider: s.late.Provider, ID: s.late.ID, Link: s.late}); err != nil {
		t.Fatal(err)
	}

	h.fail.Store(true)
	if s.paidLink, err = h.svc.CreateLink(ctx, "", provider.CreateLinkParams{Title: "order 2", Amount: provider.Rupiah(30000)}); err != nil {
		t.Fatal(err)
	}
	if s.paid, err = h.mem.Settle(s.paidLink.ID, provider.PaymentSuccessful, 0); err != nil {
		t.Fatal(err)
	}
	h.callback(t, s.paid, provider.VerdictApplied)
	s.failed = h.waitRun(t, s.paid.ID, provider.HookRunFailed)
	return s
}

func (h *harness) callback(t *testing.T, pay provider.Payment, want provider.Verdict) {
	t.Helper()
	r, err := providertest.NewCallbackRequest(t.Context(), "http://shop.invalid/cb", "token", pay)
	if err != nil {
		t.Fatal(err)
	}
	if _, out, err := providertest.Deliver(t.Context(), h.svc, "mem", r); err != nil || out.Verdict != want {
		t.Fatalf("callback for %s: %+v, %v; want %s", pay.ID, out, err, want)
	}
}

func (h *harness) waitRun(t *testing.T, paymentID string, want provider.HookRunState) provider.HookRun {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		runs, err := h.svc.Store().(provider.Reader).ListHookRuns(t.Context(), provider.HookRunFilter{Provider: "mem", PaymentID: paymentID})
		if err != nil {
			t.Fatal(err)
		}
		if len(runs) == 1 && runs[0].State == want {
			return runs[0]
		}
		if time.Now().After(deadline) {
			t.Fatalf("hook runs of %s: %+v, want one %s", paymentID, runs, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestMountRefusesWithoutAuthorize(t *testing.T) {
	gin.SetMode(gin.TestMode)
	store := providertest.NewMemStore()
	svc, err := provider.NewService(store, provider.ServiceOptions{Providers: []provider.Provider{providertest.NewMemProvider("mem", "t")}})
	if err != nil {
		t.Fatal(err)
	}
	r := gin.New()
	err = console.Mount(r.Group("/ops"), svc, console.Options{Actor: func(*gin.Context) string { return "ana" }})
	if !errors.Is(err, provider.CodeInvalidArgument) || !strings.Contains(err.Error(), "Authorize") {
		t.Fatalf("Mount without Authorize: %v, want CodeInvalidArgument naming Authorize", err)
	}
	if routes := r.Routes(); len(routes) != 0 {
		t.Fatalf("Mount without Authorize mounted %v", routes)
	}
	w := httptest.NewRecorder()
	r.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/ops/", nil))
	if w.Code != http.StatusNotFound {
		t.Fatalf("GET /ops/ after a refused Mount: %d, want 404", w.Code)
	}

	// A store without an action log cannot record actions: no console.
	bare, err := provider.NewService(struct{ provider.Store }{store}, provider.ServiceOptions{Providers: []provider.Provider{providertest.NewMemProvider("mem", "t")}})
	if err != nil {
		t.Fatal(err)
	}
	allow := func(c *gin.Context) {}
	if err := console.Mount(r.Group("/ops"), bare, console.Options{Authorize: allow}); !errors.Is(err, provider.CodeFailedPrecondition) {
		t.Fatalf("Mount over a store without an action log: %v, want CodeFailedPrecondition", err)
	}
	if err := console.Mount(r.Group("/ops"), svc, console.Options{Authorize: allow, CSRFKey: []byte("short")}); !errors.Is(err, provider.CodeInvalidArgument) {
		t.Fatalf("Mount with a short CSRFKey: %v, want CodeInvalidArgument", err)
	}
	if routes := r.Routes(); len(routes) != 0 {
		t.Fatalf("refused Mounts mounted %v", routes)
	}
}

func TestEveryPageNeedsAnOperator(t *testing.T) {
	h := newHarness(t)
	s := h.scenario(t)
	pages := map[string]string{
		"/ops/":                    "order",
		"/ops/callbacks":           s.flagged.PaymentID,
		"/ops/callbacks?flagged=1": string(provider.VerdictUnknownLink),
		"/ops/callbacks/1":         "Reprocess this callback",
		"/ops/payment?provider=mem&id=" + s.paid.ID:  "mail server down",
		"/ops/link?provider=mem&id=" + s.paidLink.ID: "Reconcile now",
		"/ops/hooks":                 "mail server down",
		"/ops/hooks?state=succeeded": "succeeded",
		"/ops/actions":               "No actions yet",
	}
	pages["/ops/"] = s.flagged.PaymentID
	for path, want := range pages {
		h.get(t, path, "", http.StatusUnauthorized)
		w := h.do(t, request{path: path, user: "ana", header: map[string]string{"Authorization": "Basic " + "YW5hOndyb25n"}}) // ana:wrong
		if w.Code != http.StatusUnauthorized {
			t.Errorf("GET %s with a wrong password: %d, want 401", path, w.Code)
		}
		body := h.get(t, path, "ana", http.StatusOK)
		if !strings.Contains(body, want) {
			t.Errorf("GET %s: page does not show %q", path, want)
		}
	}
	for _, path := range []string{"/ops/callbacks/1/reprocess", "/ops/payment/refetch", "/ops/link/reconcile", "/ops/hooks/1/retry"} {
		if w := h.do(t, request{method: http.MethodPost, path: path, form: url.Values{}}); w.Code != http.StatusUnauthorized {
			t.Errorf("POST %s without credentials: %d, want 401", path, w.Code)
		}
	}
	w := h.do(t, request{path: "/ops/", user: "ana"})
	// Under no-referrer a browser posts the console's own forms with
	// "Origin: null", which the forgery check refuses.
	if rp := w.Header().Get("Referrer-Policy"); rp != "same-origin" {
		t.Errorf("Referrer-Policy %q, want same-origin", rp)
	}
	for _, hdr := range []string{"Content-Security-Policy", "X-Frame-Options", "Cache-Control"} {
		if w.Header().Get(hdr) == "" {
			t.Errorf("pages lack %s", hdr)
		}
	}
}

func TestBadInputIsAClientError(t *testing.T) {
	h := newHarness(t)
	s := h.scenario(t)
	long := strings.Repeat("x", console.MaxQueryBytes)
	for path, want := range map[string]int{
		"/ops/callbacks/abc":                             http.StatusBadRequest,
		"/ops/callbacks/-1":                              http.StatusBadRequest,
		"/ops/callbacks/99999999999999999999999":         http.StatusBadRequest,
		"/ops/callbacks/424242":                          http.StatusNotFound,
		"/ops/callbacks/1?done=x":                        http.StatusBadRequest,
		"/ops/?verdict=paid":                             http.StatusBadRequest,
		"/ops/?provider=stripe":                          http.StatusBadRequest,
		"/ops/?flagged=maybe":                            http.StatusBadRequest,
		"/ops/?limit=0":                                  http.StatusBadRequest,
		"/ops/?limit=100000":                             http.StatusBadRequest,
		"/ops/?before=abc":                               http.StatusBadRequest,
		"/ops/?payment=%00":                              http.StatusBadRequest,
		"/ops/?payment=" + long:                          http.StatusRequestURITooLong,
		"/ops/payment":                                   http.StatusBadRequest,
		"/ops/payment?provider=mem":                      http.StatusBadRequest,
		"/ops/payment?provider=mem&id=nope":              http.StatusNotFound,
		"/ops/payment?provider=nope&id=" + s.paid.ID:     http.StatusBadRequest,
		"/ops/link?provider=mem&id=nope":                 http.StatusNotFound,
		"/ops/link?id=%ff":                               http.StatusBadRequest,
		"/ops/hooks?state=exploded":                      http.StatusBadRequest,
		"/ops/hooks?limit=x":                             http.StatusBadRequest,
		"/ops/actions?kind=drop_tables":                  http.StatusBadRequest,
		"/ops/actions?actor=" + strings.Repeat("a", 300): http.StatusBadRequest,
	} {
		h.get(t, path, "ana", want)
	}
	posts := map[string]struct {
		form url.Values
		want int
	}{
		"/ops/callbacks/abc/reprocess":    {nil, http.StatusBadRequest},
		"/ops/callbacks/424242/reprocess": {nil, http.StatusNotFound},
		"/ops/hooks/abc/retry":            {nil, http.StatusBadRequest},
		"/ops/hooks/424242/retry":         {nil, http.StatusNotFound},
		"/ops/payment/refetch":            {url.Values{"provider": {"mem"}}, http.StatusBadRequest},
		"/ops/link/reconcile":             {url.Values{"provider": {"stripe"}, "id": {"1"}}, http.StatusBadRequest},
		"/ops/link/reconcile?x":           {url.Values{"provider": {"mem"}, "id": {"nope"}}, http.StatusNotFound},
	}
	for path, c := range posts {
		if w := h.post(t, path, "ana", c.form); w.Code != c.want {
			t.Errorf("POST %s: %d, want %d\n%s", path, w.Code, c.want, w.Body.String())
		}
	}
	big := url.Values{"csrf": {h.csrf(t, "ana")}, "pad": {strings.Repeat("x", console.MaxFormBytes)}}
	if w := h.post(t, "/ops/hooks/1/retry", "ana", big); w.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("an oversized form: %d, want 413", w.Code)
	}
}

func TestActionsAreDoneAndRecordedWithTheOperator(t *testing.T) {
	h := newHarness(t)
	s := h.scenario(t)
	ctx := t.Context()

	// The callback that arrived before its link: reprocessed, it applies.
	w := h.post(t, "/ops/callbacks/"+itoa(s.flagged.ID)+"/reprocess", "ana", nil)
	if w.Code != http.StatusSeeOther {
		t.Fatalf("reprocess: %d, want 303\n%s", w.Code, w.Body.String())
	}
	page := h.get(t, w.Header().Get("Location"), "ana", http.StatusOK)
	if !strings.Contains(page, "applied, payment SUCCESSFUL") || !regexp.MustCompile(`class="actor">ana<`).MatchString(page) {
		t.Fatalf("the callback page after reprocessing does not show the applied action by ana:\n%s", page)
	}
	if p, err := h.store.GetPayment(ctx, "mem", s.flagged.PaymentID); err != nil || p.Status != provider.PaymentSuccessful {
		t.Fatalf("payment after reprocessing: %+v, %v", p, err)
	}

	// The failed hook run: retried, it succeeds.
	h.fail.Store(false)
	w = h.post(t, "/ops/hooks/"+itoa(s.failed.ID)+"/retry", "budi", nil)
	if w.Code != http.StatusSeeOther {
		t.Fatalf("retry: %d, want 303\n%s", w.Code, w.Body.String())
	}
	h.waitRun(t, s.paid.ID, provider.HookRunSucceeded)

	// Re-fetch and reconcile ask the provider.
	w = h.post(t, "/ops/payment/refetch", "ana", url.Values{"provider": {"mem"}, "id": {s.paid.ID}})
	if w.Code != http.StatusSeeOther || !strings.Contains(w.Header().Get("Location"), "/ops/payment?") {
		t.Fatalf("refetch: %d to %q", w.Code, w.Header().Get("Location"))
	}
	w = h.post(t, "/ops/link/reconcile", "budi", url.Values{"provider": {"mem"}, "id": {s.paidLink.ID}})
	if w.Code != http.StatusSeeOther || !strings.Contains(w.Header().Get("Location"), "/ops/link?") {
		t.Fatalf("reconcile: %d to %q", w.Code, w.Header().Get("Location"))
	}
	// A retry of a run that did not fail is refused (409) and recorded.
	w = h.post(t, "/ops/hooks/"+itoa(s.failed.ID)+"/retry", "ana", nil)
	if w.Code != http.StatusConflict || !strings.Contains(w.Body.String(), "Recorded as action") {
		t.Fatalf("retrying a succeeded run: %d\n%s", w.Code, w.Body.String())
	}

	acts, err := h.store.ListActions(ctx, provider.ActionFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range acts {
		got = append(got, string(a.Kind)+"/"+a.Actor+"/"+map[bool]string{true: "ok", false: "failed"}[a.Succeeded()])
	}
	want := []string{"retry_hook_run/ana/failed", "reconcile_link/budi/ok", "refetch_payment/ana/ok", "retry_hook_run/budi/ok", "reprocess_callback/ana/ok"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("action log: got %v, want %v", got, want)
	}
	log := h.get(t, "/ops/actions?actor=budi", "ana", http.StatusOK)
	if strings.Count(log, `class="actor">budi<`) != 2 || strings.Contains(log, `class="actor">ana<`) {
		t.Errorf("the action log filtered by budi shows other rows:\n%s", log)
	}
}

func TestFormsWithoutTheOperatorsTokenAreRefused(t *testing.T) {
	h := newHarness(t)
	s := h.scenario(t)
	path := "/ops/callbacks/" + itoa(s.flagged.ID) + "/reprocess"
	same := map[string]string{"Sec-Fetch-Site": "same-origin"}
	for name, rq := range map[string]request{
		"no token":          {form: url.Values{}, header: same},
		"a wrong token":     {form: url.Values{"csrf": {"AAAA"}}, header: same},
		"budi's token":      {form: url.Values{"csrf": {h.csrf(t, "budi")}}, header: same},
		"a cross-site form": {form: url.Values{"csrf": {h.csrf(t, "ana")}}, header: map[string]string{"Sec-Fetch-Site": "cross-site"}},
		"another origin":    {form: url.Values{"csrf": {h.csrf(t, "ana")}}, header: map[string]string{"Origin": "https://evil.example"}},
		"an opaque origin":  {form: url.Values{"csrf": {h.csrf(t, "ana")}}, header: map[string]string{"Origin": "null"}},
	} {
		rq.method, rq.path, rq.user = http.MethodPost, path, "ana"
		if w := h.do(t, rq); w.Code != http.StatusForbidden {
			t.Errorf("%s: %d, want 403", name, w.Code)
		}
	}
	if acts, _ := h.store.ListActions(t.Context(), provider.ActionFilter{}); len(acts) != 0 {
		t.Fatalf("refused forms recorded %+v", acts)
	}
	if p, err := h.store.GetPayment(t.Context(), "mem", s.flagged.PaymentID); err == nil {
		t.Fatalf("a refused form reprocessed the callback: %+v", p)
	}
}

func TestAnActionWithoutAnOperatorIsRefused(t *testing.T) {
	gin.SetMode(gin.TestMode)
	store := providertest.NewMemStore()
	svc, err := provider.NewService(store, provider.ServiceOptions{Providers: []provider.Provider{providertest.NewMemProvider("mem", "t")}})
	if err != nil {
		t.Fatal(err)
	}
	r := gin.New()
	// An Authorize that lets everyone in names nobody.
	if err := console.Mount(r, svc, console.Options{Authorize: func(*gin.Context) {}}); err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	r.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/hooks", nil))
	if w.Code != http.StatusOK || strings.Contains(w.Body.String(), `name="csrf"`) || !strings.Contains(w.Body.String(), "actions disabled") {
		t.Fatalf("a page without an operator: %d, forms shown or no notice", w.Code)
	}
	w = httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodPost, "/hooks/1/retry", strings.NewReader("csrf=x"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.ServeHTTP(w, req)
	if w.Code != http.StatusForbidden {
		t.Fatalf("an action without an operator: %d, want 403", w.Code)
	}
	if acts, _ := store.ListActions(t.Context(), provider.ActionFilter{}); len(acts) != 0 {
		t.Fatalf("recorded %+v", acts)
	}
}

func TestCallbackBodiesAreRedacted(t *testing.T) {
	h := newHarness(t)
	for _, c := range []struct {
		provider, body string
	}{
		{"mem", `{"id":"R1","link_id":"L1","status":"SUCCESSFUL","signature_key":"s3cret-sig"}`},
		// A provider that is not configured: the generic redaction.
		{"gone", "data=%7B%22id%22%3A%22R2%22%7D&token=s3cret-token&x=1"},
	} {
		rec := provider.CallbackRecord{Provider: c.provider, PaymentID: "R", LinkID: "L", Status: provider.PaymentSuccessful,
			Body: []byte(c.body), Verdict: provider.VerdictUnknownLink, ReceivedAt: time.Now()}
		if err := h.store.Apply(t.Context(), &provider.ApplyWrite{Callback: &rec}); err != nil {
			t.Fatal(err)
		}
		page := h.get(t, "/ops/callbacks/"+itoa(rec.ID), "ana", http.StatusOK)
		if strings.Contains(page, "s3cret") || !strings.Contains(page, "[redacted]") && !strings.Contains(page, "%5Bredacted%5D") {
			t.Errorf("%s callback page shows a secret or no redaction marker:\n%s", c.provider, page)
		}
		if !strings.Contains(page, "R1") && !strings.Contains(page, "R2") {
			t.Errorf("%s callback page lost the body", c.provider)
		}
	}
}

func TestInboxPagesNewestFirst(t *testing.T) {
	h := newHarness(t)
	at := time.Now()
	for i := range 5 {
		rec := provider.CallbackRecord{Provider: "mem", PaymentID: "P" + itoa(int64(i)), LinkID: "L", Status: provider.PaymentSuccessful,
			Verdict: provider.VerdictApplied, ReceivedAt: at.Add(time.Duration(i) * time.Second)}
		if err := h.store.Apply(t.Context(), &provider.ApplyWrite{Callback: &rec}); err != nil {
			t.Fatal(err)
		}
	}
	row := regexp.MustCompile(`data-callback="(\d+)"`)
	next := regexp.MustCompile(`id="next" href="([^"]+)"`)
	var seen []string
	path := "/ops/?verdict=applied&limit=2"
	for range 4 {
		page := h.get(t, strings.ReplaceAll(path, "&amp;", "&"), "ana", http.StatusOK)
		for _, m := range row.FindAllStringSubmatch(page, -1) {
			seen = append(seen, m[1])
		}
		m := next.FindStringSubmatch(page)
		if m == nil {
			break
		}
		path = m[1]
	}
	if got := strings.Join(seen, ","); got != "5,4,3,2,1" {
		t.Fatalf("pages of 2 listed callbacks %s, want 5,4,3,2,1", got)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// A payment some of which went back to the customer shows how much, and
// its history shows the amount returned at each step.
func TestThePaymentPageShowsWhatWasReturned(t *testing.T) {
	h := newHarness(t)
	s := h.scenario(t)
	ctx := t.Context()
	if _, err := h.svc.Refund(ctx, "mem", s.paid.ID, provider.RefundParams{Amount: provider.Rupiah(12000)}); err != nil {
		t.Fatalf("Refund: %v", err)
	}
	body := h.get(t, "/ops/payment?provider=mem&id="+s.paid.ID, "ana", http.StatusOK)
	for _, want := range []string{`id="status">PARTIALLY_REFUNDED`, `id="refunded">IDR 12000`, "<td>SUCCESSFUL</td><td>PARTIALLY_REFUNDED</td><td>12000</td>"} {
		if !strings.Contains(body, want) {
			t.Errorf("the payment page lacks %q:\n%s", want, body)
		}
	}
}

// The inbox keeps a flagged callback as it was received; once an operator
// reprocessed it, its row says what became of it, and who did it.
func TestTheInboxShowsWhatBecameOfAReprocessedCallback(t *testing.T) {
	h := newHarness(t)
	s := h.scenario(t)
	row := func() string {
		t.Helper()
		page := h.get(t, "/ops/?flagged=1", "ana", http.StatusOK)
		m := regexp.MustCompile(`(?s)data-callback="` + itoa(s.flagged.ID) + `">.*?</tr>`).FindString(page)
		if m == "" {
			t.Fatalf("the flagged inbox has no row for callback %d:\n%s", s.flagged.ID, page)
		}
		return m
	}
	if r := row(); strings.Contains(r, "by ") {
		t.Fatalf("before any action the row says it was reprocessed:\n%s", r)
	}
	if w := h.post(t, "/ops/callbacks/"+itoa(s.flagged.ID)+"/reprocess", "budi", nil); w.Code != http.StatusSeeOther {
		t.Fatalf("reprocess: %d\n%s", w.Code, w.Body.String())
	}
	if r := row(); !strings.Contains(r, `<span class="ok">applied, payment SUCCESSFUL</span>`) || !strings.Contains(r, "by budi") {
		t.Fatalf("after reprocessing, the row does not show the outcome and the operator:\n%s", r)
	}
}

// TestFormTokensAreBoundToOperatorActionTargetHostAndTime: a form's token
// is good for one operator's one action on one target, under the host the
// page was served on, until it expires; nothing else.
func TestFormTokensAreBoundToOperatorActionTargetHostAndTime(t *testing.T) {
	h := newHarness(t)
	s := h.scenario(t)
	flagged := itoa(s.flagged.ID)
	reprocess := "/ops/callbacks/" + flagged + "/reprocess"
	page := h.get(t, "/ops/callbacks/"+flagged, "ana", http.StatusOK)
	m := csrfField.FindStringSubmatch(page)
	if m == nil {
		t.Fatal("no form token on the callback page")
	}
	anas := m[1] // ana's token to reprocess the flagged callback
	same := map[string]string{"Sec-Fetch-Site": "same-origin"}
	expires := h.now.Load().Add(console.DefaultTokenLifetime)
	refused := map[string]request{
		"for another target": {path: "/ops/callbacks/" + itoa(s.flagged.ID+1) + "/reprocess", user: "ana", form: url.Values{"csrf": {anas}}, header: same},
		"for another action": {path: "/ops/hooks/" + flagged + "/retry", user: "ana", form: url.Values{"csrf": {anas}}, header: same},
		"for another action on a payment": {path: "/ops/payment/refetch", user: "ana",
			form: url.Values{"csrf": {anas}, "provider": {"mem"}, "id": {s.paid.ID}}, header: same},
		"from another operator": {path: reprocess, user: "budi", form: url.Values{"csrf": {anas}}, header: same},
		"under another host name (DNS rebinding: Host and Origin both evil.example)": {path: reprocess, user: "ana",
			form: url.Values{"csrf": {anas}}, header: map[string]string{"Host": "evil.example", "Origin": "http://evil.example", "Sec-Fetch-Site": "same-origin"}},
		"under another host name, from an older browser (no Sec-Fetch-Site)": {path: reprocess, user: "ana",
			form: url.Values{"csrf": {anas}}, header: map[string]string{"Host": "evil.example", "Origin": "https://evil.example"}},
		"with a lifetime longer than allowed": {path: reprocess, user: "ana",
			form: url.Values{"csrf": {console.FormToken(csrfKey, "ana", "reprocess", flagged, "example.com", expires.Add(24*time.Hour))}}, header: same},
		"with its expiry changed": {path: reprocess, user: "ana",
			form: url.Values{"csrf": {"9" + anas}}, header: same},
	}
	for name, rq := range refused {
		rq.method = http.MethodPost
		if host := rq.header["Host"]; host != "" {
			rq.host = host
		}
		if w := h.do(t, rq); w.Code != http.StatusForbidden {
			t.Errorf("a token %s: %d, want 403", name, w.Code)
		}
	}
	h.advance(console.DefaultTokenLifetime + time.Second)
	if w := h.do(t, request{method: http.MethodPost, path: reprocess, user: "ana", form: url.Values{"csrf": {anas}}, header: same}); w.Code != http.StatusForbidden {
		t.Errorf("an expired token: %d, want 403", w.Code)
	}
	if acts, _ := h.store.ListActions(t.Context(), provider.ActionFilter{}); len(acts) != 0 {
		t.Fatalf("refused forms recorded %+v", acts)
	}
	// A fresh page's token does it.
	m = csrfField.FindStringSubmatch(h.get(t, "/ops/callbacks/"+flagged, "ana", http.StatusOK))
	if w := h.do(t, request{method: http.MethodPost, path: reprocess, user: "ana", form: url.Values{"csrf": {m[1]}}, header: same}); w.Code != http.StatusSeeOther {
		t.Errorf("the page's own token: %d, want 303\n%s", w.Code, w.Body)
	}
}

// TestHookErrorsAreRedacted: a hook's error is shown to operators with
// secret-looking values hidden, by the rules callback bodies are redacted by.
func TestHookErrorsAreRedacted(t *testing.T) {
	h := newHarness(t)
	msg := `receipt API answered 400 for POST https://mail.example/send?token=xyz789: {"order_id":"o-1","signature_key":"abc123"}`
	h.failWith.Store(&msg)
	s := h.scenario(t)
	if !strings.Contains(s.failed.LastError, "abc123") {
		t.Fatalf("the stored error %q does not hold the secret; the test proves nothing", s.failed.LastError)
	}
	for _, path := range []string{"/ops/hooks", "/ops/payment?provider=mem&id=" + url.QueryEscape(s.paid.ID)} {
		page := h.get(t, path, "ana", http.StatusOK)
		for _, secret := range []string{"abc123", "xyz789"} {
			if strings.Contains(page, secret) {
				t.Errorf("%s shows %q", path, secret)
			}
		}
		if !strings.Contains(page, "receipt API answered 400") || !strings.Contains(page, provider.Redacted) {
			t.Errorf("%s does not show the redacted error", path)
		}
	}
	// A failed retry shows the error in the action log, redacted too.
	if w := h.post(t, "/ops/hooks/"+itoa(s.failed.ID)+"/retry", "ana", nil); w.Code >= 500 {
		t.Fatalf("retry: %d", w.Code)
	}
	h.waitRun(t, s.paid.ID, provider.HookRunFailed)
	for _, path := range []string{"/ops/actions", "/ops/hooks"} {
		if page := h.get(t, path, "ana", http.StatusOK); strings.Contains(page, "abc123") || strings.Contains(page, "xyz789") {
			t.Errorf("%s shows a secret after the retry", path)
		}
	}
}
