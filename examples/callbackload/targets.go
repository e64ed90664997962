package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"gorm.io/gorm"

	"github.com/paylinkgo/paylink/flip"
	"github.com/paylinkgo/paylink/flip/fliptest"
	"github.com/paylinkgo/paylink/ginadapter"
	"github.com/paylinkgo/paylink/gormstore"
	"github.com/paylinkgo/paylink/provider"
)

// newBare is the ceiling: a Gin route that parses the form and answers 200.
// It touches no database; its link ids are only names.
func newBare(links int) (*target, error) {
	return &target{
		mount: func(r gin.IRouter) error {
			r.POST(callbackPath, func(c *gin.Context) {
				if err := c.Request.ParseForm(); err != nil {
					c.Status(http.StatusBadRequest)
					return
				}
				c.Status(http.StatusOK)
			})
			return nil
		},
		links: numericIDs(links),
	}, nil
}

// numericIDs returns n distinct 19-digit ids, the shape of Flip's bill ids.
func numericIDs(n int) []string {
	const base = 2_600_000_000_000_000_000
	ids := make([]string, n)
	for i := range ids {
		ids[i] = strconv.FormatInt(base+int64(i), 10)
	}
	return ids
}

// hookName names paylink's success hook in the store.
const hookName = "callbackload.noop"

// newPaylink is paylink's own callback route, wired as an app would wire
// it: gormstore after Migrate, the flip provider (against the in-process
// fake Flip, where the links are created), a success hook, hooks running.
func newPaylink(ctx context.Context, db *gorm.DB, token string, links int, obs provider.Observer) (*target, error) {
	if err := gormstore.Migrate(ctx, db); err != nil {
		return nil, fmt.Errorf("migrating: %w", err)
	}
	store, err := gormstore.New(db, gormstore.Options{})
	if err != nil {
		return nil, err
	}
	fake := fliptest.NewServer(fliptest.Options{SecretKey: rand.Text(), CallbackToken: token, LongIDs: true})
	p := flip.NewProvider(fake.Client(), flip.ProviderOptions{CallbackToken: token})
	// The load compares the callback pipeline with a hand-written handler
	// that trusts the token, so neither confirms with the provider here:
	// the fake's payments are made up by the load, and a real confirmation
	// is a network call the comparison would only measure the fake by.
	// Production keeps verification on (the default).
	svc, err := provider.NewService(store, provider.ServiceOptions{Providers: []provider.Provider{p}, Observer: obs,
		InsecureSkipVerify: true, Logger: slog.New(slog.DiscardHandler)}) // the hand-written handler logs nothing either
	if err != nil {
		fake.Close()
		return nil, err
	}
	hooks := newHookRecorder()
	err = svc.On(hookName, provider.When(provider.PaymentSuccessful), func(_ context.Context, ev *provider.HookEvent) error {
		hooks.record(ev.Payment.ID, time.Since(ev.OccurredAt))
		return nil
	})
	if err != nil {
		fake.Close()
		return nil, err
	}
	ids, err := createLinks(ctx, svc, links)
	if err != nil {
		fake.Close()
		return nil, err
	}
	if err := svc.Start(ctx); err != nil {
		fake.Close()
		return nil, err
	}
	return &target{
		mount: func(r gin.IRouter) error { return ginadapter.Mount(r, svc, ginadapter.DefaultConfig()) },
		links: ids,
		hooks: hooks,
		backlog: func(ctx context.Context, limit int) (backlog, error) {
			var b backlog
			for state, n := range map[provider.HookRunState]*int{
				provider.HookRunPending: &b.Pending, provider.HookRunRetrying: &b.Retrying, provider.HookRunFailed: &b.Failed,
			} {
				runs, err := svc.Store().(provider.Reader).ListHookRuns(ctx, provider.HookRunFilter{Hook: hookName, State: state, Limit: limit})
				if err != nil {
					return b, err
				}
				*n = len(runs)
			}
			return b, nil
		},
		stop: func(ctx context.Context) error {
			defer fake.Close()
			return svc.Stop(ctx)
		},
	}, nil
}

// createLinks creates n MULTIPLE open-amount links (step 1, amount 0: the
// customer chooses, and provider.Service accepts any positive amount)
// through the service, so they exist at the fake Flip and in the store.
func createLinks(ctx context.Context, svc *provider.Service, n int) ([]string, error) {
	const workers = 4
	ids := make([]string, n)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < n && errs[w] == nil; i += workers {
				link, err := svc.CreateLink(ctx, "", provider.CreateLinkParams{
					Title: fmt.Sprintf("Load test %d", i+1), Type: provider.LinkMultiple,
				})
				if err != nil {
					errs[w] = fmt.Errorf("creating link %d: %w", i+1, err)
					break
				}
				ids[i] = link.ID
			}
		})
	}
	wg.Wait()
	return ids, errors.Join(errs...)
}
