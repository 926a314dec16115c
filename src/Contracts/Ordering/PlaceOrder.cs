namespace Sagas.Contracts.Ordering;

/// <summary>
/// The payment succeeded with the right amount: commit the order's stock holds if they are all still active and
/// unexpired. Answered by <see cref="OrderPlaced"/> or <see cref="OrderPlacementFailed"/>.
/// </summary>
public sealed record PlaceOrder
{
    public Guid OrderId { get; init; }
    public string ProviderReference { get; init; } = "";
    public decimal PaidAmount { get; init; }
    public string Currency { get; init; } = "";
}
