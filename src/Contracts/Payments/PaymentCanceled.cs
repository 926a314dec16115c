namespace Sagas.Contracts.Payments;

/// <summary>
/// The provider confirmed that the QR payment can no longer be paid and took no money: it answered our cancel, or a
/// status read found it canceled, expired or failed.
/// </summary>
public sealed record PaymentCanceled
{
    public Guid OrderId { get; init; }
    public string ProviderReference { get; init; } = "";

    /// <summary>The provider's status: <c>canceled</c>, <c>expired</c> or <c>failed</c> (empty from older senders: canceled).</summary>
    public string Status { get; init; } = "";
}
