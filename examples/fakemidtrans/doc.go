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
//
// It prints the base URL (point your app's Midtrans base URL at it: the
// same base serves Snap under /snap and the Core API under /v2) and stops
// on SIGINT or SIGTERM. The routes are documented in package
// midtranstest; the hosted Snap page is /snap/v2/vtweb/{token}, whose
// buttons pay, deny or expire the order. API calls must send Accept:
// application/json and, with a body, Content-Type: application/json, as
// Midtrans requires. The README lists the fake's modes and which of them
// the standalone server exposes.
package main
