using Microsoft.EntityFrameworkCore;
using Npgsql;
using Sagas.Contracts.Ordering;
using Sagas.Data;
using Sagas.Data.Ordering;
using Sagas.IntegrationTests.Migrations;

namespace Sagas.IntegrationTests.Ordering;

/// <summary>
/// The saga row and its timeline as the EF saga repository will use them: an order is loaded without its history,
/// and only the entries added since are inserted, in the same SaveChanges as the order row.
/// </summary>
public sealed class OrderStateMappingTests() : WithMigratedDatabase("ordering")
{
    FulfilmentDbContext NewContext() =>
        new(new DbContextOptionsBuilder<FulfilmentDbContext>().UseNpgsql(Database.ConnectionString).Options);

    [Fact]
    public async Task An_order_round_trips_and_saving_it_again_inserts_only_the_new_timeline_entries()
    {
        var orderId = Guid.NewGuid();
        var created = new DateTimeOffset(2026, 11, 27, 9, 0, 0, TimeSpan.Zero);
        var windowToken = Guid.NewGuid();

        await using (var db = NewContext())
        {
            var order = new OrderState
            {
                CorrelationId = orderId,
                CurrentState = OrderStatuses.Submitted,
                CustomerId = "c-1",
                Currency = "USD",
                Total = 59.97m,
                Lines = [new OrderLine { Sku = "MOUSE-1", Quantity = 3, UnitPrice = 19.99m }],
                CreatedAt = created,
            };
            order.Record(created, "SubmitOrder", null, OrderStatuses.Submitted, "3 units in 1 line, 59.97 USD");
            db.Add(order);
            await db.SaveChangesAsync();
        }

        await using (var db = NewContext())
        {
            var order = await db.Set<OrderState>().SingleAsync(o => o.CorrelationId == orderId);
            Assert.Empty(order.Timeline);

            order.Record(created.AddSeconds(1), "StockHeld", order.CurrentState, OrderStatuses.AwaitingPayment, null);
            order.CurrentState = OrderStatuses.AwaitingPayment;
            order.PaymentStatus = PaymentStatus.Pending;
            order.PaymentWindowTokenId = windowToken;
            order.HoldUntil = created.AddMinutes(3);
            order.Record(created.AddSeconds(2), "PaymentRequested", order.CurrentState, order.CurrentState, "QR ready");
            await db.SaveChangesAsync();
        }

        await using (var db = NewContext())
        {
            var order = await db.Set<OrderState>().Include(o => o.Timeline).SingleAsync(o => o.CorrelationId == orderId);

            Assert.Equal(OrderStatuses.AwaitingPayment, order.CurrentState);
            Assert.Equal(PaymentStatus.Pending, order.PaymentStatus);
            Assert.Equal(windowToken, order.PaymentWindowTokenId);
            Assert.Equal(59.97m, order.Total);
            Assert.Equal([new OrderLine { Sku = "MOUSE-1", Quantity = 3, UnitPrice = 19.99m }], order.Lines);
            Assert.Equal(created.AddMinutes(3), order.HoldUntil);
            Assert.Equal(created.AddSeconds(2), order.UpdatedAt);
            Assert.Equal(["SubmitOrder", "StockHeld", "PaymentRequested"], order.Timeline.OrderBy(e => e.Id).Select(e => e.Event));
            Assert.All(order.Timeline, e => Assert.Equal(orderId, e.OrderId));
        }

        await using var connection = new NpgsqlConnection(Database.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT lines::text, payment_status FROM ordering.order_state WHERE order_id = $1", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = orderId });
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        Assert.Equal("""[{"sku": "MOUSE-1", "quantity": 3, "unitPrice": 19.99}]""", reader.GetString(0));
        Assert.Equal("Pending", reader.GetString(1));
    }
}
