package ginadapter_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/paylinkgo/paylink/flip"
	"github.com/paylinkgo/paylink/flip/fliptest"
	"github.com/paylinkgo/paylink/ginadapter"
	"github.com/paylinkgo/paylink/provider"
)

// TestBadInput sends what a careless client, a broken proxy or an attacker
// may send to the callback route and the JSON routes, and checks for each
// request its exact answer, that no input a client controls gets a 5xx or
// a panic, and what the database gained (nothing, unless the case says
// otherwise). It runs on SQLite, and on PostgreSQL when
// PAYLINK_TEST_POSTGRES_DSN is set: PostgreSQL refuses text SQLite stores
// (a NUL byte, an id longer than its column).
//
// The cases of one database run one after the other on one app, so that
// the row counts before and after each request are exact.
func TestBadInput(t *testing.T) {
	t.Parallel()
	cases := append(callbackCases(), apiCases()...)
	if len(cases) < 70 {
		t.Fatalf("the suite has %d cases; it is meant to have at least 70", len(cases))
	}
	for _, db := range databases() {
		t.Run(db.name, func(t *testing.T) {
			t.Parallel()
			a := newGuardedApp(t, db.open(t))
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) { a.check(t, tc) })
			}
		})
	}
}

// badInputCase is one request and what must come of it.
type badInputCase struct {
	name string
	// request builds the request from the case's fixture (a fresh link and
	// an unused payment id, which it may change).
	request func(f *fixture) *http.Request
	// status is the exact answer.
	status int
	// verdict is the callback route's verdict of a 200 answer.
	verdict provider.Verdict
	// field is the field a JSON route's refusal must name.
	field string
	// effect is what the database gains.
	effect effect
	// stored checks the payment as stored, for a case that pays.
	stored func(t *testing.T, p *provider.Payment)
}

// check sends the case's request and checks everything the case says.
func (a *guardedApp) check(t *testing.T, tc badInputCase) {
	f := a.newFixture(t)
	req := tc.request(f)
	callback := req.URL.Path == cbPath
	before := a.rowCounts(t)
	rec := a.serve(req)
	after := a.rowCounts(t)

	if p := a.panicked(); len(p) > 0 {
		t.Fatalf("the request made the server panic: %v", p)
	}
	if rec.Code >= 500 && tc.status != http.StatusServiceUnavailable {
		t.Errorf("answer %d: a client's input must never be a server error; body %s", rec.Code, rec.Body)
	}
	if rec.Code != tc.status {
		t.Errorf("answer %d, want %d; body %.300s", rec.Code, tc.status, rec.Body)
	}
	checkEffect(t, tc.effect, before, after)

	switch {
	case callback:
		var ans ginadapter.CallbackAnswer
		if err := json.Unmarshal(rec.Body.Bytes(), &ans); err != nil {
			t.Fatalf("the callback answer is not JSON: %v; body %.300s", err, rec.Body)
		}
		if ans.OK != (rec.Code == http.StatusOK) || ans.Verdict != tc.verdict {
			t.Errorf("callback answer %+v, want ok=%v verdict %q", ans, tc.status == http.StatusOK, tc.verdict)
		}
	case rec.Code >= 400:
		var ans ginadapter.ErrorResponse
		if err := json.Unmarshal(rec.Body.Bytes(), &ans); err != nil || ans.Error == "" {
			t.Fatalf("refusal %d is not an ErrorResponse with a message (%v): %.300s", rec.Code, err, rec.Body)
		}
		if tc.field != "" && !namesField(ans.Fields, tc.field) {
			t.Errorf("refusal names fields %+v, want %q among them", ans.Fields, tc.field)
		}
	}

	if tc.effect == paysOnce {
		p, err := a.store.GetPayment(context.Background(), "flip", f.payID)
		if err != nil {
			t.Fatalf("the paid payment %.40q is not stored: %v", f.payID, err)
		}
		if p.Status != provider.PaymentSuccessful || p.Amount != provider.Rupiah(linkAmount) || p.LinkID != f.linkID {
			t.Errorf("stored payment %s %v of link %s, want SUCCESSFUL %d of %s", p.Status, p.Amount, p.LinkID, linkAmount, f.linkID)
		}
		if tc.stored != nil {
			tc.stored(t, p)
		}
	}
}

func namesField(fields []provider.FieldError, name string) bool {
	for _, f := range fields {
		if f.Field == name {
			return true
		}
	}
	return false
}

// senderIs checks the stored sender name.
func senderIs(want string) func(t *testing.T, p *provider.Payment) {
	return func(t *testing.T, p *provider.Payment) {
		t.Helper()
		if p.Sender.Name != want {
			t.Errorf("stored sender name %q, want %q", p.Sender.Name, want)
		}
	}
}

