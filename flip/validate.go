package flip

import (
	"errors"
	"reflect"
	"strings"
	"time"

	"github.com/go-playground/validator/v10"

	"github.com/paylinkgo/paylink/provider"
)

// newValidator returns the validator of one Client: struct tags plus
// Flip's cross-field rules, reporting fields under Flip's parameter names
// (the form tags).
func newValidator() *validator.Validate {
	v := validator.New(validator.WithRequiredStructEnabled())
	v.RegisterTagNameFunc(func(f reflect.StructField) string {
		name, _, _ := strings.Cut(f.Tag.Get("form"), ",")
		if name == "-" {
			return ""
		}
		return name
	})
	v.RegisterStructValidation(createBillRules, CreateBillParams{})
	v.RegisterStructValidation(editBillRules, EditBillParams{})
	v.RegisterStructValidation(paymentQueryRules, PaymentQuery{})
	return v
}

// createBillRules holds Flip's step rules, which struct tags cannot say.
func createBillRules(sl validator.StructLevel) {
	p := sl.Current().Interface().(CreateBillParams)
	if strings.TrimSpace(p.Title) == "" {
		sl.ReportError(p.Title, "title", "Title", "required", "")
	}
	step := p.step()
	if step == StepPaymentMethod || step == StepConfirmation {
		if p.Amount == 0 {
			sl.ReportError(p.Amount, "amount", "Amount", "required", "")
		}
		if strings.TrimSpace(p.SenderName) == "" {
			sl.ReportError(p.SenderName, "sender_name", "SenderName", "required", "")
		}
		if strings.TrimSpace(p.SenderEmail) == "" {
			sl.ReportError(p.SenderEmail, "sender_email", "SenderEmail", "required", "")
		}
	}
	if step == StepConfirmation {
		if strings.TrimSpace(p.SenderBank) == "" {
			sl.ReportError(p.SenderBank, "sender_bank", "SenderBank", "required", "")
		}
		if p.SenderBankType == "" {
			sl.ReportError(p.SenderBankType, "sender_bank_type", "SenderBankType", "required", "")
		}
		if p.Type == BillMultiple {
			sl.ReportError(p.Type, "type", "Type", "eq", string(BillSingle))
		}
	}
	if !p.ExpiredDate.IsZero() && !expiryInFuture(p.ExpiredDate) {
		sl.ReportError(p.ExpiredDate, "expired_date", "ExpiredDate", "future", "")
	}
}

func editBillRules(sl validator.StructLevel) {
	p := sl.Current().Interface().(EditBillParams)
	if p.Title != nil && strings.TrimSpace(*p.Title) == "" {
		sl.ReportError(*p.Title, "title", "Title", "required", "")
	}
	if p.ExpiredDate != nil && !expiryInFuture(*p.ExpiredDate) {
		sl.ReportError(*p.ExpiredDate, "expired_date", "ExpiredDate", "future", "")
	}
}

// expiryInFuture reports whether an expiry is still in the future as Flip
// receives it: cut to the minute (see formatExpiry; WIB's offset is whole
// hours, so cutting the absolute time cuts the formatted minute).
func expiryInFuture(t time.Time) bool { return t.Truncate(time.Minute).After(time.Now()) }

func paymentQueryRules(sl validator.StructLevel) {
	q := sl.Current().Interface().(PaymentQuery)
	if !q.StartDate.IsZero() && !q.EndDate.IsZero() && q.endDate() <= q.startDate() {
		sl.ReportError(q.EndDate, "end_date", "EndDate", "gtfield", "start_date")
	}
}

// check validates v and turns failures into a *provider.Error with
// CodeInvalidArgument and one FieldError per refused parameter.
func (c *Client) check(op string, v any) error {
	err := c.validate.Struct(v)
	if err == nil {
		return nil
	}
	var verrs validator.ValidationErrors
	if !errors.As(err, &verrs) {
		return &provider.Error{Code: provider.CodeInvalidArgument, Op: op, Message: "invalid parameters", Err: err}
	}
	fields := make([]provider.FieldError, 0, len(verrs))
	for _, fe := range verrs {
		fields = append(fields, provider.FieldError{
			Field:   fe.Field(),
			Rule:    fe.Tag(),
			Message: ruleMessage(fe.Tag(), fe.Param()),
		})
	}
	return &provider.Error{Code: provider.CodeInvalidArgument, Op: op, Message: "invalid parameters", Fields: fields}
}

// ruleMessage explains a failed rule in words.
func ruleMessage(tag, param string) string {
	switch tag {
	case "required":
		return "is required"
	case "min":
		return "must be at least " + param
	case "eq":
		return "must be " + param
	case "eq=0|min=10000":
		return "must be 0 (open amount) or at least 10000"
	case "email":
		return "must be an email address"
	case "oneof":
		return "must be one of: " + strings.ReplaceAll(param, " ", ", ")
	case "http_url":
		return "must be an absolute http or https URL"
	case "future":
		return "must be in the future"
	case "gtfield":
		return "must be after " + param
	}
	if param != "" {
		return "fails rule " + tag + "=" + param
	}
	return "fails rule " + tag
}
