-- What the Api records when it accepts a request, in the same transaction as the outbox rows it publishes.
CREATE SCHEMA IF NOT EXISTS api;

-- One row per accepted order. (client_id, idempotency_key) makes a retried POST /orders return the same
-- order; the copy of the order's facts lets GET /orders/{id} answer "Submitted" before a worker has
-- created the saga row, and lets support see accepted orders even while the workers are down.
CREATE TABLE api.idempotency_keys (
    client_id       text          NOT NULL,
    idempotency_key text          NOT NULL CHECK (length(idempotency_key) BETWEEN 1 AND 255),
    request_hash    text          NOT NULL,
    order_id        uuid          NOT NULL UNIQUE,
    customer_id     text          NOT NULL,
    currency        character(3)  NOT NULL,
    total           numeric(12,2) NOT NULL,
    lines           jsonb         NOT NULL,
    created_at      timestamptz   NOT NULL,
    PRIMARY KEY (client_id, idempotency_key)
);
CREATE INDEX idempotency_keys_created_at ON api.idempotency_keys (created_at DESC, order_id DESC);
CREATE INDEX idempotency_keys_customer ON api.idempotency_keys (customer_id, created_at DESC);

CREATE SCHEMA IF NOT EXISTS payments;

-- Provider webhooks, deduplicated by the provider's event id: a repeated delivery is answered 200 and
-- changes nothing.
CREATE TABLE payments.webhook_events (
    event_id           text          PRIMARY KEY CHECK (length(event_id) BETWEEN 1 AND 200),
    type               text          NOT NULL,
    provider_reference text          NOT NULL,
    merchant_reference text          NOT NULL,
    amount             numeric(12,2) NOT NULL,
    currency           character(3)  NOT NULL,
    occurred_at        timestamptz   NOT NULL,
    received_at        timestamptz   NOT NULL
);
CREATE INDEX webhook_events_merchant_reference ON payments.webhook_events (merchant_reference);
