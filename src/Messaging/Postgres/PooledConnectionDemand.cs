using MassTransit;
using MassTransit.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Sagas.Messaging.Scheduling;

namespace Sagas.Messaging.Postgres;

/// <summary>
/// The most pooled connections of the application's DbContext this process's background work can hold at once: every
/// message an inbox endpoint consumes holds one for its whole transaction (per endpoint its concurrent message limit,
/// or MassTransit's default prefetch when it sets none), each delivery loop one, the inbox cleanup one, each scheduled
/// job Quartz may run at once one. A pool smaller than that makes consumers wait for a connection inside their retry
/// budget instead of for a row lock. The commit listener is outside the pool, the scheduler's queue uses Quartz's
/// own connections, and request handlers (the Api) come on top.
/// </summary>
public sealed record PooledConnectionDemand(int Consume, int Delivery, int InboxCleanup, int ScheduledJobs)
{
    public int Total => Consume + Delivery + InboxCleanup + ScheduledJobs;

    public static PooledConnectionDemand Of(IServiceProvider provider)
    {
        var outbox = provider.GetService<PostgresOutboxOptions>();
        var scheduler = provider.GetService<PostgresMessageSchedulerOptions>();
        var delivery = outbox?.BusOutbox is { DeliveryServiceEnabled: true } busOutbox ? Math.Max(1, busOutbox.DeliveryLoops) : 0;
        return new PooledConnectionDemand(
            outbox is null ? 0 : ConsumeConcurrency(provider, scheduler?.QueueName),
            delivery,
            outbox is null ? 0 : 1,
            scheduler?.MaxConcurrency ?? 0);
    }

    // What ConfigureEndpoints gives each endpoint: the largest concurrent message limit of its consumers and sagas.
    static int ConsumeConcurrency(IServiceProvider provider, string? schedulerQueue)
    {
        if (provider.GetService<IBusRegistrationContext>() is not { } context)
            return 0;
        var formatter = provider.GetService<IEndpointNameFormatter>() ?? DefaultEndpointNameFormatter.Instance;
        var consumers = provider.GetServices<IConsumerRegistration>().Select(r => r.GetDefinition(context))
            .Select(d => (Endpoint: d.GetEndpointName(formatter), Limit: d.ConcurrentMessageLimit));
        var sagas = provider.GetServices<ISagaRegistration>().Select(r => r.GetDefinition(context))
            .Select(d => (Endpoint: d.GetEndpointName(formatter), Limit: d.ConcurrentMessageLimit));
        var defaultLimit = Math.Max(Environment.ProcessorCount * 2, 16);
        return consumers.Concat(sagas)
            .Where(x => x.Endpoint != schedulerQueue)
            .GroupBy(x => x.Endpoint)
            .Sum(endpoint => endpoint.Max(x => x.Limit ?? defaultLimit));
    }

    public override string ToString() =>
        $"{Total} ({Consume} consuming, {Delivery} delivering outboxes, {InboxCleanup} inbox cleanup, {ScheduledJobs} scheduled jobs)";
}
