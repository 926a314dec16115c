using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using Sagas.Data;
using Sagas.IntegrationTests.Migrations;
using Sagas.Messaging;
using Sagas.Testing;
using Sagas.Workers.Ordering;
using Sagas.Workers.Sweeps;

namespace Sagas.IntegrationTests.Sweeps;

/// <summary>
/// The sweeps run against a real database with the bus outbox writing (its delivery switched off, so what a
/// sweep publishes stays visible as outbox rows).
/// </summary>
public sealed class SweepTests : IAsyncLifetime
{
    TemporaryDatabase _database = null!;
    TemporaryVirtualHost _virtualHost = null!;
    NpgsqlDataSource _dataSource = null!;
    IHost _host = null!;

    public async Task InitializeAsync()
    {
        _database = await TemporaryDatabase.CreateAsync("sweeps");
        _virtualHost = await TemporaryVirtualHost.CreateAsync("sweeps");
        _dataSource = NpgsqlDataSource.Create(_database.ConnectionString);
        await SchemaMatchesModelTests.Migrator(_dataSource).MigrateAsync();

        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Configuration["Saga:StuckAfter"] = "00:10:00";
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddDbContext<FulfilmentDbContext>(o => o.UseNpgsql(_database.ConnectionString));
        builder.Services.AddSagaTimings(builder.Configuration);
        builder.Services.Configure<SweepOptions>(o => o.ReconciliationGrace = TimeSpan.FromMinutes(1));
        builder.Services.AddSingleton<StuckOrdersGauge>();
        builder.Services.AddMassTransit(x =>
        {
            x.AddPostgresOutbox<FulfilmentDbContext>(o => o.UseBusOutbox(b => b.DeliveryServiceEnabled = false));
            x.UsingRabbitMq((_, cfg) => cfg.Host(_virtualHost.Settings.RabbitHost, (ushort)_virtualHost.Settings.RabbitPort, _virtualHost.Name, h =>
            {
                h.Username(_virtualHost.Settings.RabbitUser);
                h.Password(_virtualHost.Settings.RabbitPassword);
            }));
        });
        _host = builder.Build();
        await _host.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _host.StopAsync();
        _host.Dispose();
        await _dataSource.DisposeAsync();
        await _virtualHost.DisposeAsync();
        await _database.DisposeAsync();
    }

    [Fact]
    public async Task Unplaced_orders_with_an_unrefunded_payment_are_checked_at_the_provider_exactly_once()
    {
        var due = await Order("Expired", "pay-due", endedAgo: TimeSpan.FromMinutes(5));
        var canceled = await Order("Canceled", "pay-canceled", endedAgo: TimeSpan.FromMinutes(5));
        await Order("Expired", "pay-recent", endedAgo: TimeSpan.FromSeconds(5));
        await Order("Expired", "pay-refunded", endedAgo: TimeSpan.FromMinutes(5), refundRequested: true);
        await Order("Placed", "pay-placed", endedAgo: TimeSpan.FromMinutes(5));
        await Order("Expired", null, endedAgo: TimeSpan.FromMinutes(5));

        await Run<UnsettledPaymentsSweep>();
        await Run<UnsettledPaymentsSweep>();

        Assert.Equal(new[] { canceled, due }.Order(), (await Ids("SELECT order_id FROM payments.reconciliations")).Order());
        Assert.Equal(2L, await Scalar<long>(
            "SELECT count(*) FROM messaging.outbox_message WHERE message_type LIKE '%Sagas.Contracts.Payments:CheckPaymentStatus%'"));
        Assert.Equal(1L, await Scalar<long>($"SELECT count(*) FROM messaging.outbox_message WHERE body LIKE '%pay-due%' AND body LIKE '%{due}%'"));
    }

    [Fact]
    public async Task Orders_that_have_not_moved_for_longer_than_stuck_after_are_counted()
    {
        await Order("AwaitingPayment", "p1", endedAgo: TimeSpan.FromHours(1));
        await Order("Placing", "p2", endedAgo: TimeSpan.FromMinutes(11));
        await Order("AwaitingPayment", "p3", endedAgo: TimeSpan.FromMinutes(1));
        await Order("Expired", "p4", endedAgo: TimeSpan.FromHours(1));

        await Run<StuckOrdersSweep>();

        Assert.Equal(2, _host.Services.GetRequiredService<StuckOrdersGauge>().Current);
    }

    async Task Run<TJob>()
        where TJob : Quartz.IJob =>
        await ActivatorUtilities.CreateInstance<TJob>(_host.Services).Execute(null!, CancellationToken.None);

    async Task<Guid> Order(string state, string? providerReference, TimeSpan endedAgo, bool refundRequested = false)
    {
        var id = NewId.NextGuid();
        await using var command = _dataSource.CreateCommand("""
            INSERT INTO ordering.order_state (order_id, current_state, customer_id, currency, total, lines, created_at, updated_at,
                                              provider_reference, refund_requested_at)
            VALUES ($1, $2, 'c', 'USD', 10, '[]', now() - interval '2 hours', now() - $3, $4, CASE WHEN $5 THEN now() END)
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = id });
        command.Parameters.Add(new NpgsqlParameter { Value = state });
        command.Parameters.Add(new NpgsqlParameter { Value = endedAgo });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)providerReference ?? DBNull.Value });
        command.Parameters.Add(new NpgsqlParameter { Value = refundRequested });
        await command.ExecuteNonQueryAsync();
        return id;
    }

    async Task<List<Guid>> Ids(string sql)
    {
        await using var command = _dataSource.CreateCommand(sql);
        await using var reader = await command.ExecuteReaderAsync();
        var ids = new List<Guid>();
        while (await reader.ReadAsync())
            ids.Add(reader.GetGuid(0));
        return ids;
    }

    async Task<T> Scalar<T>(string sql)
    {
        await using var command = _dataSource.CreateCommand(sql);
        return (T)(await command.ExecuteScalarAsync())!;
    }
}
