-- Wake the delivery services of other processes only for an outbox they may claim now. An outbox its own process hands
-- off (BusOutboxOptions.HandOff) is committed leased, due a few seconds later, and is usually deleted before then; a
-- timer is due when it fires, and its own process wakes for it (OutboxDeliverySignal.NotifyAt). Notifying for those
-- made every other process run a claim that found nothing, once per commit (at most every RemoteWakeInterval).
CREATE OR REPLACE FUNCTION messaging.notify_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM inserted WHERE next_attempt_at <= now()) THEN
        PERFORM pg_notify('messaging_outbox', '');
    END IF;
    RETURN NULL;
END $$;

DROP TRIGGER outbox_state_notify ON messaging.outbox_state;
CREATE TRIGGER outbox_state_notify AFTER INSERT ON messaging.outbox_state
    REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION messaging.notify_outbox();
