namespace Sagas.PaymentSandbox.Webhooks;

public static class WebhookEventType
{
    public const string PaymentSucceeded = "payment.succeeded";
    public const string PaymentFailed = "payment.failed";
    public const string RefundSucceeded = "refund.succeeded";
}

/// <summary>
/// The webhook body of the contract. <c>amount</c> is the money that moved: the captured amount for a
/// success (which is how a receiver notices an amount mismatch), the payment's amount for a failure,
/// the refund's amount for a refund.
/// </summary>
public sealed record WebhookEvent(
    Guid EventId,
    string Type,
    string ProviderReference,
    string MerchantReference,
    decimal Amount,
    string Currency,
    DateTime OccurredAt);
