package sdktest

import (
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/midtrans/midtrans-go"
	"github.com/midtrans/midtrans-go/coreapi"
	"github.com/midtrans/midtrans-go/snap"

	"github.com/paylinkgo/paylink/provider/midtrans/midtranstest"
)

const serverKey = "SB-Mid-server-sdktest"

// redirect sends every request to the fake and records the host the SDK
// addressed. The SDK hard-codes Midtrans's hosts per environment, so a
// Transport is the only way to point it elsewhere.
type redirect struct {
	to *url.URL

	mu    sync.Mutex
	hosts map[string]string // path → host the SDK meant
}

func (r *redirect) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	r.hosts[req.URL.Path] = req.URL.Host
	r.mu.Unlock()
	out := req.Clone(req.Context())
	out.URL.Scheme, out.URL.Host, out.Host = r.to.Scheme, r.to.Host, ""
	return http.DefaultTransport.RoundTrip(out)
}

func (r *redirect) host(path string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.hosts[path]
}

// notifications is the app the fake notifies: it keeps every request.
type notifications struct {
	mu   sync.Mutex
	got  []*http.Request
	body [][]byte
}

func (n *notifications) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	n.mu.Lock()
	n.got = append(n.got, r)
	n.body = append(n.body, b)
	n.mu.Unlock()
}

type harness struct {
	fake  *midtranstest.Server
	route *redirect
	app   *notifications
	snap  snap.Client
	core  coreapi.Client
}

// newHarness starts the fake and the SDK's Snap and Core API clients,
// sandbox environment, pointed at it. The Snap client asks for
// notifications with X-Override-Notification, the SDK's own option; the
// fake has no dashboard URL.
func newHarness(t *testing.T, key string) *harness {
	t.Helper()
	h := &harness{app: &notifications{}}
	appSrv := httptest.NewServer(h.app)
	t.Cleanup(appSrv.Close)
	h.fake = midtranstest.NewServer(midtranstest.Options{ServerKey: serverKey,
		RetryDelays: []time.Duration{time.Millisecond, time.Millisecond, time.Millisecond, time.Millisecond, time.Millisecond}})
	t.Cleanup(h.fake.Close)
	to, err := url.Parse(h.fake.URL)
	if err != nil {
		t.Fatal(err)
	}
	h.route = &redirect{to: to, hosts: map[string]string{}}
	// NoLogging: the SDK's sandbox logger prints the Authorization header.
	hc := &midtrans.HttpClientImplementation{
		HttpClient: &http.Client{Transport: h.route, Timeout: 10 * time.Second},
		Logger:     &midtrans.LoggerImplementation{LogLevel: midtrans.NoLogging},
	}
	h.snap.New(key, midtrans.Sandbox)
	h.snap.HttpClient = hc
	h.snap.Options.SetPaymentOverrideNotification(appSrv.URL + "/midtrans")
	h.core.New(key, midtrans.Sandbox)
	h.core.HttpClient = hc
	return h
}

// create makes a Snap transaction of 10,000 in two items.
func (h *harness) create(t *testing.T, orderID string) *snap.Response {
	t.Helper()
	resp, err := h.snap.CreateTransaction(&snap.Request{
		TransactionDetails: midtrans.TransactionDetails{OrderID: orderID, GrossAmt: 10000},
		Items: &[]midtrans.ItemDetails{
			{ID: "kopi", Name: "Kopi susu", Price: 3000, Qty: 2},
			{ID: "roti", Name: "Roti bakar", Price: 4000, Qty: 1},
		},
		CustomerDetail: &midtrans.CustomerDetails{FName: "Budi", Email: "budi@example.com", Phone: "081234567890"},
		CustomField1:   "cf-1",
		Callbacks:      &snap.Callbacks{Finish: "https://shop.example.com/done"},
	})
	if err != nil {
		t.Fatalf("snap create %s: %v", orderID, err)
	}
	return resp
}

// signature is Midtrans's notification and status signature, computed
// here from the documented formula.
func signature(orderID, statusCode, grossAmount string) string {
	sum := sha512.Sum512([]byte(orderID + statusCode + grossAmount + serverKey))
	return hex.EncodeToString(sum[:])
}

