using MassTransit;
using Microsoft.EntityFrameworkCore;
using Sagas.Contracts.Payments;
using Sagas.Data;
using Sagas.Data.Payments;

namespace Sagas.Workers.Payments;

/// <summary>
/// Creates the order's QR payment. The provider call is keyed by the order, so however often this runs
/// (redelivery, a crash before commit, a second worker) the provider holds one payment for the order.
/// </summary>
public sealed class RequestPaymentConsumer(PaymentProviderClient provider, FulfilmentDbContext db, TimeProvider clock)
    : IConsumer<RequestPayment>
{
    public async Task Consume(ConsumeContext<RequestPayment> context)
    {
        var command = context.Message;
        var now = clock.GetUtcNow();
        var expiresIn = command.ExpiresAt - now;
        var payment = await provider.CreatePaymentAsync(command.OrderId, command.Amount, command.Currency,
            expiresIn > TimeSpan.FromSeconds(1) ? expiresIn : TimeSpan.FromSeconds(1), context.CancellationToken);

        var record = await db.Set<PaymentRecord>().SingleOrDefaultAsync(p => p.OrderId == command.OrderId, context.CancellationToken);
        if (record is null)
        {
            db.Add(record = new PaymentRecord
            {
                OrderId = command.OrderId,
                Amount = command.Amount,
                Currency = command.Currency,
                Status = "Pending",
                RequestedAt = now,
            });
        }

        record.ProviderReference = payment.ProviderReference;
        record.QrPayload = payment.QrPayload;
        record.ExpiresAt = payment.ExpiresAt;
        record.UpdatedAt = now;
        await db.SaveChangesAsync(context.CancellationToken);

        await context.Publish(new PaymentRequested
        {
            OrderId = command.OrderId,
            ProviderReference = payment.ProviderReference,
            QrPayload = payment.QrPayload ?? "",
            ExpiresAt = payment.ExpiresAt ?? command.ExpiresAt,
        });
    }
}
