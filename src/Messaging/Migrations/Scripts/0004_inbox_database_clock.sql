-- The duplicate-detection window is measured on the database's clock only. The cleanup's cut-off is now() minus the
-- window; the stamps it compares are written by consumers in every process, each with its own clock, so whatever
-- value a writer sets, the row keeps the database's now() (its transaction's start) for a stamp being set or changed.
-- A process whose clock runs behind would otherwise make its entries look older and be forgotten early, and a
-- redelivery after that would run its consumer a second time.
CREATE FUNCTION messaging.inbox_state_database_clock() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.consumed IS NOT NULL AND NEW.consumed IS DISTINCT FROM OLD.consumed THEN
        NEW.consumed := now();
    END IF;
    IF NEW.delivered IS NOT NULL AND NEW.delivered IS DISTINCT FROM OLD.delivered THEN
        NEW.delivered := now();
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER inbox_state_database_clock BEFORE UPDATE OF consumed, delivered ON messaging.inbox_state
    FOR EACH ROW EXECUTE FUNCTION messaging.inbox_state_database_clock();
