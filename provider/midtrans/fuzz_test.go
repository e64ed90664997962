package midtrans_test

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/paylinkgo/paylink/provider"
	"github.com/paylinkgo/paylink/provider/midtrans"
)

const fuzzKey = "SB-Mid-server-fuzz"

// FuzzParseNotification gives the Provider's ParseCallback notifications
// built from fuzzed fields, signed or not, and fuzzed raw bodies. Whatever
// arrives, it never panics and either refuses with an error carrying a 4xx
// code (never quoting the server key) and no event, or returns the event
// of a notification that is signed and consistent (a status_code Midtrans
// documents for its status, a gross_amount as Midtrans writes it), with
// whole-rupiah amounts that are not negative, and a Raw without
// signature_key that decodes to the same payment.
func FuzzParseNotification(f *testing.F) {
	f.Add("order-1", "200", "10000.00", "settlement", "", "", true, `{}`)
	f.Add("order-1", "201", "10000.00", "pending", "", "", true, `{"order_id":"x"}`)
	f.Add("order-1", "200", "10000.00", "partial_refund", "", "3000.00", true, `[]`)
	f.Add("order-1", "200", "10000.00", "refund", "", "", true, `null`)
	f.Add("order-1", "200", "10000.50", "capture", "accept", "", true, `{"gross_amount":1}`)
	f.Add("order-1", "202", "-1.00", "deny", "challenge", "", false, "\x00")
	f.Add("o", "200", "99999999999999999999.00", "chargeback", "", "1e3", true, `{"order_id":"o","status_code":"200","gross_amount":"1.00","signature_key":"00"}`)
	f.Add("order-12", "01", "10000.00", "settlement", "", "", true, `{"Signature_Key":"x","order_id":"o"}`) // the splice
	f.Add("order-1", "201", "10000.00", "settlement", "", "", true, ` {"signature_key":"x"} `)              // pending rewritten
	f.Add("order-1", "201", "10000.00", "capture", "challenge", "", true, `{"order_id":"o","status_code":"201","gross_amount":"1.00","transaction_status":"pending","signature_key":"00"}`)
	f.Add("order-1", "407", "010000.00", "EXPIRE", "", "", true, `{"a":{"signature_key":1},"b":[1,2]}`)
	c, err := midtrans.NewClient(fuzzKey, midtrans.Options{BaseURL: "http://127.0.0.1:1"})
	if err != nil {
		f.Fatal(err)
	}
	p := midtrans.NewProvider(c, midtrans.ProviderOptions{MaxCallbackBytes: 4096, Logger: slog.New(slog.DiscardHandler)})
	f.Fuzz(func(t *testing.T, orderID, statusCode, gross, txStatus, fraud, refund string, sign bool, raw string) {
		n := map[string]any{"order_id": orderID, "status_code": statusCode, "gross_amount": gross,
			"transaction_status": txStatus, "fraud_status": fraud, "payment_type": "qris"}
		if refund != "" {
			n["refund_amount"] = refund
		}
		n["signature_key"] = "0"
		if sign {
			n["signature_key"] = midtrans.Signature(orderID, statusCode, gross, fuzzKey)
		}
		body, err := json.Marshal(n)
		if err != nil {
			t.Skip() // invalid UTF-8 is replaced, never refused, by Marshal: nothing to send
		}
		checkNotification(t, p, body, sign)
		checkNotification(t, p, []byte(raw), false)
	})
}

