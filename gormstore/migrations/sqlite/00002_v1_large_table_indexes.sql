-- Step 2, SQLite: the non-unique indexes of the tables that grow with
-- traffic, as v1 has them. SQLite has one writer and no concurrent index
-- builds: a plain CREATE INDEX in the step's transaction. (The PostgreSQL
-- twin of this step builds them CONCURRENTLY.)

-- +goose Up
CREATE INDEX IF NOT EXISTS `paylink_payments_link` ON `paylink_payments`(`provider`,`link_id`);
CREATE INDEX IF NOT EXISTS `paylink_callbacks_received_at` ON `paylink_callbacks`(`received_at`);
CREATE INDEX IF NOT EXISTS `paylink_callbacks_flagged` ON `paylink_callbacks`(`verdict`) WHERE verdict <> 'applied' AND verdict <> 'duplicate' AND verdict <> 'stale';
CREATE INDEX IF NOT EXISTS `paylink_callbacks_link` ON `paylink_callbacks`(`link_id`);
CREATE INDEX IF NOT EXISTS `paylink_callbacks_payment` ON `paylink_callbacks`(`provider`,`payment_id`);
CREATE INDEX IF NOT EXISTS `paylink_events_payload_created_at` ON `paylink_events`(`created_at`) WHERE payload IS NOT NULL;
CREATE INDEX IF NOT EXISTS `paylink_status_changes_payment` ON `paylink_status_changes`(`provider`,`payment_id`);
CREATE INDEX IF NOT EXISTS `paylink_hook_runs_succeeded` ON `paylink_hook_runs`(`updated_at`) WHERE state = 'succeeded';
CREATE INDEX IF NOT EXISTS `paylink_hook_runs_due` ON `paylink_hook_runs`(`state`,`next_at`) WHERE state = 'pending' OR state = 'retrying';
