using System.Diagnostics.Metrics;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Quartz;
using Sagas.Data;
using Sagas.Workers.Ordering;

namespace Sagas.Workers.Sweeps;

/// <summary>
/// Counts orders that have been in a non-final state longer than <c>Saga:StuckAfter</c>: a gauge for
/// dashboards and a warning in the log, so the support desk hears of them before a customer calls. The
/// same figure is in <c>GET /orders/stats</c>.
/// </summary>
[DisallowConcurrentExecution]
public sealed class StuckOrdersSweep(IServiceScopeFactory scopes, IOptions<SagaTimings> timings, TimeProvider clock,
    StuckOrdersGauge gauge, ILogger<StuckOrdersSweep> logger) : IJob
{
    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<FulfilmentDbContext>();
        var threshold = clock.GetUtcNow() - timings.Value.StuckAfter;
        var stuck = await db.Database.SqlQuery<long>($"""
            SELECT count(*) AS "Value" FROM ordering.order_state
             WHERE current_state IN ('Submitted', 'AwaitingPayment', 'Placing', 'Compensating') AND updated_at < {threshold}
            """).SingleAsync(cancellationToken);
        gauge.Current = stuck;
        if (stuck > 0)
            logger.LogWarning("{Stuck} order(s) have not moved for longer than {StuckAfter}", stuck, timings.Value.StuckAfter);
    }
}

public sealed class StuckOrdersGauge
{
    public StuckOrdersGauge(IMeterFactory meters) =>
        meters.Create("Sagas.Workers").CreateObservableGauge("sagas.orders.stuck", () => Current,
            description: "Orders non-final for longer than Saga:StuckAfter");

    public long Current { get; set; }
}
