extern alias SagasApi;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using Sagas.Data;
using Sagas.IntegrationTests.Migrations;
using Sagas.Testing;
using Sagas.Workers.Reconciliation;
using Sagas.Workers.Retention;
using Sagas.Workers.Sweeps;
using SagasApi::Sagas.Api.Orders;
using SagasApi::Sagas.Api.Support;

namespace Sagas.IntegrationTests.Retention;

/// <summary>
/// The retention sweep on a real database: orders written as the saga and the Api leave them, the sweep run as the
/// Workers run it, and the Api's own readers (order, timeline, search) and reconciliation's archive lookup reading after.
/// Orders are "old" by their rows' timestamps (ArchiveAfter 1 h), not by waiting.
/// </summary>
public sealed class Archiving_final_orders : IAsyncLifetime
{
    static readonly TimeSpan Old = TimeSpan.FromHours(2);
    TemporaryDatabase _database = null!;
    NpgsqlDataSource _dataSource = null!;
    IHost _host = null!;

    public async Task InitializeAsync()
    {
        _database = await TemporaryDatabase.CreateAsync("retention");
        _dataSource = NpgsqlDataSource.Create(_database.ConnectionString);
        await SchemaMatchesModelTests.Migrator(_dataSource).MigrateAsync();
        await Execute("INSERT INTO inventory.items (sku, name, category, price, currency, on_hand, held, updated_at) VALUES ('RT-1', 'x', 't', 5, 'USD', 100, 0, now())");

        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddDbContext<FulfilmentDbContext>(o => o.UseNpgsql(_database.ConnectionString));
        builder.Services.AddSingleton<SweepMetrics>();
        builder.Services.AddRetention(builder.Configuration);
        builder.Services.AddScoped<ArchivedOrders>();
        builder.Services.Configure<RetentionOptions>(o =>
        {
            o.ArchiveAfter = TimeSpan.FromHours(1);
            o.BatchSize = 2; // three eligible orders: two batches
        });
        _host = builder.Build();
    }

    public async Task DisposeAsync()
    {
        _host.Dispose();
        await _dataSource.DisposeAsync();
        await _database.DisposeAsync();
    }

