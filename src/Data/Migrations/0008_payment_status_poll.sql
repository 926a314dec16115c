-- The payment status poll (Workers' PaymentStatusPoll): one listing of the provider's changed payments per tick for
-- every order awaiting payment, instead of a timer, a saga step and a status call per order. The row keeps how far
-- the provider's listing has been read (the provider's own clock); it is advanced in the transaction that publishes
-- what the listing showed, so nothing read is lost and nothing is reported twice.
CREATE TABLE payments.status_poll (
    id             integer     PRIMARY KEY CHECK (id = 1),
    -- The last change (provider time) seen in the listing; the next tick reads from a little before it.
    listed_through timestamptz,
    polled_at      timestamptz
);
INSERT INTO payments.status_poll (id) VALUES (1);

-- The poll's "anything awaiting payment, and since when": orders in AwaitingPayment by creation.
CREATE INDEX order_state_awaiting_payment ON ordering.order_state (created_at) WHERE current_state = 'AwaitingPayment';
