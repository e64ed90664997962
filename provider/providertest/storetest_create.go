package providertest

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paylinkgo/paylink/provider"
)

// The tests below drive provider.Service.CreateLink over the store under
// test, with a MemProvider behind a script: they pin down, for every
// store, that a link asked for with an idempotency key is made once, even
// when the process dies half-way.

// createWindow is the LinkIntentWindow of the services below.
const createWindow = time.Minute

// createStep is what the scripted provider does on one CreateLink call.
type createStep int

const (
	// createNormally asks the MemProvider.
	createNormally createStep = iota
	// dieBefore fails as a process that died before its request left.
	dieBefore
	// dieAfter lets the MemProvider make the link, then fails as a process
	// that died before it could store the link (or lost the answer).
	dieAfter
	// refuse answers as a provider that refuses the parameters.
	refuse
)

// scriptedProvider is a MemProvider (a LinkFinder) whose CreateLink
// follows a script, one step per call, and counts the calls.
type scriptedProvider struct {
	*MemProvider
	script []createStep
	delay  time.Duration // before each call reaches the MemProvider
	calls  atomic.Int32
	// unpromised counts calls with a key not marked KeyNeverReturned.
	unpromised atomic.Int32
}

// allPromised reports whether every call with an idempotency key came
// marked KeyNeverReturned.
func (p *scriptedProvider) allPromised() bool { return p.unpromised.Load() == 0 }

