using System.Globalization;
using Npgsql;
using Sagas.PaymentSandbox.Webhooks;

namespace Sagas.PaymentSandbox.Payments;

/// <summary>Refunds of a captured payment, idempotent by their key.</summary>
public sealed partial class PaymentLedger
{
    /// <summary>
    /// Refunds part or all of a captured payment. The idempotency key is global: the same key names one
    /// refund, so reusing it for another payment or amount is a conflict, never a second refund.
    /// </summary>
    public async Task<LedgerOutcome<RefundView>> RefundAsync(
        string providerReference, string idempotencyKey, decimal amount, CancellationToken cancellationToken)
    {
        var now = Now();
        await using var connection = await database.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);

        var payment = await LockAsync(connection, transaction, providerReference, cancellationToken);
        if (payment is null)
            return LedgerOutcome<RefundView>.NotFound($"No payment '{providerReference}'.");

        // Under the payment's lock, so a concurrent request with the same key for this payment has either
        // committed its refund (and we replay it) or not started.
        if (await FindRefundByKeyAsync(connection, transaction, idempotencyKey, cancellationToken) is { } earlier)
            return ReplayOrConflict(earlier, providerReference, amount);

        if (payment.StatusAt(now) != PaymentStatus.Succeeded)
            return LedgerOutcome<RefundView>.Conflict(
                $"Only a paid payment can be refunded; this one is {payment.StatusAt(now)}.");

        var refunded = await RefundedTotalAsync(connection, transaction, providerReference, cancellationToken);
        var captured = payment.CapturedAmount!.Value;
        if (refunded + amount > captured)
            return LedgerOutcome<RefundView>.Conflict(string.Create(CultureInfo.InvariantCulture,
                $"Refunds would exceed the captured amount: {captured} captured, {refunded} already refunded, {amount} asked."));

        await using var insert = new NpgsqlCommand($"""
            INSERT INTO sandbox.refunds (refund_id, provider_reference, idempotency_key, amount, status, created_at)
            VALUES (@refundId, @providerReference, @key, @amount, 'succeeded', @now)
            ON CONFLICT (idempotency_key) DO NOTHING
            RETURNING {RefundColumns}
            """, connection, transaction);
        insert.Parameters.AddWithValue("refundId", NewGuid(now).ToString());
        insert.Parameters.AddWithValue("providerReference", providerReference);
        insert.Parameters.AddWithValue("key", idempotencyKey);
        insert.Parameters.AddWithValue("amount", amount);
        insert.Parameters.AddWithValue("now", now);
        if (await ReadRefundsAsync(insert, cancellationToken) is not [var refund])
        {
            // Same key, concurrently, for another payment (whose lock we don't hold): it won.
            await transaction.RollbackAsync(cancellationToken);
            var winner = await FindRefundByKeyAsync(connection, null, idempotencyKey, cancellationToken);
            return ReplayOrConflict(winner!, providerReference, amount);
        }

        // A refund is a change of its payment: the provider listing reports the payment again.
        await using (var touch = new NpgsqlCommand("""
                         UPDATE sandbox.payments SET updated_at = greatest(updated_at, @now)
                         WHERE provider_reference = @providerReference
                         """, connection, transaction))
        {
            touch.Parameters.AddWithValue("now", now);
            touch.Parameters.AddWithValue("providerReference", providerReference);
            await touch.ExecuteNonQueryAsync(cancellationToken);
        }

        await webhooks.EnqueueAsync(connection, transaction, new WebhookEvent(NewGuid(now),
            WebhookEventType.RefundSucceeded, payment.ProviderReference, payment.MerchantReference,
            refund.Amount, payment.Currency, now), cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        webhooks.NotifyCommitted();
        return LedgerOutcome<RefundView>.Done(RefundView.From(refund));
    }

    static LedgerOutcome<RefundView> ReplayOrConflict(Refund earlier, string providerReference, decimal amount) =>
        earlier.ProviderReference == providerReference && earlier.Amount == amount
            ? LedgerOutcome<RefundView>.Replayed(RefundView.From(earlier))
            : LedgerOutcome<RefundView>.Conflict("This Idempotency-Key was already used for a different refund.");

    static async Task<Refund?> FindRefundByKeyAsync(
        NpgsqlConnection connection, NpgsqlTransaction? transaction, string idempotencyKey,
        CancellationToken cancellationToken)
    {
        await using var select = new NpgsqlCommand(
            $"SELECT {RefundColumns} FROM sandbox.refunds WHERE idempotency_key = @key", connection, transaction);
        select.Parameters.AddWithValue("key", idempotencyKey);
        return (await ReadRefundsAsync(select, cancellationToken)).SingleOrDefault();
    }

    static async Task<decimal> RefundedTotalAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, string providerReference,
        CancellationToken cancellationToken)
    {
        await using var sum = new NpgsqlCommand(
            "SELECT coalesce(sum(amount), 0) FROM sandbox.refunds WHERE provider_reference = @providerReference",
            connection, transaction);
        sum.Parameters.AddWithValue("providerReference", providerReference);
        return (decimal)(await sum.ExecuteScalarAsync(cancellationToken))!;
    }
}
