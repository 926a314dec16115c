using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Quartz;
using Quartz.Impl.AdoJobStore;
using Sagas.Observability;

namespace Sagas.Messaging.Scheduling;

public static class MessageSchedulerRegistrationExtensions
{
    /// <summary>
    /// The Quartz-backed message scheduler: registers the <c>ScheduleMessage</c>/<c>CancelScheduledMessage</c>
    /// consumers on the scheduler queue (configured by <c>ConfigureEndpoints</c>), the clustered Quartz scheduler
    /// over PostgreSQL that stores and fires the timers (started and stopped with the bus), and
    /// <see cref="IMessageScheduler"/> pointing at the queue. The bus must also call
    /// <see cref="UsePostgresMessageScheduler"/> so that consumers and sagas can schedule.
    /// The Quartz tables come from migration <c>0002_quartz.sql</c> (<c>MessagingMigrations.Source</c>).
    /// </summary>
    public static IBusRegistrationConfigurator AddPostgresMessageScheduler(this IBusRegistrationConfigurator configurator,
        Action<PostgresMessageSchedulerOptions>? configure = null)
    {
        var options = new PostgresMessageSchedulerOptions();
        configure?.Invoke(options);
        options.Validate();

        configurator.AddMessageSchedulerQuartz(options);
        configurator.AddBusObserver<MessageSchedulerBusObserver>();
        configurator.AddMetrics();
        configurator.AddMetricsSource<SchedulerMetrics>();
        configurator.TryAddSingleton<MessageSchedulerEndpointDefinition>();
        configurator.AddConsumer<ScheduleMessageConsumer, ScheduleMessageConsumerDefinition>();
        configurator.AddConsumer<CancelScheduledMessageConsumer, CancelScheduledMessageConsumerDefinition>();
        configurator.AddMessageScheduler(options.SchedulerAddress);
        return configurator;
    }

    /// <summary>
    /// Makes <c>Schedule</c>/<c>Unschedule</c> and <c>ScheduleSend</c> in every consumer and saga of this bus send
    /// to the scheduler queue. Without it, scheduling from a consume context fails with
    /// <c>PayloadNotFoundException: MessageSchedulerContext</c>.
    /// </summary>
    public static void UsePostgresMessageScheduler(this IBusFactoryConfigurator configurator, IBusRegistrationContext context) =>
        configurator.UseMessageScheduler(context.GetRequiredService<PostgresMessageSchedulerOptions>().SchedulerAddress);

    /// <summary>For a receive endpoint configured by hand instead of by <c>ConfigureEndpoints</c>.</summary>
    public static void ConfigureMessageSchedulerConsumers(this IReceiveEndpointConfigurator configurator, IRegistrationContext context)
    {
        configurator.ConfigureConsumer<ScheduleMessageConsumer>(context);
        configurator.ConfigureConsumer<CancelScheduledMessageConsumer>(context);
    }

    /// <summary>
    /// Only the Quartz part: the clustered scheduler over the PostgreSQL ADO job store with the
    /// <c>PostgreSQLDelegate</c>, validating at start-up that the migrated schema is what Quartz expects.
    /// Used by <see cref="AddPostgresMessageScheduler"/>; on its own for tools and schema checks.
    /// </summary>
    public static IServiceCollection AddMessageSchedulerQuartz(this IServiceCollection services, PostgresMessageSchedulerOptions options)
    {
        options.Validate();
        services.TryAddSingleton(options);

        services.AddQuartz(quartz =>
        {
            quartz.ConfigureScheduler(scheduler =>
            {
                scheduler.InstanceName = options.SchedulerName;
                if (options.InstanceId is { } instanceId)
                    scheduler.InstanceId = instanceId;
                scheduler.MaxBatchSize = options.MaxConcurrency;
            });
            quartz.UseDefaultThreadPool(options.MaxConcurrency);
            quartz.AddJobType<ScheduledMessageJob>();

            quartz.UsePersistentStore(store =>
            {
                store.UsePostgres(dataSource =>
                {
                    if (!string.IsNullOrWhiteSpace(options.ConnectionString))
                        dataSource.ConnectionString = options.ConnectionString;
                    else
                        dataSource.ConnectionStringName = options.ConnectionStringName;
                });
                store.UseDriverDelegate<PostgreSQLDelegate>(); // what UsePostgres picks; said out loud
                store.ConfigureStore(adoStore =>
                {
                    adoStore.TablePrefix = options.TablePrefix;
                    adoStore.StoreJobDataAsStrings = true;
                    // The schema is ours to create (migrations); Quartz only checks it is what it expects.
                    adoStore.SchemaProvisioning = SchemaProvisioning.Validate;
                    // Storing a timer does not take the cluster-wide TRIGGER_ACCESS row lock (Quartz's default does, which
                    // makes every schedule of every node wait in one line). PostgreSQL's row locks and unique keys keep
                    // concurrent inserts correct; a clash on one token fails and the scheduler consumer retries it.
                    adoStore.LockOnInsert = false;
                });
                // Clustering takes row locks in qrtz_locks and, with no InstanceId given, generates one per node.
                store.UseClustering(cluster =>
                {
                    if (options.ClusterCheckinInterval is { } interval)
                        cluster.CheckinInterval = interval;
                    if (options.ClusterCheckinMisfireThreshold is { } threshold)
                        cluster.CheckinMisfireThreshold = threshold;
                });
                if (options.ExecutionHistory)
                    store.UseExecutionHistory();
            });

            options.ConfigureQuartz?.Invoke(quartz);
        });

        return services;
    }
}
