namespace Sagas.Contracts.Inventory;

/// <summary>
/// The answer to <see cref="Ordering.PlaceOrder"/>: the order's holds are committed, the stock is sold. Only the
/// saga turns this into <see cref="Ordering.OrderPlaced"/>, because a cancel may reach it first.
/// </summary>
public sealed record StockCommitted
{
    public Guid OrderId { get; init; }
    public DateTimeOffset CommittedAt { get; init; }
}
