namespace Sagas.Contracts.Inventory;

/// <summary>
/// The expired-holds sweep found the order's hold past its expiry while the order is still in progress. The sweep
/// leaves a live order's stock alone and tells its saga instead, which withdraws the QR payment first: releasing the
/// stock while the customer can still pay would turn a payment in time into a refund.
/// </summary>
public sealed record StockHoldOverdue
{
    public Guid OrderId { get; init; }
    public DateTimeOffset ExpiredAt { get; init; }
}
