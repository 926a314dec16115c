namespace Sagas.Contracts.Inventory;

/// <summary>The order holds no stock any more (nothing active, nothing committed).</summary>
public sealed record StockReleased
{
    public Guid OrderId { get; init; }
}
