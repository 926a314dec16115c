-- "Paid means placed": the saga keeps what it has asked for and not yet heard back about, so nothing it started
-- can end with nobody responsible, and support sees the orders that need a person.
ALTER TABLE ordering.order_state
    ADD COLUMN paid_at                     timestamptz,
    ADD COLUMN paid_currency               character(3),
    -- Asked the provider to withdraw the QR code; closed once the provider confirmed nobody can pay it any more
    -- (canceled, expired, failed) or that it was captured.
    ADD COLUMN payment_cancel_requested_at timestamptz,
    ADD COLUMN payment_closed_at           timestamptz,
    ADD COLUMN release_requested_at        timestamptz,
    ADD COLUMN refund_reason               text,
    -- The timer that re-issues unanswered work, and how often it has done so.
    ADD COLUMN pending_work_token_id       uuid,
    ADD COLUMN pending_work_attempts       integer NOT NULL DEFAULT 0,
    ADD COLUMN attention_reason            text,
    ADD COLUMN attention_since             timestamptz,
    ADD COLUMN attention_detail            text;

-- Support's attention list, oldest first.
CREATE INDEX order_state_attention ON ordering.order_state (attention_since, order_id) WHERE attention_reason IS NOT NULL;

-- A live order's overdue hold is reported to its saga once, instead of being released under it.
ALTER TABLE inventory.stock_holds ADD COLUMN overdue_reported_at timestamptz;

-- Reconciliation asks again (with a growing delay) until the payment of an unplaced order is settled.
ALTER TABLE payments.reconciliations
    ADD COLUMN attempts      integer     NOT NULL DEFAULT 1,
    ADD COLUMN next_check_at timestamptz NOT NULL DEFAULT now();
CREATE INDEX reconciliations_due ON payments.reconciliations (next_check_at);
