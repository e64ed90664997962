// Package console is paylink's operations console: server-rendered HTML
// pages (html/template, a little inline CSS, no JavaScript) mounted on any
// gin.IRouter, for the people who look after payments.
//
//	ops := r.Group("/ops")
//	err := console.Mount(ops, svc, console.Options{
//		Authorize: gin.BasicAuth(gin.Accounts{user: password}),
//	})
//
// # Authorization is the host app's
//
// [Mount] refuses to mount without [Options.Authorize], a middleware from
// the host app that answers every request not from an operator (401, 403,
// a redirect to its sign-in page) and aborts it. Every console route runs
// behind it. [Options.Actor] names the operator (by default the user
// gin.BasicAuth stored under gin.AuthUserKey); an action without an
// operator is refused with 403 and not done.
//
// # Pages
//
//   - the callback inbox (GET /): every callback as received, newest
//     first, filtered by verdict, flagged, provider, link and payment,
//     paged by limit and before (the last id of the previous page);
//   - a callback (GET /callbacks/:id): its fields and its raw body with
//     secrets redacted (the provider's [provider.CallbackRedactor], then
//     any field [provider.SecretField] suspects), and the actions on it;
//   - a payment (GET /payment?provider=&id=): the stored payment, its
//     status history, its callbacks, the hook runs of its events and the
//     actions on it; a payment known only from flagged callbacks shows
//     those;
//   - a link (GET /link?provider=&id=): the link, its payments, callbacks
//     and actions;
//   - the hook queue (GET /hooks): runs by state, failed first with their
//     last error, then retrying and pending (?state= shows one state,
//     succeeded included);
//   - the action log (GET /actions), by operator and kind.
//
// # Actions
//
// Each action is a POST form that runs [provider.Service.Act], which does
// it under the library's own rules and records it in the store's
// [provider.ActionLog] with the operator, the time, the target and the
// outcome (result or error): reprocess a callback, re-fetch a payment from
// the provider, reconcile a link now, retry a failed hook run. A done
// action redirects (303) to the page of its target, where the action
// shows; a refused one answers its error's status (ginadapter.StatusCode)
// and names the recorded action.
//
// # Forgery
//
// The console's operators are signed in by the browser (basic auth, or
// the app's session cookie), which a page on another site can make the
// browser use. So every action checks, before anything is done: net/http's
// [http.CrossOriginProtection] (Sec-Fetch-Site, or Origin against Host for
// older browsers); and a token in a hidden form field, bound to the
// operator, the action, its target, the host the page was served on, and
// an expiry ([Options.TokenLifetime], default one hour): an HMAC-SHA256
// under [Options.CSRFKey] (random per Mount by default), compared in
// constant time. A token is useless for another action, target, operator
// or host name (a DNS-rebinding page, whose Host and Origin are both its
// own, passes the origin check but has no token), or once expired. A
// failed check is 403.
//
// Errors shown to operators (a hook run's last error, a failed action's
// error) are redacted by the rule callback bodies are: the value of any
// name [provider.SecretField] suspects, or of an Authorization header, is
// replaced by [provider.Redacted], in JSON members, name=value and
// name: value pairs alike.
// Pages also send a Content-Security-Policy that loads nothing but their
// inline style, refuse framing, and are not cached.
//
// Bad input (ids that are not numbers, unknown providers or verdicts,
// limits above [MaxPageSize], a query over [MaxQueryBytes], a form over
// [MaxFormBytes]) is answered 4xx; unknown ids are 404.
package console
