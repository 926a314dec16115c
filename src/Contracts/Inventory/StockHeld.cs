namespace Sagas.Contracts.Inventory;

/// <summary>Every line of the order is held until <see cref="HeldUntil"/>.</summary>
public sealed record StockHeld
{
    public Guid OrderId { get; init; }
    public DateTimeOffset HeldUntil { get; init; }
}
