namespace Sagas.Contracts.Payments;

/// <summary>The QR payment was withdrawn at the provider unpaid.</summary>
public sealed record PaymentCanceled
{
    public Guid OrderId { get; init; }
}
