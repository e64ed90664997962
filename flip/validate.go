package flip

import (
	"errors"
	"maps"
	"net/url"
	"reflect"
	"slices"
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
	if err := v.RegisterValidation("flip_code", func(fl validator.FieldLevel) bool { return codeShape(fl.Field().String()) }); err != nil {
		panic("flip: registering a validation: " + err.Error()) // unreachable: the tag is valid
	}
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
	extraRules(sl, p.Extra, p)
}

// maxCodeLen bounds Flip's codes (sender_bank_type) and extra parameter
// names.
const maxCodeLen = 64

// codeShape reports whether s looks like one of Flip's codes
// ("virtual_account", "e_wallet"): a lower-case letter, then lower-case
// letters and underscores, at most 64 bytes.
func codeShape(s string) bool {
	if s == "" || len(s) > maxCodeLen || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < 'a' || c > 'z') && c != '_' {
			return false
		}
	}
	return true
}

// paramNameShape reports whether s can be an extra parameter's name:
// lower-case letters, digits and underscores, starting with a letter.
func paramNameShape(s string) bool {
	if s == "" || len(s) > maxCodeLen || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '_' {
			return false
		}
	}
	return true
}

// extraRules checks the names of extra parameters: their shape, and that
// none is a parameter of params (whose form tags name Flip's parameters).
func extraRules(sl validator.StructLevel, extra url.Values, params any) {
	if len(extra) == 0 {
		return
	}
	named := formNames(params)
	for _, name := range slices.Sorted(maps.Keys(extra)) {
		switch {
		case !paramNameShape(name):
			sl.ReportError(extra[name], name, "Extra", "param_name", "")
		case named[name]:
			sl.ReportError(extra[name], name, "Extra", "reserved", "")
		}
	}
}

// formNames returns the form tags of the struct v's fields.
func formNames(v any) map[string]bool {
	t := reflect.TypeOf(v)
	out := make(map[string]bool, t.NumField())
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("form"), ",")
		if name != "" && name != "-" {
			out[name] = true
		}
	}
	return out
}

func editBillRules(sl validator.StructLevel) {
	p := sl.Current().Interface().(EditBillParams)
	if p.Title != nil && strings.TrimSpace(*p.Title) == "" {
		sl.ReportError(*p.Title, "title", "Title", "required", "")
	}
	if p.ExpiredDate != nil && !expiryInFuture(*p.ExpiredDate) {
		sl.ReportError(*p.ExpiredDate, "expired_date", "ExpiredDate", "future", "")
	}
	extraRules(sl, p.Extra, p)
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
	case "flip_code":
		return "must be lower-case letters and underscores, at most 64"
	case "param_name":
		return "is not a parameter name (lower-case letters, digits and underscores, at most 64)"
	case "reserved":
		return "is a named parameter; set its field instead of Extra"
	}
	if param != "" {
		return "fails rule " + tag + "=" + param
	}
	return "fails rule " + tag
}
