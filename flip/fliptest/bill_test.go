package fliptest

import (
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// fixedNow is 2026-03-02 10:00:00 WIB.
var fixedNow = time.Date(2026, 3, 2, 10, 0, 0, 0, time.FixedZone("WIB", 7*3600))

func TestCreateBill_SeedSamplesAnswerWithTheSeedShapes(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, Options{})
	a := newAPI(t, s)

	t.Run("step 1", func(t *testing.T) {
		r := a.send(http.MethodPost, "/v2/pwf/bill", form(step1()...))
		if r.status != http.StatusOK {
			t.Fatalf("status %d: %s", r.status, r.body)
		}
		if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			t.Errorf("Content-Type = %q", ct)
		}
		m := r.object(t)
		wantKeys(t, m, "link_id", "link_url", "title", "type", "amount", "redirect_url", "expired_date",
			"created_from", "status", "is_address_required", "is_phone_number_required", "step")
		if _, ok := m["link_id"].(json.Number); !ok {
			t.Errorf("link_id = %#v, want a JSON number", m["link_id"])
		}
		want := map[string]any{
			"title": "Test New Bill", "type": "SINGLE", "amount": json.Number("45000"),
			"redirect_url": "https://example.com", "expired_date": nil, "created_from": "API",
			"status": "ACTIVE", "is_address_required": json.Number("0"),
			"is_phone_number_required": json.Number("0"), "step": json.Number("1"),
		}
		for k, v := range want {
			if m[k] != v {
				t.Errorf("%s = %#v, want %#v", k, m[k], v)
			}
		}
		// Scheme-less, as Flip writes it ("flip.id/pwf-sandbox/$co/#slug").
		if url := m["link_url"].(string); url != strings.TrimPrefix(s.URL, "http://")+"/pwf/checkout/"+m["link_id"].(json.Number).String() ||
			!strings.HasPrefix(url, "127.0.0.1:") {
			t.Errorf("link_url = %q, want the fake's checkout page without a scheme", url)
		}
	})

	t.Run("step 2", func(t *testing.T) {
		r := a.send(http.MethodPost, "/v2/pwf/bill", form(
			"title", "Test New Bill step 2", "type", "SINGLE", "amount", "45000",
			"redirect_url", "https://example.com", "step", "2", "sender_name", "Jon Snow",
			"sender_email", "jon.snow@example.com", "sender_phone_number", "0812345678",
			"sender_address", "jakarta selatan"))
		if r.status != http.StatusOK {
			t.Fatalf("status %d: %s", r.status, r.body)
		}
		m := r.object(t)
		if m["step"] != json.Number("2") {
			t.Errorf("step = %v", m["step"])
		}
		c, ok := m["customer"].(map[string]any)
		if !ok {
			t.Fatalf("customer = %#v", m["customer"])
		}
		wantKeys(t, c, "name", "email", "address", "phone")
		// As the seed's answer: address and phone null, though sent.
		if c["name"] != "Jon Snow" || c["email"] != "jon.snow@example.com" || c["phone"] != nil || c["address"] != nil {
			t.Errorf("customer = %v", c)
		}
		b, _ := s.Bill(m["link_id"].(json.Number).String())
		if b.Customer.Phone != "0812345678" || b.Customer.Address != "jakarta selatan" {
			t.Errorf("stored customer = %+v, want what was sent", b.Customer)
		}
		if _, ok := m["bill_payment"]; ok {
			t.Error("a step-2 bill has no bill_payment")
		}
	})

	t.Run("step 3", func(t *testing.T) {
		r := a.send(http.MethodPost, "/v2/pwf/bill", form(step3()...))
		if r.status != http.StatusOK {
			t.Fatalf("status %d: %s", r.status, r.body)
		}
		m := r.object(t)
		wantKeys(t, m, "customer", "bill_payment", "payment_url")
		bp := m["bill_payment"].(map[string]any)
		wantKeys(t, bp, "id", "amount", "unique_code", "status", "sender_bank", "sender_bank_type",
			"receiver_bank_account", "user_address", "user_phone", "created_at")
		if !regexp.MustCompile(`^PGPWF\d{20}$`).MatchString(bp["id"].(string)) {
			t.Errorf("bill_payment.id = %q, want PGPWF and 20 digits", bp["id"])
		}
		if bp["status"] != "PENDING" || bp["amount"] != json.Number("45000") || bp["sender_bank"] != "mandiri" {
			t.Errorf("bill_payment = %v", bp)
		}
		if _, err := bp["created_at"].(json.Number).Int64(); err != nil {
			t.Errorf("bill_payment.created_at = %v, want a Unix time", bp["created_at"])
		}
		acct := bp["receiver_bank_account"].(map[string]any)
		if !regexp.MustCompile(`^\d{16,17}$`).MatchString(acct["account_number"].(string)) {
			t.Errorf("account_number = %q, want 16-17 digits", acct["account_number"])
		}
		if acct["account_type"] != "virtual_account" || acct["bank_code"] != "mandiri" || acct["account_holder"] != "Jon Snow" {
			t.Errorf("receiver_bank_account = %v", acct)
		}
		if pu := m["payment_url"].(string); !strings.HasPrefix(pu, s.URL+"/") {
			t.Errorf("payment_url = %q", pu)
		}
	})
}

