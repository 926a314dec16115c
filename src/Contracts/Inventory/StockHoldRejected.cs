namespace Sagas.Contracts.Inventory;

/// <summary>Nothing was held: at least one line could not be (see <see cref="Skus"/>).</summary>
public sealed record StockHoldRejected
{
    public Guid OrderId { get; init; }

    /// <summary>Usually <c>insufficient-stock</c>.</summary>
    public string Reason { get; init; } = "";

    public IReadOnlyList<string> Skus { get; init; } = [];
}
