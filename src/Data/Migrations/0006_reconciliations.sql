-- Orders whose payment the reconciliation sweep has asked the provider about once after the order ended
-- unplaced: a payment we never heard of (lost webhook, paid after the last poll) is found and refunded
-- through the saga.
CREATE TABLE payments.reconciliations (
    order_id   uuid        PRIMARY KEY,
    checked_at timestamptz NOT NULL
);
