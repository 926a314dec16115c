namespace Sagas.Contracts.Payments;

/// <summary>
/// The customer paid. Learnt from a status poll, from the provider's webhook (published by the Api) or from a
/// cancel that found the payment already paid, so the same payment is usually reported more than once.
/// <see cref="Amount"/> and <see cref="Currency"/> are what was actually paid, which may differ from the order.
/// </summary>
public sealed record PaymentSucceeded
{
    public Guid OrderId { get; init; }
    public string ProviderReference { get; init; } = "";
    public decimal Amount { get; init; }
    public string Currency { get; init; } = "";

    /// <summary>One of <see cref="PaymentSources"/>.</summary>
    public string Source { get; init; } = "";

    public DateTimeOffset PaidAt { get; init; }
}

/// <summary>How we learnt of a payment's outcome.</summary>
public static class PaymentSources
{
    public const string Poll = "poll";
    public const string Webhook = "webhook";
    public const string Cancel = "cancel";
}
