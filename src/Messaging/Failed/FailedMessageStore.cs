using System.Text.Json;
using Npgsql;
using NpgsqlTypes;

namespace Sagas.Messaging.Failed;

/// <summary>Writes what <see cref="ErrorQueueDrain"/> takes off an error queue into <c>messaging.failed_message</c>.</summary>
public sealed class FailedMessageStore(NpgsqlDataSource database)
{
    /// <summary>
    /// Records a failure, idempotently: the same error message delivered again (a drain that died before its ack) finds
    /// its row and changes nothing; the same message failing again later (after a retry) counts one more attempt and is
    /// waiting for a person again. True when a row was written or changed.
    /// </summary>
    public async Task<bool> RecordAsync(ErrorQueueMessage message, CancellationToken cancellationToken)
    {
        await using var command = database.CreateCommand("""
            INSERT INTO messaging.failed_message AS f
                   (message_id, queue, message_type, correlation_id, exception_type, reason, first_failed_at, last_failed_at,
                    content_type, body, headers)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8, $9, $10)
            ON CONFLICT (message_id) DO UPDATE
               SET queue = EXCLUDED.queue, message_type = EXCLUDED.message_type, exception_type = EXCLUDED.exception_type,
                   reason = EXCLUDED.reason, last_failed_at = EXCLUDED.last_failed_at, attempts = f.attempts + 1,
                   content_type = EXCLUDED.content_type, body = EXCLUDED.body, headers = EXCLUDED.headers,
                   state = 'failed', state_changed_at = NULL, state_changed_by = NULL, discard_reason = NULL
             WHERE f.last_failed_at < EXCLUDED.last_failed_at
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = message.MessageId });
        command.Parameters.Add(new NpgsqlParameter { Value = message.Queue });
        command.Parameters.Add(new NpgsqlParameter { Value = message.MessageType });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)message.CorrelationId ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Uuid });
        command.Parameters.Add(new NpgsqlParameter { Value = message.ExceptionType });
        command.Parameters.Add(new NpgsqlParameter { Value = message.Reason });
        command.Parameters.Add(new NpgsqlParameter { Value = message.FailedAt.UtcDateTime, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)message.ContentType ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter { Value = message.Body });
        command.Parameters.Add(new NpgsqlParameter { Value = JsonSerializer.Serialize(message.Headers), NpgsqlDbType = NpgsqlDbType.Jsonb });
        return await command.ExecuteNonQueryAsync(cancellationToken) > 0;
    }
}