// emailIs checks the stored sender email.
func emailIs(want string) func(t *testing.T, p *provider.Payment) {
	return func(t *testing.T, p *provider.Payment) {
		t.Helper()
		if p.Sender.Email != want {
			t.Errorf("stored sender email %q, want %q", p.Sender.Email, want)
		}
	}
}

// methodIs checks the stored payment method.
func methodIs(bank, typ string) func(t *testing.T, p *provider.Payment) {
	return func(t *testing.T, p *provider.Payment) {
		t.Helper()
		if p.Method.Bank != bank || p.Method.Type != typ {
			t.Errorf("stored method %+v, want bank %q type %q", p.Method, bank, typ)
		}
	}
}

// applied is the verdict of a callback that pays.
const applied = provider.VerdictApplied

// callbackCases are the cases of the callback route: Flip's form
// (data=<json>&token=<token>) and everything that is not quite it.
func callbackCases() []badInputCase {
	const (
		ok        = http.StatusOK
		bad       = http.StatusBadRequest
		unauth    = http.StatusUnauthorized
		tooLarge  = http.StatusRequestEntityTooLarge
		mediaType = http.StatusUnsupportedMediaType
		// unverified answers a genuinely signed callback for a payment
		// Flip does not show (an id the fake never made): it is recorded
		// as unverified, nothing is paid, and Flip is asked to retry.
		unverified = http.StatusServiceUnavailable
	)
	genuine := func(f *fixture) *http.Request { return f.callback(nil) }
	data := func(raw map[string]string) func(f *fixture) *http.Request {
		return func(f *fixture) *http.Request { return f.withData(raw) }
	}
	edit := func(change func(cb *flip.Callback)) func(f *fixture) *http.Request {
		return func(f *fixture) *http.Request { return f.callback(change) }
	}
	// form posts the genuine data with token as the token field.
	form := func(token string) func(f *fixture) *http.Request {
		return func(f *fixture) *http.Request {
			return postForm(url.Values{"data": {f.data(nil)}, "token": {token}}.Encode())
		}
	}
	// dataOnly posts the genuine data without a token field.
	dataOnly := func(f *fixture) string { return url.Values{"data": {f.data(nil)}}.Encode() }
	// body posts the genuine callback's body with another content type.
	body := func(contentType string) func(f *fixture) *http.Request {
		return func(f *fixture) *http.Request {
			return post(cbPath, contentType, url.Values{"data": {f.data(nil)}, "token": {testToken}}.Encode())
		}
	}
	// payID sets the payment id, sent as a JSON string.
	payID := func(id string) func(f *fixture) *http.Request {
		return func(f *fixture) *http.Request {
			f.payID = id
			return f.callback(nil)
		}
	}
	sqlText := "Budi'); DROP TABLE paylink_payments; --"
	traversal := "../../../../etc/passwd"

	return []badInputCase{
		{name: "a genuine callback is paid once", request: genuine, status: ok, verdict: applied, effect: paysOnce, stored: senderIs("Budi")},

		// The token.
		{name: "no token field is 401", request: func(f *fixture) *http.Request { return postForm(dataOnly(f)) }, status: unauth},
		{name: "an empty token is 401", request: form(""), status: unauth},
		{name: "a token wrong in its last character is 401", request: form(testToken[:len(testToken)-1] + "d"), status: unauth},
		{name: "a token wrong in its first character is 401", request: form("d" + testToken[1:]), status: unauth},
		{name: "a token one character short is 401", request: form(testToken[:len(testToken)-1]), status: unauth},
		{name: "the token and one character more is 401", request: form(testToken + "0"), status: unauth},
		{name: "the token and a trailing space is 401", request: form(testToken + " "), status: unauth},
		{name: "the token in capitals is 401", request: form(strings.ToUpper(testToken)), status: unauth},
		{name: "the token and a NUL byte is 401", request: form(testToken + "\x00"), status: unauth},
		{name: "an overlong token of 32 KiB is 401", request: form(strings.Repeat(testToken, 32<<10/len(testToken))), status: unauth},
		{name: "a token longer than the body limit is 413", request: form(strings.Repeat("t", 70<<10)), status: tooLarge},
		{name: "a wrong token before the right one is 401", request: func(f *fixture) *http.Request {
			return postForm(dataOnly(f) + "&token=wrong&token=" + testToken)
		}, status: unauth},
		{name: "the token only in the query string is 401", request: func(f *fixture) *http.Request {
			return post(cbPath+"?token="+testToken, "application/x-www-form-urlencoded", dataOnly(f))
		}, status: unauth},
		{name: "the token only in an Authorization header is 401", request: func(f *fixture) *http.Request {
			req := postForm(dataOnly(f))
			req.Header.Set("Authorization", "Bearer "+testToken)
			return req
		}, status: unauth},
		{name: "the token only in an X-Callback-Token header is 401", request: func(f *fixture) *http.Request {
			req := postForm(dataOnly(f))
			req.Header.Set("X-Callback-Token", testToken)
			return req
		}, status: unauth},
		{name: "the token only inside the data JSON is 401", request: func(f *fixture) *http.Request {
			return postForm(url.Values{"data": {f.data(map[string]string{"token": quoted(testToken)})}}.Encode())
		}, status: unauth},

		// The data field, and JSON of every wrong shape.
		{name: "no data field is 400", request: func(*fixture) *http.Request { return postForm("token=" + testToken) }, status: bad},
		{name: "an empty data field is 400", request: func(*fixture) *http.Request { return postForm("data=&token=" + testToken) }, status: bad},
		{name: "data that is not JSON is 400", request: func(*fixture) *http.Request {
			return postForm(url.Values{"data": {"id=PGPWF1&status=SUCCESSFUL"}, "token": {testToken}}.Encode())
		}, status: bad},
		{name: "data cut off in the middle of the object is 400", request: func(f *fixture) *http.Request {
			d := f.data(nil)
			return postForm(url.Values{"data": {d[:len(d)/2]}, "token": {testToken}}.Encode())
		}, status: bad},
		{name: "data as a JSON array is 400", request: func(f *fixture) *http.Request {
			return postForm(url.Values{"data": {"[" + f.data(nil) + "]"}, "token": {testToken}}.Encode())
		}, status: bad},
		{name: "data as a JSON string holding the object is 400", request: func(f *fixture) *http.Request {
			return postForm(url.Values{"data": {quoted(f.data(nil))}, "token": {testToken}}.Encode())
		}, status: bad},
		{name: "data as a JSON number is 400", request: func(*fixture) *http.Request { return postForm("data=45000&token=" + testToken) }, status: bad},
		{name: "data as JSON null is 400", request: func(*fixture) *http.Request { return postForm("data=null&token=" + testToken) }, status: bad},
		{name: "data as JSON true is 400", request: func(*fixture) *http.Request { return postForm("data=true&token=" + testToken) }, status: bad},
		{name: "data with a second closing brace after the object is 400", request: func(f *fixture) *http.Request {
			return postForm(url.Values{"data": {f.data(nil) + "}"}, "token": {testToken}}.Encode())
		}, status: bad},
		{name: "data with a second object after the first is 400", request: func(f *fixture) *http.Request {
			return postForm(url.Values{"data": {f.data(nil) + f.data(nil)}, "token": {testToken}}.Encode())
		}, status: bad},
		{name: "unencoded data nested 20,000 levels deep is 400", request: func(*fixture) *http.Request {
			return postForm(`data={"id":` + nested(20000) + `}&token=` + testToken)
		}, status: bad},
		{name: "an id of arrays nested 5,000 levels deep is 400", request: data(map[string]string{"id": nested(5000)}), status: bad},
		{name: "an unknown field nested 5,000 levels deep is ignored: paid", request: data(map[string]string{"extra": nested(5000)}), status: ok, verdict: applied, effect: paysOnce},
		{name: "an id that is an object is 400", request: data(map[string]string{"id": `{"value":"PGPWF1"}`}), status: bad},
		{name: "an id that is an array is 400", request: data(map[string]string{"id": `["PGPWF1"]`}), status: bad},
		{name: "an id that is true is 400", request: data(map[string]string{"id": `true`}), status: bad},
		{name: "an id that is null is 400", request: data(map[string]string{"id": `null`}), status: bad},
		{name: "a missing id is 400", request: data(map[string]string{"id": ""}), status: bad},
		{name: "an id sent as a number is read as its digits: Flip does not show it, recorded unverified", request: func(f *fixture) *http.Request {
			f.payID = "7" + f.payID[len("PGPWF"):]
			return f.withData(map[string]string{"id": f.payID})
		}, status: unverified, effect: recordsCallback},
		{name: "a bill_link_id that is an object is 400", request: data(map[string]string{"bill_link_id": `{"id":1}`}), status: bad},
		{name: "a bill_link_id with a fraction is 400", request: data(map[string]string{"bill_link_id": `1.5`}), status: bad},
		{name: "a bill_link_id sent as a string is read: paid", request: func(f *fixture) *http.Request {
			return f.withData(map[string]string{"bill_link_id": quoted(f.linkID)})
		}, status: ok, verdict: applied, effect: paysOnce},
		{name: "a status that is a number is an unknown status: recorded and flagged", request: data(map[string]string{"status": `1`}), status: ok, verdict: provider.VerdictUnknownStatus, effect: recordsCallback},
		{name: "a status that is an object is 400", request: data(map[string]string{"status": `{"code":"SUCCESSFUL"}`}), status: bad},
		{name: "an amount that is an object is 400", request: data(map[string]string{"amount": `{"value":45000}`}), status: bad},
		{name: "an amount that is true is 400", request: data(map[string]string{"amount": `true`}), status: bad},
		{name: "a sender_name that is an object is ignored: paid, stored as Flip shows it", request: data(map[string]string{"sender_name": `{"first":"Budi"}`}), status: ok, verdict: applied, effect: paysOnce, stored: senderIs("Budi")},
		{name: "a sender_email that is an array is ignored: paid, stored as Flip shows it", request: data(map[string]string{"sender_email": `["budi@example.com"]`}), status: ok, verdict: applied, effect: paysOnce, stored: emailIs("")},
		{name: "a created_at that is an object is left empty: paid", request: data(map[string]string{"created_at": `{"date":"2026-01-02"}`}), status: ok, verdict: applied, effect: paysOnce},

		// Amounts.
		{name: "a negative amount is 400", request: data(map[string]string{"amount": `-45000`}), status: bad},
		{name: "a zero amount for a SUCCESSFUL payment: Flip shows it paid in full, recorded unverified", request: data(map[string]string{"amount": `0`}), status: unverified, effect: recordsCallback},
		{name: "an amount one rupiah short: Flip shows it paid in full, recorded unverified", request: data(map[string]string{"amount": `44999`}), status: unverified, effect: recordsCallback},
		{name: "an amount with a fraction of a rupiah is 400", request: data(map[string]string{"amount": `45000.5`}), status: bad},
		{name: "a whole amount written with decimals is paid", request: data(map[string]string{"amount": `45000.00`}), status: ok, verdict: applied, effect: paysOnce},
		{name: "an amount in a string is paid", request: data(map[string]string{"amount": `"45000"`}), status: ok, verdict: applied, effect: paysOnce},
		{name: "an amount beyond int64 is 400", request: data(map[string]string{"amount": `9223372036854775808`}), status: bad},
		{name: "an amount of 1e400 is 400", request: data(map[string]string{"amount": `1e400`}), status: bad},
		{name: "an amount in words is 400", request: data(map[string]string{"amount": `"forty-five thousand"`}), status: bad},
		{name: "a missing amount is 400", request: data(map[string]string{"amount": ""}), status: bad},

		// Statuses and links.
		{name: "an unknown status is recorded and flagged", request: data(map[string]string{"status": `"REFUNDED"`}), status: ok, verdict: provider.VerdictUnknownStatus, effect: recordsCallback},
		{name: "a status in lower case is paid", request: data(map[string]string{"status": `"successful"`}), status: ok, verdict: applied, effect: paysOnce},
		{name: "a blank status is 400", request: data(map[string]string{"status": `"  "`}), status: bad},
		{name: "a 10 KB status is recorded and flagged", request: data(map[string]string{"status": quoted(strings.Repeat("S", 10<<10))}), status: ok, verdict: provider.VerdictUnknownStatus, effect: recordsCallback},
		{name: "a status with a NUL byte inside is recorded and flagged", request: data(map[string]string{"status": `"SUCCESS\u0000FUL"`}), status: ok, verdict: provider.VerdictUnknownStatus, effect: recordsCallback},
		{name: "a SUCCESSFUL status padded with 100 spaces is paid", request: data(map[string]string{"status": quoted("SUCCESSFUL" + strings.Repeat(" ", 100))}), status: ok, verdict: applied, effect: paysOnce},
		{name: "a link nobody created is recorded and flagged", request: data(map[string]string{"bill_link_id": `9999999999999`}), status: ok, verdict: provider.VerdictUnknownLink, effect: recordsCallback},

		// Unicode, NUL and control characters.
		{name: "a NUL byte in sender_name is paid, stored as Flip shows it", request: edit(func(cb *flip.Callback) { cb.SenderName = "Bu\x00di" }), status: ok, verdict: applied, effect: paysOnce, stored: senderIs("Budi")},
		{name: "a sender_name of NUL bytes only is paid, stored as Flip shows it", request: edit(func(cb *flip.Callback) { cb.SenderName = "\x00\x00" }), status: ok, verdict: applied, effect: paysOnce, stored: senderIs("Budi")},
		{name: "invalid UTF-8 in sender_name is paid, stored as Flip shows it", request: func(f *fixture) *http.Request {
			return f.withData(map[string]string{"sender_name": "\"Bu\xff\xfedi\""})
		}, status: ok, verdict: applied, effect: paysOnce, stored: senderIs("Budi")},
		{name: "control characters and an ANSI escape in sender_name are paid, stored as Flip shows it", request: edit(func(cb *flip.Callback) { cb.SenderName = "Bu\adi\x1b[31m\r\n\t" }), status: ok, verdict: applied, effect: paysOnce, stored: senderIs("Budi")},
		{name: "emoji, a right-to-left override and combining marks in sender_name are paid, stored as Flip shows it", request: edit(func(cb *flip.Callback) { cb.SenderName = "Bu\u202edi 💸 Z\u0351\u0334" }), status: ok, verdict: applied, effect: paysOnce, stored: senderIs("Budi")},
		{name: "a 40 KB sender_name is paid, stored as Flip shows it", request: edit(func(cb *flip.Callback) { cb.SenderName = strings.Repeat("Budi ", 8<<10) }), status: ok, verdict: applied, effect: paysOnce, stored: senderIs("Budi")},
		{name: "a NUL byte in sender_email is paid, stored as Flip shows it", request: edit(func(cb *flip.Callback) { cb.SenderEmail = "budi@example.com\x00" }), status: ok, verdict: applied, effect: paysOnce, stored: emailIs("")},
		{name: "NUL bytes in sender_bank and sender_bank_type are paid, stored as Flip shows it", request: edit(func(cb *flip.Callback) { cb.SenderBank, cb.SenderBankType = "b\x00ni", "virtual_account\x00" }), status: ok, verdict: applied, effect: paysOnce, stored: methodIs("bni", "virtual_account")},
		{name: "a 1,000-byte sender_bank_type is paid, stored as Flip shows it", request: edit(func(cb *flip.Callback) { cb.SenderBankType = strings.Repeat("é", 500) }), status: ok, verdict: applied, effect: paysOnce, stored: methodIs("bni", "virtual_account")},
		{name: "NUL bytes in bill_title and bill_link are paid", request: edit(func(cb *flip.Callback) { cb.BillTitle, cb.BillLink = "Order\x001", "flip.id/\x00" }), status: ok, verdict: applied, effect: paysOnce},
		{name: "a NUL byte in created_at is paid, the time left empty", request: data(map[string]string{"created_at": `"2026-01-02\u0000 10:00:00"`}), status: ok, verdict: applied, effect: paysOnce},
		{name: "a NUL byte in the payment id is 400", request: payID("PGPWF\x001"), status: bad},
		{name: "a newline in the payment id is 400", request: payID("PGPWF1\n"), status: bad},
		{name: "invalid UTF-8 in the payment id is read as U+FFFD: Flip does not show it, recorded unverified", request: func(f *fixture) *http.Request {
			f.payID += "\uFFFD"
			return f.withData(map[string]string{"id": "\"" + strings.TrimSuffix(f.payID, "\uFFFD") + "\xff\""})
		}, status: unverified, effect: recordsCallback},
		{name: "a payment id of 129 bytes is 400", request: payID(strings.Repeat("P", 129)), status: bad},
		{name: "a payment id of 128 bytes is read: Flip does not show it, recorded unverified", request: payID(strings.Repeat("P", 127) + "8"), status: unverified, effect: recordsCallback},
		{name: "a NUL byte in bill_link_id is 400", request: func(f *fixture) *http.Request {
			return f.withData(map[string]string{"bill_link_id": quoted(f.linkID + "\x00")})
		}, status: bad},
		{name: "a bill_link_id of 200 digits is 400", request: data(map[string]string{"bill_link_id": strings.Repeat("9", 200)}), status: bad},

		// SQL and path traversal in every field.
		{name: "SQL as the payment id is recorded as sent, unverified: Flip does not show it", request: payID("1'; DROP TABLE paylink_payments; --"), status: unverified, effect: recordsCallback},
		{name: "SQL as bill_link_id is a link nobody created: recorded and flagged", request: data(map[string]string{"bill_link_id": quoted("1 OR 1=1")}), status: ok, verdict: provider.VerdictUnknownLink, effect: recordsCallback},
		{name: "SQL in sender_name is paid, stored as Flip shows it", request: edit(func(cb *flip.Callback) { cb.SenderName = sqlText }), status: ok, verdict: applied, effect: paysOnce, stored: senderIs("Budi")},
		{name: "SQL in sender_email is paid, stored as Flip shows it", request: edit(func(cb *flip.Callback) { cb.SenderEmail = "x' OR '1'='1" }), status: ok, verdict: applied, effect: paysOnce, stored: emailIs("")},
		{name: "SQL in sender_bank is paid, stored as Flip shows it", request: edit(func(cb *flip.Callback) { cb.SenderBank = "bni'--" }), status: ok, verdict: applied, effect: paysOnce, stored: methodIs("bni", "virtual_account")},
		{name: "SQL as the status is an unknown status: recorded and flagged", request: edit(func(cb *flip.Callback) { cb.Status = "SUCCESSFUL' OR '1'='1" }), status: ok, verdict: provider.VerdictUnknownStatus, effect: recordsCallback},
		{name: "SQL as the amount is 400", request: data(map[string]string{"amount": quoted("45000; DELETE FROM paylink_payments")}), status: bad},
		{name: "a path traversal as the payment id is recorded as sent, unverified: Flip does not show it", request: payID(traversal), status: unverified, effect: recordsCallback},
		{name: "a path traversal as bill_link_id is a link nobody created: recorded and flagged", request: data(map[string]string{"bill_link_id": quoted(traversal)}), status: ok, verdict: provider.VerdictUnknownLink, effect: recordsCallback},
		{name: "a path traversal in sender_name and sender_email is paid, stored as Flip shows it", request: edit(func(cb *flip.Callback) { cb.SenderName, cb.SenderEmail = traversal, traversal }), status: ok, verdict: applied, effect: paysOnce, stored: senderIs("Budi")},
		{name: "a path traversal as the status is an unknown status: recorded and flagged", request: edit(func(cb *flip.Callback) { cb.Status = traversal }), status: ok, verdict: provider.VerdictUnknownStatus, effect: recordsCallback},

		// Content types.
		{name: "the form labelled application/json is 415", request: body("application/json"), status: mediaType},
		{name: "the form labelled text/plain is 415", request: body("text/plain"), status: mediaType},
		{name: "the form without a content type is 415", request: body(""), status: mediaType},
		{name: "an unparsable content type is 415", request: body(";;;=="), status: mediaType},
		{name: "data and token as multipart/form-data parts are 415", request: func(f *fixture) *http.Request {
			const b = "PAYLINKBOUNDARY"
			parts := "--" + b + "\r\nContent-Disposition: form-data; name=\"data\"\r\n\r\n" + f.data(nil) +
				"\r\n--" + b + "\r\nContent-Disposition: form-data; name=\"token\"\r\n\r\n" + testToken + "\r\n--" + b + "--\r\n"
			return post(cbPath, "multipart/form-data; boundary="+b, parts)
		}, status: mediaType},
		{name: "the form content type with a charset is paid", request: body("application/x-www-form-urlencoded; charset=UTF-8"), status: ok, verdict: applied, effect: paysOnce},
		{name: "the form content type in capitals is paid", request: body("Application/X-WWW-Form-URLEncoded"), status: ok, verdict: applied, effect: paysOnce},

		// Bodies.
		{name: "a body over the 64 KiB limit with its length declared is 413", request: edit(func(cb *flip.Callback) { cb.SenderName = strings.Repeat("x", 65<<10) }), status: tooLarge},
		{name: "a body over the 64 KiB limit sent chunked is 413", request: func(f *fixture) *http.Request {
			req := f.callback(func(cb *flip.Callback) { cb.SenderName = strings.Repeat("x", 65<<10) })
			req.ContentLength = -1
			return req
		}, status: tooLarge},
		{name: "an empty body is 401 (no token)", request: func(*fixture) *http.Request { return postForm("") }, status: unauth},
		{name: "a body that is not a form is 400", request: func(*fixture) *http.Request { return postForm("data=%zz&token=" + testToken) }, status: bad},
		{name: "Flip's unencoded sample body is paid", request: func(f *fixture) *http.Request {
			return postForm("data=" + f.data(nil) + "&token=" + testToken)
		}, status: ok, verdict: applied, effect: paysOnce},
		{name: "an unencoded body whose JSON runs on past its object is 400", request: func(f *fixture) *http.Request {
			return postForm("data=" + f.data(nil) + "}&token=" + testToken)
		}, status: bad},
	}
}

