-- Stock held for an order, one row per order line. A hold moves Active → Committed (order placed) or
-- Active → Released (compensation) or Active → Expired (sweep); a committed hold is Returned when support
-- cancels a placed order. Every move updates inventory.items in the same transaction, so
-- on_hand = available + held holds at every commit.
CREATE TABLE inventory.stock_holds (
    order_id   uuid        NOT NULL,
    sku        text        NOT NULL REFERENCES inventory.items (sku),
    quantity   integer     NOT NULL CHECK (quantity > 0),
    status     text        NOT NULL CHECK (status IN ('Active', 'Committed', 'Released', 'Expired', 'Returned')),
    expires_at timestamptz NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (order_id, sku)
);
CREATE INDEX stock_holds_active_expiry ON inventory.stock_holds (expires_at) WHERE status = 'Active';
