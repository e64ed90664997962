package fliptest

import (
	"context"
	"crypto/subtle"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"
)

// Defaults applied by [NewServer] to zero [Options] fields.
const (
	DefaultRetryInterval   = 2 * time.Minute
	DefaultMaxRetries      = 5
	DefaultCallbackTimeout = 30 * time.Second
	DefaultCompanyCode     = "paylinktest"
	DefaultMaxAmount       = 10_000_000
	// MinAmount is Flip's minimum bill amount (error 1058 below it).
	MinAmount = 10_000
)

// Options configure a [Server]. Only SecretKey is required.
type Options struct {
	// SecretKey is the Flip secret key. API requests must carry
	// "Authorization: Basic base64(SecretKey + ":")". Required.
	SecretKey string
	// CallbackToken is sent as the token field of every callback.
	CallbackToken string
	// CallbackURL is where callbacks are POSTed. Empty: callbacks are made
	// and recorded (see [Server.Callbacks]) but not sent.
	CallbackURL string
	// RetryInterval is the wait between delivery attempts of a callback
	// that was not answered 200. Default 2 minutes (Flip's); tests set
	// milliseconds.
	RetryInterval time.Duration
	// MaxRetries is the number of retries after the first attempt.
	// 0 means the default 5 (Flip's); a negative value means no retries.
	MaxRetries int
	// CallbackTimeout bounds each delivery attempt. Default 30 s (Flip's).
	CallbackTimeout time.Duration
	// CompanyCode names the fake merchant on the checkout page. Default
	// "paylinktest".
	CompanyCode string
	// LongIDs makes link ids 19 digits long, as Flip's are since
	// 2026-04-10 (still JSON numbers, too large for a float64 to hold
	// exactly). Long ids are time-based, so they do not repeat across
	// restarts of the fake. Without LongIDs, link ids count up from
	// FirstLinkID.
	LongIDs bool
	// FirstLinkID is the first small link id. Default 1.
	FirstLinkID int64
	// MaxAmount is the company's maximum bill amount; above it bills are
	// refused with MaxAmountCode. 0 means 10,000,000; negative means no limit.
	MaxAmount int64
	// MaxAmountCode is the error code for an amount above MaxAmount: 1067
	// (default, "exceeding company's PWF maximum limit") or 1046 (the older
	// "maximum Rp10.000.000").
	MaxAmountCode int
	// Channels are the enabled payment channels. Default [DefaultChannels].
	Channels []Channel
	// EmptyPaymentsCode, when 1050 or 1043, makes Get Payment of a bill
	// that has no payment yet answer 422 with that code and attribute "id"
	// (the answer for an unknown bill) instead of an empty page, as Flip's
	// official WooCommerce plugin expects of Flip. 0, the default, answers
	// an empty page. Any other value is a programming error (NewServer
	// panics).
	EmptyPaymentsCode int
	// RefuseLocalRedirects refuses with 1059 a redirect_url on this
	// machine or a private network (localhost, *.localhost, loopback,
	// private, link-local and unspecified addresses), as Flip's official
	// Magento plugin suggests Flip does: it wraps such URLs in a public
	// redirector "to bypass Flip URL validation". Off by default, so that
	// an app in development can send its customers back to localhost.
	RefuseLocalRedirects bool
	// Quirks make answers and callbacks as loose as Flip's own examples:
	// "null" strings and string-typed numbers in payment lists, decimal
	// amounts, unencoded callback bodies. The zero value writes the
	// documented shapes.
	Quirks Quirks
	// Logger receives the fake's logs. Default: discard.
	Logger *slog.Logger
	// Now is the clock for timestamps and expiry. Default time.Now.
	Now func() time.Time
	// HTTPClient delivers callbacks. Default: a client of the fake's own
	// (closed with the server).
	HTTPClient *http.Client
}

// Server is a fake Flip Accept Payment v2 API on a local HTTP server. All
// its methods are safe for concurrent use.
type Server struct {
	// URL is the base URL, "http://127.0.0.1:port", without a trailing
	// slash. API paths are URL + "/v2/pwf/...". Empty until started.
	URL string
	// Listener is the listener of a server from [NewUnstartedServer]. It
	// may be replaced before [Server.Start] to serve on a chosen address.
	Listener net.Listener

	opts     Options
	ts       *httptest.Server
	log      *slog.Logger
	now      func() time.Time
	client   *http.Client
	ownTrans *http.Transport
	mux      *http.ServeMux
	salt     int64
	channels map[Channel]bool

	ctx       context.Context
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	notify    chan struct{}
	startOnce sync.Once
	closeOnce sync.Once

	mu          sync.Mutex
	callbackURL string
	maintenance bool
	nextLinkID  int64
	seq         int64
	bills       map[string]*bill
	billOrder   []*bill
	payments    map[string]*payment
	payOrder    []*payment
	faults      []*faultState
	state       callbackState
}

