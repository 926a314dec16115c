namespace Sagas.Contracts.Payments;

/// <summary>The QR payment exists at the provider; <see cref="QrPayload"/> is what the storefront shows.</summary>
public sealed record PaymentRequested
{
    public Guid OrderId { get; init; }
    public string ProviderReference { get; init; } = "";
    public string QrPayload { get; init; } = "";
    public DateTimeOffset ExpiresAt { get; init; }
}
