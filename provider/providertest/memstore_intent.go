package providertest

import (
	"context"
	"time"

	"github.com/paylinkgo/paylink/provider"
)

// PutLinkIntent implements provider.Store.
func (s *MemStore) PutLinkIntent(ctx context.Context, in provider.LinkIntent) (existing *provider.LinkIntent, err error) {
	const op = "providertest.MemStore.PutLinkIntent"
	if in.Key == "" || in.Provider == "" || in.ParamsHash == "" {
		return nil, provider.Errorf(provider.CodeInvalidArgument, op, "an intent needs a key, a provider and a parameter hash")
	}
	err = s.do(ctx, func(tx *memTx) error {
		if cur, ok := tx.st.intents[in.Key]; ok {
			existing = &cur
			return nil
		}
		setKey(tx, tx.st.intents, in.Key, in)
		return nil
	})
	return existing, err
}

// completeIntent records that the intent with key made the link linkID.
func (tx *memTx) completeIntent(key, linkID string, at time.Time) error {
	const op = "providertest.MemStore.SaveLink"
	in, ok := tx.st.intents[key]
	switch {
	case !ok:
		return notFound("link intent", key)
	case in.LinkID == linkID:
		return nil
	case in.LinkID != "":
		return provider.Errorf(provider.CodeConflict, op, "the intent with key %q was completed with link %q", key, in.LinkID)
	}
	in.LinkID, in.CompletedAt = linkID, at
	setKey(tx, tx.st.intents, key, in)
	return nil
}

// DeleteLinkIntent implements provider.Store.
func (s *MemStore) DeleteLinkIntent(ctx context.Context, key string) error {
	return s.do(ctx, func(tx *memTx) error {
		in, ok := tx.st.intents[key]
		if !ok {
			return nil
		}
		if in.Completed() {
			return provider.Errorf(provider.CodeFailedPrecondition, "providertest.MemStore.DeleteLinkIntent",
				"the intent with key %q is completed (link %q)", key, in.LinkID)
		}
		delete(tx.st.intents, key)
		tx.onRollback(func() { tx.st.intents[key] = in })
		return nil
	})
}
