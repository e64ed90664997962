// Package fliptest is a stateful, in-process fake of Flip for Business's
// Accept Payment v2 API, in the style of net/http/httptest, so that code
// using Flip runs and is tested offline.
//
// [NewServer] starts the fake on 127.0.0.1 on a random port. Its URL field
// is the API base (the part before "/v2", as for Flip's
// https://bigflip.id/big_sandbox_api). The fake keeps bills and payments in
// memory, applies Flip's validation rules with Flip's error bodies and
// codes, simulates payments ([Server.Pay], [Server.Expire], [Server.Fail]),
// delivers Flip's callbacks with Flip's retry policy, injects faults, and
// serves a checkout page per bill so that a person can click through a
// payment in a browser.
//
// The fake has its own wire format, written from Flip's documentation; it
// does not share types with package flip, so it tests that client honestly.
// [Server.Client] returns a flip.Client pointed at the fake.
//
// # API routes (HTTP Basic auth: the secret key as user, empty password)
//
//	POST /v2/pwf/bill                          Create Bill (form body)
//	GET  /v2/pwf/bill                          Get All Bills (a bare JSON array)
//	GET  /v2/pwf/{link_id}/bill                Get Bill
//	PUT  /v2/pwf/{link_id}/bill                Edit Bill (form body)
//	GET  /v2/pwf/{link_id}/payment             Get Payments of a bill (paged envelope with link_id)
//	GET  /v2/pwf/payment                       Get All Payments (paged envelope, no link_id)
//	PUT  /v2/pwf/bill-payment/{id}/confirm     Confirm Bill Payment
//	GET  /v2/general/maintenance               {"maintenance": false}
//
// A missing or wrong Authorization header gets Flip's 401 body
// {"name":"Unauthorized","message":"You are requesting with an invalid
// credential.","status":401}. An unknown path, or a known path with another
// method, gets {"name":"Not Found","message":"Page not found.","status":404}.
// While [Server.SetMaintenance] is on, every API route but the maintenance
// one answers 401, as Flip documents. Every API request, GETs included,
// must carry "Content-Type: application/x-www-form-urlencoded" (Flip lists
// it as required and validates request formats since December 2025); a
// request without it, or with another type, gets 422 with attribute
// "Content-Type" and code 999.
//
// # Validation (HTTP 422, {"code":"VALIDATION_ERROR","errors":[{"attribute","code","message"}]})
//
// Every failing field is reported, in one body. The codes:
//
//	1044  type missing                          1045  type not SINGLE/MULTIPLE, or MULTIPLE with step 3
//	1046  amount above MaxAmount (MaxAmountCode 1046)
//	1047  expired_date not "YYYY-MM-DD HH:mm" (seconds also accepted), WIB
//	1048  expired_date not in the future; paying an expired bill
//	1049  paying (or reactivating) a used SINGLE bill
//	1050  unknown bill id on Get, Edit or Get Payments: 422, attribute "id",
//	      "Product Bill Link ID Not Found", as Flip's newer docs show it
//	1052  page not a number > 0                  1053  pagination not a number > 0
//	1055  start_date not YYYY-MM-DD              1056  end_date not YYYY-MM-DD
//	1057  end_date before start_date (the same day is allowed)
//	1058  amount below 10,000, or missing for step 2/3
//	1059  redirect_url not an absolute http(s) URL; local or private hosts
//	      too with [Options].RefuseLocalRedirects (off by default)
//	1060  status not ACTIVE/INACTIVE            1061  title empty, over 255 characters, or with HTML/quotes
//	1062  sort_by not id/bill_link/bill_title/sender_bank/amount/created_at
//	1063  sort_type not sort_asc/sort_desc
//	1064  amount not a whole number
//	1067  amount above MaxAmount (default 10,000,000)
//	1091  step 3 with a sender_bank/sender_bank_type pair that is not enabled ([Options].Channels)
//	1001  sender_name/sender_email (step 2/3) or sender_bank/sender_bank_type (step 3) missing
//	1041  sender_name/sender_email malformed; step or is_*_required not a valid value
//	 999  a request that is not application/x-www-form-urlencoded (JSON included,
//	      or no Content-Type at all, GETs included), attribute "Content-Type"
//
// # Bills and payments
//
// Link ids count up from 1 ([Options].FirstLinkID), or are Flip's 19-digit
// ids with [Options].LongIDs; either way they are JSON numbers. link_url is
// the fake's own checkout page written as Flip writes links, without a
// scheme: 127.0.0.1:PORT/pwf/checkout/{link_id} (package flip makes
// scheme-less links on a loopback host http://, all others https://);
// [Bill].LinkURL has the scheme. Payments' and callbacks' bill_link is the
// same scheme-less link. Create Bill answers a step-2 bill's customer with
// address and phone null, as Flip's sample does, although both are kept.
// A step-3 bill gets a PENDING payment at creation: a 16-17 digit
// virtual account number for virtual_account, qr_code_data for qris, and a
// payment_url; Create Bill answers it under bill_payment, while Get Bill,
// Get All Bills and Edit Bill show payment_method instead, as Flip's docs
// do. Payment ids are "PGPWF" and 20 digits. Timestamps are
// "YYYY-MM-DD HH:mm:ss" in Asia/Jakarta; bill_payment.created_at is a Unix
// time. A SINGLE bill becomes INACTIVE once paid; a MULTIPLE bill collects
// any number of payments. When a bill's expiry passes, the next request
// (or simulation) cancels its pending payments with CANCELLED callbacks.
//
// Payment lists: page 1 and 10 per page by default, sorted by created_at
// ascending unless sort_by/sort_type say otherwise; start_date and
// end_date bound the WIB creation day, inclusive. Each payment object also
// carries link_id as a string, as seen in Flip's sandbox. The list status
// of a cancelled payment is CANCELLED.
//
// # Flip's looser answers
//
// By default the fake writes the documented shapes. Options make it as
// loose as Flip's own examples, so a client's tolerance is tested end to
// end: [Options].EmptyPaymentsCode answers Get Payment of a bill with no
// payment yet with 422 code 1050 (or 1043) instead of an empty page, as
// Flip's official WooCommerce plugin expects; [Options].Quirks writes
// "null" strings for missing values and numbers as strings in payment
// lists, amounts as "45000.00", and callback bodies unencoded, as Flip's
// sample curl sends them.
//
// # Simulation routes (no auth; fake only)
//
//	POST /_fliptest/bills/{link_id}/pay        Server.Pay; optional form or JSON fields amount,
//	                                           sender_name, sender_email, sender_bank,
//	                                           sender_bank_type, reference_id
//	POST /_fliptest/bills/{link_id}/expire     Server.Expire
//	POST /_fliptest/bills/{link_id}/fail       Server.Fail
//	POST /_fliptest/payments/{id}/redeliver    Server.Redeliver; with a status field, Server.SendCallback
//	GET  /_fliptest/deliveries                 Server.Deliveries as JSON
//
// The simulations answer 200 with the payment as JSON ([Payment]); a
// refused one answers 404 (unknown bill) or Flip's 422 body. A form posted
// with return_to=checkout (as the checkout page does) is answered with a
// redirect to the checkout page instead.
//
// # Checkout pages (no auth)
//
//	GET /pwf/checkout/{link_id}      the bill's page: title, amount, status, Pay/Expire/Fail
//	GET /pwf/transaction/{id}        a payment's payment_url: redirects to its bill's page
//
// The page's stable element ids, for browser tests: "pay", "expire" and
// "fail" (the buttons), "status" (the latest payment's status, PENDING
// before any), "bill-status" (ACTIVE, INACTIVE or EXPIRED), "amount",
// "result" and "error" (the outcome of the last button), "va-number",
// "qr-code-data", "payment-id", and "return" (a link to the bill's
// redirect_url, shown once the latest payment is SUCCESSFUL). For an open
// amount the Pay form has an "amount-input" field.
//
// # Callbacks
//
// Each status change (and each Redeliver/SendCallback) makes one callback:
// a POST of the form data=<json>&token=<CallbackToken> to CallbackURL,
// with the data fields id, bill_link, bill_link_id, bill_title,
// sender_name, sender_email, sender_bank, sender_bank_type, amount, status
// and created_at. Delivery is asynchronous: an attempt not answered 200
// within CallbackTimeout (30 s) is retried MaxRetries times (5) every
// RetryInterval (2 minutes). Callbacks start in the order they were made
// (each one's first attempt ends before the next one's starts); retries
// run on their own. [Server.Deliveries] records every attempt,
// [Server.WaitDeliveries] waits for a number of them and [Server.WaitIdle]
// until none is in flight. [Server.SetCallbackMode] drops,
// duplicates or holds callbacks; [Server.Release] sends held ones in order
// or reversed. [Server.Close] stops every delivery.
//
// # Faults
//
// [Server.InjectFault] makes chosen API requests answer a given status and
// body (a 500, a gateway's HTML 502, truncated JSON) or answer late.
//
// Errors returned by the simulation methods are *provider.Error values:
// match them with errors.Is(err, provider.CodeNotFound) and the like; their
// field error carries Flip's numeric code.
package fliptest
