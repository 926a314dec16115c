using System.Collections.Concurrent;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Sagas.Messaging;
using Sagas.Messaging.Outbox;
using Sagas.Messaging.Migrations;

namespace Sagas.IntegrationTests.Messaging;

/// <summary>
/// A database (migrated by <see cref="SchemaMigrator"/>: messaging tables + the test schema) and a RabbitMQ virtual
/// host of one test class, and a way to start application hosts on them.
/// </summary>
public sealed class MessagingInfrastructure : IAsyncLifetime
{
    public TemporaryDatabase Database { get; private set; } = null!;
    public TemporaryVirtualHost VirtualHost { get; private set; } = null!;
    public InfrastructureSettings Settings => Database.Settings;

    public async Task InitializeAsync()
    {
        Database = await TemporaryDatabase.CreateAsync("messaging");
        VirtualHost = await TemporaryVirtualHost.CreateAsync("messaging");
        await using var dataSource = NpgsqlDataSource.Create(Database.ConnectionString);
        await new SchemaMigrator(dataSource, [MessagingMigrations.Source, new TestSchema()], NullLogger<SchemaMigrator>.Instance).MigrateAsync();
    }

    public async Task DisposeAsync()
    {
        await VirtualHost.DisposeAsync();
        await Database.DisposeAsync();
    }

    public async Task<long> Count(string sql, params object[] parameters) => Convert.ToInt64(await Scalar(sql, parameters));

    /// <summary>The first column of the first row <paramref name="sql"/> returns, its parameters as <c>$1</c>, <c>$2</c>, ….</summary>
    public async Task<object?> Scalar(string sql, params object[] parameters)
    {
        await using var connection = new NpgsqlConnection(Database.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var parameter in parameters)
            command.Parameters.Add(new NpgsqlParameter { Value = parameter });
        return await command.ExecuteScalarAsync();
    }

    /// <summary>The class's virtual host, on RabbitMQ's own port or on <paramref name="port"/> (a <see cref="TcpFaultProxy"/>).</summary>
    public void ConfigureRabbitMq(IRabbitMqBusFactoryConfigurator cfg) => ConfigureRabbitMq(cfg, null, null);

    public void ConfigureRabbitMq(IRabbitMqBusFactoryConfigurator cfg, int? port, Action<IRabbitMqHostConfigurator>? configureHost) =>
        cfg.Host(Settings.RabbitHost, (ushort)(port ?? Settings.RabbitPort), VirtualHost.Name, h =>
        {
            h.Username(Settings.RabbitUser);
            h.Password(Settings.RabbitPassword);
            configureHost?.Invoke(h);
        });

    /// <summary>
    /// Starts a host that writes bus outboxes and delivers them, and consumes nothing: the delivery service tuned by
    /// <paramref name="busOutbox"/>, RabbitMQ reached through <paramref name="rabbitPort"/> when given.
    /// </summary>
    public Task<IHost> StartOutboxHost(Action<BusOutboxOptions>? busOutbox = null, Action<IServiceCollection>? configureServices = null,
        int? rabbitPort = null) =>
        StartHost(_ => { }, o => busOutbox?.Invoke(o.BusOutbox), configureServices, rabbitPort: rabbitPort);

    /// <summary>
    /// Starts an application host: the test DbContext, the PostgreSQL outbox on every endpoint, RabbitMQ (through
    /// <paramref name="rabbitPort"/> when given, e.g. a <see cref="TcpFaultProxy"/>).
    /// </summary>
    public async Task<IHost> StartHost(Action<IBusRegistrationConfigurator> configureBus, Action<PostgresOutboxOptions>? configureOutbox = null,
        Action<IServiceCollection>? configureServices = null, Action<IRabbitMqBusFactoryConfigurator>? configureRabbitMq = null,
        int? rabbitPort = null, Action<IRabbitMqHostConfigurator>? configureHost = null, bool handOffInRequests = false)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders().AddConsole().SetMinimumLevel(LogLevel.Warning);
        // Without UseOutboxHandOff (the default here) a request scope's outbox is left to the delivery loops, whose
        // behaviour most specs are about; consumers hand theirs off either way (BusOutboxOptions.HandOff).
        builder.Services.AddDbContext<TestDbContext>((provider, o) =>
        {
            o.UseNpgsql(Database.ConnectionString);
            if (handOffInRequests)
                o.UseOutboxHandOff(provider);
        });
        builder.Services.Configure<MassTransitHostOptions>(o => o.WaitUntilStarted = true);
        configureServices?.Invoke(builder.Services);
        builder.Services.AddMassTransit(x =>
        {
            x.DisableUsageTelemetry();
            x.SetKebabCaseEndpointNameFormatter();
            x.AddPostgresOutbox<TestDbContext>(configureOutbox);
            configureBus(x);
            x.UsingRabbitMq((context, cfg) =>
            {
                ConfigureRabbitMq(cfg, rabbitPort, configureHost);
                configureRabbitMq?.Invoke(cfg);
                cfg.ConfigureEndpoints(context);
            });
        });