    [Fact]
    public async Task Final_settled_orders_past_the_age_move_with_their_history_and_order_timeline_search_and_reconciliation_still_find_them()
    {
        var placed = await Order("Placed", "pay-placed", Old, closed: true, customer: "rt-customer", createdAgo: TimeSpan.FromHours(5));
        var canceled = await Order("Canceled", "pay-canceled", Old, closed: true, refundRequested: true, refunded: true, customer: "rt-customer",
            createdAgo: TimeSpan.FromHours(4));
        var rejected = await Order("Rejected", null, Old, customer: "rt-customer", createdAgo: TimeSpan.FromHours(3));
        var live = await Order("AwaitingPayment", "pay-live", Old, customer: "rt-customer", createdAgo: TimeSpan.FromHours(2.5));
        await Execute($"""
            INSERT INTO payments.refunds (order_id, provider_reference, refund_id, amount, status, reason, requested_at, completed_at)
            VALUES ('{canceled}', 'pay-canceled', 'rf-1', 10, 'Succeeded', 'canceled', now(), now());
            INSERT INTO payments.webhook_events (event_id, type, provider_reference, merchant_reference, amount, currency, occurred_at, received_at)
            VALUES ('evt-placed', 'payment.succeeded', 'pay-placed', '{placed}', 10, 'USD', now(), now());
            INSERT INTO payments.reconciliations (order_id, checked_at) VALUES ('{canceled}', now());
            """);
        var timelineBefore = await Timeline(placed);

        await Sweep();

        foreach (var order in new[] { placed, canceled, rejected })
        {
            Assert.Equal(0L, await Scalar<long>($"""
                SELECT (SELECT count(*) FROM ordering.order_state WHERE order_id = '{order}')
                     + (SELECT count(*) FROM ordering.order_timeline WHERE order_id = '{order}')
                     + (SELECT count(*) FROM api.idempotency_keys WHERE order_id = '{order}')
                     + (SELECT count(*) FROM payments.payments WHERE order_id = '{order}')
                     + (SELECT count(*) FROM payments.refunds WHERE order_id = '{order}')
                     + (SELECT count(*) FROM payments.reconciliations WHERE order_id = '{order}')
                     + (SELECT count(*) FROM inventory.stock_holds WHERE order_id = '{order}')
                     + (SELECT count(*) FROM payments.webhook_events WHERE merchant_reference = '{order}')
                """));
            Assert.Equal(1L, await Scalar<long>($"SELECT count(*) FROM archive.order_state WHERE order_id = '{order}'"));
            Assert.Equal(1L, await Scalar<long>($"SELECT count(*) FROM archive.idempotency_keys WHERE order_id = '{order}'"));
            Assert.Equal(2L, await Scalar<long>($"SELECT count(*) FROM archive.order_timeline WHERE order_id = '{order}'"));
            Assert.Equal(1L, await Scalar<long>($"SELECT count(*) FROM archive.stock_holds WHERE order_id = '{order}'"));
        }

        Assert.Equal(1L, await Scalar<long>($"SELECT count(*) FROM archive.payments WHERE order_id = '{placed}'"));
        Assert.Equal(1L, await Scalar<long>($"SELECT count(*) FROM archive.refunds WHERE order_id = '{canceled}'"));
        Assert.Equal(1L, await Scalar<long>($"SELECT count(*) FROM archive.webhook_events WHERE merchant_reference = '{placed}'"));
        Assert.Equal(1L, await Scalar<long>($"SELECT count(*) FROM ordering.order_state WHERE order_id = '{live}'"));

        // The order, as GET /orders/{id} reads it: found, final, marked archived (so it can no longer be canceled).
        var reader = new OrderReader(_dataSource, ReadOnlyDatabase.OnPrimary(_dataSource));
        var found = await reader.FindAsync(placed, CancellationToken.None);
        Assert.NotNull(found);
        Assert.True(found.Archived);
        Assert.Equal(("Placed", "pay-placed", "rt-client"), (found.Order.Status, found.Order.Payment?.ProviderReference, found.ClientId));
        Assert.False((await reader.FindAsync(live, CancellationToken.None))!.Archived);
        Assert.Null(await reader.FindAsync(Guid.NewGuid(), CancellationToken.None));

        // Its timeline, entry for entry as before.
        Assert.Equal(timelineBefore, await Timeline(placed));

        // Support's search: live and archived orders together, newest first, a page at a time across the boundary.
        var queries = new SupportQueries(ReadOnlyDatabase.OnPrimary(_dataSource));
        var filter = new SupportQueries.OrderFilter("", "rt-customer", null, null);
        var first = await queries.SearchAsync(filter, null, 2, CancellationToken.None);
        Assert.Equal(new[] { live, rejected }, first.Select(o => o.OrderId));
        var second = await queries.SearchAsync(filter, (first[^1].CreatedAt, first[^1].OrderId), 2, CancellationToken.None);
        Assert.Equal(new[] { canceled, placed }, second.Select(o => o.OrderId));
        Assert.Equal(new[] { placed }, (await queries.SearchAsync(filter with { Status = "Placed" }, null, 50, CancellationToken.None)).Select(o => o.OrderId));

        // Reconciliation's books: the archived order is named and counted among the orders placed in its range.
        await using var scope = _host.Services.CreateAsyncScope();
        var archived = scope.ServiceProvider.GetRequiredService<ArchivedOrders>();
        var named = await archived.NamedAsync([placed, live, Guid.NewGuid()], CancellationToken.None);
        Assert.Equal((placed, "Placed", "pay-placed"), (named.Single().OrderId, named.Single().Status, named.Single().ProviderReference));
        var inRange = await archived.PlacedAsync(DateTimeOffset.UtcNow.AddHours(-3), DateTimeOffset.UtcNow, CancellationToken.None);
        Assert.Equal(new[] { placed }, inRange.Select(o => o.OrderId));

        // Idempotent: nothing more to move, nothing moved twice.
        await Sweep();
        Assert.Equal(3L, await Scalar<long>("SELECT count(*) FROM archive.order_state"));
    }

