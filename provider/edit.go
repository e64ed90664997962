package provider

import (
	"cmp"
	"context"
	"errors"
)

// EditLink changes a stored link at the provider (when it implements
// [LinkEditor]), handing it the link as stored (Raw included), and stores
// what the provider answers, so the store and the reconciler see the
// change. A provider without the capability gives an error matching
// CodeUnimplemented and errors.ErrUnsupported.
func (s *Service) EditLink(ctx context.Context, providerName, linkID string, params EditLinkParams) (*Link, error) {
	p, err := s.lookup(providerName)
	if err != nil {
		return nil, err
	}
	stored, err := s.store.GetLink(ctx, p.Name(), linkID)
	if err != nil {
		return nil, err
	}
	fresh, err := EditLink(ctx, p, stored, params)
	if err != nil {
		return nil, err
	}
	// Only an edit that asks for an open amount may make one: an answer
	// without an amount must not turn a fixed-amount link into one that
	// accepts any payment.
	open := params.Amount != nil && params.Amount.Amount == 0
	return s.restoreLink(ctx, p, linkID, fresh, open)
}

// DeactivateLink stops a stored link from taking payments at the provider
// (handed the link as stored, Raw included, so that it works on any
// replica and after a restart) and marks it INACTIVE in the store, so the
// reconciler stops visiting it. Payments already made on it are still
// applied when their news arrives.
func (s *Service) DeactivateLink(ctx context.Context, providerName, linkID string) (*Link, error) {
	p, err := s.lookup(providerName)
	if err != nil {
		return nil, err
	}
	stored, err := s.store.GetLink(ctx, p.Name(), linkID)
	if err != nil {
		return nil, err
	}
	fresh, err := DeactivateLink(ctx, p, stored)
	if err != nil {
		return nil, err
	}
	fresh.Status = LinkInactive
	return s.restoreLink(ctx, p, linkID, fresh, false)
}

// restoreLink stores the provider's answer over the stored link, keeping
// what only the store knows (the idempotency key, creation time) and what
// the provider's answer may leave out.
func (s *Service) restoreLink(ctx context.Context, p Provider, linkID string, fresh *Link, openAmount bool) (*Link, error) {
	for conflicts := 0; ; conflicts++ {
		cur, err := s.store.GetLink(ctx, p.Name(), linkID)
		if err != nil {
			return nil, err
		}
		next := *cur
		next.Title = cmp.Or(fresh.Title, cur.Title)
		next.Type = cmp.Or(fresh.Type, cur.Type)
		next.Status = cmp.Or(fresh.Status, cur.Status)
		next.URL = cmp.Or(fresh.URL, cur.URL)
		next.RedirectURL = cmp.Or(fresh.RedirectURL, cur.RedirectURL)
		next.PaymentURL = cmp.Or(fresh.PaymentURL, cur.PaymentURL)
		// An answer without an amount keeps the stored one, unless the
		// caller asked for an open amount.
		switch {
		case fresh.Amount.Amount > 0:
			next.Amount.Amount = fresh.Amount.Amount
		case openAmount:
			next.Amount.Amount = 0
		}
		if fresh.Amount.Currency != "" {
			next.Amount.Currency = fresh.Amount.Currency
		}
		next.ExpiresAt = fresh.ExpiresAt
		if len(fresh.Raw) > 0 {
			next.Raw = fresh.Raw
		}
		// Written only over the link as read: a concurrent change (a
		// payment closing a SINGLE link, another edit) is read and merged
		// again rather than overwritten.
		err = s.store.SaveLink(ctx, &LinkWrite{Provider: cur.Provider, ID: cur.ID, Link: &next, PreviousUpdatedAt: cur.UpdatedAt})
		if errors.Is(err, ErrWriteConflict) && conflicts < maxApplyConflicts {
			continue
		}
		if err != nil {
			return nil, err
		}
		return &next, nil
	}
}
