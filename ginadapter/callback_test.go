package ginadapter_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/paylinkgo/paylink/ginadapter"
	"github.com/paylinkgo/paylink/provider"
	"github.com/paylinkgo/paylink/provider/providertest"
)

const cbPath = "/flip/callback"

// TestCallbackAnswers specifies every answer of the callback route and
// what is stored with it.
func TestCallbackAnswers(t *testing.T) {
	t.Parallel()
	type setup struct {
		store provider.Store // nil: a fresh MemStore
		cfg   ginadapter.Config
	}
	tests := []struct {
		name  string
		setup setup
		// request builds the request to send, after any earlier ones
		// (sent first, each must be answered 200).
		request func(a *app, l *provider.Link) (earlier []*http.Request, req *http.Request)
		status  int
		verdict provider.Verdict // for 200 answers
		errName string           // for refusals
		stored  int              // callbacks recorded afterwards
		paid    bool             // the link's payment is stored SUCCESSFUL
	}{
		{
			name: "a verified SUCCESSFUL callback is applied",
			request: func(a *app, l *provider.Link) ([]*http.Request, *http.Request) {
				return nil, a.callback(cbPath, testToken, a.settle(l.ID, provider.PaymentSuccessful))
			},
			status: 200, verdict: provider.VerdictApplied, stored: 1, paid: true,
		},
		{
			name: "a repeated callback is a duplicate, still 200",
			request: func(a *app, l *provider.Link) ([]*http.Request, *http.Request) {
				p := a.settle(l.ID, provider.PaymentSuccessful)
				return []*http.Request{a.callback(cbPath, testToken, p)}, a.callback(cbPath, testToken, p)
			},
			status: 200, verdict: provider.VerdictDuplicate, stored: 2, paid: true,
		},
		{
			name: "a late CANCELLED after SUCCESSFUL the provider does not show changes nothing: the provider's SUCCESSFUL is a duplicate, 200",
			request: func(a *app, l *provider.Link) ([]*http.Request, *http.Request) {
				p := a.settle(l.ID, provider.PaymentSuccessful)
				late := p
				late.Status, late.RawStatus = provider.PaymentCancelled, "CANCELLED"
				return []*http.Request{a.callback(cbPath, testToken, p)}, a.callback(cbPath, testToken, late)
			},
			status: 200, verdict: provider.VerdictDuplicate, stored: 2, paid: true,
		},
		{
			name: "a callback for an unknown link is flagged, still 200",
			request: func(a *app, l *provider.Link) ([]*http.Request, *http.Request) {
				return nil, a.callback(cbPath, testToken, provider.Payment{ID: "X1", LinkID: "999", Status: provider.PaymentSuccessful, Amount: provider.Rupiah(10000)})
			},
			status: 200, verdict: provider.VerdictUnknownLink, stored: 1,
		},
		{
			name: "a wrong token is 401 and stores nothing",
			request: func(a *app, l *provider.Link) ([]*http.Request, *http.Request) {
				return nil, a.callback(cbPath, "not-the-token", a.settle(l.ID, provider.PaymentSuccessful))
			},
			status: 401, errName: "unauthenticated",
		},
		{
			name: "a missing token is 401 and stores nothing",
			request: func(a *app, l *provider.Link) ([]*http.Request, *http.Request) {
				return nil, a.callback(cbPath, "", a.settle(l.ID, provider.PaymentSuccessful))
			},
			status: 401, errName: "unauthenticated",
		},
		{
			name: "a malformed body is 400",
			request: func(a *app, l *provider.Link) ([]*http.Request, *http.Request) {
				req := a.callback(cbPath, testToken, a.settle(l.ID, provider.PaymentSuccessful))
				req.Body = io.NopCloser(strings.NewReader(`{"id": "MEM2", "status":`))
				req.ContentLength = -1
				return nil, req
			},
			status: 400, errName: "invalid argument",
		},
		{
			name:  "a body over MaxBodyBytes is 413 (Content-Length known)",
			setup: setup{cfg: ginadapter.Config{MaxBodyBytes: 512}},
			request: func(a *app, l *provider.Link) ([]*http.Request, *http.Request) {
				p := a.settle(l.ID, provider.PaymentSuccessful)
				p.Sender.Address = strings.Repeat("x", 1024)
				return nil, a.callback(cbPath, testToken, p)
			},
			status: 413, errName: "too large",
		},
		{
			name:  "a body over MaxBodyBytes is 413 (chunked, no Content-Length)",
			setup: setup{cfg: ginadapter.Config{MaxBodyBytes: 512}},
			request: func(a *app, l *provider.Link) ([]*http.Request, *http.Request) {
				p := a.settle(l.ID, provider.PaymentSuccessful)
				p.Sender.Address = strings.Repeat("x", 1024)
				req := a.callback(cbPath, testToken, p)
				req.ContentLength = -1
				return nil, req
			},
			status: 413, errName: "too large",
		},
		{
			name: "a wrong content type is 415",
			request: func(a *app, l *provider.Link) ([]*http.Request, *http.Request) {
				req := a.callback(cbPath, testToken, a.settle(l.ID, provider.PaymentSuccessful))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				return nil, req
			},
			status: 415, errName: "unsupported media type",
		},
		{
			name: "a missing content type is 415",
			request: func(a *app, l *provider.Link) ([]*http.Request, *http.Request) {
				req := a.callback(cbPath, testToken, a.settle(l.ID, provider.PaymentSuccessful))
				req.Header.Del("Content-Type")
				return nil, req
			},
			status: 415, errName: "unsupported media type",
		},
		{
			name:  "a client outside AllowedNetworks is 403",
			setup: setup{cfg: ginadapter.Config{AllowedNetworks: []netip.Prefix{netip.MustParsePrefix("149.129.234.86/32"), netip.MustParsePrefix("34.101.0.0/16")}}},
			request: func(a *app, l *provider.Link) ([]*http.Request, *http.Request) {
				req := a.callback(cbPath, testToken, a.settle(l.ID, provider.PaymentSuccessful))
				req.RemoteAddr = "203.0.113.7:5555"
				return nil, req
			},
			status: 403, errName: "permission denied",
		},
		{
			name:  "a client inside AllowedNetworks is served",
			setup: setup{cfg: ginadapter.Config{AllowedNetworks: []netip.Prefix{netip.MustParsePrefix("149.129.234.86/32"), netip.MustParsePrefix("34.101.0.0/16")}}},
			request: func(a *app, l *provider.Link) ([]*http.Request, *http.Request) {
				req := a.callback(cbPath, testToken, a.settle(l.ID, provider.PaymentSuccessful))
				req.RemoteAddr = "34.101.204.31:5555"
				return nil, req
			},
			status: 200, verdict: provider.VerdictApplied, stored: 1, paid: true,
		},
		{
			name:  "an IPv4-mapped IPv6 client inside AllowedNetworks is served",
			setup: setup{cfg: ginadapter.Config{AllowedNetworks: []netip.Prefix{netip.MustParsePrefix("34.101.0.0/16")}}},
			request: func(a *app, l *provider.Link) ([]*http.Request, *http.Request) {
				req := a.callback(cbPath, testToken, a.settle(l.ID, provider.PaymentSuccessful))
				req.RemoteAddr = "[::ffff:34.101.204.31]:5555"
				return nil, req
			},
			status: 200, verdict: provider.VerdictApplied, stored: 1, paid: true,
		},
		{
			name:  "a database that is unavailable is 503 so the provider retries",
			setup: setup{store: failingStore{providertest.NewMemStore(), provider.Errorf(provider.CodeUnavailable, "test", "database down")}},
			request: func(a *app, l *provider.Link) ([]*http.Request, *http.Request) {
				return nil, a.callback(cbPath, testToken, provider.Payment{ID: "P1", LinkID: "1", Status: provider.PaymentSuccessful, Amount: provider.Rupiah(10000)})
			},
			status: 503, errName: "unavailable",
		},
		{
			name:  "a deadline in the database is 503",
			setup: setup{store: failingStore{providertest.NewMemStore(), context.DeadlineExceeded}},
			request: func(a *app, l *provider.Link) ([]*http.Request, *http.Request) {
				return nil, a.callback(cbPath, testToken, provider.Payment{ID: "P1", LinkID: "1", Status: provider.PaymentSuccessful, Amount: provider.Rupiah(10000)})
			},
			status: 503, errName: "unavailable",
		},
		{
			name:  "a canceled request is 503",
			setup: setup{store: failingStore{providertest.NewMemStore(), context.Canceled}},
			request: func(a *app, l *provider.Link) ([]*http.Request, *http.Request) {
				return nil, a.callback(cbPath, testToken, provider.Payment{ID: "P1", LinkID: "1", Status: provider.PaymentSuccessful, Amount: provider.Rupiah(10000)})
			},
			status: 503, errName: "unavailable",
		},
		{
			name:  "any other database failure is 503 too (never 500: the provider retries a 503 longest)",
			setup: setup{store: failingStore{providertest.NewMemStore(), errors.New("disk on fire")}},
			request: func(a *app, l *provider.Link) ([]*http.Request, *http.Request) {
				return nil, a.callback(cbPath, testToken, provider.Payment{ID: "P1", LinkID: "1", Status: provider.PaymentSuccessful, Amount: provider.Rupiah(10000)})
			},
			status: 503, errName: "unavailable",
		},
		{
			name:  "a custom CallbackPath is served",
			setup: setup{cfg: ginadapter.Config{CallbackPath: "/hooks/payments"}},
			request: func(a *app, l *provider.Link) ([]*http.Request, *http.Request) {
				return nil, a.callback("/hooks/payments", testToken, a.settle(l.ID, provider.PaymentSuccessful))
			},
			status: 200, verdict: provider.VerdictApplied, stored: 1, paid: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := newApp(t, tt.setup.store, tt.setup.cfg)
			var l *provider.Link
			if _, failing := a.store.(failingStore); !failing {
				l = a.link(10000)
			}
			earlier, req := tt.request(a, l)
			for _, e := range earlier {
				if rec := a.do(e); rec.Code != 200 {
					t.Fatalf("earlier callback: %d %s", rec.Code, rec.Body)
				}
			}
			rec := a.do(req)
			if rec.Code != tt.status {
				t.Fatalf("status = %d, want %d; body %s", rec.Code, tt.status, rec.Body)
			}
			ans := decode[ginadapter.CallbackAnswer](t, rec)
			want := ginadapter.CallbackAnswer{OK: tt.status == 200, Verdict: tt.verdict, Error: tt.errName}
			if ans != want {
				t.Errorf("answer = %+v, want %+v", ans, want)
			}
			if _, failing := a.store.(failingStore); failing {
				return
			}
			if got := len(a.callbacks()); got != tt.stored {
				t.Errorf("callbacks stored = %d, want %d", got, tt.stored)
			}
			pays := a.payments(l.ID)
			paid := len(pays) == 1 && pays[0].Status == provider.PaymentSuccessful
			if paid != tt.paid {
				t.Errorf("paid = %v, want %v (payments %+v)", paid, tt.paid, pays)
			}
			if !tt.paid && tt.status != 200 && len(pays) != 0 {
				t.Errorf("a refused callback stored payments: %+v", pays)
			}
		})
	}
}

