namespace Sagas.Contracts.Payments;

/// <summary>
/// Create the order's QR payment at the provider (one per order: the provider call is keyed by the order).
/// Answered by <see cref="PaymentRequested"/>.
/// </summary>
public sealed record RequestPayment
{
    public Guid OrderId { get; init; }
    public decimal Amount { get; init; }
    public string Currency { get; init; } = "";
    public DateTimeOffset ExpiresAt { get; init; }
}
