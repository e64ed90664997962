-- Step 1, PostgreSQL: the tables of paylink v1, exactly as the releases
-- before versioned migrations created them (GORM AutoMigrate of
-- gormstore.Models), their primary keys, their unique indexes, the indexes
-- of the small tables, and the function paylink_write_conflict() that
-- Store.Apply calls to refuse a write. The non-unique indexes of the large
-- tables are step 2, built CONCURRENTLY.
--
-- Every statement is idempotent, so a database written by an earlier
-- release is adopted: the step finds everything in place and goose records
-- version 1. Runs in one transaction.

-- +goose Up
CREATE TABLE IF NOT EXISTS paylink_links (
    id bigserial PRIMARY KEY,
    provider character varying(64) NOT NULL,
    link_id character varying(128) NOT NULL,
    idempotency_key character varying(255),
    status character varying(32) NOT NULL,
    amount bigint NOT NULL,
    currency character varying(8) NOT NULL,
    type character varying(32) NOT NULL,
    step bigint NOT NULL,
    url text NOT NULL,
    title text NOT NULL,
    payment_url text NOT NULL,
    redirect_url text NOT NULL,
    customer_name text NOT NULL,
    customer_email text NOT NULL,
    customer_phone text NOT NULL,
    customer_address text NOT NULL,
    method_bank character varying(64) NOT NULL,
    method_type character varying(64) NOT NULL,
    expires_at timestamp with time zone,
    last_reconciled_at timestamp with time zone,
    raw bytea,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS paylink_links_provider_link ON paylink_links (provider, link_id);
CREATE UNIQUE INDEX IF NOT EXISTS paylink_links_idempotency_key ON paylink_links (idempotency_key);
CREATE INDEX IF NOT EXISTS paylink_links_status ON paylink_links (status);
CREATE INDEX IF NOT EXISTS paylink_links_created_at ON paylink_links (created_at);

CREATE TABLE IF NOT EXISTS paylink_payments (
    id bigserial PRIMARY KEY,
    provider character varying(64) NOT NULL,
    payment_id character varying(128) NOT NULL,
    link_id character varying(128) NOT NULL,
    amount bigint NOT NULL,
    currency character varying(8) NOT NULL,
    status character varying(32) NOT NULL,
    raw_status character varying(64) NOT NULL,
    refunded_amount bigint DEFAULT 0 NOT NULL,
    sender_name text NOT NULL,
    sender_email text NOT NULL,
    sender_phone text NOT NULL,
    sender_address text NOT NULL,
    method_bank character varying(64) NOT NULL,
    method_type character varying(64) NOT NULL,
    va_number character varying(64) NOT NULL,
    payment_url text NOT NULL,
    provider_created_at timestamp with time zone,
    completed_at timestamp with time zone,
    raw bytea,
    recorded_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS paylink_payments_provider_payment ON paylink_payments (provider, payment_id);

CREATE TABLE IF NOT EXISTS paylink_callbacks (
    id bigserial PRIMARY KEY,
    provider character varying(64) NOT NULL,
    payment_id character varying(128) NOT NULL,
    link_id character varying(128) NOT NULL,
    status character varying(32) NOT NULL,
    amount bigint NOT NULL,
    currency character varying(8) NOT NULL,
    body bytea,
    verdict character varying(32) NOT NULL,
    received_at timestamp with time zone NOT NULL
);

CREATE TABLE IF NOT EXISTS paylink_events (
    id bigserial PRIMARY KEY,
    event_id character varying(320) NOT NULL,
    provider character varying(64) NOT NULL,
    payment_id character varying(128) NOT NULL,
    status character varying(64) NOT NULL,
    payload bytea,
    created_at timestamp with time zone NOT NULL
);
-- The dedupe claims of exactly-once: unique from the first row on.
CREATE UNIQUE INDEX IF NOT EXISTS paylink_events_event_id ON paylink_events (event_id);
CREATE UNIQUE INDEX IF NOT EXISTS paylink_events_key ON paylink_events (provider, payment_id, status);

CREATE TABLE IF NOT EXISTS paylink_status_changes (
    id bigserial PRIMARY KEY,
    provider character varying(64) NOT NULL,
    payment_id character varying(128) NOT NULL,
    from_status character varying(32) NOT NULL,
    to_status character varying(32) NOT NULL,
    refunded bigint DEFAULT 0 NOT NULL,
    source character varying(32) NOT NULL,
    at timestamp with time zone NOT NULL
);

CREATE TABLE IF NOT EXISTS paylink_hook_runs (
    id bigserial PRIMARY KEY,
    event_id character varying(320) NOT NULL,
    hook character varying(200) NOT NULL,
    state character varying(16) NOT NULL,
    attempts bigint NOT NULL,
    last_error text NOT NULL,
    idempotency_key character varying(128) NOT NULL,
    lease_until timestamp with time zone,
    lease_token character varying(64) DEFAULT ''::character varying NOT NULL,
    next_at timestamp with time zone NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS paylink_hook_runs_event_hook ON paylink_hook_runs (event_id, hook);

CREATE TABLE IF NOT EXISTS paylink_link_intents (
    id bigserial PRIMARY KEY,
    idempotency_key character varying(255) NOT NULL,
    provider character varying(64) NOT NULL,
    params_hash character varying(128) NOT NULL,
    title text NOT NULL,
    type character varying(32) NOT NULL,
    amount bigint NOT NULL,
    currency character varying(8) NOT NULL,
    created_at timestamp with time zone NOT NULL,
    link_id character varying(128),
    completed_at timestamp with time zone
);
CREATE UNIQUE INDEX IF NOT EXISTS paylink_link_intents_key ON paylink_link_intents (idempotency_key);

CREATE TABLE IF NOT EXISTS paylink_operator_actions (
    id bigserial PRIMARY KEY,
    kind character varying(32) NOT NULL,
    actor character varying(200) NOT NULL,
    provider character varying(64) NOT NULL,
    callback_id bigint NOT NULL,
    payment_id character varying(128) NOT NULL,
    link_id character varying(128) NOT NULL,
    hook_run_id bigint NOT NULL,
    result text NOT NULL,
    error text NOT NULL,
    at timestamp with time zone NOT NULL
);
CREATE INDEX IF NOT EXISTS paylink_operator_actions_actor ON paylink_operator_actions (actor);
CREATE INDEX IF NOT EXISTS paylink_operator_actions_payment ON paylink_operator_actions (provider, payment_id);
CREATE INDEX IF NOT EXISTS paylink_operator_actions_link ON paylink_operator_actions (provider, link_id);
CREATE INDEX IF NOT EXISTS paylink_operator_actions_callback ON paylink_operator_actions (callback_id);
CREATE INDEX IF NOT EXISTS paylink_operator_actions_hook_run ON paylink_operator_actions (hook_run_id);
CREATE INDEX IF NOT EXISTS paylink_operator_actions_at ON paylink_operator_actions (at);

-- Store.Apply calls it to roll its own statement back when its claim or
-- precondition did not hold; SQLSTATE 40001 is what Apply recognises.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION paylink_write_conflict() RETURNS bigint
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
	RAISE EXCEPTION USING ERRCODE = '40001', MESSAGE = 'paylink: write conflict';
END
$$;
-- +goose StatementEnd

-- No Down: paylink's tables hold the money ledger, and dropping them is
-- never a migration step.
