// Command fakemidtrans runs the fake Midtrans (Snap and the Core API
// transaction endpoints) of package provider/midtrans/midtranstest as a
// standalone server, so that any program (in any language) can be
// developed and tested against Midtrans offline.
//
//	go run ./examples/fakemidtrans
//
// Environment (all optional):
//
//	ADDR                       listen address (default ":9091")
//	MIDTRANSTEST_SERVER_KEY    the server key clients must send, and notifications
//	                           are signed with (default: a random "fakemidtrans-…"
//	                           key, printed on start; a key you set is never printed)
//	MIDTRANS_NOTIFICATION_URL  where notifications are POSTed, the dashboard's
//	                           Payment Notification URL (default: none, notifications
//	                           go only where a create request's
//	                           X-Override-Notification or X-Append-Notification says)
//	MIDTRANSTEST_EXPIRY        a duration ("24h", Midtrans's default; "2m" for a demo):
//	                           pending payments expire that long after the customer
//	                           picks a method, Snap pages after 24 hours (default: off)
//	MIDTRANSTEST_CANCEL_CHALLENGES  "true": challenged cards not approved are
//	                           cancelled at 16:00 WIB the next day (default: off)
//	MIDTRANSTEST_REFUND_LIMITS "true": refund windows by method and full-only
//	                           ShopeePay and OVO refunds (default: off)
//
// It prints the base URL (point your app's Midtrans base URL at it: the
// same base serves Snap under /snap and the Core API under /v2) and stops
// on SIGINT or SIGTERM. The routes are documented in package
// midtranstest; the hosted Snap page is /snap/v2/vtweb/{token}, whose
// buttons pick a method, pay (a card: accepted or challenged), approve a
// challenge, deny or expire the order. API calls must send Accept:
// application/json and, with a body, Content-Type: application/json, as
// Midtrans requires. The README lists the fake's modes and which of them
// the standalone server exposes.
package main
