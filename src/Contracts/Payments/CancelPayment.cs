namespace Sagas.Contracts.Payments;

/// <summary>
/// Withdraw the QR payment so it can no longer be paid. Answered by <see cref="PaymentCanceled"/>, or, when the
/// provider says it was paid meanwhile, by <see cref="PaymentSucceeded"/> with source <see cref="PaymentSources.Cancel"/>.
/// </summary>
public sealed record CancelPayment
{
    public Guid OrderId { get; init; }
    public string ProviderReference { get; init; } = "";
}
