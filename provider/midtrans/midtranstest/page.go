package midtranstest

import (
	"html/template"
	"net/http"
	"net/url"

	"github.com/paylinkgo/paylink/provider/midtrans"
)

var pageTemplate = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Midtrans test payment {{.OrderID}}</title></head>
<body>
<h1>Midtrans test payment</h1>
<p>Order <code id="order-id">{{.OrderID}}</code>: IDR <span id="amount">{{.Amount}}</span></p>
<p>Status: <span id="status">{{.Status}}</span></p>
{{range .Actions}}<form method="post" action="{{$.Base}}/{{.Action}}"><button type="submit" id="{{.Action}}">{{.Label}}</button></form>
{{end}}</body></html>
`))

type pageAction struct{ Action, Label string }

// handlePage is the hosted Snap page: the order and a button per
// simulated outcome.
func (s *Server) handlePage(w http.ResponseWriter, r *http.Request) {
	token := r.PathValue("token")
	s.mu.Lock()
	s.dueLocked()
	o, ok := s.byToken[token]
	var data struct {
		OrderID, Status, Base string
		Amount                int64
		Actions               []pageAction
	}
	if ok {
		data.OrderID, data.Amount, data.Base = o.id, o.gross, "/snap/v2/vtweb/"+token
		data.Status = "waiting for a payment method"
		if o.tx != nil {
			data.Status = o.tx.status
		}
		if o.canceled {
			data.Status = "cancelled"
		}
		if s.pageExpired(o) && (o.tx == nil || retryable(o.tx.status)) {
			data.Status = "expired"
		}
	}
	s.mu.Unlock()
	if !ok {
		http.Error(w, "Snap token not found", http.StatusNotFound)
		return
	}
	data.Actions = []pageAction{
		{"choose", "Pick BCA virtual account (pay later)"}, {"pay", "Pay by BCA virtual account"}, {"pay-card", "Pay by card"},
		{"pay-card-challenge", "Pay by card (fraud check: challenge)"}, {"approve", "Approve the challenge (merchant)"},
		{"deny", "Deny"}, {"expire", "Let it expire"}, {"refund", "Refund (card payments)"},
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = pageTemplate.Execute(w, data)
}

// handlePageAction runs a button of the hosted page, then sends the
// customer to callbacks.finish with order_id, status_code and
// transaction_status, as Snap does.
func (s *Server) handlePageAction(w http.ResponseWriter, r *http.Request) {
	token := r.PathValue("token")
	s.mu.Lock()
	o, ok := s.byToken[token]
	var orderID, finish string
	if ok {
		orderID, finish = o.id, o.finishURL
	}
	s.mu.Unlock()
	if !ok {
		http.Error(w, "Snap token not found", http.StatusNotFound)
		return
	}
	ctx := r.Context()
	var err error
	switch r.PathValue("action") {
	case "choose":
		_, err = s.Choose(ctx, orderID, Method{})
	case "pay":
		_, err = s.Pay(ctx, orderID, PayOptions{})
	case "pay-card":
		_, err = s.Pay(ctx, orderID, PayOptions{Method: Method{PaymentType: "credit_card"}})
	case "pay-card-challenge":
		_, err = s.Pay(ctx, orderID, PayOptions{Method: Method{PaymentType: "credit_card"}, Fraud: "challenge"})
	case "approve":
		_, err = s.Approve(ctx, orderID)
	case "deny":
		_, err = s.Deny(ctx, orderID)
	case "expire":
		_, err = s.Expire(ctx, orderID)
	case "refund":
		_, err = s.Refund(ctx, orderID, 0)
	default:
		http.NotFound(w, r)
		return
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusConflict)
		return
	}
	s.mu.Lock()
	code, status := statusCode(o.tx), o.tx.status
	s.mu.Unlock()
	if finish == "" {
		http.Redirect(w, r, "/snap/v2/vtweb/"+token, http.StatusSeeOther)
		return
	}
	u, perr := url.Parse(finish)
	if perr != nil {
		http.Error(w, "bad finish URL", http.StatusInternalServerError)
		return
	}
	q := u.Query()
	q.Set("order_id", orderID)
	q.Set("status_code", code)
	q.Set("transaction_status", status)
	u.RawQuery = q.Encode()
	http.Redirect(w, r, u.String(), http.StatusSeeOther)
}

// Client returns a midtrans.Client pointed at the fake, with its server
// key.
func (s *Server) Client() *midtrans.Client {
	c, err := midtrans.NewClient(s.opts.ServerKey, midtrans.Options{BaseURL: s.URL, RetryBackoff: 1})
	if err != nil {
		panic(err) // the fake's own URL and key are valid
	}
	return c
}
