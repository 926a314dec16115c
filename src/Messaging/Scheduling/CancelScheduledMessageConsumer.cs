using MassTransit;
using MassTransit.Scheduling;
using Microsoft.Extensions.Logging;
using Quartz;

namespace Sagas.Messaging.Scheduling;

/// <summary>Deletes the job (and with it the trigger) stored for a token; a token with nothing stored is not an error.</summary>
public sealed class CancelScheduledMessageConsumer(ISchedulerFactory schedulerFactory, SchedulerMetrics metrics,
    ILogger<CancelScheduledMessageConsumer> logger)
    : IConsumer<CancelScheduledMessage>
{
    public async Task Consume(ConsumeContext<CancelScheduledMessage> context)
    {
        var scheduler = await schedulerFactory.GetScheduler(context.CancellationToken);
        var deleted = await scheduler.DeleteJob(MessageSchedulerKeys.Job(context.Message.TokenId), context.CancellationToken);
        metrics.Canceled(deleted);

        if (deleted)
            logger.LogDebug("Canceled scheduled message {TokenId}", context.Message.TokenId);
        else
            logger.LogDebug("Nothing scheduled under {TokenId} to cancel (already fired or canceled)", context.Message.TokenId);
    }
}
