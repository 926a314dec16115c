namespace Sagas.Contracts.Ordering;

/// <summary>
/// Published by the order saga when the order is placed — its stock committed and no cancel ahead of it — for
/// whoever fulfils orders. Never published for an order that a cancel reached first.
/// </summary>
public sealed record OrderPlaced
{
    public Guid OrderId { get; init; }
    public DateTimeOffset PlacedAt { get; init; }
}
