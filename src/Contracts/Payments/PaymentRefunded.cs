namespace Sagas.Contracts.Payments;

/// <summary>The provider confirmed the refund: answered to <see cref="RefundPayment"/>, or reported by its webhook.</summary>
public sealed record PaymentRefunded
{
    public Guid OrderId { get; init; }
    public string RefundId { get; init; } = "";
    public decimal Amount { get; init; }

    /// <summary><c>refund</c> (our refund call's answer) or <c>webhook</c> (the provider's <c>refund.succeeded</c>).</summary>
    public string Source { get; init; } = "";
}
