namespace Sagas.Data.Payments;

/// <summary>Our record of the QR payment requested for an order (see 0005_payments.sql).</summary>
public sealed class PaymentRecord
{
    public Guid OrderId { get; init; }
    public string? ProviderReference { get; set; }
    public decimal Amount { get; init; }
    public required string Currency { get; init; }
    public required string Status { get; set; }
    public string? QrPayload { get; set; }
    public DateTimeOffset? ExpiresAt { get; set; }
    public decimal? PaidAmount { get; set; }
    public DateTimeOffset? PaidAt { get; set; }
    public DateTimeOffset RequestedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; set; }
}

/// <summary>Our record of the (single) refund of an order's payment.</summary>
public sealed class RefundRecord
{
    public Guid OrderId { get; init; }
    public required string ProviderReference { get; init; }
    public string? RefundId { get; set; }
    public decimal Amount { get; init; }
    public required string Status { get; set; }
    public required string Reason { get; init; }
    public DateTimeOffset RequestedAt { get; init; }
    public DateTimeOffset? CompletedAt { get; set; }
}
