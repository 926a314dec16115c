using Npgsql;

namespace Sagas.PaymentSandbox.Storage;

/// <summary>
/// The sandbox's own tables in schema <c>sandbox</c>. The sandbox is a stand-in provider outside the
/// project's migration mechanism, so it creates what it needs itself, idempotently, under an advisory lock
/// so that several instances starting at once do not race on the DDL. <see cref="Ddl"/> is the schema as
/// it first shipped; each later change is a step of <see cref="Migrations"/>, run after it in order, that
/// does its work only when it finds it not done (so a ledger of any age, or a fresh one, ends up the same).
/// All of it runs as one batch, which PostgreSQL applies as one transaction.
/// </summary>
public static class LedgerSchema
{
    // Arbitrary, but fixed: every sandbox instance must take the same lock.
    const long AdvisoryLockKey = 0x5341_4E44_424F_5831;

    const string Ddl = """
        CREATE SCHEMA IF NOT EXISTS sandbox;

        CREATE TABLE IF NOT EXISTS sandbox.payments (
            provider_reference  text          PRIMARY KEY,
            idempotency_key     text          NOT NULL,
            merchant_reference  text          NOT NULL,
            amount              numeric(18,2) NOT NULL CHECK (amount > 0),
            currency            char(3)       NOT NULL,
            expires_in_seconds  integer       NOT NULL CHECK (expires_in_seconds > 0),
            status              text          NOT NULL
                CHECK (status IN ('pending', 'succeeded', 'failed', 'expired', 'canceled')),
            qr_payload          text          NOT NULL,
            created_at          timestamptz   NOT NULL,
            expires_at          timestamptz   NOT NULL,
            paid_at             timestamptz   NULL,
            captured_amount     numeric(18,2) NULL CHECK (captured_amount > 0),
            closed_at           timestamptz   NULL,
            CONSTRAINT payments_idempotency_key_unique UNIQUE (idempotency_key),
            CONSTRAINT payments_paid_has_capture CHECK ((status = 'succeeded') = (captured_amount IS NOT NULL))
        );
        CREATE INDEX IF NOT EXISTS payments_merchant_reference_idx
            ON sandbox.payments (merchant_reference, created_at);

        CREATE TABLE IF NOT EXISTS sandbox.refunds (
            refund_id           text          PRIMARY KEY,
            provider_reference  text          NOT NULL REFERENCES sandbox.payments (provider_reference),
            idempotency_key     text          NOT NULL,
            amount              numeric(18,2) NOT NULL CHECK (amount > 0),
            status              text          NOT NULL CHECK (status IN ('succeeded')),
            created_at          timestamptz   NOT NULL,
            CONSTRAINT refunds_idempotency_key_unique UNIQUE (idempotency_key)
        );
        CREATE INDEX IF NOT EXISTS refunds_provider_reference_idx
            ON sandbox.refunds (provider_reference, created_at);

        -- Outgoing webhooks, written in the same transaction as the state change they announce, so a
        -- committed payment always gets its webhook and a rolled-back one never does.
        CREATE TABLE IF NOT EXISTS sandbox.webhook_deliveries (
            id                  bigint        GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            event_id            uuid          NOT NULL,
            copy_number         integer       NOT NULL,
            event_type          text          NOT NULL,
            provider_reference  text          NOT NULL,
            body                text          NOT NULL,
            created_at          timestamptz   NOT NULL,
            due_at              timestamptz   NOT NULL,
            attempts            integer       NOT NULL DEFAULT 0,
            last_status_code    integer       NULL,
            last_error          text          NULL,
            delivered_at        timestamptz   NULL,
            abandoned_at        timestamptz   NULL,
            CONSTRAINT webhook_deliveries_copy_unique UNIQUE (event_id, copy_number)
        );
        CREATE INDEX IF NOT EXISTS webhook_deliveries_due_idx
            ON sandbox.webhook_deliveries (due_at, id) WHERE delivered_at IS NULL AND abandoned_at IS NULL;
        CREATE INDEX IF NOT EXISTS webhook_deliveries_provider_reference_idx
            ON sandbox.webhook_deliveries (provider_reference, id);
        """;

    static readonly string[] Migrations =
    [
        // 2026-11-26: payments.updated_at, the instant of the payment's latest recorded change (created,
        // paid, failed, canceled, refunded; an expiry written down counts as of expires_at), for the
        // provider listing. A ledger from before gets it filled in from what it recorded; the column is
        // NOT NULL from then on, so a writer that forgets it fails loudly. The partial index finds pending
        // payments by expiry, which the listing shows at their expires_at without any row having changed.
        """
        DO $migration$
        BEGIN
            IF NOT EXISTS (SELECT 1 FROM information_schema.columns
                           WHERE table_schema = 'sandbox' AND table_name = 'payments' AND column_name = 'updated_at') THEN
                ALTER TABLE sandbox.payments ADD COLUMN updated_at timestamptz NULL;
                UPDATE sandbox.payments AS p SET updated_at = greatest(
                    p.created_at,
                    p.paid_at,
                    CASE WHEN p.status = 'expired' THEN p.expires_at ELSE p.closed_at END,
                    (SELECT max(r.created_at) FROM sandbox.refunds AS r WHERE r.provider_reference = p.provider_reference));
                ALTER TABLE sandbox.payments ALTER COLUMN updated_at SET NOT NULL;
            END IF;
        END
        $migration$;
        CREATE INDEX IF NOT EXISTS payments_updated_at_idx
            ON sandbox.payments (updated_at, provider_reference);
        CREATE INDEX IF NOT EXISTS payments_pending_expires_at_idx
            ON sandbox.payments (expires_at, provider_reference) WHERE status = 'pending';
        """,
    ];

    /// <summary>What <see cref="ExistsAsync"/> looks for: the last object the last migration creates.</summary>
    const string LastObject = "sandbox.payments_pending_expires_at_idx";

    public static async Task CreateAsync(NpgsqlDataSource database, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken);
        await using (var lockCommand = new NpgsqlCommand("SELECT pg_advisory_lock(@key)", connection))
        {
            lockCommand.Parameters.AddWithValue("key", AdvisoryLockKey);
            await lockCommand.ExecuteNonQueryAsync(cancellationToken);
        }

        try
        {
            await using var ddl = new NpgsqlCommand(string.Join('\n', [Ddl, .. Migrations]), connection);
            await ddl.ExecuteNonQueryAsync(cancellationToken);
        }
        finally
        {
            // Session-level lock: release explicitly, the pooled connection outlives this method.
            await using var unlock = new NpgsqlCommand("SELECT pg_advisory_unlock(@key)", connection);
            unlock.Parameters.AddWithValue("key", AdvisoryLockKey);
            await unlock.ExecuteNonQueryAsync(CancellationToken.None);
        }
    }

    /// <summary>True when the database answers and the last object created above exists.</summary>
    public static async Task<bool> ExistsAsync(NpgsqlDataSource database, CancellationToken cancellationToken)
    {
        await using var command = database.CreateCommand($"SELECT to_regclass('{LastObject}') IS NOT NULL");
        return await command.ExecuteScalarAsync(cancellationToken) is true;
    }
}
