package flip

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/paylinkgo/paylink/provider"
)

// SortBy is a field payment lists can be sorted by.
type SortBy string

// The sort fields.
const (
	SortByID         SortBy = "id"
	SortByBillLink   SortBy = "bill_link"
	SortByBillTitle  SortBy = "bill_title"
	SortBySenderBank SortBy = "sender_bank"
	SortByAmount     SortBy = "amount"
	SortByCreatedAt  SortBy = "created_at"
)

// SortType is a sort direction, with Flip's literal values.
type SortType string

// The sort directions.
const (
	SortAsc  SortType = "sort_asc"
	SortDesc SortType = "sort_desc"
)

// PaymentQuery filters and pages a payment list. The zero value asks for
// Flip's defaults.
type PaymentQuery struct {
	// StartDate and EndDate bound the payments by date (their calendar day
	// in Asia/Jakarta is sent); EndDate must be after StartDate.
	StartDate time.Time `form:"start_date"`
	EndDate   time.Time `form:"end_date"`
	// Pagination is the page size; 0 is Flip's default.
	Pagination int `form:"pagination" validate:"min=0"`
	// Page is the page number, from 1; 0 is Flip's default (the first).
	Page     int      `form:"page" validate:"min=0"`
	SortBy   SortBy   `form:"sort_by" validate:"omitempty,oneof=id bill_link bill_title sender_bank amount created_at"`
	SortType SortType `form:"sort_type" validate:"omitempty,oneof=sort_asc sort_desc"`
	// ReferenceID is the merchant's reference (static VA); [Client.ListPayments] only.
	ReferenceID string `form:"reference_id"`
}

func (q *PaymentQuery) startDate() string { return q.StartDate.In(jakarta()).Format(layoutDate) }
func (q *PaymentQuery) endDate() string   { return q.EndDate.In(jakarta()).Format(layoutDate) }

// values encodes the query.
func (q *PaymentQuery) values() url.Values {
	v := url.Values{}
	if !q.StartDate.IsZero() {
		v.Set("start_date", q.startDate())
	}
	if !q.EndDate.IsZero() {
		v.Set("end_date", q.endDate())
	}
	if q.Pagination > 0 {
		v.Set("pagination", strconv.Itoa(q.Pagination))
	}
	if q.Page > 0 {
		v.Set("page", strconv.Itoa(q.Page))
	}
	if q.SortBy != "" {
		v.Set("sort_by", string(q.SortBy))
	}
	if q.SortType != "" {
		v.Set("sort_type", string(q.SortType))
	}
	if q.ReferenceID != "" {
		v.Set("reference_id", q.ReferenceID)
	}
	return v
}

// ListBillPayments reads one page of a bill's payments
// (GET /v2/pwf/{billID}/payment). Flip has been seen answering 422
// VALIDATION_ERROR for a bill that has no payment yet; [Provider] turns
// that into an empty list, this method reports it as it comes.
func (c *Client) ListBillPayments(ctx context.Context, billID string, q PaymentQuery) (*PaymentPage, error) {
	const op = "flip.ListBillPayments"
	id, err := pathID(op, "bill_id", billID)
	if err != nil {
		return nil, err
	}
	if q.ReferenceID != "" {
		return nil, &provider.Error{Code: provider.CodeInvalidArgument, Op: op, Message: "invalid parameters",
			Fields: []provider.FieldError{{Field: "reference_id", Rule: "excluded", Message: "is only accepted when listing all payments"}}}
	}
	return c.payments(ctx, request{op: op, method: http.MethodGet, path: "/pwf/" + id + "/payment"}, q)
}

// ListPayments reads one page of the payments of every bill
// (GET /v2/pwf/payment).
func (c *Client) ListPayments(ctx context.Context, q PaymentQuery) (*PaymentPage, error) {
	return c.payments(ctx, request{op: "flip.ListPayments", method: http.MethodGet, path: "/pwf/payment"}, q)
}

func (c *Client) payments(ctx context.Context, req request, q PaymentQuery) (*PaymentPage, error) {
	if err := c.check(req.op, q); err != nil {
		return nil, err
	}
	req.query = q.values()
	var page PaymentPage
	if _, err := c.do(ctx, req, &page); err != nil {
		return nil, err
	}
	if page.Data == nil {
		page.Data = []Payment{}
	}
	return &page, nil
}

// ConfirmBillPayment confirms a payment transaction
// (PUT /v2/pwf/bill-payment/{transactionID}/confirm). Flip offers it in
// production only, so a sandbox client refuses with an error matching
// provider.CodeFailedPrecondition without sending anything. It is never
// retried.
func (c *Client) ConfirmBillPayment(ctx context.Context, transactionID string) (*Confirmation, error) {
	const op = "flip.ConfirmBillPayment"
	if c.env != Production {
		return nil, &provider.Error{Code: provider.CodeFailedPrecondition, Op: op,
			Message: "Flip offers bill payment confirmation in production only; this client is in " + string(c.env)}
	}
	id, err := pathID(op, "transaction_id", transactionID)
	if err != nil {
		return nil, err
	}
	var conf Confirmation
	req := request{op: op, method: http.MethodPut, path: "/pwf/bill-payment/" + id + "/confirm"}
	if _, err := c.do(ctx, req, &conf); err != nil {
		return nil, err
	}
	return &conf, nil
}

// IsMaintenance asks whether Flip is under maintenance
// (GET /v2/general/maintenance). During maintenance Flip answers other
// calls with 401.
func (c *Client) IsMaintenance(ctx context.Context) (bool, error) {
	var out struct {
		Maintenance flag `json:"maintenance"`
	}
	if _, err := c.do(ctx, request{op: "flip.IsMaintenance", method: http.MethodGet, path: "/general/maintenance"}, &out); err != nil {
		return false, err
	}
	return bool(out.Maintenance), nil
}
