package ginadapter

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/paylinkgo/paylink/provider"
)

// oneJSONObject reports why body is not exactly one JSON object, with only
// white space around it: empty, another kind of value (an array, a
// string, null), broken, or followed by anything ("{...}}", "{...} {}").
func oneJSONObject(body []byte) error {
	trimmed := bytes.TrimSpace(body)
	switch {
	case len(trimmed) == 0:
		return errors.New("the body is empty")
	case trimmed[0] != '{':
		return errors.New("the body must be a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	var v json.RawMessage
	if err := dec.Decode(&v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("the JSON object is followed by more data")
	}
	return nil
}

// textFieldErrors refuses the text of a link request that no store can
// keep or that cannot be meant: a NUL character in any field, and an
// idempotency key that is not printable (invalid UTF-8, or a control
// character, as a header may carry). The provider and the validation tags
// check the rest.
func textFieldErrors(r *CreateLinkRequest) []provider.FieldError {
	var fields []provider.FieldError
	for _, f := range []struct{ name, value string }{
		{"title", r.Title}, {"type", r.Type}, {"expires_at", r.ExpiresAt}, {"redirect_url", r.RedirectURL},
		{"customer.name", r.Customer.Name}, {"customer.email", r.Customer.Email},
		{"customer.phone", r.Customer.Phone}, {"customer.address", r.Customer.Address},
		{"method.bank", r.Method.Bank}, {"method.type", r.Method.Type},
	} {
		if strings.IndexByte(f.value, 0) >= 0 {
			fields = append(fields, provider.FieldError{Field: f.name, Rule: "text", Message: f.name + " must not contain a NUL character"})
		}
	}
	if k := r.IdempotencyKey; !utf8.ValidString(k) || strings.IndexFunc(k, unicode.IsControl) >= 0 {
		fields = append(fields, provider.FieldError{Field: "idempotency_key", Rule: "printable",
			Message: "idempotency_key must be printable text, without control characters"})
	}
	return fields
}

// checkLinkID answers a lookup of an id that cannot be a link's (see
// provider.CheckID) as a link that does not exist, before the store is
// asked: a database may refuse such an id instead of finding nothing.
func checkLinkID(id string) error {
	if err := provider.CheckID(id); err != nil {
		return &provider.Error{Code: provider.CodeNotFound, Op: "ginadapter", Message: "no such link", Err: err}
	}
	return nil
}
