namespace Sagas.Messaging.Failed;

/// <summary>
/// A message that exhausted its retries (<c>messaging.failed_message</c>), drained from its <c>&lt;queue&gt;_error</c>
/// queue by <see cref="ErrorQueueDrain"/>: everything needed to show it, and to send it back to <see cref="Queue"/>.
/// </summary>
public sealed class FailedMessage
{
    public const string Failed = "failed";
    public const string Retried = "retried";
    public const string Discarded = "discarded";

    public long Id { get; set; }
    public Guid MessageId { get; set; }

    /// <summary>The queue it failed on (its error queue without <c>_error</c>), where a retry sends it.</summary>
    public string Queue { get; set; } = null!;

    /// <summary>
    /// Set when the row stands for a bus outbox parked after repeated refusals (migration 0007): its messages stay in
    /// the outbox, a retry releases it, a discard deletes it. <see cref="Queue"/> is then its first message's destination.
    /// </summary>
    public Guid? OutboxId { get; set; }

    public string MessageType { get; set; } = null!;

    /// <summary>The message's orderId or correlationId, when it has one.</summary>
    public Guid? CorrelationId { get; set; }

    public string ExceptionType { get; set; } = null!;
    public string Reason { get; set; } = null!;
    public string GroupKey { get; set; } = null!;
    public DateTime FirstFailedAt { get; set; }
    public DateTime LastFailedAt { get; set; }
    public int Attempts { get; set; }
    public string? ContentType { get; set; }
    public byte[] Body { get; set; } = null!;
    public string HeadersJson { get; set; } = "{}";
    public string State { get; set; } = Failed;
    public DateTime? StateChangedAt { get; set; }
    public string? StateChangedBy { get; set; }
    public string? DiscardReason { get; set; }
}

/// <summary>Who retried or discarded a failed message, when and why (<c>messaging.failed_message_action</c>).</summary>
public sealed class FailedMessageAction
{
    public long Id { get; set; }
    public long FailedMessageId { get; set; }
    public DateTime At { get; set; }
    public string Action { get; set; } = null!;
    public string Client { get; set; } = null!;
    public string? Reason { get; set; }
}
