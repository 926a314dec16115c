namespace Sagas.Data.Ordering;

/// <summary>The order's payment as the Api reports it (<c>payment.status</c>); stored by name.</summary>
public enum PaymentStatus
{
    Pending,
    Succeeded,
    Failed,
    Expired,
    Canceled,
    Refunded,
}