// TestCallbackLaterHandlers: handlers after the callback handler see the
// verified event, the outcome and the identical raw body, and may answer
// themselves.
func TestCallbackLaterHandlers(t *testing.T) {
	t.Parallel()
	type seen struct {
		event   *provider.Event
		outcome provider.Outcome
		body    []byte
		ok      bool
	}
	var got seen
	record := func(c *gin.Context) {
		ev, ok1 := ginadapter.EventFrom(c)
		out, ok2 := ginadapter.OutcomeFrom(c)
		body, err := io.ReadAll(c.Request.Body)
		if err != nil {
			t.Error(err)
		}
		got = seen{event: ev, outcome: out, body: body, ok: ok1 && ok2}
	}
	a := newApp(t, nil, ginadapter.Config{CallbackHandlers: []gin.HandlerFunc{record}})
	l := a.link(25000)
	p := a.settle(l.ID, provider.PaymentSuccessful)
	req := a.callback(cbPath, testToken, p)
	sent, err := io.ReadAll(req.Body)
	if err != nil {
		t.Fatal(err)
	}
	req.Body = io.NopCloser(bytes.NewReader(sent))

	rec := a.do(req)
	if rec.Code != 200 {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	if !got.ok {
		t.Fatal("EventFrom/OutcomeFrom reported no event in a later handler")
	}
	if !bytes.Equal(got.body, sent) {
		t.Errorf("later handler read %q, want the raw body %q", got.body, sent)
	}
	if !bytes.Equal(got.event.Raw, sent) {
		t.Errorf("event.Raw = %q, want the raw body", got.event.Raw)
	}
	if got.event.Payment.ID != p.ID || got.event.Payment.Status != provider.PaymentSuccessful {
		t.Errorf("event payment = %+v, want %s SUCCESSFUL", got.event.Payment, p.ID)
	}
	if got.outcome.Verdict != provider.VerdictApplied || got.outcome.Payment == nil || got.outcome.Payment.ID != p.ID {
		t.Errorf("outcome = %+v, want applied for %s", got.outcome, p.ID)
	}

	t.Run("a later handler's own answer replaces the default", func(t *testing.T) {
		t.Parallel()
		custom := func(c *gin.Context) { c.String(http.StatusOK, "thanks") }
		a := newApp(t, nil, ginadapter.Config{CallbackHandlers: []gin.HandlerFunc{custom}})
		l := a.link(25000)
		rec := a.do(a.callback(cbPath, testToken, a.settle(l.ID, provider.PaymentSuccessful)))
		if rec.Code != 200 || rec.Body.String() != "thanks" {
			t.Errorf("answer = %d %q, want 200 \"thanks\"", rec.Code, rec.Body)
		}
	})

	t.Run("later handlers do not run for a refused callback", func(t *testing.T) {
		t.Parallel()
		ran := false
		a := newApp(t, nil, ginadapter.Config{CallbackHandlers: []gin.HandlerFunc{func(*gin.Context) { ran = true }}})
		l := a.link(25000)
		rec := a.do(a.callback(cbPath, "wrong", a.settle(l.ID, provider.PaymentSuccessful)))
		if rec.Code != 401 || ran {
			t.Errorf("status %d, later handler ran = %v; want 401 and not run", rec.Code, ran)
		}
	})

	t.Run("outside the callback route there is no event", func(t *testing.T) {
		t.Parallel()
		c, _ := gin.CreateTestContext(httptest.NewRecorder())
		if _, ok := ginadapter.EventFrom(c); ok {
			t.Error("EventFrom reported an event")
		}
		if _, ok := ginadapter.OutcomeFrom(c); ok {
			t.Error("OutcomeFrom reported an outcome")
		}
	})
}

// formProvider is a MemProvider whose callbacks are forms (data=<json
// payment>&token=...), like Flip's. With parseForm it parses them with
// r.ParseForm (filling r.PostForm), otherwise from the raw bytes.
type formProvider struct {
	*providertest.MemProvider
	parseForm bool
}

func (formProvider) CallbackMediaType() string { return "application/x-www-form-urlencoded" }

func (p formProvider) ParseCallback(ctx context.Context, r *http.Request) (*provider.Event, error) {
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, err
	}
	form, err := url.ParseQuery(string(raw))
	if p.parseForm {
		r.Body = io.NopCloser(bytes.NewReader(raw))
		err = r.ParseForm()
		form = r.PostForm
	}
	if err != nil {
		return nil, provider.Errorf(provider.CodeInvalidArgument, "form.ParseCallback", "bad form")
	}
	if form.Get("token") != testToken {
		return nil, provider.Errorf(provider.CodeUnauthenticated, "form.ParseCallback", "wrong token")
	}
	var pay provider.Payment
	if err := json.Unmarshal([]byte(form.Get("data")), &pay); err != nil {
		return nil, provider.Errorf(provider.CodeInvalidArgument, "form.ParseCallback", "bad data")
	}
	pay.Provider = p.Name()
	return &provider.Event{Provider: p.Name(), Payment: pay, Source: provider.SourceCallback, Raw: raw}, nil
}

