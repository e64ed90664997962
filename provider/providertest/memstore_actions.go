package providertest

import (
	"cmp"
	"context"
	"slices"

	"github.com/paylinkgo/paylink/provider"
)

// RecordAction implements provider.ActionLog.
func (s *MemStore) RecordAction(ctx context.Context, a *provider.OperatorAction) error {
	if a.Kind == "" || a.Actor == "" {
		return provider.Errorf(provider.CodeInvalidArgument, "providertest.MemStore.RecordAction", "an action needs a kind and an actor")
	}
	return s.do(ctx, func(tx *memTx) error {
		a.ID = tx.nextID()
		push(tx, &tx.st.actions, *a)
		return nil
	})
}

// ListActions implements provider.ActionLog.
func (s *MemStore) ListActions(ctx context.Context, f provider.ActionFilter) (out []provider.OperatorAction, err error) {
	if len(f.CallbackIDs) > provider.MaxActionFilterIDs {
		return nil, provider.Errorf(provider.CodeInvalidArgument, "providertest.ListActions", "more than %d callback ids", provider.MaxActionFilterIDs)
	}
	s.read(ctx, func(st *memState) {
		all := slices.Clone(st.actions)
		slices.SortStableFunc(all, func(a, b provider.OperatorAction) int {
			return cmp.Or(b.At.Compare(a.At), cmp.Compare(b.ID, a.ID))
		})
		for _, a := range all {
			if (f.Kind == "" || a.Kind == f.Kind) && (f.Actor == "" || a.Actor == f.Actor) &&
				(f.Provider == "" || a.Provider == f.Provider) && (f.CallbackID == 0 || a.CallbackID == f.CallbackID) &&
				(f.PaymentID == "" || a.PaymentID == f.PaymentID) && (f.LinkID == "" || a.LinkID == f.LinkID) &&
				(f.HookRunID == 0 || a.HookRunID == f.HookRunID) &&
				(len(f.CallbackIDs) == 0 || slices.Contains(f.CallbackIDs, a.CallbackID)) {
				out = append(out, a)
				if f.Limit > 0 && len(out) == f.Limit {
					return
				}
			}
		}
	})
	return out, nil
}