// apiCases are the cases of the JSON routes: POST /paylink/links and
// GET /paylink/links/:id, and the return route.
func apiCases() []badInputCase {
	const (
		created   = http.StatusCreated
		bad       = http.StatusBadRequest
		invalid   = http.StatusUnprocessableEntity
		notFound  = http.StatusNotFound
		tooLarge  = http.StatusRequestEntityTooLarge
		linksPath = "/paylink/links"
	)
	const valid = `{"title":"Order 1","amount":45000}`
	create := func(body string) func(*fixture) *http.Request {
		return func(*fixture) *http.Request { return post(linksPath, "application/json", body) }
	}
	get := func(id string) func(*fixture) *http.Request {
		return func(*fixture) *http.Request {
			return jsonRequest(http.MethodGet, linksPath+"/"+url.PathEscape(id), "")
		}
	}
	withKey := func(key string) func(*fixture) *http.Request {
		return func(*fixture) *http.Request {
			req := post(linksPath, "application/json", valid)
			req.Header.Set(ginadapter.IdempotencyKeyHeader, key)
			return req
		}
	}
	return []badInputCase{
		{name: "a valid link request creates a link", request: create(valid), status: created, effect: createsLink},
		{name: "a link request that is not JSON is 400", request: create(`title=Order+1&amount=45000`), status: bad},
		{name: "an empty link request is 400", request: create(``), status: bad},
		{name: "a link request that is a JSON array is 400", request: create(`[` + valid + `]`), status: bad},
		{name: "a link request that is a JSON string is 400", request: create(quoted(valid)), status: bad},
		{name: "a link request that is a JSON number is 400", request: create(`45000`), status: bad},
		{name: "a link request that is JSON null is 400", request: create(`null`), status: bad},
		{name: "a link request with a second closing brace is 400", request: create(valid + `}`), status: bad},
		{name: "a link request followed by a second object is 400", request: create(valid + ` {}`), status: bad},
		{name: "a link request nested 20,000 levels deep is 400", request: create(`{"title":` + nested(20000) + `}`), status: bad},
		{name: "a title that is an object is 422 naming title", request: create(`{"title":{"text":"Order 1"},"amount":45000}`), status: invalid, field: "title"},
		{name: "an amount in a string is 422 naming amount", request: create(`{"title":"Order 1","amount":"45000"}`), status: invalid, field: "amount"},
		{name: "a negative amount is 422 naming amount", request: create(`{"title":"Order 1","amount":-45000}`), status: invalid, field: "amount"},
		{name: "an amount with a fraction is 422 naming amount", request: create(`{"title":"Order 1","amount":45000.5}`), status: invalid, field: "amount"},
		{name: "an amount beyond int64 is 422 naming amount", request: create(`{"title":"Order 1","amount":9223372036854775808}`), status: invalid, field: "amount"},
		{name: "a customer that is a string is 422 naming customer", request: create(`{"title":"Order 1","amount":45000,"customer":"Budi"}`), status: invalid, field: "customer"},
		{name: "a NUL byte in the title is 422 naming title", request: create(`{"title":"Order\u00001","amount":45000}`), status: invalid, field: "title"},
		{name: "a NUL byte in customer.name is 422 naming customer.name", request: create(`{"title":"Order 1","amount":45000,"step":2,"customer":{"name":"Bu\u0000di","email":"budi@example.com"}}`), status: invalid, field: "customer.name"},
		{name: "a NUL byte in idempotency_key is 422 naming idempotency_key", request: create(`{"title":"Order 1","amount":45000,"idempotency_key":"k\u00001"}`), status: invalid, field: "idempotency_key"},
		{name: "an Idempotency-Key header of 300 bytes is 422 naming idempotency_key", request: withKey(strings.Repeat("k", 300)), status: invalid, field: "idempotency_key"},
		{name: "a control character in the Idempotency-Key header is 422 naming idempotency_key", request: withKey("order\x011"), status: invalid, field: "idempotency_key"},
		{name: "a JSON link request labelled text/plain is read as JSON", request: func(*fixture) *http.Request { return post(linksPath, "text/plain", valid) }, status: created, effect: createsLink},
		{name: "a link request over the 64 KiB limit is 413", request: create(`{"title":"` + strings.Repeat("x", 65<<10) + `","amount":45000}`), status: tooLarge},
		{name: "the link itself is found", request: func(f *fixture) *http.Request { return get(f.linkID)(f) }, status: http.StatusOK},
		{name: "a link id with a NUL byte is 404", request: get("1\x002"), status: notFound},
		{name: "a link id of 10 KB is 404", request: get(strings.Repeat("9", 10<<10)), status: notFound},
		{name: "SQL as the link id is 404", request: get("1' OR '1'='1"), status: notFound},
		{name: "a path traversal as the link id is 404", request: get(".."), status: notFound},
		{name: "the return route with a NUL byte in the link id is 404", request: func(*fixture) *http.Request {
			return jsonRequest(http.MethodGet, "/paylink/return/1%002", "")
		}, status: notFound},
	}
}

