namespace Sagas.Data.Catalog;

/// <summary>
/// A sellable item and its stock. <see cref="Held"/> counts units reserved by active holds;
/// what can still be sold is <see cref="Available"/>. The database enforces 0 ≤ held ≤ on_hand.
/// </summary>
public sealed class Item
{
    public required string Sku { get; init; }
    public required string Name { get; set; }
    public required string Category { get; set; }
    public decimal Price { get; set; }
    public required string Currency { get; set; }
    public int OnHand { get; set; }
    public int Held { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }

    public int Available => OnHand - Held;
}
