package fliptest

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// element returns the text of the element with the given id, and whether
// it exists.
func element(page, id string) (string, bool) {
	m := regexp.MustCompile(`<[a-z0-9]+ [^>]*id="` + regexp.QuoteMeta(id) + `"[^>]*>([^<]*)<`).FindStringSubmatch(page)
	if m == nil {
		return "", false
	}
	return strings.TrimSpace(m[1]), true
}

// tag returns the opening tag of the element with the given id.
func tag(page, id string) string {
	return regexp.MustCompile(`<[a-z0-9]+ [^>]*id="` + regexp.QuoteMeta(id) + `"[^>]*>`).FindString(page)
}

// postPage posts a form as a browser does, without following the redirect.
func (a *api) postPage(path string, f url.Values) reply {
	a.t.Helper()
	req, _ := http.NewRequestWithContext(a.t.Context(), http.MethodPost, a.base+path, strings.NewReader(f.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := a.hc.Transport.RoundTrip(req)
	if err != nil {
		a.t.Fatal(err)
	}
	resp.Body.Close()
	return reply{status: resp.StatusCode, header: resp.Header}
}

func TestCheckoutPage_RendersTheBill(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, Options{CompanyCode: "kopikita"})
	a := newAPI(t, s)
	id := a.createBill(step1("title", "Kopi & Roti")...)
	b, _ := s.Bill(id)
	a.key = "" // pages need no credentials
	r := a.get(strings.TrimPrefix(b.LinkURL, s.URL))
	page := string(r.body)
	if r.status != http.StatusOK || !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET link_url: %d %q", r.status, r.header.Get("Content-Type"))
	}
	checks := map[string]string{"title": "Kopi &amp; Roti", "amount": "Rp45.000", "status": "PENDING", "bill-status": "ACTIVE", "link-id": id}
	for elemID, want := range checks {
		if got, ok := element(page, elemID); !ok || got != want {
			t.Errorf("#%s = %q (found %v), want %q", elemID, got, ok, want)
		}
	}
	for _, button := range []string{"pay", "expire", "fail"} {
		if tg := tag(page, button); tg == "" || strings.Contains(tg, "disabled") {
			t.Errorf("button #%s = %q, want an enabled button", button, tg)
		}
	}
	if !strings.Contains(page, "kopikita") || strings.Contains(page, testKey) {
		t.Error("page lacks the company code, or shows the secret key")
	}
	if _, ok := element(page, "return"); ok {
		t.Error("return link shown before payment")
	}
	if r := a.get("/pwf/checkout/999"); r.status != http.StatusNotFound {
		t.Errorf("unknown bill: %d", r.status)
	}
}

func TestCheckoutPage_ButtonsSimulateAndShowTheResult(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t)
	s := newTestServer(t, Options{CallbackURL: rc.url})
	a := newAPI(t, s)
	pay := a.createBill(step1("redirect_url", "http://localhost:8080/orders/7")...)
	expire := a.createBill(step1()...)
	fail := a.createBill(step1()...)
	open := a.createBill("title", "Donation", "type", "SINGLE")
	a.key = ""

	click := func(t *testing.T, id, action string, f url.Values) string {
		t.Helper()
		if f == nil {
			f = url.Values{}
		}
		f.Set("return_to", "checkout")
		r := a.postPage("/_fliptest/bills/"+id+"/"+action, f)
		loc := r.header.Get("Location")
		if r.status != http.StatusSeeOther || !strings.HasPrefix(loc, "/pwf/checkout/"+id+"?") {
			t.Fatalf("%s: %d to %q", action, r.status, loc)
		}
		return string(a.get(loc).body)
	}

	t.Run("pay", func(t *testing.T) {
		page := click(t, pay, "pay", url.Values{"channel": {"qris/wallet_account"}, "sender_name": {"Sari"}})
		if got, _ := element(page, "status"); got != "SUCCESSFUL" {
			t.Errorf("#status = %q", got)
		}
		if got, _ := element(page, "result"); !strings.Contains(got, "SUCCESSFUL") {
			t.Errorf("#result = %q", got)
		}
		if tg := tag(page, "return"); !strings.Contains(tg, `href="http://localhost:8080/orders/7"`) {
			t.Errorf("#return = %q", tg)
		}
		if tg := tag(page, "pay"); !strings.Contains(tg, "disabled") {
			t.Errorf("pay button of a used bill = %q", tg)
		}
		if _, ok := element(page, "qr-code-data"); !ok {
			t.Error("qris payment without #qr-code-data")
		}
		p := s.Payments(pay)[0]
		if p.SenderBank != "qris" || p.SenderName != "Sari" {
			t.Errorf("payment = %+v", p)
		}
		// Paying again shows Flip's refusal on the page.
		page = click(t, pay, "pay", nil)
		if got, _ := element(page, "error"); !strings.Contains(got, "already used") {
			t.Errorf("#error = %q", got)
		}
	})
	t.Run("expire", func(t *testing.T) {
		page := click(t, expire, "expire", nil)
		if got, _ := element(page, "status"); got != "CANCELLED" {
			t.Errorf("#status = %q", got)
		}
		if got, _ := element(page, "bill-status"); got != "EXPIRED" {
			t.Errorf("#bill-status = %q", got)
		}
	})
	t.Run("fail", func(t *testing.T) {
		page := click(t, fail, "fail", nil)
		if got, _ := element(page, "status"); got != "FAILED" {
			t.Errorf("#status = %q", got)
		}
		if tg := tag(page, "pay"); strings.Contains(tg, "disabled") {
			t.Error("a failed payment closes the bill")
		}
	})
	t.Run("open amount", func(t *testing.T) {
		page := string(a.get("/pwf/checkout/" + open).body)
		if tag(page, "amount-input") == "" {
			t.Fatal("no amount input for an open bill")
		}
		page = click(t, open, "pay", url.Values{"amount": {"77000"}})
		if got, _ := element(page, "status"); got != "SUCCESSFUL" {
			t.Errorf("#status = %q", got)
		}
		if p := s.Payments(open)[0]; p.Amount != 77_000 {
			t.Errorf("amount = %d", p.Amount)
		}
	})
	if err := s.WaitDeliveries(testCtx(t), 4); err != nil {
		t.Fatal(err)
	}
}

func TestTransactionPage_RedirectsToTheBill(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, Options{})
	a := newAPI(t, s)
	id := a.createBill(step3()...)
	p := s.Payments(id)[0]
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, p.PaymentURL, nil)
	resp, err := a.hc.Transport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/pwf/checkout/"+id {
		t.Errorf("%d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	page := string(a.get("/pwf/checkout/" + id).body)
	if got, _ := element(page, "va-number"); got != p.VANumber {
		t.Errorf("#va-number = %q, want %q", got, p.VANumber)
	}
	if r := a.get("/pwf/transaction/PGPWF0"); r.status != http.StatusNotFound {
		t.Errorf("unknown payment: %d", r.status)
	}
}
