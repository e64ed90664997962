package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/go-playground/validator/v10"
	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"

	"github.com/paylinkgo/paylink/provider"
)

// shop holds what the handlers and hooks share. It has no package-level
// state: run builds one per process (and tests one per shop).
type shop struct {
	db       *gorm.DB
	svc      *provider.Service
	log      *slog.Logger
	validate *validator.Validate
	// publicURL is the shop's base URL as customers see it.
	publicURL string
	// now is the clock.
	now func() time.Time
}

// newShop returns a shop over db and svc.
func newShop(db *gorm.DB, svc *provider.Service, log *slog.Logger, publicURL string) *shop {
	return &shop{
		db:        db,
		svc:       svc,
		log:       log,
		validate:  newValidator(),
		publicURL: publicURL,
		now:       func() time.Time { return time.Now().UTC() },
	}
}

// minAmount is Flip's smallest bill amount, in rupiah.
const minAmount = 10_000

// createOrderRequest is the body of POST /orders.
type createOrderRequest struct {
	Title    string          `json:"title" validate:"required,max=255,text"`
	Amount   int64           `json:"amount" validate:"min=10000"`
	Customer customerRequest `json:"customer"`
	// Step is Flip's checkout step: 1 (default) the customer types their
	// data, 2 the data is pre-filled, 3 the payment method is fixed too.
	Step           int    `json:"step" validate:"omitempty,oneof=1 2 3"`
	SenderBank     string `json:"sender_bank" validate:"max=32,text"`
	SenderBankType string `json:"sender_bank_type" validate:"omitempty,oneof=virtual_account wallet_account bank_account online_to_offline_account credit_card_account"`
}

// customerRequest is the customer part of POST /orders.
type customerRequest struct {
	Name  string `json:"name" validate:"max=255,text"`
	Email string `json:"email" validate:"omitempty,email,max=255,text"`
	Phone string `json:"phone" validate:"max=32,text"`
}

// newValidator returns a validator that names fields by their JSON names
// and knows the step rules and the text rule: text fields hold valid
// UTF-8 without control characters (a NUL byte, which PostgreSQL refuses
// to store, a newline or an escape sequence has no place in an order).
func newValidator() *validator.Validate {
	v := validator.New(validator.WithRequiredStructEnabled())
	if err := v.RegisterValidation("text", func(fl validator.FieldLevel) bool {
		s := fl.Field().String()
		return utf8.ValidString(s) && strings.IndexFunc(s, unicode.IsControl) < 0
	}); err != nil {
		panic("shop: registering the text rule: " + err.Error()) // only for an invalid tag name
	}
	v.RegisterTagNameFunc(func(f reflect.StructField) string {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			return ""
		}
		return name
	})
	v.RegisterStructValidation(func(sl validator.StructLevel) {
		r := sl.Current().Interface().(createOrderRequest)
		if r.Step >= int(provider.StepPaymentMethod) {
			if r.Customer.Name == "" {
				sl.ReportError(r.Customer.Name, "customer.name", "Name", "required_for_step", "")
			}
			if r.Customer.Email == "" {
				sl.ReportError(r.Customer.Email, "customer.email", "Email", "required_for_step", "")
			}
		}
		if r.Step == int(provider.StepConfirmation) {
			if r.SenderBank == "" {
				sl.ReportError(r.SenderBank, "sender_bank", "SenderBank", "required_for_step", "")
			}
			if r.SenderBankType == "" {
				sl.ReportError(r.SenderBankType, "sender_bank_type", "SenderBankType", "required_for_step", "")
			}
		}
	}, createOrderRequest{})
	return v
}

// check validates r and returns a *provider.Error with CodeInvalidArgument
// and one FieldError per refused field, named as in the JSON body.
func (s *shop) check(r *createOrderRequest) error {
	err := s.validate.Struct(r)
	if err == nil {
		return nil
	}
	var verrs validator.ValidationErrors
	if !errors.As(err, &verrs) {
		return &provider.Error{Code: provider.CodeInvalidArgument, Op: "shop.CreateOrder", Message: "invalid order", Err: err}
	}
	fields := make([]provider.FieldError, 0, len(verrs))
	for _, fe := range verrs {
		// The namespace is "createOrderRequest.customer.email": drop the type.
		_, name, _ := strings.Cut(fe.Namespace(), ".")
		fields = append(fields, provider.FieldError{Field: name, Rule: fe.Tag(), Message: ruleMessage(fe.Tag(), fe.Param())})
	}
	return &provider.Error{Code: provider.CodeInvalidArgument, Op: "shop.CreateOrder", Message: "invalid order", Fields: fields}
}

