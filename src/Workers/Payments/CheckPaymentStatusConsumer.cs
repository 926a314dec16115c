using MassTransit;
using Sagas.Contracts.Payments;
using Sagas.Data;

namespace Sagas.Workers.Payments;

/// <summary>
/// One look at the payment at the provider (a poll, or reconciliation asking again), reported as what it says:
/// captured, failed, no longer payable (canceled, expired) or still pending, and refunded when it was. The saga
/// decides what each means.
/// </summary>
public sealed class CheckPaymentStatusConsumer(PaymentProviderClient provider, FulfilmentDbContext db, TimeProvider clock)
    : IConsumer<CheckPaymentStatus>
{
    public async Task Consume(ConsumeContext<CheckPaymentStatus> context)
    {
        var command = context.Message;
        var payment = await provider.GetPaymentAsync(command.ProviderReference, context.CancellationToken);
        await PaymentRecords.UpdateAsync(db, command.OrderId, payment, clock.GetUtcNow(), context.CancellationToken);
        await context.Publish(PaymentRecords.Outcome(command.OrderId, payment, PaymentSources.Poll, clock)
                              ?? new PaymentStillPending { OrderId = command.OrderId, ProviderReference = payment.ProviderReference });

        // Reconciliation asking about an unplaced order: a refund the provider made (whose answer we lost) settles it.
        if (payment.Refunds?.Where(r => r.Status == "succeeded").ToList() is [var first, ..] refunds)
            await context.Publish(new PaymentRefunded
            {
                OrderId = command.OrderId,
                RefundId = first.RefundId,
                Amount = refunds.Sum(r => r.Amount),
                Source = PaymentSources.Poll,
            });
    }
}
