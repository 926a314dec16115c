namespace Sagas.Messaging.Outbox;

/// <summary>
/// One bus-outbox transaction (<c>messaging.outbox_state</c>): the unit that a delivery service claims with
/// <c>FOR UPDATE SKIP LOCKED</c>, so its messages leave in sequence order from one process at a time.
/// </summary>
public sealed class OutboxState
{
    public Guid OutboxId { get; set; }

    /// <summary>Set by the database (transaction start); claims go oldest first.</summary>
    public DateTime Created { get; set; }
}
