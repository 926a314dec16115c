// Also compiled into bench/Sagas.Messaging.Bench (linked in its csproj): both measure the bus outbox against a raw loop,
// on a database and a virtual host of their own, and share what that takes.
using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Sagas.Messaging;
using Sagas.Messaging.Migrations;
using Sagas.Testing;

namespace Sagas.Bench;

/// <summary>The benchmarks' own message: an id to match what arrived with what was sent.</summary>
public sealed record BenchMessage(long Id);

/// <summary>The messaging library's tables only: the bus outbox measured without the domain's.</summary>
public sealed class OutboxBenchDbContext(DbContextOptions<OutboxBenchDbContext> options) : DbContext(options)
{
    protected override void OnModelCreating(ModelBuilder modelBuilder) => modelBuilder.AddMessagingEntities();
}

public static class OutboxBench
{
    /// <summary>A database of its own (dropped when disposed) with the messaging library's migrations applied.</summary>
    public static async Task<TemporaryDatabase> MigratedDatabaseAsync(string purpose, InfrastructureSettings? settings = null)
    {
        var database = await TemporaryDatabase.CreateAsync(purpose, settings);
        try
        {
            await using var dataSource = NpgsqlDataSource.Create(database.ConnectionString);
            await new SchemaMigrator(dataSource, [MessagingMigrations.Source], NullLogger<SchemaMigrator>.Instance).MigrateAsync();
            return database;
        }
        catch
        {
            await database.DisposeAsync();
            throw;
        }
    }

    /// <summary>The broker of <paramref name="settings"/>, on <paramref name="vhost"/>, as its administrator.</summary>
    public static void Rabbit(IRabbitMqBusFactoryConfigurator cfg, InfrastructureSettings settings, string vhost) =>
        cfg.Host(settings.RabbitHost, (ushort)settings.RabbitPort, vhost, h =>
        {
            h.Username(settings.RabbitUser);
            h.Password(settings.RabbitPassword);
        });

    /// <summary>
    /// A started host whose scoped <see cref="IPublishEndpoint"/> writes to the bus outbox of
    /// <see cref="OutboxBenchDbContext"/> (sent on SaveChanges' commit); <paramref name="deliver"/> false leaves the
    /// messages in the outbox, as a process whose delivery service is down would.
    /// </summary>
    public static async Task<IHost> StartOutboxHostAsync(TemporaryDatabase database, string vhost, bool deliver = true)
    {
        var builder = Host.CreateApplicationBuilder([]);
        builder.Logging.ClearProviders().AddConsole().SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddDbContext<OutboxBenchDbContext>(o => o.UseNpgsql(database.ConnectionString));
        builder.Services.Configure<MassTransitHostOptions>(o => o.WaitUntilStarted = true);
        builder.Services.AddMassTransit(x =>
        {
            x.DisableUsageTelemetry();
            x.AddPostgresOutbox<OutboxBenchDbContext>(o => o.BusOutbox.DeliveryServiceEnabled = deliver);
            x.UsingRabbitMq((_, cfg) => Rabbit(cfg, database.Settings, vhost));
        });
        var host = builder.Build();
        try
        {
            await host.StartAsync();
            return host;
        }
        catch
        {
            host.Dispose();
            throw;
        }
    }
}
