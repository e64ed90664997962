// Package providertest holds the conformance suites that every
// [provider.Provider] and every [provider.Store] must pass, and in-memory
// reference implementations of both.
//
// A provider implementation runs the suite through a short harness:
//
//	func TestConformance(t *testing.T) {
//		providertest.TestProvider(t, func(t *testing.T) providertest.Harness {
//			return newMyHarness(t) // a fresh account on a fake of the gateway
//		})
//	}
//
// A store implementation does the same with [TestStore], returning a fresh,
// migrated, empty store for each subtest.
//
// [MemProvider] passes [TestProvider] and [MemStore] passes [TestStore].
// They are useful on their own: MemProvider stands in for a real gateway in
// demos and tests (its callbacks are JSON with a token header), and
// MemStore lets the whole payment flow run with no database.
package providertest
