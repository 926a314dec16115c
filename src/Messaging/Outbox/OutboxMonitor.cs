using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Sagas.Messaging.Outbox;

/// <summary>The operations figure of the outboxes.</summary>
public interface IOutboxMonitor
{
    /// <summary>
    /// How long the oldest message committed to an outbox (by a request scope or a consumer) has been waiting for the
    /// broker; null when nothing is waiting. It grows while the broker is down or delivery is stuck. Parked outboxes are
    /// not waiting for delivery and are left out (see <see cref="ParkedOutboxesAsync"/>), and so are timers not yet due
    /// (<see cref="OutboxTimers"/>: a timer's message counts from its due time).
    /// </summary>
    Task<TimeSpan?> OldestUndeliveredAgeAsync(CancellationToken cancellationToken = default);

    /// <summary>Bus outboxes parked after <see cref="BusOutboxOptions.MaxAttempts"/> (<c>messaging.outbox_parked</c>).</summary>
    Task<long> ParkedOutboxesAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// The unsent messages, the oldest one's age, the parked outboxes and the failed messages waiting for a person
    /// (<c>messaging.failed_message</c>, parked outboxes among them), in one query.
    /// </summary>
    Task<OutboxFigures> ReadFiguresAsync(CancellationToken cancellationToken = default);
}

sealed class OutboxMonitor<TDbContext>(IServiceScopeFactory scopeFactory) : IOutboxMonitor
    where TDbContext : DbContext
{
    // A row stays until the broker has its message.
    const string Undelivered = """
        FROM messaging.outbox_message m
        JOIN messaging.outbox_state s ON s.outbox_id = m.outbox_id
        WHERE s.parked_at IS NULL AND m.enqueued_at <= clock_timestamp()
        """;

    const string OldestSeconds = "extract(epoch FROM clock_timestamp() - min(m.enqueued_at))::float8";

    const string OldestQuery = $"SELECT {OldestSeconds} AS \"Value\" {Undelivered}";

    const string FiguresQuery = $"""
        SELECT count(*) AS pending, {OldestSeconds} AS oldest_seconds,
               (SELECT count(*) FROM messaging.outbox_state WHERE parked_at IS NOT NULL) AS parked,
               (SELECT count(*) FROM messaging.failed_message WHERE state = 'failed') AS failed_messages
        {Undelivered}
        """;

    public async Task<TimeSpan?> OldestUndeliveredAgeAsync(CancellationToken cancellationToken = default)
    {
        await using var scope = scopeFactory.CreateAsyncScope();
        var dbContext = scope.ServiceProvider.GetRequiredService<TDbContext>();
        var seconds = await dbContext.Database.SqlQueryRaw<double?>(OldestQuery)
            .SingleAsync(cancellationToken);
        return Age(seconds);
    }

    public async Task<OutboxFigures> ReadFiguresAsync(CancellationToken cancellationToken = default)
    {
        await using var scope = scopeFactory.CreateAsyncScope();
        var dbContext = scope.ServiceProvider.GetRequiredService<TDbContext>();
        var row = await dbContext.Database.SqlQueryRaw<FiguresRow>(FiguresQuery).SingleAsync(cancellationToken);
        return new OutboxFigures(row.Pending, Age(row.OldestSeconds), row.Parked, row.FailedMessages);
    }

    static TimeSpan? Age(double? seconds) => seconds is { } value ? TimeSpan.FromSeconds(Math.Max(value, 0)) : null;

    // Columns named by the context's snake_case convention, as every SqlQuery row type's.
    sealed record FiguresRow(long Pending, double? OldestSeconds, long Parked, long FailedMessages);

    public async Task<long> ParkedOutboxesAsync(CancellationToken cancellationToken = default)
    {
        await using var scope = scopeFactory.CreateAsyncScope();
        var dbContext = scope.ServiceProvider.GetRequiredService<TDbContext>();
        return await dbContext.Set<OutboxState>().LongCountAsync(x => x.ParkedAt != null, cancellationToken);
    }
}

/// <summary>
/// Degraded while the oldest undelivered outbox message is older than the threshold, or while any outbox is parked;
/// never Unhealthy: callers can still commit while the broker is away, so an outage must not take the process out of
/// rotation, and a parked outbox needs an operator, not a restart.
/// </summary>
public sealed class OutboxHealthCheck(IOutboxMonitor monitor, TimeSpan threshold) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            var figures = await monitor.ReadFiguresAsync(cancellationToken);
            var (age, parked) = (figures.OldestAge, figures.Parked);
            var data = new Dictionary<string, object> { ["oldestUndeliveredSeconds"] = age?.TotalSeconds ?? 0, ["parkedOutboxes"] = parked };
            var problems = new List<string>();
            if (age > threshold)
                problems.Add($"oldest undelivered outbox message is {age.Value.TotalSeconds:0} s old");
            if (parked > 0)
                problems.Add($"{parked} outbox(es) parked after repeated failures (messaging.outbox_parked)");
            return problems.Count > 0
                ? HealthCheckResult.Degraded(string.Join("; ", problems), data: data)
                : HealthCheckResult.Healthy(age is null ? "outbox empty" : "outbox delivering", data);
        }
        catch (Exception exception)
        {
            return HealthCheckResult.Degraded("could not read the outbox", exception);
        }
    }
}