// checkSigned checks the fields every transaction answer carries and its
// signature_key.
func checkSigned(t *testing.T, what string, tx *coreapi.TransactionStatusResponse) {
	t.Helper()
	if tx.OrderID == "" || tx.TransactionID == "" || tx.StatusCode == "" || tx.TransactionStatus == "" ||
		tx.GrossAmount != "10000.00" || tx.Currency != "IDR" || tx.PaymentType == "" || tx.MerchantID == "" ||
		tx.TransactionTime == "" {
		t.Errorf("%s: incomplete %+v", what, tx)
	}
	if _, err := time.Parse("2006-01-02 15:04:05", tx.TransactionTime); err != nil {
		t.Errorf("%s: transaction_time %q: %v", what, tx.TransactionTime, err)
	}
	if want := signature(tx.OrderID, tx.StatusCode, tx.GrossAmount); tx.SignatureKey != want {
		t.Errorf("%s: signature_key %q, want %q", what, tx.SignatureKey, want)
	}
}

// status reads a transaction with the SDK and checks it.
func (h *harness) status(t *testing.T, orderID, wantStatus, wantCode string) *coreapi.TransactionStatusResponse {
	t.Helper()
	tx, err := h.core.CheckTransaction(orderID)
	if err != nil {
		t.Fatalf("status %s: %v", orderID, err)
	}
	if tx.TransactionStatus != wantStatus || tx.StatusCode != wantCode {
		t.Errorf("status %s: %s %s, want %s %s", orderID, tx.TransactionStatus, tx.StatusCode, wantStatus, wantCode)
	}
	checkSigned(t, "status "+orderID, tx)
	return tx
}

func TestSnapCreate(t *testing.T) {
	h := newHarness(t, serverKey)
	resp := h.create(t, "sdk-create-1")
	if resp.Token == "" || resp.RedirectURL != h.fake.PageURL(resp.Token) {
		t.Errorf("create: %+v, want the token's page %s", resp, h.fake.PageURL(resp.Token))
	}
	if got := h.route.host("/snap/v1/transactions"); got != "app.sandbox.midtrans.com" {
		t.Errorf("the SDK sent Snap create to %q", got)
	}

	// The SDK's other ways to create: a map body, the token alone, the URL alone.
	m, err := h.snap.CreateTransactionWithMap(&snap.RequestParamWithMap{
		"transaction_details": map[string]any{"order_id": "sdk-create-2", "gross_amount": 5000},
	})
	if err != nil || m["token"] == "" || m["redirect_url"] == "" {
		t.Errorf("create with a map: %v %v", m, err)
	}
	token, err := h.snap.CreateTransactionToken(&snap.Request{TransactionDetails: midtrans.TransactionDetails{OrderID: "sdk-create-3", GrossAmt: 5000}})
	if err != nil || token == "" {
		t.Errorf("create a token: %q %v", token, err)
	}
	u, err := h.snap.CreateTransactionUrl(&snap.Request{TransactionDetails: midtrans.TransactionDetails{OrderID: "sdk-create-4", GrossAmt: 5000}})
	if err != nil || !strings.HasPrefix(u, h.fake.URL+"/snap/") {
		t.Errorf("create a URL: %q %v", u, err)
	}

	// A used order id: HTTP 400 with error_messages, which the SDK decodes
	// into its response beside the error.
	resp, err = h.snap.CreateTransaction(&snap.Request{TransactionDetails: midtrans.TransactionDetails{OrderID: "sdk-create-1", GrossAmt: 10000}})
	if err == nil || err.StatusCode != http.StatusBadRequest || resp == nil ||
		len(resp.ErrorMessages) != 1 || resp.ErrorMessages[0] != "transaction_details.order_id has already been taken" {
		t.Errorf("duplicate: %+v %v", resp, err)
	}
	// Items that do not add up.
	resp, err = h.snap.CreateTransaction(&snap.Request{
		TransactionDetails: midtrans.TransactionDetails{OrderID: "sdk-create-5", GrossAmt: 10000},
		Items:              &[]midtrans.ItemDetails{{ID: "a", Name: "A", Price: 100, Qty: 1}},
	})
	if err == nil || err.StatusCode != http.StatusBadRequest || resp == nil ||
		len(resp.ErrorMessages) == 0 || !strings.Contains(resp.ErrorMessages[0], "sum of item_details") {
		t.Errorf("items not adding up: %+v %v", resp, err)
	}
}

func TestWrongKey(t *testing.T) {
	h := newHarness(t, "SB-Mid-server-wrong")
	resp, err := h.snap.CreateTransaction(&snap.Request{TransactionDetails: midtrans.TransactionDetails{OrderID: "sdk-key-1", GrossAmt: 10000}})
	if err == nil || err.StatusCode != http.StatusUnauthorized || resp == nil || len(resp.ErrorMessages) != 2 {
		t.Errorf("snap with a wrong key: %+v %v", resp, err)
	}
	tx, err := h.core.CheckTransaction("sdk-key-1")
	if err == nil || err.StatusCode != http.StatusUnauthorized || tx.StatusCode != "401" {
		t.Errorf("status with a wrong key: %+v %v", tx, err)
	}
}