    [Fact]
    public async Task Live_recent_and_unsettled_orders_and_those_that_need_a_person_are_never_moved()
    {
        var stay = new List<Guid>
        {
            await Order("AwaitingPayment", "p-live", Old),
            await Order("Compensating", "p-compensating", Old, closed: true),
            await Order("Placed", "p-recent", TimeSpan.FromMinutes(5), closed: true),
            await Order("Canceled", "p-refund-awaited", Old, closed: true, refundRequested: true),
            await Order("Expired", "p-unconfirmed", Old),
            await Order("Placed", "p-active-hold", Old, closed: true, holdStatus: "Active"),
        };
        var attention = await Order("Failed", "p-attention", Old, closed: true);
        await Execute($"UPDATE ordering.order_state SET attention_reason = 'refund-refused', attention_since = now() WHERE order_id = '{attention}'");
        var releaseAwaited = await Order("Canceled", null, Old);
        await Execute($"UPDATE ordering.order_state SET release_requested_at = now() WHERE order_id = '{releaseAwaited}'");
        var failedMessage = await Order("Failed", "p-failed-message", Old, closed: true);
        await Execute($"""
            INSERT INTO messaging.failed_message (message_id, queue, message_type, correlation_id, exception_type, reason, first_failed_at, last_failed_at, body)
            VALUES (gen_random_uuid(), 'q', 't', '{failedMessage}', 'E', 'r', now(), now(), '\x00')
            """);
        var mismatched = await Order("Placed", "p-mismatch", Old, closed: true);
        await Execute($$"""
            INSERT INTO payments.reconciliation_reports (range_from, range_to, checked_at, scheduled, payments, captured, refunded, mismatch_count, mismatches)
            VALUES (now() - interval '1 day', now(), now(), true, 1, 1, 0, 1, '[{"orderId": "{{mismatched}}", "kind": "amount-differs", "detail": "x"}]')
            """);
        stay.AddRange([attention, releaseAwaited, failedMessage, mismatched]);
        var done = await Order("Placed", "p-done", Old, closed: true);

        await Sweep();

        Assert.Equal(new[] { done }, await Ids("SELECT order_id FROM archive.order_state"));
        Assert.Equal(stay.Order(), (await Ids("SELECT order_id FROM ordering.order_state")).Order());
        Assert.Equal(stay.Count, (int)await Scalar<long>("SELECT count(*) FROM api.idempotency_keys"));
    }

    [Fact]
    public async Task Two_workers_sweeping_at_once_never_move_an_order_twice()
    {
        var orders = new List<Guid>();
        for (var i = 0; i < 40; i++)
            orders.Add(await Order(i % 2 == 0 ? "Placed" : "Expired", $"p-{i}", Old, closed: true));

        await Task.WhenAll(Sweep(), Sweep(), Sweep());

        Assert.Equal(orders.Order(), (await Ids("SELECT order_id FROM archive.order_state")).Order());
        Assert.Equal(80L, await Scalar<long>("SELECT count(*) FROM archive.order_timeline"));
        Assert.Equal(0L, await Scalar<long>("SELECT count(*) FROM ordering.order_state"));
    }

    [Fact]
    public async Task Old_reports_and_settled_failed_messages_are_deleted_and_the_latest_report_and_waiting_messages_kept()
    {
        foreach (var (ago, scheduled) in new[] { ("200 days", true), ("100 days", true), ("95 days", false), ("1 day", false) })
            await Execute($"""
                INSERT INTO payments.reconciliation_reports (range_from, range_to, checked_at, scheduled, payments, captured, refunded, mismatch_count, mismatches)
                VALUES (now() - interval '{ago}' - interval '1 day', now() - interval '{ago}', now() - interval '{ago}', {scheduled}, 0, 0, 0, 0, '[]')
                """);
        foreach (var (state, ago) in new[] { ("retried", "40 days"), ("discarded", "40 days"), ("failed", "400 days"), ("retried", "1 day") })
            await Execute($"""
                INSERT INTO messaging.failed_message (message_id, queue, message_type, exception_type, reason, first_failed_at, last_failed_at, body, state, state_changed_at)
                VALUES (gen_random_uuid(), 'q', 't', 'E', '{state}-{ago}', now() - interval '{ago}', now() - interval '{ago}', '\x00', '{state}',
                        CASE WHEN '{state}' <> 'failed' THEN now() - interval '{ago}' END)
                """);

        await Sweep();

        // The latest scheduled report (100 days old: support's figure reads it) stays; so does the recent one.
        Assert.Equal(new[] { 1L, 100L }, await Longs("SELECT extract(day FROM now() - checked_at)::bigint FROM payments.reconciliation_reports ORDER BY 1"));
        Assert.Equal(new[] { "failed-400 days", "retried-1 day" }, await Strings("SELECT reason FROM messaging.failed_message ORDER BY reason"));
    }

