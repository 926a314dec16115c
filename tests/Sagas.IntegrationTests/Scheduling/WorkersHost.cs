using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Quartz;
using Sagas.Messaging.Scheduling;
using Xunit.Abstractions;

namespace Sagas.IntegrationTests.Scheduling;

/// <summary>
/// A stand-in for one Workers process: a generic host with MassTransit over RabbitMQ, the timer saga, the probe
/// consumers and the message scheduler registered the way the Workers register it, its own Quartz node.
/// </summary>
public sealed class WorkersHost : IAsyncDisposable
{
    readonly IHost _host;
    int _disposed;

    WorkersHost(IHost host, string name)
    {
        _host = host;
        Name = name;
    }

    public string Name { get; }
    public IServiceProvider Services => _host.Services;
    public IBus Bus => Services.GetRequiredService<IBus>();
    public string? QuartzInstanceId { get; private set; }

    public static async Task<WorkersHost> StartAsync(SchedulerTestEnvironment environment, string name, ITestOutputHelper output,
        Action<PostgresMessageSchedulerOptions>? configure = null)
    {
        var settings = environment.Database.Settings;
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        // As the Workers get it: from configuration, not from code.
        builder.Configuration["ConnectionStrings:Postgres"] = environment.Database.ConnectionString;
        builder.Logging.AddProvider(new TestOutputLoggerProvider(output, name));
        builder.Logging.SetMinimumLevel(LogLevel.Debug);

        // Shared by every host of a test: a saga survives a "restart" the way a database row would.
        builder.Services.AddSingleton(environment.Sagas);
        builder.Services.AddSingleton(environment.Log);
        builder.Services.Configure<MassTransitHostOptions>(options =>
        {
            options.WaitUntilStarted = true;
            options.StartTimeout = TimeSpan.FromSeconds(30);
            options.StopTimeout = TimeSpan.FromSeconds(30);
        });

        builder.Services.AddMassTransit(x =>
        {
            x.DisableUsageTelemetry();
            x.SetKebabCaseEndpointNameFormatter();

            x.AddPostgresMessageScheduler(options =>
            {
                options.ExecutionHistory = true;
                configure?.Invoke(options);
            });

            x.AddSagaStateMachine<TimerStateMachine, TimerState>().InMemoryRepository();
            x.AddConsumer<ScheduleProbeConsumer>();
            x.AddConsumer<ProbeElapsedConsumer>();
            x.AddConsumeObserver(_ => new DeliveryObserver(environment.Log, name));

            x.UsingRabbitMq((context, cfg) =>
            {
                cfg.Host(settings.RabbitHost, (ushort)settings.RabbitPort, environment.VirtualHost.Name, h =>
                {
                    h.Username(settings.RabbitUser);
                    h.Password(settings.RabbitPassword);
                });
                cfg.UsePostgresMessageScheduler(context);
                cfg.ConfigureEndpoints(context);
            });
        });

        var host = builder.Build();
        var workers = new WorkersHost(host, name);
        try
        {
            // MassTransit keeps its log context in an AsyncLocal that a bus call from the test can leave behind;
            // a second host in the same test would then log through the first one's disposed logger factory.
            LogContext.ConfigureCurrentLogContext(host.Services.GetRequiredService<ILoggerFactory>());
            await host.StartAsync();
            // Quartz starts once the bus is ready; a test that restarts Workers needs to know this node is firing.
            var scheduler = await Eventually.Until(
                async () => await host.Services.GetRequiredService<ISchedulerFactory>().GetScheduler(),
                s => s.Status == SchedulerStatus.Running, TimeSpan.FromSeconds(30), $"Quartz running in {name}");
            workers.QuartzInstanceId = scheduler.SchedulerInstanceId;
        }
        catch
        {
            await workers.DisposeAsync();
            throw;
        }

        return workers;
    }

    public IMessageScheduler MessageScheduler => Services.GetRequiredService<IMessageScheduler>();

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
            return;
        try
        {
            await _host.StopAsync();
        }
        finally
        {
            _host.Dispose();
        }
    }
}
