using MassTransit;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using Sagas.Data.Ordering;

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
        endpointConfigurator.UseMessageRetry(retry =>
        {
            retry.Handle<Exception>(IsTransient);
            retry.Intervals(50, 200, 500, 1_000, 2_000, 5_000);
        });
    }

    /// <summary>
    /// Failures worth trying the message again for: a racing first insert of the same order (unique violation),
    /// serialization failures and deadlocks, lost or timed-out connections. Anything else is a bug or bad data, and
    /// retrying it only delays the fault.
    /// </summary>
    public static bool IsTransient(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                case PostgresException { SqlState: PostgresErrorCodes.UniqueViolation }:
                case NpgsqlException { IsTransient: true }:
                case DbUpdateConcurrencyException:
                case TimeoutException:
                    return true;
            }
        }

        return false;
    }
}
