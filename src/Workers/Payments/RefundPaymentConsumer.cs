using MassTransit;
using Microsoft.EntityFrameworkCore;
using Sagas.Contracts.Payments;
using Sagas.Data;
using Sagas.Data.Payments;

namespace Sagas.Workers.Payments;

/// <summary>
/// Refunds what the customer paid. The provider call is keyed by the order, so however often the saga, support or a
/// redelivery asks, the provider holds at most one refund for the order; the local row records the request and the
/// answer. A refusal (4xx) is not retried here: it faults, and the saga flags the order and asks again later.
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

        await context.Publish(new PaymentRefunded
        {
            OrderId = command.OrderId,
            RefundId = refund.RefundId,
            Amount = refund.Amount,
            Source = "refund",
        });
    }
}
