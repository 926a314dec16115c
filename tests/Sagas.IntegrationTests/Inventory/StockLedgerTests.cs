using Microsoft.EntityFrameworkCore;
using Npgsql;
using Sagas.Contracts.Inventory;
using Sagas.Data;
using Sagas.IntegrationTests.Migrations;
using Sagas.Workers.Inventory;

namespace Sagas.IntegrationTests.Inventory;

public sealed class StockLedgerTests() : WithMigratedDatabase("stock")
{
    static readonly TimeSpan AnHour = TimeSpan.FromHours(1);

    [Fact]
    public async Task A_hold_takes_every_line_or_none()
    {
        await Stock(("A", 5), ("B", 1));

        var outcome = await Ledger(l => l.HoldAsync(Guid.NewGuid(), [Line("A", 2), Line("B", 2)], AnHour));

        var rejected = Assert.IsType<HoldOutcome.Rejected>(outcome);
        Assert.Equal("insufficient-stock", rejected.Reason);
        Assert.Equal(["B"], rejected.Skus);
        Assert.Equal((5, 0), await OnHandAndHeld("A"));
        Assert.Equal((1, 0), await OnHandAndHeld("B"));
    }

    [Fact]
    public async Task An_unknown_sku_is_rejected_and_nothing_is_held()
    {
        await Stock(("C", 5));

        var outcome = await Ledger(l => l.HoldAsync(Guid.NewGuid(), [Line("C", 1), Line("NOPE", 1)], AnHour));

        Assert.Equal("unknown-sku", Assert.IsType<HoldOutcome.Rejected>(outcome).Reason);
        Assert.Equal((5, 0), await OnHandAndHeld("C"));
    }

    [Fact]
    public async Task Holding_twice_for_the_same_order_holds_once()
    {
        await Stock(("D", 10));
        var order = Guid.NewGuid();

        await Ledger(l => l.HoldAsync(order, [Line("D", 3)], AnHour));
        var again = await Ledger(l => l.HoldAsync(order, [Line("D", 3)], AnHour));

        Assert.IsType<HoldOutcome.Held>(again);
        Assert.Equal((10, 3), await OnHandAndHeld("D"));
    }

    [Fact]
    public async Task Release_gives_held_stock_back_once()
    {
        await Stock(("E", 10));
        var order = Guid.NewGuid();
        await Ledger(l => l.HoldAsync(order, [Line("E", 4)], AnHour));

        Assert.Equal(1, await Ledger(l => l.ReleaseAsync(order)));
        Assert.Equal(0, await Ledger(l => l.ReleaseAsync(order)));

        Assert.Equal((10, 0), await OnHandAndHeld("E"));
    }

    [Fact]
    public async Task Commit_sells_the_held_units_and_a_later_release_returns_them()
    {
        await Stock(("F", 10), ("G", 2));
        var order = Guid.NewGuid();
        await Ledger(l => l.HoldAsync(order, [Line("F", 4), Line("G", 2)], AnHour));

        Assert.IsType<CommitOutcome.Committed>(await Ledger(l => l.CommitAsync(order)));
        Assert.IsType<CommitOutcome.Committed>(await Ledger(l => l.CommitAsync(order)));
        Assert.Equal((6, 0), await OnHandAndHeld("F"));
        Assert.Equal((0, 0), await OnHandAndHeld("G"));

        await Ledger(l => l.ReleaseAsync(order));
        Assert.Equal((10, 0), await OnHandAndHeld("F"));
        Assert.Equal((2, 0), await OnHandAndHeld("G"));
    }

    [Fact]
    public async Task A_hold_lasts_from_when_it_is_made_by_the_databases_clock_and_can_be_extended()
    {
        await Stock(("H", 10));
        var order = Guid.NewGuid();
        var before = await DatabaseNow();

        var held = Assert.IsType<HoldOutcome.Held>(await Ledger(l => l.HoldAsync(order, [Line("H", 4)], TimeSpan.FromMinutes(3))));

        Assert.InRange(held.HeldUntil, before.AddMinutes(3), (await DatabaseNow()).AddMinutes(3));
        Assert.Equal(1, await Ledger(l => l.ExtendAsync(order, held.HeldUntil.AddMinutes(10))));
        Assert.Equal(0, await Ledger(l => l.ExtendAsync(order, held.HeldUntil.AddMinutes(5)))); // never shortened
        Assert.Equal(held.HeldUntil.AddMinutes(10), await ExpiresAt(order));
    }

    [Fact]
    public async Task An_active_hold_past_its_expiry_can_still_be_committed()
    {
        await Stock(("I", 10));
        var order = Guid.NewGuid();
        await Ledger(l => l.HoldAsync(order, [Line("I", 4)], TimeSpan.FromMilliseconds(1)));
        await Task.Delay(20);

        Assert.IsType<CommitOutcome.Committed>(await Ledger(l => l.CommitAsync(order)));
        Assert.Equal((6, 0), await OnHandAndHeld("I"));
    }

