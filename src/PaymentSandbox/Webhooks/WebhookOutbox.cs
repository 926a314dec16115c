using System.Text.Json;
using Npgsql;
using Sagas.PaymentSandbox.Simulation;

namespace Sagas.PaymentSandbox.Webhooks;

/// <summary>
/// Queues a webhook inside the caller's transaction. The body is serialised once here, so every
/// duplicate and every retry sends the same bytes with the same <c>eventId</c>; only the signature
/// timestamp is taken at sending time.
/// </summary>
public sealed class WebhookOutbox(SimulationSettingsStore settings, WebhookSignal signal)
{
    static readonly JsonSerializerOptions BodyOptions = new(JsonSerializerDefaults.Web);

    /// <returns>Whether anything was queued (webhooks may be switched off).</returns>
    public async Task<bool> EnqueueAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, WebhookEvent webhookEvent,
        CancellationToken cancellationToken)
    {
        var current = settings.Current;
        if (!current.WebhooksOn)
            return false;

        await using var command = new NpgsqlCommand("""
            INSERT INTO sandbox.webhook_deliveries
                (event_id, copy_number, event_type, provider_reference, body, created_at, due_at)
            SELECT @eventId, copy_number, @type, @providerReference, @body, @createdAt, @dueAt
            FROM generate_series(0, @duplicates) AS copy_number
            """, connection, transaction);
        command.Parameters.AddWithValue("eventId", webhookEvent.EventId);
        command.Parameters.AddWithValue("type", webhookEvent.Type);
        command.Parameters.AddWithValue("providerReference", webhookEvent.ProviderReference);
        command.Parameters.AddWithValue("body", JsonSerializer.Serialize(webhookEvent, BodyOptions));
        command.Parameters.AddWithValue("createdAt", webhookEvent.OccurredAt);
        command.Parameters.AddWithValue("dueAt", webhookEvent.OccurredAt.AddMilliseconds(current.WebhookDelayMs));
        command.Parameters.AddWithValue("duplicates", current.WebhookDuplicates);
        await command.ExecuteNonQueryAsync(cancellationToken);
        return true;
    }

    /// <summary>Call after the transaction that queued webhooks has committed.</summary>
    public void NotifyCommitted() => signal.Wake();
}
