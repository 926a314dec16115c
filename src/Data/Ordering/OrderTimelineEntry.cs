namespace Sagas.Data.Ordering;

/// <summary>
/// One line of an order's history for support: a state transition (<see cref="FromState"/> ≠ <see cref="ToState"/>;
/// <see cref="FromState"/> is null for the order's creation) or a significant event that left the state as it was
/// (both equal). <see cref="Event"/> is the message that caused it, e.g. <c>PaymentSucceeded</c>.
/// </summary>
public sealed class OrderTimelineEntry
{
    /// <summary>Database-assigned; orders an order's entries.</summary>
    public long Id { get; set; }

    public Guid OrderId { get; set; }
    public DateTimeOffset At { get; set; }
    public string Event { get; set; } = "";
    public string? FromState { get; set; }
    public string ToState { get; set; } = "";
    public string? Detail { get; set; }
}
