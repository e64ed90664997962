package provider

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// DefaultLinkIntentWindow is the default ServiceOptions.LinkIntentWindow:
// a create with an idempotency key is given up to one minute at the
// provider (Flip's client times out after 30 s), and one more for the
// clocks of two replicas to disagree.
const DefaultLinkIntentWindow = 2 * time.Minute

// intentClockSkew is how far behind the store's clock a provider's clock
// may be: a link made for an intent may carry a creation time up to this
// much before the intent's.
const intentClockSkew = 5 * time.Minute

const opCreate = "provider.CreateLink"

// createOnce creates the link of params.IdempotencyKey, or finds it (see
// CreateLink).
func (s *Service) createOnce(ctx context.Context, p Provider, params CreateLinkParams) (*Link, error) {
	in := LinkIntent{
		Key: params.IdempotencyKey, Provider: p.Name(), ParamsHash: params.Fingerprint(),
		Title: params.Title, Type: params.Type, Amount: params.Amount, CreatedAt: s.now(),
	}
	prev, err := s.store.PutLinkIntent(ctx, in)
	if err != nil {
		return nil, &Error{Op: opCreate, Message: "recording the intent to create a link failed", Err: err}
	}
	if prev != nil {
		return s.resumeIntent(ctx, p, params, &in, prev)
	}
	// A link stored under the key before intents were recorded.
	if l, err := s.linkByKey(ctx, p, in.Key); err != nil || l != nil {
		if l != nil {
			s.completeIntent(ctx, in.Key, l)
		}
		return l, err
	}
	return s.createAndStore(ctx, p, params, &in)
}

// resumeIntent answers a call whose key has an intent already, prev.
func (s *Service) resumeIntent(ctx context.Context, p Provider, params CreateLinkParams, in, prev *LinkIntent) (*Link, error) {
	switch {
	case prev.Provider != in.Provider:
		return nil, Errorf(CodeConflict, opCreate, "idempotency key %q was used with provider %q", in.Key, prev.Provider)
	case prev.ParamsHash != in.ParamsHash:
		return nil, Errorf(CodeConflict, opCreate, "idempotency key %q was used with different parameters", in.Key)
	}
	if prev.Completed() {
		l, err := s.store.GetLink(ctx, prev.Provider, prev.LinkID)
		if !errors.Is(err, CodeNotFound) {
			return l, err
		}
	}
	l, err := s.linkByKey(ctx, p, in.Key)
	switch {
	case err != nil:
		return nil, err
	case l != nil:
		if !prev.Completed() {
			s.completeIntent(ctx, in.Key, l)
		}
		return l, nil
	case prev.Completed():
		return nil, Errorf(CodeFailedPrecondition, opCreate,
			"idempotency key %q made link %q at %s, and the store no longer has it", in.Key, prev.LinkID, prev.Provider)
	}
	return s.recoverIntent(ctx, p, params, prev)
}

