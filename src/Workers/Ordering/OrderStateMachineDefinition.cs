using MassTransit;
using Sagas.Data.Ordering;
using Sagas.Messaging.Postgres;

namespace Sagas.Workers.Ordering;

/// <summary>The order saga's receive endpoint.</summary>
public sealed class OrderStateMachineDefinition : SagaDefinition<OrderState>
{
    public OrderStateMachineDefinition()
    {
        // Messages of one order are serialized by the repository's row lock; this bounds how many orders one
        // Workers process touches at once (and so the database connections it needs).
        ConcurrentMessageLimit = 32;
    }

    protected override void ConfigureSaga(IReceiveEndpointConfigurator endpointConfigurator, ISagaConfigurator<OrderState> sagaConfigurator,
        IRegistrationContext context)
    {
        // Database races (first insert, serialization, deadlock) are retried in front of the inbox by
        // src/Messaging; this covers the rest of what is transient: lost connections and timeouts. The durable
        // consumer outbox installed on every endpoint makes what an attempt published go out only after its
        // saga row commits.
        endpointConfigurator.UseMessageRetry(ConfigureTransientRetry);
    }

    /// <summary>
    /// Rides out a database restart or failover (about a minute) before a message is faulted to the error
    /// queue: a message parked there is an order that stops moving, so giving up early is the worse failure.
    /// </summary>
    public static void ConfigureTransientRetry(IRetryConfigurator retry)
    {
        retry.Handle<Exception>(PostgresErrors.IsTransient);
        retry.Intervals(50, 200, 500, 1_000, 2_000, 5_000, 10_000, 15_000, 30_000);
    }
}
