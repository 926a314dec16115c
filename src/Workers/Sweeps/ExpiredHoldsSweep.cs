using MassTransit;
using Microsoft.Extensions.Options;
using Quartz;
using Sagas.Contracts.Inventory;
using Sagas.Data;
using Sagas.Workers.Inventory;

namespace Sagas.Workers.Sweeps;

/// <summary>
/// Holds past their expiry. An order that has ended (a release was lost, say) gets its stock back here. A live
/// order's stock is never taken from under it: its saga is told (<see cref="StockHoldOverdue"/>, through the bus
/// outbox in the sweep's transaction, once per hold) and withdraws the QR code first, so a customer paying at that
/// moment still gets the order. Batches until nothing is left to do.
/// </summary>
[DisallowConcurrentExecution]
public sealed class ExpiredHoldsSweep(IServiceScopeFactory scopes, IOptions<SweepOptions> options, SweepMetrics metrics,
    ILogger<ExpiredHoldsSweep> logger) : IJob
{
    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken)
    {
        int released = 0, reported = 0;
        OverdueHolds batch;
        do
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<FulfilmentDbContext>();
            var publish = scope.ServiceProvider.GetRequiredService<IPublishEndpoint>();
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            batch = await scope.ServiceProvider.GetRequiredService<StockLedger>().SweepOverdueAsync(options.Value.BatchSize, cancellationToken);
            foreach (var (orderId, expiredAt) in batch.Live)
                await publish.Publish(new StockHoldOverdue { OrderId = orderId, ExpiredAt = expiredAt }, cancellationToken);
            await db.SaveChangesAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            released += batch.Released.Count;
            reported += batch.Live.Count;
        } while (batch.Examined == options.Value.BatchSize && !cancellationToken.IsCancellationRequested);

        metrics.Found<ExpiredHoldsSweep>("released", released);
        metrics.Found<ExpiredHoldsSweep>("reported_overdue", reported);

        if (released > 0)
            logger.LogInformation("Released the expired stock holds of {Orders} ended order(s)", released);
        if (reported > 0)
            logger.LogWarning("Told the sagas of {Orders} live order(s) that their stock hold ran out", reported);
    }
}