// recoverIntent deals with a pending intent: an earlier call recorded it
// and stored no link. The provider may hold the link or not.
func (s *Service) recoverIntent(ctx context.Context, p Provider, params CreateLinkParams, in *LinkIntent) (*Link, error) {
	age := s.now().Sub(in.CreatedAt)
	running := age < s.window
	finder, ok := p.(LinkFinder)
	if !ok {
		if running {
			return nil, s.stillRunning(in, age)
		}
		// The earlier call is over, and whatever it made at the provider
		// was never returned: create the link (the provider is told so,
		// see CreateLinkParams.KeyNeverReturned).
		s.log.InfoContext(ctx, "paylink: an unfinished link create stored nothing; creating it again",
			"provider", p.Name(), "idempotency_key", in.Key)
		return s.createAndStore(ctx, p, params, in)
	}
	q := LinkQuery{Title: in.Title, Type: in.Type, Amount: in.Amount, CreatedFrom: in.CreatedAt.Add(-intentClockSkew)}
	found, err := finder.FindLinks(ctx, q)
	if err != nil {
		return nil, &Error{Op: opCreate, Err: err,
			Message: fmt.Sprintf("looking at %q for the link of idempotency key %q failed", in.Provider, in.Key)}
	}
	var candidates []Link
	for i := range found {
		l := &found[i]
		if l.ID == "" || !q.Matches(l) {
			continue
		}
		stored, err := s.store.GetLink(ctx, p.Name(), l.ID)
		switch {
		case errors.Is(err, CodeNotFound):
			candidates = append(candidates, *l)
		case err != nil:
			return nil, err
		case stored.IdempotencyKey == in.Key:
			// Stored since this call looked (a concurrent call did it).
			s.completeIntent(ctx, in.Key, stored)
			return stored, nil
		}
		// Otherwise the store holds it for another key: not this one.
	}
	switch len(candidates) {
	case 1:
		return s.adopt(ctx, p, in, &candidates[0])
	case 0:
		if running {
			return nil, s.stillRunning(in, age)
		}
		s.log.InfoContext(ctx, "paylink: an unfinished link create made no link at the provider; creating it",
			"provider", p.Name(), "idempotency_key", in.Key)
		return s.createAndStore(ctx, p, params, in)
	}
	ids := make([]string, len(candidates))
	for i, l := range candidates {
		ids[i] = l.ID
	}
	return nil, Errorf(CodeFailedPrecondition, opCreate,
		"a link was asked of %q with idempotency key %q at %s and never stored, and %d links there match it (%s): "+
			"check which one is this order's before creating it again with another key",
		in.Provider, in.Key, in.CreatedAt.UTC().Format(time.RFC3339), len(ids), strings.Join(ids, ", "))
}

// stillRunning is the answer to a retry while the first call may still be
// waiting for the provider.
func (s *Service) stillRunning(in *LinkIntent, age time.Duration) error {
	return Errorf(CodeUnavailable, opCreate,
		"a link with idempotency key %q is being created (started %s ago) or its creation stopped half-way; retry in %s",
		in.Key, age.Round(time.Second), (s.window - age).Round(time.Second))
}

// adopt stores l, found at the provider, as the link of the intent in.
func (s *Service) adopt(ctx context.Context, p Provider, in *LinkIntent, l *Link) (*Link, error) {
	l.Provider, l.IdempotencyKey = p.Name(), in.Key
	if l.CreatedAt.IsZero() {
		l.CreatedAt = in.CreatedAt
	}
	l.UpdatedAt = s.now()
	if err := s.storeLink(ctx, l, in); err != nil {
		if CodeOf(err) == CodeConflict {
			if w, werr := s.linkByKey(ctx, p, in.Key); werr == nil && w != nil {
				return w, nil // a concurrent call stored it first
			}
		}
		return nil, &Error{Op: opCreate, Err: err,
			Message: fmt.Sprintf("storing link %s, found at the provider for idempotency key %q, failed", l.ID, in.Key)}
	}
	s.log.WarnContext(ctx, "paylink: recovered a link that was created but never stored",
		"provider", l.Provider, "link", l.ID, "idempotency_key", in.Key)
	return l, nil
}

