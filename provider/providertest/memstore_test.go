package providertest_test

import (
	"context"
	"testing"

	"github.com/paylinkgo/paylink/provider"
	"github.com/paylinkgo/paylink/provider/providertest"
)

func TestMemStoreConformance(t *testing.T) {
	providertest.TestStore(t, func(t *testing.T) provider.Store {
		s := providertest.NewMemStore()
		t.Cleanup(func() { _ = s.StopHooks(context.Background()) })
		return s
	})
}