func (p *scriptedProvider) CreateLink(ctx context.Context, params provider.CreateLinkParams) (*provider.Link, error) {
	n := int(p.calls.Add(1))
	if params.IdempotencyKey != "" && !params.KeyNeverReturned {
		p.unpromised.Add(1)
	}
	step := createNormally
	if n <= len(p.script) {
		step = p.script[n-1]
	}
	select {
	case <-time.After(p.delay):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	switch step {
	case dieBefore:
		return nil, provider.Errorf(provider.CodeUnavailable, "scripted.CreateLink", "the process died before asking")
	case dieAfter:
		l, err := p.MemProvider.CreateLink(ctx, params)
		if err != nil {
			return nil, err
		}
		return nil, provider.Errorf(provider.CodeUnavailable, "scripted.CreateLink", "the process died after link %s was made", l.ID)
	case refuse:
		return nil, &provider.Error{Code: provider.CodeInvalidArgument, Op: "scripted.CreateLink", Message: "invalid parameters",
			Fields: []provider.FieldError{{Field: "sender_email", Rule: "email", Message: "not an email address"}}}
	}
	return p.MemProvider.CreateLink(ctx, params)
}

// blindProvider is a provider that cannot search its links.
type blindProvider struct{ provider.Provider }

// createClock is a clock tests move by hand. It starts at the real time,
// so the MemProvider's creation times (real) and the service's agree.
type createClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *createClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *createClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// createFixture is a store, a scripted provider and a clock; service
// returns a Service over them, a new one for every "process".
type createFixture struct {
	store provider.Store
	mem   *MemProvider
	p     *scriptedProvider
	clock *createClock
}

func newCreateFixture(s suiteStore, script ...createStep) *createFixture {
	mem := NewMemProvider("mem", "token")
	return &createFixture{store: s, mem: mem, p: &scriptedProvider{MemProvider: mem, script: script},
		clock: &createClock{now: time.Now()}}
}

// service starts a "process": a Service over the fixture's store and
// providers (the scripted one by default).
func (f *createFixture) service(t *testing.T, providers ...provider.Provider) *provider.Service {
	t.Helper()
	if len(providers) == 0 {
		providers = []provider.Provider{f.p}
	}
	svc, err := provider.NewService(f.store, provider.ServiceOptions{
		Providers: providers, Now: f.clock.Now, LinkIntentWindow: createWindow,
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatalf("NewService: %v", err)
	}
	return svc
}

func createParams(key string) provider.CreateLinkParams {
	return provider.CreateLinkParams{
		Title: "Order " + key, Amount: provider.Rupiah(45000), RedirectURL: "https://shop.example/orders/" + key,
		IdempotencyKey: key,
	}
}

// wantLinksAtProvider fails unless the provider holds exactly n links.
func (f *createFixture) wantLinksAtProvider(t *testing.T, n int) []provider.Link {
	t.Helper()
	links := f.mem.Links()
	if len(links) != n {
		t.Fatalf("the provider holds %d links (%v), want %d", len(links), storeLinkIDs(links), n)
	}
	return links
}

// wantStoredUnderKey fails unless the store holds link id under key, and
// the key's intent is completed with it.
func (f *createFixture) wantStoredUnderKey(t *testing.T, key, id string) {
	t.Helper()
	l, err := f.store.GetLinkByIdempotencyKey(storeCtx(t), key)
	if err != nil || l.ID != id {
		t.Fatalf("stored link of key %q: %+v, %v; want link %s", key, l, err, id)
	}
	in, err := f.store.PutLinkIntent(storeCtx(t), provider.LinkIntent{Key: key, Provider: "probe", ParamsHash: "probe"})
	if err != nil || in == nil || in.LinkID != id {
		t.Fatalf("intent of key %q: %+v, %v; want it completed with link %s", key, in, err, id)
	}
}

// wantNothingStoredUnderKey fails if the store holds a link under key.
func (f *createFixture) wantNothingStoredUnderKey(t *testing.T, key string) {
	t.Helper()
	if l, err := f.store.GetLinkByIdempotencyKey(storeCtx(t), key); !errors.Is(err, provider.CodeNotFound) {
		t.Fatalf("stored link of key %q: %+v, %v; want none", key, l, err)
	}
}

// A create with a key asks the provider once; a retry returns the stored
// link without asking again.
func createTestOneProviderCall(t *testing.T, s suiteStore) {
	f := newCreateFixture(s)
	svc := f.service(t)
	first, err := svc.CreateLink(storeCtx(t), "", createParams("order-1"))
	if err != nil {
		t.Fatalf("CreateLink: %v", err)
	}
	again, err := svc.CreateLink(storeCtx(t), "", createParams("order-1"))
	if err != nil {
		t.Fatalf("CreateLink again: %v", err)
	}
	if again.ID != first.ID || again.URL != first.URL {
		t.Fatalf("the retry returned link %s (%s), want %s (%s)", again.ID, again.URL, first.ID, first.URL)
	}
	if n := f.p.calls.Load(); n != 1 {
		t.Fatalf("the provider was asked %d times, want once", n)
	}
	f.wantLinksAtProvider(t, 1)
	f.wantStoredUnderKey(t, "order-1", first.ID)
}

// The same key with other parameters is a conflict that names the key,
// and the provider is not asked.
func createTestConflict(t *testing.T, s suiteStore) {
	f := newCreateFixture(s)
	other := NewMemProvider("mem-2", "token")
	svc := f.service(t, f.p, other)
	first, err := svc.CreateLink(storeCtx(t), "mem", createParams("order-1"))
	if err != nil {
		t.Fatalf("CreateLink: %v", err)
	}
	for name, change := range map[string]func(p *provider.CreateLinkParams){
		"another amount":       func(p *provider.CreateLinkParams) { p.Amount = provider.Rupiah(50000) },
		"another title":        func(p *provider.CreateLinkParams) { p.Title = "Order 2" },
		"another redirect URL": func(p *provider.CreateLinkParams) { p.RedirectURL = "https://shop.example/elsewhere" },
		"another customer":     func(p *provider.CreateLinkParams) { p.Customer.Email = "someone@example.com" },
	} {
		p := createParams("order-1")
		change(&p)
		_, err := svc.CreateLink(storeCtx(t), "mem", p)
		storeWantCode(t, "the same key with "+name, err, provider.CodeConflict)
		if !strings.Contains(err.Error(), `"order-1"`) {
			t.Errorf("the conflict error does not name the key: %v", err)
		}
	}
	_, err = svc.CreateLink(storeCtx(t), "mem-2", createParams("order-1"))
	storeWantCode(t, "the same key with another provider", err, provider.CodeConflict)
	if n := f.p.calls.Load(); n != 1 {
		t.Fatalf("the provider was asked %d times, want once", n)
	}
	if len(other.Links()) != 0 {
		t.Fatal("the other provider made a link for a key already used")
	}
	f.wantLinksAtProvider(t, 1)
	f.wantStoredUnderKey(t, "order-1", first.ID)
}

// The process dies after the provider made the link and before it was
// stored. After a restart, a retry with the same key finds the link at
// the provider and stores it: one link, no second request.
func createTestCrashAfterTheProviderMadeTheLink(t *testing.T, s suiteStore) {
	f := newCreateFixture(s, dieAfter)
	if _, err := f.service(t).CreateLink(storeCtx(t), "", createParams("order-1")); err == nil {
		t.Fatal("the first call succeeded; it was to die")
	}
	made := f.wantLinksAtProvider(t, 1)[0]
	f.wantNothingStoredUnderKey(t, "order-1")

	f.clock.Advance(time.Second) // the restarted process retries at once
	got, err := f.service(t).CreateLink(storeCtx(t), "", createParams("order-1"))
	if err != nil {
		t.Fatalf("the retry: %v", err)
	}
	if got.ID != made.ID || got.IdempotencyKey != "order-1" || got.URL != made.URL {
		t.Fatalf("the retry returned %+v, want the link the provider made first (%s)", got, made.ID)
	}
	f.wantLinksAtProvider(t, 1)
	if n := f.p.calls.Load(); n != 1 {
		t.Fatalf("the provider was asked to create %d times, want once", n)
	}
	f.wantStoredUnderKey(t, "order-1", made.ID)

	// From now on the stored link answers.
	f.clock.Advance(time.Hour)
	again, err := f.service(t).CreateLink(storeCtx(t), "", createParams("order-1"))
	if err != nil || again.ID != made.ID {
		t.Fatalf("a later retry: %+v, %v; want link %s", again, err, made.ID)
	}
	f.wantLinksAtProvider(t, 1)
}

// The process dies after recording the intent but before the request
// left. A retry while the first call could still be running waits; one
// after that creates the link, once.
func createTestCrashBeforeTheProviderMadeTheLink(t *testing.T, s suiteStore) {
	f := newCreateFixture(s, dieBefore)
	if _, err := f.service(t).CreateLink(storeCtx(t), "", createParams("order-1")); err == nil {
		t.Fatal("the first call succeeded; it was to die")
	}
	f.wantLinksAtProvider(t, 0)

	f.clock.Advance(createWindow / 2)
	_, err := f.service(t).CreateLink(storeCtx(t), "", createParams("order-1"))
	storeWantCode(t, "a retry while the first call may still run", err, provider.CodeUnavailable)
	f.wantLinksAtProvider(t, 0)

	f.clock.Advance(createWindow)
	got, err := f.service(t).CreateLink(storeCtx(t), "", createParams("order-1"))
	if err != nil {
		t.Fatalf("a retry after the window: %v", err)
	}
	made := f.wantLinksAtProvider(t, 1)[0]
	if got.ID != made.ID {
		t.Fatalf("the retry returned link %s, the provider holds %s", got.ID, made.ID)
	}
	f.wantStoredUnderKey(t, "order-1", made.ID)
}

// Links stored for other keys are not this key's, however alike.
func createTestRecoveryIgnoresOtherKeysLinks(t *testing.T, s suiteStore) {
	f := newCreateFixture(s, createNormally, dieAfter)
	svc := f.service(t)
	same := createParams("order-1")
	same.IdempotencyKey = "order-1-first-try"
	if _, err := svc.CreateLink(storeCtx(t), "", same); err != nil { // an alike link, stored for another key
		t.Fatalf("CreateLink: %v", err)
	}
	if _, err := svc.CreateLink(storeCtx(t), "", createParams("order-1")); err == nil {
		t.Fatal("the second call succeeded; it was to die")
	}
	links := f.wantLinksAtProvider(t, 2)
	got, err := f.service(t).CreateLink(storeCtx(t), "", createParams("order-1"))
	if err != nil {
		t.Fatalf("the retry: %v", err)
	}
	if got.ID != links[1].ID {
		t.Fatalf("the retry returned link %s, want %s (the other one is stored for another key)", got.ID, links[1].ID)
	}
	f.wantLinksAtProvider(t, 2)
	f.wantStoredUnderKey(t, "order-1", links[1].ID)
}

// Two links at the provider could be the one the dead call made: the
// retry refuses to guess, names them, and creates nothing.
func createTestAmbiguousRecoveryRefuses(t *testing.T, s suiteStore) {
	f := newCreateFixture(s, dieAfter)
	if _, err := f.service(t).CreateLink(storeCtx(t), "", createParams("order-1")); err == nil {
		t.Fatal("the first call succeeded; it was to die")
	}
	stray := createParams("order-1")
	stray.IdempotencyKey = ""
	if _, err := f.mem.CreateLink(storeCtx(t), stray); err != nil { // made by hand in the provider's dashboard
		t.Fatalf("MemProvider.CreateLink: %v", err)
	}
	links := f.wantLinksAtProvider(t, 2)

	for _, wait := range []time.Duration{time.Second, 2 * createWindow} {
		f.clock.Advance(wait)
		_, err := f.service(t).CreateLink(storeCtx(t), "", createParams("order-1"))
		storeWantCode(t, "a retry with two candidate links", err, provider.CodeFailedPrecondition)
		for _, l := range links {
			if !strings.Contains(err.Error(), l.ID) {
				t.Errorf("the error does not name candidate link %s: %v", l.ID, err)
			}
		}
		f.wantLinksAtProvider(t, 2)
		f.wantNothingStoredUnderKey(t, "order-1")
	}
}

// A provider that cannot search its links: while the first call may
// still run, a retry is CodeUnavailable; after the window, the link the
// first call may have made was never returned to anyone, so the Service
// asks again, telling the provider so (KeyNeverReturned), and stores
// the one link it returns: the key is never refused for good.
func createTestNoLinkFinderCreatesAgain(t *testing.T, s suiteStore) {
	f := newCreateFixture(s, dieAfter)
	blind := blindProvider{Provider: f.p}
	if _, ok := any(blind).(provider.LinkFinder); ok {
		t.Fatal("blindProvider is a LinkFinder")
	}
	if _, err := f.service(t, blind).CreateLink(storeCtx(t), "", createParams("order-1")); err == nil {
		t.Fatal("the first call succeeded; it was to die")
	}
	f.clock.Advance(time.Second)
	_, err := f.service(t, blind).CreateLink(storeCtx(t), "", createParams("order-1"))
	storeWantCode(t, "a retry while the first call may still run", err, provider.CodeUnavailable)
	if n := f.p.calls.Load(); n != 1 {
		t.Fatalf("the provider was asked to create %d times within the window, want once", n)
	}

	f.clock.Advance(createWindow)
	got, err := f.service(t, blind).CreateLink(storeCtx(t), "", createParams("order-1"))
	if err != nil {
		t.Fatalf("a retry after the window: %v, want the link", err)
	}
	f.wantLinksAtProvider(t, 2)
	f.wantStoredUnderKey(t, "order-1", got.ID)
	if !f.p.allPromised() {
		t.Fatal("a create with an idempotency key was not marked KeyNeverReturned")
	}
	again, err := f.service(t, blind).CreateLink(storeCtx(t), "", createParams("order-1"))
	if err != nil || again.ID != got.ID {
		t.Fatalf("a later call: %+v, %v; want link %s", again, err, got.ID)
	}
	if n := f.p.calls.Load(); n != 2 {
		t.Fatalf("the provider was asked to create %d times, want twice", n)
	}
}

// A provider's refusal made no link: the key is free again, and the
// caller may fix the parameters and retry with it.
func createTestRefusalFreesTheKey(t *testing.T, s suiteStore) {
	f := newCreateFixture(s, refuse)
	svc := f.service(t)
	_, err := svc.CreateLink(storeCtx(t), "", createParams("order-1"))
	storeWantCode(t, "the refused call", err, provider.CodeInvalidArgument)
	fixed := createParams("order-1")
	fixed.Customer.Email = "budi@example.com"
	got, err := svc.CreateLink(storeCtx(t), "", fixed)
	if err != nil {
		t.Fatalf("the corrected call with the same key: %v", err)
	}
	f.wantLinksAtProvider(t, 1)
	f.wantStoredUnderKey(t, "order-1", got.ID)
}

// Concurrent calls with one key make one link: each returns it, or says
// to retry while the first is running.
func createTestConcurrentCallsMakeOneLink(t *testing.T, s suiteStore) {
	f := newCreateFixture(s)
	f.p.delay = 50 * time.Millisecond
	svc := f.service(t)
	const n = 8
	var wg sync.WaitGroup
	links := make([]*provider.Link, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() { links[i], errs[i] = svc.CreateLink(storeCtx(t), "", createParams("order-1")) })
	}
	wg.Wait()
	made := f.wantLinksAtProvider(t, 1)[0]
	for i := range n {
		switch {
		case errs[i] == nil && links[i].ID != made.ID:
			t.Errorf("call %d returned link %s, want %s", i, links[i].ID, made.ID)
		case errs[i] != nil && !errors.Is(errs[i], provider.CodeUnavailable):
			t.Errorf("call %d: %v, want the link or CodeUnavailable", i, errs[i])
		}
	}
	got, err := svc.CreateLink(storeCtx(t), "", createParams("order-1"))
	if err != nil || got.ID != made.ID {
		t.Fatalf("a retry after all calls returned: %+v, %v; want link %s", got, err, made.ID)
	}
	f.wantStoredUnderKey(t, "order-1", made.ID)
}
