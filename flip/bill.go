package flip

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/paylinkgo/paylink/provider"
)

// CreateBillParams are the parameters of [Client.CreateBill]. The form
// tags are Flip's parameter names, which field errors report.
//
// Flip's rules, checked before anything is sent:
//   - title (not blank) and type are required; type is SINGLE or MULTIPLE;
//   - amount is at least 10000 when set; 0 asks for an open amount, which
//     only step 1 allows;
//   - from step 2 on, amount, sender_name and sender_email are required;
//   - at step 3, sender_bank and sender_bank_type are required and the
//     type must be SINGLE;
//   - expired_date must be in the future, to the minute (as sent);
//     redirect_url must be an absolute http(s) URL;
//   - sender_bank_type is checked for its shape only (lower-case letters
//     and underscores, at most 64): Flip enables new kinds per merchant
//     and decides itself (error 1091 for one that is not enabled).
type CreateBillParams struct {
	Title string   `form:"title"` // required, not blank
	Type  BillType `form:"type" validate:"required,oneof=SINGLE MULTIPLE"`
	// Amount in rupiah; 0 is an open amount (step 1 only).
	Amount int64 `form:"amount" validate:"omitempty,min=10000"`
	// ExpiredDate is optional; it is sent to the minute in Asia/Jakarta.
	ExpiredDate           time.Time `form:"expired_date"`
	RedirectURL           string    `form:"redirect_url" validate:"omitempty,http_url"`
	IsAddressRequired     bool      `form:"is_address_required"`
	IsPhoneNumberRequired bool      `form:"is_phone_number_required"`
	// Step defaults to StepInputData.
	Step              Step   `form:"step" validate:"omitempty,oneof=1 2 3"`
	SenderName        string `form:"sender_name"`
	SenderEmail       string `form:"sender_email" validate:"omitempty,email"`
	SenderPhoneNumber string `form:"sender_phone_number"`
	SenderAddress     string `form:"sender_address"`
	// SenderBank is a bank or channel code ("bni", "mandiri", "qris").
	SenderBank     string   `form:"sender_bank"`
	SenderBankType BankType `form:"sender_bank_type" validate:"omitempty,flip_code"`
	// ChargeFee sends charge_fee=1, as Flip's official WooCommerce plugin
	// does at step 2 (presumably: the customer pays the fee). It is not in
	// Flip's v2 docs; false sends nothing, Flip's default.
	ChargeFee bool `form:"charge_fee"`
	// ReferenceID is the merchant's own reference (reference_id). Flip
	// documents it on payments of static virtual accounts, where Get All
	// Payments filters by it; empty sends nothing.
	ReferenceID string `form:"reference_id"`
	// Extra holds further parameters, sent as given, for what Flip accepts
	// but this struct does not name yet. Names must be lower-case letters,
	// digits and underscores; the name of a parameter above is refused
	// (set its field, so that its rules apply).
	Extra url.Values `form:"-"`
}

func (p *CreateBillParams) step() Step {
	if p.Step == 0 {
		return StepInputData
	}
	return p.Step
}

// form encodes the parameters as Flip expects them.
func (p *CreateBillParams) form() url.Values {
	f := url.Values{}
	f.Set("title", p.Title)
	f.Set("type", string(p.Type))
	if p.Amount != 0 {
		f.Set("amount", strconv.FormatInt(p.Amount, 10))
	}
	if !p.ExpiredDate.IsZero() {
		f.Set("expired_date", formatExpiry(p.ExpiredDate))
	}
	if p.RedirectURL != "" {
		f.Set("redirect_url", p.RedirectURL)
	}
	f.Set("is_address_required", flagValue(p.IsAddressRequired))
	f.Set("is_phone_number_required", flagValue(p.IsPhoneNumberRequired))
	f.Set("step", strconv.Itoa(int(p.step())))
	for k, v := range map[string]string{
		"sender_name":         p.SenderName,
		"sender_email":        p.SenderEmail,
		"sender_phone_number": p.SenderPhoneNumber,
		"sender_address":      p.SenderAddress,
		"sender_bank":         p.SenderBank,
		"sender_bank_type":    string(p.SenderBankType),
	} {
		if v != "" {
			f.Set(k, v)
		}
	}
	if p.ChargeFee {
		f.Set("charge_fee", "1")
	}
	if p.ReferenceID != "" {
		f.Set("reference_id", p.ReferenceID)
	}
	addExtra(f, p.Extra)
	return f
}

// addExtra adds the extra parameters to f (validation has made sure they
// name no parameter f already has).
func addExtra(f, extra url.Values) {
	for k, vs := range extra {
		for _, v := range vs {
			f.Add(k, v)
		}
	}
}

// EditBillParams are the parameters of [Client.EditBill]. A nil field is
// left unchanged (Go 1.26: new("Title") makes a pointer). The rules of
// [CreateBillParams] apply to the fields that are set; an Amount of 0
// makes the amount open.
type EditBillParams struct {
	Title                 *string     `form:"title"` // not blank when set
	Type                  *BillType   `form:"type" validate:"omitnil,oneof=SINGLE MULTIPLE"`
	Amount                *int64      `form:"amount" validate:"omitnil,eq=0|min=10000"`
	ExpiredDate           *time.Time  `form:"expired_date"`
	RedirectURL           *string     `form:"redirect_url" validate:"omitnil,http_url"`
	Status                *BillStatus `form:"status" validate:"omitnil,oneof=ACTIVE INACTIVE"`
	IsAddressRequired     *bool       `form:"is_address_required"`
	IsPhoneNumberRequired *bool       `form:"is_phone_number_required"`
	// Extra holds further parameters, sent as given; see
	// [CreateBillParams].Extra.
	Extra url.Values `form:"-"`
}