// bill is a Bill with the fake's bookkeeping.
type bill struct {
	Bill
	seq int64
	// expirySeen is set once the bill's pending payments were cancelled
	// for its current expiry.
	expirySeen bool
}

// payment is a Payment with the fake's bookkeeping.
type payment struct {
	Payment
	seq int64
}

// NewServer starts a fake Flip on 127.0.0.1 on a random port. Callers
// should Close it. It panics only on programmer error (no SecretKey).
func NewServer(opts Options) *Server {
	s := NewUnstartedServer(opts)
	s.Start()
	return s
}

// NewUnstartedServer returns a fake Flip that is not yet listening: set
// [Server.Listener] if needed (to serve on a chosen address), then call
// [Server.Start]. Callers should Close it, started or not.
func NewUnstartedServer(opts Options) *Server {
	if opts.SecretKey == "" {
		panic("fliptest: Options.SecretKey is required")
	}
	if !validEmptyPaymentsCode(opts.EmptyPaymentsCode) {
		panic("fliptest: Options.EmptyPaymentsCode must be 0, 1050 or 1043")
	}
	if opts.RetryInterval <= 0 {
		opts.RetryInterval = DefaultRetryInterval
	}
	switch {
	case opts.MaxRetries == 0:
		opts.MaxRetries = DefaultMaxRetries
	case opts.MaxRetries < 0:
		opts.MaxRetries = 0
	}
	if opts.CallbackTimeout <= 0 {
		opts.CallbackTimeout = DefaultCallbackTimeout
	}
	if opts.CompanyCode == "" {
		opts.CompanyCode = DefaultCompanyCode
	}
	if opts.FirstLinkID <= 0 {
		opts.FirstLinkID = 1
	}
	if opts.MaxAmount == 0 {
		opts.MaxAmount = DefaultMaxAmount
	}
	if opts.MaxAmountCode != codeMaxAmountLegacy {
		opts.MaxAmountCode = codeMaxAmount
	}
	if len(opts.Channels) == 0 {
		opts.Channels = DefaultChannels()
	}
	s := &Server{
		opts:        opts,
		log:         opts.Logger,
		now:         opts.Now,
		client:      opts.HTTPClient,
		salt:        rand.Int64N(1_000_000),
		channels:    make(map[Channel]bool, len(opts.Channels)),
		notify:      make(chan struct{}, 1),
		callbackURL: opts.CallbackURL,
		nextLinkID:  opts.FirstLinkID,
		bills:       make(map[string]*bill),
		payments:    make(map[string]*payment),
	}
	for _, c := range opts.Channels {
		s.channels[c] = true
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.client == nil {
		s.ownTrans = http.DefaultTransport.(*http.Transport).Clone()
		s.client = &http.Client{Transport: s.ownTrans}
	}
	s.state.init()
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.mux = s.routes()
	s.ts = httptest.NewUnstartedServer(s)
	s.Listener = s.ts.Listener
	return s
}

// Start starts a server from [NewUnstartedServer] and sets URL. When the
// listener is on an unspecified address (":9090"), URL names 127.0.0.1 so
// that links open in a local browser. Start panics if called twice.
func (s *Server) Start() {
	started := false
	s.startOnce.Do(func() {
		started = true
		if s.Listener != s.ts.Listener {
			_ = s.ts.Listener.Close()
			s.ts.Listener = s.Listener
		}
		s.ts.Start()
		s.URL = "http://" + localHostPort(s.Listener.Addr())
		s.wg.Add(1)
		go s.dispatch()
		s.log.Info("fliptest: fake Flip started", "url", s.URL)
	})
	if !started {
		panic("fliptest: Server already started")
	}
}

// localHostPort is addr with an unspecified IP replaced by 127.0.0.1.
func localHostPort(addr net.Addr) string {
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return addr.String()
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

// Close stops the server: it cancels pending callback deliveries and
// retries, waits for in-flight requests and delivery goroutines to end,
// and closes the fake's own HTTP connections. It is safe to call more than
// once.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		s.cancel()
		if s.Listener != s.ts.Listener {
			// Never started: the replacement listener is not the
			// httptest server's, so close it here.
			_ = s.Listener.Close()
		}
		s.ts.Close()
		s.wg.Wait()
		if s.ownTrans != nil {
			s.ownTrans.CloseIdleConnections()
		}
		s.log.Info("fliptest: fake Flip stopped")
	})
}

