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
// errors, 429, 5xx, with backoff, all within Options.ReadTimeout); bodies are read up to a cap; the server
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
// The signature proves less than it seems, and the package does not take
// it for more:
//
//   - It covers three fields. transaction_status, fraud_status and
//     refund_amount are unsigned: a signed pending notification edited to
//     say settlement, or a settlement edited to say partial_refund with
//     any refund_amount, still verifies.
//   - The three strings are joined without a separator, so digits can
//     move between them: order 1's "201" notification resent as order 12
//     with status_code "01" ("order-1"+"201" = "order-12"+"01") verifies
//     too.
//   - The signature is a hash of the server key that verifies again
//     wherever the same three fields do, so a stored copy is as good as
//     the original.
//
// Hence three rules.
//
// Parse-time checks ([DecodeNotification]; ErrMalformedNotification,
// CodeInvalidArgument: adapters answer 400 and nothing is stored).
// status_code must be three digits and one Midtrans documents for the
// transaction_status, which refuses the splice above ("01") and a pending
// "201" edited to say settlement; gross_amount must be whole rupiah with
// ".00" and no leading zero, as Midtrans writes it. The codes taken:
//
//	pending                     201, 200 (the status page's DANA sample)
//	capture                     200; 201 under fraud challenge
//	settlement                  200
//	refund, partial_refund      200
//	cancel                      202 (notification), 200 (cancel and status APIs)
//	expire                      202 (notification), 407 (expire and status APIs)
//	deny                        202
//	authorize                   200 (undocumented: the success class)
//	failure                     202 (undocumented: the denied class)
//	chargeback,
//	partial_chargeback          200 (no sample: reported like a refund)
//	any other status            200, 201, 202 (no portable status: flagged, never applied)
//
// These checks narrow the splice but cannot close it: a gross_amount can
// give digits to the status_code and the status_code to the order_id
// ("shop-1"+"201"+"20010000.00" = "shop-1201"+"200"+"10000.00").
//
// Every notification is confirmed. [Provider] is a
// provider.UnsignedCallbacks: the Service confirms each notification that
// would change a payment with the status API ([Provider.GetPayment], GET
// /v2/{order_id}/status) before it applies it, even with
// ServiceOptions.InsecureSkipVerify; one the status API does not show is
// recorded unverified and answered 503, so Midtrans delivers it again. A
// repeat is recognised from the store first and costs no call.
//
// signature_key is never kept. Event.Raw and every Payment.Raw and
// Link.Raw the Provider returns (status answers are signed too) have the
// member removed, the other bytes as received, so no row, log or hook
// sees it; [Provider.DecodeCallback] reads such a body.
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
// CodeInvalidArgument, or CodeUnavailable for insufficient funds; 406
// CodeConflict for a refund_key used before; 412 CodeFailedPrecondition,
// which includes bank transfers, echannel and convenience stores: they
// cannot be refunded).
//
// Midtrans has no API to read a Snap page before the customer picks a
// payment method (the status API says the transaction does not exist).
// CreateLink keeps the page's Snap token in Link.Raw, and GetLink and
// DeactivateLink, given the stored link, answer from it and cancel the
// page by it; see [Provider.GetLink]. The Provider itself keeps no state:
// every replica, and a process after a restart, acts on every link.
//
// # Going live
//
// What Midtrans does in production, and what paylink makes of it:
//
//   - Amounts are int64 rupiah with no upper bound of paylink's own:
//     Snap's OpenAPI says int32, but virtual-account maxima reach Rp
//     20-50 billion (BNI VA has none), so an order of Rp 5,000,000,000 is
//     sent as it is; a method's or the merchant's cap is Midtrans's to
//     enforce.
//   - Automatic Fee Imposition adds a fee to what the customer pays
//     ("10071.00" for an order of 10000, the breakdown in
//     metadata.extra_info.gross_amount_info). CreateLink turns it off for
//     every transaction ("customer_imposed_payment_fee":{"enable":false})
//     unless ProviderOptions.AllowFeeImposition is set; a payment whose
//     gross_amount differs from the order's anyway reads as that amount,
//     so it is flagged amount_mismatch and never paid. With
//     AllowFeeImposition, a payment whose breakdown shows that
//     original_amount plus customer_imposed_payment_fee is gross_amount
//     (strings or numbers) reports Payment.Amount = original_amount; the fee stays in
//     Payment.Raw, and a refund_amount that covers the fee counts as all
//     of the order refunded.
//   - An order whose transaction ended unpaid (deny, expire, cancel,
//     failure) takes a new attempt on the same Snap page and order_id:
//     Midtrans reuses an expired order_id "for the same or different
//     payment methods" and lets a customer retry after a denied card.
//     So DeactivateLink, once the transaction is final (already, or after
//     it expires a pending one or cancels an authorized one), also
//     cancels the Snap session with the token of the link's Raw; "token
//     already canceled" and "token not found" (page expired) count as
//     done. GetLink keeps that token in the Raw it returns, so a link
//     stored again after a refresh can still be deactivated. A link
//     without a token is CodeFailedPrecondition: cancel its page on the
//     dashboard. Whether Snap accepts cancelling a session after a final
//     transaction is undocumented; if it answers "Transaction is on
//     progress", DeactivateLink returns that error.
//   - A crash between Snap create and the store loses the Snap token,
//     and with it the page: Midtrans lists no orders, its status API does
//     not know a page whose customer has not picked a method, and a
//     second create of the order id is "has already been taken" (per
//     apps' reports). No retry can return the page that was made; but
//     nobody was given it either, since provider.Service returns only
//     links it has stored, and it says so on every create with a key
//     (provider.CreateLinkParams.KeyNeverReturned). Told that, CreateLink
//     makes the link under the next order id, key~2 (then key~3, up to
//     key~9; a key with no room left for the suffix within Midtrans's 50
//     characters is CodeConflict), and the earlier page expires unpaid.
//     Through provider.Service (the gormstore end-to-end tests, on SQLite
//     and PostgreSQL): when storing fails and the process lives on, the
//     Service also cancels the page it could not store, and the retry
//     stores key~2; when the process dies, a retry is CodeUnavailable
//     within LinkIntentWindow (the first call may still be running) and
//     stores key~2 after it. Either way the key is never refused for
//     good and one link is stored. A direct CreateLink (without the
//     promise) with a taken key reads the order through the status API:
//     with a transaction for the same amount and title (a customer who
//     reached the page) it returns it as the link (no second page, no
//     URL); without one it is CodeConflict, since a second page could be
//     a second way to pay.
//   - A promo lowers gross_amount. Midtrans documents no breakdown field
//     naming a promo discount, so a lower amount is reported as charged
//     and flagged amount_mismatch, with or without AllowFeeImposition: a
//     person decides whether the discount was meant.
//   - A refund the bank declines is answered HTTP 200 with status_code
//     "202" "Refund denied by the bank", refund_amount "0.00" and the
//     status unchanged, which after an earlier partial refund still reads
//     partial_refund. Refund succeeds only on "200" and a status API that
//     shows more refunded than before: a declined refund is
//     CodeFailedPrecondition, and the payment and hooks do not change.
//   - A card paid today (capture, not settled) cannot be refunded
//     (Midtrans answers 412). Refund of all of it cancels it (POST
//     /v2/{order_id}/cancel) and reports REFUNDED with the whole amount:
//     the customer paid and everything went back, the ladder's
//     SUCCESSFUL → REFUNDED (CANCELLED would say the payment was never
//     made). A part of a capture is CodeFailedPrecondition. The cancel
//     notification that follows reads CANCELLED; against the REFUNDED
//     payment it would be a reversal, which never replaces a full
//     refund: it is stale and changes nothing.
//   - Reversals: settlement → deny (Permata VA, Mandiri bill, Indomaret,
//     within minutes) and a card capture → cancel mean, in Midtrans's
//     words, "treat the transaction as not paid". The table maps deny to
//     FAILED and cancel to CANCELLED whatever came before (a mapping sees
//     one transaction, not its history); the Service, which knows the
//     payment was paid, confirms the report with the status API and moves
//     the payment to provider.PaymentReversed with all of it returned,
//     running the When(PaymentReversed) hooks once. An unpaid payment
//     denied or cancelled stays FAILED or CANCELLED.
//   - The refund answer's refund_amount is "total amount to be
//     refunded" on one Midtrans page and cumulative on another; Refund
//     reads the cumulative amount from the status API after the refund.
//   - 414 is an invalid amount (CodeInvalidArgument) or, when
//     status_message says "merchant insufficient funds", a shortfall
//     Midtrans calls retriable with the same refund_key for 7 days
//     (CodeUnavailable; retry with the same key).
//   - Midtrans asks for non-strict parsing and sends numbers where
//     strings are documented. A number in a field declared a string is
//     taken as its decimal text instead of refusing the notification. A
//     gross_amount number must be whole rupiah and reads as "N.00"; how
//     Midtrans signs one is undocumented, so its signature is checked over
//     "N.00" and over the text sent (either proves the server key), and
//     the status API confirms the rest as for every notification.
//   - "If fraud_status exists ensure the value is accept": a capture or
//     settlement with a fraud_status other than accept, challenge or deny
//     has no portable status, so it is never paid and is flagged
//     unknown_status.
//   - A status read made while answering a notification must fit
//     Midtrans's 15 s timeout: Options.ReadTimeout (default
//     DefaultReadTimeout, 12 s) bounds a status read, tries and backoffs
//     included, each retriable try getting at most half of what is left,
//     and no backoff is slept that would outlast the deadline (the
//     Service's own 10 s bound on confirmation, being earlier, wins).
//   - Only Midtrans's JSON body "404" means the transaction does not
//     exist (CodeNotFound). An HTTP 404 without it (an HTML page from a
//     wrong base URL or a proxy) is CodeUnavailable, and its message names
//     the URL called.
//
// Package midtranstest is an in-process fake of these APIs.
package midtrans
