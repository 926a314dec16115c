namespace Sagas.Contracts.Ordering;

/// <summary>
/// A cancellation asked for through the Api. The Api enforces who may cancel what (a storefront cannot cancel a
/// placed order); the saga still only honours a cancel of a placed order from <see cref="CancelRequesters.Support"/>.
/// </summary>
public sealed record CancelOrder
{
    public Guid OrderId { get; init; }

    /// <summary>One of <see cref="CancelRequesters"/>.</summary>
    public string RequestedBy { get; init; } = "";

    public string? Reason { get; init; }
}

public static class CancelRequesters
{
    public const string Storefront = "storefront";
    public const string Support = "support";
}
