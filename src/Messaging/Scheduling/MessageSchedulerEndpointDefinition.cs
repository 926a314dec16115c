using MassTransit;
using MassTransit.Middleware;
using MassTransit.Scheduling;

namespace Sagas.Messaging.Scheduling;

/// <summary>
/// Puts both scheduler consumers on one queue (<see cref="PostgresMessageSchedulerOptions.QueueName"/>) when the
/// bus calls <c>ConfigureEndpoints</c>. Messages for the same token are handled one at a time within a process, so
/// a schedule and its cancellation cannot overtake each other here.
/// </summary>
public sealed class MessageSchedulerEndpointDefinition(PostgresMessageSchedulerOptions options) :
    IEndpointDefinition<ScheduleMessageConsumer>,
    IEndpointDefinition<CancelScheduledMessageConsumer>
{
    public IPartitioner Partitioner { get; } =
        new Partitioner(options.ConcurrentMessageLimit ?? options.PrefetchCount ?? 32, new Murmur3UnsafeHashGenerator());

    public bool IsTemporary => false;
    public int? PrefetchCount => options.PrefetchCount;
    public int? ConcurrentMessageLimit => options.ConcurrentMessageLimit;

    // Bound to the ScheduleMessage/CancelScheduledMessage exchanges too, so a published schedule arrives as well.
    public bool ConfigureConsumeTopology => true;

    public string GetEndpointName(IEndpointNameFormatter formatter) => options.QueueName;

    public void Configure<T>(T configurator, IRegistrationContext? context = null)
        where T : IReceiveEndpointConfigurator =>
        options.ConfigureEndpoint?.Invoke(configurator);
}

/// <summary>
/// A scheduler consumer on the scheduler's endpoint: retried as <see cref="MessageSchedulerRetry"/> says, and its
/// messages partitioned by the token they are about (<paramref name="token"/>), so that one token's are handled in order.
/// </summary>
public abstract class MessageSchedulerConsumerDefinition<TConsumer, TMessage> : ConsumerDefinition<TConsumer>
    where TConsumer : class, IConsumer<TMessage>
    where TMessage : class
{
    readonly IPartitioner _partitioner;
    readonly Func<ConsumeContext<TMessage>, Guid> _token;

    /// <param name="endpoint">The scheduler's endpoint, as <paramref name="definition"/> of this consumer too.</param>
    protected MessageSchedulerConsumerDefinition(MessageSchedulerEndpointDefinition endpoint, IEndpointDefinition<TConsumer> definition,
        Func<ConsumeContext<TMessage>, Guid> token)
    {
        _partitioner = endpoint.Partitioner;
        _token = token;
        EndpointDefinition = definition;
    }

    protected override void ConfigureConsumer(IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<TConsumer> consumerConfigurator, IRegistrationContext context)
    {
        consumerConfigurator.UseMessageRetry(MessageSchedulerRetry.Configure);
        consumerConfigurator.Message<TMessage>(m => m.UsePartitioner(_partitioner, _token));
    }
}

public sealed class ScheduleMessageConsumerDefinition(MessageSchedulerEndpointDefinition endpoint)
    : MessageSchedulerConsumerDefinition<ScheduleMessageConsumer, ScheduleMessage>(endpoint, endpoint, c => c.Message.CorrelationId);

public sealed class CancelScheduledMessageConsumerDefinition(MessageSchedulerEndpointDefinition endpoint)
    : MessageSchedulerConsumerDefinition<CancelScheduledMessageConsumer, CancelScheduledMessage>(endpoint, endpoint, c => c.Message.TokenId);

static class MessageSchedulerRetry
{
    // Storing a timer only fails when PostgreSQL does; ride out a short outage or failover before faulting the
    // message to <queue>_error, from where it can be moved back once the database is healthy.
    public static void Configure(IRetryConfigurator retry) =>
        retry.Exponential(8, TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(500));
}
