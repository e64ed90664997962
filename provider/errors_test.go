package provider_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/paylinkgo/paylink/provider"
)

func TestErrorCodesMatchWithErrorsIs(t *testing.T) {
	err := fmt.Errorf("creating order: %w", provider.Errorf(provider.CodeNotFound, "flip.GetBill", "bill %q not found", "42"))
	if !errors.Is(err, provider.CodeNotFound) {
		t.Errorf("errors.Is(%v, CodeNotFound) = false", err)
	}
	if errors.Is(err, provider.CodeConflict) {
		t.Errorf("errors.Is(%v, CodeConflict) = true", err)
	}
	if got := provider.CodeOf(err); got != provider.CodeNotFound {
		t.Errorf("CodeOf = %v", got)
	}
	var perr *provider.Error
	if !errors.As(err, &perr) || perr.Op != "flip.GetBill" {
		t.Errorf("errors.As did not find the *provider.Error with its op: %v", perr)
	}
}

func TestFieldErrorsTravelWithTheError(t *testing.T) {
	err := fmt.Errorf("wrapped: %w", &provider.Error{Code: provider.CodeInvalidArgument, Message: "invalid",
		Fields: []provider.FieldError{{Field: "amount", Rule: "min", ProviderCode: 1058, Message: "Minimum amount is Rp10.000"}}})
	fields := provider.FieldErrorsOf(err)
	if len(fields) != 1 || fields[0].Field != "amount" || fields[0].ProviderCode != 1058 {
		t.Fatalf("FieldErrorsOf = %+v", fields)
	}
	if want := "invalid (amount: Minimum amount is Rp10.000)"; !errorsContains(err, want) {
		t.Errorf("error %q does not contain %q", err, want)
	}
}

func errorsContains(err error, s string) bool {
	return err != nil && strings.Contains(err.Error(), s)
}

func ExampleCodeOf() {
	err := provider.Errorf(provider.CodeUnavailable, "flip.CreateBill", "flip answered 503")
	fmt.Println(provider.CodeOf(err).String(), errors.Is(err, provider.CodeUnavailable))
	// Output: unavailable true
}

// allCodes lists every ErrorCode, ending where String stops naming them, so
// that a code added later is covered without editing this file.
func allCodes() []provider.ErrorCode {
	var codes []provider.ErrorCode
	for c := provider.CodeUnknown; !strings.HasPrefix(c.String(), "ErrorCode("); c++ {
		codes = append(codes, c)
	}
	return codes
}

// requireOneCode checks the error model's central promise: CodeOf reports
// want, and errors.Is matches want and no other code.
func requireOneCode(t *testing.T, err error, want provider.ErrorCode) {
	t.Helper()
	if got := provider.CodeOf(err); got != want {
		t.Errorf("CodeOf = %v, want %v", got, want)
	}
	for _, c := range allCodes() {
		if got := errors.Is(err, c); got != (c == want) {
			t.Errorf("errors.Is(err, %v) = %v, want %v", c, got, c == want)
		}
	}
}

// gatewayError stands for a provider's own coded error (as *flip.APIError
// is): a leaf that reports one code and matches it with errors.Is.
type gatewayError struct {
	status int
	code   provider.ErrorCode
}

func (e *gatewayError) Error() string                 { return "gateway answered " + strconv.Itoa(e.status) }
func (e *gatewayError) ErrorCode() provider.ErrorCode { return e.code }
func (e *gatewayError) Is(target error) bool {
	c, ok := target.(provider.ErrorCode)
	return ok && c == e.code
}

