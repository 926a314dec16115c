using System.Diagnostics;
using System.Text.Json;
using MassTransit;
using MassTransit.Metadata;
using MassTransit.Middleware;
using MassTransit.Scheduling;
using MassTransit.Serialization;
using Microsoft.EntityFrameworkCore;
using Sagas.Messaging.Scheduling;

namespace Sagas.Messaging.Outbox;

/// <summary>
/// A consumer's timers, kept in its own transaction instead of crossing the broker to the scheduler. What MassTransit
/// sends to the scheduler for a <c>Schedule</c> (a <see cref="ScheduleMessage"/>) becomes an outbox of its own: the
/// message the timer will send, due at the timer's time, its outbox id the timer's token. An <c>Unschedule</c> (a
/// <see cref="CancelScheduledMessage"/>) deletes that outbox in the same transaction. The delivery service sends a timer
/// when it comes due like any other outbox, with the id and headers the scheduler's firing would have given it
/// (<see cref="ScheduledMessageIds"/>, <c>MT-Scheduling-TokenId</c>), so a state machine checks its tokens as before.
/// <para>
/// Per timer this saves a broker message to the scheduler and its consume, a Quartz transaction to store it, one to
/// fire it and, when canceled, another message, consume and transaction. A cancel cannot race the timer: the delete
/// waits for a delivery that claimed the outbox, and a timer that went out meanwhile carries a token the saga no longer
/// holds.
/// </para>
/// </summary>
sealed class OutboxTimers
{
    // In capture order: a timer scheduled and canceled (or canceled and scheduled again under its token) in one consume
    // ends as the last operation says.
    readonly Dictionary<Guid, StoredScheduledMessage> _scheduled = [];
    readonly HashSet<Guid> _replaced = [];

    /// <summary>The earliest timer this consume leaves scheduled, to wake the delivery service then.</summary>
    public DateTime? NextDue => _scheduled.Count == 0 ? null : _scheduled.Values.Min(x => x.ScheduledTimeUtc);

    /// <summary>Whether the message is one of the two that MassTransit sends to the scheduler, which are kept here instead.</summary>
    public static bool Handles<T>(SendContext<T> context)
        where T : class => context is SendContext<ScheduleMessage> or SendContext<CancelScheduledMessage>;

    public void Capture<T>(SendContext<T> context)
        where T : class
    {
        switch (context)
        {
            case SendContext<ScheduleMessage> schedule:
                var timer = StoredScheduledMessage.From(schedule);
                // Like the scheduler's Replacing: a timer stored under the same token before is replaced.
                _replaced.Add(timer.TokenId);
                _scheduled[timer.TokenId] = timer;
                break;
            case SendContext<CancelScheduledMessage> cancel:
                _replaced.Add(cancel.Message.TokenId);
                _scheduled.Remove(cancel.Message.TokenId);
                break;
            default:
                throw new ArgumentException($"{TypeCache<T>.ShortName} is no timer", nameof(context));
        }
    }

    /// <summary>Deletes the timers replaced or canceled and adds the ones scheduled, in the consume's transaction.</summary>
    public async Task SaveAsync(DbContext dbContext, SchedulerMetrics? metrics, CancellationToken cancellationToken)
    {
        if (_replaced.Count > 0)
        {
            // Only timers: an outbox whose id is a token holds that timer alone (its message cascades with it).
            var tokens = _replaced.ToArray();
            var deleted = await dbContext.Database.SqlQuery<Guid>($"""
                DELETE FROM messaging.outbox_state WHERE outbox_id = ANY({tokens}) RETURNING outbox_id AS "Value"
                """).ToListAsync(cancellationToken);
            foreach (var canceled in tokens.Where(token => !_scheduled.ContainsKey(token)))
                metrics?.Canceled(found: deleted.Contains(canceled));
        }

        foreach (var timer in _scheduled.Values)
        {
            dbContext.Add(new OutboxState { OutboxId = timer.TokenId, NextAttemptAt = timer.ScheduledTimeUtc });
            var message = ToOutboxMessage(timer);
            message.OutboxId = timer.TokenId;
            dbContext.Add(message);
            metrics?.Scheduled(timer.MessageTypes.FirstOrDefault());
        }
    }