// TestCallbackFormBodyReadableLater: with a form-encoded callback (Flip's
// format) a later handler reads the raw bytes AND the form, in either order.
func TestCallbackFormBodyReadableLater(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ formFirst, providerParsesForm bool }{{true, true}, {true, false}, {false, true}, {false, false}} {
		formFirst := tc.formFirst
		var body []byte
		var data, token string
		read := func(c *gin.Context) {
			if formFirst {
				data, token = c.PostForm("data"), c.PostForm("token")
			}
			body, _ = io.ReadAll(c.Request.Body)
			if !formFirst {
				data, token = c.PostForm("data"), c.PostForm("token")
			}
		}
		a := newApp(t, nil, ginadapter.Config{CallbackHandlers: []gin.HandlerFunc{read}},
			func(m *providertest.MemProvider) provider.Provider { return formProvider{m, tc.providerParsesForm} })
		l := a.link(30000)
		p := a.settle(l.ID, provider.PaymentSuccessful)
		js, _ := json.Marshal(p)
		sent := "data=" + url.QueryEscape(string(js)) + "&token=" + testToken
		req := httptest.NewRequest(http.MethodPost, cbPath, strings.NewReader(sent))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := a.do(req)
		if rec.Code != 200 {
			t.Fatalf("%+v: status %d %s", tc, rec.Code, rec.Body)
		}
		if string(body) != sent {
			t.Errorf("%+v: raw body %q, want %q", tc, body, sent)
		}
		if data != string(js) || token != testToken {
			t.Errorf("%+v: form data=%q token=%q, want the posted values", tc, data, token)
		}
	}
}

