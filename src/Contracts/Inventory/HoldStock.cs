namespace Sagas.Contracts.Inventory;

/// <summary>
/// Reserve every line for the order until <see cref="HoldUntil"/>, all lines or none. Answered by
/// <see cref="StockHeld"/> or <see cref="StockHoldRejected"/>; a redelivered command answers the same again.
/// </summary>
public sealed record HoldStock
{
    public Guid OrderId { get; init; }
    public IReadOnlyList<StockLine> Lines { get; init; } = [];
    public DateTimeOffset HoldUntil { get; init; }
}

public sealed record StockLine
{
    public string Sku { get; init; } = "";
    public int Quantity { get; init; }
}
