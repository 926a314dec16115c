namespace Sagas.Messaging.Inbox;

/// <summary>
/// The inbox record of one incoming message for one consumer (<c>messaging.inbox_state</c>). Its row lock
/// serialises the deliveries of that message to that consumer; <see cref="Consumed"/> makes a redelivery a no-op.
/// </summary>
public sealed class InboxState
{
    public long Id { get; set; }

    public Guid MessageId { get; set; }

    /// <summary>Derived by MassTransit from the endpoint name and consumer type: renaming an endpoint changes it.</summary>
    public Guid ConsumerId { get; set; }

    public DateTime Received { get; set; }

    public int ReceiveCount { get; set; }

    // The stamps below are the database's now() whatever a writer sets (0004_inbox_database_clock.sql).

    /// <summary>When the consumer's transaction ran.</summary>
    public DateTime? Consumed { get; set; }

    /// <summary>
    /// When every message the consumer produced was handed to the bus outbox: in the consume transaction, so the same
    /// as <see cref="Consumed"/>. Starts the duplicate-detection window.
    /// </summary>
    public DateTime? Delivered { get; set; }
}
