-- One delivery path (issue 12): every message a consumer sends is committed as a bus outbox, which the delivery
-- service sends. Messages stored against an inbox entry and delivered by MassTransit's inline passes are gone, and
-- with them the columns that owned and tracked them.
--
-- No deployment ever wrote such rows: the Api and the Workers always ran with the bus outbox. Should one exist anyway,
-- SET NOT NULL below fails and the migration stops (its transaction rolls back) rather than drop a message silently.

ALTER TABLE messaging.outbox_message
    DROP CONSTRAINT outbox_message_one_owner,
    DROP CONSTRAINT outbox_message_inbox_fkey;
DROP INDEX messaging.outbox_message_inbox_sequence_idx;
ALTER TABLE messaging.outbox_message
    DROP COLUMN inbox_message_id,
    DROP COLUMN inbox_consumer_id,
    ALTER COLUMN outbox_id SET NOT NULL;

-- Inline delivery's progress through an entry's stored messages.
ALTER TABLE messaging.inbox_state DROP COLUMN last_sequence_number;
