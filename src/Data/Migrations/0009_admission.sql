-- Admission control (the Api's POST /orders, Admission:*): the orders a worker has taken but not yet given their QR
-- code. Partial, so counting them costs what there is to count, not the thousands of orders whose QR code is shown.
CREATE INDEX order_state_waiting_for_qr ON ordering.order_state (created_at)
    WHERE current_state IN ('Submitted', 'AwaitingPayment') AND provider_reference IS NULL;
