using MassTransit;
using MassTransit.Scheduling;
using Microsoft.Extensions.Logging;
using Quartz;

namespace Sagas.Messaging.Scheduling;

/// <summary>
/// Stores a <see cref="ScheduleMessage"/> as a Quartz job with one trigger, both keyed by the token id, replacing
/// whatever that token had before in one store operation (so a redelivered or repeated schedule is idempotent).
/// The job is persisted in PostgreSQL and requests recovery: if the node firing it dies, another node re-fires it.
/// </summary>
public sealed class ScheduleMessageConsumer(
    ISchedulerFactory schedulerFactory,
    PostgresMessageSchedulerOptions options,
    SchedulerMetrics metrics,
    ILogger<ScheduleMessageConsumer> logger) : IConsumer<ScheduleMessage>
{
    public async Task Consume(ConsumeContext<ScheduleMessage> context)
    {
        var message = StoredScheduledMessage.From(context);
        var scheduler = await schedulerFactory.GetScheduler(context.CancellationToken);

        var job = JobBuilder.Create<ScheduledMessageJob>()
            .WithIdentity(MessageSchedulerKeys.Job(message.TokenId))
            .WithDescription($"{message.MessageTypes[0]} -> {message.Destination}")
            .RequestRecovery(true)
            .StoreDurably(false) // deleted with its trigger once it has fired
            .UsingJobData(message.ToJobData())
            .Build();

        // A timer already due when it gets here (the queue was backed up, or it was scheduled in the past) starts
        // now: left in the past beyond Quartz's misfire threshold it would wait for the next misfire scan instead.
        var now = scheduler.TimeProvider.GetUtcNow();
        var scheduledTime = new DateTimeOffset(message.ScheduledTimeUtc);

        var trigger = TriggerBuilder.Create(scheduler.TimeProvider)
            .WithIdentity(MessageSchedulerKeys.Trigger(message.TokenId))
            .ForJob(job)
            .StartAt(scheduledTime > now ? scheduledTime : now)
            // A timer that was due while no node was running fires as soon as one is.
            .WithSchedule(SimpleScheduleBuilder.Create().WithMisfireInstruction(SimpleTriggerMisfireInstruction.FireNow))
            .WithRetryPolicy(options.FireRetryPolicy)
            .Build();

        await scheduler.ScheduleJob(job, trigger, ScheduleJobOptions.Replacing, context.CancellationToken);
        metrics.Scheduled(message.MessageTypes[0]);

        logger.LogDebug("Scheduled {TokenId} ({MessageType}) for {ScheduledTime:O} to {Destination}",
            message.TokenId, message.MessageTypes[0], message.ScheduledTimeUtc, message.Destination);
    }
}