func TestErrorModel(t *testing.T) {
	t.Parallel()
	reset := errors.New("connection reset by peer")
	eof := errors.New("unexpected EOF")
	refused := &gatewayError{status: 401, code: provider.CodeUnauthenticated}
	duplicate := provider.Errorf(provider.CodeConflict, "store.PutLink", "duplicate key")
	tests := []struct {
		name string
		err  error
		// code is the one code the error reports.
		code provider.ErrorCode
		// text is the exact Error() text.
		text string
		// causes must each be reachable with errors.Is.
		causes []error
		// once are the causes' texts, each of which Error() holds exactly once.
		once []string
	}{
		{
			name: "Errorf without %w: a message and a code, no cause",
			err:  provider.Errorf(provider.CodeNotFound, "mem.GetLink", "link %q not found", "42"),
			code: provider.CodeNotFound,
			text: `mem.GetLink: link "42" not found`,
		},
		{
			name:   "Errorf with a trailing %w: the cause's text once, where the verb put it",
			err:    provider.Errorf(provider.CodeUnavailable, "gw.GetLink", "calling the gateway: %w", reset),
			code:   provider.CodeUnavailable,
			text:   "gw.GetLink: calling the gateway: connection reset by peer",
			causes: []error{reset},
			once:   []string{reset.Error()},
		},
		{
			name:   "Errorf with %w inside the message is not repeated at the end",
			err:    provider.Errorf(provider.CodeUnavailable, "gw.GetLink", "%w after 3 attempts", reset),
			code:   provider.CodeUnavailable,
			text:   "gw.GetLink: connection reset by peer after 3 attempts",
			causes: []error{reset},
			once:   []string{reset.Error()},
		},
		{
			name:   "Errorf with two %w keeps both causes in the chain",
			err:    provider.Errorf(provider.CodeInternal, "gw.Sync", "reading: %w; closing: %w", eof, reset),
			code:   provider.CodeInternal,
			text:   "gw.Sync: reading: unexpected EOF; closing: connection reset by peer",
			causes: []error{eof, reset},
			once:   []string{eof.Error(), reset.Error()},
		},
		{
			name:   "Error with Message and Err: the message, then the cause",
			err:    &provider.Error{Code: provider.CodeInternal, Op: "store.PutLink", Message: "storing the link failed", Err: reset},
			code:   provider.CodeInternal,
			text:   "store.PutLink: storing the link failed: connection reset by peer",
			causes: []error{reset},
			once:   []string{reset.Error()},
		},
		{
			name:   "Error with a Message that already quotes the cause does not repeat it",
			err:    &provider.Error{Code: provider.CodeInternal, Op: "store.PutLink", Message: "write failed: " + reset.Error(), Err: reset},
			code:   provider.CodeInternal,
			text:   "store.PutLink: write failed: connection reset by peer",
			causes: []error{reset},
			once:   []string{reset.Error()},
		},
		{
			name:   "Error with Err and no Message: the code's name, then the cause",
			err:    &provider.Error{Code: provider.CodeUnavailable, Op: "store.GetLink", Err: reset},
			code:   provider.CodeUnavailable,
			text:   "store.GetLink: unavailable: connection reset by peer",
			causes: []error{reset},
			once:   []string{reset.Error()},
		},
		{
			name: "Error with fields and a cause",
			err: &provider.Error{Code: provider.CodeInvalidArgument, Op: "gw.CreateLink", Message: "invalid parameters",
				Fields: []provider.FieldError{{Field: "amount", Rule: "min"}}, Err: eof},
			code:   provider.CodeInvalidArgument,
			text:   "gw.CreateLink: invalid parameters (amount: min): unexpected EOF",
			causes: []error{eof},
			once:   []string{eof.Error()},
		},
		{
			name:   "the outermost code wins: Unavailable around a gateway's 401 is not Unauthenticated",
			err:    &provider.Error{Code: provider.CodeUnavailable, Op: "provider.ApplyEvent", Message: "could not confirm the payment", Err: refused},
			code:   provider.CodeUnavailable,
			text:   "provider.ApplyEvent: could not confirm the payment: gateway answered 401",
			causes: []error{refused},
			once:   []string{refused.Error()},
		},
		{
			name: "the outermost code wins through fmt.Errorf wrapping on either side",
			err: fmt.Errorf("order 7: %w", &provider.Error{Code: provider.CodeUnavailable, Op: "provider.ApplyEvent",
				Err: fmt.Errorf("refetch: %w", refused)}),
			code:   provider.CodeUnavailable,
			text:   "order 7: provider.ApplyEvent: unavailable: refetch: gateway answered 401",
			causes: []error{refused},
			once:   []string{refused.Error()},
		},
		{
			name:   "the outermost code wins over an inner *Error too",
			err:    provider.Errorf(provider.CodeInternal, "svc.CreateLink", "storing: %w", duplicate),
			code:   provider.CodeInternal,
			text:   "svc.CreateLink: storing: store.PutLink: duplicate key",
			causes: []error{duplicate},
			once:   []string{duplicate.Error()},
		},
		{
			name:   "an Error with no code of its own reports its cause's code",
			err:    &provider.Error{Op: "svc.GetLink", Message: "reading the link", Err: refused},
			code:   provider.CodeUnauthenticated,
			text:   "svc.GetLink: reading the link: gateway answered 401",
			causes: []error{refused},
			once:   []string{refused.Error()},
		},
		{
			name:   "a coded error that is not an *Error reports its own code",
			err:    fmt.Errorf("creating order: %w", refused),
			code:   provider.CodeUnauthenticated,
			text:   "creating order: gateway answered 401",
			causes: []error{refused},
		},
		{
			name:   "Unsupported matches CodeUnimplemented and errors.ErrUnsupported",
			err:    provider.Unsupported("mem.EditLink"),
			code:   provider.CodeUnimplemented,
			text:   "mem.EditLink: not supported by this provider: unsupported operation",
			causes: []error{errors.ErrUnsupported},
			once:   []string{errors.ErrUnsupported.Error()},
		},
		{
			name: "a bare code is an error with that code",
			err:  provider.CodeConflict,
			code: provider.CodeConflict,
			text: "paylink: conflict",
		},
		{
			name: "a wrapped code keeps it",
			err:  fmt.Errorf("link 9: %w", provider.CodeFailedPrecondition),
			code: provider.CodeFailedPrecondition,
			text: "link 9: paylink: failed precondition",
		},
		{
			name:   "context.Canceled under an Error with no code of its own: CodeCanceled, and still context.Canceled",
			err:    &provider.Error{Op: "store.GetLink", Err: fmt.Errorf("query: %w", context.Canceled)},
			code:   provider.CodeCanceled,
			text:   "store.GetLink: unknown: query: context canceled",
			causes: []error{context.Canceled},
			once:   []string{context.Canceled.Error()},
		},
		{
			name:   "CodeCanceled does not hide the context error it wraps",
			err:    &provider.Error{Code: provider.CodeCanceled, Op: "gw.GetLink", Message: "context ended", Err: context.Canceled},
			code:   provider.CodeCanceled,
			text:   "gw.GetLink: context ended: context canceled",
			causes: []error{context.Canceled},
			once:   []string{context.Canceled.Error()},
		},
		{
			name:   "CodeDeadlineExceeded likewise",
			err:    provider.Errorf(provider.CodeDeadlineExceeded, "gw.GetLink", "waiting for the gateway: %w", context.DeadlineExceeded),
			code:   provider.CodeDeadlineExceeded,
			text:   "gw.GetLink: waiting for the gateway: context deadline exceeded",
			causes: []error{context.DeadlineExceeded},
			once:   []string{context.DeadlineExceeded.Error()},
		},
		{
			name:   "an outer code says otherwise than the context error it wraps",
			err:    &provider.Error{Code: provider.CodeUnavailable, Op: "provider.ApplyEvent", Message: "could not confirm the payment", Err: context.Canceled},
			code:   provider.CodeUnavailable,
			text:   "provider.ApplyEvent: could not confirm the payment: context canceled",
			causes: []error{context.Canceled},
			once:   []string{context.Canceled.Error()},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			requireOneCode(t, tt.err, tt.code)
			if got := tt.err.Error(); got != tt.text {
				t.Errorf("Error() = %q\nwant      %q", got, tt.text)
			}
			for _, cause := range tt.causes {
				if !errors.Is(tt.err, cause) {
					t.Errorf("errors.Is(err, %q) = false: the cause left the chain", cause)
				}
			}
			for _, s := range tt.once {
				if n := strings.Count(tt.err.Error(), s); n != 1 {
					t.Errorf("Error() holds %q %d times, want once: %q", s, n, tt.err)
				}
			}
		})
	}
}

