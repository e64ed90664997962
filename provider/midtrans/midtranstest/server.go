package midtranstest

import (
	"bytes"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Options configures a [Server].
type Options struct {
	// ServerKey is the key clients must send (HTTP Basic user) and the
	// key notifications are signed with. Required.
	ServerKey string
	// NotificationURL is the dashboard's Payment Notification URL; empty
	// means notifications go only to URLs a create request named with
	// X-Override-Notification or X-Append-Notification.
	NotificationURL string
	// RetryDelays are the waits before each retry of a failed
	// notification; default [DefaultRetryDelays] (Midtrans's schedule of
	// minutes). Tests pass short ones.
	RetryDelays []time.Duration
	// NotificationTimeout is how long a delivery waits for the app;
	// default 15 s.
	NotificationTimeout time.Duration
	// HTTPClient delivers notifications; default a new client that
	// follows only 307 and 308 redirects (at most 5).
	HTTPClient *http.Client
	// MerchantID is merchant_id in transactions; default "G141532850".
	MerchantID string
	// CoreErrorsWithHTTPStatus answers Core API errors carried in the
	// body (404 unknown order, 412, 414, 406) with that HTTP status too.
	// By default they come with HTTP 200, as observed for unknown orders.
	CoreErrorsWithHTTPStatus bool
	// ImposedFee turns on Automatic Fee Imposition as the dashboard's
	// Snap Preference does (opt-in): every transaction whose create
	// request does not send "customer_imposed_payment_fee":{"enable":false}
	// charges the customer the order's amount plus ImposedFee; its
	// gross_amount (signed) includes the fee, and its
	// metadata.extra_info.gross_amount_info has the breakdown.
	ImposedFee int64
	// Now returns the current time; default time.Now. The opt-in modes
	// below let Midtrans's deadlines pass on this clock: a test moves it
	// on, and the next API request, page view or simulation call (or
	// [Server.Tick]) applies what has come due.
	Now func() time.Time
	// ExpireOnClock lets pending payments and Snap pages expire on the
	// clock (opt-in). A pending transaction expires at its expiry_time,
	// with a "202" expire notification, as if nobody paid; a Snap page
	// expires at its page expiry, silently (Midtrans sends no
	// notification for it), and then takes no new attempt. The create
	// request's expiry (a blanket expiry of the page and the payment,
	// counted from its start_time, or for the payment from when the
	// customer picks a method) and page_expiry (the page only) set them;
	// without either the page lives 24 hours from creation (Midtrans's
	// page_expiry default) and a payment PendingExpiry. The expiry_time
	// the fake reports follows them with the mode off too; only the
	// expiring is opt-in.
	ExpireOnClock bool
	// PendingExpiry is how long a pending payment lasts when the create
	// request sends no expiry; default 24 hours, Midtrans's documented
	// default for virtual accounts. Midtrans's defaults for other methods
	// are not in our notes: the fake uses it for every method.
	PendingExpiry time.Duration
	// CancelUnapprovedChallenges leaves challenged cards to expire
	// (opt-in): a card capture with fraud_status "challenge" that the
	// merchant does not approve ([Server.Approve]) is cancelled at the
	// settlement cut-off, 16:00 WIB the day after the capture, with a
	// "202" cancel notification, and [Server.Settle] cancels it instead
	// of settling it. Midtrans says a challenge is "denied, or cancelled
	// at settlement" if nobody acts; the fake takes the second reading,
	// which its lifecycle page states.
	CancelUnapprovedChallenges bool
	// RefundLimits refuses what Midtrans refuses by payment method
	// (opt-in): a refund after the method's refund window, counted from
	// settlement (OVO 7 days, Kredivo 14, DANA 45, GoPay 45, ShopeePay
	// 365, QRIS 7; cards and Akulaku have none documented), and a partial
	// refund of a method refunded in full only (ShopeePay, OVO).
	// Midtrans documents neither answer: the fake answers a late refund
	// 412 "Merchant cannot modify the status of the transaction" (its
	// code for a transaction that cannot take the change, as for a
	// refund of a capture) and a partial one 414 "Refund request is
	// rejected due to invalid amount". The windows are the shortest
	// Midtrans documents for each method where they vary (GoPay's
	// deeplink and QRIS on-us 45 days, tokenization 180; QRIS off-us 7;
	// OVO regular merchants 7, travel agents 180).
	RefundLimits bool
}

// DefaultRetryDelays is Midtrans's notification retry schedule: at most
// five retries, about 2, 10, 30, 90 and 210 minutes apart.
func DefaultRetryDelays() []time.Duration {
	return []time.Duration{2 * time.Minute, 10 * time.Minute, 30 * time.Minute, 90 * time.Minute, 210 * time.Minute}
}

// Server is the fake. Create one with [NewServer]; Close it when done.
// Its methods are safe for concurrent use.
type Server struct {
	// URL is the base of both Snap and the Core API ("http://127.0.0.1:port").
	URL string

	srv  *httptest.Server
	opts Options
	auth string
	now  func() time.Time

	mu      sync.Mutex
	orders  map[string]*order // by order id
	byToken map[string]*order
	byTxID  map[string]*order
	faults  []Fault
	notify  notifyState

	refundFailure  RefundFailure
	refundFailures int
	closed         chan struct{}
	inflight       sync.WaitGroup
}

// order is a Snap session and, once the customer picks a method, its
// Core transaction.
type order struct {
	id           string
	token        string
	gross        int64
	items        []item
	finishURL    string
	customFields [3]string
	notifyURLs   []string
	created      time.Time
	fee          int64 // the imposed fee (Options.ImposedFee unless the request turned it off)
	canceled     bool  // the Snap session was cancelled
	pageExpiry   time.Time
	payStart     time.Time     // the create request's expiry.start_time, if any
	payLifetime  time.Duration // the create request's expiry, if any
	tx           *transaction
}

type item struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Price    int64  `json:"price"`
	Quantity int64  `json:"quantity"`
}