func wantKeys(t *testing.T, m map[string]any, keys ...string) {
	t.Helper()
	for _, k := range keys {
		if _, ok := m[k]; !ok {
			t.Errorf("missing %q in %v", k, m)
		}
	}
}

func TestCreateBill_RefusesWithFlipCodes(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, Options{Now: func() time.Time { return fixedNow }})
	a := newAPI(t, s)
	base := []string{"title", "Coffee", "type", "SINGLE", "amount", "45000", "step", "1"}
	with := func(kv ...string) []string {
		f := form(base...)
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i+1] == "<del>" {
				f.Del(kv[i])
			} else {
				f.Set(kv[i], kv[i+1])
			}
		}
		var out []string
		for k := range f {
			out = append(out, k, f.Get(k))
		}
		return out
	}
	s2 := []string{"step", "2", "sender_name", "Jon Snow", "sender_email", "jon@example.com"}
	s3 := slices.Concat(s2, []string{"step", "3", "sender_bank", "bni", "sender_bank_type", "virtual_account"})
	plus := func(kv []string, more ...string) []string { return with(slices.Concat(kv, more)...) }

	tests := []struct {
		name string
		kv   []string
		want []string
	}{
		{"type missing", with("type", "<del>"), []string{"type:1044"}},
		{"type invalid", with("type", "single"), []string{"type:1045"}},
		{"step 3 is SINGLE only", plus(s3, "type", "MULTIPLE"), []string{"type:1045"}},
		{"amount not a number", with("amount", "45.000"), []string{"amount:1064"}},
		{"amount below minimum", with("amount", "9999"), []string{"amount:1058"}},
		{"amount above limit", with("amount", "10000001"), []string{"amount:1067"}},
		{"amount missing on step 2", plus(s2, "amount", "<del>"), []string{"amount:1058"}},
		{"expired_date malformed", with("expired_date", "30-12-2026"), []string{"expired_date:1047"}},
		{"expired_date in the past", with("expired_date", "2026-03-02 09:59"), []string{"expired_date:1048"}},
		{"expired_date now", with("expired_date", "2026-03-02 10:00:00"), []string{"expired_date:1048"}},
		{"redirect_url invalid", with("redirect_url", "example.com/back"), []string{"redirect_url:1059"}},
		{"redirect_url not http", with("redirect_url", "javascript:alert(1)"), []string{"redirect_url:1059"}},
		{"title missing", with("title", "<del>"), []string{"title:1061"}},
		{"title with html", with("title", "<b>Coffee</b>"), []string{"title:1061"}},
		{"title too long", with("title", strings.Repeat("a", 256)), []string{"title:1061"}},
		{"step invalid", with("step", "4"), []string{"step:1041"}},
		{"flag invalid", with("is_address_required", "yes"), []string{"is_address_required:1041"}},
		{"step 2 without sender", with("step", "2"), []string{"sender_name:1001", "sender_email:1001"}},
		{"step 2 bad email", plus(s2, "sender_email", "jon@"), []string{"sender_email:1041"}},
		{"step 3 without method", plus(s2, "step", "3"), []string{"sender_bank:1001", "sender_bank_type:1001"}},
		{"step 3 bank not enabled", plus(s3, "sender_bank", "bank_of_mars"), []string{"sender_bank:1091"}},
		{"step 3 wrong bank type", plus(s3, "sender_bank_type", "wallet_account"), []string{"sender_bank:1091"}},
		{"every error at once", []string{"amount", "abc", "step", "1"}, []string{"title:1061", "type:1044", "amount:1064"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := a.send(http.MethodPost, "/v2/pwf/bill", form(tt.kv...))
			got := r.codes(t)
			if !slices.Equal(got, tt.want) {
				t.Errorf("errors = %v, want %v", got, tt.want)
			}
		})
	}
	if n := len(s.Bills()); n != 0 {
		t.Errorf("%d bills stored after refused requests", n)
	}
}

