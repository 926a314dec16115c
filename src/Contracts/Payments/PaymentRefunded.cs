namespace Sagas.Contracts.Payments;

/// <summary>The provider confirmed the refund.</summary>
public sealed record PaymentRefunded
{
    public Guid OrderId { get; init; }
    public string RefundId { get; init; } = "";
    public decimal Amount { get; init; }
}
