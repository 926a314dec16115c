namespace Sagas.Contracts.Payments;

/// <summary>The provider has neither a payment nor a failure yet.</summary>
public sealed record PaymentStillPending
{
    public Guid OrderId { get; init; }
    public string ProviderReference { get; init; } = "";
}
