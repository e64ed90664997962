package fliptest

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// maxBody caps API request bodies.
const maxBody = 1 << 20

// maxTextLen caps titles and names (Flip documents no limit; the fake
// picks one so that an unbounded title is refused).
const maxTextLen = 255

// formContentType reports whether r says its body is form-encoded, as
// Flip requires of every request, GETs included.
func formContentType(r *http.Request) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && mt == "application/x-www-form-urlencoded"
}

// writeContentTypeError answers a request without the form content type:
// 422 with attribute "Content-Type" and code 999, the fake's rendering of
// Flip's request format validation (December 2025; its exact body is not
// documented).
func writeContentTypeError(w http.ResponseWriter, r *http.Request) {
	msg := "Content-Type must be application/x-www-form-urlencoded"
	if r.Header.Get("Content-Type") == "" {
		msg = "Content-Type header is required: application/x-www-form-urlencoded"
	}
	writeValidation(w, []flipFieldError{fieldErr("Content-Type", codeUndefined, "%s", msg)})
}

// readForm reads a form-encoded API body. The content type was checked
// for every API request (see formContentType).
func readForm(w http.ResponseWriter, r *http.Request) (url.Values, bool) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeJSON(w, http.StatusRequestEntityTooLarge, flipStatusBody{Name: "Payload Too Large", Message: "Request body is too large.", Status: http.StatusRequestEntityTooLarge})
			return nil, false
		}
		writeValidation(w, []flipFieldError{fieldErr("body", codeUndefined, "Request body cannot be read")})
		return nil, false
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		writeValidation(w, []flipFieldError{fieldErr("body", codeUndefined, "Request body is not a valid form")})
		return nil, false
	}
	return form, true
}

// textOK reports whether t is an acceptable title or name: at most 255
// characters of letters, digits, spaces and common punctuation. HTML,
// quotes, control characters and emoji are refused.
func textOK(t string) bool {
	if t == "" || utf8.RuneCountInString(t) > maxTextLen || !utf8.ValidString(t) {
		return false
	}
	for _, c := range t {
		switch {
		case unicode.IsLetter(c), unicode.IsDigit(c), c == ' ':
		case strings.ContainsRune(".,-_()/&:#'+!?@%*", c):
		default:
			return false
		}
	}
	return true
}

func emailOK(e string) bool {
	a, err := mail.ParseAddress(e)
	return err == nil && a.Address == e && a.Name == "" && strings.Contains(e[strings.LastIndexByte(e, '@'):], ".")
}

// redirectOK checks a redirect_url: an absolute http(s) URL, and with
// Options.RefuseLocalRedirects not on this machine or a private network.
func (s *Server) redirectOK(u string) bool {
	p, err := url.Parse(u)
	if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
		return false
	}
	return !s.opts.RefuseLocalRedirects || !localHost(p.Hostname())
}

