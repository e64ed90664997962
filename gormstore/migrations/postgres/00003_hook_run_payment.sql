-- Step 3, PostgreSQL: hook runs name their payment. Until now a run's
-- payment was parsed out of its event id, which is wrong for partial
-- refunds and chargebacks ("mem:P1:PARTIALLY_REFUNDED:3000"). The columns
-- provider and payment_id are added (a constant default: no table
-- rewrite), existing runs are backfilled from their event's row in
-- paylink_events (a run whose event is gone keeps ''), and the index
-- paylink_hook_runs_payment serves HookRunFilter{Provider, PaymentID}.
--
-- NO TRANSACTION, for CREATE INDEX CONCURRENTLY: each statement commits on
-- its own, and each is idempotent, so a step that failed half-way runs
-- again from the top. The backfill touches only rows still at ''. Runs
-- queued by a replica of an older release after this step (during a
-- rolling deploy) keep ''; they are listed by event, not by payment.

-- +goose NO TRANSACTION
-- +goose Up
ALTER TABLE paylink_hook_runs ADD COLUMN IF NOT EXISTS provider character varying(64) DEFAULT ''::character varying NOT NULL;
ALTER TABLE paylink_hook_runs ADD COLUMN IF NOT EXISTS payment_id character varying(128) DEFAULT ''::character varying NOT NULL;
UPDATE paylink_hook_runs AS r SET provider = e.provider, payment_id = e.payment_id
    FROM paylink_events AS e WHERE e.event_id = r.event_id AND r.provider = '' AND r.payment_id = '';
CREATE INDEX CONCURRENTLY IF NOT EXISTS paylink_hook_runs_payment ON paylink_hook_runs (provider, payment_id);