    [Fact]
    public async Task The_sweep_releases_the_overdue_holds_of_ended_orders_and_reports_those_of_live_orders_once()
    {
        await Stock(("J", 10));
        var ended = Guid.NewGuid();
        var live = Guid.NewGuid();
        var orphan = Guid.NewGuid();
        await Saga(ended, "Expired");
        await Saga(live, "AwaitingPayment");
        foreach (var order in new[] { ended, live, orphan })
            await Ledger(l => l.HoldAsync(order, [Line("J", 2)], TimeSpan.FromMilliseconds(1)));
        await Task.Delay(20);

        var sweep = await Ledger(l => l.SweepOverdueAsync(100));

        Assert.Equal(new[] { ended, orphan }.Order(), sweep.Released.Order());
        Assert.Equal(live, Assert.Single(sweep.Live).OrderId);
        // The live order keeps its stock: its saga decides, withdrawing the QR code first.
        Assert.Equal((10, 2), await OnHandAndHeld("J"));

        var again = await Ledger(l => l.SweepOverdueAsync(100));
        Assert.Empty(again.Released);
        Assert.Empty(again.Live);

        // Once the order has ended, its overdue hold is swept like any other.
        await SetState(live, "Expired");
        Assert.Equal([live], (await Ledger(l => l.SweepOverdueAsync(100))).Released);
        Assert.Equal((10, 0), await OnHandAndHeld("J"));
    }

    [Fact]
    public async Task Two_hundred_concurrent_orders_for_fifty_units_hold_exactly_fifty()
    {
        await Stock(("HOT", 50), ("COLD", 1000));
        var orders = Enumerable.Range(0, 200).Select(_ => Guid.NewGuid()).ToList();

        // Lines in different orders per request: locking by sku must keep this free of deadlocks.
        var outcomes = await Task.WhenAll(orders.Select((order, i) => Task.Run(() => Ledger(l => l.HoldAsync(order,
            i % 2 == 0 ? [Line("HOT", 1), Line("COLD", 1)] : [Line("COLD", 1), Line("HOT", 1)], AnHour)))));

        Assert.Equal(50, outcomes.Count(o => o is HoldOutcome.Held));
        Assert.Equal((50, 50), await OnHandAndHeld("HOT"));
        Assert.Equal((1000, 50), await OnHandAndHeld("COLD"));

        var held = orders.Where((_, i) => outcomes[i] is HoldOutcome.Held).ToList();
        await Task.WhenAll(held.Select(order => Task.Run(() => Ledger(l => l.CommitAsync(order)))));
        Assert.Equal((0, 0), await OnHandAndHeld("HOT"));
        Assert.Equal((950, 0), await OnHandAndHeld("COLD"));
    }

    static StockLine Line(string sku, int quantity) => new() { Sku = sku, Quantity = quantity };

    async Task<T> Ledger<T>(Func<StockLedger, Task<T>> operation)
    {
        var options = new DbContextOptionsBuilder<FulfilmentDbContext>().UseNpgsql(DataSource).Options;
        await using var context = new FulfilmentDbContext(options);
        return await operation(new StockLedger(context));
    }

    async Task<DateTimeOffset> DatabaseNow()
    {
        await using var command = DataSource.CreateCommand("SELECT now()");
        return new DateTimeOffset((DateTime)(await command.ExecuteScalarAsync())!, TimeSpan.Zero);
    }

    async Task<DateTimeOffset> ExpiresAt(Guid order)
    {
        await using var command = DataSource.CreateCommand("SELECT max(expires_at) FROM inventory.stock_holds WHERE order_id = $1");
        command.Parameters.Add(new NpgsqlParameter { Value = order });
        return new DateTimeOffset((DateTime)(await command.ExecuteScalarAsync())!, TimeSpan.Zero);
    }

    async Task Saga(Guid order, string state)
    {
        await using var command = DataSource.CreateCommand("""
            INSERT INTO ordering.order_state (order_id, current_state, customer_id, currency, total, lines, created_at, updated_at)
            VALUES ($1, $2, 'c', 'USD', 1, '[]', now(), now())
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = order });
        command.Parameters.Add(new NpgsqlParameter { Value = state });
        await command.ExecuteNonQueryAsync();
    }

    async Task SetState(Guid order, string state)
    {
        await using var command = DataSource.CreateCommand("UPDATE ordering.order_state SET current_state = $2 WHERE order_id = $1");
        command.Parameters.Add(new NpgsqlParameter { Value = order });
        command.Parameters.Add(new NpgsqlParameter { Value = state });
        await command.ExecuteNonQueryAsync();
    }

    async Task Stock(params (string Sku, int OnHand)[] items)
    {
        foreach (var (sku, onHand) in items)
        {
            await using var command = DataSource.CreateCommand(
                "INSERT INTO inventory.items (sku, name, category, price, currency, on_hand, held, updated_at) VALUES ($1, $1, 'test', 1, 'USD', $2, 0, now())");
            command.Parameters.Add(new NpgsqlParameter { Value = sku });
            command.Parameters.Add(new NpgsqlParameter { Value = onHand });
            await command.ExecuteNonQueryAsync();
        }
    }

    async Task<(int OnHand, int Held)> OnHandAndHeld(string sku)
    {
        await using var command = DataSource.CreateCommand("SELECT on_hand, held FROM inventory.items WHERE sku = $1");
        command.Parameters.Add(new NpgsqlParameter { Value = sku });
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        return (reader.GetInt32(0), reader.GetInt32(1));
    }
}
