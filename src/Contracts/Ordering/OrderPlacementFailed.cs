namespace Sagas.Contracts.Ordering;

/// <summary>
/// The order could not be placed (e.g. a hold expired or was released before placement). Nothing was committed;
/// the saga refunds the payment and releases whatever is still held.
/// </summary>
public sealed record OrderPlacementFailed
{
    public Guid OrderId { get; init; }

    /// <summary>Preferably one of <see cref="OrderFailureReasons"/>, e.g. <see cref="OrderFailureReasons.HoldExpired"/>.</summary>
    public string Reason { get; init; } = "";
}