// TestGenuinePaymentWithANULInTheSenderNameIsPaid: the fake Flip pays a
// link for a customer whose name holds a NUL byte and delivers the
// callback over HTTP. PostgreSQL refuses a NUL in text, so before the
// name was cleaned every delivery was a 500 and the payment never became
// SUCCESSFUL; now the first delivery is answered 200 and the payment is
// stored with the name cleaned.
func TestGenuinePaymentWithANULInTheSenderNameIsPaid(t *testing.T) {
	t.Parallel()
	for _, db := range databases() {
		t.Run(db.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			a := newGuardedApp(t, db.open(t))
			l, err := a.svc.CreateLink(ctx, "", provider.CreateLinkParams{Title: "Order 1", Amount: provider.Rupiah(linkAmount)})
			if err != nil {
				t.Fatal(err)
			}
			pay, err := a.fake.Pay(ctx, l.ID, fliptest.PayOptions{SenderName: "Bu\x00di", SenderEmail: "budi@example.com"})
			if err != nil {
				t.Fatal(err)
			}
			if err := a.fake.WaitDeliveries(ctx, 1); err != nil {
				t.Fatal(err)
			}
			for _, d := range a.fake.Deliveries() {
				if d.StatusCode != http.StatusOK {
					t.Errorf("delivery %+v answered %d, want 200", d, d.StatusCode)
				}
			}
			p, err := a.store.GetPayment(ctx, "flip", pay.ID)
			if err != nil {
				t.Fatalf("the payment is not stored: %v", err)
			}
			if p.Status != provider.PaymentSuccessful || p.Sender.Name != "Budi" {
				t.Errorf("stored payment %s from %q, want SUCCESSFUL from \"Budi\"", p.Status, p.Sender.Name)
			}
			if len(a.panicked()) > 0 {
				t.Error("the server panicked")
			}
		})
	}
}

