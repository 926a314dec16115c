using Npgsql;

namespace Sagas.EndToEndTests.Fulfilment;

/// <summary>
/// A new virtual host where the Workers have never run: RabbitMQ confirms a publish no queue is bound to and drops
/// it, so the Api itself must have declared the saga's queue before it reported ready.
/// </summary>
public sealed class Orders_accepted_before_any_workers_ran(Orders_accepted_before_any_workers_ran.Stack stack)
    : IClassFixture<Orders_accepted_before_any_workers_ran.Stack>
{
    public sealed class Stack : StackFixture
    {
        protected override bool WorkersAtStart => false;
    }

    [Fact]
    public async Task Proceed_once_the_workers_start()
    {
        await stack.StockItem("EARLY-1", 5);
        var orderId = await stack.PlaceOrder(("EARLY-1", 2));

        // The Api's outbox has sent (and RabbitMQ confirmed) the SubmitOrder before any consumer existed.
        await Eventually.Until(() => OutboxMessages(stack.Database), count => count == 0, TimeSpan.FromSeconds(30),
            "the Api's outbox sent the order's SubmitOrder");
        Assert.Equal("Submitted", (await stack.Order(orderId)).GetProperty("status").GetString());

        await stack.StartWorkers();

        var awaiting = await stack.OrderWhen(orderId, o => o.GetProperty("payment").ValueKind == JsonValueKind.Object
                                                           && o.GetProperty("payment").GetProperty("qrPayload").GetString() is { Length: > 0 },
            "the saga started and requested the payment");
        Assert.Equal("AwaitingPayment", awaiting.GetProperty("status").GetString());
        Assert.Equal((5, 2), await stack.Stock("EARLY-1"));
    }

    static async Task<long> OutboxMessages(TemporaryDatabase database)
    {
        await using var connection = new NpgsqlConnection(database.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT count(*) FROM messaging.outbox_message", connection);
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
