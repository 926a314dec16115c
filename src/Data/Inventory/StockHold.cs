namespace Sagas.Data.Inventory;

public enum StockHoldStatus { Active, Committed, Released, Expired, Returned }

/// <summary>Units of one item reserved for one order (see 0004_stock_holds.sql for the life cycle).</summary>
public sealed class StockHold
{
    public Guid OrderId { get; init; }
    public required string Sku { get; init; }
    public int Quantity { get; init; }
    public StockHoldStatus Status { get; set; }
    public DateTimeOffset ExpiresAt { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; set; }

    /// <summary>When the expired-holds sweep told the (still live) order's saga that this hold is overdue.</summary>
    public DateTimeOffset? OverdueReportedAt { get; set; }
}
