using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Sagas.Messaging.Diagnostics;
using Sagas.Observability;

namespace Sagas.Messaging.Outbox;

/// <summary>
/// The outboxes as an operator watches them: how long delivered messages waited (measured by the process that sent
/// them), and, read from the database when scraped (<see cref="CachedReading{T}"/>), how many wait now, how long the
/// oldest has waited, how many outboxes are parked and how many failed messages wait for support. The last four are
/// figures of the whole database, the same in every process that reports them: aggregate them with <c>max</c>.
/// </summary>
public sealed class OutboxMetrics
{
    /// <summary>Commit to broker acknowledgement: milliseconds normally, minutes during a broker outage.</summary>
    static readonly double[] LagBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];

    readonly Histogram<double> _lag;
    readonly TimeProvider _clock;

    public OutboxMetrics(IMeterFactory meters, IOutboxMonitor monitor, IOptions<MetricsOptions> options, ILogger<OutboxMetrics> logger,
        TimeProvider? clock = null)
    {
        _clock = clock ?? TimeProvider.System;
        var meter = MessagingMeter.Create(meters);
        _lag = meter.CreateHistogram("sagas.outbox.delivery.lag", "s",
            "From the transaction that wrote an outbox message to the broker's acknowledgement of its send",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = LagBuckets });

        var figures = new CachedReading<OutboxFigures>(monitor.ReadFiguresAsync, options.Value.DatabaseRefresh, logger, clock);
        meter.CreateObservableGauge("sagas.outbox.pending", () => Observe(figures, f => f.Pending), "{message}",
            "Messages committed to an outbox and not yet sent (parked outboxes not counted)");
        meter.CreateObservableGauge("sagas.outbox.oldest.age", () => Observe(figures, f => f.OldestAge?.TotalSeconds ?? 0), "s",
            "How long the oldest unsent outbox message has waited; 0 when none waits");
        meter.CreateObservableGauge("sagas.outbox.parked", () => Observe(figures, f => f.Parked), "{outbox}",
            "Bus outboxes parked after repeated failures (messaging.outbox_parked), waiting for an operator");
        meter.CreateObservableGauge("sagas.messages.failed", () => Observe(figures, f => f.FailedMessages), "{message}",
            "Messages that failed for good (drained from the _error queues, and parked outboxes) waiting for support (GET /support/failed-messages)");
    }

    /// <summary>A message enqueued at <paramref name="enqueuedAt"/> (the database's clock) was acknowledged by the broker now.</summary>
    internal void Delivered(DateTime enqueuedAt) =>
        _lag.Record(Math.Max(0, (_clock.GetUtcNow().UtcDateTime - DateTime.SpecifyKind(enqueuedAt, DateTimeKind.Utc)).TotalSeconds));

    static IEnumerable<Measurement<T>> Observe<T>(CachedReading<OutboxFigures> figures, Func<OutboxFigures, T> value)
        where T : struct =>
        figures.Current is { } current ? [new Measurement<T>(value(current))] : [];
}

/// <summary>
/// The outboxes now: unsent messages and the age of the oldest (parked outboxes apart), parked outboxes; and the failed
/// messages waiting for a person.
/// </summary>
public sealed record OutboxFigures(long Pending, TimeSpan? OldestAge, long Parked, long FailedMessages);
