// Package ginadapter mounts paylink into a Gin application: the route that
// receives the payment provider's callbacks, optional JSON routes for a
// front end, and an optional return route for customers coming back from
// the checkout page. It is thin: every payment rule lives in
// [provider.Service]; this package turns HTTP into Service calls and
// errors into HTTP statuses ([StatusCode] is the only place in paylink
// where that mapping lives).
//
//	svc, _ := provider.NewService(store, provider.ServiceOptions{Providers: []provider.Provider{flipProvider}})
//	r := gin.New()
//	if err := ginadapter.Mount(r, svc, ginadapter.DefaultConfig()); err != nil {
//		log.Fatal(err) // e.g. no callback token configured
//	}
//
// # The callback route
//
// POST {CallbackPath} (default /flip/callback) runs, in order:
//
//  1. the allowlist (Config.AllowedNetworks, optional): a client outside
//     it is answered 403;
//  2. the media type, when the provider declares one
//     ([provider.CallbackMediaTyper]): anything else is answered 415
//     (Flip posts application/x-www-form-urlencoded);
//  3. the body, read once into memory, capped at Config.MaxBodyBytes
//     (default 64 KiB): a larger one is answered 413. The bytes are put
//     back, so the provider and every later handler read them again, and a
//     form body is also available through gin's PostForm;
//  4. the provider's verification (Flip: the token field, compared in
//     constant time): a missing or wrong token is answered 401 and nothing
//     is stored; a body that is not a callback is answered 400;
//  5. [provider.Service.ApplyEvent], one database transaction: the
//     callback is recorded, deduplicated, the payment moved forward, hooks
//     enqueued, and committed. Any failure is answered 503 (see below).
//     Nothing is stored when it fails;
//  6. the handlers in Config.CallbackHandlers, which read the event with
//     [EventFrom] and [OutcomeFrom];
//  7. 200 {"ok":true,"verdict":"applied"}, unless a handler wrote its own
//     answer. The verdict may also be "duplicate" (seen before), "stale"
//     (would move a payment backwards), or a flagged verdict such as
//     "unknown_link" or "amount_mismatch" (recorded for a human, never
//     paid): all are answered 200 because retrying cannot change them.
//
// A 200 is sent only after the transaction committed.
//
// The route never answers 500. Gateways retry a 503 longest (Midtrans
// retries a 500 only once, a 503 several times over hours), so every
// failure after which nothing was stored is answered 503, whatever its
// error code: the database, a deadline, a cancellation, an encoding or
// internal error, an unknown code, and a panic anywhere in the pipeline
// (recovered on the route, logged with its stack). Only the sender's own
// mistakes are 4xx: 400 (not a callback), 401 (token or signature), 403
// (allowlist), 413 (size) and 415 (media type).
//
// What the answers mean to Flip: any answer other than 200 (or no answer
// within 30 s) makes Flip send the callback again, up to 5 more times, 2
// minutes apart. So a 503 loses nothing while the retries last (and the
// reconciler, [provider.Service.Reconcile], picks up what outlives them);
// 401, 400, 413 and 415 are retried too, but fail the same way each time,
// so they point at a configuration problem: a token from the wrong
// environment (sandbox and production tokens differ), a proxy rewriting
// the body, or a route that is not the callback URL set in Flip's
// dashboard. Refusals are logged at warning level with the reason, never
// with the token or the body.
//
// Mount and [CallbackHandler] refuse to mount the route when the provider
// implements [provider.CallbackChecker] and reports that no callback token
// is configured: no token, no route, no silent fail-open.
//
// The allowlist uses gin's Context.ClientIP, which believes
// X-Forwarded-For only from the proxies set with Engine.SetTrustedProxies
// (gin trusts all proxies until told otherwise). Configure the trusted
// proxies, or the allowlist is decoration.
//
// # The JSON routes
//
// With Config.APIPrefix set (e.g. "/paylink"), behind Config.APIAuth:
//
//   - POST {APIPrefix}/links takes a [CreateLinkRequest] (JSON; an
//     Idempotency-Key header makes retries safe) and answers 201 with the
//     link. Invalid fields are answered 422 with an [ErrorResponse] whose
//     fields name the JSON fields and the failed rule, whether the rule was
//     checked here or by the provider; broken JSON is answered 400. When
//     the provider refuses this server's own credentials (a wrong secret
//     key, an IP it has not allow-listed) the answer is 500 with no detail,
//     not 401/403: the caller is not the one refused. The log has the rest.
//   - GET {APIPrefix}/links/:id answers 200 with a [LinkResponse] (the
//     link and its payments as stored), or 404.
//
// They are closed by default: they create links (spending the merchant's
// provider quota) and show customers' personal data, so Mount refuses an
// APIPrefix without Config.APIAuth, the app's authorization middleware.
// Config.APIPublic: true is the explicit opt-out; its answers leave the
// customer, the payments' senders and virtual account numbers out.
//
// # The return route
//
// With Config.ReturnPath set, GET {ReturnPath}/:link_id is where a link's
// redirect URL should point. It asks the provider for the link's payments
// ([provider.Service.RefreshLink], the same transaction and state machine
// as a callback, so a customer who returns before the callback still sees
// the payment) and answers 303 to Config.ReturnRedirect's URL (default: the
// JSON status route). The route is public, so it answers with nothing but
// the redirect (no personal data), an unknown link is 404 before the
// provider is asked, and its provider calls are bounded: concurrent
// returns for one link share one call, a link is re-checked at most once
// per Config.ReturnRecheckInterval (default 10 s), and all re-checks are
// held to Config.ReturnRechecksPerSecond (default 5, bursts of 20). A
// return that is not re-checked, or whose provider cannot be reached, is
// redirected with the stored state.
//
// # The console
//
// The sub-package console mounts an operations console (HTML pages of
// callbacks, payments and hook runs, and recorded operator actions) on
// any gin.IRouter, behind an authorization middleware the host app must
// supply.
package ginadapter
