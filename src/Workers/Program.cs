using MassTransit;
using Npgsql;
using Sagas.Workers.Hosting;
using Sagas.Data;
using Sagas.Data.Ordering;
using Sagas.Messaging;
using Sagas.Messaging.Failed;
using Sagas.Messaging.Migrations;
using Sagas.Messaging.Sagas;
using Sagas.Messaging.Scheduling;
using Sagas.Observability;
using Sagas.ServiceDefaults;
using Sagas.ServiceDefaults.Health;
using Sagas.ServiceDefaults.RabbitMq;
using Sagas.Workers.Inventory;
using Sagas.Workers.Ordering;
using Sagas.Workers.Payments;
using Sagas.Workers.Placement;
using Sagas.Workers.Reconciliation;
using Sagas.Workers.Retention;
using Sagas.Workers.Sweeps;
using Quartz;

// Workers is a generic host for the saga and the activity consumers; over HTTP it serves only health endpoints
// (so scripts and orchestrators can wait for it to be ready) and /metrics. Run as many as needed: RabbitMQ
// shares the queues, PostgreSQL row locks and the clustered Quartz store keep them from stepping on
// each other.
var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults("sagas-workers");

builder.Services.AddFulfilmentDatabase(builder.Configuration);
// Registered before MassTransit so the schema is current before any endpoint starts consuming.
builder.Services.MigrateOnStartup();
builder.Services.AddSagaTimings(builder.Configuration);
builder.Services.AddSweepOptions(builder.Configuration);
builder.Services.AddRetention(builder.Configuration);
builder.Services.AddScoped<StockLedger>();
builder.Services.AddPaymentProvider(builder.Configuration);
builder.Services.AddSingleton<StuckOrdersCount>();
builder.Services.AddSingleton<OrderMetrics>();
builder.Services.AddMetricsSource<OrderFigures>();
builder.Services.AddSingleton<SweepMetrics>();
builder.Services.AddScoped<PaymentReconciler>();
builder.Services.AddScoped<ArchivedOrders>();

builder.Services.AddReadinessChecks();

var sweeps = builder.Configuration.GetSection(SweepOptions.Section).Get<SweepOptions>() ?? new SweepOptions();
var timings = builder.Configuration.GetSection(SagaTimings.Section).Get<SagaTimings>() ?? new SagaTimings();
var retention = builder.Configuration.GetSection(RetentionOptions.Section).Get<RetentionOptions>() ?? new RetentionOptions();
var rabbit = RabbitMqOptions.From(builder.Configuration);
// Messages that exhausted their retries: from the endpoints' <queue>_error queues into messaging.failed_message.
builder.Services.AddErrorQueueDrain(rabbit.ConnectionFactory());
builder.Services.AddMassTransit(bus =>
{
    // MassTransit 8.5 reports usage to its authors unless told not to.
    bus.DisableUsageTelemetry();
    bus.SetKebabCaseEndpointNameFormatter();
    // Every consumer and the saga run behind the PostgreSQL inbox + consumer outbox; what they send, and what the
    // sweeps publish, goes out through the bus outbox.
    // Timers in the saga's own transaction (src/Messaging/README.md); false sends them to the Quartz scheduler again.
    // Messaging:BusOutbox:* (MaxAttempts, RetryDelay, …) tunes delivery and parking; the defaults suit production.
    bus.AddPostgresOutbox<FulfilmentDbContext>(outbox =>
    {
        outbox.TimersInOutbox = builder.Configuration.GetValue("Messaging:TimersInOutbox", true);
        builder.Configuration.GetSection("Messaging:BusOutbox").Bind(outbox.BusOutbox);
    });
    bus.AddPostgresMessageScheduler(scheduler =>
    {
        // Quartz opens a pooled connection per store operation; without the DISCARD ALL reset (see
        // AddFulfilmentDatabase) each costs one statement, not two, and its statements are prepared as the services' are.
        // A frozen Workers must not keep Quartz's cluster lock rows either.
        var quartzConnection = new NpgsqlConnectionStringBuilder(builder.Configuration.GetConnectionString("Postgres")) { NoResetOnClose = true };
        DatabaseServiceCollectionExtensions.AutoPrepare(quartzConnection, builder.Configuration.GetConnectionString("Postgres") ?? "");
        scheduler.ConnectionString = DatabaseServiceCollectionExtensions.SessionLimits(builder.Configuration).Apply(quartzConnection.ConnectionString);
        scheduler.ConfigureQuartz = quartz =>
        {
            Every<ExpiredHoldsSweep>(quartz, sweeps.ExpiredHoldsInterval);
            Every<UnsettledPaymentsSweep>(quartz, sweeps.ReconciliationInterval);
            Every<StuckOrdersSweep>(quartz, sweeps.StuckOrdersInterval);
            Every<ReconciliationReportSweep>(quartz, sweeps.ReconciliationReportInterval);
            // Final orders to the archive, old history deleted (src/Workers/Retention).
            Every<RetentionSweep>(quartz, retention.Interval);
            // One provider listing per tick for every order awaiting payment (not a timer per order), several ticks per
            // promised poll period (SagaTimings.PollTick).
            Every<PaymentStatusPoll>(quartz, timings.ListingPeriod);
            quartz.AddJobListener<SweepRunListener>();
        };
    });

    bus.AddSagaStateMachine<OrderStateMachine, OrderState, OrderStateMachineDefinition>()
        .PostgresRepository(repository => repository.ExistingDbContext<FulfilmentDbContext>());

    bus.AddConsumer<HoldStockConsumer, StockConsumerDefinition<HoldStockConsumer>>();
    bus.AddConsumer<ReleaseStockConsumer, StockConsumerDefinition<ReleaseStockConsumer>>();
    bus.AddConsumer<PlaceOrderConsumer, StockConsumerDefinition<PlaceOrderConsumer>>();
    bus.AddConsumer<RequestPaymentConsumer, ProviderConsumerDefinition<RequestPaymentConsumer>>();
    bus.AddConsumer<CheckPaymentStatusConsumer, ProviderConsumerDefinition<CheckPaymentStatusConsumer>>();
    bus.AddConsumer<CancelPaymentConsumer, ProviderConsumerDefinition<CancelPaymentConsumer>>();
    bus.AddConsumer<RefundPaymentConsumer, ProviderConsumerDefinition<RefundPaymentConsumer>>();
    // Support's reconciliation asked for through the Api: no retry, the Api is waiting (a fault answers it at once).
    bus.AddConsumer<RunReconciliationConsumer>();

    bus.UsingRabbitMq((context, cfg) =>
    {
        rabbit.Apply(cfg);
        cfg.UsePostgresMessageScheduler(context);
        cfg.UseConsumeFilter(typeof(OrderLogScopeFilter<>), context);
        cfg.DrainErrorQueues(context);
        cfg.ConfigureEndpoints(context);
    });
});

var app = builder.Build();
app.UseSagasMetrics();
app.MapHealthEndpoints();
await app.RunAsync();

static void Every<TJob>(IQuartzBuilder quartz, TimeSpan interval)
    where TJob : IJob =>
    quartz.ScheduleJob<TJob>(trigger => trigger
        .WithIdentity(typeof(TJob).Name, SweepMetrics.Group)
        .StartNow()
        .WithSimpleSchedule(interval));

public partial class Program;
