using System.Globalization;
using Npgsql;
using Sagas.PaymentSandbox.Webhooks;

namespace Sagas.PaymentSandbox.Payments;

/// <summary>
/// The money truth: payments, captures and refunds in PostgreSQL. Every change runs in one transaction
/// that first locks the payment row (<c>SELECT … FOR UPDATE</c>), so concurrent pay / cancel / fail /
/// refund calls on one payment are serialised and each sees the other's committed result. Idempotent
/// creates rely on unique constraints instead (<c>INSERT … ON CONFLICT DO NOTHING</c>, then read).
/// A webhook announcing a change is queued in the same transaction as the change.
/// <para>
/// The class is split by concern: creating a payment and the rows' readers here, reads and the provider listing in
/// <c>PaymentLedger.Reads.cs</c>, what the customer and the merchant change in <c>PaymentLedger.StateChanges.cs</c>,
/// refunds in <c>PaymentLedger.Refunds.cs</c>.
/// </para>
/// </summary>
public sealed partial class PaymentLedger(NpgsqlDataSource database, TimeProvider clock, WebhookOutbox webhooks)
{
    const string PaymentColumns = """
        provider_reference, idempotency_key, merchant_reference, amount, currency, expires_in_seconds,
        status, qr_payload, created_at, expires_at, paid_at, captured_amount, updated_at
        """;

    const string RefundColumns = "refund_id, provider_reference, idempotency_key, amount, status, created_at";

    public async Task<LedgerOutcome<QrPaymentCreated>> CreateAsync(
        string idempotencyKey, NewQrPayment request, CancellationToken cancellationToken)
    {
        var now = Now();
        var providerReference = NewGuid(now).ToString();
        await using var insert = database.CreateCommand($"""
            INSERT INTO sandbox.payments (provider_reference, idempotency_key, merchant_reference, amount, currency,
                expires_in_seconds, status, qr_payload, created_at, expires_at, updated_at)
            VALUES (@providerReference, @key, @merchantReference, @amount, @currency,
                @expiresInSeconds, 'pending', @qrPayload, @now, @expiresAt, @now)
            ON CONFLICT (idempotency_key) DO NOTHING
            RETURNING {PaymentColumns}
            """);
        insert.Parameters.AddWithValue("providerReference", providerReference);
        insert.Parameters.AddWithValue("key", idempotencyKey);
        insert.Parameters.AddWithValue("merchantReference", request.MerchantReference);
        insert.Parameters.AddWithValue("amount", request.Amount);
        insert.Parameters.AddWithValue("currency", request.Currency);
        insert.Parameters.AddWithValue("expiresInSeconds", request.ExpiresInSeconds);
        insert.Parameters.AddWithValue("qrPayload", QrPayload(providerReference, request));
        insert.Parameters.AddWithValue("now", now);
        insert.Parameters.AddWithValue("expiresAt", now.AddSeconds(request.ExpiresInSeconds));
        if (await ReadPaymentsAsync(insert, cancellationToken) is [var created])
            return LedgerOutcome<QrPaymentCreated>.Done(QrPaymentCreated.From(created));

        // The key is taken. ON CONFLICT waited for the transaction that took it to commit, so a fresh
        // statement sees that payment.
        await using var select = database.CreateCommand(
            $"SELECT {PaymentColumns} FROM sandbox.payments WHERE idempotency_key = @key");
        select.Parameters.AddWithValue("key", idempotencyKey);
        var existing = (await ReadPaymentsAsync(select, cancellationToken)).Single();
        return existing.IsSameRequestAs(request)
            ? LedgerOutcome<QrPaymentCreated>.Replayed(QrPaymentCreated.From(existing))
            : LedgerOutcome<QrPaymentCreated>.Conflict(
                "This Idempotency-Key was already used for a different payment request.");
    }

    static async Task<IReadOnlyList<Payment>> ReadPaymentsAsync(NpgsqlCommand command, CancellationToken cancellationToken)
    {
        var payments = new List<Payment>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
            payments.Add(new Payment(
                reader.GetString(0),
                reader.GetString(1),
                reader.GetString(2),
                reader.GetDecimal(3),
                reader.GetString(4),
                reader.GetInt32(5),
                reader.GetString(6),
                reader.GetString(7),
                reader.GetDateTime(8),
                reader.GetDateTime(9),
                reader.IsDBNull(10) ? null : reader.GetDateTime(10),
                reader.IsDBNull(11) ? null : reader.GetDecimal(11),
                reader.GetDateTime(12)));
        return payments;
    }

    static async Task<IReadOnlyList<Refund>> ReadRefundsAsync(NpgsqlCommand command, CancellationToken cancellationToken)
    {
        var refunds = new List<Refund>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
            refunds.Add(new Refund(
                reader.GetString(0),
                reader.GetString(1),
                reader.GetString(2),
                reader.GetDecimal(3),
                reader.GetString(4),
                reader.GetDateTime(5)));
        return refunds;
    }

    /// <summary>
    /// What the customer's banking app would read from the QR code. Deterministic from the payment, so a
    /// replayed create answers the same payload.
    /// </summary>
    static string QrPayload(string providerReference, NewQrPayment request) => string.Create(
        CultureInfo.InvariantCulture,
        $"sagas-sandbox://pay/{providerReference}?amount={request.Amount:0.00}&currency={request.Currency}");

    static Guid NewGuid(DateTime now) => Guid.CreateVersion7(new DateTimeOffset(now));

    // PostgreSQL keeps microseconds; truncating here makes what we compare against what we stored.
    DateTime Now() => Truncate(clock.GetUtcNow().UtcDateTime);

    static DateTime Truncate(DateTime instant) => instant.AddTicks(-(instant.Ticks % 10));
}
