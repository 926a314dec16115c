namespace Sagas.Contracts.Inventory;

/// <summary>
/// Give the order's stock back: active holds are released and committed ones returned. Idempotent on hold status,
/// so it may be sent again (or before the hold exists); always answered by <see cref="StockReleased"/>.
/// </summary>
public sealed record ReleaseStock
{
    public Guid OrderId { get; init; }
    public string Reason { get; init; } = "";
}