func TestStatusBeforeAndAfterPaying(t *testing.T) {
	h := newHarness(t, serverKey)
	h.create(t, "sdk-pay-1")
	// A Snap order is not a transaction until the customer picks a method:
	// body status_code "404", which the SDK turns into an error.
	tx, err := h.core.CheckTransaction("sdk-pay-1")
	if err == nil || err.StatusCode != http.StatusNotFound || tx.StatusCode != "404" || tx.StatusMessage != "Transaction doesn't exist." {
		t.Errorf("status before a method: %+v %v", tx, err)
	}
	if got := h.route.host("/v2/sdk-pay-1/status"); got != "api.sandbox.midtrans.com" {
		t.Errorf("the SDK sent the status call to %q", got)
	}

	if _, err := h.fake.Pay(t.Context(), "sdk-pay-1", midtranstest.PayOptions{Method: midtranstest.Method{Bank: "bni"}}); err != nil {
		t.Fatal(err)
	}
	tx = h.status(t, "sdk-pay-1", "settlement", "200")
	if len(tx.VaNumbers) != 1 || tx.VaNumbers[0].Bank != "bni" || tx.VaNumbers[0].VANumber == "" ||
		tx.SettlementTime == "" || tx.ExpiryTime == "" || tx.FraudStatus != "accept" || tx.CustomField1 != "cf-1" {
		t.Errorf("settled: %+v", tx)
	}
	// By transaction id too.
	byID, err := h.core.CheckTransaction(tx.TransactionID)
	if err != nil || byID.OrderID != "sdk-pay-1" {
		t.Errorf("status by transaction id: %+v %v", byID, err)
	}
}

// TestStatusOfEveryMethod decodes the status answer of each payment
// method the fake offers, with its method-specific fields.
func TestStatusOfEveryMethod(t *testing.T) {
	h := newHarness(t, serverKey)
	for _, tc := range []struct {
		m     midtranstest.Method
		check func(*coreapi.TransactionStatusResponse) bool
	}{
		{midtranstest.Method{PaymentType: "bank_transfer", Bank: "bca"}, func(tx *coreapi.TransactionStatusResponse) bool {
			return len(tx.VaNumbers) == 1 && tx.VaNumbers[0].Bank == "bca"
		}},
		{midtranstest.Method{PaymentType: "bank_transfer", Bank: "permata"}, func(tx *coreapi.TransactionStatusResponse) bool {
			return len(tx.PermataVaNumber) == 16
		}},
		{midtranstest.Method{PaymentType: "echannel"}, func(tx *coreapi.TransactionStatusResponse) bool {
			return tx.BillerCode != "" && tx.BillKey != ""
		}},
		{midtranstest.Method{PaymentType: "cstore"}, func(tx *coreapi.TransactionStatusResponse) bool {
			return tx.Store == "indomaret" && tx.PaymentCode != ""
		}},
		{midtranstest.Method{PaymentType: "credit_card"}, func(tx *coreapi.TransactionStatusResponse) bool {
			return tx.Bank != "" && tx.MaskedCard != ""
		}},
		{midtranstest.Method{PaymentType: "gopay"}, func(*coreapi.TransactionStatusResponse) bool { return true }},
		{midtranstest.Method{PaymentType: "qris"}, func(*coreapi.TransactionStatusResponse) bool { return true }},
	} {
		id := "sdk-method-" + tc.m.PaymentType + "-" + tc.m.Bank
		h.create(t, id)
		if _, err := h.fake.Choose(t.Context(), id, tc.m); err != nil {
			t.Fatal(err)
		}
		tx := h.status(t, id, "pending", "201")
		if tx.PaymentType != tc.m.PaymentType || !tc.check(tx) {
			t.Errorf("%s: %+v", id, tx)
		}
	}
}

