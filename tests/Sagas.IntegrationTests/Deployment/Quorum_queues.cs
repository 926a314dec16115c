using System.Text.Json;
using Npgsql;
using Sagas.IntegrationTests.Messaging;

namespace Sagas.IntegrationTests.Deployment;

/// <summary>
/// The Api and the Workers as processes with <c>RabbitMq:QuorumQueues</c> on (the default): the saga queue the Api
/// declares before any Workers ran, and every queue the Workers declare, are quorum queues with the same arguments, and
/// an order waiting in the saga queue survives a restart of the broker. Runs alone: it stops RabbitMQ.
/// </summary>
[Collection(BrokerOutageCollection.Name)]
public sealed class Quorum_queues(Quorum_queues.Stack stack) : IClassFixture<Quorum_queues.Stack>
{
    public sealed class Stack : StackFixture
    {
        protected override bool WorkersAtStart => false;

        protected override IDictionary<string, string> Configuration => new Dictionary<string, string> { ["RabbitMq__QuorumQueues"] = "true" };
    }

    [Fact]
    public async Task The_saga_queue_declared_early_by_the_api_and_the_workers_queues_are_quorum_queues_that_survive_a_broker_restart()
    {
        // Only the Api has run on this virtual host: the saga queue is its declaration.
        var declaredByApi = await Queue("order-state");
        AssertQuorum(declaredByApi, "order-state");

        // An order waits in it, its SubmitOrder confirmed by the broker and gone from the Api's outbox.
        await stack.StockItem("QUORUM-1", 5);
        var orderId = await stack.PlaceOrder(("QUORUM-1", 2));
        await Eventually.Until(() => Scalar("SELECT count(*) FROM messaging.outbox_message"), n => n == 0,
            because: "the Api's outbox sent the SubmitOrder");
        await Eventually.Until(() => MessagesIn("order-state"), n => n == 1, because: "the SubmitOrder waits in the saga queue");

        await RabbitMqNode.StopApp();
        try
        {
            Assert.Null(await TryQueue("order-state"));
        }
        finally
        {
            await RabbitMqNode.StartApp();
        }

        AssertQuorum(await Eventually.Until(() => TryQueue("order-state"), q => q is not null, TimeSpan.FromSeconds(60),
            because: "the broker is back"), "order-state");
        await Eventually.Until(() => MessagesIn("order-state"), n => n == 1, TimeSpan.FromSeconds(60),
            because: "the SubmitOrder is still in the saga queue after the restart");

        // The Workers declare the saga queue again on start: RabbitMQ would refuse a declaration with other arguments
        // (PRECONDITION_FAILED) and the Workers would never become ready.
        await stack.StartWorkers();
        Assert.DoesNotContain("PRECONDITION_FAILED", stack.Workers.FullOutput);
        var awaiting = await stack.OrderWhen(orderId, o => o.GetProperty("payment").ValueKind == JsonValueKind.Object
                                                          && o.GetProperty("payment").GetProperty("qrPayload").GetString() is { Length: > 0 },
            "the order kept through the restart reached the saga");
        Assert.Equal("AwaitingPayment", awaiting.GetProperty("status").GetString());

        // Its payment window was scheduled, in the saga's own transaction: an outbox due when the window ends. Every
        // other outbox went out (a queue refusing them would leave them waiting, or parked).
        await Eventually.Until(() => Scalar("SELECT count(*) FROM messaging.outbox_state WHERE next_attempt_at > now()"), n => n >= 1,
            because: "the payment window's timer is stored");
        await Eventually.Until(() => Scalar("SELECT count(*) FROM messaging.outbox_message WHERE enqueued_at <= now()"), n => n == 0,
            because: "every outbox due delivered");
        Assert.Equal(0, await Scalar("SELECT count(*) FROM messaging.outbox_parked"));

        // The saga's, an activity consumer's and the scheduler's queue: quorum, with the arguments the Api declared.
        foreach (var name in new[] { "order-state", "hold-stock", "request-payment", "scheduler" })
        {
            var queue = await Queue(name);
            AssertQuorum(queue, name);
            Assert.Equal(Arguments(declaredByApi), Arguments(queue));
        }
    }

    async Task<JsonElement> Queue(string name) =>
        await stack.VirtualHost.QueueAsync(name) ?? throw new Xunit.Sdk.XunitException($"no queue {name} on {stack.VirtualHost.Name}");

    async Task<long> MessagesIn(string name) =>
        await TryQueue(name) is { } queue && queue.TryGetProperty("messages", out var messages) ? messages.GetInt64() : -1;

    // Null also while the broker (and its management API) is stopped or still starting.
    async Task<JsonElement?> TryQueue(string name)
    {
        try
        {
            return await stack.VirtualHost.QueueAsync(name);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return null;
        }
    }

    async Task<long> Scalar(string sql)
    {
        await using var connection = new NpgsqlConnection(stack.Database.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    static void AssertQuorum(JsonElement? queue, string name)
    {
        Assert.True(queue is not null, $"queue {name} exists");
        Assert.True(queue.Value.GetProperty("type").GetString() == "quorum", $"{name}: {queue}");
        Assert.True(queue.Value.GetProperty("durable").GetBoolean(), $"{name}: {queue}");
        Assert.False(queue.Value.GetProperty("auto_delete").GetBoolean(), $"{name}: {queue}");
    }

    static string Arguments(JsonElement queue) => queue.GetProperty("arguments").GetRawText();
}
