package fliptest

import (
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// testPage is a payment list envelope as a client reads it.
type testPage struct {
	LinkID      *json.Number `json:"link_id"`
	TotalData   int          `json:"total_data"`
	DataPerPage int          `json:"data_per_page"`
	TotalPage   int          `json:"total_page"`
	Page        int          `json:"page"`
	Data        []struct {
		ID         string `json:"id"`
		Amount     int64  `json:"amount"`
		SenderBank string `json:"sender_bank"`
		Status     string `json:"status"`
		CreatedAt  string `json:"created_at"`
	} `json:"data"`
}

func (p testPage) amounts() []int64 {
	var out []int64
	for _, d := range p.Data {
		out = append(out, d.Amount)
	}
	return out
}

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func TestBillPayments_EnvelopeAndPaymentObject(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, Options{Now: func() time.Time { return fixedNow }})
	a := newAPI(t, s)
	id := a.createBill(step3()...)
	if _, err := s.Pay(t.Context(), id, PayOptions{}); err != nil {
		t.Fatal(err)
	}
	m := a.get("/v2/pwf/" + id + "/payment").object(t)
	wantKeys(t, m, "link_id", "total_data", "data_per_page", "total_page", "page", "data")
	if m["link_id"] != json.Number(id) || m["total_data"] != json.Number("1") || m["total_page"] != json.Number("1") {
		t.Errorf("envelope = %v", m)
	}
	p := m["data"].([]any)[0].(map[string]any)
	wantKeys(t, p, "id", "bill_link", "bill_title", "sender_name", "sender_bank", "sender_bank_type",
		"virtual_account_number", "amount", "status", "settlement_status", "reference_id", "payment_url",
		"created_at", "completed_at")
	want := map[string]any{
		"bill_link": strings.TrimPrefix(s.URL, "http://") + "/pwf/checkout/" + id, "bill_title": "test", "sender_name": "Jon Snow",
		"sender_bank": "mandiri", "sender_bank_type": "virtual_account", "amount": json.Number("45000"),
		"status": "SUCCESSFUL", "settlement_status": "Settled", "reference_id": nil,
		"created_at": "2026-03-02 10:00:00", "completed_at": "2026-03-02 10:00:00", "link_id": id,
	}
	for k, v := range want {
		if p[k] != v {
			t.Errorf("%s = %#v, want %#v", k, p[k], v)
		}
	}
	if va, _ := p["virtual_account_number"].(string); !regexp.MustCompile(`^\d{17}$`).MatchString(va) {
		t.Errorf("virtual_account_number = %#v, want mandiri's 17 digits", p["virtual_account_number"])
	}

	t.Run("a bill without payments has an empty page", func(t *testing.T) {
		id := a.createBill(step1()...)
		var pg testPage
		a.get("/v2/pwf/"+id+"/payment").into(t, &pg)
		if pg.TotalData != 0 || pg.TotalPage != 0 || pg.Data == nil || len(pg.Data) != 0 {
			t.Errorf("page = %+v", pg)
		}
	})
	t.Run("all payments has no link_id", func(t *testing.T) {
		m := a.get("/v2/pwf/payment").object(t)
		if _, ok := m["link_id"]; ok {
			t.Errorf("envelope has link_id: %v", m)
		}
	})
}

