package midtrans

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/paylinkgo/paylink/provider"
)

// APIError is an error answer from Midtrans. Midtrans uses two shapes:
//
//	Snap:  {"error_messages":["transaction_details.order_id is required"]}
//	Core:  {"status_code":"404","status_message":"Transaction doesn't exist."}
//
// A Core answer is an error when its status_code is 400 or more (except
// "407", an expired transaction, which is a result), whatever the HTTP
// status: Midtrans answers an unknown order with HTTP 200 and body "404".
type APIError struct {
	// HTTPStatus is the HTTP status of the response.
	HTTPStatus int
	// StatusCode is Midtrans's status_code from the body ("404"), if any.
	StatusCode string
	// StatusMessage is Midtrans's status_message, if any.
	StatusMessage string
	// Messages are Snap's error_messages (a list, or one string).
	Messages []string
	// Op is the client method that failed ("midtrans.GetStatus").
	Op string

	// foreign: the body carried neither status_code nor error_messages,
	// so it is not Midtrans's answer (an HTML page from a wrong base URL
	// or a proxy).
	foreign bool
}

// Error formats the error; it never contains the server key.
func (e *APIError) Error() string {
	var b strings.Builder
	if e.Op != "" {
		b.WriteString(e.Op)
		b.WriteString(": ")
	}
	fmt.Fprintf(&b, "midtrans API error (HTTP %d", e.HTTPStatus)
	if e.StatusCode != "" {
		b.WriteString(", status_code ")
		b.WriteString(e.StatusCode)
	}
	b.WriteString(")")
	if e.StatusMessage != "" {
		b.WriteString(": ")
		b.WriteString(e.StatusMessage)
	}
	if len(e.Messages) > 0 {
		b.WriteString(": ")
		b.WriteString(strings.Join(e.Messages, "; "))
	}
	return b.String()
}

// code returns the Midtrans code that decides the portable code: the
// body's status_code when it is a number, else the HTTP status.
func (e *APIError) code() int {
	if n, err := strconv.Atoi(strings.TrimSpace(e.StatusCode)); err == nil && n > 0 {
		return n
	}
	return e.HTTPStatus
}

// ErrorCode returns the portable code of the error, from the body's
// status_code (or else the HTTP status), following Midtrans's code table:
//
//	400 "...order_id has already been taken", 406    CodeConflict
//	400, 403, 405, 408, 411, 413, 414               CodeInvalidArgument
//	414 "...merchant insufficient funds"             CodeUnavailable (retriable with the same refund_key)
//	401 (and Snap's "Merchant is required")          CodeUnauthenticated
//	402 payment type not enabled, 407, 412           CodeFailedPrecondition
//	404 (Midtrans's JSON body)                       CodeNotFound
//	HTTP 404 without Midtrans's JSON (wrong URL)     CodeUnavailable
//	410 (GoPay user blocked)                         CodePermissionDenied
//	409                                              CodeConflict
//	429, 5xx, 503                                    CodeUnavailable
//	900 GENERIC_SERVICE_ERROR                        CodeInternal
//	anything else                                    CodeUnknown
func (e *APIError) ErrorCode() provider.ErrorCode {
	for _, m := range e.Messages {
		l := strings.ToLower(m)
		switch {
		case strings.Contains(l, "has already been taken"), strings.Contains(l, "has been taken"):
			return provider.CodeConflict
		case strings.Contains(l, "merchant is required"):
			return provider.CodeUnauthenticated
		}
	}
	switch c := e.code(); {
	case e.foreign && c == 404:
		// Not Midtrans's "404": a wrong base URL or a proxy.
		return provider.CodeUnavailable
	case c == 401:
		return provider.CodeUnauthenticated
	case c == 404:
		return provider.CodeNotFound
	case c == 406, c == 409:
		return provider.CodeConflict
	case c == 402, c == 407, c == 412:
		return provider.CodeFailedPrecondition
	case c == 410:
		return provider.CodePermissionDenied
	case c == 414 && e.insufficientFunds():
		return provider.CodeUnavailable
	case c == 400, c == 403, c == 405, c == 408, c == 411, c == 413, c == 414, c == 422:
		return provider.CodeInvalidArgument
	case c == 429, c >= 500 && c <= 599:
		return provider.CodeUnavailable
	case c == 900:
		return provider.CodeInternal
	}
	return provider.CodeUnknown
}

