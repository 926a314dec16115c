namespace Sagas.Contracts.Payments;

/// <summary>
/// Give the money back. The saga sends this at most once per order; the consumer keys the provider call by the
/// order as well, so a redelivered command can never refund twice. Answered by <see cref="PaymentRefunded"/>.
/// </summary>
public sealed record RefundPayment
{
    public Guid OrderId { get; init; }
    public string ProviderReference { get; init; } = "";
    public decimal Amount { get; init; }
    public string Currency { get; init; } = "";

    /// <summary>Why (e.g. <c>late-payment</c>, <c>amount-mismatch</c>, <c>canceled</c>): for the ledger and support.</summary>
    public string Reason { get; init; } = "";
}
