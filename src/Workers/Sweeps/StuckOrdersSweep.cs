using System.Runtime.CompilerServices;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Quartz;
using Sagas.Data;
using Sagas.Data.Ordering;
using Sagas.Workers.Ordering;

namespace Sagas.Workers.Sweeps;

/// <summary>
/// Counts orders that have been in a non-final state longer than <c>Saga:StuckAfter</c> and warns in the log, so the
/// support desk hears of them before a customer calls. The same figure is in <c>GET /orders/stats</c> and, read when
/// scraped, in <c>sagas_orders_stuck</c> (<see cref="OrderFigures"/>: the same in every Worker, whichever ran the sweep).
/// </summary>
[DisallowConcurrentExecution]
public sealed class StuckOrdersSweep(IServiceScopeFactory scopes, IOptions<SagaTimings> timings, TimeProvider clock,
    StuckOrdersCount count, ILogger<StuckOrdersSweep> logger) : IJob
{
    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<FulfilmentDbContext>();
        var stuck = await CountAsync(db, clock.GetUtcNow() - timings.Value.StuckAfter, cancellationToken);
        count.Current = stuck;
        if (stuck > 0)
            logger.LogWarning("{Stuck} order(s) have not moved for longer than {StuckAfter}", stuck, timings.Value.StuckAfter);
    }

    // {0} is the threshold, a parameter; the states are in the text (OrderStatuses.NotFinalSqlList).
    const string CountSql = $$"""
        SELECT count(*) AS "Value" FROM ordering.order_state
         WHERE current_state IN ({{OrderStatuses.NotFinalSqlList}}) AND updated_at < {0}
        """;

    /// <summary>Orders non-final and not updated since <paramref name="threshold"/> (index order_state_by_state_updated).</summary>
    internal static Task<long> CountAsync(FulfilmentDbContext db, DateTimeOffset threshold, CancellationToken cancellationToken) =>
        db.Database.SqlQuery<long>(FormattableStringFactory.Create(CountSql, threshold)).SingleAsync(cancellationToken);
}

/// <summary>What the last run of the sweep in this process counted.</summary>
public sealed class StuckOrdersCount
{
    public long Current { get; set; }
}
