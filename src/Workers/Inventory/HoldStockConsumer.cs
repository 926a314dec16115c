using MassTransit;
using Sagas.Contracts.Inventory;

namespace Sagas.Workers.Inventory;

/// <summary>Holds every line of an order or none, and says which.</summary>
public sealed class HoldStockConsumer(StockLedger ledger) : IConsumer<HoldStock>
{
    public async Task Consume(ConsumeContext<HoldStock> context)
    {
        var command = context.Message;
        switch (await ledger.HoldAsync(command.OrderId, command.Lines, command.HoldUntil, context.CancellationToken))
        {
            case HoldOutcome.Held held:
                await context.Publish(new StockHeld { OrderId = command.OrderId, HeldUntil = held.HeldUntil });
                break;
            case HoldOutcome.Rejected rejected:
                await context.Publish(new StockHoldRejected { OrderId = command.OrderId, Reason = rejected.Reason, Skus = rejected.Skus });
                break;
        }
    }
}

/// <summary>Gives an order's stock back (released or returned); always answers, so compensation can finish.</summary>
public sealed class ReleaseStockConsumer(StockLedger ledger) : IConsumer<ReleaseStock>
{
    public async Task Consume(ConsumeContext<ReleaseStock> context)
    {
        await ledger.ReleaseAsync(context.Message.OrderId, context.CancellationToken);
        await context.Publish(new StockReleased { OrderId = context.Message.OrderId });
    }
}
