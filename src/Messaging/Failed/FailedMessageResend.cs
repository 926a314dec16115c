using System.Text;
using System.Text.Json;
using MassTransit;
using MassTransit.Serialization;
using Microsoft.EntityFrameworkCore;
using Sagas.Messaging.Outbox;

namespace Sagas.Messaging.Failed;

/// <summary>
/// Sends a failed message back to its queue through the bus outbox: the outbox rows are added to the caller's
/// DbContext, so they commit (or not) with the caller's change of the failed message's state, and the delivery
/// service sends them after that commit (woken by the outbox's commit notification).
/// </summary>
public static class FailedMessageResend
{
    /// <summary>
    /// Adds one bus outbox holding the message as it was received, to the exchange of its queue (which is bound to that
    /// queue alone), with its MessageId kept (so a consumer's inbox drops a second copy should delivery repeat it) and
    /// MassTransit's fault headers left out. False when the body is not text the outbox can hold (a poison body).
    /// </summary>
    public static bool TryAdd(DbContext db, FailedMessage failed)
    {
        string body;
        try
        {
            body = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(failed.Body);
        }
        catch (DecoderFallbackException)
        {
            return false;
        }

        var headers = (JsonSerializer.Deserialize<Dictionary<string, string>>(failed.HeadersJson) ?? [])
            .Where(h => !h.Key.StartsWith("MT-Fault-", StringComparison.OrdinalIgnoreCase)
                        && !h.Key.Equals(MessageHeaders.Reason, StringComparison.OrdinalIgnoreCase))
            .ToDictionary(h => h.Key, h => (object)h.Value);
        var outbox = new OutboxState { OutboxId = NewId.NextGuid() };
        db.Add(outbox);
        db.Add(new OutboxMessage
        {
            OutboxId = outbox.OutboxId,
            SequenceNumber = 1,
            MessageId = failed.MessageId,
            CorrelationId = failed.CorrelationId,
            DestinationAddress = new Uri($"exchange:{failed.Queue}").ToString(),
            // A message stamp in MassTransit's domain, on its clock (as OutboxMessage.Capture's).
            SentTime = DateTime.UtcNow,
            ContentType = failed.ContentType ?? "application/vnd.masstransit+json",
            MessageType = failed.MessageType.Contains(':') ? "urn:message:" + failed.MessageType : failed.MessageType,
            Body = body,
            HeadersJson = SystemTextJsonMessageSerializer.Instance.SerializeDictionary(headers),
        });
        return true;
    }
}
