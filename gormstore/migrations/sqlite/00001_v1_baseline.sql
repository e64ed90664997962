-- Step 1, SQLite: the tables of paylink v1, exactly as the releases before
-- versioned migrations created them (GORM AutoMigrate of gormstore.Models),
-- with their unique indexes and the indexes of the small tables. The
-- non-unique indexes of the large tables are step 2, as on PostgreSQL.
--
-- Every statement is idempotent, so a database written by an earlier
-- release is adopted: the step finds everything in place and goose records
-- version 1. The DDL keeps GORM's text (lease_token's DEFAULT "" included)
-- so that a fresh database and an adopted one are identical.

-- +goose Up
CREATE TABLE IF NOT EXISTS `paylink_links` (
    `id` integer PRIMARY KEY AUTOINCREMENT,
    `provider` text NOT NULL,
    `link_id` text NOT NULL,
    `idempotency_key` text,
    `status` text NOT NULL,
    `amount` integer NOT NULL,
    `currency` text NOT NULL,
    `type` text NOT NULL,
    `step` integer NOT NULL,
    `url` text NOT NULL,
    `title` text NOT NULL,
    `payment_url` text NOT NULL,
    `redirect_url` text NOT NULL,
    `customer_name` text NOT NULL,
    `customer_email` text NOT NULL,
    `customer_phone` text NOT NULL,
    `customer_address` text NOT NULL,
    `method_bank` text NOT NULL,
    `method_type` text NOT NULL,
    `expires_at` datetime,
    `last_reconciled_at` datetime,
    `raw` blob,
    `created_at` datetime NOT NULL,
    `updated_at` datetime NOT NULL
);
CREATE INDEX IF NOT EXISTS `paylink_links_created_at` ON `paylink_links`(`created_at`);
CREATE INDEX IF NOT EXISTS `paylink_links_status` ON `paylink_links`(`status`);
CREATE UNIQUE INDEX IF NOT EXISTS `paylink_links_idempotency_key` ON `paylink_links`(`idempotency_key`);
CREATE UNIQUE INDEX IF NOT EXISTS `paylink_links_provider_link` ON `paylink_links`(`provider`,`link_id`);

CREATE TABLE IF NOT EXISTS `paylink_payments` (
    `id` integer PRIMARY KEY AUTOINCREMENT,
    `provider` text NOT NULL,
    `payment_id` text NOT NULL,
    `link_id` text NOT NULL,
    `amount` integer NOT NULL,
    `currency` text NOT NULL,
    `status` text NOT NULL,
    `raw_status` text NOT NULL,
    `refunded_amount` integer NOT NULL DEFAULT 0,
    `sender_name` text NOT NULL,
    `sender_email` text NOT NULL,
    `sender_phone` text NOT NULL,
    `sender_address` text NOT NULL,
    `method_bank` text NOT NULL,
    `method_type` text NOT NULL,
    `va_number` text NOT NULL,
    `payment_url` text NOT NULL,
    `provider_created_at` datetime,
    `completed_at` datetime,
    `raw` blob,
    `recorded_at` datetime NOT NULL,
    `updated_at` datetime NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS `paylink_payments_provider_payment` ON `paylink_payments`(`provider`,`payment_id`);

CREATE TABLE IF NOT EXISTS `paylink_callbacks` (
    `id` integer PRIMARY KEY AUTOINCREMENT,
    `provider` text NOT NULL,
    `payment_id` text NOT NULL,
    `link_id` text NOT NULL,
    `status` text NOT NULL,
    `amount` integer NOT NULL,
    `currency` text NOT NULL,
    `body` blob,
    `verdict` text NOT NULL,
    `received_at` datetime NOT NULL
);

CREATE TABLE IF NOT EXISTS `paylink_events` (
    `id` integer PRIMARY KEY AUTOINCREMENT,
    `event_id` text NOT NULL,
    `provider` text NOT NULL,
    `payment_id` text NOT NULL,
    `status` text NOT NULL,
    `payload` blob,
    `created_at` datetime NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS `paylink_events_key` ON `paylink_events`(`provider`,`payment_id`,`status`);
CREATE UNIQUE INDEX IF NOT EXISTS `paylink_events_event_id` ON `paylink_events`(`event_id`);

CREATE TABLE IF NOT EXISTS `paylink_status_changes` (
    `id` integer PRIMARY KEY AUTOINCREMENT,
    `provider` text NOT NULL,
    `payment_id` text NOT NULL,
    `from_status` text NOT NULL,
    `to_status` text NOT NULL,
    `refunded` integer NOT NULL DEFAULT 0,
    `source` text NOT NULL,
    `at` datetime NOT NULL
);

CREATE TABLE IF NOT EXISTS `paylink_hook_runs` (
    `id` integer PRIMARY KEY AUTOINCREMENT,
    `event_id` text NOT NULL,
    `hook` text NOT NULL,
    `state` text NOT NULL,
    `attempts` integer NOT NULL,
    `last_error` text NOT NULL,
    `idempotency_key` text NOT NULL,
    `lease_until` datetime,
    `lease_token` text NOT NULL DEFAULT "",
    `next_at` datetime NOT NULL,
    `created_at` datetime NOT NULL,
    `updated_at` datetime NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS `paylink_hook_runs_event_hook` ON `paylink_hook_runs`(`event_id`,`hook`);

CREATE TABLE IF NOT EXISTS `paylink_link_intents` (
    `id` integer PRIMARY KEY AUTOINCREMENT,
    `idempotency_key` text NOT NULL,
    `provider` text NOT NULL,
    `params_hash` text NOT NULL,
    `title` text NOT NULL,
    `type` text NOT NULL,
    `amount` integer NOT NULL,
    `currency` text NOT NULL,
    `created_at` datetime NOT NULL,
    `link_id` text,
    `completed_at` datetime
);
CREATE UNIQUE INDEX IF NOT EXISTS `paylink_link_intents_key` ON `paylink_link_intents`(`idempotency_key`);

CREATE TABLE IF NOT EXISTS `paylink_operator_actions` (
    `id` integer PRIMARY KEY AUTOINCREMENT,
    `kind` text NOT NULL,
    `actor` text NOT NULL,
    `provider` text NOT NULL,
    `callback_id` integer NOT NULL,
    `payment_id` text NOT NULL,
    `link_id` text NOT NULL,
    `hook_run_id` integer NOT NULL,
    `result` text NOT NULL,
    `error` text NOT NULL,
    `at` datetime NOT NULL
);
CREATE INDEX IF NOT EXISTS `paylink_operator_actions_at` ON `paylink_operator_actions`(`at`);
CREATE INDEX IF NOT EXISTS `paylink_operator_actions_hook_run` ON `paylink_operator_actions`(`hook_run_id`);
CREATE INDEX IF NOT EXISTS `paylink_operator_actions_callback` ON `paylink_operator_actions`(`callback_id`);
CREATE INDEX IF NOT EXISTS `paylink_operator_actions_link` ON `paylink_operator_actions`(`provider`,`link_id`);
CREATE INDEX IF NOT EXISTS `paylink_operator_actions_payment` ON `paylink_operator_actions`(`provider`,`payment_id`);
CREATE INDEX IF NOT EXISTS `paylink_operator_actions_actor` ON `paylink_operator_actions`(`actor`);

-- No Down: paylink's tables hold the money ledger, and dropping them is
-- never a migration step.
