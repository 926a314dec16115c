using MassTransit;
using MassTransit.Configuration;
using MassTransit.DependencyInjection;
using MassTransit.Middleware;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Sagas.Messaging.Diagnostics;
using Sagas.Messaging.Inbox;
using Sagas.Messaging.Outbox;
using Sagas.Messaging.Scheduling;
using Sagas.Observability;

namespace Sagas.Messaging;

public static class PostgresOutboxRegistrationExtensions
{
    /// <summary>
    /// Puts every consumer and saga of the bus's endpoints behind the PostgreSQL inbox and consumer outbox on the
    /// application's DbContext (which must call <see cref="MessagingModelBuilderExtensions.AddMessagingEntities"/>),
    /// with <see cref="InboxRetry"/> in front, and routes publishes and sends made outside consumers through the bus
    /// outbox. What consumers send goes to the bus outbox too: its delivery service (<see cref="PostgresOutboxOptions.BusOutbox"/>)
    /// is the one way messages reach the broker.
    /// <para>Endpoints configured by hand (<c>cfg.ReceiveEndpoint(...)</c>) need <see cref="UsePostgresOutbox{TDbContext}"/>.</para>
    /// </summary>
    public static IBusRegistrationConfigurator AddPostgresOutbox<TDbContext>(this IBusRegistrationConfigurator configurator,
        Action<PostgresOutboxOptions>? configure = null)
        where TDbContext : DbContext
    {
        var options = new PostgresOutboxOptions();
        configure?.Invoke(options);

        configurator.TryAddSingleton(options);
        configurator.TryAddScoped<IOutboxContextFactory<TDbContext>, InboxOutboxContextFactory<TDbContext>>();
        configurator.TryAddSingleton<IOutboxMonitor, OutboxMonitor<TDbContext>>();
        configurator.AddHostedService<InboxCleanupService<TDbContext>>();
        // Metrics (meter Sagas.Messaging), and what may be counted only once a consume transaction has committed.
        configurator.AddMetrics();
        configurator.TryAddScoped<AfterCommit>();
        configurator.TryAddSingleton<InboxMetrics>();
        configurator.AddMetricsSource<OutboxMetrics>();
        configurator.AddConsumeObserver<ConsumeLagObserver>();

        configurator.AddConfigureEndpointsCallback((context, name, endpoint) =>
        {
            // The scheduler's consumers write to Quartz's store in transactions of its own, where replacing or deleting
            // a timer by its token id is idempotent already: an inbox there would only add two transactions per timer.
            if (context.GetService<PostgresMessageSchedulerOptions>()?.QueueName == name)
                return;
            endpoint.UsePostgresOutbox<TDbContext>(context, options);
        });

        var busOutbox = options.BusOutbox;
        configurator.TryAddSingleton(busOutbox);
        configurator.TryAddSingleton<OutboxDeliverySignal>();
        configurator.TryAddScoped<OutboxCommits>();
        configurator.TryAddSingleton<OutboxDeliveryProgress>(_ => new OutboxDeliveryProgress());
        configurator.TryAddSingleton<BrokerConnectionMonitor>();
        configurator.AddHostedService(provider => provider.GetRequiredService<BrokerConnectionMonitor>());
        configurator.TryAddSingleton<BrokerConnectionRecycler>();
        configurator.TryAddSingleton<BrokerRefusals>();
        configurator.TryAddSingleton<OutboxMessageSender>();
        configurator.ReplaceScoped<IScopedBusContextProvider<IBus>, BusOutboxContextProvider<TDbContext>>();
        if (busOutbox.DeliveryServiceEnabled)
            configurator.AddHostedService<BusOutboxDeliveryService<TDbContext>>();
        if (busOutbox.DeliveryServiceEnabled && busOutbox.HandOff)
        {
            configurator.TryAddSingleton<OutboxHandOff<TDbContext>>();
            configurator.TryAddSingleton<IOutboxHandOff>(provider => provider.GetRequiredService<OutboxHandOff<TDbContext>>());
            configurator.AddHostedService(provider => provider.GetRequiredService<OutboxHandOff<TDbContext>>());
        }

        return configurator;
    }

    /// <summary>
    /// Installs the inbox and consumer outbox on one endpoint, for the consumers and sagas configured on it after
    /// this call, with <see cref="InboxRetry"/> in front of them.
    /// </summary>
    public static void UsePostgresOutbox<TDbContext>(this IReceiveEndpointConfigurator endpoint, IRegistrationContext context,
        PostgresOutboxOptions? options = null)
        where TDbContext : DbContext
    {
        options ??= context.GetService<PostgresOutboxOptions>() ?? new PostgresOutboxOptions();

        endpoint.UseInboxRetry(options.RetryLimit);

        // MassTransit's delivery settings of the observer (MessageDeliveryLimit, MessageDeliveryTimeout) are left at their
        // defaults: they bound inline delivery passes, which this inbox never runs (the bus outbox's own settings apply).
        var observer = new OutboxConsumePipeSpecificationObserver<TDbContext>(endpoint, context);
        endpoint.ConnectConsumerConfigurationObserver(observer);
        endpoint.ConnectSagaConfigurationObserver(observer);
    }

    /// <summary>
    /// Unhealthy when this process's bus outbox delivery has made no progress for longer than <paramref name="threshold"/>
    /// (default <see cref="BusOutboxOptions.StalledAfter"/>, 30 s) while messages wait on it. Healthy in a process
    /// without the bus outbox delivery service.
    /// </summary>
    public static IHealthChecksBuilder AddOutboxDeliveryCheck(this IHealthChecksBuilder builder, TimeSpan? threshold = null,
        string name = "outbox-delivery") =>
        builder.Add(new HealthCheckRegistration(name,
            provider => new OutboxDeliveryHealthCheck(provider.GetService<OutboxDeliveryProgress>(),
                threshold ?? provider.GetService<BusOutboxOptions>()?.StalledAfter ?? TimeSpan.FromSeconds(30)),
            HealthStatus.Unhealthy, ["ready"]));

    /// <summary>
    /// Unhealthy once the bus has had no RabbitMQ connection for longer than <paramref name="threshold"/> (default 30 s);
    /// Healthy in a process without the bus outbox, whose connection is not watched (<see cref="BrokerConnectionMonitor"/>).
    /// </summary>
    public static IHealthChecksBuilder AddBrokerConnectionCheck(this IHealthChecksBuilder builder, TimeSpan? threshold = null,
        string name = "bus-connection") =>
        builder.Add(new HealthCheckRegistration(name,
            provider => new BrokerConnectionHealthCheck(provider.GetService<BrokerConnectionMonitor>(), threshold ?? TimeSpan.FromSeconds(30)),
            HealthStatus.Unhealthy, ["ready"]));

    /// <summary>Degraded when the oldest undelivered outbox message is older than <paramref name="threshold"/> (default 1 min).</summary>
    public static IHealthChecksBuilder AddOutboxCheck(this IHealthChecksBuilder builder, TimeSpan? threshold = null, string name = "outbox") =>
        builder.Add(new HealthCheckRegistration(name,
            provider => new OutboxHealthCheck(provider.GetRequiredService<IOutboxMonitor>(), threshold ?? TimeSpan.FromMinutes(1)),
            HealthStatus.Degraded, ["ready"]));
}
