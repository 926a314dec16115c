using System.Globalization;
using Npgsql;
using Sagas.PaymentSandbox.Webhooks;

namespace Sagas.PaymentSandbox.Payments;

/// <summary>A payment's state changes: canceled by the merchant, paid or failed by the customer, each under the payment's lock.</summary>
public sealed partial class PaymentLedger
{
    /// <summary>
    /// Cancels a pending payment. Cancel is idempotent for every payment that can no longer be paid
    /// (canceled, expired, failed): the caller's goal, "this QR code will not take money", holds.
    /// Only a paid payment refuses.
    /// </summary>
    public Task<LedgerOutcome<PaymentView>> CancelAsync(string providerReference, CancellationToken cancellationToken) =>
        ChangeAsync(providerReference, async (connection, transaction, payment, now) =>
        {
            switch (payment.StatusAt(now))
            {
                case PaymentStatus.Succeeded:
                    return Conflict("A paid payment cannot be canceled; refund it instead.");
                case PaymentStatus.Pending:
                    await SetStatusAsync(connection, transaction, payment, PaymentStatus.Canceled, now, now, cancellationToken);
                    return null;
                default:
                    return null;
            }
        }, cancellationToken);

    /// <summary>The customer pays. <paramref name="amount"/> defaults to the requested amount.</summary>
    public Task<LedgerOutcome<PaymentView>> PayAsync(string providerReference, decimal? amount, DateTimeOffset? at,
        CancellationToken cancellationToken) =>
        ChangeAsync(providerReference, async (connection, transaction, payment, now) =>
        {
            // The customer's instant, never before the payment existed nor after this call arrived.
            var paidAt = at is { } instant ? Truncate(instant.UtcDateTime) : now;
            paidAt = paidAt < payment.CreatedAt ? payment.CreatedAt : paidAt > now ? now : paidAt;
            if (await RefuseUnlessPendingAsync(connection, transaction, payment, paidAt, "paid", cancellationToken) is { } refusal)
                return refusal;

            var captured = amount ?? payment.Amount;
            await using var update = new NpgsqlCommand("""
                UPDATE sandbox.payments
                SET status = 'succeeded', paid_at = @paidAt, captured_amount = @captured, updated_at = greatest(updated_at, @now)
                WHERE provider_reference = @providerReference
                """, connection, transaction);
            update.Parameters.AddWithValue("paidAt", paidAt);
            update.Parameters.AddWithValue("now", now);
            update.Parameters.AddWithValue("captured", captured);
            update.Parameters.AddWithValue("providerReference", payment.ProviderReference);
            await update.ExecuteNonQueryAsync(cancellationToken);
            await webhooks.EnqueueAsync(connection, transaction, new WebhookEvent(NewGuid(now),
                WebhookEventType.PaymentSucceeded, payment.ProviderReference, payment.MerchantReference,
                captured, payment.Currency, paidAt), cancellationToken);
            return null;
        }, cancellationToken);

    /// <summary>The customer's payment fails (declined, abandoned in the banking app…).</summary>
    public Task<LedgerOutcome<PaymentView>> FailAsync(string providerReference, CancellationToken cancellationToken) =>
        ChangeAsync(providerReference, async (connection, transaction, payment, now) =>
        {
            if (await RefuseUnlessPendingAsync(connection, transaction, payment, now, "failed", cancellationToken) is { } refusal)
                return refusal;

            await SetStatusAsync(connection, transaction, payment, PaymentStatus.Failed, now, now, cancellationToken);
            await webhooks.EnqueueAsync(connection, transaction, new WebhookEvent(NewGuid(now),
                WebhookEventType.PaymentFailed, payment.ProviderReference, payment.MerchantReference,
                payment.Amount, payment.Currency, now), cancellationToken);
            return null;
        }, cancellationToken);

    /// <summary>
    /// Locks the payment, lets <paramref name="change"/> act on it (returning a refusal, or null when it
    /// went ahead), commits, and answers with the payment as it now is.
    /// </summary>
    async Task<LedgerOutcome<PaymentView>> ChangeAsync(
        string providerReference,
        Func<NpgsqlConnection, NpgsqlTransaction, Payment, DateTime, Task<LedgerOutcome<PaymentView>?>> change,
        CancellationToken cancellationToken)
    {
        var now = Now();
        await using var connection = await database.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var payment = await LockAsync(connection, transaction, providerReference, cancellationToken);
        if (payment is null)
            return LedgerOutcome<PaymentView>.NotFound($"No payment '{providerReference}'.");

        var refusal = await change(connection, transaction, payment, now);
        PaymentView? view = null;
        if (refusal is null)
        {
            var changed = await LockAsync(connection, transaction, providerReference, cancellationToken);
            view = (await ViewsAsync(connection, transaction, [changed!], cancellationToken)).Single();
        }

        // Commit refusals too: recording that a payment expired is a change worth keeping.
        await transaction.CommitAsync(cancellationToken);
        webhooks.NotifyCommitted();
        return refusal ?? LedgerOutcome<PaymentView>.Done(view!);
    }

    /// <summary>
    /// Pay and fail act only on a pending payment. A payment past its own <c>expiresAt</c> is expired
    /// here, whatever the merchant's saga thinks of its window: that is the provider staying honest.
    /// </summary>
    async Task<LedgerOutcome<PaymentView>?> RefuseUnlessPendingAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, Payment payment, DateTime now, string verb,
        CancellationToken cancellationToken)
    {
        var status = payment.StatusAt(now);
        if (status == PaymentStatus.Pending)
            return null;
        // Writing the expiry down is not a change of its own: the payment changed at its expiresAt (which is
        // where the listing already showed it), so that is what updated_at records.
        if (status == PaymentStatus.Expired && payment.StoredStatus == PaymentStatus.Pending)
            await SetStatusAsync(connection, transaction, payment, PaymentStatus.Expired, now, payment.ExpiresAt,
                cancellationToken);
        return Conflict(status == PaymentStatus.Expired
            ? string.Create(CultureInfo.InvariantCulture,
                $"The payment expired at {payment.ExpiresAt:O} and can no longer be {verb}.")
            : $"The payment is {status}; only a pending payment can be {verb}.");
    }

    static async Task SetStatusAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, Payment payment, string status, DateTime now,
        DateTime changedAt, CancellationToken cancellationToken)
    {
        await using var update = new NpgsqlCommand("""
            UPDATE sandbox.payments
            SET status = @status, closed_at = @now, updated_at = greatest(updated_at, @changedAt)
            WHERE provider_reference = @providerReference
            """, connection, transaction);
        update.Parameters.AddWithValue("status", status);
        update.Parameters.AddWithValue("now", now);
        update.Parameters.AddWithValue("changedAt", changedAt);
        update.Parameters.AddWithValue("providerReference", payment.ProviderReference);
        await update.ExecuteNonQueryAsync(cancellationToken);
    }

    static LedgerOutcome<PaymentView> Conflict(string detail) => LedgerOutcome<PaymentView>.Conflict(detail);

    static async Task<Payment?> LockAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, string providerReference,
        CancellationToken cancellationToken)
    {
        await using var select = new NpgsqlCommand(
            $"SELECT {PaymentColumns} FROM sandbox.payments WHERE provider_reference = @providerReference FOR UPDATE",
            connection, transaction);
        select.Parameters.AddWithValue("providerReference", providerReference);
        return (await ReadPaymentsAsync(select, cancellationToken)).SingleOrDefault();
    }
}