// ruleMessage explains a failed validation rule.
func ruleMessage(tag, param string) string {
	switch tag {
	case "required":
		return "is required"
	case "required_for_step":
		return "is required for this step"
	case "min":
		return "must be at least " + param
	case "max":
		return "must be at most " + param + " characters"
	case "email":
		return "must be an email address"
	case "text":
		return "must not contain control characters (a NUL byte, a line break)"
	case "oneof":
		return "must be one of " + strings.ReplaceAll(param, " ", ", ")
	}
	return "fails rule " + tag
}

// shopFieldName maps Flip's parameter names, which the flip provider's
// field errors use, to this shop's JSON field names.
func shopFieldName(flipName string) string {
	switch flipName {
	case "sender_name":
		return "customer.name"
	case "sender_email":
		return "customer.email"
	case "sender_phone_number":
		return "customer.phone"
	}
	return flipName
}

// renameFields returns err with the provider's field errors (if any)
// renamed to the shop's JSON names, keeping its code and cause.
func renameFields(err error) error {
	fields := provider.FieldErrorsOf(err)
	if len(fields) == 0 {
		return err
	}
	renamed := make([]provider.FieldError, len(fields))
	for i, f := range fields {
		f.Field = shopFieldName(f.Field)
		renamed[i] = f
	}
	return &provider.Error{
		Code: provider.CodeOf(err), Op: "shop.CreateOrder",
		Message: "the payment provider refused the order", Fields: renamed, Err: err,
	}
}

// linkKey is the idempotency key of an order's payment link.
func linkKey(orderID int64) string { return "order-" + strconv.FormatInt(orderID, 10) }

// orderIDFromKey parses linkKey's output.
func orderIDFromKey(key string) (int64, bool) {
	rest, ok := strings.CutPrefix(key, "order-")
	if !ok {
		return 0, false
	}
	id, err := strconv.ParseInt(rest, 10, 64)
	return id, err == nil && id > 0
}

// createOrder stores a PENDING order and makes its payment link. The link
// carries the idempotency key "order-<id>", so the hooks find the order
// from the link alone and a retried creation never makes a second link.
// When the link cannot be made, the order row is removed again and the
// error (with the provider's field errors) is returned.
func (s *shop) createOrder(ctx context.Context, req createOrderRequest) (*Order, error) {
	req.Title = strings.TrimSpace(req.Title)
	req.Customer.Name = strings.TrimSpace(req.Customer.Name)
	req.Customer.Email = strings.TrimSpace(req.Customer.Email)
	req.Customer.Phone = strings.TrimSpace(req.Customer.Phone)
	req.SenderBank = strings.TrimSpace(req.SenderBank)
	if err := s.check(&req); err != nil {
		return nil, err
	}
	o := &Order{
		Title:         req.Title,
		Amount:        req.Amount,
		CustomerName:  req.Customer.Name,
		CustomerEmail: req.Customer.Email,
		CustomerPhone: req.Customer.Phone,
		Status:        OrderPending,
	}
	if err := s.db.WithContext(ctx).Create(o).Error; err != nil {
		return nil, dbError("shop.CreateOrder", err)
	}
	link, err := s.svc.CreateLink(ctx, "", provider.CreateLinkParams{
		Title:       o.Title,
		Type:        provider.LinkSingle,
		Amount:      provider.Rupiah(o.Amount),
		RedirectURL: s.orderPageURL(o.ID),
		Step:        provider.Step(req.Step),
		Customer:    provider.Customer{Name: o.CustomerName, Email: o.CustomerEmail, Phone: o.CustomerPhone},
		Method:      provider.PaymentMethod{Bank: req.SenderBank, Type: req.SenderBankType},
		// Flip does not require the phone; the shop passes it when known.
		IdempotencyKey: linkKey(o.ID),
	})
	if err != nil {
		// No link: the order must not linger as a PENDING order nobody can pay.
		if derr := s.db.WithContext(context.WithoutCancel(ctx)).Delete(&Order{}, o.ID).Error; derr != nil {
			s.log.ErrorContext(ctx, "shop: could not remove an order without a link", "order", o.ID, "err", derr)
		}
		if c := provider.CodeOf(err); c == provider.CodeUnauthenticated || c == provider.CodePermissionDenied {
			// The shop's own Flip credentials were refused: the customer
			// did nothing wrong, so this is a server error, not a 401.
			return nil, &provider.Error{Code: provider.CodeInternal, Op: "shop.CreateOrder", Message: "Flip refused the shop's credentials", Err: err}
		}
		return nil, renameFields(err)
	}
	o.Provider, o.LinkID, o.LinkURL, o.PaymentURL = link.Provider, link.ID, link.URL, link.PaymentURL
	err = s.db.WithContext(ctx).Model(&Order{}).Where("id = ?", o.ID).Updates(map[string]any{
		"provider": o.Provider, "link_id": o.LinkID, "link_url": o.LinkURL, "payment_url": o.PaymentURL,
	}).Error
	if err != nil {
		// The link is stored under the order's key: getOrder recovers it.
		s.log.WarnContext(ctx, "shop: could not copy the link onto the order", "order", o.ID, "link", o.LinkID, "err", err)
	}
	s.log.InfoContext(ctx, "shop: order created", "order", o.ID, "amount", o.Amount, "link", o.LinkID)
	return o, nil
}