func TestErrorsAsReachesTheCause(t *testing.T) {
	t.Parallel()
	refused := &gatewayError{status: 401, code: provider.CodeUnauthenticated}
	err := fmt.Errorf("order 7: %w", &provider.Error{Code: provider.CodeUnavailable, Op: "provider.ApplyEvent",
		Err: fmt.Errorf("refetch: %w", refused)})

	var perr *provider.Error
	if !errors.As(err, &perr) || perr.Op != "provider.ApplyEvent" {
		t.Errorf("errors.As(*provider.Error) = %v; want the outer error", perr)
	}
	var gw *gatewayError
	if !errors.As(err, &gw) || gw != refused {
		t.Errorf("errors.As(*gatewayError) = %v; want the cause", gw)
	}
	var coder interface{ ErrorCode() provider.ErrorCode }
	if !errors.As(err, &coder) || coder.ErrorCode() != provider.CodeUnavailable {
		t.Errorf("errors.As found %v first; want the outermost coded error", coder)
	}
	var numErr *strconv.NumError
	if errors.As(err, &numErr) {
		t.Errorf("errors.As found a *strconv.NumError that is not in the chain")
	}
}

// A chain with no coded error in it is mapped by CodeOf alone: errors.Is
// has no way to make context.Canceled equal CodeCanceled. Wrapped in an
// Error that has no code of its own, both agree (the table above).
func TestContextErrorsWithoutACodedError(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		err  error
		want provider.ErrorCode
	}{
		{context.Canceled, provider.CodeCanceled},
		{fmt.Errorf("query: %w", context.Canceled), provider.CodeCanceled},
		{context.DeadlineExceeded, provider.CodeDeadlineExceeded},
		{fmt.Errorf("query: %w", context.DeadlineExceeded), provider.CodeDeadlineExceeded},
		{errors.ErrUnsupported, provider.CodeUnimplemented},
		{errors.New("plain"), provider.CodeUnknown},
		{nil, provider.CodeUnknown},
	} {
		if got := provider.CodeOf(c.err); got != c.want {
			t.Errorf("CodeOf(%v) = %v, want %v", c.err, got, c.want)
		}
		for _, code := range allCodes() {
			if errors.Is(c.err, code) {
				t.Errorf("errors.Is(%v, %v) = true; a chain without a coded error matches no code", c.err, code)
			}
		}
		if c.err == nil {
			continue
		}
		t.Run(c.err.Error(), func(t *testing.T) {
			requireOneCode(t, &provider.Error{Op: "x", Err: c.err}, c.want)
		})
	}
}