    [Fact]
    public async Task Archive_tables_have_the_columns_of_their_hot_tables_in_the_same_order()
    {
        const string Columns = """
            SELECT string_agg(column_name || ' ' || data_type || ' ' || is_nullable, ', ' ORDER BY ordinal_position)
              FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2
            """;
        foreach (var (schema, table) in new[] { ("ordering", "order_state"), ("ordering", "order_timeline"), ("api", "idempotency_keys"),
                     ("payments", "payments"), ("payments", "refunds"), ("inventory", "stock_holds"), ("payments", "webhook_events") })
        {
            var hot = await Scalar<string>(Columns, schema, table);
            Assert.Equal(hot, await Scalar<string>(Columns, "archive", table));
        }
    }

    Task Sweep() =>
        ActivatorUtilities.CreateInstance<RetentionSweep>(_host.Services).Execute(null!, CancellationToken.None).AsTask();

    /// <summary>An order as the Api and the saga leave it: accepted, with two timeline entries, a payment record and a hold.</summary>
    async Task<Guid> Order(string state, string? providerReference, TimeSpan endedAgo, bool closed = false, bool refundRequested = false,
        bool refunded = false, string customer = "c", TimeSpan? createdAgo = null, string holdStatus = "Committed")
    {
        var id = NewId.NextGuid();
        await Execute($"""
            INSERT INTO api.idempotency_keys (client_id, idempotency_key, request_hash, order_id, customer_id, currency, total, lines, created_at)
            VALUES ('rt-client', '{id}', 'h', '{id}', '{customer}', 'USD', 10, '[]', now() - interval '{(createdAgo ?? Old + Old).TotalSeconds} seconds');
            INSERT INTO ordering.order_state (order_id, current_state, customer_id, currency, total, lines, created_at, updated_at,
                                              provider_reference, payment_closed_at, refund_requested_at, refunded_at)
            SELECT order_id, '{state}', customer_id, 'USD', 10, '[]', created_at, now() - interval '{endedAgo.TotalSeconds} seconds',
                   {(providerReference is null ? "NULL" : $"'{providerReference}'")}, {(closed ? "now()" : "NULL")},
                   {(refundRequested ? "now()" : "NULL")}, {(refunded ? "now()" : "NULL")}
              FROM api.idempotency_keys WHERE order_id = '{id}';
            INSERT INTO ordering.order_timeline (order_id, at, event, from_state, to_state, detail)
            VALUES ('{id}', now() - interval '3 hours', 'SubmitOrder', NULL, 'Submitted', NULL),
                   ('{id}', now() - interval '2 hours', 'Ended', 'Submitted', '{state}', 'detail of {id}');
            INSERT INTO inventory.stock_holds (order_id, sku, quantity, status, expires_at, created_at, updated_at)
            VALUES ('{id}', 'RT-1', 1, '{holdStatus}', now() + interval '1 hour', now(), now());
            """);
        if (holdStatus == "Active")
            await Execute("UPDATE inventory.items SET held = held + 1 WHERE sku = 'RT-1'");
        if (providerReference is not null)
            await Execute($"""
                INSERT INTO payments.payments (order_id, provider_reference, amount, currency, status, requested_at, updated_at)
                VALUES ('{id}', '{providerReference}', 10, 'USD', 'Succeeded', now(), now())
                """);
        if (state == "Placed")
            await Execute($"UPDATE ordering.order_state SET placed_at = now() - interval '2 hours' WHERE order_id = '{id}'");
        return id;
    }

    async Task<List<string>> Timeline(Guid orderId) =>
        (await new SupportQueries(ReadOnlyDatabase.OnPrimary(_dataSource)).TimelineAsync(orderId, CancellationToken.None))!
        .Select(e => $"{e.At:O} {e.Event} {e.From} {e.To} {e.Detail}").ToList();

    async Task Execute(string sql)
    {
        await using var command = _dataSource.CreateCommand(sql);
        await command.ExecuteNonQueryAsync();
    }

    async Task<List<Guid>> Ids(string sql) => await Rows(sql, r => r.GetGuid(0));
    async Task<List<long>> Longs(string sql) => await Rows(sql, r => r.GetInt64(0));
    async Task<List<string>> Strings(string sql) => await Rows(sql, r => r.GetString(0));

    async Task<List<T>> Rows<T>(string sql, Func<NpgsqlDataReader, T> read)
    {
        await using var command = _dataSource.CreateCommand(sql);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<T>();
        while (await reader.ReadAsync())
            rows.Add(read(reader));
        return rows;
    }

    async Task<T> Scalar<T>(string sql, params object[] parameters)
    {
        await using var command = _dataSource.CreateCommand(sql);
        foreach (var value in parameters)
            command.Parameters.Add(new NpgsqlParameter { Value = value });
        return (T)(await command.ExecuteScalarAsync())!;
    }
}