func TestCreateBill_AcceptsFlipsVariants(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, Options{Now: func() time.Time { return fixedNow }})
	a := newAPI(t, s)
	tests := []struct {
		name  string
		kv    []string
		check func(t *testing.T, b Bill)
	}{
		{"open amount on step 1", []string{"title", "Donation", "type", "MULTIPLE", "step", "1"},
			func(t *testing.T, b Bill) {
				if b.Amount != 0 || b.Type != BillMultiple {
					t.Errorf("bill = %+v", b)
				}
			}},
		{"no step means step 1", []string{"title", "Coffee", "type", "SINGLE", "amount", "10000"},
			func(t *testing.T, b Bill) {
				if b.Step != 1 {
					t.Errorf("step = %d", b.Step)
				}
			}},
		{"expiry without seconds, in WIB", []string{"title", "Coffee", "type", "SINGLE", "amount", "10000", "expired_date", "2026-03-02 23:59"},
			func(t *testing.T, b Bill) {
				if want := time.Date(2026, 3, 2, 16, 59, 0, 0, time.UTC); !b.ExpiresAt.Equal(want) {
					t.Errorf("expires = %v, want %v", b.ExpiresAt, want)
				}
			}},
		{"expiry with seconds", []string{"title", "Coffee", "type", "SINGLE", "amount", "10000", "expired_date", "2026-12-30 15:50:00"},
			func(t *testing.T, b Bill) {
				if b.ExpiresAt.IsZero() {
					t.Error("no expiry")
				}
			}},
		{"local redirect url", []string{"title", "Coffee", "type", "SINGLE", "amount", "10000", "redirect_url", "http://localhost:8080/orders/1"},
			func(t *testing.T, b Bill) {
				if b.RedirectURL != "http://localhost:8080/orders/1" {
					t.Errorf("redirect = %q", b.RedirectURL)
				}
			}},
		{"extra params ignored", []string{"title", "Order #42 (Kopi & Roti)", "type", "SINGLE", "amount", "10000", "charge_fee", "1", "reference_id", "x"},
			func(t *testing.T, b Bill) {
				if b.Title != "Order #42 (Kopi & Roti)" {
					t.Errorf("title = %q", b.Title)
				}
			}},
		{"qris on step 3", []string{"title", "Coffee", "type", "SINGLE", "amount", "10000", "step", "3", "sender_name", "Jon", "sender_email", "jon@example.com", "sender_bank", "qris", "sender_bank_type", "wallet_account"},
			func(t *testing.T, b Bill) {
				p := s.Payments(b.LinkID)
				if len(p) != 1 || p[0].QRCodeData == "" || p[0].VANumber != "" {
					t.Errorf("payments = %+v", p)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			id := a.createBill(tt.kv...)
			b, ok := s.Bill(id)
			if !ok {
				t.Fatalf("bill %s not stored", id)
			}
			tt.check(t, b)
		})
	}
}