// orderPageURL is the customer's page for an order, where Flip sends them
// back after paying.
func (s *shop) orderPageURL(id int64) string {
	return fmt.Sprintf("%s/orders/%d/view", s.publicURL, id)
}

// orderView is an order as the JSON routes show it.
type orderView struct {
	ID           int64       `json:"id"`
	Title        string      `json:"title"`
	Status       OrderStatus `json:"status"`
	Amount       int64       `json:"amount"`
	PaidAt       *time.Time  `json:"paid_at"`
	ReceiptsSent int64       `json:"receipts_sent"`
	Payment      paymentView `json:"payment"`
	CreatedAt    time.Time   `json:"created_at"`
}

// paymentView is the payment link of an order.
type paymentView struct {
	Provider   string `json:"provider"`
	LinkID     string `json:"link_id"`
	LinkURL    string `json:"link_url"`
	PaymentURL string `json:"payment_url"`
}

// getOrder reads an order with its receipt count. An unknown id is
// CodeNotFound.
func (s *shop) getOrder(ctx context.Context, id int64) (*orderView, error) {
	const op = "shop.GetOrder"
	var o Order
	err := s.db.WithContext(ctx).Take(&o, "id = ?", id).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, provider.Errorf(provider.CodeNotFound, op, "no order %d", id)
	}
	if err != nil {
		return nil, dbError(op, err)
	}
	if o.LinkID == "" {
		// createOrder could not copy the link: it is stored under the key.
		if l, err := s.svc.Store().GetLinkByIdempotencyKey(ctx, linkKey(o.ID)); err == nil {
			o.Provider, o.LinkID, o.LinkURL, o.PaymentURL = l.Provider, l.ID, l.URL, l.PaymentURL
		}
	}
	var n int64
	if err := s.db.WithContext(ctx).Model(&Receipt{}).Where("order_id = ?", o.ID).Count(&n).Error; err != nil {
		return nil, dbError(op, err)
	}
	return newOrderView(&o, n), nil
}

// listOrders returns the newest orders first, at most limit.
func (s *shop) listOrders(ctx context.Context, limit int) ([]Order, error) {
	var orders []Order
	if err := s.db.WithContext(ctx).Order("id DESC").Limit(limit).Find(&orders).Error; err != nil {
		return nil, dbError("shop.ListOrders", err)
	}
	return orders, nil
}

func newOrderView(o *Order, receipts int64) *orderView {
	v := &orderView{
		ID: o.ID, Title: o.Title, Status: o.Status, Amount: o.Amount, ReceiptsSent: receipts,
		Payment:   paymentView{Provider: o.Provider, LinkID: o.LinkID, LinkURL: o.LinkURL, PaymentURL: o.PaymentURL},
		CreatedAt: o.CreatedAt.UTC(),
	}
	if o.PaidAt != nil {
		t := o.PaidAt.UTC()
		v.PaidAt = &t
	}
	return v
}

// dbError wraps a database error. A value the database refuses to store
// (PostgreSQL's data exceptions, SQLSTATE class 22: a NUL byte in text, a
// value too long for its column) is the client's CodeInvalidArgument:
// sending the same bytes again fails again. Any other failure is
// CodeUnavailable: retrying later may succeed.
func dbError(op string, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return &provider.Error{Code: provider.CodeOf(err), Op: op, Message: "database call interrupted", Err: err}
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && strings.HasPrefix(pgErr.Code, "22") {
		return &provider.Error{Code: provider.CodeInvalidArgument, Op: op, Message: "the database cannot store a value of the order", Err: err}
	}
	return &provider.Error{Code: provider.CodeUnavailable, Op: op, Message: "database error", Err: err}
}
