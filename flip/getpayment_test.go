package flip_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"sync"
	"testing"

	"github.com/paylinkgo/paylink/flip"
	"github.com/paylinkgo/paylink/flip/fliptest"
	"github.com/paylinkgo/paylink/provider"
)

// requestLog is a RoundTripper that records the requests a client sends.
type requestLog struct {
	mu   sync.Mutex
	reqs []*url.URL
}

func (l *requestLog) RoundTrip(r *http.Request) (*http.Response, error) {
	l.mu.Lock()
	l.reqs = append(l.reqs, r.URL)
	l.mu.Unlock()
	return http.DefaultTransport.RoundTrip(r)
}

// take returns the requests recorded since the last take.
func (l *requestLog) take() []*url.URL {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.reqs
	l.reqs = nil
	return out
}

// busyBill starts a fake holding one MULTIPLE bill paid n times and a
// provider reading it 10 payments a page through a request log. ids are
// the payments, oldest first.
func busyBill(t *testing.T, opts fliptest.Options, n int) (p *flip.Provider, fake *fliptest.Server, linkID string, ids []string, log *requestLog) {
	t.Helper()
	opts.SecretKey = "get-payment-secret"
	fake = fliptest.NewServer(opts)
	t.Cleanup(fake.Close)
	log = &requestLog{}
	c, err := flip.NewClient(opts.SecretKey, flip.Options{BaseURL: fake.URL, HTTPClient: &http.Client{Transport: log}})
	if err != nil {
		t.Fatal(err)
	}
	p = flip.NewProvider(c, flip.ProviderOptions{CallbackToken: "get-payment-token", PageSize: 10})
	l, err := p.CreateLink(t.Context(), provider.CreateLinkParams{Title: "Donations", Type: provider.LinkMultiple, Amount: provider.Rupiah(45000)})
	if err != nil {
		t.Fatal(err)
	}
	for range n {
		pay, err := fake.Pay(t.Context(), l.ID, fliptest.PayOptions{})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, string(pay.ID))
	}
	log.take()
	return p, fake, l.ID, ids, log
}

// Confirming a callback reads the bill's payments newest first and stops
// at the page holding the payment: on a busy MULTIPLE bill the newest
// payment costs one request, not one per page of its history.
func TestGetPaymentReadsNewestFirstAndStopsEarly(t *testing.T) {
	t.Parallel()
	p, _, linkID, ids, log := busyBill(t, fliptest.Options{}, 250)
	all, err := p.ListLinkPayments(t.Context(), &provider.Link{ID: linkID})
	if err != nil || len(all) != 250 {
		t.Fatalf("ListLinkPayments: %d payments, %v", len(all), err)
	}
	if n := len(log.take()); n != 25 {
		t.Fatalf("ListLinkPayments sent %d requests, want 25 pages of 10", n)
	}
	listed := map[string]provider.Payment{}
	for _, pay := range all {
		listed[pay.ID] = pay
	}

	for _, tt := range []struct {
		name  string
		id    string
		pages int
	}{
		{"the newest payment: one page", ids[249], 1},
		{"the tenth newest: still the first page", ids[240], 1},
		{"the eleventh newest: the second page", ids[239], 2},
		{"the oldest payment: every page", ids[0], 25},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := p.GetPayment(t.Context(), &provider.Link{ID: linkID}, tt.id)
			if err != nil {
				t.Fatalf("GetPayment(%s): %v", tt.id, err)
			}
			reqs := log.take()
			if len(reqs) != tt.pages {
				t.Errorf("%d requests, want %d", len(reqs), tt.pages)
			}
			for i, r := range reqs {
				q := r.Query()
				if r.Path != "/v2/pwf/"+linkID+"/payment" || q.Get("sort_by") != "created_at" || q.Get("sort_type") != "sort_desc" ||
					q.Get("pagination") != "10" || q.Get("page") != fmt.Sprint(i+1) {
					t.Errorf("request %d = %s", i, r)
				}
			}
			if want := listed[tt.id]; !reflect.DeepEqual(*got, want) {
				t.Errorf("GetPayment:\n got %+v\nwant %+v (as ListLinkPayments lists it)", *got, want)
			}
		})
	}

	t.Run("an unknown payment: every page, then CodeNotFound", func(t *testing.T) {
		got, err := p.GetPayment(t.Context(), &provider.Link{ID: linkID}, "PGPWF-NOT-THERE")
		if !errors.Is(err, provider.CodeNotFound) || got != nil {
			t.Fatalf("got %v, %v; want CodeNotFound", got, err)
		}
		if n := len(log.take()); n != 25 {
			t.Errorf("%d requests, want the 25 pages", n)
		}
	})

	t.Run("provider.GetPayment uses it", func(t *testing.T) {
		got, err := provider.GetPayment(t.Context(), p, &provider.Link{ID: linkID}, ids[249])
		if err != nil || got.ID != ids[249] {
			t.Fatalf("got %+v, %v", got, err)
		}
		if n := len(log.take()); n != 1 {
			t.Errorf("%d requests, want 1", n)
		}
	})
}

