package fliptest

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/paylinkgo/paylink/provider"
)

type simKind int

const (
	simPay simKind = iota
	simExpire
	simFail
)

// readPayOptions reads the optional fields of a /_fliptest simulation: a
// JSON object (Content-Type application/json) or form fields. fromPage
// reports a form posted by the checkout page (return_to=checkout).
func readPayOptions(w http.ResponseWriter, r *http.Request) (opts PayOptions, fromPage bool, err error) {
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt == "application/json" {
		dec := json.NewDecoder(r.Body)
		dec.DisallowUnknownFields()
		if err := dec.Decode(&opts); err != nil && !errors.Is(err, io.EOF) {
			return PayOptions{}, false, fmt.Errorf("invalid JSON body: %w", err)
		}
		return opts, false, nil
	}
	if mt == "multipart/form-data" {
		err = r.ParseMultipartForm(maxBody)
	} else {
		err = r.ParseForm()
	}
	if err != nil {
		return PayOptions{}, false, fmt.Errorf("invalid form body: %w", err)
	}
	f := r.PostForm
	if v := strings.TrimSpace(f.Get("amount")); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return PayOptions{}, false, errors.New("amount must be a number")
		}
		opts.Amount = n
	}
	opts.SenderName = strings.TrimSpace(f.Get("sender_name"))
	opts.SenderEmail = strings.TrimSpace(f.Get("sender_email"))
	opts.SenderBank = strings.TrimSpace(f.Get("sender_bank"))
	opts.SenderBankType = BankType(strings.TrimSpace(f.Get("sender_bank_type")))
	opts.ReferenceID = strings.TrimSpace(f.Get("reference_id"))
	if bank, typ, ok := strings.Cut(f.Get("channel"), "/"); ok {
		opts.SenderBank, opts.SenderBankType = bank, BankType(typ)
	}
	return opts, f.Get("return_to") == "checkout", nil
}

// handleSimulate serves POST /_fliptest/bills/{id}/pay|expire|fail.
func (s *Server) handleSimulate(kind simKind) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		opts, fromPage, err := readPayOptions(w, r)
		if err != nil {
			writeValidation(w, []flipFieldError{fieldErr("body", codeAmountNumber, "%s", err.Error())})
			return
		}
		var p Payment
		switch kind {
		case simPay:
			p, err = s.Pay(r.Context(), id, opts)
		case simExpire:
			p, err = s.Expire(r.Context(), id)
		default:
			p, err = s.Fail(r.Context(), id)
		}
		if fromPage {
			q := url.Values{}
			var pe *provider.Error
			switch {
			case errors.As(err, &pe):
				q.Set("error", pe.Message)
			case err != nil:
				q.Set("error", err.Error())
			default:
				q.Set("msg", "Payment "+p.ID+" is "+string(p.Status))
			}
			http.Redirect(w, r, "/pwf/checkout/"+url.PathEscape(id)+"?"+q.Encode(), http.StatusSeeOther)
			return
		}
		if err != nil {
			writeSimError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, p)
	}
}

// handleRedeliver serves POST /_fliptest/payments/{id}/redeliver: the
// payment's last callback again, or, with a status field (form or JSON),
// a callback claiming that status (SendCallback).
func (s *Server) handleRedeliver(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	var in struct {
		Status PaymentStatus `json:"status"`
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "application/json" {
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil && !errors.Is(err, io.EOF) {
			writeValidation(w, []flipFieldError{fieldErr("body", 999, "invalid JSON body")})
			return
		}
	} else if err := r.ParseForm(); err == nil {
		in.Status = PaymentStatus(r.PostForm.Get("status"))
	}
	var err error
	if in.Status != "" {
		err = s.SendCallback(r.Context(), id, in.Status)
	} else {
		err = s.Redeliver(r.Context(), id)
	}
	if err != nil {
		writeSimError(w, err)
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]string{"payment_id": id, "result": "queued"})
}

// handleDeliveries serves GET /_fliptest/deliveries.
func (s *Server) handleDeliveries(w http.ResponseWriter, _ *http.Request) {
	d := s.Deliveries()
	if d == nil {
		d = []Delivery{}
	}
	writeJSON(w, http.StatusOK, d)
}
