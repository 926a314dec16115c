using MassTransit;
using Microsoft.EntityFrameworkCore;
using Sagas.Contracts.Payments;
using Sagas.Data;
using Sagas.Data.Payments;

namespace Sagas.Workers.Payments;

/// <summary>
/// One poll of the provider. A provider-side "expired" or "canceled" is reported as still pending: the
/// saga's own payment window decides expiry, so the two clocks can never race the order into a wrong state.
/// </summary>
public sealed class CheckPaymentStatusConsumer(PaymentProviderClient provider, FulfilmentDbContext db, TimeProvider clock)
    : IConsumer<CheckPaymentStatus>
{
    public async Task Consume(ConsumeContext<CheckPaymentStatus> context)
    {
        var command = context.Message;
        var payment = await provider.GetPaymentAsync(command.ProviderReference, context.CancellationToken);
        await PaymentRecords.UpdateAsync(db, command.OrderId, payment, clock.GetUtcNow(), context.CancellationToken);

        switch (payment.Status)
        {
            case "succeeded":
                await context.Publish(PaymentRecords.Succeeded(command.OrderId, payment, PaymentSources.Poll, clock));
                break;
            case "failed":
                await context.Publish(new PaymentFailed
                {
                    OrderId = command.OrderId,
                    ProviderReference = payment.ProviderReference,
                    Reason = "payment-failed",
                });
                break;
            default:
                await context.Publish(new PaymentStillPending { OrderId = command.OrderId, ProviderReference = payment.ProviderReference });
                break;
        }
    }
}

/// <summary>
/// Withdraws an unpaid QR payment. If the customer paid in the meantime the provider refuses (409); the
/// payment is then reported as succeeded, and the saga refunds it as a late payment.
/// </summary>
public sealed class CancelPaymentConsumer(PaymentProviderClient provider, FulfilmentDbContext db, TimeProvider clock)
    : IConsumer<CancelPayment>
{
    public async Task Consume(ConsumeContext<CancelPayment> context)
    {
        var command = context.Message;
        if (await provider.CancelPaymentAsync(command.ProviderReference, context.CancellationToken))
        {
            await context.Publish(new PaymentCanceled { OrderId = command.OrderId });
            return;
        }

        var payment = await provider.GetPaymentAsync(command.ProviderReference, context.CancellationToken);
        await PaymentRecords.UpdateAsync(db, command.OrderId, payment, clock.GetUtcNow(), context.CancellationToken);
        await context.Publish(PaymentRecords.Succeeded(command.OrderId, payment, PaymentSources.Cancel, clock));
    }
}

/// <summary>
/// Refunds what the customer paid. The saga asks at most once per order, and the provider call is keyed
/// by the order, so no redelivery can refund twice; the local row records the request and the answer.
/// </summary>
public sealed class RefundPaymentConsumer(PaymentProviderClient provider, FulfilmentDbContext db, TimeProvider clock)
    : IConsumer<RefundPayment>
{
    public async Task Consume(ConsumeContext<RefundPayment> context)
    {
        var command = context.Message;
        var now = clock.GetUtcNow();
        var record = await db.Set<RefundRecord>().SingleOrDefaultAsync(r => r.OrderId == command.OrderId, context.CancellationToken);
        if (record is null)
        {
            db.Add(record = new RefundRecord
            {
                OrderId = command.OrderId,
                ProviderReference = command.ProviderReference,
                Amount = command.Amount,
                Status = "Requested",
                Reason = command.Reason,
                RequestedAt = now,
            });
        }

        var refund = await provider.RefundAsync(command.OrderId, record.ProviderReference, record.Amount, context.CancellationToken);
        record.RefundId = refund.RefundId;
        record.Status = refund.Status;
        record.CompletedAt = now;
        await db.SaveChangesAsync(context.CancellationToken);

        await context.Publish(new PaymentRefunded { OrderId = command.OrderId, RefundId = refund.RefundId, Amount = refund.Amount });
    }
}

static class PaymentRecords
{
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
        record.Status = payment.Status switch
        {
            "succeeded" => "Succeeded",
            "failed" => "Failed",
            "expired" => "Expired",
            "canceled" => "Canceled",
            _ => "Pending",
        };
        record.PaidAmount = payment.CapturedAmount;
        record.PaidAt = payment.PaidAt;
        record.UpdatedAt = now;
        await db.SaveChangesAsync(cancellationToken);
    }
}