// An unknown bill is Flip's own error, as ListLinkPayments gives it; a
// bill without payments, even when Flip answers it as an unknown bill,
// makes the payment not found.
func TestGetPaymentOfAnUnknownOrEmptyBill(t *testing.T) {
	t.Parallel()
	for _, code := range []int{0, 1050, 1043} {
		t.Run(fmt.Sprintf("empty payments answered with %d", code), func(t *testing.T) {
			t.Parallel()
			p, _, linkID, _, log := busyBill(t, fliptest.Options{EmptyPaymentsCode: code}, 0)
			got, err := p.GetPayment(t.Context(), &provider.Link{ID: linkID}, "PGPWF1")
			if !errors.Is(err, provider.CodeNotFound) || got != nil {
				t.Fatalf("got %v, %v; want CodeNotFound", got, err)
			}
			if _, isFlips := errors.AsType[*flip.APIError](err); isFlips {
				t.Errorf("err = %v, Flip's answer about the bill, want one about the payment", err)
			}
			if n := len(log.take()); code == 0 && n != 1 || code != 0 && n != 2 {
				t.Errorf("%d requests, want the payment page (and the bill when Flip's answer is ambiguous)", n)
			}

			got, err = p.GetPayment(t.Context(), &provider.Link{ID: "999999"}, "PGPWF1")
			apiErr, isFlips := errors.AsType[*flip.APIError](err)
			if !errors.Is(err, provider.CodeNotFound) || got != nil || !isFlips || apiErr.StatusCode != http.StatusUnprocessableEntity {
				t.Fatalf("unknown bill: got %v, %v; want Flip's 422, CodeNotFound", got, err)
			}
		})
	}
}

func TestGetPaymentRefusesABlankID(t *testing.T) {
	t.Parallel()
	p, f := newProvider(t, flip.ProviderOptions{}, pages(nil))
	for _, link := range []string{"", " "} {
		if _, err := p.GetPayment(t.Context(), &provider.Link{ID: link}, "PGPWF1"); !errors.Is(err, provider.CodeInvalidArgument) {
			t.Errorf("link %q: %v, want CodeInvalidArgument", link, err)
		}
	}
	for _, id := range []string{"", " "} {
		if _, err := p.GetPayment(t.Context(), &provider.Link{ID: "7"}, id); !errors.Is(err, provider.CodeInvalidArgument) {
			t.Errorf("payment %q: %v, want CodeInvalidArgument", id, err)
		}
	}
	if n := len(f.requests()); n != 0 {
		t.Errorf("%d requests, want none", n)
	}
}

// Should Flip refuse the sort on the first page, the pages are read in its
// default order, every one of them if need be; the payment is still found.
func TestGetPaymentWithoutTheSort(t *testing.T) {
	t.Parallel()
	var payments []string
	for i := range 25 {
		payments = append(payments, paymentJSON(fmt.Sprintf("PGPWF%03d", i), "SUCCESSFUL", "2024-06-13 10:49:10"))
	}
	refuse := `{"code":"VALIDATION_ERROR","errors":[{"attribute":"sort_type","code":1063,"message":"Param sort_type is invalid"}]}`
	p, f := newProvider(t, flip.ProviderOptions{}, func(n int, r *http.Request) (int, string) {
		if r.URL.Query().Has("sort_type") {
			return 422, refuse
		}
		return pages(payments)(n, r)
	})
	got, err := p.GetPayment(t.Context(), &provider.Link{ID: "7"}, "PGPWF024")
	if err != nil || got.ID != "PGPWF024" || got.Status != provider.PaymentSuccessful || got.LinkID != "7" {
		t.Fatalf("got %+v, %v", got, err)
	}
	var queries []string
	for _, r := range f.requests() {
		queries = append(queries, r.RawQuery)
	}
	want := "[page=1&sort_by=created_at&sort_type=sort_desc page=1 page=2 page=3]"
	if fmt.Sprint(queries) != want {
		t.Errorf("queries = %v, want %s", queries, want)
	}

	// A refusal on a later page is an error: a change of order there
	// could skip the payment.
	p, _ = newProvider(t, flip.ProviderOptions{}, func(n int, r *http.Request) (int, string) {
		if r.URL.Query().Get("page") == "2" {
			return 422, refuse
		}
		return pages(payments)(n, r)
	})
	if _, err := p.GetPayment(t.Context(), &provider.Link{ID: "7"}, "PGPWF024"); !errors.Is(err, provider.CodeInvalidArgument) {
		t.Errorf("refused on page 2: %v, want the error", err)
	}
}

// A page that repeats payments (new ones arrived at the front while the
// list was read) still leads to the payment further back.
func TestGetPaymentAcrossShiftedPages(t *testing.T) {
	t.Parallel()
	var payments []string
	for i := range 20 {
		payments = append(payments, paymentJSON(fmt.Sprintf("P%02d", 19-i), "SUCCESSFUL", "2024-06-13 10:49:10"))
	}
	newer := paymentJSON("P20", "SUCCESSFUL", "2024-06-13 10:50:10")
	p, f := newProvider(t, flip.ProviderOptions{}, func(n int, r *http.Request) (int, string) {
		if r.URL.Query().Get("page") == "1" {
			return pages(payments)(n, r)
		}
		// A payment arrived after page 1 was read: page 2 starts with
		// the last one page 1 showed.
		return pages(append([]string{newer}, payments...))(n, r)
	})
	got, err := p.GetPayment(t.Context(), &provider.Link{ID: "7"}, "P00")
	if err != nil || got.ID != "P00" {
		t.Fatalf("got %+v, %v", got, err)
	}
	if n := len(f.requests()); n != 3 {
		t.Errorf("%d requests, want 3 (the third page holds it)", n)
	}
}
