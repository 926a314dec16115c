using MassTransit;
using Sagas.Contracts.Inventory;
using Sagas.Contracts.Ordering;
using Sagas.Workers.Inventory;

namespace Sagas.Workers.Placement;

/// <summary>
/// The saga sends <see cref="PlaceOrder"/> only for a payment of the right amount; placing means committing the
/// order's holds, which succeeds only while every hold is still active. The answer goes to the saga, which alone
/// announces <see cref="OrderPlaced"/>: a cancel may have reached it first.
/// </summary>
public sealed class PlaceOrderConsumer(StockLedger ledger, TimeProvider clock) : IConsumer<PlaceOrder>
{
    public async Task Consume(ConsumeContext<PlaceOrder> context)
    {
        var orderId = context.Message.OrderId;
        switch (await ledger.CommitAsync(orderId, context.CancellationToken))
        {
            case CommitOutcome.Committed:
                await context.Publish(new StockCommitted { OrderId = orderId, CommittedAt = clock.GetUtcNow() });
                break;
            case CommitOutcome.Refused refused:
                await context.Publish(new OrderPlacementFailed
                {
                    OrderId = orderId,
                    Reason = refused.Reason == StockRefusals.HoldMissing ? OrderFailureReasons.HoldExpired : refused.Reason,
                });
                break;
        }
    }
}