// TestSlowCallbackBodyIsBounded: a body that trickles in holds a
// connection only as long as the server's ReadTimeout allows (the shop
// sets 30 s; see docs/callbacks-and-security.md). The handler's read
// fails when the deadline passes, the callback is refused and nothing is
// stored. A body that trickles in within the limit is served.
func TestSlowCallbackBodyIsBounded(t *testing.T) {
	t.Parallel()
	a := newGuardedApp(t, openSQLiteDB(t))
	// serve serves the app with the read timeout and returns its address.
	serve := func(readTimeout time.Duration) string {
		srv := &http.Server{Handler: a.r, ReadHeaderTimeout: time.Second, ReadTimeout: readTimeout}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		go srv.Serve(ln)
		t.Cleanup(func() { srv.Close() })
		return ln.Addr().String()
	}

	// trickle sends the fixture's genuine callback to addr in chunks of n bytes,
	// one every pause, and returns the answer and how long it took.
	trickle := func(addr string, f *fixture, n int, pause time.Duration) (*http.Response, time.Duration, error) {
		body := url.Values{"data": {f.data(nil)}, "token": {testToken}}.Encode()
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		start := time.Now()
		fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: shop.example\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n", cbPath, len(body))
		go func() {
			for i := 0; i < len(body); i += n {
				if _, err := io.WriteString(conn, body[i:min(i+n, len(body))]); err != nil {
					return
				}
				time.Sleep(pause)
			}
		}()
		conn.SetReadDeadline(time.Now().Add(30 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		return resp, time.Since(start), err
	}

	t.Run("a body trickling in for longer than ReadTimeout is cut off: 400, nothing stored", func(t *testing.T) {
		addr := serve(time.Second)
		f := a.newFixture(t)
		before := a.rowCounts(t)
		resp, took, err := trickle(addr, f, 1, 100*time.Millisecond) // a minute for the whole body
		if err != nil {
			t.Fatalf("no answer after %s: %v", took, err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("answer %d after %s, want 400", resp.StatusCode, took)
		}
		if took > 10*time.Second {
			t.Errorf("the server held the connection for %s with a 1 s ReadTimeout", took)
		}
		checkEffect(t, storesNothing, before, a.rowCounts(t))
	})

	t.Run("a body trickling in within ReadTimeout is paid", func(t *testing.T) {
		addr := serve(20 * time.Second) // the whole body takes ~0.1 s
		f := a.newFixture(t)
		before := a.rowCounts(t)
		resp, took, err := trickle(addr, f, 64, 10*time.Millisecond)
		if err != nil {
			t.Fatalf("no answer after %s: %v", took, err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("answer %d, want 200", resp.StatusCode)
		}
		checkEffect(t, paysOnce, before, a.rowCounts(t))
	})
}