        var host = builder.Build();
        await host.StartAsync();
        return host;
    }
}

/// <summary>What a probe saw of one delivery, captured while it was being consumed.</summary>
public sealed record Arrival(
    object Message,
    Guid? MessageId,
    Guid? CorrelationId,
    Guid? ConversationId,
    Guid? InitiatorId,
    string? ContentType,
    IReadOnlyList<string> MessageTypes,
    IReadOnlyDictionary<string, object> Headers,
    string? RoutingKey,
    byte? Priority);

/// <summary>
/// A bus of its own, without inbox or outbox, that records every delivery it gets (in memory and in
/// test.probe_received): duplicates that an inbox would hide show up here. One message at a time, so it records
/// the order of its queue.
/// </summary>
public sealed class MessageProbe : IAsyncDisposable
{
    readonly IBusControl _bus;
    readonly ConcurrentQueue<Arrival> _arrivals = new();
    readonly string _connectionString;
    readonly string _queue;

    MessageProbe(MessagingInfrastructure infrastructure, Action<IReceiveEndpointConfigurator, MessageProbe> handlers, string? queue)
    {
        _queue = queue ?? $"probe-{Guid.NewGuid():N}";
        _connectionString = infrastructure.Database.ConnectionString;
        _bus = Bus.Factory.CreateUsingRabbitMq(cfg =>
        {
            infrastructure.ConfigureRabbitMq(cfg);
            // Durable, so that it keeps what arrives while the broker restarts; the vhost goes with the test class.
            cfg.ReceiveEndpoint(_queue, e =>
            {
                e.PrefetchCount = 1;
                e.ConcurrentMessageLimit = 1;
                handlers(e, this);
            });
        });
    }

    public Uri InputAddress => new($"queue:{_queue}");

    public IReadOnlyList<Arrival> Arrivals => _arrivals.ToArray();

    /// <summary>Starts a probe on a queue of its own, or on <paramref name="queue"/>.</summary>
    public static async Task<MessageProbe> Start(MessagingInfrastructure infrastructure, Action<IReceiveEndpointConfigurator, MessageProbe> handlers,
        string? queue = null)
    {
        var probe = new MessageProbe(infrastructure, handlers, queue);
        await probe._bus.StartAsync();
        return probe;
    }

    public IReadOnlyList<T> Received<T>() => _arrivals.Select(x => x.Message).OfType<T>().ToList();

    public async Task Record<T>(ConsumeContext<T> context, string? reference = null)
        where T : class
    {
        context.ReceiveContext.TryGetPayload<RabbitMqBasicConsumeContext>(out var rabbit);
        _arrivals.Enqueue(new Arrival(context.Message, context.MessageId, context.CorrelationId, context.ConversationId, context.InitiatorId,
            context.ReceiveContext.ContentType?.MediaType, context.SupportedMessageTypes.ToList(),
            context.Headers.GetAll().ToDictionary(x => x.Key, x => x.Value), rabbit?.RoutingKey,
            rabbit?.Properties.IsPriorityPresent() == true ? rabbit.Properties.Priority : null));

        await using var connection = new NpgsqlConnection(_connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("INSERT INTO test.probe_received (message_id, kind, reference) VALUES ($1, $2, $3)", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = context.MessageId!.Value });
        command.Parameters.Add(new NpgsqlParameter { Value = typeof(T).Name });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)reference ?? DBNull.Value });
        await command.ExecuteNonQueryAsync();
    }

    public ValueTask DisposeAsync() => new(_bus.StopAsync());
}
