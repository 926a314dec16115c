using Npgsql;

namespace Sagas.PaymentSandbox.Payments;

/// <summary>Reading payments: one by reference, a merchant's (or all), and the provider listing of changed ones.</summary>
public sealed partial class PaymentLedger
{
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
}
