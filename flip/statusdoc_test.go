package flip_test

import (
	"os"
	"regexp"
	"testing"

	"github.com/paylinkgo/paylink/flip"
	"github.com/paylinkgo/paylink/provider"
)

// TestStatusMappingDocMatchesTheCode keeps docs/flip-status-mapping.md and
// flip.StatusMappings in agreement, row for row.
func TestStatusMappingDocMatchesTheCode(t *testing.T) {
	doc, err := os.ReadFile("../docs/flip-status-mapping.md")
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile("(?m)^\\| `([A-Z_]+)` \\| `([A-Z_]+)` \\|")
	documented := map[string]string{}
	for _, m := range row.FindAllStringSubmatch(string(doc), -1) {
		if _, dup := documented[m[1]]; dup {
			t.Errorf("the doc lists %s twice", m[1])
		}
		documented[m[1]] = m[2]
	}
	code := flip.StatusMappings()
	if len(documented) != len(code) {
		t.Errorf("the doc has %d rows, the code %d", len(documented), len(code))
	}
	for _, m := range code {
		want, ok := documented[string(m.Raw)]
		if !ok {
			t.Errorf("%s is mapped in the code but missing from the doc", m.Raw)
			continue
		}
		if want != string(m.Status) {
			t.Errorf("%s: the doc says %s, the code %s", m.Raw, want, m.Status)
		}
		if got, ok := flip.MapPaymentStatus(string(m.Raw)); !ok || got != provider.PaymentStatus(want) {
			t.Errorf("MapPaymentStatus(%s) = %s, %v; the doc says %s", m.Raw, got, ok, want)
		}
	}
}
