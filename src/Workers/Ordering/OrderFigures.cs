using System.Diagnostics.Metrics;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Sagas.Contracts.Ordering;
using Sagas.Data;
using Sagas.Data.Ordering;
using Sagas.Data.Payments;
using Sagas.Observability;
using Sagas.Workers.Sweeps;

namespace Sagas.Workers.Ordering;

/// <summary>
/// Orders by the saga's state, orders stuck (non-final for longer than <c>Saga:StuckAfter</c>, as the stuck-orders
/// sweep counts them), orders needing a person by reason and the latest scheduled reconciliation report's mismatches,
/// read from the database when scraped, at most once per <c>Metrics:DatabaseRefresh</c> (<see cref="CachedReading{T}"/>):
/// four index scans, whatever the traffic.
/// Every state and reason is reported, with 0 where there is none, so a series never vanishes for want of orders.
/// Orders the Api accepted that no Worker has taken yet have no saga row and are not counted (see
/// <c>sagas_orders_accepted_total</c> and the admission backlog). Figures of the whole database, the same in every
/// Worker: aggregate them with <c>max</c>.
/// </summary>
public sealed class OrderFigures
{
    readonly IServiceScopeFactory _scopes;
    readonly TimeSpan _stuckAfter;
    readonly TimeProvider _clock;

    public OrderFigures(IMeterFactory meters, IServiceScopeFactory scopes, IOptions<MetricsOptions> options, IOptions<SagaTimings> timings,
        TimeProvider clock, ILogger<OrderFigures> logger)
    {
        _scopes = scopes;
        _stuckAfter = timings.Value.StuckAfter;
        _clock = clock;
        var meter = meters.Create(OrderMetrics.MeterName);
        var figures = new CachedReading<Figures>(ReadAsync, options.Value.DatabaseRefresh, logger);
        meter.CreateObservableGauge("sagas.orders", () => Observe(figures.Current?.ByState, "state"), "{order}",
            "Orders by the saga's state (Submitted … Placed, Rejected, Expired, Canceled, Failed)");
        meter.CreateObservableGauge("sagas.orders.stuck", () => Observe(figures.Current is { } f ? new() { [""] = f.Stuck } : null, null), "{order}",
            "Orders non-final for longer than Saga:StuckAfter");
        meter.CreateObservableGauge("sagas.orders.needing_attention", () => Observe(figures.Current?.NeedingAttention, "reason"), "{order}",
            "Orders a person must look at (GET /support/attention), by reason");
        meter.CreateObservableGauge("sagas.reconciliation.mismatches",
            () => figures.Current?.ReconciliationMismatches is { } count ? [new Measurement<long>(count)] : Array.Empty<Measurement<long>>(), "{mismatch}",
            "Mismatches with the provider in the latest scheduled reconciliation report (GET /reconciliation/latest); none before the first");
    }

    /// <summary>One measurement per key, labelled with it (no label when <paramref name="label"/> is null); none before a reading.</summary>
    static IEnumerable<Measurement<long>> Observe(Dictionary<string, long>? counts, string? label) =>
        counts?.Select(c => label is null ? new Measurement<long>(c.Value) : new Measurement<long>(c.Value, new KeyValuePair<string, object?>(label, c.Key)))
        ?? [];

    async Task<Figures> ReadAsync(CancellationToken cancellationToken)
    {
        await using var scope = _scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<FulfilmentDbContext>();
        // order_state_by_state_updated, and the partial index order_state_attention.
        var byState = await CountAsync(db, OrderStatuses.All, $"""
            SELECT current_state AS key, count(*) AS value FROM ordering.order_state GROUP BY current_state
            """, cancellationToken);
        var attention = await CountAsync(db, AttentionReasons.All, $"""
            SELECT attention_reason AS key, count(*) AS value FROM ordering.order_state
             WHERE attention_reason IS NOT NULL GROUP BY attention_reason
            """, cancellationToken);
        var stuck = await StuckOrdersSweep.CountAsync(db, _clock.GetUtcNow() - _stuckAfter, cancellationToken);
        var mismatches = await db.Set<ReconciliationReport>().Where(r => r.Scheduled).OrderByDescending(r => r.CheckedAt)
            .Select(r => (long?)r.MismatchCount).FirstOrDefaultAsync(cancellationToken);
        return new Figures(byState, stuck, attention, mismatches);
    }

    static async Task<Dictionary<string, long>> CountAsync(FulfilmentDbContext db, IEnumerable<string> known, FormattableString sql,
        CancellationToken cancellationToken)
    {
        var counts = known.ToDictionary(k => k, _ => 0L);
        foreach (var row in await db.Database.SqlQuery<KeyCount>(sql).ToListAsync(cancellationToken))
            counts[row.Key] = row.Value;
        return counts;
    }

    // Columns named by the context's snake_case convention (key, value), as every SqlQuery row type's.
    sealed record KeyCount(string Key, long Value);

    sealed record Figures(Dictionary<string, long> ByState, long Stuck, Dictionary<string, long> NeedingAttention, long? ReconciliationMismatches);
}
