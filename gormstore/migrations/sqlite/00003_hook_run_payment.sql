-- Step 3, SQLite: hook runs name their payment (see the PostgreSQL step):
-- the columns provider and payment_id, backfilled from each run's event
-- in paylink_events (a run whose event is gone keeps ''), and the index
-- paylink_hook_runs_payment for HookRunFilter{Provider, PaymentID}. SQLite
-- has no ADD COLUMN IF NOT EXISTS; the step runs in one transaction, so it
-- either happened entirely or not at all.

-- +goose Up
ALTER TABLE `paylink_hook_runs` ADD COLUMN `provider` text NOT NULL DEFAULT '';
ALTER TABLE `paylink_hook_runs` ADD COLUMN `payment_id` text NOT NULL DEFAULT '';
UPDATE `paylink_hook_runs` SET
    `provider` = (SELECT e.`provider` FROM `paylink_events` e WHERE e.`event_id` = `paylink_hook_runs`.`event_id`),
    `payment_id` = (SELECT e.`payment_id` FROM `paylink_events` e WHERE e.`event_id` = `paylink_hook_runs`.`event_id`)
    WHERE EXISTS (SELECT 1 FROM `paylink_events` e WHERE e.`event_id` = `paylink_hook_runs`.`event_id`);
CREATE INDEX IF NOT EXISTS `paylink_hook_runs_payment` ON `paylink_hook_runs`(`provider`,`payment_id`);