func (p *EditBillParams) form() url.Values {
	f := url.Values{}
	if p.Title != nil {
		f.Set("title", *p.Title)
	}
	if p.Type != nil {
		f.Set("type", string(*p.Type))
	}
	if p.Amount != nil {
		if *p.Amount == 0 {
			f.Set("amount", "") // blank: open amount
		} else {
			f.Set("amount", strconv.FormatInt(*p.Amount, 10))
		}
	}
	if p.ExpiredDate != nil {
		f.Set("expired_date", formatExpiry(*p.ExpiredDate))
	}
	if p.RedirectURL != nil {
		f.Set("redirect_url", *p.RedirectURL)
	}
	if p.Status != nil {
		f.Set("status", string(*p.Status))
	}
	if p.IsAddressRequired != nil {
		f.Set("is_address_required", flagValue(*p.IsAddressRequired))
	}
	if p.IsPhoneNumberRequired != nil {
		f.Set("is_phone_number_required", flagValue(*p.IsPhoneNumberRequired))
	}
	addExtra(f, p.Extra)
	return f
}

// formatExpiry formats an expiry as Flip's "YYYY-MM-DD HH:mm" in Asia/Jakarta.
func formatExpiry(t time.Time) string { return t.In(jakarta()).Format(layoutMinutes) }

func flagValue(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// CreateBill creates a bill (POST /v2/pwf/bill). The parameters are
// validated first; a refusal is a *provider.Error with
// CodeInvalidArgument and nothing is sent. The request is never retried:
// a retry after a lost answer could create a second bill.
func (c *Client) CreateBill(ctx context.Context, params CreateBillParams) (*Bill, error) {
	const op = "flip.CreateBill"
	if err := c.check(op, params); err != nil {
		return nil, err
	}
	return c.bill(ctx, request{op: op, method: http.MethodPost, path: "/pwf/bill", form: params.form()})
}

// EditBill changes a bill (PUT /v2/pwf/{billID}/bill). It is never retried.
func (c *Client) EditBill(ctx context.Context, billID string, params EditBillParams) (*Bill, error) {
	const op = "flip.EditBill"
	id, err := pathID(op, "bill_id", billID)
	if err != nil {
		return nil, err
	}
	if err := c.check(op, params); err != nil {
		return nil, err
	}
	return c.bill(ctx, request{op: op, method: http.MethodPut, path: "/pwf/" + id + "/bill", form: params.form()})
}

// GetBill reads one bill (GET /v2/pwf/{billID}/bill). An unknown bill
// gives an error matching provider.CodeNotFound.
func (c *Client) GetBill(ctx context.Context, billID string) (*Bill, error) {
	const op = "flip.GetBill"
	id, err := pathID(op, "bill_id", billID)
	if err != nil {
		return nil, err
	}
	return c.bill(ctx, request{op: op, method: http.MethodGet, path: "/pwf/" + id + "/bill"})
}

// ListBills reads every bill of the account (GET /v2/pwf/bill). Flip
// returns them all at once, without pagination. Each bill is read field
// by field (see [Bill.UnmarshalJSON]); an entry that is not a JSON object
// is skipped and logged, so one odd entry never hides the others.
func (c *Client) ListBills(ctx context.Context) ([]Bill, error) {
	const op = "flip.ListBills"
	var items []json.RawMessage
	if _, err := c.do(ctx, request{op: op, method: http.MethodGet, path: "/pwf/bill"}, &items); err != nil {
		return nil, err
	}
	bills := make([]Bill, 0, len(items))
	for i, item := range items {
		var b Bill
		if err := b.UnmarshalJSON(item); err != nil {
			c.log.LogAttrs(ctx, slog.LevelWarn, "flip: skipped a bill that is not a JSON object",
				slog.String("op", op), slog.Int("index", i), slog.String("error", err.Error()))
			continue
		}
		bills = append(bills, b)
	}
	return bills, nil
}

// bill sends a request answered by one bill, which must have a link_id:
// Flip has been seen answering 200 with an empty object on logical errors.
func (c *Client) bill(ctx context.Context, req request) (*Bill, error) {
	var b Bill
	data, err := c.do(ctx, req, &b)
	if err != nil {
		return nil, err
	}
	if b.LinkID == "" {
		return nil, &provider.Error{Code: provider.CodeInternal, Op: req.op,
			Message: "Flip answered without a link_id: " + c.redact(snippet(data))}
	}
	return &b, nil
}

// snippet returns the start of a JSON body for an error message.
func snippet(data []byte) string {
	const n = 200
	var v any
	if json.Unmarshal(data, &v) != nil {
		return "(not JSON)"
	}
	if len(data) > n {
		return string(data[:n]) + "..."
	}
	return string(data)
}
