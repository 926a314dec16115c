namespace Sagas.Contracts.Inventory;

/// <summary>
/// Reserve every line for the order, all lines or none. Answered by <see cref="StockHeld"/> or
/// <see cref="StockHoldRejected"/>; a redelivered command answers the same again.
/// </summary>
public sealed record HoldStock
{
    public Guid OrderId { get; init; }
    public IReadOnlyList<StockLine> Lines { get; init; } = [];

    /// <summary>
    /// How long the hold lasts, counted by the database's clock when the hold is made, so it can never be created
    /// already expired however long the command waited in a queue.
    /// </summary>
    public TimeSpan HoldFor { get; init; }

    /// <summary>Superseded by <see cref="HoldFor"/>; honoured only when <see cref="HoldFor"/> is zero (older senders).</summary>
    public DateTimeOffset HoldUntil { get; init; }
}

public sealed record StockLine
{
    public string Sku { get; init; } = "";
    public int Quantity { get; init; }
}
