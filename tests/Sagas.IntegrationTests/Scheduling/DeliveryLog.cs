using System.Collections.Concurrent;
using MassTransit;

namespace Sagas.IntegrationTests.Scheduling;

/// <summary>One consumption of a timer message, as the receiving endpoint saw it.</summary>
public sealed record Delivery(
    string Host,
    Guid? MessageId,
    Guid? TokenId,
    Guid? CorrelationId,
    Guid? ConversationId,
    Guid? InitiatorId,
    string[] SupportedMessageTypes,
    string? ProbeText,
    int? ProbeNumber,
    DateTime ReceivedAt,
    object Message);

/// <summary>
/// Every delivery of a timer message to a consumer or saga in any Workers host of a test, whether or not the
/// saga then accepts it: a stale or duplicate timer shows up here even when the state machine ignores it.
/// </summary>
public sealed class DeliveryLog
{
    readonly ConcurrentQueue<Delivery> _deliveries = new();
    readonly ConcurrentDictionary<Guid, Guid> _scheduledTokens = new();

    public void Record(Delivery delivery) => _deliveries.Enqueue(delivery);

    public void RecordScheduled(Guid probeId, Guid tokenId) => _scheduledTokens[probeId] = tokenId;

    public Guid? ScheduledToken(Guid probeId) => _scheduledTokens.TryGetValue(probeId, out var token) ? token : null;

    public IReadOnlyList<Delivery> TimersOf(Guid sagaId) =>
        _deliveries.Where(d => d.Message is TimerElapsed t && t.CorrelationId == sagaId).ToList();

    public IReadOnlyList<Delivery> ProbesOf(Guid probeId) =>
        _deliveries.Where(d => d.Message is IProbeElapsed p && p.ProbeId == probeId).ToList();
}

sealed class DeliveryObserver(DeliveryLog log, string host) : IConsumeObserver
{
    public Task PreConsume<T>(ConsumeContext<T> context) where T : class
    {
        if (context.Message is TimerElapsed or IProbeElapsed)
        {
            log.Record(new Delivery(host, context.MessageId, context.GetSchedulingTokenId(), context.CorrelationId,
                context.ConversationId, context.InitiatorId, context.SupportedMessageTypes.ToArray(),
                context.Headers.Get<string>("X-Probe-Text"), context.Headers.Get<int>("X-Probe-Number"),
                DateTime.UtcNow, context.Message));
        }

        return Task.CompletedTask;
    }

    public Task PostConsume<T>(ConsumeContext<T> context) where T : class => Task.CompletedTask;

    public Task ConsumeFault<T>(ConsumeContext<T> context, Exception exception) where T : class => Task.CompletedTask;
}
