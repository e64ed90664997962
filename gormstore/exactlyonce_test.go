package gormstore_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/paylinkgo/paylink/gormstore"
	"github.com/paylinkgo/paylink/provider"
	"github.com/paylinkgo/paylink/provider/providertest"
)

// hookLog counts hook calls per event and hook, as the application's side
// effects would ("receipts sent").
type hookLog struct {
	mu    sync.Mutex
	calls map[string]int
	keys  map[string]map[string]bool // event/hook -> idempotency keys seen
}

func newHookLog() *hookLog {
	return &hookLog{calls: map[string]int{}, keys: map[string]map[string]bool{}}
}

func (h *hookLog) add(hook string, ev *provider.HookEvent) {
	h.mu.Lock()
	defer h.mu.Unlock()
	k := ev.ID + "/" + hook
	h.calls[k]++
	if h.keys[k] == nil {
		h.keys[k] = map[string]bool{}
	}
	h.keys[k][ev.IdempotencyKey] = true
}

func (h *hookLog) count(eventID, hook string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.calls[eventID+"/"+hook]
}

func fastPolicy() provider.HookPolicy {
	return provider.HookPolicy{
		MaxAttempts: 3,
		Backoff:     func(int) time.Duration { return 10 * time.Millisecond },
		Timeout:     30 * time.Second,
	}
}

// newService returns a started Service on store with the given hooks.
func newService(t *testing.T, store provider.Store, p provider.Provider, register func(*provider.Service)) *provider.Service {
	t.Helper()
	svc, err := provider.NewService(store, provider.ServiceOptions{
		Providers: []provider.Provider{p}, HookPolicy: fastPolicy(), Logger: testLogger(),
		InsecureSkipVerify: true, // the tests feed synthetic events; they check claims and hook runs
	})
	if err != nil {
		t.Fatalf("NewService: %v", err)
	}
	register(svc)
	if err := svc.Start(context.Background()); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := svc.Stop(ctx); err != nil {
			t.Errorf("Stop: %v", err)
		}
	})
	return svc
}

// waitRuns polls until every run of the event is in state, and returns them.
func waitRuns(t *testing.T, s provider.Reader, eventID string, want int, state provider.HookRunState) []provider.HookRun {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		runs, err := s.ListHookRuns(context.Background(), provider.HookRunFilter{EventID: eventID})
		if err != nil {
			t.Fatalf("ListHookRuns: %v", err)
		}
		done := len(runs) == want
		for _, r := range runs {
			done = done && r.State == state
		}
		if done {
			return runs
		}
		if time.Now().After(deadline) {
			t.Fatalf("event %s: runs %+v, want %d %s within 30 s", eventID, runs, want, state)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func successEvent(providerName string, link *provider.Link, paymentID string) provider.Event {
	return provider.Event{
		Provider: providerName, Source: provider.SourceCallback,
		Payment: provider.Payment{
			ID: paymentID, LinkID: link.ID, Amount: link.Amount,
			Status: provider.PaymentSuccessful, RawStatus: "SUCCESSFUL",
		},
		Raw: []byte(`{"id":"` + paymentID + `"}`),
	}
}

// The same SUCCESSFUL callback applied 50 times at once fires the hook once.
func TestExactlyOnceUnderConcurrentDuplicates(t *testing.T) {
	t.Parallel()
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			store := migrated(t, b.open(t))
			log := newHookLog()
			mem := providertest.NewMemProvider("mem", "token")
			svc := newService(t, store, mem, func(svc *provider.Service) {
				svc.On("send_receipt", provider.When(provider.PaymentSuccessful), func(_ context.Context, ev *provider.HookEvent) error {
					log.add("send_receipt", ev)
					return nil
				})
			})
			ctx := context.Background()
			link, err := svc.CreateLink(ctx, "mem", provider.CreateLinkParams{Title: "Order 1", Amount: provider.Rupiah(45000)})
			if err != nil {
				t.Fatalf("CreateLink: %v", err)
			}

			const n = 50
			verdicts := make([]provider.Verdict, n)
			errs := make([]error, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() {
					ev := successEvent("mem", link, "pay-1")
					out, err := svc.ApplyEvent(ctx, &ev)
					verdicts[i], errs[i] = out.Verdict, err
				})
			}
			wg.Wait()
			applied := 0
			for i := range n {
				if errs[i] != nil {
					t.Fatalf("ApplyEvent #%d: %v", i, errs[i])
				}
				if verdicts[i] == provider.VerdictApplied {
					applied++
				} else if verdicts[i] != provider.VerdictDuplicate {
					t.Errorf("ApplyEvent #%d: verdict %s, want applied or duplicate", i, verdicts[i])
				}
			}
			if applied != 1 {
				t.Fatalf("%d of %d identical callbacks applied, want exactly 1", applied, n)
			}

			eventID := provider.EventKey{Provider: "mem", PaymentID: "pay-1", Status: provider.PaymentSuccessful}.String()
			runs := waitRuns(t, store, eventID, 1, provider.HookRunSucceeded)
			if got := log.count(eventID, "send_receipt"); got != 1 {
				t.Fatalf("hook fired %d times, want once", got)
			}
			if runs[0].Attempts != 1 {
				t.Errorf("run %+v, want 1 attempt", runs[0])
			}
			cbs, err := store.ListCallbacks(ctx, provider.CallbackFilter{PaymentID: "pay-1"})
			if err != nil || len(cbs) != n {
				t.Errorf("callbacks recorded: %d, %v; want all %d", len(cbs), err, n)
			}
		})
	}
}

