package provider_test

import (
	"context"
	"errors"
	"fmt"
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

func TestCodeOfKnowsContextAndUnsupportedErrors(t *testing.T) {
	for _, c := range []struct {
		err  error
		want provider.ErrorCode
	}{
		{context.Canceled, provider.CodeCanceled},
		{fmt.Errorf("x: %w", context.DeadlineExceeded), provider.CodeDeadlineExceeded},
		{provider.Unsupported("mem.EditLink"), provider.CodeUnimplemented},
		{errors.ErrUnsupported, provider.CodeUnimplemented},
		{errors.New("plain"), provider.CodeUnknown},
		{nil, provider.CodeUnknown},
		{provider.CodeUnavailable, provider.CodeUnavailable},
	} {
		if got := provider.CodeOf(c.err); got != c.want {
			t.Errorf("CodeOf(%v) = %v, want %v", c.err, got, c.want)
		}
	}
	if !errors.Is(provider.Unsupported("x"), errors.ErrUnsupported) {
		t.Error("Unsupported does not match errors.ErrUnsupported")
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
