// Package midtranstest is a stateful, in-process fake of Midtrans Snap
// and the Core API transaction endpoints, in the style of
// net/http/httptest, so that code using package midtrans runs and is
// tested offline.
//
// [NewServer] starts the fake on a random local port; its URL serves both
// Snap and the Core API ([Server.Client] returns a midtrans.Client pointed
// at it). The fake has its own wire types, written from Midtrans's
// documentation, so it tests the client honestly.
//
// # Routes (HTTP Basic auth: the server key as user, empty password)
//
//	POST /snap/v1/transactions                 Snap create: 201 {"token","redirect_url"}
//	POST /snap/v1/transactions/{token}/cancel  cancel a page without a transaction
//	GET  /v2/{id}/status                       by order_id or transaction_id
//	POST /v2/{id}/cancel                       pending, authorize, capture → cancel
//	POST /v2/{id}/expire                       pending → expire ("407")
//	POST /v2/{id}/refund                       settlement → refund / partial_refund
//	GET  /snap/v2/vtweb/{token}                the hosted page (no auth)
//	POST /snap/v2/vtweb/{token}/{action}       choose, pay, pay-card, pay-card-challenge,
//	                                           approve, deny, expire, refund
//
// A wrong key gets Snap's 401 body with its two error_messages, or the
// Core API's {"status_code":"401",...}. Every API request must send
// Accept: application/json (a wildcard does not do), and one with a body
// Content-Type: application/json, as Midtrans requires: without the first
// the answer is 403 with Midtrans's message for its code 403, without the
// second 415 "Content-Type must be application/json" (Midtrans documents
// neither answer's HTTP status nor the second one at all). Snap create validates as Midtrans
// documents and answers 400 {"error_messages":[...]}: order_id required,
// gross_amount required and a number, Σ price×quantity = gross_amount,
// quantity ≥ 1, and "transaction_details.order_id has already been taken"
// for a used order id. The messages for a bad order id charset or length
// and a zero or negative amount are not documented; the fake's own are
// "transaction_details.order_id is invalid" and
// "transaction_details.gross_amount must be greater than 0".
//
// As at Midtrans, a Snap order is not a transaction: the status API
// answers {"status_code":"404","status_message":"Transaction doesn't
// exist."} (with HTTP 200, or 404 with Options.CoreErrorsWithHTTPStatus)
// until the customer picks a method ([Server.Choose], or [Server.Pay] and
// friends, which pick the default BCA virtual account first). Amounts are
// "N.00" strings; status_code is 201 pending, 200 settlement, capture,
// cancel and refunds, 202 deny, 407 expire; every answer carries a
// correct signature_key. A transition the lifecycle does not allow gets
// 412 "Merchant cannot modify the status of the transaction"; refunds of
// bank transfers, echannel and cstore too; a refund above what is left
// 414; a reused refund_key 406.
//
// # Simulation
//
// [Server.Pay] (settlement, or capture with a fraud status for cards),
// [Server.Settle], [Server.Approve] (a challenged card),
// [Server.Deny] (also the settlement → deny reversal),
// [Server.Expire], [Server.Cancel], [Server.Refund] (full or partial) and
// [Server.Chargeback] move an order as the customer, the bank or
// Midtrans would; the hosted page has a button for most of them and then
// sends the customer to callbacks.finish with order_id, status_code and
// transaction_status.
//
// An order_id whose last attempt is over without payment (deny, expire,
// cancel, failure) takes a new attempt on the same Snap page, as at
// Midtrans (an expired order_id "can be reused for the same or different
// payment methods"; a customer retries after a denied card): [Server.Choose],
// [Server.Pay], [Server.Deny] and [Server.Expire] start a new transaction
// (new transaction_id, a "201" notification) on it. Only cancelling the
// Snap session (POST /snap/v1/transactions/{token}/cancel, which the fake
// accepts once the last attempt is over, and answers "Transaction is on
// progress" while one is pending or paid) stops that. A second Snap create
// with the same order_id is "transaction_details.order_id has already
// been taken" whether or not the customer picked a method.
//
// # Notifications
//
// Every status change is POSTed as JSON (User-Agent "Veritrans"), signed
// with SHA-512 over order_id + status_code + gross_amount + server key,
// to Options.NotificationURL, or to the URLs of the create request's
// X-Override-Notification (which wins) or X-Append-Notification header
// (at most 3). Notification status codes are those of the status API,
// except cancel and expire, which are "202". A failed delivery is retried
// as Midtrans does: once after a 500, four times after a 503, twice after
// 400 or 404, never after 301-303, five times after anything else, with
// Options.RetryDelays between tries (default Midtrans's 2, 10, 30, 90 and
// 210 minutes); 307 and 308 are followed up to five times. No
// notification is sent when only a Snap page expires.
// A refund is notified twice, as at Midtrans: at once, then with its
// refunds[] entry's bank_confirmed_at set; refund and chargeback
// notifications and status answers carry the cumulative refund_amount
// and every refund and chargeback in refunds[].
// [Server.SetNotificationMode] duplicates or holds notifications;
// [Server.Release] sends held ones in order or reversed;
// [Server.SendNotification] sends any status of an order (a stale
// pending after settlement); [Server.InjectFault] makes API calls fail
// (500, 503, 429, slow replies).
//
// # Deadlines and refund limits (opt-in)
//
// Midtrans's deadlines pass on Options.Now: a test moves its clock on,
// and the next API request, page view or simulation call applies what
// has come due ([Server.Tick] does it without a request, for a server on
// the wall clock). Options.ExpireOnClock expires a pending payment at
// its expiry_time (24 hours from the pick, Options.PendingExpiry, or the
// create request's expiry), with its "202" expire notification, and a
// Snap page at its page expiry (24 hours, or the request's page_expiry
// or expiry) silently, after which it takes no payment.
// Options.CancelUnapprovedChallenges cancels a challenged card capture
// the merchant did not approve ([Server.Approve]) at the settlement
// cut-off, 16:00 WIB the next day, and [Server.Settle] cancels it
// instead of settling it. Options.RefundLimits refuses a refund after
// the method's refund window (412) and a partial refund of ShopeePay or
// OVO (414). Each option's doc says which of Midtrans's readings the
// fake takes where its documentation is unsure.
//
// Not faithful yet: Idempotency-Key replay, the settlement
// notification's bank_confirmed_at, per-method default payment expiries
// and the 8-day expiry_time of card captures.
package midtranstest
