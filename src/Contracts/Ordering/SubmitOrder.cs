namespace Sagas.Contracts.Ordering;

/// <summary>
/// Sent by the Api once it has accepted an order (202): starts the order's saga. Prices and the total are
/// the Api's quote at submission; the saga charges exactly <see cref="Total"/> in <see cref="Currency"/>.
/// </summary>
public sealed record SubmitOrder
{
    public Guid OrderId { get; init; }
    public string CustomerId { get; init; } = "";

    /// <summary>ISO 4217 code, the same for every line.</summary>
    public string Currency { get; init; } = "";

    public IReadOnlyList<OrderLine> Lines { get; init; } = [];
    public decimal Total { get; init; }
    public DateTimeOffset SubmittedAt { get; init; }
}

public sealed record OrderLine
{
    public string Sku { get; init; } = "";
    public int Quantity { get; init; }
    public decimal UnitPrice { get; init; }
}