// createAndStore asks p for a link and stores it, completing in when it
// is not nil.
func (s *Service) createAndStore(ctx context.Context, p Provider, params CreateLinkParams, in *LinkIntent) (*Link, error) {
	callCtx := ctx
	if in != nil {
		// Bound the call, so that after the window a retry may be sure
		// this call is over.
		var cancel context.CancelFunc
		callCtx, cancel = context.WithTimeout(ctx, s.window/2)
		defer cancel()
	}
	if in != nil {
		// Only links the store holds are returned, and it holds none for
		// the key (see CreateLinkParams.KeyNeverReturned).
		params.KeyNeverReturned = true
	}
	link, err := p.CreateLink(callCtx, params)
	if err != nil {
		if in != nil && refused(err) {
			s.releaseIntent(ctx, in.Key)
		}
		return nil, err
	}
	key := params.IdempotencyKey
	link.Provider = p.Name()
	link.IdempotencyKey = key
	now := s.now()
	if link.CreatedAt.IsZero() {
		link.CreatedAt = now
	}
	link.UpdatedAt = now
	err = s.storeLink(ctx, link, in)
	if err == nil {
		s.log.InfoContext(ctx, "paylink: link created", "provider", link.Provider, "link", link.ID, "amount", link.Amount.Amount)
		return link, nil
	}
	if key != "" && CodeOf(err) == CodeConflict {
		// A concurrent call stored another link under the key first: stop
		// this one from taking money (best effort) and return the winner.
		if w, werr := s.linkByKey(ctx, p, key); werr == nil && w != nil && w.ID != link.ID {
			s.discard(ctx, p, link)
			return w, nil
		}
	}
	if _, findable := p.(LinkFinder); in != nil && findable {
		// Keep the link: a retry with the key finds it at the provider.
		return nil, &Error{Code: CodeOf(err), Op: opCreate, Err: err,
			Message: fmt.Sprintf("link %s was created but storing it failed; a retry with idempotency key %q stores it", link.ID, key)}
	}
	// Nothing could find the link again: stop it from taking money (best
	// effort) and, once it cannot, free the key for a fresh create.
	if s.discard(ctx, p, link) && in != nil {
		s.releaseIntent(ctx, in.Key)
	}
	return nil, &Error{Code: CodeOf(err), Op: opCreate, Message: "storing the new link failed", Err: err}
}

// storeLink stores l and, when in is not nil, completes the intent, in
// one atomic write.
func (s *Service) storeLink(ctx context.Context, l *Link, in *LinkIntent) error {
	w := LinkWrite{Provider: l.Provider, ID: l.ID, Link: l}
	if in != nil {
		w.IntentKey = in.Key
	}
	return s.store.SaveLink(ctx, &w)
}

// linkByKey returns the stored link of key, nil when there is none.
func (s *Service) linkByKey(ctx context.Context, p Provider, key string) (*Link, error) {
	l, err := s.store.GetLinkByIdempotencyKey(ctx, key)
	switch {
	case errors.Is(err, CodeNotFound):
		return nil, nil
	case err != nil:
		return nil, err
	case l.Provider != p.Name():
		return nil, Errorf(CodeConflict, opCreate, "idempotency key %q was used with provider %q", key, l.Provider)
	}
	return l, nil
}

// completeIntent completes key's intent with l, for a link stored
// without it (before intents existed, or by a concurrent call). Failing
// is harmless: the stored link answers later calls all the same.
func (s *Service) completeIntent(ctx context.Context, key string, l *Link) {
	if err := s.store.SaveLink(ctx, &LinkWrite{Provider: l.Provider, ID: l.ID, IntentKey: key}); err != nil {
		s.log.WarnContext(ctx, "paylink: could not complete a link intent", "idempotency_key", key, "link", l.ID, "err", err)
	}
}

// releaseIntent deletes key's pending intent after the provider refused
// the link, so the key may be used again.
func (s *Service) releaseIntent(ctx context.Context, key string) {
	if err := s.store.DeleteLinkIntent(context.WithoutCancel(ctx), key); err != nil {
		s.log.WarnContext(ctx, "paylink: could not delete the intent of a refused link", "idempotency_key", key, "err", err)
	}
}

// refused reports whether err is a provider's answer that promises no
// link was made: the request was refused, not lost.
func refused(err error) bool {
	switch CodeOf(err) {
	case CodeInvalidArgument, CodeUnauthenticated, CodePermissionDenied, CodeFailedPrecondition,
		CodeUnimplemented, CodeTooLarge, CodeNotFound:
		return true
	}
	return false
}
