using MassTransit;
using Microsoft.EntityFrameworkCore;
using Sagas.Contracts.Payments;
using Sagas.Data;
using Sagas.Data.Payments;
using Sagas.Workers.Inventory;

namespace Sagas.Workers.Payments;

/// <summary>
/// Creates the order's QR payment. The provider call is keyed by the order, so however often this runs (redelivery,
/// a crash before commit, a second worker) the provider holds one payment for the order. The provider's
/// <c>expiresAt</c> is the customer's deadline; in the same transaction that records the payment, the order's stock
/// hold is extended to outlive it (by <see cref="RequestPayment.HoldAfterDeadline"/>), however late the QR code came.
/// </summary>
public sealed class RequestPaymentConsumer(PaymentProviderClient provider, FulfilmentDbContext db, StockLedger stock, TimeProvider clock)
    : IConsumer<RequestPayment>
{
    static readonly TimeSpan MinimumWindow = TimeSpan.FromSeconds(1);

    public async Task Consume(ConsumeContext<RequestPayment> context)
    {
        var command = context.Message;
        var now = clock.GetUtcNow();
        var window = command.PaymentWindow > TimeSpan.Zero ? command.PaymentWindow : command.ExpiresAt - now;
        var payment = await provider.CreatePaymentAsync(command.OrderId, command.Amount, command.Currency,
            window > MinimumWindow ? window : MinimumWindow, context.CancellationToken);
        var deadline = payment.ExpiresAt ?? now + window;

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
        record.ExpiresAt = deadline;
        record.UpdatedAt = now;
        await db.SaveChangesAsync(context.CancellationToken);
        if (command.HoldAfterDeadline > TimeSpan.Zero)
            await stock.ExtendAsync(command.OrderId, deadline + command.HoldAfterDeadline, context.CancellationToken);

        await context.Publish(new PaymentRequested
        {
            OrderId = command.OrderId,
            ProviderReference = payment.ProviderReference,
            QrPayload = payment.QrPayload ?? "",
            ExpiresAt = deadline,
        });
    }
}