// transaction is the Core API side of an order.
type transaction struct {
	id          string
	status      string
	fraud       string
	paymentType string
	bank        string
	vaNumber    string
	gross       int64 // what the customer is charged: the order's amount, plus a fee, less a promo
	time        time.Time
	settled     time.Time
	captured    time.Time
	expiry      time.Time
	refunded    int64
	refunds     []refund
}

type refund struct {
	ID     int64  `json:"refund_chargeback_id"`
	Amount string `json:"refund_amount"`
	At     string `json:"created_at"`
	Reason string `json:"reason,omitempty"`
	Key    string `json:"refund_key,omitempty"`
	// BankConfirmed is bank_confirmed_at, set once the bank confirmed
	// the refund (the second of its two notifications).
	BankConfirmed string `json:"bank_confirmed_at,omitempty"`
}

// NewServer starts a fake on a random local port.
func NewServer(opts Options) *Server {
	if strings.TrimSpace(opts.ServerKey) == "" {
		panic("midtranstest.NewServer: empty ServerKey")
	}
	s := &Server{
		opts:    opts,
		auth:    "Basic " + base64.StdEncoding.EncodeToString([]byte(opts.ServerKey+":")),
		now:     opts.Now,
		orders:  map[string]*order{},
		byToken: map[string]*order{},
		byTxID:  map[string]*order{},
		closed:  make(chan struct{}),
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.opts.RetryDelays == nil {
		s.opts.RetryDelays = DefaultRetryDelays()
	}
	if s.opts.NotificationTimeout <= 0 {
		s.opts.NotificationTimeout = 15 * time.Second
	}
	if s.opts.MerchantID == "" {
		s.opts.MerchantID = "G141532850"
	}
	if s.opts.HTTPClient == nil {
		s.opts.HTTPClient = &http.Client{CheckRedirect: followTemporaryRedirects}
	}
	s.srv = httptest.NewServer(s.routes())
	s.URL = s.srv.URL
	return s
}

// followTemporaryRedirects follows 307 and 308 (re-POSTing the body) up
// to five times; 301, 302 and 303 end the delivery as failed.
func followTemporaryRedirects(req *http.Request, via []*http.Request) error {
	if len(via) > 5 {
		return errors.New("stopped after 5 redirects")
	}
	if req.Response != nil && req.Response.StatusCode != http.StatusTemporaryRedirect && req.Response.StatusCode != http.StatusPermanentRedirect {
		return http.ErrUseLastResponse
	}
	return nil
}

// Close stops pending deliveries and the server.
func (s *Server) Close() {
	s.mu.Lock()
	select {
	case <-s.closed:
	default:
		close(s.closed)
	}
	s.mu.Unlock()
	s.inflight.Wait()
	s.srv.Close()
}

// Fault is an injected failure: the next Count API requests (to Snap or
// the Core API) get Status with Midtrans's body for it. A Delay makes the
// reply slow instead (or as well).
type Fault struct {
	Status int
	Count  int
	Delay  time.Duration
}

// InjectFault queues a fault.
func (s *Server) InjectFault(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f.Count <= 0 {
		f.Count = 1
	}
	s.faults = append(s.faults, f)
}

func (s *Server) takeFault() (Fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.faults) == 0 {
		return Fault{}, false
	}
	f := s.faults[0]
	s.faults[0].Count--
	if s.faults[0].Count <= 0 {
		s.faults = s.faults[1:]
	}
	return f, true
}

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /snap/v1/transactions", s.api(true, s.handleCreate))
	mux.HandleFunc("POST /snap/v1/transactions/{token}/cancel", s.api(true, s.handleCancelSession))
	mux.HandleFunc("GET /v2/{id}/status", s.api(false, s.handleStatus))
	mux.HandleFunc("POST /v2/{id}/cancel", s.api(false, s.handleCancel))
	mux.HandleFunc("POST /v2/{id}/expire", s.api(false, s.handleExpire))
	mux.HandleFunc("POST /v2/{id}/refund", s.api(false, s.handleRefund))
	mux.HandleFunc("GET /snap/v2/vtweb/{token}", s.handlePage)
	mux.HandleFunc("POST /snap/v2/vtweb/{token}/{action}", s.handlePageAction)
	return mux
}

