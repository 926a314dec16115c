-- Retention (issue 17): final orders whose last change is older than Retention:ArchiveAfter leave the hot tables for
-- schema archive, with everything that is the order's history: the saga row, its timeline, the payment and refund
-- records, its stock holds, the accepted-order (idempotency) row and the provider's webhooks that name it. The Workers'
-- RetentionSweep calls archive.archive_orders below; the Api reads the archive only when the hot tables miss
-- (GET /orders/{id}, the timeline) and beside them (support's search); reconciliation reads archived orders too.
--
-- An archive table has the columns of its hot table in the same order (the move is INSERT … SELECT *): a column added to
-- a hot table is added to its archive table in the same script. Archive_tables_match_the_hot_ones checks it. No trigger
-- is copied (an archived order announces nothing) and no identity (an archived row keeps its id).
CREATE SCHEMA IF NOT EXISTS archive;

CREATE TABLE archive.order_state (LIKE ordering.order_state INCLUDING DEFAULTS INCLUDING CONSTRAINTS, PRIMARY KEY (order_id));
-- Reconciliation compares the orders placed in a range.
CREATE INDEX archive_order_state_placed ON archive.order_state (placed_at) WHERE current_state = 'Placed';

CREATE TABLE archive.order_timeline (LIKE ordering.order_timeline INCLUDING DEFAULTS INCLUDING CONSTRAINTS, PRIMARY KEY (id));
CREATE INDEX archive_order_timeline_by_order ON archive.order_timeline (order_id, id);

-- No unique (client_id, idempotency_key) here: once an order is archived its key is free in the hot table, and a client
-- that uses it again gets a new order (the replay window is Retention:ArchiveAfter).
CREATE TABLE archive.idempotency_keys (LIKE api.idempotency_keys INCLUDING DEFAULTS INCLUDING CONSTRAINTS, PRIMARY KEY (order_id));
-- Support's search, newest first, as on the hot table.
CREATE INDEX archive_idempotency_keys_newest ON archive.idempotency_keys (created_at DESC, order_id DESC);
CREATE INDEX archive_idempotency_keys_customer ON archive.idempotency_keys (customer_id, created_at DESC, order_id DESC);

CREATE TABLE archive.payments (LIKE payments.payments INCLUDING DEFAULTS INCLUDING CONSTRAINTS, PRIMARY KEY (order_id));
CREATE TABLE archive.refunds (LIKE payments.refunds INCLUDING DEFAULTS INCLUDING CONSTRAINTS, PRIMARY KEY (order_id));
CREATE TABLE archive.stock_holds (LIKE inventory.stock_holds INCLUDING DEFAULTS INCLUDING CONSTRAINTS, PRIMARY KEY (order_id, sku));
CREATE TABLE archive.webhook_events (LIKE payments.webhook_events INCLUDING DEFAULTS INCLUDING CONSTRAINTS, PRIMARY KEY (event_id));
CREATE INDEX archive_webhook_events_merchant_reference ON archive.webhook_events (merchant_reference);

-- Moves up to batch_size orders in one transaction (the statement's) and returns their ids. Only an order that is done
-- with: in one of final_states (the caller's OrderStatuses.Final), unchanged since ended_before, nobody asked to look
-- at it, nothing asked of the provider or the stock still unanswered, its payment settled (the provider confirmed the
-- QR code closed or captured, and any refund made), no stock hold still active, no failed message of it waiting for a
-- person and not a mismatch in the latest scheduled reconciliation report. FOR UPDATE SKIP LOCKED: two Workers never
-- take the same order, and an order whose saga is handling a message right now is left for the next run.
--
-- SECURITY DEFINER (run as the schema owner): the Workers' role may neither read nor delete the Api's idempotency keys
-- and webhooks (docs/security.md, "Roles"), only have this function move them with their order. search_path is fixed
-- so nothing the caller creates can stand in for a table here.
CREATE FUNCTION archive.archive_orders(final_states text[], ended_before timestamptz, batch_size integer)
    RETURNS SETOF uuid LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    picked uuid[];
BEGIN
    SELECT coalesce(array_agg(p.order_id), '{}') INTO picked FROM (
        SELECT s.order_id
          FROM ordering.order_state s
         WHERE s.current_state = ANY (final_states)
           AND s.updated_at < ended_before
           AND s.attention_reason IS NULL
           AND (s.provider_reference IS NULL OR s.payment_closed_at IS NOT NULL)
           AND (s.payment_cancel_requested_at IS NULL OR s.payment_closed_at IS NOT NULL)
           AND (s.refund_requested_at IS NULL OR s.refunded_at IS NOT NULL)
           AND (s.release_requested_at IS NULL OR s.stock_released_at IS NOT NULL)
           AND NOT EXISTS (SELECT 1 FROM inventory.stock_holds h WHERE h.order_id = s.order_id AND h.status = 'Active')
           AND NOT EXISTS (SELECT 1 FROM messaging.failed_message f WHERE f.correlation_id = s.order_id AND f.state = 'failed')
           AND NOT EXISTS (
               SELECT 1
                 FROM (SELECT r.mismatches FROM payments.reconciliation_reports r
                        WHERE r.scheduled ORDER BY r.checked_at DESC LIMIT 1) latest,
                      jsonb_array_elements(latest.mismatches) m
                WHERE m ->> 'orderId' = s.order_id::text)
         ORDER BY s.updated_at
         LIMIT batch_size
           FOR UPDATE OF s SKIP LOCKED) p;

    IF cardinality(picked) = 0 THEN
        RETURN;
    END IF;

    INSERT INTO archive.order_state SELECT * FROM ordering.order_state WHERE order_id = ANY (picked);
    INSERT INTO archive.order_timeline SELECT * FROM ordering.order_timeline WHERE order_id = ANY (picked);
    INSERT INTO archive.idempotency_keys SELECT * FROM api.idempotency_keys WHERE order_id = ANY (picked);
    INSERT INTO archive.payments SELECT * FROM payments.payments WHERE order_id = ANY (picked);
    INSERT INTO archive.refunds SELECT * FROM payments.refunds WHERE order_id = ANY (picked);
    INSERT INTO archive.stock_holds SELECT * FROM inventory.stock_holds WHERE order_id = ANY (picked);
    -- A provider redelivering an event after its order was archived records it again in the hot table: kept once here.
    INSERT INTO archive.webhook_events SELECT * FROM payments.webhook_events WHERE merchant_reference = ANY (picked::text[])
        ON CONFLICT (event_id) DO NOTHING;

    DELETE FROM ordering.order_timeline WHERE order_id = ANY (picked);
    DELETE FROM ordering.order_state WHERE order_id = ANY (picked);
    DELETE FROM api.idempotency_keys WHERE order_id = ANY (picked);
    DELETE FROM payments.payments WHERE order_id = ANY (picked);
    DELETE FROM payments.refunds WHERE order_id = ANY (picked);
    -- Reconciliation's bookkeeping of checks: the payment is settled, nothing is left to check.
    DELETE FROM payments.reconciliations WHERE order_id = ANY (picked);
    DELETE FROM inventory.stock_holds WHERE order_id = ANY (picked);
    DELETE FROM payments.webhook_events WHERE merchant_reference = ANY (picked::text[]);

    RETURN QUERY SELECT unnest(picked);
END
$$;

-- Functions are executable by PUBLIC unless revoked; the migrator grants EXECUTE to the Workers' role (ServiceTables).
REVOKE ALL ON FUNCTION archive.archive_orders(text[], timestamptz, integer) FROM PUBLIC;
