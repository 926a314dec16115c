namespace Sagas.Messaging.Outbox;

/// <summary>
/// One bus-outbox transaction (<c>messaging.outbox_state</c>): the unit that a delivery service claims with
/// <c>FOR UPDATE SKIP LOCKED</c>, so its messages leave in sequence order from one process at a time.
/// </summary>
public sealed class OutboxState
{
    public Guid OutboxId { get; set; }

    /// <summary>Set by the database (transaction start).</summary>
    public DateTime Created { get; set; }

    /// <summary>Failures specific to this outbox so far (a broker outage never counts).</summary>
    public int Attempts { get; set; }

    /// <summary>
    /// When a delivery service may claim it (database clock): its creation, then later after each counted failure.
    /// Claims take due outboxes in this order.
    /// </summary>
    public DateTime NextAttemptAt { get; set; }

    /// <summary>The last counted failure, for operators.</summary>
    public string? LastError { get; set; }

    /// <summary>Set after <see cref="BusOutboxOptions.MaxAttempts"/>: claims skip it until it is released.</summary>
    public DateTime? ParkedAt { get; set; }
}