// api wraps an API handler with faults and authentication.
func (s *Server) api(snap bool, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if f, ok := s.takeFault(); ok {
			if f.Delay > 0 {
				select {
				case <-time.After(f.Delay):
				case <-r.Context().Done():
					return
				}
			}
			if f.Status != 0 {
				writeFault(w, snap, f.Status)
				return
			}
		}
		got := r.Header.Get("Authorization")
		if subtle.ConstantTimeCompare([]byte(got), []byte(s.auth)) != 1 {
			if snap {
				writeJSON(w, http.StatusUnauthorized, map[string]any{"error_messages": []string{
					"Access denied due to unauthorized transaction, please check client or server key",
					"Visit https://snap-docs.midtrans.com/#request-headers for more details",
				}})
				return
			}
			writeJSON(w, http.StatusUnauthorized, map[string]any{"status_code": "401",
				"status_message": "Transaction cannot be authorized with the current client/server key."})
			return
		}
		if status, msg := checkHeaders(r); status != 0 {
			if snap {
				writeJSON(w, status, map[string]any{"error_messages": []string{msg}})
				return
			}
			writeJSON(w, status, map[string]any{"status_code": strconv.Itoa(status), "status_message": msg})
			return
		}
		s.due()
		h(w, r)
	}
}

// checkHeaders enforces the headers Midtrans requires of every API
// request: Accept: application/json, and Content-Type: application/json
// on a request with a body. A missing or other Accept gets 403, Midtrans's
// code for it, with its message; the HTTP status is not documented. What
// Midtrans answers to a missing Content-Type is not documented: the fake
// answers 415 in its own words.
func checkHeaders(r *http.Request) (int, string) {
	if !acceptsJSON(r.Header.Values("Accept")) {
		return http.StatusForbidden, "The requested resource is not capable of generating content in the format specified in the request headers."
	}
	if r.ContentLength != 0 {
		if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
			return http.StatusUnsupportedMediaType, "Content-Type must be application/json"
		}
	}
	return 0, ""
}

