namespace Sagas.Contracts.Ordering;

/// <summary>
/// The payment succeeded with the right amount: commit the order's stock holds if they are all still active.
/// Answered by <see cref="Inventory.StockCommitted"/> or <see cref="OrderPlacementFailed"/>; the saga then publishes
/// <see cref="OrderPlaced"/>.
/// </summary>
public sealed record PlaceOrder
{
    public Guid OrderId { get; init; }
    public string ProviderReference { get; init; } = "";
    public decimal PaidAmount { get; init; }
    public string Currency { get; init; } = "";
}