// Three replicas (three *gorm.DB, one schema) receive the callbacks, each
// repeated on every replica; every hook fires once per event.
func TestExactlyOnceAcrossReplicas(t *testing.T) {
	t.Parallel()
	dsn := newSchema(t)
	const replicas, links = 3, 8
	dbs := make([]*gorm.DB, replicas)
	for i := range dbs {
		dbs[i] = openPostgres(t, dsn)
	}
	ctx := context.Background()
	var wg sync.WaitGroup
	migrateErrs := make([]error, replicas)
	for i, db := range dbs {
		wg.Go(func() { migrateErrs[i] = gormstore.Migrate(ctx, db) })
	}
	wg.Wait()
	if err := errors.Join(migrateErrs...); err != nil {
		t.Fatalf("Migrate: %v", err)
	}

	log := newHookLog()
	hooks := []string{"mark_paid", "send_receipt"}
	gateway := providertest.NewMemProvider("mem", "token") // the one gateway all replicas talk to
	svcs := make([]*provider.Service, replicas)
	stores := make([]*gormstore.Store, replicas)
	for i, db := range dbs {
		s, err := gormstore.New(db, testOptions())
		if err != nil {
			t.Fatalf("New: %v", err)
		}
		stores[i] = s
		svcs[i] = newService(t, s, gateway, func(svc *provider.Service) {
			for _, h := range hooks {
				svc.On(h, provider.When(provider.PaymentSuccessful), func(_ context.Context, ev *provider.HookEvent) error {
					log.add(h, ev)
					return nil
				})
			}
		})
	}

	var created []*provider.Link
	for i := range links {
		l, err := svcs[i%replicas].CreateLink(ctx, "mem", provider.CreateLinkParams{
			Title: fmt.Sprintf("Order %d", i), Amount: provider.Rupiah(int64(10000 + i)),
		})
		if err != nil {
			t.Fatalf("CreateLink: %v", err)
		}
		created = append(created, l)
	}
	// Every callback reaches every replica, all at once.
	var (
		mu      sync.Mutex
		applied = make([]int, links)
		errs    []error
	)
	for i, l := range created {
		for r := range replicas {
			wg.Go(func() {
				ev := successEvent("mem", l, fmt.Sprintf("pay-%d", i))
				out, err := svcs[r].ApplyEvent(ctx, &ev)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err != nil:
					errs = append(errs, fmt.Errorf("replica %d, link %d: %w", r, i, err))
				case out.Verdict == provider.VerdictApplied:
					applied[i]++
				case out.Verdict != provider.VerdictDuplicate:
					errs = append(errs, fmt.Errorf("replica %d, link %d: verdict %s", r, i, out.Verdict))
				}
			})
		}
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	for i, n := range applied {
		if n != 1 {
			t.Errorf("link %d: applied by %d replicas, want exactly 1", i, n)
		}
	}

	for i := range created {
		eventID := provider.EventKey{Provider: "mem", PaymentID: fmt.Sprintf("pay-%d", i), Status: provider.PaymentSuccessful}.String()
		waitRuns(t, stores[0], eventID, len(hooks), provider.HookRunSucceeded)
		for _, h := range hooks {
			if got := log.count(eventID, h); got != 1 {
				t.Errorf("%s: hook %s fired %d times, want once", eventID, h, got)
			}
		}
	}
}

