using MassTransit;
using Sagas.Contracts.Inventory;

namespace Sagas.Workers.Inventory;

/// <summary>Holds every line of an order or none, and says which.</summary>
public sealed class HoldStockConsumer(StockLedger ledger, TimeProvider clock) : IConsumer<HoldStock>
{
    /// <summary>For a command from an older sender that names an instant rather than a duration.</summary>
    static readonly TimeSpan MinimumHold = TimeSpan.FromMinutes(1);

    public async Task Consume(ConsumeContext<HoldStock> context)
    {
        var command = context.Message;
        var holdFor = command.HoldFor > TimeSpan.Zero
            ? command.HoldFor
            : TimeSpan.FromTicks(Math.Max(MinimumHold.Ticks, (command.HoldUntil - clock.GetUtcNow()).Ticks));
        switch (await ledger.HoldAsync(command.OrderId, command.Lines, holdFor, context.CancellationToken))
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