    /// <summary>A timer's message on its way out: what the delivery service reports as fired.</summary>
    public static bool IsTimer(OutboxMessageContext message) => message.Headers.TryGetHeader(MessageHeaders.SchedulingTokenId, out _);

    /// <summary>
    /// The root span of a timer's firing when it is sent from the outbox (null for any other message, or when nobody
    /// traces): a trace of its own, linked to the one that set the timer, as the scheduler's firings are.
    /// </summary>
    public static Activity? StartFiring(OutboxMessage message)
    {
        var headers = ((MessageContext)message).Headers;
        if (!headers.TryGetHeader(MessageHeaders.SchedulingTokenId, out var token) || !Guid.TryParse(token?.ToString(), out var tokenId))
            return null;
        headers.TryGetHeader(TimerTracing.SetByHeader, out var setBy);
        return TimerTracing.StartFiring(setBy as string, message.MessageType.Split(';')[0], tokenId, message.EnqueuedAt);
    }

    /// <summary>The message as the scheduler's firing would send it, serialized as MassTransit's JSON envelope.</summary>
    static OutboxMessage ToOutboxMessage(StoredScheduledMessage timer)
    {
        // The context that set the timer is linked from the firing's own span (TimerTracing), never its parent: it is
        // kept out of what is sent, under a header of the stored row alone.
        var headers = timer.Headers.Where(x => !TimerTracing.IsStoredParent(x.Key))
            .ToDictionary(x => x.Key, x => (object?)x.Value, StringComparer.OrdinalIgnoreCase);
        headers[MessageHeaders.SchedulingTokenId] = timer.TokenId.ToString("D");
        var stored = new Dictionary<string, object?>(headers, StringComparer.OrdinalIgnoreCase);
        if (timer.Headers.FirstOrDefault(x => TimerTracing.IsStoredParent(x.Key)).Value is string setBy)
            stored[TimerTracing.SetByHeader] = setBy;
        var envelope = new JsonMessageEnvelope
        {
            MessageId = timer.MessageId.ToString("D"),
            RequestId = timer.RequestId?.ToString("D"),
            CorrelationId = timer.CorrelationId?.ToString("D"),
            ConversationId = timer.ConversationId?.ToString("D"),
            InitiatorId = timer.InitiatorId?.ToString("D"),
            SourceAddress = timer.SourceAddress?.ToString(),
            DestinationAddress = timer.Destination.ToString(),
            ResponseAddress = timer.ResponseAddress?.ToString(),
            FaultAddress = timer.FaultAddress?.ToString(),
            MessageType = timer.MessageTypes,
            Message = JsonSerializer.Deserialize<JsonElement>(timer.PayloadJson),
            SentTime = timer.ScheduledTimeUtc,
            Headers = headers,
            Host = HostMetadataCache.Host,
        };

        return new OutboxMessage
        {
            SequenceNumber = 1,
            // The delivery lag and the outbox's age count from when the timer is due, not from when it was set.
            EnqueuedAt = timer.ScheduledTimeUtc,
            MessageId = timer.MessageId,
            ConversationId = timer.ConversationId,
            CorrelationId = timer.CorrelationId,
            InitiatorId = timer.InitiatorId,
            RequestId = timer.RequestId,
            SourceAddress = timer.SourceAddress?.ToString(),
            DestinationAddress = timer.Destination.ToString(),
            ResponseAddress = timer.ResponseAddress?.ToString(),
            FaultAddress = timer.FaultAddress?.ToString(),
            SentTime = timer.ScheduledTimeUtc,
            ContentType = SystemTextJsonMessageSerializer.JsonContentType.ToString(),
            MessageType = string.Join(";", timer.MessageTypes),
            Body = JsonSerializer.Serialize(envelope, SystemTextJsonMessageSerializer.Options),
            HeadersJson = JsonSerializer.Serialize(stored, SystemTextJsonMessageSerializer.Options),
        };
    }
}
