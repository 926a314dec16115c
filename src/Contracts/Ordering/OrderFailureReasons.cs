namespace Sagas.Contracts.Ordering;

/// <summary>Why an order did not end <c>Placed</c>: the <c>failureReason</c> values of the HTTP contract.</summary>
public static class OrderFailureReasons
{
    public const string InsufficientStock = "insufficient-stock";
    public const string PaymentExpired = "payment-expired";
    public const string PaymentFailed = "payment-failed";
    public const string HoldExpired = "hold-expired";
    public const string AmountMismatch = "amount-mismatch";
    public const string Canceled = "canceled";

    public static IReadOnlyList<string> All { get; } =
        [InsufficientStock, PaymentExpired, PaymentFailed, HoldExpired, AmountMismatch, Canceled];
}
