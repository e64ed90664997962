package ginadapter

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/go-playground/validator/v10"

	"github.com/paylinkgo/paylink/provider"
)

// bindErrorFields turns a gin binding error for a value of type root into
// field errors named by JSON field names. ok is false for errors that are
// not about a field (broken JSON): those are answered 400.
func bindErrorFields(root reflect.Type, err error) (fields []provider.FieldError, ok bool) {
	var verrs validator.ValidationErrors
	if errors.As(err, &verrs) {
		for _, fe := range verrs {
			name := jsonPath(root, fe.StructNamespace())
			fields = append(fields, provider.FieldError{Field: name, Rule: fe.Tag(), Message: ruleMessage(name, fe)})
		}
		return fields, true
	}
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) && typeErr.Field != "" {
		return []provider.FieldError{{
			Field:   typeErr.Field,
			Rule:    "type",
			Message: fmt.Sprintf("%s must be %s, not a JSON %s", typeErr.Field, kindName(typeErr.Type), typeErr.Value),
		}}, true
	}
	return nil, false
}

// jsonPath converts a validator struct namespace ("CreateLinkRequest.Customer.Email")
// into the JSON path of the field ("customer.email") by reading the json
// tags of root's fields.
func jsonPath(root reflect.Type, ns string) string {
	parts := strings.Split(ns, ".")
	if len(parts) > 1 {
		parts = parts[1:] // drop the type name
	}
	t := root
	out := make([]string, 0, len(parts))
	for _, part := range parts {
		name, index, _ := strings.Cut(part, "[")
		if index != "" {
			index = "[" + index
		}
		for t != nil && t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if t == nil || t.Kind() != reflect.Struct {
			out = append(out, strings.ToLower(name)+index)
			t = nil
			continue
		}
		f, found := t.FieldByName(name)
		if !found {
			out = append(out, strings.ToLower(name)+index)
			t = nil
			continue
		}
		jsonName, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if jsonName == "" || jsonName == "-" {
			jsonName = f.Name
		}
		out = append(out, jsonName+index)
		t = f.Type
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Array || t.Kind() == reflect.Map {
			t = t.Elem()
		}
	}
	return strings.Join(out, ".")
}

// ruleMessage explains a failed validator rule in words.
func ruleMessage(field string, fe validator.FieldError) string {
	unit := ""
	if fe.Kind() == reflect.String {
		unit = " characters"
	}
	switch fe.Tag() {
	case "required":
		return field + " is required"
	case "min":
		if unit != "" {
			return fmt.Sprintf("%s must be at least %s%s long", field, fe.Param(), unit)
		}
		return fmt.Sprintf("%s must be at least %s", field, fe.Param())
	case "max":
		if unit != "" {
			return fmt.Sprintf("%s must be at most %s%s long", field, fe.Param(), unit)
		}
		return fmt.Sprintf("%s must be at most %s", field, fe.Param())
	case "oneof":
		return fmt.Sprintf("%s must be one of %s", field, strings.ReplaceAll(fe.Param(), " ", ", "))
	case "email":
		return field + " must be an email address"
	case "url":
		return field + " must be an absolute URL such as https://shop.example/thanks"
	case "datetime":
		return field + " must be an RFC 3339 time such as 2026-01-31T23:59:00+07:00"
	default:
		return fmt.Sprintf("%s does not satisfy the %q rule", field, fe.Tag())
	}
}

// kindName describes a Go type to a JSON client.
func kindName(t reflect.Type) string {
	if t == nil {
		return "a different type"
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.Slice, reflect.Array:
		return "an array"
	default:
		return "a " + t.Kind().String()
	}
}

// apiFieldName renames a field error from the provider side (a portable
// name, or the provider's own parameter name such as Flip's
// "sender_email") to the JSON field name of [CreateLinkRequest].
func apiFieldName(field string) string {
	switch field {
	case "expired_date", "expires_at", "ExpiresAt":
		return "expires_at"
	case "redirect_url", "RedirectURL":
		return "redirect_url"
	case "sender_name", "customer.name", "Customer.Name":
		return "customer.name"
	case "sender_email", "customer.email", "Customer.Email":
		return "customer.email"
	case "sender_phone_number", "customer.phone", "Customer.Phone":
		return "customer.phone"
	case "sender_address", "customer.address", "Customer.Address":
		return "customer.address"
	case "sender_bank", "method.bank", "Method.Bank":
		return "method.bank"
	case "sender_bank_type", "method.type", "Method.Type":
		return "method.type"
	case "is_address_required", "RequireAddress":
		return "require_address"
	case "is_phone_number_required", "RequirePhone":
		return "require_phone"
	case "IdempotencyKey":
		return "idempotency_key"
	}
	return strings.ToLower(field)
}

// apiFields renames the provider-side field errors of err for the API.
func apiFields(err error) []provider.FieldError {
	fields := provider.FieldErrorsOf(err)
	if len(fields) == 0 {
		return nil
	}
	out := make([]provider.FieldError, len(fields))
	for i, f := range fields {
		f.Field = apiFieldName(f.Field)
		if f.Message == "" {
			f.Message = f.Field + " is invalid"
		}
		out[i] = f
	}
	return out
}
