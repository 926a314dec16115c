using MassTransit;
using Sagas.Contracts.Inventory;

namespace Sagas.Workers.Inventory;

/// <summary>Gives an order's stock back (released or returned); always answers, so compensation can finish.</summary>
public sealed class ReleaseStockConsumer(StockLedger ledger) : IConsumer<ReleaseStock>
{
    public async Task Consume(ConsumeContext<ReleaseStock> context)
    {
        await ledger.ReleaseAsync(context.Message.OrderId, context.CancellationToken);
        await context.Publish(new StockReleased { OrderId = context.Message.OrderId });
    }
}
