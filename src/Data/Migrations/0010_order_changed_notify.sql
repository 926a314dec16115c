-- Status pushed (GET /orders/{id}/events): every change to what GET /orders/{id} shows announces the order's id on
-- the channel order_changed. Everything that view reads beyond the order's accepted facts (state, payment, QR,
-- attention, failure) lives in ordering.order_state, so one row trigger covers it. NOTIFY is delivered at commit
-- only, to every listening session (every Api instance), and identical payloads within one transaction are
-- folded into one; a rolled-back change announces nothing.
CREATE FUNCTION ordering.notify_order_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('order_changed', NEW.order_id::text);
    RETURN NULL;
END
$$;

CREATE TRIGGER order_state_created AFTER INSERT ON ordering.order_state
    FOR EACH ROW EXECUTE FUNCTION ordering.notify_order_changed();

-- A row rewritten with the same values (a redelivered step that changed nothing) is not announced.
CREATE TRIGGER order_state_changed AFTER UPDATE ON ordering.order_state
    FOR EACH ROW WHEN (OLD.* IS DISTINCT FROM NEW.*)
    EXECUTE FUNCTION ordering.notify_order_changed();