// parseExpiry reads expired_date: "YYYY-MM-DD HH:mm" (as documented) or
// with seconds (as Flip's own examples send it), in WIB.
func parseExpiry(v string) (time.Time, bool) {
	for _, layout := range []string{layoutMinute, layoutDateTime} {
		if t, err := time.ParseInLocation(layout, v, wib); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// checkAmount validates a non-empty amount against Flip's rules.
func (s *Server) checkAmount(v string) (int64, *flipFieldError) {
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		fe := fieldErr("amount", codeAmountNumber, "Param amount must be a number")
		return 0, &fe
	}
	if n < MinAmount {
		fe := fieldErr("amount", codeMinAmount, "Minimum transfer amount is Rp10.000")
		return 0, &fe
	}
	if s.opts.MaxAmount > 0 && n > s.opts.MaxAmount {
		var fe flipFieldError
		if s.opts.MaxAmountCode == codeMaxAmountLegacy {
			fe = fieldErr("amount", codeMaxAmountLegacy, "Maximum amount is Rp%s", rupiah(s.opts.MaxAmount))
		} else {
			fe = fieldErr("amount", codeMaxAmount, "amount is exceeding company's PWF maximum limit amount")
		}
		return 0, &fe
	}
	return n, nil
}

// flag reads a 0/1 flag; empty is 0.
func flag(form url.Values, attr string, errs *[]flipFieldError) bool {
	switch form.Get(attr) {
	case "", "0":
		return false
	case "1":
		return true
	}
	*errs = append(*errs, invalidErr(attr))
	return false
}

// createRequest is a validated Create Bill request.
type createRequest struct {
	bill   Bill
	method Channel
}

// validateCreate applies Flip's Create Bill rules, collecting every error.
func (s *Server) validateCreate(form url.Values, now time.Time) (createRequest, []flipFieldError) {
	var errs []flipFieldError
	var req createRequest
	get := func(k string) string { return strings.TrimSpace(form.Get(k)) }

	step := 1
	switch get("step") {
	case "", "1":
	case "2":
		step = 2
	case "3":
		step = 3
	default:
		errs = append(errs, invalidErr("step"))
	}

	title := get("title")
	if !textOK(title) {
		errs = append(errs, fieldErr("title", codeTitle, "Param title is invalid"))
	}

	typ := BillType(get("type"))
	switch {
	case typ == "":
		errs = append(errs, fieldErr("type", codeTypeRequired, "Bill type param is required"))
	case typ != BillSingle && typ != BillMultiple:
		errs = append(errs, fieldErr("type", codeTypeInvalid, "Bill type param is invalid"))
	case step == 3 && typ != BillSingle:
		errs = append(errs, fieldErr("type", codeTypeInvalid, "Bill type must be SINGLE for step 3"))
	}

	var amount int64
	if v := get("amount"); v != "" {
		n, fe := s.checkAmount(v)
		if fe != nil {
			errs = append(errs, *fe)
		}
		amount = n
	} else if step >= 2 {
		errs = append(errs, fieldErr("amount", codeMinAmount, "Param amount is required for step 2 and 3; minimum transfer amount is Rp10.000"))
	}

	var expires time.Time
	if v := get("expired_date"); v != "" {
		t, ok := parseExpiry(v)
		switch {
		case !ok:
			errs = append(errs, fieldErr("expired_date", codeExpiredInvalid, "Param expired_date is invalid"))
		case !t.After(now):
			errs = append(errs, fieldErr("expired_date", codeExpired, "Bill link has already expired"))
		default:
			expires = t
		}
	}

	redirect := get("redirect_url")
	if redirect != "" && !s.redirectOK(redirect) {
		errs = append(errs, fieldErr("redirect_url", codeRedirectURL, "Param redirect_url is invalid"))
	}
	needAddress := flag(form, "is_address_required", &errs)
	needPhone := flag(form, "is_phone_number_required", &errs)

	var cust Customer
	if step >= 2 {
		cust = Customer{
			Name: get("sender_name"), Email: get("sender_email"),
			Phone: get("sender_phone_number"), Address: get("sender_address"),
		}
		switch {
		case cust.Name == "":
			errs = append(errs, requiredErr("sender_name"))
		case !textOK(cust.Name):
			errs = append(errs, invalidErr("sender_name"))
		}
		switch {
		case cust.Email == "":
			errs = append(errs, requiredErr("sender_email"))
		case !emailOK(cust.Email):
			errs = append(errs, invalidErr("sender_email"))
		}
	}
	if step == 3 {
		m := Channel{Bank: get("sender_bank"), Type: BankType(get("sender_bank_type"))}
		if m.Bank == "" {
			errs = append(errs, requiredErr("sender_bank"))
		}
		if m.Type == "" {
			errs = append(errs, requiredErr("sender_bank_type"))
		}
		if m.Bank != "" && m.Type != "" && !s.channels[m] {
			errs = append(errs, fieldErr("sender_bank", codeNotEnabled, "Cannot create transaction with chosen bank because it's not enabled"))
		}
		req.method = m
	}
	req.bill = Bill{
		Title: title, Type: typ, Amount: amount, Status: BillActive, Step: step,
		RedirectURL: redirect, ExpiresAt: expires,
		IsAddressRequired: needAddress, IsPhoneNumberRequired: needPhone,
		Customer: cust, SenderBank: req.method.Bank, SenderBankType: req.method.Type,
	}
	return req, errs
}

func (s *Server) handleCreateBill(w http.ResponseWriter, r *http.Request) {
	form, ok := readForm(w, r)
	if !ok {
		return
	}
	now := s.now()
	req, errs := s.validateCreate(form, now)
	if len(errs) > 0 {
		writeValidation(w, errs)
		return
	}
	s.mu.Lock()
	b := s.newBillLocked(req.bill, now)
	var p *payment
	if b.Step == 3 {
		p = s.newPaymentLocked(b, paymentSpec{
			amount: b.Amount, name: b.Customer.Name, email: b.Customer.Email,
			method: req.method,
		}, now)
		b.PaymentURL = p.PaymentURL
	}
	out := billWire(b, viewCreated, p)
	s.mu.Unlock()
	s.log.Debug("fliptest: bill created", "link_id", b.LinkID, "step", b.Step)
	writeJSON(w, http.StatusOK, out)
}

// newBillLocked stores a new bill with the next link id.
func (s *Server) newBillLocked(in Bill, now time.Time) *bill {
	s.seq++
	b := &bill{Bill: in, seq: s.seq}
	b.LinkID = s.nextLinkIDLocked(now)
	b.LinkURL = s.URL + "/pwf/checkout/" + b.LinkID
	b.CreatedAt = now
	s.bills[b.LinkID] = b
	s.billOrder = append(s.billOrder, b)
	return b
}

func (s *Server) nextLinkIDLocked(now time.Time) string {
	if !s.opts.LongIDs {
		id := strconv.FormatInt(s.nextLinkID, 10)
		s.nextLinkID++
		return id
	}
	// YYMMDDHHmmss in WIB followed by 7 digits: 19 digits, like Flip's
	// 2502091430251230000.
	prefix := now.In(wib).Format("060102150405")
	for n := s.salt + s.seq; ; n++ {
		id := prefix + leftPad(n%10_000_000, 7)
		if _, taken := s.bills[id]; !taken {
			return id
		}
	}
}

func leftPad(n int64, width int) string {
	v := strconv.FormatInt(n, 10)
	if len(v) < width {
		v = strings.Repeat("0", width-len(v)) + v
	}
	return v
}

func (s *Server) handleGetBill(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.bills[r.PathValue("id")]
	if !ok {
		writeValidation(w, []flipFieldError{billNotFoundErr()})
		return
	}
	writeJSON(w, http.StatusOK, billWire(b, viewStored, nil))
}

func (s *Server) handleListBills(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]billJSON, 0, len(s.billOrder))
	for _, b := range s.billOrder {
		out = append(out, billWire(b, viewStored, nil))
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) handleEditBill(w http.ResponseWriter, r *http.Request) {
	form, ok := readForm(w, r)
	if !ok {
		return
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.bills[r.PathValue("id")]
	if !ok {
		writeValidation(w, []flipFieldError{billNotFoundErr()})
		return
	}
	next, errs := s.validateEdit(b.Bill, form, now)
	if len(errs) > 0 {
		writeValidation(w, errs)
		return
	}
	if !next.ExpiresAt.Equal(b.ExpiresAt) {
		b.expirySeen = false
	}
	b.Bill = next
	s.log.Debug("fliptest: bill edited", "link_id", b.LinkID)
	writeJSON(w, http.StatusOK, billWire(b, viewStored, nil))
}

// validateEdit applies the Edit Bill rules to the fields present in form
// and returns the edited bill. Absent fields are unchanged; a present but
// empty amount, expired_date or redirect_url clears it.
func (s *Server) validateEdit(b Bill, form url.Values, now time.Time) (Bill, []flipFieldError) {
	var errs []flipFieldError
	has := func(k string) (string, bool) {
		_, ok := form[k]
		return strings.TrimSpace(form.Get(k)), ok
	}
	if v, ok := has("title"); ok {
		if textOK(v) {
			b.Title = v
		} else {
			errs = append(errs, fieldErr("title", codeTitle, "Param title is invalid"))
		}
	}
	if v, ok := has("type"); ok {
		t := BillType(v)
		switch {
		case t != BillSingle && t != BillMultiple:
			errs = append(errs, fieldErr("type", codeTypeInvalid, "Bill type param is invalid"))
		case b.Step == 3 && t != BillSingle:
			errs = append(errs, fieldErr("type", codeTypeInvalid, "Bill type must be SINGLE for step 3"))
		default:
			b.Type = t
		}
	}
	if v, ok := has("amount"); ok {
		switch {
		case v == "" && b.Step >= 2:
			errs = append(errs, fieldErr("amount", codeMinAmount, "Param amount is required for step 2 and 3; minimum transfer amount is Rp10.000"))
		case v == "":
			b.Amount = 0
		default:
			n, fe := s.checkAmount(v)
			if fe != nil {
				errs = append(errs, *fe)
			} else {
				b.Amount = n
			}
		}
	}
	if v, ok := has("expired_date"); ok {
		t, parsed := parseExpiry(v)
		switch {
		case v == "":
			b.ExpiresAt = time.Time{}
		case !parsed:
			errs = append(errs, fieldErr("expired_date", codeExpiredInvalid, "Param expired_date is invalid"))
		case !t.After(now):
			errs = append(errs, fieldErr("expired_date", codeExpired, "Bill link has already expired"))
		default:
			b.ExpiresAt = t
		}
	}
	if v, ok := has("redirect_url"); ok {
		if v == "" || s.redirectOK(v) {
			b.RedirectURL = v
		} else {
			errs = append(errs, fieldErr("redirect_url", codeRedirectURL, "Param redirect_url is invalid"))
		}
	}
	if _, ok := has("is_address_required"); ok {
		b.IsAddressRequired = flag(form, "is_address_required", &errs)
	}
	if _, ok := has("is_phone_number_required"); ok {
		b.IsPhoneNumberRequired = flag(form, "is_phone_number_required", &errs)
	}
	if v, ok := has("status"); ok {
		switch st := BillStatus(v); st {
		case BillActive, BillInactive:
			b.Status = st
		default:
			errs = append(errs, fieldErr("status", codeStatus, "Param status is invalid"))
		}
	}
	if len(errs) == 0 && b.Status == BillActive && b.Type == BillSingle && b.Used {
		errs = append(errs, fieldErr("status", codeUsed, "Bill link has already used"))
	}
	return b, errs
}

// rupiah formats n with dots between thousands: 10000000 -> "10.000.000".
func rupiah(n int64) string {
	v := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(v, "-")
	v = strings.TrimPrefix(v, "-")
	var b strings.Builder
	for i, c := range v {
		if i > 0 && (len(v)-i)%3 == 0 {
			b.WriteByte('.')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}