// A caller decides by the code and still reaches the cause, whose text is
// in the message once.
func ExampleError() {
	_, cause := strconv.Atoi("45.000")
	err := fmt.Errorf("creating order: %w",
		provider.Errorf(provider.CodeInvalidArgument, "shop.CreateOrder", "reading the amount: %w", cause))

	fmt.Println(err)
	fmt.Println(provider.CodeOf(err).String(), errors.Is(err, provider.CodeInvalidArgument))
	var numErr *strconv.NumError
	if errors.As(err, &numErr) {
		fmt.Printf("cause: %s(%q): %v\n", numErr.Func, numErr.Num, numErr.Err)
	}
	fmt.Println(errors.Is(err, strconv.ErrSyntax))
	// Output:
	// creating order: shop.CreateOrder: reading the amount: strconv.Atoi: parsing "45.000": invalid syntax
	// invalid argument true
	// cause: Atoi("45.000"): invalid syntax
	// true
}

// When a coded error wraps another, the outer code is the error's only
// code; the inner error stays in the chain and in the message.
func ExampleError_outermostCodeWins() {
	refused := provider.Errorf(provider.CodeUnauthenticated, "gw.GetPayment", "the gateway refused the key")
	err := &provider.Error{Code: provider.CodeUnavailable, Op: "provider.ApplyEvent",
		Message: "could not confirm the payment", Err: refused}

	fmt.Println(err)
	fmt.Println(provider.CodeOf(err).String(), errors.Is(err, provider.CodeUnavailable), errors.Is(err, provider.CodeUnauthenticated))
	fmt.Println(errors.Is(err, refused))
	// Output:
	// provider.ApplyEvent: could not confirm the payment: gw.GetPayment: the gateway refused the key
	// unavailable true false
	// true
}
