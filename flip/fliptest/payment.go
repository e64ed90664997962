package fliptest

import (
	"cmp"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"
)

// DefaultPageSize is the page size of the payment lists when the request
// has no pagination parameter (Flip documents none; the fake picks 10).
const DefaultPageSize = 10

// paymentQuery is a validated query of a payment list.
type paymentQuery struct {
	page, perPage int
	sortBy        string
	desc          bool
	start, end    time.Time // WIB days, inclusive; zero is unbounded
	referenceID   string
}

// sortKey returns the comparison for a sort_by value Flip accepts, or nil.
func sortKey(name string) func(a, b *payment) int {
	switch name {
	case "id":
		return func(a, b *payment) int { return cmp.Compare(a.ID, b.ID) }
	case "bill_link":
		return func(a, b *payment) int { return cmp.Compare(a.BillLink, b.BillLink) }
	case "bill_title":
		return func(a, b *payment) int { return cmp.Compare(a.BillTitle, b.BillTitle) }
	case "sender_bank":
		return func(a, b *payment) int { return cmp.Compare(a.SenderBank, b.SenderBank) }
	case "amount":
		return func(a, b *payment) int { return cmp.Compare(a.Amount, b.Amount) }
	case "created_at":
		return func(a, b *payment) int { return a.CreatedAt.Compare(b.CreatedAt) }
	}
	return nil
}

// parsePaymentQuery applies Flip's rules to the list query parameters,
// collecting every error. Empty parameters count as absent.
func parsePaymentQuery(q url.Values, allowReference bool) (paymentQuery, []flipFieldError) {
	var errs []flipFieldError
	pq := paymentQuery{page: 1, perPage: DefaultPageSize, sortBy: "created_at"}
	positive := func(attr string, code int, dst *int) {
		v := q.Get(attr)
		if v == "" {
			return
		}
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			errs = append(errs, fieldErr(attr, code, "Param %s must be a number greater than 0", attr))
			return
		}
		*dst = n
	}
	positive("page", codePage, &pq.page)
	positive("pagination", codePagination, &pq.perPage)
	if v := q.Get("sort_by"); v != "" {
		if sortKey(v) != nil {
			pq.sortBy = v
		} else {
			errs = append(errs, fieldErr("sort_by", codeSortBy, "Param sort_by is invalid"))
		}
	}
	switch q.Get("sort_type") {
	case "", "sort_asc":
	case "sort_desc":
		pq.desc = true
	default:
		errs = append(errs, fieldErr("sort_type", codeSortType, "Param sort_type is invalid"))
	}
	date := func(attr string, code int, dst *time.Time) bool {
		v := q.Get(attr)
		if v == "" {
			return true
		}
		t, err := time.ParseInLocation(layoutDate, v, wib)
		if err != nil {
			errs = append(errs, fieldErr(attr, code, "Param %s is invalid", attr))
			return false
		}
		*dst = t
		return true
	}
	okStart := date("start_date", codeStartDate, &pq.start)
	okEnd := date("end_date", codeEndDate, &pq.end)
	if okStart && okEnd && !pq.start.IsZero() && !pq.end.IsZero() && pq.end.Before(pq.start) {
		errs = append(errs, fieldErr("end_date", codeDateRange, "Param end_date must be greater than start_date"))
	}
	if allowReference {
		pq.referenceID = q.Get("reference_id")
	}
	return pq, errs
}

// pageLocked filters, sorts and pages payments.
func (pq paymentQuery) pageLocked(all []*payment) paymentPageJSON {
	var rows []*payment
	for _, p := range all {
		day := p.CreatedAt.In(wib)
		day = time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, wib)
		if !pq.start.IsZero() && day.Before(pq.start) {
			continue
		}
		if !pq.end.IsZero() && day.After(pq.end) {
			continue
		}
		if pq.referenceID != "" && p.ReferenceID != pq.referenceID {
			continue
		}
		rows = append(rows, p)
	}
	key := sortKey(pq.sortBy)
	slices.SortFunc(rows, func(a, b *payment) int {
		c := cmp.Or(key(a, b), cmp.Compare(a.seq, b.seq))
		if pq.desc {
			return -c
		}
		return c
	})
	out := paymentPageJSON{TotalData: len(rows), Page: pq.page, Data: []paymentJSON{}}
	out.TotalPage = (len(rows) + pq.perPage - 1) / pq.perPage
	from := (pq.page - 1) * pq.perPage
	if from < len(rows) {
		for _, p := range rows[from:min(from+pq.perPage, len(rows))] {
			out.Data = append(out.Data, paymentWire(p))
		}
	}
	out.DataPerPage = len(out.Data)
	return out
}

func (s *Server) handleBillPayments(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.bills[r.PathValue("id")]
	if !ok {
		writeValidation(w, []flipFieldError{billNotFoundErr()})
		return
	}
	pq, errs := parsePaymentQuery(r.URL.Query(), false)
	if len(errs) > 0 {
		writeValidation(w, errs)
		return
	}
	var mine []*payment
	for _, p := range s.payOrder {
		if p.LinkID == b.LinkID {
			mine = append(mine, p)
		}
	}
	if len(mine) == 0 && s.opts.EmptyPaymentsCode != 0 {
		writeValidation(w, []flipFieldError{emptyPaymentsErr(s.opts.EmptyPaymentsCode)})
		return
	}
	out := pq.pageLocked(mine)
	out.LinkID = json.Number(b.LinkID)
	s.writePage(w, out)
}

// writePage writes a payment page, as loosely as Options.Quirks ask.
func (s *Server) writePage(w http.ResponseWriter, page paymentPageJSON) {
	if !s.opts.Quirks.loose() {
		writeJSON(w, http.StatusOK, page)
		return
	}
	loose, err := s.opts.Quirks.loosePage(page)
	if err != nil {
		// The page is the fake's own plain struct; this is a bug.
		writeJSON(w, http.StatusInternalServerError, flipStatusBody{Name: "Internal Server Error", Message: "fliptest: " + err.Error(), Status: 500})
		return
	}
	writeJSON(w, http.StatusOK, loose)
}

func (s *Server) handleAllPayments(w http.ResponseWriter, r *http.Request) {
	pq, errs := parsePaymentQuery(r.URL.Query(), true)
	if len(errs) > 0 {
		writeValidation(w, errs)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.writePage(w, pq.pageLocked(s.payOrder))
}

// handleConfirm is Confirm Bill Payment. Flip runs it only in production;
// the fake answers it for any known payment (an unknown one is a 404).
func (s *Server) handleConfirm(w http.ResponseWriter, r *http.Request) {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.payments[r.PathValue("id")]
	if !ok {
		writeNotFound(w)
		return
	}
	writeJSON(w, http.StatusOK, confirmJSON{ConfirmedAt: now.In(wib).Format(layoutMinute), PaymentURL: p.PaymentURL})
}
