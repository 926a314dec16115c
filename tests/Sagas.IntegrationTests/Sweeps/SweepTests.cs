using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using Sagas.Data;
using Sagas.IntegrationTests.Migrations;
using Sagas.Messaging;
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
        _database = await FulfilmentSchema.MigratedDatabaseAsync("sweeps");
        _virtualHost = await TemporaryVirtualHost.CreateAsync("sweeps");
        _dataSource = NpgsqlDataSource.Create(_database.ConnectionString);

        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Configuration["Saga:StuckAfter"] = "00:10:00";
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddDbContext<FulfilmentDbContext>(o => o.UseNpgsql(_database.ConnectionString));
        builder.Services.AddSagaTimings(builder.Configuration);
        builder.Services.Configure<SweepOptions>(o => o.ReconciliationGrace = TimeSpan.FromMinutes(1));
        builder.Services.AddSingleton<StuckOrdersCount>();
        builder.Services.AddSingleton<SweepMetrics>();
        builder.Services.AddScoped<Sagas.Workers.Inventory.StockLedger>();
        builder.Services.AddMassTransit(x =>
        {
            x.DisableUsageTelemetry();
            x.AddPostgresOutbox<FulfilmentDbContext>(o => o.BusOutbox.DeliveryServiceEnabled = false);
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
    public async Task Unplaced_orders_whose_payment_is_unsettled_are_checked_at_the_provider_again_and_again_until_settled()
    {
        var unconfirmed = await Order("Expired", "pay-unconfirmed", endedAgo: TimeSpan.FromMinutes(5));
        var canceled = await Order("Canceled", "pay-canceled", endedAgo: TimeSpan.FromMinutes(5));
        var refundAwaited = await Order("Failed", "pay-refund-awaited", endedAgo: TimeSpan.FromMinutes(5), closed: true, refundRequested: true);
        await Order("Expired", "pay-closed", endedAgo: TimeSpan.FromMinutes(5), closed: true);
        await Order("Canceled", "pay-refunded", endedAgo: TimeSpan.FromMinutes(5), closed: true, refundRequested: true, refunded: true);
        await Order("Expired", "pay-recent", endedAgo: TimeSpan.FromSeconds(5));
        await Order("Placed", "pay-placed", endedAgo: TimeSpan.FromMinutes(5));
        await Order("Expired", null, endedAgo: TimeSpan.FromMinutes(5));

        await Run<UnsettledPaymentsSweep>();
        await Run<UnsettledPaymentsSweep>(); // not due again yet

        Assert.Equal(new[] { canceled, unconfirmed, refundAwaited }.Order(), (await Ids("SELECT order_id FROM payments.reconciliations")).Order());
        Assert.Equal(3L, await Checks());
        Assert.Equal(1L, await Scalar<long>($"SELECT count(*) FROM messaging.outbox_message WHERE body LIKE '%pay-unconfirmed%' AND body LIKE '%{unconfirmed}%'"));

        // Due again: asked again, with the delay doubling; a payment settled meanwhile is left alone.
        await Execute("UPDATE payments.reconciliations SET next_check_at = now() - interval '1 second'");
        await Execute($"UPDATE ordering.order_state SET payment_closed_at = now() WHERE order_id = '{canceled}'");
        await Run<UnsettledPaymentsSweep>();

        Assert.Equal(5L, await Checks());
        Assert.Equal(2, await Scalar<int>($"SELECT attempts FROM payments.reconciliations WHERE order_id = '{unconfirmed}'"));
        Assert.Equal(1, await Scalar<int>($"SELECT attempts FROM payments.reconciliations WHERE order_id = '{canceled}'"));
        Assert.True(await Scalar<bool>($"SELECT next_check_at > now() + interval '90 seconds' FROM payments.reconciliations WHERE order_id = '{unconfirmed}'"));
    }

    [Fact]
    public async Task Overdue_holds_of_live_orders_are_reported_to_their_saga_once_and_those_of_ended_orders_released()
    {
        await Execute("INSERT INTO inventory.items (sku, name, category, price, currency, on_hand, held, updated_at) VALUES ('SW-1', 'x', 't', 1, 'USD', 10, 4, now())");
        var live = await Order("AwaitingPayment", "pay-live", endedAgo: TimeSpan.FromMinutes(1));
        var ended = await Order("Canceled", "pay-ended", endedAgo: TimeSpan.FromMinutes(1));
        foreach (var order in new[] { live, ended })
            await Execute($"""
                INSERT INTO inventory.stock_holds (order_id, sku, quantity, status, expires_at, created_at, updated_at)
                VALUES ('{order}', 'SW-1', 2, 'Active', now() - interval '1 minute', now(), now())
                """);

        await Run<ExpiredHoldsSweep>();
        await Run<ExpiredHoldsSweep>();

        Assert.Equal(1L, await Scalar<long>(
            $"SELECT count(*) FROM messaging.outbox_message WHERE message_type LIKE '%StockHoldOverdue%' AND body LIKE '%{live}%'"));
        Assert.Equal(0L, await Scalar<long>($"SELECT count(*) FROM messaging.outbox_message WHERE body LIKE '%{ended}%'"));
        Assert.Equal("Active", await Scalar<string>($"SELECT status FROM inventory.stock_holds WHERE order_id = '{live}'"));
        Assert.Equal("Expired", await Scalar<string>($"SELECT status FROM inventory.stock_holds WHERE order_id = '{ended}'"));
        Assert.Equal(2, await Scalar<int>("SELECT held FROM inventory.items WHERE sku = 'SW-1'"));
    }

    [Fact]
    public async Task Orders_that_have_not_moved_for_longer_than_stuck_after_are_counted()
    {
        await Order("AwaitingPayment", "p1", endedAgo: TimeSpan.FromHours(1));
        await Order("Placing", "p2", endedAgo: TimeSpan.FromMinutes(11));
        await Order("AwaitingPayment", "p3", endedAgo: TimeSpan.FromMinutes(1));
        await Order("Expired", "p4", endedAgo: TimeSpan.FromHours(1));

        await Run<StuckOrdersSweep>();

        Assert.Equal(2, _host.Services.GetRequiredService<StuckOrdersCount>().Current);
    }

    async Task Run<TJob>()
        where TJob : Quartz.IJob =>
        await ActivatorUtilities.CreateInstance<TJob>(_host.Services).Execute(null!, CancellationToken.None);

    async Task<Guid> Order(string state, string? providerReference, TimeSpan endedAgo, bool closed = false, bool refundRequested = false,
        bool refunded = false)
    {
        var id = NewId.NextGuid();
        await using var command = _dataSource.CreateCommand("""
            INSERT INTO ordering.order_state (order_id, current_state, customer_id, currency, total, lines, created_at, updated_at,
                                              provider_reference, refund_requested_at, payment_closed_at, refunded_at)
            VALUES ($1, $2, 'c', 'USD', 10, '[]', now() - interval '2 hours', now() - $3, $4, CASE WHEN $5 THEN now() END,
                    CASE WHEN $6 THEN now() END, CASE WHEN $7 THEN now() END)
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = id });
        command.Parameters.Add(new NpgsqlParameter { Value = state });
        command.Parameters.Add(new NpgsqlParameter { Value = endedAgo });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)providerReference ?? DBNull.Value });
        command.Parameters.Add(new NpgsqlParameter { Value = refundRequested });
        command.Parameters.Add(new NpgsqlParameter { Value = closed });
        command.Parameters.Add(new NpgsqlParameter { Value = refunded });
        await command.ExecuteNonQueryAsync();
        return id;
    }

    Task<long> Checks() => Scalar<long>(
        "SELECT count(*) FROM messaging.outbox_message WHERE message_type LIKE '%Sagas.Contracts.Payments:CheckPaymentStatus%'");

    async Task Execute(string sql)
    {
        await using var command = _dataSource.CreateCommand(sql);
        await command.ExecuteNonQueryAsync();
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
