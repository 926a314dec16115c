namespace Sagas.PaymentSandbox.Payments;

/// <summary>The provider's payment statuses, spelled as on the wire.</summary>
public static class PaymentStatus
{
    public const string Pending = "pending";
    public const string Succeeded = "succeeded";
    public const string Failed = "failed";
    public const string Expired = "expired";
    public const string Canceled = "canceled";
}

public static class RefundStatus
{
    // The sandbox settles refunds at once; a real provider may answer "pending" first.
    public const string Succeeded = "succeeded";
}
