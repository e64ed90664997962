package midtranstest_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestRequiredHeaders checks that the fake refuses API requests without
// the headers Midtrans requires: Accept: application/json (403, Midtrans's
// code for it) and, on a request with a body, Content-Type:
// application/json (415, the fake's own choice: Midtrans does not document
// its answer). Snap answers in error_messages, the Core API in
// status_code/status_message.
func TestRequiredHeaders(t *testing.T) {
	s := newFake(t, "")
	const create = `{"transaction_details":{"order_id":"h-1","gross_amount":10000}}`
	send := func(method, path, body string, header map[string]string) (int, string) {
		t.Helper()
		var r io.Reader
		if body != "" {
			r = strings.NewReader(body)
		}
		req, _ := http.NewRequest(method, s.URL+path, r)
		req.SetBasicAuth(key, "")
		for k, v := range header {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	json := map[string]string{"Accept": "application/json", "Content-Type": "application/json"}
	for _, tc := range []struct {
		name, method, path, body string
		header                   map[string]string
		status                   int
		want                     string
	}{
		{"snap without Accept", "POST", "/snap/v1/transactions", create,
			map[string]string{"Content-Type": "application/json"}, 403, `"error_messages":["The requested resource is not capable`},
		{"snap with Accept */*", "POST", "/snap/v1/transactions", create,
			map[string]string{"Accept": "*/*", "Content-Type": "application/json"}, 403, `"error_messages"`},
		{"snap without Content-Type", "POST", "/snap/v1/transactions", create,
			map[string]string{"Accept": "application/json"}, 415, `"error_messages":["Content-Type must be application/json"]`},
		{"snap with a form body", "POST", "/snap/v1/transactions", create,
			map[string]string{"Accept": "application/json", "Content-Type": "application/x-www-form-urlencoded"}, 415, `"error_messages"`},
		{"status without Accept", "GET", "/v2/h-1/status", "", nil, 403, `"status_code":"403"`},
		{"refund without Content-Type", "POST", "/v2/h-1/refund", `{"amount":1}`,
			map[string]string{"Accept": "application/json"}, 415, `"status_code":"415"`},
		{"snap with both, charset and a list", "POST", "/snap/v1/transactions", create,
			map[string]string{"Accept": "text/html, application/json;q=0.9", "Content-Type": "application/json; charset=utf-8"}, 201, `"token"`},
		// A request without a body needs no Content-Type.
		{"status with Accept only", "GET", "/v2/h-1/status", "",
			map[string]string{"Accept": "application/json"}, 200, `"status_code":"404"`},
		{"expire without a body", "POST", "/v2/h-1/expire", "",
			map[string]string{"Accept": "application/json"}, 200, `"status_code":"404"`},
		{"status with both", "GET", "/v2/h-1/status", "", json, 200, `"status_code":"404"`},
	} {
		status, body := send(tc.method, tc.path, tc.body, tc.header)
		if status != tc.status || !strings.Contains(body, tc.want) {
			t.Errorf("%s: %d %s, want %d with %s", tc.name, status, body, tc.status, tc.want)
		}
	}
}
