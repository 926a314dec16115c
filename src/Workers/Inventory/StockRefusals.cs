using Sagas.Contracts.Ordering;

namespace Sagas.Workers.Inventory;

/// <summary>Why <see cref="StockLedger"/> refuses to hold or to commit an order's stock.</summary>
public static class StockRefusals
{
    /// <summary>A line names an item the catalog does not have.</summary>
    public const string UnknownSku = "unknown-sku";

    public const string InsufficientStock = OrderFailureReasons.InsufficientStock;

    /// <summary>A hold is no longer Active (released, expired or returned): the order cannot be placed.</summary>
    public const string HoldExpired = OrderFailureReasons.HoldExpired;

    /// <summary>The order holds nothing at all; placement reports it as <see cref="HoldExpired"/>.</summary>
    public const string HoldMissing = "hold-missing";
}