// TestConcurrentDuplicateCallbacks: the same callback delivered many times
// at once gives one payment, one applied verdict and one hook run.
func TestConcurrentDuplicateCallbacks(t *testing.T) {
	t.Parallel()
	a := newApp(t, nil, ginadapter.Config{})
	err := a.svc.On("receipt", provider.When(provider.PaymentSuccessful), func(context.Context, *provider.HookEvent) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	l := a.link(45000)
	p := a.settle(l.ID, provider.PaymentSuccessful)

	const n = 12
	verdicts := make(chan provider.Verdict, n)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			rec := a.do(a.callback(cbPath, testToken, p))
			if rec.Code != 200 {
				t.Errorf("status %d: %s", rec.Code, rec.Body)
				return
			}
			var ans ginadapter.CallbackAnswer
			if err := json.Unmarshal(rec.Body.Bytes(), &ans); err != nil {
				t.Error(err)
			}
			verdicts <- ans.Verdict
		})
	}
	wg.Wait()
	close(verdicts)
	count := map[provider.Verdict]int{}
	for v := range verdicts {
		count[v]++
	}
	if count[provider.VerdictApplied] != 1 || count[provider.VerdictDuplicate] != n-1 {
		t.Errorf("verdicts = %v, want 1 applied and %d duplicates", count, n-1)
	}
	if pays := a.payments(l.ID); len(pays) != 1 {
		t.Errorf("payments = %d, want 1", len(pays))
	}
	runs, err := a.svc.Store().(provider.Reader).ListHookRuns(context.Background(), provider.HookRunFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 1 {
		t.Errorf("hook runs = %d, want 1", len(runs))
	}
	if got := len(a.callbacks()); got != n {
		t.Errorf("callbacks recorded = %d, want every one of %d", got, n)
	}
}

