package ginadapter_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/paylinkgo/paylink/ginadapter"
	"github.com/paylinkgo/paylink/provider"
	"github.com/paylinkgo/paylink/provider/providertest"
)

const testToken = "cb-token-3f9a1c"

func TestMain(m *testing.M) {
	gin.SetMode(gin.TestMode)
	os.Exit(m.Run())
}

// syncBuffer is a bytes.Buffer safe for concurrent log writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// app is a gin engine with paylink mounted over an in-memory provider.
type app struct {
	t     *testing.T
	mem   *providertest.MemProvider
	store provider.Store
	svc   *provider.Service
	r     *gin.Engine
	logs  *syncBuffer
}

// newApp mounts cfg over a MemProvider named "mem" (token testToken) and
// store (a fresh MemStore when nil), using p instead of the MemProvider
// when given.
func newApp(t *testing.T, store provider.Store, cfg ginadapter.Config, wrap ...func(*providertest.MemProvider) provider.Provider) *app {
	t.Helper()
	a := &app{t: t, mem: providertest.NewMemProvider("mem", testToken), store: store, r: gin.New(), logs: &syncBuffer{}}
	if a.store == nil {
		a.store = providertest.NewMemStore()
	}
	var p provider.Provider = a.mem
	for _, w := range wrap {
		p = w(a.mem)
	}
	svc, err := provider.NewService(a.store, provider.ServiceOptions{Providers: []provider.Provider{p}})
	if err != nil {
		t.Fatal(err)
	}
	a.svc = svc
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(a.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	if err := ginadapter.Mount(a.r, svc, cfg); err != nil {
		t.Fatalf("Mount: %v", err)
	}
	return a
}

// trustedCaller is the APIAuth of tests whose requests all come from the
// app's own staff: it lets every request through.
func trustedCaller(*gin.Context) {}

// do serves req and returns the recorded answer.
func (a *app) do(req *http.Request) *httptest.ResponseRecorder {
	a.t.Helper()
	if req.RemoteAddr == "" {
		req.RemoteAddr = "192.0.2.10:40000"
	}
	rec := httptest.NewRecorder()
	a.r.ServeHTTP(rec, req)
	return rec
}

// link creates a link through the service (not the JSON routes).
func (a *app) link(amount int64) *provider.Link {
	a.t.Helper()
	l, err := a.svc.CreateLink(context.Background(), "", provider.CreateLinkParams{Title: "Order 1", Amount: provider.Rupiah(amount)})
	if err != nil {
		a.t.Fatal(err)
	}
	return l
}

// settle makes the provider report status for the link's payment.
func (a *app) settle(linkID string, status provider.PaymentStatus) provider.Payment {
	a.t.Helper()
	p, err := a.mem.Settle(linkID, status, 0)
	if err != nil {
		a.t.Fatal(err)
	}
	return p
}

// callback builds the MemProvider callback for p, signed with token.
func (a *app) callback(path, token string, p provider.Payment) *http.Request {
	a.t.Helper()
	req, err := providertest.NewCallbackRequest(context.Background(), path, token, p)
	if err != nil {
		a.t.Fatal(err)
	}
	return req
}

// callbacks returns every recorded callback.
func (a *app) callbacks() []provider.CallbackRecord {
	a.t.Helper()
	cbs, err := a.store.(provider.Reader).ListCallbacks(context.Background(), provider.CallbackFilter{})
	if err != nil {
		a.t.Fatal(err)
	}
	return cbs
}

// payments returns the stored payments of a link.
func (a *app) payments(linkID string) []provider.Payment {
	a.t.Helper()
	ps, err := a.store.(provider.Reader).ListLinkPayments(context.Background(), "mem", linkID)
	if err != nil {
		a.t.Fatal(err)
	}
	return ps
}

// jsonRequest builds a JSON request.
func jsonRequest(method, path, body string) *http.Request {
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, path, r)
	req.Header.Set("Content-Type", "application/json")
	return req
}

// decode decodes a recorded JSON answer into v.
func decode[T any](t *testing.T, rec *httptest.ResponseRecorder) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
		t.Fatalf("answer %d is not JSON: %v\n%s", rec.Code, err, rec.Body)
	}
	return v
}

// failingStore is a MemStore whose writes fail with err.
type failingStore struct {
	*providertest.MemStore
	err error
}

func (s failingStore) SaveLink(ctx context.Context, w *provider.LinkWrite) error { return s.err }

func (s failingStore) Apply(ctx context.Context, w *provider.ApplyWrite) error { return s.err }

// flakyProvider is a MemProvider whose reads of payments fail with the
// error stored in down, while one is.
type flakyProvider struct {
	*providertest.MemProvider
	down *atomic.Pointer[error]
}

func (p flakyProvider) ListLinkPayments(ctx context.Context, link *provider.Link) ([]provider.Payment, error) {
	if err := p.down.Load(); err != nil {
		return nil, *err
	}
	return p.MemProvider.ListLinkPayments(ctx, link)
}

// refusingProvider is a MemProvider that refuses every link with Flip's
// own field names, as flip's *APIError reports them.
type refusingProvider struct{ *providertest.MemProvider }

func (refusingProvider) CreateLink(ctx context.Context, p provider.CreateLinkParams) (*provider.Link, error) {
	return nil, &provider.Error{Code: provider.CodeInvalidArgument, Op: "mem.CreateLink", Message: "validation error", Fields: []provider.FieldError{
		{Field: "sender_email", ProviderCode: 1041, Message: "sender_email is not a valid email"},
		{Field: "expired_date", ProviderCode: 1048, Message: "Bill link has already expired"},
	}}
}

// lockedOutProvider is a MemProvider whose account refuses this server:
// the secret key is wrong, or the server's IP is not allow-listed.
type lockedOutProvider struct {
	*providertest.MemProvider
	code provider.ErrorCode
}

func (p lockedOutProvider) CreateLink(ctx context.Context, _ provider.CreateLinkParams) (*provider.Link, error) {
	return nil, provider.Errorf(p.code, "mem.CreateLink", "You are requesting with an invalid credential.")
}

// equalJSON reports whether a and b encode to the same JSON.
func equalJSON(t *testing.T, a, b any) bool {
	t.Helper()
	ja, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	jb, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Equal(ja, jb)
}
