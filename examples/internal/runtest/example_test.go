package runtest_test

import (
	"fmt"
	"log/slog"

	"github.com/paylinkgo/paylink/examples/internal/runtest"
)

// A Buffer collects a program's logs; tests count lines in it.
func ExampleBuffer() {
	var out runtest.Buffer
	log := slog.New(slog.NewTextHandler(&out, nil))
	log.Info("mail sent", "to", "ana@example.com")
	log.Info("mail sent", "to", "budi@example.com")
	fmt.Println(out.Count(`msg="mail sent"`))
	// Output: 2
}