// TestCallbackNeverLogsSecrets: refusals and successes are logged without
// the token or the body.
func TestCallbackNeverLogsSecrets(t *testing.T) {
	t.Parallel()
	a := newApp(t, nil, ginadapter.Config{})
	l := a.link(10000)
	p := a.settle(l.ID, provider.PaymentSuccessful)
	p.Sender.Name = "Body Marker Zq7"
	const wrong = "wrong-token-k2x8"
	for _, tok := range []string{wrong, testToken} {
		a.do(a.callback(cbPath, tok, p))
	}
	logs := a.logs.String()
	if !strings.Contains(logs, "callback refused") {
		t.Fatalf("the refusal was not logged:\n%s", logs)
	}
	for _, secret := range []string{testToken, wrong, "Body Marker Zq7"} {
		if strings.Contains(logs, secret) {
			t.Errorf("logs contain %q:\n%s", secret, logs)
		}
	}
}

func TestMountRefusesWithoutToken(t *testing.T) {
	t.Parallel()
	mem := providertest.NewMemProvider("mem", "")
	svc, err := provider.NewService(providertest.NewMemStore(), provider.ServiceOptions{Providers: []provider.Provider{mem}})
	if err != nil {
		t.Fatal(err)
	}
	r := gin.New()
	err = ginadapter.Mount(r, svc, ginadapter.Config{APIPrefix: "/paylink", APIAuth: trustedCaller})
	if !errors.Is(err, provider.CodeFailedPrecondition) {
		t.Errorf("Mount error = %v, want CodeFailedPrecondition", err)
	}
	if routes := r.Routes(); len(routes) != 0 {
		t.Errorf("Mount registered routes without a token: %v", routes)
	}
	h, err := ginadapter.CallbackHandler(svc, ginadapter.Config{})
	if h != nil || !errors.Is(err, provider.CodeFailedPrecondition) {
		t.Errorf("CallbackHandler = %v, %v; want nil and CodeFailedPrecondition", h != nil, err)
	}
}

