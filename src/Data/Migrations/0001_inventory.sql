-- Catalog and stock. Invariant kept by the database itself: on_hand = available + held, where
-- available is derived (on_hand - held) and held can never exceed on_hand.
CREATE SCHEMA IF NOT EXISTS inventory;

CREATE TABLE inventory.items (
    sku        text          PRIMARY KEY CHECK (length(sku) BETWEEN 1 AND 64),
    name       text          NOT NULL,
    category   text          NOT NULL,
    price      numeric(12,2) NOT NULL CHECK (price >= 0),
    currency   char(3)       NOT NULL,
    on_hand    integer       NOT NULL CHECK (on_hand >= 0),
    held       integer       NOT NULL DEFAULT 0,
    updated_at timestamptz   NOT NULL,
    CONSTRAINT items_held_within_on_hand CHECK (held >= 0 AND held <= on_hand)
);
