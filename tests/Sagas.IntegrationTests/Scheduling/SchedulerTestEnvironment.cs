using MassTransit.Saga;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Sagas.Messaging.Migrations;
using Xunit.Abstractions;

namespace Sagas.IntegrationTests.Scheduling;

/// <summary>
/// What a scheduler test runs against: its own migrated database and its own RabbitMQ virtual host, the saga
/// store and delivery log shared by all the Workers hosts the test starts, and those hosts, stopped at the end.
/// </summary>
public sealed class SchedulerTestEnvironment : IAsyncDisposable
{
    readonly List<WorkersHost> _hosts = [];
    readonly ITestOutputHelper _output;

    SchedulerTestEnvironment(TemporaryDatabase database, TemporaryVirtualHost virtualHost, ITestOutputHelper output)
    {
        Database = database;
        VirtualHost = virtualHost;
        Quartz = new QuartzTables(database.ConnectionString);
        _output = output;
    }

    public TemporaryDatabase Database { get; }
    public TemporaryVirtualHost VirtualHost { get; }
    public QuartzTables Quartz { get; }
    public DeliveryLog Log { get; } = new();
    public IndexedSagaDictionary<TimerState> Sagas { get; } = new();

    public static async Task<SchedulerTestEnvironment> CreateAsync(string purpose, ITestOutputHelper output)
    {
        var database = await TemporaryDatabase.CreateAsync(purpose);
        try
        {
            await MigrateAsync(database.ConnectionString);
            var virtualHost = await TemporaryVirtualHost.CreateAsync(purpose);
            return new SchedulerTestEnvironment(database, virtualHost, output);
        }
        catch
        {
            await database.DisposeAsync();
            throw;
        }
    }

    /// <summary>The application's own migrations, as the Workers apply them at start-up.</summary>
    public static async Task MigrateAsync(string connectionString)
    {
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        await new SchemaMigrator(dataSource, [MessagingMigrations.Source], NullLogger<SchemaMigrator>.Instance).MigrateAsync();
    }

    public async Task<WorkersHost> StartWorkersAsync(string name, Action<Sagas.Messaging.Scheduling.PostgresMessageSchedulerOptions>? configure = null)
    {
        var host = await WorkersHost.StartAsync(this, name, _output, configure);
        lock (_hosts)
            _hosts.Add(host);
        return host;
    }

    /// <summary>A copy of the saga instance, taken under the in-memory repository's lock; null while it does not exist.</summary>
    public async Task<TimerState?> SagaAsync(Guid sagaId)
    {
        var instance = Sagas[sagaId];
        if (instance is null)
            return null;
        await instance.MarkInUse(CancellationToken.None);
        try
        {
            return instance.Instance.Snapshot();
        }
        finally
        {
            instance.Release();
        }
    }

    public Task<TimerState> SagaInState(Guid sagaId, string state, TimeSpan? timeout = null) =>
        Eventually.Until(async () => await SagaAsync(sagaId), s => s?.CurrentState == state, timeout ?? TimeSpan.FromSeconds(30),
            $"saga {sagaId} in {state}")!;

    public async ValueTask DisposeAsync()
    {
        List<WorkersHost> hosts;
        lock (_hosts)
            hosts = [.._hosts];
        foreach (var host in hosts)
            await host.DisposeAsync();
        await VirtualHost.DisposeAsync();
        await Database.DisposeAsync();
    }
}
