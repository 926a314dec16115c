namespace Sagas.Contracts.Ordering;

/// <summary>The order's holds were committed: the stock is sold.</summary>
public sealed record OrderPlaced
{
    public Guid OrderId { get; init; }
    public DateTimeOffset PlacedAt { get; init; }
}