func TestPaymentLists_PageAndSort(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, Options{})
	a := newAPI(t, s)
	id := a.createBill("title", "Donations", "type", "MULTIPLE", "step", "1")
	other := a.createBill("title", "Other", "type", "MULTIPLE", "step", "1")
	var want []int64
	for i := range 25 {
		amount := int64(10_000 + (i*7919)%25*1000) // 25 distinct amounts, shuffled
		if _, err := s.Pay(t.Context(), id, PayOptions{Amount: amount}); err != nil {
			t.Fatal(err)
		}
		want = append(want, amount)
	}
	if _, err := s.Pay(t.Context(), other, PayOptions{Amount: 99_000, SenderBank: "bri"}); err != nil {
		t.Fatal(err)
	}
	path := "/v2/pwf/" + id + "/payment"

	tests := []struct {
		name  string
		query string
		page  testPage // expected envelope numbers
		data  []int64
	}{
		{"default: page 1 of 10, oldest first", "", testPage{TotalData: 25, DataPerPage: 10, TotalPage: 3, Page: 1}, want[:10]},
		{"last page is short", "?pagination=10&page=3", testPage{TotalData: 25, DataPerPage: 5, TotalPage: 3, Page: 3}, want[20:]},
		{"past the last page is empty", "?page=4", testPage{TotalData: 25, DataPerPage: 0, TotalPage: 3, Page: 4}, nil},
		{"one big page", "?pagination=100", testPage{TotalData: 25, DataPerPage: 25, TotalPage: 1, Page: 1}, want},
		{"newest first", "?sort_type=sort_desc&pagination=3", testPage{TotalData: 25, DataPerPage: 3, TotalPage: 9, Page: 1},
			[]int64{want[24], want[23], want[22]}},
		{"by amount", "?sort_by=amount&sort_type=sort_asc&pagination=3", testPage{TotalData: 25, DataPerPage: 3, TotalPage: 9, Page: 1},
			[]int64{10_000, 11_000, 12_000}},
		{"by amount, descending", "?sort_by=amount&sort_type=sort_desc&pagination=2&page=2", testPage{TotalData: 25, DataPerPage: 2, TotalPage: 13, Page: 2},
			[]int64{32_000, 31_000}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var got testPage
			a.get(path+tt.query).into(t, &got)
			if got.TotalData != tt.page.TotalData || got.DataPerPage != tt.page.DataPerPage ||
				got.TotalPage != tt.page.TotalPage || got.Page != tt.page.Page {
				t.Errorf("envelope = %d/%d/%d/%d, want %d/%d/%d/%d", got.TotalData, got.DataPerPage, got.TotalPage, got.Page,
					tt.page.TotalData, tt.page.DataPerPage, tt.page.TotalPage, tt.page.Page)
			}
			if !slices.Equal(got.amounts(), tt.data) {
				t.Errorf("amounts = %v, want %v", got.amounts(), tt.data)
			}
		})
	}

	t.Run("every sort key is accepted", func(t *testing.T) {
		t.Parallel()
		for _, key := range []string{"id", "bill_link", "bill_title", "sender_bank", "amount", "created_at"} {
			var got testPage
			r := a.get("/v2/pwf/payment?pagination=100&sort_by=" + key)
			r.into(t, &got)
			if r.status != http.StatusOK || got.TotalData != 26 {
				t.Errorf("sort_by=%s: %d, %d rows", key, r.status, got.TotalData)
			}
		}
		var got testPage
		a.get("/v2/pwf/payment?sort_by=sender_bank&sort_type=sort_asc&pagination=1").into(t, &got)
		if got.Data[0].SenderBank != "bni" {
			t.Errorf("first by sender_bank = %s, want bni (before bri)", got.Data[0].SenderBank)
		}
	})
}

func TestPaymentLists_RefuseBadQueries(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, Options{})
	a := newAPI(t, s)
	id := a.createBill(step1()...)
	tests := []struct {
		query string
		want  []string
	}{
		{"page=0", []string{"page:1052"}},
		{"page=first", []string{"page:1052"}},
		{"pagination=-1", []string{"pagination:1053"}},
		{"pagination=1.5", []string{"pagination:1053"}},
		{"start_date=2026-13-01", []string{"start_date:1055"}},
		{"start_date=01-03-2026", []string{"start_date:1055"}},
		{"end_date=2026-02-30", []string{"end_date:1056"}},
		{"start_date=2026-03-02&end_date=2026-03-01", []string{"end_date:1057"}},
		{"sort_by=status", []string{"sort_by:1062"}},
		{"sort_type=desc", []string{"sort_type:1063"}},
		{"page=0&pagination=0&sort_by=x&sort_type=y", []string{"page:1052", "pagination:1053", "sort_by:1062", "sort_type:1063"}},
	}
	for _, tt := range tests {
		for _, path := range []string{"/v2/pwf/payment?", "/v2/pwf/" + id + "/payment?"} {
			t.Run(path+tt.query, func(t *testing.T) {
				t.Parallel()
				if got := a.get(path + tt.query).codes(t); !slices.Equal(got, tt.want) {
					t.Errorf("errors = %v, want %v", got, tt.want)
				}
			})
		}
	}
	if r := a.get("/v2/pwf/payment?start_date=2026-03-02&end_date=2026-03-02&page=&sort_by="); r.status != http.StatusOK {
		t.Errorf("one-day range and empty params: %d %s", r.status, r.body)
	}
}

