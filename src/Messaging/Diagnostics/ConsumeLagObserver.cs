using System.Diagnostics.Metrics;
using System.Globalization;
using MassTransit;
using Sagas.Messaging.Outbox;

namespace Sagas.Messaging.Diagnostics;

/// <summary>
/// How long each consumed message took to reach its consumer: from its sent time (stamped when the sending consume or
/// request wrote it to the outbox, just before that transaction committed) to the start of its consume, by message
/// type. Per saga hop this is the time the system adds between one step and the next — outbox delivery, the broker,
/// prefetch and queueing — apart from the steps' own work. A redelivery counts again (its lag includes the retry).
/// Both ends read the same clock only on one machine: across hosts, clock skew shows up here. A message handed off at its
/// commit (<see cref="Outbox.OutboxHandOff{TDbContext}"/>) carries the commit's time too, which gives a second histogram,
/// <c>sagas.consume.commit_lag</c>: commit → consume, the hop without the rest of the sending step's transaction.
/// </summary>
public sealed class ConsumeLagObserver : IConsumeObserver
{
    /// <summary>From half a millisecond (an idle hop) to ten minutes (a broker outage).</summary>
    static readonly double[] Buckets =
        [0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.015, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];

    readonly Histogram<double> _lag;
    readonly Histogram<double> _commitLag;
    readonly TimeProvider _clock;

    public ConsumeLagObserver(IMeterFactory meters, TimeProvider? clock = null)
    {
        _clock = clock ?? TimeProvider.System;
        var meter = MessagingMeter.Create(meters);
        _lag = meter.CreateHistogram("sagas.consume.lag", "s",
            "From a message's sent time (written to an outbox) to the start of its consume",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = Buckets });
        _commitLag = meter.CreateHistogram("sagas.consume.commit_lag", "s",
            "From the commit of the transaction that wrote a message to the start of its consume (messages handed off at their commit)",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = Buckets });
    }

    public Task PreConsume<T>(ConsumeContext<T> context)
        where T : class
    {
        var now = _clock.GetUtcNow().UtcDateTime;
        var type = new KeyValuePair<string, object?>("message_type", MessagingMeter.MessageTypeLabel(typeof(T)));
        if (context.SentTime is { } sent)
            _lag.Record(Math.Max(0, (now - DateTime.SpecifyKind(sent, DateTimeKind.Utc)).TotalSeconds), type);
        if (context.ReceiveContext.TransportHeaders.Get<string>(OutboxMessageSender.CommittedAtHeader) is { } stamp
            && long.TryParse(stamp, NumberStyles.None, CultureInfo.InvariantCulture, out var ticks) && ticks > 0 && ticks <= DateTime.MaxValue.Ticks)
            _commitLag.Record(Math.Max(0, (now - new DateTime(ticks, DateTimeKind.Utc)).TotalSeconds), type);
        return Task.CompletedTask;
    }

    public Task PostConsume<T>(ConsumeContext<T> context)
        where T : class => Task.CompletedTask;

    public Task ConsumeFault<T>(ConsumeContext<T> context, Exception exception)
        where T : class => Task.CompletedTask;
}
