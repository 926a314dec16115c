namespace Sagas.Contracts.Payments;

/// <summary>
/// Withdraw the QR payment so it can no longer be paid. Answered by <see cref="PaymentCanceled"/> once the provider
/// confirms nobody can pay it, or, when it was paid meanwhile (the provider refuses with 409 and a status read shows
/// the capture), by <see cref="PaymentSucceeded"/> with source <see cref="PaymentSources.Cancel"/>.
/// </summary>
public sealed record CancelPayment
{
    public Guid OrderId { get; init; }
    public string ProviderReference { get; init; } = "";
}