func TestCancel(t *testing.T) {
	h := newHarness(t, serverKey)
	ctx := t.Context()
	h.create(t, "sdk-cancel-1")
	if _, err := h.fake.Choose(ctx, "sdk-cancel-1", midtranstest.Method{}); err != nil {
		t.Fatal(err)
	}
	resp, err := h.core.CancelTransaction("sdk-cancel-1")
	if err != nil || resp.StatusCode != "200" || resp.TransactionStatus != "cancel" || resp.OrderID != "sdk-cancel-1" ||
		resp.StatusMessage != "Success, transaction is canceled" || resp.GrossAmount != "10000.00" || len(resp.VaNumbers) != 1 {
		t.Errorf("cancel: %+v %v", resp, err)
	}
	h.status(t, "sdk-cancel-1", "cancel", "200")

	// A card capture can be cancelled too.
	h.create(t, "sdk-cancel-2")
	if _, err := h.fake.Pay(ctx, "sdk-cancel-2", midtranstest.PayOptions{Method: midtranstest.Method{PaymentType: "credit_card"}}); err != nil {
		t.Fatal(err)
	}
	h.status(t, "sdk-cancel-2", "capture", "200")
	resp, err = h.core.CancelTransaction("sdk-cancel-2")
	if err != nil || resp.TransactionStatus != "cancel" || resp.MaskedCard == "" {
		t.Errorf("cancel a capture: %+v %v", resp, err)
	}

	// Again: 412 in the body (HTTP 200), an error to the SDK.
	resp, err = h.core.CancelTransaction("sdk-cancel-1")
	if err == nil || err.StatusCode != 412 || resp.StatusCode != "412" {
		t.Errorf("cancel twice: %+v %v", resp, err)
	}
	// Unknown: "404" in the body.
	resp, err = h.core.CancelTransaction("sdk-cancel-unknown")
	if err == nil || err.StatusCode != 404 || resp.StatusCode != "404" {
		t.Errorf("cancel unknown: %+v %v", resp, err)
	}
}

func TestExpire(t *testing.T) {
	h := newHarness(t, serverKey)
	h.create(t, "sdk-expire-1")
	if _, err := h.fake.Choose(t.Context(), "sdk-expire-1", midtranstest.Method{PaymentType: "echannel"}); err != nil {
		t.Fatal(err)
	}
	// "407" is the expected answer, which the SDK does not count as an error.
	resp, err := h.core.ExpireTransaction("sdk-expire-1")
	if err != nil || resp.StatusCode != "407" || resp.TransactionStatus != "expire" ||
		resp.StatusMessage != "Success, transaction has expired" || resp.BillKey == "" {
		t.Errorf("expire: %+v %v", resp, err)
	}
	h.status(t, "sdk-expire-1", "expire", "407")
	resp, err = h.core.ExpireTransaction("sdk-expire-1")
	if err == nil || err.StatusCode != 412 {
		t.Errorf("expire twice: %+v %v", resp, err)
	}
}

func TestRefund(t *testing.T) {
	h := newHarness(t, serverKey)
	ctx := t.Context()
	h.create(t, "sdk-refund-1")
	if _, err := h.fake.Pay(ctx, "sdk-refund-1", midtranstest.PayOptions{Method: midtranstest.Method{PaymentType: "gopay"}}); err != nil {
		t.Fatal(err)
	}
	// The SDK always sends refund_key, amount and reason.
	resp, err := h.core.RefundTransaction("sdk-refund-1", &coreapi.RefundReq{RefundKey: "sdk-r-1", Amount: 4000, Reason: "one coffee short"})
	if err != nil || resp.StatusCode != "200" || resp.TransactionStatus != "partial_refund" || resp.OrderID != "sdk-refund-1" ||
		resp.GrossAmount != "10000.00" || resp.RefundAmount != "4000.00" || (resp.RefundKey != "" && resp.RefundKey != "sdk-r-1") {
		t.Errorf("partial refund: %+v %v", resp, err)
	}
	tx := h.status(t, "sdk-refund-1", "partial_refund", "200")
	if tx.RefundAmount != "4000.00" || len(tx.Refunds) != 1 || tx.Refunds[0].RefundAmount != "4000.00" ||
		tx.Refunds[0].RefundKey != "sdk-r-1" || tx.Refunds[0].Reason != "one coffee short" || tx.Refunds[0].RefundChargebackID == 0 {
		t.Errorf("after a partial refund: %+v", tx)
	}

	// The same key again: 406.
	_, err = h.core.RefundTransaction("sdk-refund-1", &coreapi.RefundReq{RefundKey: "sdk-r-1", Amount: 1000})
	if err == nil || err.StatusCode != 406 {
		t.Errorf("reused refund key: %v", err)
	}
	// More than is left: 414.
	_, err = h.core.RefundTransaction("sdk-refund-1", &coreapi.RefundReq{RefundKey: "sdk-r-2", Amount: 7000})
	if err == nil || err.StatusCode != 414 {
		t.Errorf("too much: %v", err)
	}
	resp, err = h.core.RefundTransaction("sdk-refund-1", &coreapi.RefundReq{RefundKey: "sdk-r-3", Amount: 6000})
	if err != nil || resp.TransactionStatus != "refund" {
		t.Errorf("the rest: %+v %v", resp, err)
	}
	tx = h.status(t, "sdk-refund-1", "refund", "200")
	if tx.RefundAmount != "10000.00" || len(tx.Refunds) != 2 {
		t.Errorf("after refunding all: %+v", tx)
	}

	// A bank transfer cannot be refunded: 412.
	h.create(t, "sdk-refund-2")
	if _, err := h.fake.Pay(ctx, "sdk-refund-2", midtranstest.PayOptions{}); err != nil {
		t.Fatal(err)
	}
	_, err = h.core.RefundTransaction("sdk-refund-2", &coreapi.RefundReq{Amount: 10000})
	if err == nil || err.StatusCode != 412 {
		t.Errorf("refund a bank transfer: %v", err)
	}
}