// Is reports whether target is the error's portable code.
func (e *APIError) Is(target error) bool {
	code, ok := target.(provider.ErrorCode)
	return ok && code == e.ErrorCode()
}

// FieldErrors returns Snap's messages as field errors: a message
// "transaction_details.order_id is required" names its field.
func (e *APIError) FieldErrors() []provider.FieldError {
	var out []provider.FieldError
	for _, m := range e.Messages {
		field, _, _ := strings.Cut(m, " ")
		if !strings.Contains(field, ".") || strings.Contains(field, "://") {
			field = ""
		}
		out = append(out, provider.FieldError{Field: field, Message: m})
	}
	return out
}

// insufficientFunds reports whether a 414 is Midtrans's "Refund request
// is rejected due to merchant insufficient funds", which it calls
// retriable with the same refund_key, not "... due to invalid amount".
func (e *APIError) insufficientFunds() bool {
	if e.code() != 414 {
		return false
	}
	l := strings.ToLower(e.StatusMessage + " " + strings.Join(e.Messages, " "))
	return strings.Contains(l, "insufficient")
}

// sessionGone reports whether Snap refused to cancel a session because
// it is cancelled already ("token already canceled") or unknown ("token
// not found": its page expired). Midtrans documents the messages, not
// their HTTP statuses.
func (e *APIError) sessionGone() bool {
	for _, m := range e.Messages {
		l := strings.ToLower(m)
		if strings.Contains(l, "already canceled") || strings.Contains(l, "already cancelled") || strings.Contains(l, "token not found") {
			return true
		}
	}
	return false
}

// transient reports whether repeating the request may succeed.
func (e *APIError) transient() bool {
	c := e.code()
	return c == 429 || (c >= 500 && c <= 599) || e.HTTPStatus == 429 || e.HTTPStatus >= 500
}

// coreBody is the part of a Core API answer every error shares.
type coreBody struct {
	StatusCode    string `json:"status_code"`
	StatusMessage string `json:"status_message"`
}

// bodyError returns the error a Core API body reports (status_code 400 or
// more, except 407), or nil.
func bodyError(op string, httpStatus int, body []byte) *APIError {
	var cb coreBody
	if json.Unmarshal(body, &cb) != nil {
		return nil
	}
	n, err := strconv.Atoi(strings.TrimSpace(cb.StatusCode))
	if err != nil || n < 400 || n == 407 {
		return nil
	}
	return &APIError{HTTPStatus: httpStatus, StatusCode: cb.StatusCode, StatusMessage: cb.StatusMessage, Op: op}
}

// parseAPIError decodes an error body of either shape. A body that is not
// JSON leaves the message as the HTTP status text.
func parseAPIError(op string, status int, body []byte) *APIError {
	e := &APIError{HTTPStatus: status, Op: op}
	var wire struct {
		StatusCode    json.RawMessage `json:"status_code"`
		StatusMessage string          `json:"status_message"`
		ErrorMessages json.RawMessage `json:"error_messages"`
	}
	if body = bytes.TrimSpace(body); len(body) > 0 && body[0] == '{' && json.Unmarshal(body, &wire) == nil {
		e.StatusCode = jsonText(wire.StatusCode)
		e.StatusMessage = wire.StatusMessage
		var list []string
		var one string
		switch {
		case json.Unmarshal(wire.ErrorMessages, &list) == nil:
			e.Messages = list
		case json.Unmarshal(wire.ErrorMessages, &one) == nil && one != "":
			e.Messages = []string{one}
		}
	}
	if e.StatusCode == "" && len(e.Messages) == 0 {
		e.foreign = true
	}
	if e.StatusCode == "" && e.StatusMessage == "" && len(e.Messages) == 0 {
		e.StatusMessage = http.StatusText(status)
	}
	return e
}

// jsonText renders a JSON string or number as text.
func jsonText(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		return n.String()
	}
	return ""
}

// redactedError is a cause with the server key removed from its text; the
// cause stays in the chain for errors.Is and errors.As.
type redactedError struct {
	text string
	err  error
}

func (e *redactedError) Error() string { return e.text }
func (e *redactedError) Unwrap() error { return e.err }