func TestCreateBill_RefusesABodyThatIsNotAForm(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, Options{})
	a := newAPI(t, s)
	tests := []struct{ name, contentType, body string }{
		{"json", "application/json", `{"title":"Coffee","type":"SINGLE","amount":45000,"step":1}`},
		{"form body with json type", "application/json", "title=Coffee&type=SINGLE&amount=45000"},
		{"text", "text/plain", "title=Coffee&type=SINGLE&amount=45000"},
		{"no type", "", "title=Coffee&type=SINGLE&amount=45000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, s.URL+"/v2/pwf/bill", strings.NewReader(tt.body))
			req.Header.Set("Authorization", basicAuth(testKey))
			if tt.contentType != "" {
				req.Header.Set("Content-Type", tt.contentType)
			}
			got := a.do(req).codes(t)
			if !slices.Equal(got, []string{"Content-Type:999"}) {
				t.Errorf("errors = %v", got)
			}
		})
	}
	// A charset parameter is fine.
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, s.URL+"/v2/pwf/bill",
		strings.NewReader("title=Coffee&type=SINGLE&amount=45000"))
	req.Header.Set("Authorization", basicAuth(testKey))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=UTF-8")
	if r := a.do(req); r.status != http.StatusOK {
		t.Errorf("form with charset: status %d: %s", r.status, r.body)
	}
}