func TestPaymentLists_FilterByDayAndReference(t *testing.T) {
	t.Parallel()
	clk := &clock{t: time.Date(2026, 3, 1, 23, 30, 0, 0, wib)}
	s := newTestServer(t, Options{Now: clk.Now})
	a := newAPI(t, s)
	id := a.createBill("title", "Donations", "type", "MULTIPLE")
	days := []time.Time{
		time.Date(2026, 3, 1, 23, 30, 0, 0, wib),
		time.Date(2026, 3, 2, 0, 0, 0, 0, wib),
		time.Date(2026, 3, 2, 23, 59, 59, 0, wib),
		time.Date(2026, 3, 3, 8, 0, 0, 0, wib),
	}
	for i, d := range days {
		clk.Set(d)
		ref := ""
		if i == 2 {
			ref = "INV-3"
		}
		if _, err := s.Pay(t.Context(), id, PayOptions{Amount: int64(10_000 * (i + 1)), ReferenceID: ref}); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		query string
		want  []int64
	}{
		{"start_date=2026-03-02", []int64{20_000, 30_000, 40_000}},
		{"end_date=2026-03-02", []int64{10_000, 20_000, 30_000}},
		{"start_date=2026-03-02&end_date=2026-03-02", []int64{20_000, 30_000}},
		{"reference_id=INV-3", []int64{30_000}},
		{"reference_id=nope", nil},
	}
	for _, tt := range tests {
		var got testPage
		a.get("/v2/pwf/payment?"+tt.query).into(t, &got)
		if !slices.Equal(got.amounts(), tt.want) {
			t.Errorf("%s: amounts = %v, want %v", tt.query, got.amounts(), tt.want)
		}
	}
	// reference_id is a filter of Get All Payments only.
	var got testPage
	a.get("/v2/pwf/"+id+"/payment?reference_id=INV-3").into(t, &got)
	if got.TotalData != 4 {
		t.Errorf("bill payments with reference_id: %d rows, want all 4", got.TotalData)
	}
}

func TestConfirmBillPayment(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, Options{Now: func() time.Time { return fixedNow }})
	a := newAPI(t, s)
	id := a.createBill(step3()...)
	p := s.Payments(id)[0]
	m := a.send(http.MethodPut, "/v2/pwf/bill-payment/"+p.ID+"/confirm", nil).object(t)
	if m["confirmed_at"] != "2026-03-02 10:00" || m["payment_url"] != p.PaymentURL {
		t.Errorf("confirm = %v", m)
	}
	if r := a.send(http.MethodPut, "/v2/pwf/bill-payment/PGPWF0/confirm", nil); r.status != http.StatusNotFound {
		t.Errorf("unknown payment: %d %s", r.status, r.body)
	}
}

func TestPaymentIDs_AreUniqueAndFlipShaped(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, Options{Now: func() time.Time { return fixedNow }})
	a := newAPI(t, s)
	id := a.createBill("title", "Donations", "type", "MULTIPLE")
	seen := map[string]bool{}
	for i := range 50 {
		p, err := s.Pay(t.Context(), id, PayOptions{Amount: 10_000 + int64(i)})
		if err != nil {
			t.Fatal(err)
		}
		if seen[p.ID] || !regexp.MustCompile(`^PGPWF\d{20}$`).MatchString(p.ID) {
			t.Fatalf("payment %d id %q repeated or malformed", i, p.ID)
		}
		seen[p.ID] = true
		if !regexp.MustCompile(`^\d{16}$`).MatchString(p.VANumber) {
			t.Errorf("bni VA number %q, want 16 digits", p.VANumber)
		}
	}
	if len(seen) != 50 {
		t.Errorf("%d distinct ids, want 50", len(seen))
	}
}
