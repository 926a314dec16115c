-- Reconciliation reports (issue 15): our orders compared with the provider's own listing of payments over a range of
-- its clock. Workers write one row per comparison, scheduled (the ReconciliationReportSweep) or asked for by support
-- through the Api (GET /reconciliation); the Api only reads them. A report is never changed once written.
CREATE TABLE payments.reconciliation_reports (
    id             bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    range_from     timestamptz NOT NULL,
    range_to       timestamptz NOT NULL,
    checked_at     timestamptz NOT NULL,
    -- true: written by the schedule (what support's attention count and the console's latest report read).
    scheduled      boolean     NOT NULL,
    -- The Api client that asked for it; null for a scheduled one.
    requested_by   text,
    payments       integer     NOT NULL,
    captured       integer     NOT NULL,
    refunded       integer     NOT NULL,
    mismatch_count integer     NOT NULL,
    -- [ { "orderId", "kind", "detail" } ], as GET /reconciliation answers them.
    mismatches     jsonb       NOT NULL,
    CHECK (range_from < range_to)
);

-- The latest scheduled report.
CREATE INDEX reconciliation_reports_latest ON payments.reconciliation_reports (checked_at DESC) WHERE scheduled;
