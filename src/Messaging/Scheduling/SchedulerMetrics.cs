using System.Diagnostics.Metrics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using Sagas.Messaging.Diagnostics;
using Sagas.Observability;

namespace Sagas.Messaging.Scheduling;

/// <summary>
/// The message scheduler's timers: scheduled, canceled and fired (with how late each fired), and, read from Quartz's
/// store when scraped, how many are overdue — due more than <see cref="OverdueAfter"/> ago and still not fired, which
/// means no node is firing them (all Workers down, Quartz stuck) or they keep failing to send. A figure of the whole
/// cluster, the same in every node that reports it: aggregate it with <c>max</c>.
/// </summary>
public sealed class SchedulerMetrics
{
    /// <summary>Beyond Quartz's own misfire threshold (60 s): a timer this late is not just waiting for a free thread.</summary>
    public static readonly TimeSpan OverdueAfter = TimeSpan.FromMinutes(1);

    /// <summary>A timer fires within milliseconds of its time normally, seconds when the cluster is busy, minutes after an outage.</summary>
    static readonly double[] DelayBuckets = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900];

    readonly Counter<long> _scheduled;
    readonly Counter<long> _canceled;
    readonly Counter<long> _fired;
    readonly Histogram<double> _delay;
    readonly PostgresMessageSchedulerOptions _options;
    readonly string? _connectionString;
    readonly TimeProvider _clock;

    public SchedulerMetrics(IMeterFactory meters, PostgresMessageSchedulerOptions options, IConfiguration configuration,
        IOptions<MetricsOptions> metricsOptions, ILogger<SchedulerMetrics> logger, TimeProvider? clock = null)
    {
        _options = options;
        _connectionString = options.ConnectionString ?? configuration.GetConnectionString(options.ConnectionStringName);
        _clock = clock ?? TimeProvider.System;
        var meter = MessagingMeter.Create(meters);
        _scheduled = meter.CreateCounter<long>("sagas.timers.scheduled", "{timer}", "Timers stored (a timer replaced under its token counts again)");
        _canceled = meter.CreateCounter<long>("sagas.timers.canceled", "{timer}",
            "Timer cancellations; found=false when the timer had fired or been canceled already");
        _fired = meter.CreateCounter<long>("sagas.timers.fired", "{timer}", "Timer firings: outcome=sent, or failed (Quartz fires it again)");
        _delay = meter.CreateHistogram("sagas.timers.fire.delay", "s", "How long after its scheduled time a timer's message was sent",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = DelayBuckets });

        var overdue = new CachedReading<Dictionary<string, long>>(ReadOverdueAsync, metricsOptions.Value.DatabaseRefresh, logger, clock);
        meter.CreateObservableGauge("sagas.timers.overdue", () => overdue.Current is { } groups
                ? groups.Select(g => new Measurement<long>(g.Value, new KeyValuePair<string, object?>("group", g.Key)))
                : [],
            "{timer}", $"Triggers due more than {OverdueAfter.TotalSeconds:0} s ago and not fired, by Quartz group (scheduled-messages, sweeps)");
    }

    internal void Scheduled(string? messageType) => _scheduled.Add(1, Type(messageType));

    internal void Canceled(bool found) => _canceled.Add(1, new KeyValuePair<string, object?>("found", found ? "true" : "false"));

    internal void Fired(string? messageType, bool sent, DateTimeOffset firedAt, DateTime scheduledTimeUtc)
    {
        _fired.Add(1, Type(messageType), new KeyValuePair<string, object?>("outcome", sent ? "sent" : "failed"));
        if (sent)
            _delay.Record(Math.Max(0, (firedAt - new DateTimeOffset(DateTime.SpecifyKind(scheduledTimeUtc, DateTimeKind.Utc))).TotalSeconds),
                Type(messageType));
    }

    static KeyValuePair<string, object?> Type(string? messageType) => new("message_type", MessagingMeter.MessageTypeLabel(messageType));

    // Quartz keeps next_fire_time as UTC ticks; idx_qrtz_t_nft_st covers the condition.
    async Task<Dictionary<string, long>> ReadOverdueAsync(CancellationToken cancellationToken)
    {
        var groups = new Dictionary<string, long> { [MessageSchedulerKeys.Group] = 0 };
        await using var connection = new NpgsqlConnection(_connectionString);
        await connection.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand($"""
            SELECT trigger_group, count(*) FROM {_options.TablePrefix}triggers
             WHERE sched_name = $1 AND trigger_state = ANY($2) AND next_fire_time < $3
             GROUP BY trigger_group
            """, connection);
        command.Parameters.Add(new NpgsqlParameter { Value = _options.SchedulerName });
        command.Parameters.Add(new NpgsqlParameter { Value = new[] { "WAITING", "ACQUIRED", "BLOCKED", "ERROR" } });
        command.Parameters.Add(new NpgsqlParameter { Value = (_clock.GetUtcNow() - OverdueAfter).UtcTicks });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
            groups[reader.GetString(0)] = reader.GetInt64(1);
        return groups;
    }
}
