namespace Sagas.Contracts.Payments;

/// <summary>
/// Create the order's QR payment at the provider (one per order: the provider call is keyed by the order).
/// Answered by <see cref="PaymentRequested"/>, whose <c>ExpiresAt</c> — the provider's own — is the customer's deadline.
/// </summary>
public sealed record RequestPayment
{
    public Guid OrderId { get; init; }
    public decimal Amount { get; init; }
    public string Currency { get; init; } = "";

    /// <summary>How long the customer has to pay, from when the provider creates the QR code.</summary>
    public TimeSpan PaymentWindow { get; init; }

    /// <summary>
    /// How long the order's stock must stay held after the deadline the provider states: the consumer extends the
    /// hold to at least deadline + this, in the transaction that records the QR payment.
    /// </summary>
    public TimeSpan HoldAfterDeadline { get; init; }

    /// <summary>Superseded by <see cref="PaymentWindow"/>; honoured only when it is zero (older senders).</summary>
    public DateTimeOffset ExpiresAt { get; init; }
}
