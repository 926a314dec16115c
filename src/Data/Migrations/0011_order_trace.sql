-- The trace an order was accepted in (issue 14): the W3C traceparent of the POST /orders span, null when the Api
-- recorded no traces. The webhook handler, which the provider calls without our context, does its work under it, so
-- the order stays one trace; support reads the trace id from it to find the order in the tracing backend.
ALTER TABLE api.idempotency_keys
    ADD COLUMN trace_parent text CHECK (trace_parent ~ '^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$');
