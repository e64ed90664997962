package providertest

import (
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/paylinkgo/paylink/provider"
)

// storeIntent is a pending intent as Service.CreateLink records it.
func storeIntent(key string) provider.LinkIntent {
	p := provider.CreateLinkParams{Title: "Order " + key, Amount: provider.Rupiah(45000), IdempotencyKey: key}
	return provider.LinkIntent{
		Key: key, Provider: "test", ParamsHash: p.Fingerprint(),
		Title: p.Title, Type: provider.LinkSingle, Amount: p.Amount, CreatedAt: storeBase,
	}
}

// storeSameIntent compares intents field by field, times with Equal.
func storeSameIntent(t *testing.T, what string, got *provider.LinkIntent, want provider.LinkIntent) {
	t.Helper()
	if got == nil {
		t.Fatalf("%s: got no intent, want %+v", what, want)
	}
	g := *got
	if !g.CreatedAt.Equal(want.CreatedAt) || !g.CompletedAt.Equal(want.CompletedAt) {
		t.Errorf("%s: CreatedAt, CompletedAt = %v, %v; want %v, %v", what, g.CreatedAt, g.CompletedAt, want.CreatedAt, want.CompletedAt)
	}
	g.CreatedAt, g.CompletedAt, want.CreatedAt, want.CompletedAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	if !reflect.DeepEqual(g, want) {
		t.Errorf("%s:\n got %+v\nwant %+v", what, g, want)
	}
}

// storeReadIntent reads the intent stored under in.Key through
// PutLinkIntent, the contract's only read of intents: when none is stored,
// in is stored and nil returned.
func storeReadIntent(t *testing.T, s suiteStore, in provider.LinkIntent) *provider.LinkIntent {
	t.Helper()
	got, err := s.PutLinkIntent(storeCtx(t), in)
	if err != nil {
		t.Fatalf("PutLinkIntent(%q): %v", in.Key, err)
	}
	return got
}

// The first intent for a key is stored; any later one, whatever its
// provider or parameters, gets the first back, unchanged.
func storeTestLinkIntentPutOnce(t *testing.T, s suiteStore) {
	first := storeIntent("order-1")
	if got := storeReadIntent(t, s, first); got != nil {
		t.Fatalf("first PutLinkIntent returned %+v, want nil (stored)", got)
	}
	other := first
	other.Provider, other.ParamsHash, other.Title = "other", "a-different-hash", "Something else"
	other.Amount, other.CreatedAt = provider.Rupiah(99000), storeBase.Add(time.Hour)
	storeSameIntent(t, "PutLinkIntent of a used key", storeReadIntent(t, s, other), first)

	if got := storeReadIntent(t, s, storeIntent("order-2")); got != nil {
		t.Fatalf("PutLinkIntent of another key returned %+v, want nil", got)
	}

	for _, bad := range []provider.LinkIntent{
		{Provider: "test", ParamsHash: "h"},
		{Key: "k", ParamsHash: "h"},
		{Key: "k", Provider: "test"},
	} {
		_, err := s.PutLinkIntent(storeCtx(t), bad)
		storeWantCode(t, fmt.Sprintf("PutLinkIntent(%+v)", bad), err, provider.CodeInvalidArgument)
	}
}

// Of concurrent PutLinkIntent calls with one key, one stores its intent
// and every other one gets that intent back.
func storeTestLinkIntentConcurrent(t *testing.T, s suiteStore) {
	const n = 8
	var wg sync.WaitGroup
	got := make([]*provider.LinkIntent, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			in := storeIntent("race")
			in.ParamsHash = fmt.Sprintf("hash-%d", i)
			got[i], errs[i] = s.PutLinkIntent(storeCtx(t), in)
		})
	}
	wg.Wait()
	winner := -1
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("call %d: %v", i, errs[i])
		}
		if got[i] == nil {
			if winner >= 0 {
				t.Fatalf("calls %d and %d both stored an intent for one key", winner, i)
			}
			winner = i
		}
	}
	if winner < 0 {
		t.Fatal("no call stored its intent")
	}
	for i := range n {
		if got[i] != nil && got[i].ParamsHash != fmt.Sprintf("hash-%d", winner) {
			t.Errorf("call %d got hash %q, want the stored intent's %q", i, got[i].ParamsHash, fmt.Sprintf("hash-%d", winner))
		}
	}
}

