namespace Sagas.Contracts.Payments;

/// <summary>The provider reports the payment failed (from a status poll or the webhook).</summary>
public sealed record PaymentFailed
{
    public Guid OrderId { get; init; }
    public string ProviderReference { get; init; } = "";
    public string Reason { get; init; } = "";
}
