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

// ErrorCode returns c, so that [CodeOf] finds a bare code in an error
// chain as it finds any other coded error.
func (c ErrorCode) ErrorCode() ErrorCode { return c }

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
//
// An Error reports exactly one code, and errors.Is(err, code) agrees with
// [CodeOf] for every code:
//
//   - Code is the error's code. When Code is CodeUnknown (the zero value)
//     and there is a cause, the Error has no code of its own and reports
//     its cause's code, [CodeOf](Err): that makes &Error{Op: op, Err: err}
//     an annotation that keeps err's code.
//   - A code inside Err never shows through: errors.Is(e, code) is decided
//     by e alone, so an Error with CodeUnavailable that wraps a Flip 401
//     matches CodeUnavailable and not CodeUnauthenticated. The outermost
//     coded error of a chain wins.
//   - Everything else about the cause stays reachable: errors.Is(e,
//     context.Canceled), errors.Is(e, sql.ErrNoRows) and errors.As(e,
//     &apiErr) look through Err. For that reason Error has Is and As
//     methods and no Unwrap method (errors.Unwrap(e) is nil; read e.Err
//     instead): an Unwrap method would let errors.Is reach the cause's own
//     code as well, and the error would match two codes.
type Error struct {
	Code ErrorCode
	Op   string // "flip.CreateBill", "provider.ApplyEvent"
	// Message says what failed. Error() adds the cause's text after it, so
	// the message need not (and should not) repeat it.
	Message string
	Fields  []FieldError
	Err     error // the cause, if any
}

// Error formats the error as "op: message (fields): cause". The cause's
// text is left out only when Message already contains it (as a message
// built by [Errorf] with %w does), so it appears exactly once. Error never
// adds credentials of its own; a cause whose text might hold one must be
// redacted by whoever wraps it.
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
	if e.Err != nil {
		if cause := e.Err.Error(); cause != "" && !strings.Contains(e.Message, cause) {
			b.WriteString(": ")
			b.WriteString(cause)
		}
	}
	return b.String()
}

// ErrorCode returns the error's code: e.Code, or the cause's code when
// e.Code is CodeUnknown. Any error with this method reports its code to
// [CodeOf].
func (e *Error) ErrorCode() ErrorCode {
	if e.Code == CodeUnknown && e.Err != nil {
		return CodeOf(e.Err)
	}
	return e.Code
}

// Is reports whether target is e's code ([Error.ErrorCode]) or, for any
// target that is not an [ErrorCode], whether the cause matches it.
func (e *Error) Is(target error) bool {
	if code, ok := target.(ErrorCode); ok {
		return code == e.ErrorCode()
	}
	return e.Err != nil && errors.Is(e.Err, target)
}

// As finds the first error in the cause's chain that matches target, as
// errors.As does, so that errors.As reaches the cause through an Error.
func (e *Error) As(target any) bool {
	return e.Err != nil && errors.As(e.Err, target)
}

// Errorf returns an *Error with the given code and op, and a message
// formatted as by fmt.Errorf. A %w verb sets the cause: Err is the wrapped
// error (or, for several %w verbs, an error that wraps them all), and its
// text appears once, where the verb put it.
func Errorf(code ErrorCode, op, format string, args ...any) error {
	formatted := fmt.Errorf(format, args...)
	var cause error
	switch w := formatted.(type) {
	case interface{ Unwrap() error }:
		cause = w.Unwrap()
	case interface{ Unwrap() []error }:
		cause = formatted
	}
	return &Error{Code: code, Op: op, Message: formatted.Error(), Err: cause}
}

// CodeOf returns the portable code of err:
//
//   - the code of the outermost error in err's chain that reports one (an
//     [*Error], an [ErrorCode], or any error with an ErrorCode() ErrorCode
//     method, such as *flip.APIError), found as errors.As finds it;
//   - otherwise CodeCanceled or CodeDeadlineExceeded when the chain holds
//     context.Canceled or context.DeadlineExceeded, and CodeUnimplemented
//     when it holds errors.ErrUnsupported;
//   - otherwise CodeUnknown. CodeOf(nil) is CodeUnknown.
//
// For an error whose chain holds a coded error (every error this module
// returns), errors.Is(err, code) is true for exactly the code CodeOf
// reports. A chain with no coded error matches no code with errors.Is, as
// errors.Is cannot make context.Canceled equal to CodeCanceled; wrap it in
// an [Error] (&Error{Op: op, Err: err} keeps the code CodeOf gives it) to
// have both agree.
func CodeOf(err error) ErrorCode {
	if err == nil {
		return CodeUnknown
	}
	var coder interface{ ErrorCode() ErrorCode }
	if errors.As(err, &coder) {
		return coder.ErrorCode()
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