// A hook that fails is retried; one that keeps failing ends FAILED, stays
// visible, and runs again after RetryHookRun.
func TestFailingHooksThroughService(t *testing.T) {
	t.Parallel()
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			store := migrated(t, b.open(t))
			log := newHookLog()
			var mu sync.Mutex
			brokenFixed := false
			svc := newService(t, store, providertest.NewMemProvider("mem", "token"), func(svc *provider.Service) {
				svc.On("flaky", provider.When(provider.PaymentSuccessful), func(_ context.Context, ev *provider.HookEvent) error {
					log.add("flaky", ev)
					if ev.Attempt < 2 {
						return errors.New("temporary failure")
					}
					return nil
				})
				svc.On("broken", provider.When(provider.PaymentSuccessful), func(_ context.Context, ev *provider.HookEvent) error {
					log.add("broken", ev)
					mu.Lock()
					defer mu.Unlock()
					if !brokenFixed {
						return errors.New("mail server down")
					}
					return nil
				})
			})
			ctx := context.Background()
			link, err := svc.CreateLink(ctx, "mem", provider.CreateLinkParams{Title: "Order", Amount: provider.Rupiah(45000)})
			if err != nil {
				t.Fatalf("CreateLink: %v", err)
			}
			ev := successEvent("mem", link, "pay-f")
			if _, err := svc.ApplyEvent(ctx, &ev); err != nil {
				t.Fatalf("ApplyEvent: %v", err)
			}
			eventID := ev.Key().String()

			waitFor := func(hook string, state provider.HookRunState) provider.HookRun {
				t.Helper()
				deadline := time.Now().Add(30 * time.Second)
				for {
					runs, err := store.ListHookRuns(ctx, provider.HookRunFilter{EventID: eventID, Hook: hook})
					if err != nil {
						t.Fatalf("ListHookRuns: %v", err)
					}
					if len(runs) == 1 && runs[0].State == state {
						return runs[0]
					}
					if time.Now().After(deadline) {
						t.Fatalf("hook %s: runs %+v, want one %s within 30 s", hook, runs, state)
					}
					time.Sleep(20 * time.Millisecond)
				}
			}
			if run := waitFor("flaky", provider.HookRunSucceeded); run.Attempts != 2 {
				t.Errorf("flaky: %+v, want success on attempt 2", run)
			}
			failed := waitFor("broken", provider.HookRunFailed)
			if failed.Attempts != 3 || failed.LastError == "" {
				t.Errorf("broken: %+v, want 3 attempts and the last error", failed)
			}
			if got, err := store.ListHookRuns(ctx, provider.HookRunFilter{State: provider.HookRunFailed}); err != nil || len(got) != 1 {
				t.Errorf("failed runs listed: %d, %v; want 1", len(got), err)
			}

			mu.Lock()
			brokenFixed = true
			mu.Unlock()
			if _, err := svc.Act(ctx, provider.Action{Kind: provider.ActionRetryHookRun, Actor: "test", HookRunID: failed.ID}); err != nil {
				t.Fatalf("retrying the hook run: %v", err)
			}
			waitFor("broken", provider.HookRunSucceeded)
			if got := log.count(eventID, "broken"); got != 4 {
				t.Errorf("broken hook called %d times, want 3 failures + 1 success", got)
			}
			log.mu.Lock()
			keys := len(log.keys[eventID+"/broken"])
			log.mu.Unlock()
			if keys != 1 {
				t.Errorf("broken hook saw %d idempotency keys across attempts, want 1", keys)
			}
		})
	}
}
