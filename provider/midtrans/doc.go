// Package midtrans is Midtrans (Indonesia) Snap as a paylink provider: a
// thin client of its own for the Snap and Core APIs, notification
// verification, and a [Provider] implementing provider.Provider.
//
// # Client
//
// [Client] calls four endpoints with HTTP Basic auth (the server key as
// user, an empty password):
//
//	POST {snap}/snap/v1/transactions                Snap create ([Client.CreateTransaction])
//	POST {snap}/snap/v1/transactions/{token}/cancel cancel a page ([Client.CancelSnapSession])
//	GET  {core}/v2/{id}/status                      transaction status ([Client.GetStatus])
//	POST {core}/v2/{id}/cancel, /v2/{id}/expire     [Client.Cancel], [Client.Expire]
//
// Every call takes a context first. The *http.Client is injectable and has
// a 30 s timeout by default; only the status read is retried (network
// errors, 429, 5xx, with backoff); bodies are read up to a cap; the server
// key never appears in an error, a log record or a URL. Errors are
// *[APIError] values (HTTP status, Midtrans status_code, messages) that
// carry a portable provider.ErrorCode. A Core answer whose body
// status_code is 400 or more (except "407", an expired transaction) is an
// error even when the HTTP status is 200, as Midtrans answers an unknown
// order that way.
//
// Amounts arrive as decimal strings ("100000.00"); [ParseAmount] reads
// them exactly into whole rupiah, and a fractional rupiah is an error,
// never rounded.
//
// # Notifications
//
// Midtrans POSTs a JSON notification signed by signature_key, the
// lowercase hex SHA-512 of order_id + status_code + gross_amount + server
// key ([Signature]). [ParseNotification] checks it in constant time and
// fails closed without a server key. [NewNotificationRequest] builds a
// signed notification for tests.
//
// # Provider
//
// A link is a Snap transaction keyed by the app's order id (the
// idempotency key when given); Link.ID is the order id and Link.URL Snap's
// redirect_url. The order's one payment has the order id as its ID (see
// [Provider.ListLinkPayments] for why). Statuses map through one table
// ([StatusMappings]):
//
//	pending, authorize, capture+challenge      PENDING
//	settlement, capture+accept (or no fraud)   SUCCESSFUL
//	deny, failure, capture+deny                FAILED
//	cancel, expire                             CANCELLED
//	partial_refund                             PARTIALLY_REFUNDED
//	refund                                     REFUNDED
//	partial_chargeback                         PARTIALLY_CHARGED_BACK
//	chargeback                                 CHARGED_BACK
//	anything unknown                           "" (no portable status)
//
// Payment.RawStatus always keeps Midtrans's status ("capture/challenge"
// with the fraud status). A refund or chargeback carries the cumulative
// refund_amount, read exactly like every amount, as
// Payment.RefundedAmount ([Transaction.Refunded]). A status Midtrans adds
// later gives an event with an empty status, which paylink records and
// flags as unknown_status rather than applying it; Midtrans gets its 200
// and stops retrying.
//
// The Provider is a provider.Refunder: [Provider.Refund] calls POST
// /v2/{order_id}/refund; Midtrans's refusals keep their codes (414
// CodeInvalidArgument, 406 CodeConflict for a refund_key used before, 412
// CodeFailedPrecondition, which includes bank transfers, echannel and
// convenience stores: they cannot be refunded).
//
// Midtrans has no API to read a Snap page before the customer picks a
// payment method (the status API says the transaction does not exist), so
// a Provider remembers the pages it created to answer GetLink and
// DeactivateLink for them; see [Provider.GetLink].
//
// Package midtranstest is an in-process fake of these APIs.
package midtrans
