package providertest_test

import (
	"testing"

	"github.com/paylinkgo/paylink/provider"
	"github.com/paylinkgo/paylink/provider/providertest"
)

func TestMemStoreConformance(t *testing.T) {
	providertest.TestStore(t, func(t *testing.T) provider.Store { return providertest.NewMemStore() })
}
