using Microsoft.Extensions.Options;
using Quartz;
using Sagas.Workers.Sweeps;

namespace Sagas.Workers.Retention;

/// <summary>
/// Keeps the hot tables bounded (issue 17): every <c>Retention:Interval</c> one Worker (a clustered job) moves the final
/// orders unchanged for <c>Retention:ArchiveAfter</c> — with their timeline, payment and refund records, stock holds,
/// accepted-order row and webhooks — to schema <c>archive</c>, where support's reads and reconciliation still find them,
/// and deletes the reconciliation reports and settled failed messages past their age. Batch after batch, each its own
/// transaction, until a batch comes back short. An order that needs a person, waits for the provider or the stock, or is a
/// mismatch in the latest reconciliation report stays where it is.
/// </summary>
[DisallowConcurrentExecution]
public sealed class RetentionSweep(IServiceScopeFactory scopes, IOptions<RetentionOptions> options, TimeProvider clock,
    SweepMetrics metrics, ILogger<RetentionSweep> logger) : IJob
{
    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var now = clock.GetUtcNow();
        var archived = await Batches(settings.BatchSize, async (statements, batch) =>
            (await statements.ArchiveOrdersAsync(now - settings.ArchiveAfter, batch, cancellationToken)).Count, cancellationToken);
        var reports = await Batches(settings.BatchSize, (statements, batch) =>
            statements.DeleteReportsAsync(now - settings.ReportsAfter, batch, cancellationToken), cancellationToken);
        var failed = await Batches(settings.BatchSize, (statements, batch) =>
            statements.DeleteSettledFailedMessagesAsync(now - settings.FailedMessagesAfter, batch, cancellationToken), cancellationToken);

        metrics.Found<RetentionSweep>("archived", archived);
        metrics.Found<RetentionSweep>("reports_deleted", reports);
        metrics.Found<RetentionSweep>("failed_messages_deleted", failed);
        if (archived + reports + failed > 0)
            logger.LogInformation(
                "Retention: archived {Orders} order(s), deleted {Reports} reconciliation report(s) and {FailedMessages} settled failed message(s)",
                archived, reports, failed);
    }

    /// <summary>Runs one statement batch after batch, each in a scope (and so a connection) of its own, until one comes back short.</summary>
    async Task<long> Batches(int batchSize, Func<RetentionStatements, int, Task<int>> statement, CancellationToken cancellationToken)
    {
        long total = 0;
        int done;
        do
        {
            await using var scope = scopes.CreateAsyncScope();
            done = await statement(scope.ServiceProvider.GetRequiredService<RetentionStatements>(), batchSize);
            total += done;
        } while (done == batchSize && !cancellationToken.IsCancellationRequested);

        return total;
    }
}