func TestCreateBill_MaxAmountIsConfigurable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		opts   Options
		amount string
		want   []string // nil: accepted
	}{
		{"default limit allows 10,000,000", Options{}, "10000000", nil},
		{"custom limit", Options{MaxAmount: 50_000}, "50001", []string{"amount:1067"}},
		{"legacy code", Options{MaxAmount: 50_000, MaxAmountCode: 1046}, "50001", []string{"amount:1046"}},
		{"no limit", Options{MaxAmount: -1}, "999999999999", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := newAPI(t, newTestServer(t, tt.opts))
			r := a.send(http.MethodPost, "/v2/pwf/bill", form("title", "Coffee", "type", "SINGLE", "amount", tt.amount))
			if tt.want == nil {
				if r.status != http.StatusOK {
					t.Errorf("status %d: %s", r.status, r.body)
				}
				return
			}
			if got := r.codes(t); !slices.Equal(got, tt.want) {
				t.Errorf("errors = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestCreateBill_OnlyEnabledChannels(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, Options{Channels: []Channel{{Bank: "bri", Type: VirtualAccount}}})
	a := newAPI(t, s)
	step3bri := step3("sender_bank", "bri")
	if r := a.send(http.MethodPost, "/v2/pwf/bill", form(step3bri...)); r.status != http.StatusOK {
		t.Fatalf("enabled channel refused: %d %s", r.status, r.body)
	}
	got := a.send(http.MethodPost, "/v2/pwf/bill", form(step3()...)).codes(t) // mandiri
	if !slices.Equal(got, []string{"sender_bank:1091"}) {
		t.Errorf("errors = %v", got)
	}
}

func TestLinkIDs(t *testing.T) {
	t.Parallel()
	t.Run("small ids count up", func(t *testing.T) {
		t.Parallel()
		a := newAPI(t, newTestServer(t, Options{FirstLinkID: 130068}))
		first, second := a.createBill(step1()...), a.createBill(step1()...)
		if first != "130068" || second != "130069" {
			t.Errorf("ids = %s, %s", first, second)
		}
	})
	t.Run("long ids are 19-digit JSON numbers", func(t *testing.T) {
		t.Parallel()
		s := newTestServer(t, Options{LongIDs: true, Now: func() time.Time { return fixedNow }})
		a := newAPI(t, s)
		r := a.send(http.MethodPost, "/v2/pwf/bill", form(step1()...))
		raw := regexp.MustCompile(`"link_id":(\d+),`).FindSubmatch(r.body)
		if raw == nil || len(raw[1]) != 19 || !strings.HasPrefix(string(raw[1]), "260302100000") {
			t.Fatalf("link_id in %s, want 19 digits starting with the WIB time", r.body)
		}
		id := string(raw[1])
		if b, ok := s.Bill(id); !ok || b.LinkURL != s.URL+"/pwf/checkout/"+id {
			t.Errorf("bill %s = %+v, %v", id, b, ok)
		}
		if g := a.get("/v2/pwf/" + id + "/bill"); g.status != http.StatusOK {
			t.Errorf("get by long id: %d", g.status)
		}
		if other := a.createBill(step1()...); other == id {
			t.Error("two bills share one long id")
		}
	})
}

func TestGetBill(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, Options{})
	a := newAPI(t, s)
	id1 := a.createBill(step1()...)
	id3 := a.createBill(step3()...)

	t.Run("step 1", func(t *testing.T) {
		m := a.get("/v2/pwf/" + id1 + "/bill").object(t)
		if m["link_id"].(json.Number).String() != id1 || m["title"] != "Test New Bill" {
			t.Errorf("bill = %v", m)
		}
	})
	t.Run("step 3 shows payment_method, as Flip documents", func(t *testing.T) {
		m := a.get("/v2/pwf/" + id3 + "/bill").object(t)
		pm, ok := m["payment_method"].(map[string]any)
		if !ok || pm["sender_bank"] != "mandiri" || pm["sender_bank_type"] != "virtual_account" {
			t.Errorf("payment_method = %v", m["payment_method"])
		}
		if _, ok := m["bill_payment"]; ok {
			t.Error("Get Bill shows bill_payment")
		}
	})
	t.Run("unknown id is 422 code 1050", func(t *testing.T) {
		for _, path := range []string{"/v2/pwf/999/bill", "/v2/pwf/999/payment"} {
			r := a.get(path)
			if got := r.codes(t); !slices.Equal(got, []string{"id:1050"}) || !strings.Contains(string(r.body), "Product Bill Link ID Not Found") {
				t.Errorf("GET %s: %s", path, r.body)
			}
		}
		got := a.send(http.MethodPut, "/v2/pwf/999/bill", form("title", "x")).codes(t)
		if !slices.Equal(got, []string{"id:1050"}) {
			t.Errorf("PUT: errors = %v", got)
		}
	})
}

func TestListBills_IsABareArrayOldestFirst(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, Options{})
	a := newAPI(t, s)
	r := a.get("/v2/pwf/bill")
	if strings.TrimSpace(string(r.body)) != "[]" {
		t.Errorf("empty list = %s, want []", r.body)
	}
	ids := []string{a.createBill(step1()...), a.createBill(step3()...), a.createBill(step1()...)}
	var got []struct {
		LinkID json.Number `json:"link_id"`
		Step   int         `json:"step"`
	}
	a.get("/v2/pwf/bill").into(t, &got)
	if len(got) != 3 {
		t.Fatalf("got %d bills", len(got))
	}
	for i, b := range got {
		if b.LinkID.String() != ids[i] {
			t.Errorf("bill %d = %s, want %s", i, b.LinkID, ids[i])
		}
	}
}

func TestEditBill(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, Options{Now: func() time.Time { return fixedNow }})
	a := newAPI(t, s)

	t.Run("changes only the fields sent", func(t *testing.T) {
		t.Parallel()
		id := a.createBill(step1()...)
		r := a.send(http.MethodPut, "/v2/pwf/"+id+"/bill", form("title", "Renamed", "amount", "50000",
			"expired_date", "2026-04-01 12:00", "status", "INACTIVE", "is_phone_number_required", "1"))
		if r.status != http.StatusOK {
			t.Fatalf("status %d: %s", r.status, r.body)
		}
		m := r.object(t)
		want := map[string]any{"title": "Renamed", "amount": json.Number("50000"), "status": "INACTIVE",
			"expired_date": "2026-04-01 12:00:00", "is_phone_number_required": json.Number("1"),
			"redirect_url": "https://example.com", "type": "SINGLE"}
		for k, v := range want {
			if m[k] != v {
				t.Errorf("%s = %#v, want %#v", k, m[k], v)
			}
		}
	})
	t.Run("empty amount opens a step-1 bill; empty expiry clears it", func(t *testing.T) {
		t.Parallel()
		id := a.createBill(step1("expired_date", "2026-04-01 12:00")...)
		a.send(http.MethodPut, "/v2/pwf/"+id+"/bill", form("amount", "", "expired_date", ""))
		b, _ := s.Bill(id)
		if b.Amount != 0 || !b.ExpiresAt.IsZero() {
			t.Errorf("bill = %+v", b)
		}
	})
	t.Run("an empty body changes nothing", func(t *testing.T) {
		t.Parallel()
		id := a.createBill(step1()...)
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodPut, s.URL+"/v2/pwf/"+id+"/bill", nil)
		req.Header.Set("Authorization", basicAuth(testKey))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if r := a.do(req); r.status != http.StatusOK {
			t.Errorf("status %d: %s", r.status, r.body)
		}
	})

	step3ID := a.createBill(step3()...)
	paid := a.createBill(step1()...)
	if _, err := s.Pay(t.Context(), paid, PayOptions{}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		id   string
		kv   []string
		want []string
	}{
		{"status invalid", "", []string{"status", "DELETED"}, []string{"status:1060"}},
		{"title invalid", "", []string{"title", ""}, []string{"title:1061"}},
		{"type invalid", "", []string{"type", "DOUBLE"}, []string{"type:1045"}},
		{"amount below minimum", "", []string{"amount", "5000"}, []string{"amount:1058"}},
		{"amount not a number", "", []string{"amount", "lots"}, []string{"amount:1064"}},
		{"expiry malformed", "", []string{"expired_date", "tomorrow"}, []string{"expired_date:1047"}},
		{"expiry past", "", []string{"expired_date", "2026-03-01 10:00"}, []string{"expired_date:1048"}},
		{"redirect invalid", "", []string{"redirect_url", "ftp://x"}, []string{"redirect_url:1059"}},
		{"step 3 stays SINGLE", step3ID, []string{"type", "MULTIPLE"}, []string{"type:1045"}},
		{"step 3 keeps an amount", step3ID, []string{"amount", ""}, []string{"amount:1058"}},
		{"a used SINGLE bill cannot be reactivated", paid, []string{"status", "ACTIVE"}, []string{"status:1049"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			id := tt.id
			if id == "" {
				id = a.createBill(step1()...)
			}
			before, _ := s.Bill(id)
			got := a.send(http.MethodPut, "/v2/pwf/"+id+"/bill", form(tt.kv...)).codes(t)
			if !slices.Equal(got, tt.want) {
				t.Errorf("errors = %v, want %v", got, tt.want)
			}
			if after, _ := s.Bill(id); after != before {
				t.Errorf("refused edit changed the bill: %+v", after)
			}
		})
	}
}

func TestCreateBill_Step3BankTransferHasAUniqueCode(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, Options{})
	a := newAPI(t, s)
	r := a.send(http.MethodPost, "/v2/pwf/bill", form(step3("sender_bank", "bca", "sender_bank_type", "bank_account")...))
	bp := r.object(t)["bill_payment"].(map[string]any)
	acct := bp["receiver_bank_account"].(map[string]any)
	if code, _ := bp["unique_code"].(json.Number).Int64(); code < 100 || code > 999 {
		t.Errorf("unique_code = %v, want three digits", bp["unique_code"])
	}
	if n, _ := acct["account_number"].(string); n == "" || acct["account_type"] != "bank_account" {
		t.Errorf("receiver_bank_account = %v", acct)
	}
}

func TestCreateBill_RefusesAnOversizedBody(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, Options{})
	a := newAPI(t, s)
	r := a.send(http.MethodPost, "/v2/pwf/bill", form("title", strings.Repeat("a", 2<<20)))
	if r.status != http.StatusRequestEntityTooLarge {
		t.Errorf("status %d: %.200s", r.status, r.body)
	}
}
