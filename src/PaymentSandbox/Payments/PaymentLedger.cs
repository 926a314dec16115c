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
/// </summary>
public sealed class PaymentLedger(NpgsqlDataSource database, TimeProvider clock, WebhookOutbox webhooks)
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

    public async Task<PaymentView?> FindAsync(string providerReference, CancellationToken cancellationToken)
    {
        await using var select = database.CreateCommand(
            $"SELECT {PaymentColumns} FROM sandbox.payments WHERE provider_reference = @providerReference");
        select.Parameters.AddWithValue("providerReference", providerReference);
        var payments = await ReadPaymentsAsync(select, cancellationToken);
        return payments is [var payment] ? (await ViewsAsync(null, null, payments, cancellationToken)).Single() : null;
    }

    /// <summary>Every payment for a merchant reference (or every payment), oldest first, with refunds.</summary>
    public async Task<IReadOnlyList<PaymentView>> ListAsync(string? merchantReference, CancellationToken cancellationToken)
    {
        await using var select = database.CreateCommand($"""
            SELECT {PaymentColumns} FROM sandbox.payments
            WHERE @merchantReference::text IS NULL OR merchant_reference = @merchantReference
            ORDER BY created_at, provider_reference
            """);
        select.Parameters.AddWithValue("merchantReference", NpgsqlTypes.NpgsqlDbType.Text,
            (object?)merchantReference ?? DBNull.Value);
        var payments = await ReadPaymentsAsync(select, cancellationToken);
        return await ViewsAsync(null, null, payments, cancellationToken);
    }

    /// <summary>
    /// The provider listing: one query for the page of payments, one for their refunds. A payment's place is
    /// its last change (<see cref="Payment.UpdatedAtAt"/>): <c>updated_at</c>, except for a pending payment
    /// past its <c>expiresAt</c>, which sits at that instant. The two halves of the union read one index
    /// each — <c>(updated_at, provider_reference)</c> and the partial <c>(expires_at, provider_reference)
    /// WHERE status = 'pending'</c> — each stopping after one page, and are merged in that order.
    /// </summary>
    public async Task<PaymentListing> ListUpdatedAsync(PaymentListingQuery query, CancellationToken cancellationToken)
    {
        var now = Now();
        List<string> recorded = ["NOT (status = 'pending' AND expires_at <= @now)"];
        List<string> expired = ["status = 'pending'", "expires_at <= @now"];
        await using var select = database.CreateCommand();
        select.Parameters.AddWithValue("now", now);
        select.Parameters.AddWithValue("take", query.Limit + 1);
        if (query.UpdatedFrom is { } from)
        {
            recorded.Add("updated_at >= @from");
            expired.Add("expires_at >= @from");
            select.Parameters.AddWithValue("from", from);
        }

        if (query.UpdatedTo is { } to)
        {
            recorded.Add("updated_at < @to");
            expired.Add("expires_at < @to");
            select.Parameters.AddWithValue("to", to);
        }

        if (query.After is { } after)
        {
            recorded.Add("(updated_at, provider_reference) > (@afterAt, @afterReference)");
            expired.Add("(expires_at, provider_reference) > (@afterAt, @afterReference)");
            select.Parameters.AddWithValue("afterAt", after.UpdatedAt);
            select.Parameters.AddWithValue("afterReference", after.ProviderReference);
        }

        select.CommandText = $"""
            SELECT {PaymentColumns} FROM (
                (SELECT {PaymentColumns}, updated_at AS listed_at FROM sandbox.payments
                 WHERE {string.Join(" AND ", recorded)}
                 ORDER BY updated_at, provider_reference LIMIT @take)
                UNION ALL
                (SELECT {PaymentColumns}, expires_at AS listed_at FROM sandbox.payments
                 WHERE {string.Join(" AND ", expired)}
                 ORDER BY expires_at, provider_reference LIMIT @take)
            ) AS changed
            ORDER BY listed_at, provider_reference
            LIMIT @take
            """;
        var payments = await ReadPaymentsAsync(select, cancellationToken);
        var page = payments.Take(query.Limit).ToList();
        var next = payments.Count > query.Limit
            ? new ListingPosition(page[^1].UpdatedAtAt(now), page[^1].ProviderReference).ToCursor()
            : null;
        return new PaymentListing(await ViewsAsync(null, null, page, cancellationToken, asOf: now), next);
    }

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

    /// <summary>Attaches refunds; uses the given connection when inside a transaction, else its own.</summary>
    async Task<IReadOnlyList<PaymentView>> ViewsAsync(
        NpgsqlConnection? connection, NpgsqlTransaction? transaction, IReadOnlyList<Payment> payments,
        CancellationToken cancellationToken, DateTime? asOf = null)
    {
        if (payments.Count == 0)
            return [];

        const string sql = $"""
            SELECT {RefundColumns} FROM sandbox.refunds
            WHERE provider_reference = ANY(@providerReferences)
            ORDER BY created_at, refund_id
            """;
        await using var select = connection is null
            ? database.CreateCommand(sql)
            : new NpgsqlCommand(sql, connection, transaction);
        select.Parameters.AddWithValue("providerReferences", payments.Select(p => p.ProviderReference).ToArray());
        var refunds = (await ReadRefundsAsync(select, cancellationToken)).ToLookup(r => r.ProviderReference);
        var now = asOf ?? Now();
        return payments.Select(p => PaymentView.From(p, refunds[p.ProviderReference], now)).ToList();
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
