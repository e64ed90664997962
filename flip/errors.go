package flip

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/paylinkgo/paylink/provider"
)

// Flip's accept-payment error codes that change the portable code of a 422.
const (
	codeLinkIDNotFound     = 1043 // "Param Bill Link ID is Not Found" (newer docs); title required elsewhere
	codeLinkExpired        = 1048 // bill link has already expired
	codeLinkUsed           = 1049 // bill link has already been used
	codeLinkNotFound       = 1050 // bill link ID not found
	codeProductLinkMissing = 1054 // product bill link ID not found
)

// APIError is an error answer from Flip (any non-2xx response). Flip uses
// two body shapes, both decoded here:
//
//	{"code":"VALIDATION_ERROR","errors":[{"attribute":"title","code":1061,"message":"..."}]}
//	{"name":"Unauthorized","message":"...","status":401}
//
// A body that is not JSON (a gateway's HTML page) leaves Code, Name and
// Errors empty and Message set to the HTTP status text.
type APIError struct {
	// StatusCode is the HTTP status.
	StatusCode int
	// Code is Flip's outer code ("VALIDATION_ERROR"), if any.
	Code string
	// Name is Flip's error name ("Unauthorized", "Not Found"), if any.
	Name string
	// Message is Flip's message, or the HTTP status text.
	Message string
	// Errors are Flip's per-field errors.
	Errors []FieldError
	// Op is the client method that failed ("flip.GetBill").
	Op string
}

// FieldError is one entry of Flip's errors list.
type FieldError struct {
	// Attribute is the request parameter Flip refused ("sender_email").
	Attribute string `json:"attribute"`
	// Code is Flip's numeric error code (1044-1091 for accept payment).
	Code int `json:"code"`
	// Message is Flip's explanation.
	Message string `json:"message"`
}

// Error formats the error; it never contains credentials.
func (e *APIError) Error() string {
	var b strings.Builder
	if e.Op != "" {
		b.WriteString(e.Op)
		b.WriteString(": ")
	}
	fmt.Fprintf(&b, "flip API error %d", e.StatusCode)
	for _, s := range []string{e.Code, e.Name} {
		if s != "" {
			b.WriteString(" ")
			b.WriteString(s)
		}
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	for i, f := range e.Errors {
		if i == 0 {
			b.WriteString(" (")
		} else {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "%s: %s [%d]", f.Attribute, f.Message, f.Code)
		if i == len(e.Errors)-1 {
			b.WriteString(")")
		}
	}
	return b.String()
}

// ErrorCode returns the portable code of the error, its only one (an
// APIError has no cause, so no other code can show through it):
//
//	401                      CodeUnauthenticated (CodePermissionDenied for "IP is not Whitelisted")
//	403                      CodePermissionDenied
//	404                      CodeNotFound
//	422 with 1050 or 1054    CodeNotFound
//	422 with 1043            CodeNotFound, unless about "title" (1043 is
//	                         also "title required" in Flip's older list)
//	422 with 1048            CodeFailedPrecondition (link expired)
//	422 with 1049            CodeConflict (link already used)
//	400, 422                 CodeInvalidArgument
//	409                      CodeConflict
//	413                      CodeTooLarge
//	408, 429, 5xx            CodeUnavailable
//	anything else            CodeUnknown
func (e *APIError) ErrorCode() provider.ErrorCode {
	switch s := e.StatusCode; {
	case s == http.StatusUnauthorized:
		if strings.Contains(strings.ToLower(e.Message), "whitelist") {
			return provider.CodePermissionDenied
		}
		return provider.CodeUnauthenticated
	case s == http.StatusForbidden:
		return provider.CodePermissionDenied
	case s == http.StatusNotFound:
		return provider.CodeNotFound
	case s == http.StatusUnprocessableEntity:
		for _, f := range e.Errors {
			switch f.Code {
			case codeLinkNotFound, codeProductLinkMissing:
				return provider.CodeNotFound
			case codeLinkIDNotFound:
				if !strings.EqualFold(f.Attribute, "title") {
					return provider.CodeNotFound
				}
			case codeLinkExpired:
				return provider.CodeFailedPrecondition
			case codeLinkUsed:
				return provider.CodeConflict
			}
		}
		return provider.CodeInvalidArgument
	case s == http.StatusBadRequest:
		return provider.CodeInvalidArgument
	case s == http.StatusConflict:
		return provider.CodeConflict
	case s == http.StatusRequestEntityTooLarge:
		return provider.CodeTooLarge
	case s == http.StatusRequestTimeout, s == http.StatusTooManyRequests, s >= 500 && s <= 599:
		return provider.CodeUnavailable
	}
	return provider.CodeUnknown
}

// Is reports whether target is the error's portable code, so that
// errors.Is(err, provider.CodeNotFound) works.
func (e *APIError) Is(target error) bool {
	code, ok := target.(provider.ErrorCode)
	return ok && code == e.ErrorCode()
}

// FieldErrors returns Flip's field errors in portable form.
func (e *APIError) FieldErrors() []provider.FieldError {
	if len(e.Errors) == 0 {
		return nil
	}
	out := make([]provider.FieldError, len(e.Errors))
	for i, f := range e.Errors {
		out[i] = provider.FieldError{Field: f.Attribute, ProviderCode: f.Code, Message: f.Message}
	}
	return out
}

// parseAPIError decodes an error body of either shape; any other body
// gives an APIError with the status text as message.
func parseAPIError(status int, body []byte) *APIError {
	e := &APIError{StatusCode: status}
	var wire struct {
		Code    json.RawMessage `json:"code"`
		Name    string          `json:"name"`
		Message json.RawMessage `json:"message"`
		Errors  []struct {
			Attribute string          `json:"attribute"`
			Code      flexInt         `json:"code"`
			Message   json.RawMessage `json:"message"`
		} `json:"errors"`
	}
	if body = bytes.TrimSpace(body); len(body) > 0 && body[0] == '{' && json.Unmarshal(body, &wire) == nil {
		e.Code = jsonText(wire.Code)
		e.Name = wire.Name
		e.Message = jsonText(wire.Message)
		for _, f := range wire.Errors {
			e.Errors = append(e.Errors, FieldError{Attribute: f.Attribute, Code: int(f.Code.v), Message: jsonText(f.Message)})
		}
	}
	if e.Message == "" && e.Name == "" && e.Code == "" && len(e.Errors) == 0 {
		e.Message = http.StatusText(status)
	}
	return e
}

// jsonText renders a JSON string as its text and any other JSON value
// (a number, a list of messages) as compact JSON.
func jsonText(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		return n.String()
	}
	var b bytes.Buffer
	if json.Compact(&b, raw) == nil {
		return b.String()
	}
	return strconv.Quote(string(raw))
}

// redactedError is a cause as an error message may show it: its text with
// the secret key removed. The cause itself stays in the chain, so errors.Is
// and errors.As still reach it (a *url.Error, syscall.ECONNREFUSED,
// context.Canceled).
type redactedError struct {
	text string
	err  error
}

func (e *redactedError) Error() string { return e.text }
func (e *redactedError) Unwrap() error { return e.err }
