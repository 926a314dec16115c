using Npgsql;

namespace Sagas.PaymentSandbox.Webhooks;

/// <summary>
/// The <c>sandbox.webhook_deliveries</c> table seen as a work queue: claim what is due, record how each
/// attempt went. Claiming pushes <c>due_at</c> forward by a lease, so a sandbox that dies mid-send sends
/// again after the lease instead of never; <c>SKIP LOCKED</c> lets several dispatchers share the queue.
/// </summary>
public sealed class WebhookDeliveryQueue(NpgsqlDataSource database)
{
    public sealed record Claimed(long Id, Guid EventId, string Body, int Attempts, DateTime CreatedAt);

    public async Task<IReadOnlyList<Claimed>> ClaimDueAsync(
        DateTime now, DateTime leaseUntil, int batchSize, CancellationToken cancellationToken)
    {
        await using var claim = database.CreateCommand("""
            UPDATE sandbox.webhook_deliveries AS d
            SET attempts = d.attempts + 1, due_at = @leaseUntil
            FROM (
                SELECT id FROM sandbox.webhook_deliveries
                WHERE delivered_at IS NULL AND abandoned_at IS NULL AND due_at <= @now
                ORDER BY due_at, id
                LIMIT @batchSize
                FOR UPDATE SKIP LOCKED
            ) AS due
            WHERE d.id = due.id
            RETURNING d.id, d.event_id, d.body, d.attempts, d.created_at
            """);
        claim.Parameters.AddWithValue("now", now);
        claim.Parameters.AddWithValue("leaseUntil", leaseUntil);
        claim.Parameters.AddWithValue("batchSize", batchSize);
        var claimed = new List<Claimed>();
        await using var reader = await claim.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
            claimed.Add(new Claimed(reader.GetInt64(0), reader.GetGuid(1), reader.GetString(2), reader.GetInt32(3),
                reader.GetDateTime(4)));
        return claimed;
    }

    public Task MarkDeliveredAsync(long id, int statusCode, DateTime now, CancellationToken cancellationToken) =>
        RecordAttemptAsync(id, statusCode, error: null, deliveredAt: now, dueAt: null, abandonedAt: null, cancellationToken);

    public Task MarkFailedAsync(long id, int? statusCode, string error, DateTime retryAt, CancellationToken cancellationToken) =>
        RecordAttemptAsync(id, statusCode, error, deliveredAt: null, dueAt: retryAt, abandonedAt: null, cancellationToken);

    public Task MarkAbandonedAsync(long id, int? statusCode, string error, DateTime now, CancellationToken cancellationToken) =>
        RecordAttemptAsync(id, statusCode, error, deliveredAt: null, dueAt: null, abandonedAt: now, cancellationToken);

    /// <summary>Gives a claimed webhook back, due now, without counting the interrupted attempt.</summary>
    public async Task ReleaseAsync(long id, DateTime now, CancellationToken cancellationToken)
    {
        await using var release = database.CreateCommand("""
            UPDATE sandbox.webhook_deliveries SET due_at = @now, attempts = attempts - 1
            WHERE id = @id AND delivered_at IS NULL AND abandoned_at IS NULL
            """);
        release.Parameters.AddWithValue("id", id);
        release.Parameters.AddWithValue("now", now);
        await release.ExecuteNonQueryAsync(cancellationToken);
    }

    public sealed record DeliveryView(
        Guid EventId,
        int CopyNumber,
        string Type,
        string ProviderReference,
        string Status,
        int Attempts,
        int? LastStatusCode,
        string? LastError,
        DateTime CreatedAt,
        DateTime? DeliveredAt);

    /// <summary>The delivery log (for one payment, or all), oldest first.</summary>
    public async Task<IReadOnlyList<DeliveryView>> ListAsync(string? providerReference, CancellationToken cancellationToken)
    {
        await using var select = database.CreateCommand("""
            SELECT event_id, copy_number, event_type, provider_reference,
                   CASE WHEN delivered_at IS NOT NULL THEN 'delivered'
                        WHEN abandoned_at IS NOT NULL THEN 'abandoned'
                        ELSE 'pending' END,
                   attempts, last_status_code, last_error, created_at, delivered_at
            FROM sandbox.webhook_deliveries
            WHERE @providerReference::text IS NULL OR provider_reference = @providerReference
            ORDER BY id
            """);
        select.Parameters.AddWithValue("providerReference", NpgsqlTypes.NpgsqlDbType.Text,
            (object?)providerReference ?? DBNull.Value);
        var deliveries = new List<DeliveryView>();
        await using var reader = await select.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
            deliveries.Add(new DeliveryView(
                reader.GetGuid(0),
                reader.GetInt32(1),
                reader.GetString(2),
                reader.GetString(3),
                reader.GetString(4),
                reader.GetInt32(5),
                reader.IsDBNull(6) ? null : reader.GetInt32(6),
                reader.IsDBNull(7) ? null : reader.GetString(7),
                reader.GetDateTime(8),
                reader.IsDBNull(9) ? null : reader.GetDateTime(9)));
        return deliveries;
    }

    async Task RecordAttemptAsync(
        long id, int? statusCode, string? error, DateTime? deliveredAt, DateTime? dueAt, DateTime? abandonedAt,
        CancellationToken cancellationToken)
    {
        await using var update = database.CreateCommand("""
            UPDATE sandbox.webhook_deliveries
            SET last_status_code = @statusCode,
                last_error = @error,
                delivered_at = @deliveredAt,
                abandoned_at = @abandonedAt,
                due_at = coalesce(@dueAt, due_at)
            WHERE id = @id
            """);
        update.Parameters.AddWithValue("id", id);
        update.Parameters.AddWithValue("statusCode", NpgsqlTypes.NpgsqlDbType.Integer, (object?)statusCode ?? DBNull.Value);
        update.Parameters.AddWithValue("error", NpgsqlTypes.NpgsqlDbType.Text, (object?)error ?? DBNull.Value);
        update.Parameters.AddWithValue("deliveredAt", NpgsqlTypes.NpgsqlDbType.TimestampTz, (object?)deliveredAt ?? DBNull.Value);
        update.Parameters.AddWithValue("abandonedAt", NpgsqlTypes.NpgsqlDbType.TimestampTz, (object?)abandonedAt ?? DBNull.Value);
        update.Parameters.AddWithValue("dueAt", NpgsqlTypes.NpgsqlDbType.TimestampTz, (object?)dueAt ?? DBNull.Value);
        await update.ExecuteNonQueryAsync(cancellationToken);
    }
}
