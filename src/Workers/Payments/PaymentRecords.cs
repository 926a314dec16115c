using Microsoft.EntityFrameworkCore;
using Sagas.Contracts.Ordering;
using Sagas.Contracts.Payments;
using Sagas.Data;
using Sagas.Data.Payments;

namespace Sagas.Workers.Payments;

/// <summary>Our copy of what the provider says about a payment, and the event that reports it to the saga.</summary>
static class PaymentRecords
{
    /// <summary>
    /// The provider's status as an event: a capture, a failure, or "can no longer be paid" (canceled, expired);
    /// null while the payment is still pending.
    /// </summary>
    public static object? Outcome(Guid orderId, ProviderPayment payment, string source, TimeProvider clock) => payment.Status switch
    {
        "succeeded" => Succeeded(orderId, payment, source, clock),
        "failed" => new PaymentFailed { OrderId = orderId, ProviderReference = payment.ProviderReference, Reason = OrderFailureReasons.PaymentFailed },
        "canceled" or "expired" => new PaymentCanceled { OrderId = orderId, ProviderReference = payment.ProviderReference, Status = payment.Status },
        _ => null,
    };

    public static PaymentSucceeded Succeeded(Guid orderId, ProviderPayment payment, string source, TimeProvider clock) => new()
    {
        OrderId = orderId,
        ProviderReference = payment.ProviderReference,
        Amount = payment.CapturedAmount ?? payment.Amount ?? 0,
        Currency = payment.Currency ?? "",
        Source = source,
        PaidAt = payment.PaidAt ?? clock.GetUtcNow(),
    };

    public static async Task UpdateAsync(FulfilmentDbContext db, Guid orderId, ProviderPayment payment, DateTimeOffset now,
        CancellationToken cancellationToken)
    {
        var record = await db.Set<PaymentRecord>().SingleOrDefaultAsync(p => p.OrderId == orderId, cancellationToken);
        if (record is null)
            return;
        Apply(record, payment, now);
        await db.SaveChangesAsync(cancellationToken);
    }

    /// <summary>Our records of these orders' payments brought up to what the provider says; saved by the caller.</summary>
    public static async Task UpdateManyAsync(FulfilmentDbContext db, IReadOnlyDictionary<Guid, ProviderPayment> payments, DateTimeOffset now,
        CancellationToken cancellationToken)
    {
        var ids = payments.Keys.ToList();
        foreach (var record in await db.Set<PaymentRecord>().Where(p => ids.Contains(p.OrderId)).ToListAsync(cancellationToken))
            Apply(record, payments[record.OrderId], now);
    }

    /// <summary>Our record's status for the provider's.</summary>
    public static string StatusOf(string providerStatus) => providerStatus switch
    {
        "succeeded" => "Succeeded",
        "failed" => "Failed",
        "expired" => "Expired",
        "canceled" => "Canceled",
        _ => "Pending",
    };

    static void Apply(PaymentRecord record, ProviderPayment payment, DateTimeOffset now)
    {
        record.Status = StatusOf(payment.Status);
        record.PaidAmount = payment.CapturedAmount;
        record.PaidAt = payment.PaidAt;
        record.UpdatedAt = now;
    }
}