// TestNotifications runs an order through pending, settlement and two
// refunds and a second through cancel and a third through expire, then
// decodes every notification the fake sent (to the URL the SDK named in
// X-Override-Notification) with the SDK's TransactionStatusResponse,
// checks its signature, and confirms it as the SDK's own sample does: by
// reading the status with CheckTransaction.
func TestNotifications(t *testing.T) {
	h := newHarness(t, serverKey)
	ctx := t.Context()
	h.create(t, "sdk-notify-1")
	if _, err := h.fake.Pay(ctx, "sdk-notify-1", midtranstest.PayOptions{Method: midtranstest.Method{PaymentType: "qris"}}); err != nil {
		t.Fatal(err)
	}
	for _, amt := range []int64{2500, 7500} {
		if _, err := h.core.RefundTransaction("sdk-notify-1", &coreapi.RefundReq{Amount: amt}); err != nil {
			t.Fatal(err)
		}
	}
	h.create(t, "sdk-notify-2")
	if _, err := h.fake.Choose(ctx, "sdk-notify-2", midtranstest.Method{PaymentType: "cstore"}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.core.CancelTransaction("sdk-notify-2"); err != nil {
		t.Fatal(err)
	}
	h.create(t, "sdk-notify-3")
	if _, err := h.fake.Choose(ctx, "sdk-notify-3", midtranstest.Method{PaymentType: "bank_transfer", Bank: "permata"}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.core.ExpireTransaction("sdk-notify-3"); err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{
		// A refund is notified twice: at once, then bank-confirmed.
		"sdk-notify-1": {"pending/201", "settlement/200", "partial_refund/200", "partial_refund/200", "refund/200", "refund/200"},
		"sdk-notify-2": {"pending/201", "cancel/202"},
		"sdk-notify-3": {"pending/201", "expire/202"},
	}
	total := 0
	for _, w := range want {
		total += len(w)
	}
	if err := h.fake.WaitDeliveries(ctx, total); err != nil {
		t.Fatal(err)
	}

	h.app.mu.Lock()
	reqs, bodies := h.app.got, h.app.body
	h.app.mu.Unlock()
	got := map[string][]string{}
	for i, r := range reqs {
		if r.Method != http.MethodPost || r.URL.Path != "/midtrans" || r.Header.Get("User-Agent") != "Veritrans" ||
			r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("notification %d: %s %s %v", i, r.Method, r.URL, r.Header)
		}
		var n coreapi.TransactionStatusResponse
		if err := json.Unmarshal(bodies[i], &n); err != nil {
			t.Errorf("notification %d does not decode into the SDK's type: %v\n%s", i, err, bodies[i])
			continue
		}
		checkSigned(t, "notification "+n.OrderID+" "+n.TransactionStatus, &n)
		if n.StatusMessage != "midtrans payment notification" {
			t.Errorf("notification %d: status_message %q", i, n.StatusMessage)
		}
		if strings.Contains(n.TransactionStatus, "refund") && (len(n.Refunds) == 0 || n.RefundAmount == "") {
			t.Errorf("refund notification without refunds: %s", bodies[i])
		}
		got[n.OrderID] = append(got[n.OrderID], n.TransactionStatus+"/"+n.StatusCode)
	}
	for id, w := range want {
		if strings.Join(got[id], " ") != strings.Join(w, " ") {
			t.Errorf("%s notified %v, want %v", id, got[id], w)
		}
	}

	// The SDK's sample handler confirms a notification by reading the
	// status; the fake's answer agrees with the last notification.
	for id, last := range map[string]string{"sdk-notify-1": "refund", "sdk-notify-2": "cancel", "sdk-notify-3": "expire"} {
		tx, err := h.core.CheckTransaction(id)
		if err != nil || tx.TransactionStatus != last {
			t.Errorf("confirming %s: %+v %v", id, tx, err)
		}
	}
}
