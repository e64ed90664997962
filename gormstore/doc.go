// Package gormstore is the provider.Store of paylink on GORM: PostgreSQL
// (gorm.io/driver/postgres) in production, SQLite (github.com/glebarez/sqlite,
// pure Go) as the embedded default. It records links, payments, every
// callback, status history and hook runs in your own database, and runs
// hooks durably through River (github.com/riverqueue/river).
//
// # Setup
//
//	db, err := gorm.Open(postgres.Open(dsn), &gorm.Config{})
//	...
//	if err := gormstore.Migrate(ctx, db); err != nil { ... }
//	store, err := gormstore.New(db, gormstore.Options{Logger: logger})
//	svc, err := provider.NewService(store, provider.ServiceOptions{...})
//	svc.OnSucceeded("mark_order_paid", ...)
//	err = svc.Start(ctx) // calls store.StartHooks
//	defer svc.Stop(shutdownCtx)
//
// # Models and migrations
//
// The tables are the exported models ([LinkRecord], [PaymentRecord],
// [CallbackRecord], [EventRecord], [StatusChangeRecord], [HookRunRecord]),
// all named paylink_*. Ids from providers are strings, money is an int64
// amount plus a currency, times are UTC. [EventRecord] is the heart of
// exactly-once: its unique (provider, payment_id, status) row is the dedupe
// claim taken in the same transaction as the payment update, and it holds
// the JSON of the provider.HookEvent hooks receive. [HookRunRecord] is one
// event delivered to one named hook, unique per (event_id, hook), and is
// the truth about whether that hook has run; River's job rows only carry
// its id (River forgets finished jobs after a day, our rows stay).
//
// [Migrate] creates the tables and River's own (rivermigrate). It is
// explicit ([New] never migrates), idempotent, and safe when several
// replicas run it at once: on PostgreSQL it holds an advisory lock keyed by
// the current schema. Tables go to the schema of the connection's
// search_path, River's too.
//
// # Transactions
//
// [Store.InTx] runs one GORM transaction. To make paylink's writes part of
// a transaction of your own, pass it in the context with [ContextWithTx]
// or bind a store to it with [Store.WithTx]: the store then joins it and
// neither commits nor rolls back. Store methods called with the ctx that
// InTx hands to its function run in the same transaction.
//
// Errors carry provider error codes: a missing row is CodeNotFound, an
// idempotency key used by another link is CodeConflict, and a database that
// is down, refuses connections or is busy is CodeUnavailable, so an HTTP
// adapter can answer 503 and the provider retries the callback. Error
// messages never contain SQL or connection strings.
//
// # Hooks and River
//
// [provider.Tx.EnqueueHooks] inserts one hook run per hook and one River job
// per new run with InsertTx on the *sql.Tx inside the GORM transaction, so
// a job exists if and only if the callback's transaction commits.
// [Store.StartHooks] starts a River client (riverdatabasesql on the *sql.DB
// GORM exposes, with a pgx LISTEN connection on PostgreSQL so new jobs
// start within milliseconds; riversqlite on SQLite) whose worker:
//
//   - returns at once if the run already succeeded, so a re-delivered job
//     never runs a hook twice;
//   - leases the run, renewing the lease while the hook runs (a second job
//     for the same run, such as one River rescued from a hook that ignores
//     its context, waits for the lease), and records the attempt only while
//     it still holds the lease;
//   - calls the dispatcher with the event, attempt number and the run's
//     stable idempotency key, under HookPolicy.Timeout, a panic counting as
//     a failed attempt;
//   - marks the run succeeded, or retrying (River retries after
//     HookPolicy.Backoff plus jitter), or failed after HookPolicy.MaxAttempts,
//     where it stays, visible, until [Store.RetryHookRun]. An attempt cut
//     short by River's JobTimeout counts; one interrupted because the client
//     is stopping does not, and the run is left for the next client.
//
// River is configured explicitly: JobTimeout (the hook timeout plus 30 s),
// RescueStuckJobsAfter (a few minutes, not River's default hour, so a job
// left by a crashed process is retried soon), MaxWorkers (10), and a short
// FetchCooldown and FetchPollInterval. Runs enqueued while no client runs
// (by another replica, or before a crash) are delivered by whichever
// instance starts hooks next.
//
// # SQLite
//
// This package imports no SQLite driver (the pure-Go engine is a large
// build); your program opens the database. Use [OpenSQLiteDSN] (WAL, a
// busy timeout, _txlock=immediate) and then [ConfigureSQLite] (one
// connection): SQLite has a single writer, and more connections only turn
// waiting into SQLITE_BUSY errors. River's SQLite migrations need the jsonb
// functions of the SQLite in github.com/glebarez/go-sqlite v1.23.0 or newer.
package gormstore
