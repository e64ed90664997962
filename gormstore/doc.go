// Package gormstore is the provider.Store, provider.HookQueue and provider.Reader of
// paylink on GORM: PostgreSQL (gorm.io/driver/postgres) in production,
// SQLite (github.com/glebarez/sqlite, pure Go) as the embedded default. It
// records links, payments, every callback, status history and hook runs in
// your own database, and queues hook runs beside them, so a run exists if
// and only if the event that causes it was recorded.
//
// # Setup
//
//	db, err := gorm.Open(postgres.Open(dsn), &gorm.Config{})
//	...
//	if err := gormstore.Migrate(ctx, db); err != nil { ... }
//	store, err := gormstore.New(db, gormstore.Options{Logger: logger})
//	svc, err := provider.NewService(store, provider.ServiceOptions{...})
//	svc.On("mark_order_paid", provider.When(provider.PaymentSuccessful), ...)
//	err = svc.Start(ctx) // runs hooks from the store's queue
//	defer svc.Stop(shutdownCtx)
//
// # Models and migrations
//
// The tables are the exported models ([LinkRecord], [PaymentRecord],
// [CallbackRecord], [EventRecord], [StatusChangeRecord], [HookRunRecord],
// [LinkIntentRecord], [ActionRecord]),
// all named paylink_*. Ids from providers are strings, money is an int64
// amount plus a currency, times are UTC. [EventRecord] is the heart of
// exactly-once: its unique (provider, payment_id, status) row is the dedupe
// claim written in the same atomic step as the payment update, and it
// holds the JSON of the provider.HookEvent hooks receive. [HookRunRecord]
// is one event delivered to one named hook, unique per (event_id, hook): it
// is the queue entry (state, due time, lease) and the truth about whether
// that hook has run. [LinkIntentRecord] is the intent to create a link
// with an idempotency key, unique per key, stored before the provider is
// asked and completed in the transaction that stores the link (see
// provider.LinkIntent). [ActionRecord] is one operator action, the audit
// trail of provider.Service.Act ([Store] is a provider.ActionLog); Prune
// never removes it.
//
// [Migrate] brings the tables to this release's schema and, on
// PostgreSQL, creates the function paylink_write_conflict(). It runs
// numbered SQL steps, embedded from gormstore/migrations (one directory per
// dialect), with goose, and records each in [MigrationsTable]; the models
// document the columns but GORM creates nothing. It is explicit ([New]
// never migrates), idempotent, and safe when several replicas run it at
// once: on PostgreSQL it holds an advisory lock keyed by the current
// schema. Tables, and the version table, go to the schema of the
// connection's search_path. A database made by the last release before
// versioned migrations (GORM AutoMigrate) is adopted as it is.
//
// # A callback in two statements
//
// [Store.LoadApply] reads the link, the payment, the payment's claimed
// events and, for a SINGLE link, another paid payment of it, without
// locks: one SELECT on PostgreSQL, three or four short ones on SQLite
// (in process, there is no round trip to save). [Store.Apply] writes what the
// Service decided. On PostgreSQL it is one statement: each write (callback,
// event claim, payment, status change, link status, hook runs) is a CTE,
// and a final CASE calls paylink_write_conflict(), which raises and so
// rolls the whole statement back, when the claim was already taken or the
// payment's status changed since it was read; the Service then reads and
// decides again. No explicit transaction, no row lock: concurrent
// callbacks never wait for each other's round trips. On SQLite, with one
// writer, Apply is one immediate transaction of plain statements. Both
// paths use database/sql directly: GORM's per-statement reflection cost
// more than the statements on this path.
//
// # Reviewing the SQL
//
// The statements of Apply are assembled at run time, one per shape of
// write. gormstore/testdata/apply holds the SQL of every write shape,
// diffed by a test: for each shape the Service produces (applied, with
// and without hooks, an update that deactivates a SINGLE link, a partial
// refund, a reconciled event, duplicate, stale, flagged, unverified), the
// PostgreSQL statement and the SQLite statements with their arguments,
// and LoadApply's SQL on both. A change to the SQL shows as a diff there;
// go test ./gormstore -run Golden -update rewrites the files.
//
// # Transactions
//
// Each Store method is one atomic step of its own: Apply writes a
// callback's whole decision, SaveLink a link with its idempotency intent
// and its reconciliation mark. The store never joins a transaction of
// yours, and none is carried in a context: a write of your own that must
// go with a payment belongs in a hook, which runs after the payment is
// durable, once per event, with an idempotency key.
//
// Errors carry provider error codes: a missing row is CodeNotFound, an
// idempotency key used by another link is CodeConflict, and a database that
// is down, refuses connections or is busy is CodeUnavailable, so an HTTP
// adapter can answer 503 and the provider retries the callback. Error
// messages never contain SQL or connection strings.
//
// # The hook queue
//
// The rules of running hooks (which hooks exist, attempts, backoff,
// timeouts, panics) are provider.Service's. This package only stores and
// hands out runs: [Store.ClaimHookRuns] leases due runs of the named hooks
// in one UPDATE ... RETURNING (FOR UPDATE SKIP LOCKED on PostgreSQL, so
// replicas never share a run) together with their events,
// [Store.ExtendHookLeases] and [Store.FinishHookRuns] renew and record in
// one statement for a whole batch, and an outcome counts only while its
// lease token still holds the run. Due times and leases are on the
// store's clock: PostgreSQL's now(), so replicas' clocks need not agree;
// on SQLite the host's clock, which every process using the local file
// shares. [Store.ListHookRuns] and [Store.HookBacklog] are the reads
// (provider.Reader).
//
// # SQLite
//
// This package imports no SQLite driver (the pure-Go engine is a large
// build); your program opens the database. Use [OpenSQLiteDSN] (WAL, a
// busy timeout, _txlock=immediate) and then [ConfigureSQLite] (one
// connection): SQLite has a single writer, and more connections only turn
// waiting into SQLITE_BUSY errors.
package gormstore