func TestMountErrors(t *testing.T) {
	t.Parallel()
	svc, err := provider.NewService(providertest.NewMemStore(), provider.ServiceOptions{Providers: []provider.Provider{
		providertest.NewMemProvider("a", testToken), providertest.NewMemProvider("b", testToken),
	}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		router gin.IRouter
		svc    *provider.Service
		cfg    ginadapter.Config
		code   provider.ErrorCode
	}{
		{"nil router", nil, svc, ginadapter.Config{Provider: "a"}, provider.CodeInvalidArgument},
		{"nil service", gin.New(), nil, ginadapter.Config{}, provider.CodeInvalidArgument},
		{"ambiguous provider", gin.New(), svc, ginadapter.Config{}, provider.CodeInvalidArgument},
		{"unknown provider", gin.New(), svc, ginadapter.Config{Provider: "c"}, provider.CodeNotFound},
		{"invalid config", gin.New(), svc, ginadapter.Config{Provider: "a", CallbackPath: "callback"}, provider.CodeInvalidArgument},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := ginadapter.Mount(tt.router, tt.svc, tt.cfg)
			if !errors.Is(err, tt.code) {
				t.Errorf("Mount error = %v, want %v", err, tt.code)
			}
		})
	}
}

// TestCallbackHandlerMountedByHand: the handler works on a route of the
// app's choosing, behind the app's own middleware.
func TestCallbackHandlerMountedByHand(t *testing.T) {
	t.Parallel()
	mem := providertest.NewMemProvider("mem", testToken)
	store := providertest.NewMemStore()
	svc, err := provider.NewService(store, provider.ServiceOptions{Providers: []provider.Provider{mem}})
	if err != nil {
		t.Fatal(err)
	}
	h, err := ginadapter.CallbackHandler(svc, ginadapter.Config{})
	if err != nil {
		t.Fatal(err)
	}
	var before, after bool
	r := gin.New()
	r.POST("/payments/mem", func(c *gin.Context) { before = true }, h, func(c *gin.Context) {
		_, after = ginadapter.EventFrom(c)
	})
	l, err := svc.CreateLink(context.Background(), "", provider.CreateLinkParams{Title: "t", Amount: provider.Rupiah(10000)})
	if err != nil {
		t.Fatal(err)
	}
	p, err := mem.Settle(l.ID, provider.PaymentSuccessful, 0)
	if err != nil {
		t.Fatal(err)
	}
	req, err := providertest.NewCallbackRequest(context.Background(), "/payments/mem", testToken, p)
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, req)
	if rec.Code != 200 || !before || !after {
		t.Errorf("status %d, middleware before ran %v, handler after saw the event %v", rec.Code, before, after)
	}
}
