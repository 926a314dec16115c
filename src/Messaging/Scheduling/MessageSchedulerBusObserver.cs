using MassTransit;
using Microsoft.Extensions.Logging;
using Quartz;

namespace Sagas.Messaging.Scheduling;

/// <summary>
/// Runs the Quartz scheduler with the bus, so it lives and dies with the host the way the bus does: it starts
/// firing once the bus is ready to send, stops firing before the bus stops, and shuts down (letting jobs in
/// progress finish their send) after it. Jobs are persisted, so a node that is not running fires nothing and
/// loses nothing: another node, or this one after a restart, fires what is due.
/// </summary>
sealed class MessageSchedulerBusObserver(ISchedulerFactory schedulerFactory, ILogger<MessageSchedulerBusObserver> logger) : IBusObserver
{
    IScheduler? _scheduler;

    public void PostCreate(IBus bus)
    {
    }

    public void CreateFaulted(Exception exception)
    {
    }

    public Task PreStart(IBus bus) => Task.CompletedTask;

    public async Task PostStart(IBus bus, Task<BusReady> busReady)
    {
        await busReady;
        var scheduler = await schedulerFactory.GetScheduler();
        await scheduler.Start();
        _scheduler = scheduler;
        logger.LogInformation("Message scheduler {SchedulerName} started as cluster node {InstanceId}",
            scheduler.SchedulerName, scheduler.SchedulerInstanceId);
    }

    public Task StartFaulted(IBus bus, Exception exception) => Task.CompletedTask;

    public async Task PreStop(IBus bus)
    {
        if (_scheduler is { } scheduler)
            await scheduler.Standby();
    }

    public Task PostStop(IBus bus) => ShutdownAsync();

    public Task StopFaulted(IBus bus, Exception exception) => ShutdownAsync();

    async Task ShutdownAsync()
    {
        if (Interlocked.Exchange(ref _scheduler, null) is { } scheduler)
        {
            await scheduler.Shutdown(waitForJobsToComplete: true);
            logger.LogInformation("Message scheduler {SchedulerName} node {InstanceId} shut down",
                scheduler.SchedulerName, scheduler.SchedulerInstanceId);
        }
    }
}