// SetCallbackURL changes where callbacks are sent. It applies to every
// attempt from now on, retries of earlier callbacks included. Empty stops
// sending.
func (s *Server) SetCallbackURL(u string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.callbackURL = u
}

// SetMaintenance switches Flip's maintenance mode: while on,
// GET /v2/general/maintenance answers {"maintenance": true} and every other
// API request is refused with 401, as Flip documents.
func (s *Server) SetMaintenance(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.maintenance = on
}

// ServeHTTP serves the API, the checkout pages and the /_fliptest routes.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.applyFault(w, r) {
		return
	}
	s.mux.ServeHTTP(w, r)
}

func (s *Server) routes() *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("/v2/pwf/bill", s.api(map[string]http.HandlerFunc{
		http.MethodPost: s.handleCreateBill,
		http.MethodGet:  s.handleListBills,
	}))
	mux.Handle("/v2/pwf/{id}/bill", s.api(map[string]http.HandlerFunc{
		http.MethodGet: s.handleGetBill,
		http.MethodPut: s.handleEditBill,
	}))
	mux.Handle("/v2/pwf/{id}/payment", s.api(map[string]http.HandlerFunc{
		http.MethodGet: s.handleBillPayments,
	}))
	mux.Handle("/v2/pwf/payment", s.api(map[string]http.HandlerFunc{
		http.MethodGet: s.handleAllPayments,
	}))
	mux.Handle("/v2/pwf/bill-payment/{id}/confirm", s.api(map[string]http.HandlerFunc{
		http.MethodPut: s.handleConfirm,
	}))
	mux.Handle("/v2/general/maintenance", s.api(map[string]http.HandlerFunc{
		http.MethodGet: s.handleMaintenance,
	}))
	mux.Handle("/v2/", s.api(nil))

	mux.HandleFunc("GET /pwf/checkout/{id}", s.handleCheckout)
	mux.HandleFunc("GET /pwf/transaction/{id}", s.handleTransactionPage)

	mux.HandleFunc("POST /_fliptest/bills/{id}/pay", s.handleSimulate(simPay))
	mux.HandleFunc("POST /_fliptest/bills/{id}/expire", s.handleSimulate(simExpire))
	mux.HandleFunc("POST /_fliptest/bills/{id}/fail", s.handleSimulate(simFail))
	mux.HandleFunc("POST /_fliptest/payments/{id}/redeliver", s.handleRedeliver)
	mux.HandleFunc("GET /_fliptest/deliveries", s.handleDeliveries)

	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) { writeNotFound(w) })
	return mux
}

// api wraps the handlers of one API path: maintenance, authentication,
// lazy expiry, then dispatch on the method (404 for any other, as Flip's
// router does).
func (s *Server) api(byMethod map[string]http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		maintenance := s.maintenance
		s.mu.Unlock()
		if maintenance && r.URL.Path != "/v2/general/maintenance" {
			writeJSON(w, http.StatusUnauthorized, flipStatusBody{
				Name: "Unauthorized", Message: "Service is under maintenance.", Status: http.StatusUnauthorized,
			})
			return
		}
		if !s.authorized(r) {
			s.log.Debug("fliptest: unauthorized request", "method", r.Method, "path", r.URL.Path)
			writeJSON(w, http.StatusUnauthorized, flipStatusBody{
				Name: "Unauthorized", Message: "You are requesting with an invalid credential.", Status: http.StatusUnauthorized,
			})
			return
		}
		h, ok := byMethod[r.Method]
		if !ok {
			writeNotFound(w)
			return
		}
		if !formContentType(r) {
			writeContentTypeError(w, r)
			return
		}
		s.mu.Lock()
		s.sweepExpiredLocked()
		s.mu.Unlock()
		s.log.Debug("fliptest: API request", "method", r.Method, "path", r.URL.Path)
		h(w, r)
	})
}

// authorized checks HTTP Basic auth: the secret key as user name and an
// empty password.
func (s *Server) authorized(r *http.Request) bool {
	user, pass, ok := r.BasicAuth()
	if !ok || pass != "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(user), []byte(s.opts.SecretKey)) == 1
}

func (s *Server) handleMaintenance(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	on := s.maintenance
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]bool{"maintenance": on})
}

// isAPIPath reports whether p is under the API's /v2/ prefix.
func isAPIPath(p string) bool { return strings.HasPrefix(p, "/v2/") }
