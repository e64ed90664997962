package ginadapter_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/paylinkgo/paylink/ginadapter"
	"github.com/paylinkgo/paylink/provider"
)

func TestStatusCode(t *testing.T) {
	t.Parallel()
	coded := func(c provider.ErrorCode) error { return provider.Errorf(c, "test", "boom") }
	tests := []struct {
		name string
		err  error
		want int
	}{
		{"nil", nil, 200},
		{"invalid argument", coded(provider.CodeInvalidArgument), 422},
		{"not found", coded(provider.CodeNotFound), 404},
		{"unauthenticated", coded(provider.CodeUnauthenticated), 401},
		{"permission denied", coded(provider.CodePermissionDenied), 403},
		{"conflict", coded(provider.CodeConflict), 409},
		{"failed precondition", coded(provider.CodeFailedPrecondition), 409},
		{"unavailable", coded(provider.CodeUnavailable), 503},
		{"unimplemented", coded(provider.CodeUnimplemented), 501},
		{"too large", coded(provider.CodeTooLarge), 413},
		{"deadline exceeded", coded(provider.CodeDeadlineExceeded), 504},
		{"canceled", coded(provider.CodeCanceled), 499},
		{"internal", coded(provider.CodeInternal), 500},
		{"unknown", coded(provider.CodeUnknown), 500},
		{"plain error", errors.New("boom"), 500},
		{"bare code", provider.CodeNotFound, 404},
		{"wrapped", fmt.Errorf("outer: %w", coded(provider.CodeConflict)), 409},
		{"context deadline", fmt.Errorf("query: %w", context.DeadlineExceeded), 504},
		{"context canceled", context.Canceled, 499},
		{"unsupported", provider.Unsupported("mem.EditLink"), 501},
		{"errors.ErrUnsupported", errors.ErrUnsupported, 501},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := ginadapter.StatusCode(tt.err); got != tt.want {
				t.Errorf("StatusCode(%v) = %d, want %d", tt.err, got, tt.want)
			}
		})
	}
}
