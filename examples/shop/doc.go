// Command shop is a small Gin shop that takes payments through Flip for
// Business (or Midtrans Snap) with paylink, mounted the way an application
// would mount it.
//
//	go run ./examples/shop
//	PAYMENT_PROVIDER=midtrans go run ./examples/shop
//
// With nothing configured it runs offline: an embedded SQLite file
// (shop.db) and an in-process fake Flip (flip/fliptest) with a checkout
// page, so a person can create an order at http://localhost:8080/, pay it
// in the browser and watch it become PAID.
//
// # What it shows
//
//   - its own GORM models (orders, receipts) beside paylink's tables, in
//     one database (PostgreSQL, or SQLite opened with WAL, a busy timeout,
//     _txlock=immediate and one connection);
//   - a payment link per order, created through [provider.Service.CreateLink]
//     with the idempotency key "order-<id>", with Flip sending the customer
//     back to the order page;
//   - Flip's callbacks on POST /flip/callback, mounted by ginadapter
//     (token checked, recorded, applied in one transaction);
//   - durable hooks: "shop.mark-paid" marks the order PAID and sends one
//     receipt, exactly once however often Flip repeats the callback, because
//     the receipt row is keyed by the hook's idempotency key; cancelled and
//     failed payments never overwrite a PAID order;
//   - the reconciler, which applies payments whose callback never came;
//   - metrics and traces through provider/otelpaylink: GET /metrics for
//     Prometheus, and OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set;
//   - a graceful shutdown that loses no callback.
//
// # Configuration (environment, all optional)
//
//	ADDR                 listen address (default ":8080")
//	SHOP_ADMIN_ADDR      set: /metrics and the console listen here, not on ADDR
//	DATABASE_URL         a postgres:// URL selects PostgreSQL; empty: SQLite
//	SHOP_SQLITE_PATH     the SQLite file (default "shop.db")
//	SHOP_PUBLIC_URL      the shop's URL as customers reach it (default http://localhost:<port>)
//	FLIP_SECRET_KEY      set: use the real Flip; unset: the offline fake
//	FLIP_ENV             "sandbox" (default) or "production" (needs the secret key)
//	FLIP_BASE_URL        overrides Flip's API base, the part before /v2 (needs the secret key)
//	FLIP_CALLBACK_TOKEN  Flip's validation token; required with a real key,
//	                     offline the fake's token (random when unset)
//	FLIPTEST_ADDR        where the offline fake listens (default 127.0.0.1:0)
//	PAYMENT_PROVIDER     "flip" (default) or "midtrans"; anything else refuses to start
//	MIDTRANS_SERVER_KEY  set: use the real Midtrans; unset: the offline fake Midtrans
//	MIDTRANS_CLIENT_KEY  Midtrans's client key (for Snap.js; needs the server key)
//	MIDTRANS_ENV         "sandbox" (default) or "production" (needs the server key)
//	MIDTRANS_BASE_URL    replaces both Midtrans hosts, e.g. examples/fakemidtrans's URL (needs the server key)
//	MIDTRANSTEST_SERVER_KEY  offline, the fake Midtrans's server key (random when unset)
//	OTEL_EXPORTER_OTLP_ENDPOINT  set: also push metrics and traces over OTLP/HTTP
//	OTEL_SERVICE_NAME    service.name of the telemetry (default "paylink-shop")
//	PAYLINK_CONSOLE_USER, PAYLINK_CONSOLE_PASSWORD  both set: the console at /ops/
//	                     behind basic auth, wrong passwords throttled (429)
//
// Only the wiring (config.go, payments.go) knows which provider runs: the
// handlers and hooks are the same for both.
//
// # Routes
//
//	GET  /                 the orders and a form to create one
//	POST /orders           {"title","amount","customer":{"name","email","phone"},
//	                        optional "step","sender_bank","sender_bank_type"}
//	                       -> 201 {"id","status":"PENDING","amount","payment":{...}}
//	GET  /orders/:id       -> {"id","status","paid_at","receipts_sent","payment":{...}}
//	GET  /orders/:id/view  the customer's order page (status in #order-status)
//	POST /flip/callback    Flip's callbacks (ginadapter), with Flip
//	POST /midtrans/notification  Midtrans's signed notifications (ginadapter), with Midtrans
//	GET  /metrics          Prometheus metrics (paylink's, HTTP server and client)
//	GET  /ops/             the operations console, when configured
//
// /metrics and /ops/ move to SHOP_ADMIN_ADDR when it is set.
//
// POST /orders needs Content-Type: application/json (else 415, so that no
// other site's page can create orders through a visitor's browser).
// Invalid input is answered 400 (not JSON, or a field of the wrong JSON
// type, named in "fields" with the rule "type") or 422 with
// {"error": "...", "fields": [{"field": "amount", "rule": "min", "message": "..."}]}.
package main
