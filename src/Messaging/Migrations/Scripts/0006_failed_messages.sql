-- Failed messages (issue 15): every message MassTransit moved to a `<queue>_error` queue after its retries, drained
-- into PostgreSQL by the Workers (Failed/ErrorQueueDrain) so support can list, retry and discard it over HTTP.
-- The broker's error queue is only the hand-over: a message is acknowledged there once its row has committed.

CREATE TABLE messaging.failed_message (
    id              bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- The message's MessageId (or, for a message that has none, one derived from its queue, body and fault time):
    -- a redelivered error message finds its row instead of making a second one.
    message_id      uuid        NOT NULL CONSTRAINT failed_message_message_key UNIQUE,
    queue           text        NOT NULL,
    message_type    text        NOT NULL,
    -- The message's orderId / correlationId when it has one (the application's key; nothing here knows orders).
    correlation_id  uuid,
    exception_type  text        NOT NULL,
    reason          text        NOT NULL,
    -- Groups: same exception, same message type.
    group_key       text        NOT NULL GENERATED ALWAYS AS (md5(exception_type || chr(10) || message_type)) STORED,
    first_failed_at timestamptz NOT NULL,
    last_failed_at  timestamptz NOT NULL,
    -- How many times it failed for good: 1, plus one for every retry that failed again.
    attempts        integer     NOT NULL DEFAULT 1,
    content_type    text,
    body            bytea       NOT NULL,
    -- The transport headers as received from the error queue (fault headers included), name → text.
    headers         jsonb       NOT NULL DEFAULT '{}',
    -- failed: waiting for a person; retried: sent back to its queue once; discarded: never to be sent.
    state           text        NOT NULL DEFAULT 'failed' CHECK (state IN ('failed', 'retried', 'discarded')),
    state_changed_at timestamptz,
    state_changed_by text,
    discard_reason  text
);

-- The list (oldest first) and the groups read only what still waits for a person.
CREATE INDEX failed_message_waiting_idx ON messaging.failed_message (first_failed_at, id) WHERE state = 'failed';
CREATE INDEX failed_message_group_idx ON messaging.failed_message (group_key, first_failed_at, id) WHERE state = 'failed';

-- Who did what to a failed message, and why.
CREATE TABLE messaging.failed_message_action (
    id                bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    failed_message_id bigint      NOT NULL REFERENCES messaging.failed_message (id) ON DELETE CASCADE,
    at                timestamptz NOT NULL DEFAULT now(),
    action            text        NOT NULL CHECK (action IN ('retried', 'discarded')),
    client            text        NOT NULL,
    reason            text
);

CREATE INDEX failed_message_action_message_idx ON messaging.failed_message_action (failed_message_id, id);