// acceptsJSON reports whether an Accept header names application/json;
// a wildcard such as */* does not count.
func acceptsJSON(values []string) bool {
	for _, v := range values {
		for _, part := range strings.Split(v, ",") {
			if mt, _, err := mime.ParseMediaType(strings.TrimSpace(part)); err == nil && mt == "application/json" {
				return true
			}
		}
	}
	return false
}

// writeFault answers an injected failure with Midtrans's body for it.
func writeFault(w http.ResponseWriter, snap bool, status int) {
	msg := http.StatusText(status)
	switch {
	case status == http.StatusServiceUnavailable:
		msg = "Bank/partner is experiencing connection issue."
	case status >= 500:
		msg = "Sorry, we encountered internal server error. We will fix this soon."
	}
	if snap {
		writeJSON(w, status, map[string]any{"error_messages": []string{msg}, "locale": "en"})
		return
	}
	writeJSON(w, status, map[string]any{"status_code": strconv.Itoa(status), "status_message": msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// coreError answers a Core API error carried in the body.
func (s *Server) coreError(w http.ResponseWriter, code int, msg string, extra map[string]any) {
	body := map[string]any{"status_code": strconv.Itoa(code), "status_message": msg}
	for k, v := range extra {
		body[k] = v
	}
	status := http.StatusOK
	if s.opts.CoreErrorsWithHTTPStatus {
		status = code
	}
	writeJSON(w, status, body)
}

func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

func randomDigits(n int) string {
	var b [32]byte
	_, _ = rand.Read(b[:n])
	out := make([]byte, n)
	for i := range out {
		out[i] = '0' + b[i]%10
	}
	return string(out)
}

// validOrderID checks Snap's order id rule.
func validOrderID(id string) bool {
	if id == "" || len(id) > 50 {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_~.", r)) {
			return false
		}
	}
	return true
}

// handleCreate is Snap create transaction.
func (s *Server) handleCreate(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error_messages": []string{"request body is invalid"}})
		return
	}
	var req struct {
		TransactionDetails *struct {
			OrderID     *string         `json:"order_id"`
			GrossAmount json.RawMessage `json:"gross_amount"`
		} `json:"transaction_details"`
		ItemDetails  []json.RawMessage `json:"item_details"`
		CustomField1 string            `json:"custom_field1"`
		CustomField2 string            `json:"custom_field2"`
		CustomField3 string            `json:"custom_field3"`
		Callbacks    struct {
			Finish string `json:"finish"`
		} `json:"callbacks"`
		CustomerImposedPaymentFee *struct {
			Enable *bool `json:"enable"`
		} `json:"customer_imposed_payment_fee"`
		Expiry     *expiryRequest `json:"expiry"`
		PageExpiry *expiryRequest `json:"page_expiry"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error_messages": []string{"Request body is not a valid JSON"}})
		return
	}
	var msgs []string
	var orderID string
	var gross int64
	grossOK := false
	if req.TransactionDetails == nil || req.TransactionDetails.OrderID == nil || *req.TransactionDetails.OrderID == "" {
		msgs = append(msgs, "transaction_details.order_id is required")
	} else {
		orderID = *req.TransactionDetails.OrderID
		if !validOrderID(orderID) {
			// Not in Midtrans's docs: the fake's wording.
			msgs = append(msgs, "transaction_details.order_id is invalid")
		}
	}
	if req.TransactionDetails == nil || len(req.TransactionDetails.GrossAmount) == 0 || string(req.TransactionDetails.GrossAmount) == "null" {
		msgs = append(msgs, "transaction_details.gross_amount is required")
	} else {
		n, err := strconv.ParseInt(string(req.TransactionDetails.GrossAmount), 10, 64)
		switch {
		case err != nil:
			msgs = append(msgs, "transaction_details.gross_amount is not a number")
		case n <= 0:
			// Not in Midtrans's docs: the fake's wording.
			msgs = append(msgs, "transaction_details.gross_amount must be greater than 0")
		default:
			gross, grossOK = n, true
		}
	}
	var items []item
	var sum int64
	for i, raw := range req.ItemDetails {
		var it item
		if err := json.Unmarshal(raw, &it); err != nil {
			msgs = append(msgs, fmt.Sprintf("item_details[%d] is invalid", i))
			continue
		}
		if it.Name == "" {
			msgs = append(msgs, fmt.Sprintf("item_details[%d].name is required", i))
		}
		if it.Quantity < 1 {
			msgs = append(msgs, fmt.Sprintf("item_details[%d].quantity must be at least 1", i))
		}
		sum += it.Price * it.Quantity
		items = append(items, it)
	}
	if grossOK && len(req.ItemDetails) > 0 && sum != gross {
		msgs = append(msgs, "transaction_details.gross_amount is not equal to the sum of item_details")
	}
	o := &order{
		id: orderID, token: newUUID(), gross: gross, items: items, finishURL: req.Callbacks.Finish,
		customFields: [3]string{req.CustomField1, req.CustomField2, req.CustomField3},
		notifyURLs:   notificationURLs(r.Header, s.opts.NotificationURL),
		created:      s.now(),
	}
	msgs = append(msgs, o.applyExpiry(req.Expiry, req.PageExpiry)...)
	if len(msgs) == 0 {
		s.mu.Lock()
		_, taken := s.orders[orderID]
		s.mu.Unlock()
		if taken {
			msgs = append(msgs, "transaction_details.order_id has already been taken")
		}
	}
	if len(msgs) > 0 {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error_messages": msgs})
		return
	}
	if f := req.CustomerImposedPaymentFee; s.opts.ImposedFee > 0 && (f == nil || f.Enable == nil || *f.Enable) {
		o.fee = s.opts.ImposedFee
	}
	s.mu.Lock()
	if _, taken := s.orders[orderID]; taken {
		s.mu.Unlock()
		writeJSON(w, http.StatusBadRequest, map[string]any{"error_messages": []string{"transaction_details.order_id has already been taken"}})
		return
	}
	s.orders[orderID] = o
	s.byToken[o.token] = o
	s.mu.Unlock()
	writeJSON(w, http.StatusCreated, map[string]string{"token": o.token, "redirect_url": s.PageURL(o.token)})
}

// PageURL returns the hosted page of a Snap token.
func (s *Server) PageURL(token string) string { return s.URL + "/snap/v2/vtweb/" + token }

// notificationURLs applies X-Override-Notification (wins) or
// X-Append-Notification to the dashboard URL, at most 3 URLs.
func notificationURLs(h http.Header, dashboard string) []string {
	split := func(v string) []string {
		var out []string
		for _, u := range strings.Split(v, ",") {
			if u = strings.TrimSpace(u); u != "" {
				out = append(out, u)
			}
		}
		return out
	}
	var urls []string
	if v := h.Get("X-Override-Notification"); v != "" {
		urls = split(v)
	} else {
		if dashboard != "" {
			urls = append(urls, dashboard)
		}
		urls = append(urls, split(h.Get("X-Append-Notification"))...)
	}
	if len(urls) > 3 {
		urls = urls[:3]
	}
	return urls
}

func (s *Server) handleCancelSession(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	o, ok := s.byToken[r.PathValue("token")]
	var msg string
	switch {
	case !ok:
		msg = "token not found"
	case o.canceled:
		msg = "token already canceled"
	case o.tx != nil && !retryable(o.tx.status):
		// A page whose last attempt is over (deny, expire, cancel) can be
		// cancelled, so that it takes no new attempt.
		msg = "Transaction is on progress"
	default:
		o.canceled = true
	}
	s.mu.Unlock()
	if msg != "" {
		// Midtrans does not document these HTTP statuses.
		status := http.StatusBadRequest
		if !ok {
			status = http.StatusNotFound
		}
		writeJSON(w, status, map[string]any{"error_messages": []string{msg}})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"canceled_at": s.now().UTC().Format("2006-01-02T15:04:05.000Z")})
}

// lookup finds an order with a transaction by order id or transaction id;
// the caller holds s.mu.
func (s *Server) lookup(id string) (*order, bool) {
	if o, ok := s.orders[id]; ok && o.tx != nil {
		return o, true
	}
	if o, ok := s.byTxID[id]; ok {
		return o, true
	}
	return nil, false
}

func (s *Server) notFound(w http.ResponseWriter) {
	s.coreError(w, 404, "Transaction doesn't exist.", map[string]any{"id": newUUID()})
}

func (s *Server) handleStatus(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	o, ok := s.lookup(r.PathValue("id"))
	var body []byte
	if ok {
		body = s.statusBody(o, "")
	}
	s.mu.Unlock()
	if !ok {
		s.notFound(w)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(body)
}

func (s *Server) handleCancel(w http.ResponseWriter, r *http.Request) {
	s.coreTransition(w, r.PathValue("id"), "cancel")
}

func (s *Server) handleExpire(w http.ResponseWriter, r *http.Request) {
	s.coreTransition(w, r.PathValue("id"), "expire")
}

// coreTransition runs a Core API cancel or expire.
func (s *Server) coreTransition(w http.ResponseWriter, id, to string) {
	s.mu.Lock()
	o, ok := s.lookup(id)
	if !ok {
		s.mu.Unlock()
		s.notFound(w)
		return
	}
	if !canMove(o.tx.status, to) {
		s.mu.Unlock()
		s.coreError(w, 412, "Merchant cannot modify the status of the transaction", nil)
		return
	}
	s.move(o, to, "")
	msg := "Success, transaction is canceled"
	if to == "expire" {
		msg = "Success, transaction has expired"
	}
	body := s.statusBody(o, msg)
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(body)
}

func (s *Server) handleRefund(w http.ResponseWriter, r *http.Request) {
	var req struct {
		RefundKey string          `json:"refund_key"`
		Amount    json.RawMessage `json:"amount"`
		Reason    string          `json:"reason"`
	}
	b, _ := io.ReadAll(io.LimitReader(r.Body, 64<<10))
	if len(bytes.TrimSpace(b)) > 0 && json.Unmarshal(b, &req) != nil {
		s.coreError(w, 413, "The request cannot be processed due to syntax error in the request body.", nil)
		return
	}
	var amount int64
	if len(req.Amount) > 0 {
		n, err := strconv.ParseInt(string(req.Amount), 10, 64)
		if err != nil || n <= 0 {
			s.coreError(w, 414, "Refund request is rejected due to invalid amount", nil)
			return
		}
		amount = n
	}
	s.mu.Lock()
	o, ok := s.lookup(r.PathValue("id"))
	if !ok {
		s.mu.Unlock()
		s.notFound(w)
		return
	}
	switch s.takeRefundFailure() {
	case RefundDeniedByBank:
		body := s.refundAnswer(o, "202", "Refund denied by the bank", 0, "")
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
		return
	case RefundInsufficientFunds:
		s.mu.Unlock()
		s.coreError(w, 414, "Refund request is rejected due to merchant insufficient funds", nil)
		return
	}
	before := o.tx.refunded
	code, msg := s.refund(o, amount, req.RefundKey, req.Reason)
	if code != 200 {
		s.mu.Unlock()
		s.coreError(w, code, msg, nil)
		return
	}
	body := s.refundAnswer(o, "200", "Success, refund request is approved", o.tx.refunded-before, req.RefundKey)
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(body)
}

// ErrUnknownOrder is returned by the simulation methods for an order the
// fake never created.
var ErrUnknownOrder = errors.New("midtranstest: unknown order")

// ErrWrongState is returned by the simulation methods for a transition
// Midtrans's lifecycle does not allow from the order's current status.
var ErrWrongState = errors.New("midtranstest: transition not allowed from the current status")
