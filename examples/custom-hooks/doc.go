// Command custom-hooks shows paylink hooks that are safe to retry.
//
// Three hooks are registered on one Service:
//
//   - "receipt-mailer" (When(PaymentSuccessful)) mails a receipt;
//   - "expiry-mailer" (When(PaymentCancelled)) mails "your payment link expired";
//   - "audit" (When()) records every status any payment reaches.
//
// paylink runs each hook once per payment event, however often Flip repeats
// its callback, and retries a hook that returns an error. A retried hook
// must not repeat its side effect, so the mailers go through an outbox: a
// row keyed by HookEvent.IdempotencyKey is inserted (or found) before the
// mail is sent and marked sent afterwards. A retry finds the row marked and
// returns at once; the key is also handed to the mailer, which a real mail
// API uses to drop a repeat sent just before a crash.
//
// The mailer here is a fake that fails its first MAILER_FAILURES sends
// (default 1), so the first receipt is retried. A hook that fails
// HOOK_MAX_ATTEMPTS times (default 3) is FAILED; the admin routes show it
// and put it back in the queue:
//
//	GET  /admin/hook-runs?state=failed   svc.ListHookRuns
//	POST /admin/hook-runs/:id/retry      svc.Act (ActionRetryHookRun)
//	GET  /admin/outbox                   the mails, with sent_at
//	GET  /admin/audit                    the audit hook's rows
//
// Links are created through ginadapter's JSON routes (POST /paylink/links,
// GET /paylink/links/:id), which answer 401 without the bearer token
// API_TOKEN (ginadapter.Config.APIAuth: Mount refuses JSON routes without
// one). Flip is the in-process fake and the store is gormstore on SQLite:
//
//	API_TOKEN=s3cret go run ./examples/custom-hooks
//
// Environment: API_TOKEN (required), ADDR (default 127.0.0.1:8080),
// SQLITE_PATH (default paylink-custom-hooks.db in the temp directory),
// MAILER_FAILURES, HOOK_MAX_ATTEMPTS. The admin routes have no auth here;
// protect them in a real app (see examples/mount-existing).
package main