// Completing records the link once; another link is a conflict.
func storeTestLinkIntentComplete(t *testing.T, s suiteStore) {
	ctx := storeCtx(t)
	in := storeIntent("order-c")
	storeReadIntent(t, s, in)
	l := storeLink("link-1")
	storeSave(t, s, provider.LinkWrite{Provider: "test", ID: l.ID, Link: &l, IntentKey: in.Key})
	got := storeReadIntent(t, s, storeIntent("order-c"))
	if !got.Completed() || got.CompletedAt.IsZero() {
		t.Fatalf("intent %+v after SaveLink, want completed", got)
	}
	want := in
	want.LinkID, want.CompletedAt = "link-1", got.CompletedAt
	storeSameIntent(t, "the completed intent", got, want)

	storeSave(t, s, provider.LinkWrite{Provider: "test", ID: "link-1", IntentKey: in.Key})
	storeSameIntent(t, "after completing again", storeReadIntent(t, s, in), want)

	l2 := storeLink("link-2")
	err := s.SaveLink(ctx, &provider.LinkWrite{Provider: "test", ID: l2.ID, Link: &l2, IntentKey: in.Key})
	storeWantCode(t, "completing with another link", err, provider.CodeConflict)
	storeSameIntent(t, "after the refused completion", storeReadIntent(t, s, in), want)

	err = s.SaveLink(ctx, &provider.LinkWrite{Provider: "test", ID: "link-1", IntentKey: "no-such-key"})
	storeWantCode(t, "completing an unknown key", err, provider.CodeNotFound)
}

// Deleting frees a pending intent's key; a completed intent stays.
func storeTestLinkIntentDelete(t *testing.T, s suiteStore) {
	ctx := storeCtx(t)
	in := storeIntent("order-d")
	storeReadIntent(t, s, in)
	if err := s.DeleteLinkIntent(ctx, in.Key); err != nil {
		t.Fatalf("DeleteLinkIntent: %v", err)
	}
	again := in
	again.ParamsHash = "new-params"
	if got := storeReadIntent(t, s, again); got != nil {
		t.Fatalf("PutLinkIntent after the delete returned %+v, want nil (the key is free)", got)
	}
	if err := s.DeleteLinkIntent(ctx, "no-such-key"); err != nil {
		t.Errorf("deleting an unknown key: %v, want nil", err)
	}

	ld := storeLink("link-d")
	storeSave(t, s, provider.LinkWrite{Provider: "test", ID: ld.ID, Link: &ld, IntentKey: in.Key})
	err := s.DeleteLinkIntent(ctx, in.Key)
	storeWantCode(t, "deleting a completed intent", err, provider.CodeFailedPrecondition)
	want := again
	want.LinkID, want.CompletedAt = "link-d", storeReadIntent(t, s, in).CompletedAt
	storeSameIntent(t, "the completed intent after a refused delete", storeReadIntent(t, s, in), want)
}

// A link and its intent are saved in one write: the intent is completed
// exactly when the link is stored.
func storeTestLinkIntentSavedWithLink(t *testing.T, s suiteStore) {
	in := storeIntent("order-tx")
	storeReadIntent(t, s, in)
	link := storeLink("tx-link")
	link.IdempotencyKey = "order-tx"
	storeSave(t, s, provider.LinkWrite{Provider: "test", ID: link.ID, Link: &link, IntentKey: in.Key})
	got := storeReadIntent(t, s, in)
	if got.LinkID != link.ID || !got.Completed() {
		t.Fatalf("intent after saving its link: %+v, want completed by %s", got, link.ID)
	}
	stored, err := s.GetLink(storeCtx(t), "test", link.ID)
	if err != nil || stored.IdempotencyKey != "order-tx" {
		t.Fatalf("stored link %+v, %v; want it with its key", stored, err)
	}
}
