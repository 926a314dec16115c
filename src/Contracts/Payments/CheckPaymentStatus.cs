namespace Sagas.Contracts.Payments;

/// <summary>
/// Ask the provider for the payment's status. Answered by <see cref="PaymentStillPending"/>,
/// <see cref="PaymentSucceeded"/> (source <see cref="PaymentSources.Poll"/>) or <see cref="PaymentFailed"/>.
/// </summary>
public sealed record CheckPaymentStatus
{
    public Guid OrderId { get; init; }
    public string ProviderReference { get; init; } = "";
}
