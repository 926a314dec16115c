-- What the Workers asked of the payment provider and what it answered. The provider's own ledger is the
-- money truth; these rows let support see the history and let a consumer that is redelivered after a
-- crash know what it already did.
CREATE TABLE payments.payments (
    order_id           uuid          PRIMARY KEY,
    provider_reference text          UNIQUE,
    amount             numeric(12,2) NOT NULL,
    currency           character(3)  NOT NULL,
    status             text          NOT NULL,
    qr_payload         text,
    expires_at         timestamptz,
    paid_amount        numeric(12,2),
    paid_at            timestamptz,
    requested_at       timestamptz   NOT NULL,
    updated_at         timestamptz   NOT NULL
);

-- At most one refund per order: the refund always returns what was captured, and its idempotency key
-- (order:{id}:refund) makes the provider create it once however often it is asked.
CREATE TABLE payments.refunds (
    order_id           uuid          PRIMARY KEY,
    provider_reference text          NOT NULL,
    refund_id          text,
    amount             numeric(12,2) NOT NULL,
    status             text          NOT NULL,
    reason             text          NOT NULL,
    requested_at       timestamptz   NOT NULL,
    completed_at       timestamptz
);
