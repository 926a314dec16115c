using Microsoft.Extensions.DependencyInjection;
using Sagas.Messaging.Migrations;
using Sagas.Messaging;

namespace Sagas.ServiceDefaults.Health;

public static class ReadinessChecks
{
    /// <summary>
    /// What every process of the system needs to be ready: PostgreSQL reachable, the schema current, the bus connected
    /// to RabbitMQ (Unhealthy once it has had no connection for 30 s), the bus outbox delivering (Unhealthy once it has
    /// made no progress for 30 s while messages wait: broker away that long, or delivery stuck), and (Degraded only) no
    /// outbox message waiting too long. MassTransit adds its own bus check, which reflects the receive endpoints only
    /// (in the Api, which consumes nothing, it stays Healthy through an outage).
    /// </summary>
    public static IHealthChecksBuilder AddReadinessChecks(this IServiceCollection services) =>
        services.AddHealthChecks()
            .AddCheck<PostgresHealthCheck>("postgres", tags: [HealthEndpoints.ReadyTag])
            .AddMigrationsCheck()
            .AddBrokerConnectionCheck()
            .AddOutboxDeliveryCheck()
            .AddOutboxCheck();
}
