package fliptest

import (
	"bytes"
	"html/template"
	"net/http"
	"net/url"
	"slices"
)

// checkoutView is what the checkout page shows.
type checkoutView struct {
	Company     string
	Bill        Bill
	Amount      string // "Rp45.000"; empty for an open amount
	State       string // ACTIVE, INACTIVE or EXPIRED
	Status      PaymentStatus
	Latest      *Payment
	Payments    []Payment // newest first
	Channels    []Channel
	Action      string // the /_fliptest/bills/{id} prefix of the forms
	CanPay      bool
	CanExpire   bool
	CanFail     bool
	ReturnURL   string
	Message     string
	Error       string
	DefaultName string
	DefaultMail string
}

func (s *Server) checkoutViewLocked(b *bill) checkoutView {
	now := s.now()
	v := checkoutView{
		Company:     s.opts.CompanyCode,
		Bill:        b.Bill,
		State:       string(b.Status),
		Status:      PaymentPending,
		Channels:    slices.Clone(s.opts.Channels),
		Action:      "/_fliptest/bills/" + url.PathEscape(b.LinkID),
		DefaultName: b.Customer.Name,
		DefaultMail: b.Customer.Email,
	}
	if b.Amount > 0 {
		v.Amount = "Rp" + rupiah(b.Amount)
	}
	expired := b.Expired(now)
	if expired {
		v.State = "EXPIRED"
	}
	for _, p := range s.payOrder {
		if p.LinkID == b.LinkID {
			v.Payments = append(v.Payments, p.Payment)
		}
	}
	slices.Reverse(v.Payments)
	if len(v.Payments) > 0 {
		v.Latest = &v.Payments[0]
		v.Status = v.Latest.Status
	}
	used := b.Type == BillSingle && b.Used
	v.CanPay = payableLocked("", b, now) == nil
	v.CanExpire = !used
	v.CanFail = !used && !expired
	if b.RedirectURL != "" && v.Status == PaymentSuccessful {
		v.ReturnURL = b.RedirectURL
	}
	return v
}

func (s *Server) handleCheckout(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.sweepExpiredLocked()
	b, ok := s.bills[r.PathValue("id")]
	var v checkoutView
	if ok {
		v = s.checkoutViewLocked(b)
	}
	s.mu.Unlock()
	if !ok {
		writeHTML(w, http.StatusNotFound, notFoundPage, nil)
		return
	}
	q := r.URL.Query()
	v.Message, v.Error = q.Get("msg"), q.Get("error")
	writeHTML(w, http.StatusOK, checkoutPage, v)
}

// handleTransactionPage serves a payment's payment_url: it sends the
// browser to the checkout page of the payment's bill.
func (s *Server) handleTransactionPage(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	p, ok := s.payments[r.PathValue("id")]
	s.mu.Unlock()
	if !ok {
		writeHTML(w, http.StatusNotFound, notFoundPage, nil)
		return
	}
	http.Redirect(w, r, "/pwf/checkout/"+url.PathEscape(p.LinkID), http.StatusSeeOther)
}

func writeHTML(w http.ResponseWriter, status int, t *template.Template, data any) {
	var buf bytes.Buffer
	if err := t.Execute(&buf, data); err != nil {
		http.Error(w, "fliptest: cannot render page", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// The pages are parsed once; templates are never changed after parsing.
var (
	notFoundPage = template.Must(template.New("notfound").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Bill not found</title></head>
<body><h1 id="status">NOT_FOUND</h1><p>This payment link does not exist.</p></body></html>
`))

	checkoutPage = template.Must(template.New("checkout").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Bill.Title}} - fake Flip checkout</title>
<style>
body{font-family:system-ui,sans-serif;max-width:34rem;margin:2rem auto;padding:0 1rem;color:#222}
.card{border:1px solid #ddd;border-radius:8px;padding:1rem 1.25rem;margin:1rem 0}
.status{font-weight:bold;font-size:1.2rem}
.note{color:#666;font-size:.9rem}
.msg{background:#eef9ee;padding:.5rem}.err{background:#fdecec;padding:.5rem}
label{display:block;margin:.4rem 0}input,select{width:100%;padding:.3rem}
button{padding:.5rem 1rem;margin:.3rem 0;font-size:1rem}
</style>
</head>
<body>
<p class="note">Fake Flip checkout (fliptest) &middot; merchant <b>${{.Company}}</b></p>
<h1 id="title">{{.Bill.Title}}</h1>
<div class="card">
<p>Amount: <b id="amount">{{if .Amount}}{{.Amount}}{{else}}open amount{{end}}</b></p>
<p>Payment status: <span id="status" class="status">{{.Status}}</span></p>
<p>Link: <span id="bill-status">{{.State}}</span> &middot; {{.Bill.Type}} &middot; step {{.Bill.Step}} &middot; id <span id="link-id">{{.Bill.LinkID}}</span></p>
{{with .Latest}}<p>Latest payment <code id="payment-id">{{.ID}}</code> via {{.SenderBank}} ({{.SenderBankType}})
{{if .VANumber}}<br>Virtual account: <code id="va-number">{{.VANumber}}</code>{{end}}
{{if .QRCodeData}}<br>QRIS: <code id="qr-code-data">{{.QRCodeData}}</code>{{end}}</p>{{end}}
</div>
{{if .Message}}<p id="result" class="msg">{{.Message}}</p>{{end}}
{{if .Error}}<p id="error" class="err">{{.Error}}</p>{{end}}
{{if .ReturnURL}}<p><a id="return" href="{{.ReturnURL}}">Return to the merchant</a></p>{{end}}

<form class="card" method="post" action="{{.Action}}/pay">
<input type="hidden" name="return_to" value="checkout">
{{if not .Amount}}<label>Amount (Rp) <input name="amount" id="amount-input" type="number" min="10000" step="1" required></label>{{end}}
<label>Name <input name="sender_name" value="{{.DefaultName}}"></label>
<label>Email <input name="sender_email" type="email" value="{{.DefaultMail}}"></label>
{{if eq .Bill.Step 3}}<p class="note">Method fixed by the merchant: {{.Bill.SenderBank}} ({{.Bill.SenderBankType}})</p>
{{else}}<label>Method <select name="channel" id="channel">{{range .Channels}}<option value="{{.Bank}}/{{.Type}}">{{.Bank}} ({{.Type}})</option>{{end}}</select></label>{{end}}
<button id="pay" type="submit"{{if not .CanPay}} disabled{{end}}>Pay</button>
</form>
<form method="post" action="{{.Action}}/expire" style="display:inline">
<input type="hidden" name="return_to" value="checkout">
<button id="expire" type="submit"{{if not .CanExpire}} disabled{{end}}>Expire</button>
</form>
<form method="post" action="{{.Action}}/fail" style="display:inline">
<input type="hidden" name="return_to" value="checkout">
<button id="fail" type="submit"{{if not .CanFail}} disabled{{end}}>Fail</button>
</form>
{{if .Payments}}<h2>Payments</h2><ul id="payments">{{range .Payments}}<li>{{.ID}}: {{.Status}}, Rp{{.Amount}}</li>{{end}}</ul>{{end}}
</body>
</html>
`))
)
