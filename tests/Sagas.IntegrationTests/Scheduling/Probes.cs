using MassTransit;

namespace Sagas.IntegrationTests.Scheduling;

/// <summary>Asks <see cref="ScheduleProbeConsumer"/> to schedule a <see cref="ProbeElapsed"/> from inside a consumer.</summary>
public sealed record ScheduleProbe(Guid ProbeId, Guid PayloadCorrelationId, DateTime DueAt, string Text, int Number);

public interface IProbeElapsed
{
    Guid ProbeId { get; }
    Guid CorrelationId { get; }
    string Text { get; }
}

public sealed record ProbeElapsed(Guid ProbeId, Guid CorrelationId, string Text) : IProbeElapsed;

public sealed class ScheduleProbeConsumer(DeliveryLog log) : IConsumer<ScheduleProbe>
{
    public static readonly Uri Destination = new("queue:probe-elapsed");

    public async Task Consume(ConsumeContext<ScheduleProbe> context)
    {
        var probe = context.Message;
        var scheduled = await context.ScheduleSend(Destination, probe.DueAt,
            new ProbeElapsed(probe.ProbeId, probe.PayloadCorrelationId, probe.Text),
            Pipe.Execute<SendContext<ProbeElapsed>>(send =>
            {
                send.Headers.Set("X-Probe-Text", probe.Text);
                send.Headers.Set("X-Probe-Number", probe.Number);
            }));
        log.RecordScheduled(probe.ProbeId, scheduled.TokenId);
    }
}

/// <summary>Consumes the interface, not the class: only works if the fired message still lists all its types.</summary>
public sealed class ProbeElapsedConsumer : IConsumer<IProbeElapsed>
{
    public Task Consume(ConsumeContext<IProbeElapsed> context) => Task.CompletedTask;
}
