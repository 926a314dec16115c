-- Per-outbox attempts, due times and parking (src/Messaging/README.md, "Outboxes the broker keeps refusing").
--
-- A failure specific to one bus outbox (the broker refused its message, not an outage) counts an attempt and
-- moves that outbox's next_attempt_at back by its own exponential delay; the other outboxes keep going. After
-- BusOutboxOptions.MaxAttempts such attempts the outbox is parked (parked_at): claims skip it until an operator
-- releases it with messaging.release_parked_outbox(outbox_id). Its messages stay where they are, in order.

ALTER TABLE messaging.outbox_state
    ADD COLUMN attempts        integer     NOT NULL DEFAULT 0,
    ADD COLUMN next_attempt_at timestamptz NOT NULL DEFAULT now(),
    ADD COLUMN last_error      text,
    ADD COLUMN parked_at       timestamptz;

-- Outboxes waiting while this runs keep their turn.
UPDATE messaging.outbox_state SET next_attempt_at = created;

-- Claims take the due outboxes in due order: an index range that ends at now(), so outboxes waiting for a later
-- attempt and parked ones cost a claim nothing. Claims no longer read created.
CREATE INDEX outbox_state_due_idx ON messaging.outbox_state (next_attempt_at) WHERE parked_at IS NULL;
DROP INDEX messaging.outbox_state_created_idx;

-- What operators look at: every parked outbox with its error, attempts and what it would send where.
CREATE VIEW messaging.outbox_parked AS
SELECT s.outbox_id,
       s.created,
       s.parked_at,
       s.attempts,
       s.last_error,
       count(m.id)                                                              AS messages,
       array_agg(DISTINCT m.destination_address) FILTER (WHERE m.id IS NOT NULL) AS destinations
FROM messaging.outbox_state s
LEFT JOIN messaging.outbox_message m ON m.outbox_id = s.outbox_id
WHERE s.parked_at IS NOT NULL
GROUP BY s.outbox_id;

-- Puts a parked outbox back into delivery, due at once and with a fresh attempt count (run it once the cause is
-- fixed). Wakes every delivery service at commit. False when no such parked outbox exists.
CREATE FUNCTION messaging.release_parked_outbox(released uuid) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    UPDATE messaging.outbox_state
    SET parked_at = NULL, attempts = 0, last_error = NULL, next_attempt_at = now()
    WHERE outbox_id = released AND parked_at IS NOT NULL;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    PERFORM pg_notify('messaging_outbox', '');
    RETURN true;
END $$;
