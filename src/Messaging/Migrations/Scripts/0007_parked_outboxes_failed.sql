-- Parked outboxes are failed messages too (issue 15): support sees, retries and discards them where it sees every
-- other message that failed for good (GET /support/failed-messages), not only in messaging.outbox_parked.
--
-- A row stands for a parked bus outbox when outbox_id is set: message_id is the outbox's id (outbox ids and message
-- ids are both fresh UUIDs); queue, type and order are those of its first message (queue: the destination's name, the
-- last segment of its address; the whole address is in messaging.outbox_parked); exception_type is 'OutboxParked' (one
-- group per message type) and reason the outbox's last error. Its body stays in the outbox: retrying it releases the
-- outbox (messaging.release_parked_outbox), discarding it deletes the outbox.

ALTER TABLE messaging.failed_message ADD COLUMN outbox_id uuid;

-- The orderId (or correlationId) of a MassTransit envelope, as the error-queue drain reads it (ErrorQueueMessage);
-- null for a body that is no such envelope — never an error, which would fail the transaction parking the outbox.
CREATE FUNCTION messaging.envelope_correlation(body text) RETURNS uuid LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    envelope jsonb;
BEGIN
    envelope := body::jsonb;
    RETURN coalesce(envelope #>> '{message,orderId}', envelope #>> '{message,correlationId}', envelope ->> 'correlationId')::uuid;
EXCEPTION WHEN others THEN
    RETURN NULL;
END $$;

-- Written in the transaction that parks the outbox (the trigger below), so no parked outbox is ever missing from the
-- list. Parked again after a retry, it counts one more attempt and waits for a person again, as a drained message does.
CREATE FUNCTION messaging.record_parked_outbox(parked uuid) RETURNS void LANGUAGE sql AS $$
    INSERT INTO messaging.failed_message AS f
           (message_id, outbox_id, queue, message_type, correlation_id, exception_type, reason,
            first_failed_at, last_failed_at, content_type, body)
    SELECT s.outbox_id, s.outbox_id, coalesce(regexp_replace(split_part(m.destination_address, '?', 1), '^.*/', ''), ''),
           coalesce(regexp_replace(split_part(m.message_type, ';', 1), '^urn:message:', ''), ''),
           coalesce(messaging.envelope_correlation(m.body), m.correlation_id),
           'OutboxParked', coalesce(s.last_error, 'parked'), s.parked_at, s.parked_at, m.content_type, ''::bytea
      FROM messaging.outbox_state s
      LEFT JOIN LATERAL (SELECT * FROM messaging.outbox_message
                          WHERE outbox_id = s.outbox_id ORDER BY sequence_number LIMIT 1) m ON true
     WHERE s.outbox_id = parked AND s.parked_at IS NOT NULL
    ON CONFLICT (message_id) DO UPDATE
       SET reason = EXCLUDED.reason, last_failed_at = EXCLUDED.last_failed_at, attempts = f.attempts + 1,
           state = 'failed', state_changed_at = NULL, state_changed_by = NULL, discard_reason = NULL
     WHERE f.last_failed_at < EXCLUDED.last_failed_at;
$$;

CREATE FUNCTION messaging.outbox_state_parked() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM messaging.record_parked_outbox(NEW.outbox_id);
    RETURN NULL;
END $$;

CREATE TRIGGER outbox_state_parked AFTER UPDATE OF parked_at ON messaging.outbox_state
    FOR EACH ROW WHEN (OLD.parked_at IS NULL AND NEW.parked_at IS NOT NULL)
    EXECUTE FUNCTION messaging.outbox_state_parked();

-- Released by hand (SELECT messaging.release_parked_outbox(...)) rather than through support's retry: the row no
-- longer waits for a person. Support's retry sets the same state in the same transaction, with its client name.
CREATE FUNCTION messaging.outbox_state_released() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE messaging.failed_message
       SET state = 'retried', state_changed_at = now(), state_changed_by = current_user
     WHERE outbox_id = NEW.outbox_id AND state = 'failed';
    RETURN NULL;
END $$;

CREATE TRIGGER outbox_state_released AFTER UPDATE OF parked_at ON messaging.outbox_state
    FOR EACH ROW WHEN (OLD.parked_at IS NOT NULL AND NEW.parked_at IS NULL)
    EXECUTE FUNCTION messaging.outbox_state_released();

-- Outboxes parked before this migration.
SELECT messaging.record_parked_outbox(outbox_id) FROM messaging.outbox_state WHERE parked_at IS NOT NULL;