func checkNotification(t *testing.T, p *midtrans.Provider, body []byte, signed bool) {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, "/midtrans/notification", io.NopCloser(bytes.NewReader(body)))
	r.Header.Set("Content-Type", "application/json")
	ev, err := p.ParseCallback(t.Context(), r)
	if err != nil {
		if ev != nil {
			t.Fatal("an event and an error")
		}
		for _, code := range []provider.ErrorCode{provider.CodeInvalidArgument, provider.CodeUnauthenticated, provider.CodeTooLarge} {
			if errors.Is(err, code) {
				if strings.Contains(err.Error(), fuzzKey) {
					t.Fatalf("the error quotes the server key: %v", err)
				}
				return
			}
		}
		t.Fatalf("error %v carries no 4xx code", err)
	}
	if !signed {
		t.Fatalf("accepted a notification that was not signed: %s", body)
	}
	var tx midtrans.Transaction
	if err := json.Unmarshal(body, &tx); err != nil {
		t.Fatalf("accepted a body that does not decode: %s", body)
	}
	if !documented(tx) {
		t.Fatalf("accepted status_code %q with %s/%s, gross_amount %q", tx.StatusCode, tx.TransactionStatus, tx.FraudStatus, tx.GrossAmount)
	}
	pay := ev.Payment
	if pay.ID == "" || pay.Amount.Amount < 0 || pay.RefundedAmount.Amount < 0 {
		t.Fatalf("accepted notification gave %+v", ev)
	}
	if pay.Status != "" && !pay.Status.Valid() {
		t.Fatalf("status %q is not a portable one", pay.Status)
	}
	var members map[string]json.RawMessage
	if err := json.Unmarshal(ev.Raw, &members); err != nil {
		t.Fatalf("Raw %s does not decode: %v", ev.Raw, err)
	}
	for name := range members {
		if strings.EqualFold(name, "signature_key") {
			t.Fatalf("Raw keeps %q: %s", name, ev.Raw)
		}
	}
	if len(tx.SignatureKey) == 128 && (bytes.Contains(ev.Raw, []byte(tx.SignatureKey)) || bytes.Contains(pay.Raw, []byte(tx.SignatureKey))) {
		t.Fatalf("the signature is kept: %s", ev.Raw)
	}
	again, err := p.DecodeCallback(t.Context(), ev.Raw)
	if err != nil || !reflect.DeepEqual(again.Payment, pay) {
		t.Fatalf("DecodeCallback(Raw) = %+v, %v; want %+v", again, err, pay)
	}
}

// documented is the test's own reading of Midtrans's documents: the
// status_code of each transaction_status, and gross_amount as whole
// rupiah with ".00".
func documented(tx midtrans.Transaction) bool {
	codes := map[string][]string{
		"pending": {"201", "200"}, "authorize": {"200"}, "settlement": {"200"}, "deny": {"202"},
		"cancel": {"202", "200"}, "expire": {"202", "407"}, "failure": {"202"},
		"refund": {"200"}, "partial_refund": {"200"}, "chargeback": {"200"}, "partial_chargeback": {"200"},
	}
	st := strings.ToLower(strings.TrimSpace(string(tx.TransactionStatus)))
	want, ok := codes[st]
	switch {
	case st == "capture" && strings.EqualFold(strings.TrimSpace(string(tx.FraudStatus)), "challenge"):
		want = []string{"201"}
	case st == "capture":
		want = []string{"200"}
	case !ok:
		want = []string{"200", "201", "202"}
	}
	return slices.Contains(want, tx.StatusCode) && grossFormat.MatchString(tx.GrossAmount)
}

var grossFormat = regexp.MustCompile(`^[1-9][0-9]*\.00$`)

// FuzzParseAmount: a decimal string is whole rupiah or an error, never
// rounded; what FormatAmount writes parses back to the same amount.
func FuzzParseAmount(f *testing.F) {
	for _, s := range []string{"10000.00", "0.00", "1", "10000.50", "1e3", "-1.00", ".00", "1.", "9223372036854775807.00", "9223372036854775808"} {
		f.Add(s, int64(len(s)))
	}
	f.Fuzz(func(t *testing.T, s string, n int64) {
		got, err := midtrans.ParseAmount(s)
		if err == nil {
			whole, frac, _ := strings.Cut(s, ".")
			if w := cmp.Or(strings.TrimLeft(whole, "0"), "0"); got < 0 || w != strconv.FormatInt(got, 10) || strings.Trim(frac, "0") != "" {
				t.Fatalf("ParseAmount(%q) = %d, want the whole part exactly", s, got)
			}
		} else if !errors.Is(err, provider.CodeInvalidArgument) {
			t.Fatalf("ParseAmount(%q): %v, want CodeInvalidArgument", s, err)
		}
		if n >= 0 {
			if back, err := midtrans.ParseAmount(midtrans.FormatAmount(n)); err != nil || back != n {
				t.Fatalf("ParseAmount(FormatAmount(%d)) = %d, %v", n, back, err)
			}
		}
	})
}
