-- Step 2, PostgreSQL: the non-unique indexes of the tables that grow with
-- traffic (payments, callbacks, events, status changes, hook runs), as v1
-- has them. CREATE INDEX CONCURRENTLY builds an index without blocking
-- writes, so a large database gains a missing index during a deploy while
-- callbacks keep arriving; it cannot run in a transaction, hence NO
-- TRANSACTION: each statement commits on its own.
--
-- A concurrent build that fails (a deploy killed mid-build, a lock
-- timeout) leaves an INVALID index of that name, which IF NOT EXISTS would
-- then skip. Migrate drops INVALID paylink_ indexes, CONCURRENTLY, before
-- it runs any step, so re-running this step builds them again.

-- +goose NO TRANSACTION
-- +goose Up
CREATE INDEX CONCURRENTLY IF NOT EXISTS paylink_payments_link ON paylink_payments (provider, link_id);
CREATE INDEX CONCURRENTLY IF NOT EXISTS paylink_callbacks_payment ON paylink_callbacks (provider, payment_id);
CREATE INDEX CONCURRENTLY IF NOT EXISTS paylink_callbacks_link ON paylink_callbacks (link_id);
CREATE INDEX CONCURRENTLY IF NOT EXISTS paylink_callbacks_flagged ON paylink_callbacks (verdict)
    WHERE verdict <> 'applied' AND verdict <> 'duplicate' AND verdict <> 'stale';
CREATE INDEX CONCURRENTLY IF NOT EXISTS paylink_callbacks_received_at ON paylink_callbacks (received_at);
CREATE INDEX CONCURRENTLY IF NOT EXISTS paylink_events_payload_created_at ON paylink_events (created_at)
    WHERE payload IS NOT NULL;
CREATE INDEX CONCURRENTLY IF NOT EXISTS paylink_status_changes_payment ON paylink_status_changes (provider, payment_id);
CREATE INDEX CONCURRENTLY IF NOT EXISTS paylink_hook_runs_due ON paylink_hook_runs (state, next_at)
    WHERE state = 'pending' OR state = 'retrying';
CREATE INDEX CONCURRENTLY IF NOT EXISTS paylink_hook_runs_succeeded ON paylink_hook_runs (updated_at)
    WHERE state = 'succeeded';
