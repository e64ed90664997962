package provider

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// ErrorCode is a portable error category. Every error the library returns
// carries one, so callers (and ginadapter, the only place codes become HTTP
// statuses) can act on it without knowing which provider produced it.
//
// An ErrorCode is itself an error, so it can be matched directly:
//
//	if errors.Is(err, provider.CodeNotFound) { ... }
type ErrorCode int

// The portable error codes.
const (
	// CodeUnknown is an error of no known category.
	CodeUnknown ErrorCode = iota
	// CodeInvalidArgument: the caller sent something invalid; retrying the
	// same request fails again.
	CodeInvalidArgument
	// CodeNotFound: the link, payment or resource does not exist.
	CodeNotFound
	// CodeUnauthenticated: credentials or a callback token are missing or wrong.
	CodeUnauthenticated
	// CodePermissionDenied: authenticated but not allowed (e.g. IP not allow-listed).
	CodePermissionDenied
	// CodeConflict: the request conflicts with current state (an idempotency
	// key reused for different parameters, a link already used).
	CodeConflict
	// CodeFailedPrecondition: the system is not in a state to do this
	// (an expired link, an endpoint that only works in production).
	CodeFailedPrecondition
	// CodeUnavailable: a transient failure; retrying later may succeed.
	CodeUnavailable
	// CodeUnimplemented: the provider does not support the operation.
	CodeUnimplemented
	// CodeInternal: a bug or a broken invariant on either side.
	CodeInternal
	// CodeCanceled: the context was canceled.
	CodeCanceled
	// CodeDeadlineExceeded: the context deadline passed.
	CodeDeadlineExceeded
	// CodeTooLarge: a request body was over its size limit.
	CodeTooLarge
)

var codeNames = [...]string{
	CodeUnknown:            "unknown",
	CodeInvalidArgument:    "invalid argument",
	CodeNotFound:           "not found",
	CodeUnauthenticated:    "unauthenticated",
	CodePermissionDenied:   "permission denied",
	CodeConflict:           "conflict",
	CodeFailedPrecondition: "failed precondition",
	CodeUnavailable:        "unavailable",
	CodeUnimplemented:      "unimplemented",
	CodeInternal:           "internal",
	CodeCanceled:           "canceled",
	CodeDeadlineExceeded:   "deadline exceeded",
	CodeTooLarge:           "too large",
}

// String returns the code's name.
func (c ErrorCode) String() string {
	if c >= 0 && int(c) < len(codeNames) {
		return codeNames[c]
	}
	return fmt.Sprintf("ErrorCode(%d)", int(c))
}

// Error makes an ErrorCode usable as an error and as an errors.Is target.
func (c ErrorCode) Error() string { return "paylink: " + c.String() }

// FieldError says which input field was refused and why.
type FieldError struct {
	// Field is the parameter name as the caller knows it ("amount",
	// "sender_email", "customer.email").
	Field string `json:"field"`
	// Rule is the short name of the failed rule ("required", "min", "email").
	Rule string `json:"rule,omitempty"`
	// ProviderCode is the provider's own numeric code for the error (Flip's
	// 1044-1091), or 0.
	ProviderCode int `json:"code,omitempty"`
	// Message is a human-readable explanation.
	Message string `json:"message"`
}

func (f FieldError) String() string {
	if f.Message == "" {
		return f.Field + ": " + f.Rule
	}
	return f.Field + ": " + f.Message
}

// Error is the library's error value: a portable code, the operation that
// failed, optional field errors and an optional cause.
type Error struct {
	Code    ErrorCode
	Op      string // "flip.CreateBill", "provider.ApplyEvent"
	Message string
	Fields  []FieldError
	Err     error // the cause, if any
}

// Error formats the error without ever including credentials.
func (e *Error) Error() string {
	var b strings.Builder
	if e.Op != "" {
		b.WriteString(e.Op)
		b.WriteString(": ")
	}
	msg := e.Message
	if msg == "" {
		msg = e.Code.String()
	}
	b.WriteString(msg)
	for i, f := range e.Fields {
		if i == 0 {
			b.WriteString(" (")
		} else {
			b.WriteString("; ")
		}
		b.WriteString(f.String())
		if i == len(e.Fields)-1 {
			b.WriteString(")")
		}
	}
	if e.Err != nil && e.Message == "" {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Is matches an ErrorCode target against e.Code.
func (e *Error) Is(target error) bool {
	c, ok := target.(ErrorCode)
	return ok && c == e.Code
}

// ErrorCode returns e.Code; any error with this method reports its code to [CodeOf].
func (e *Error) ErrorCode() ErrorCode { return e.Code }

// Errorf returns an *Error with the given code and a formatted message.
// A %w verb in format sets the cause.
func Errorf(code ErrorCode, op, format string, args ...any) error {
	wrapped := fmt.Errorf(format, args...)
	return &Error{Code: code, Op: op, Message: wrapped.Error(), Err: errors.Unwrap(wrapped)}
}

// CodeOf returns the portable code of err: the code of the first error in
// its chain that reports one, CodeCanceled / CodeDeadlineExceeded for
// context errors, CodeUnimplemented for errors.ErrUnsupported, and
// CodeUnknown otherwise. CodeOf(nil) is CodeUnknown.
func CodeOf(err error) ErrorCode {
	if err == nil {
		return CodeUnknown
	}
	var coder interface{ ErrorCode() ErrorCode }
	if errors.As(err, &coder) {
		return coder.ErrorCode()
	}
	var code ErrorCode
	if errors.As(err, &code) {
		return code
	}
	switch {
	case errors.Is(err, context.Canceled):
		return CodeCanceled
	case errors.Is(err, context.DeadlineExceeded):
		return CodeDeadlineExceeded
	case errors.Is(err, errors.ErrUnsupported):
		return CodeUnimplemented
	}
	return CodeUnknown
}

// FieldErrorsOf returns the field errors carried by err, if any.
func FieldErrorsOf(err error) []FieldError {
	var withFields interface{ FieldErrors() []FieldError }
	if errors.As(err, &withFields) {
		return withFields.FieldErrors()
	}
	return nil
}

// FieldErrors returns e.Fields.
func (e *Error) FieldErrors() []FieldError { return e.Fields }

// Unsupported returns the error a provider gives for a capability it lacks.
// It matches both CodeUnimplemented and errors.ErrUnsupported.
func Unsupported(op string) error {
	return &Error{Code: CodeUnimplemented, Op: op, Message: "not supported by this provider", Err: errors.ErrUnsupported}
}
