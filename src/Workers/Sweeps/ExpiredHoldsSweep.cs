using Microsoft.Extensions.Options;
using Quartz;
using Sagas.Workers.Inventory;

namespace Sagas.Workers.Sweeps;

/// <summary>
/// Gives back stock whose hold outlived its order's chance to be placed (a crash, a lost message). Batches
/// until nothing is overdue; rows another transaction holds are skipped and caught next time.
/// </summary>
[DisallowConcurrentExecution]
public sealed class ExpiredHoldsSweep(IServiceScopeFactory scopes, IOptions<SweepOptions> options, ILogger<ExpiredHoldsSweep> logger) : IJob
{
    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken)
    {
        var total = 0;
        IReadOnlyList<Guid> released;
        do
        {
            await using var scope = scopes.CreateAsyncScope();
            released = await scope.ServiceProvider.GetRequiredService<StockLedger>().ExpireOverdueAsync(options.Value.BatchSize, cancellationToken);
            total += released.Count;
        } while (released.Count > 0 && !cancellationToken.IsCancellationRequested);

        if (total > 0)
            logger.LogInformation("Released the expired stock holds of {Orders} order(s)", total);
    }
}
