using Sagas.EndToEndTests.Api;

namespace Sagas.EndToEndTests.Support;

/// <summary>
/// A parked outbox is a failed message like any other (issue 15): RabbitMQ keeps refusing the exchange a support
/// cancel is published to (redeclared by hand with another type), the Api's outbox is parked after its attempts and
/// listed under failed messages with its order; once the exchange is put right, a retry (clicked twice) delivers the
/// cancel once, and a discard deletes the outbox with its reason recorded.
/// </summary>
public sealed class Parked_outboxes(Parked_outboxes.Stack stack) : IClassFixture<Parked_outboxes.Stack>
{
    public sealed class Stack : StackFixture
    {
        // Parked after two refusals, a quarter of a second apart (the defaults: ten, over about four minutes).
        protected override IDictionary<string, string> Configuration => new Dictionary<string, string>
        {
            ["Messaging__BusOutbox__MaxAttempts"] = "2",
            ["Messaging__BusOutbox__RetryDelay"] = "00:00:00.250",
            ["Messaging__BusOutbox__MaxRetryDelay"] = "00:00:01",
        };
    }

    const string CancelExchange = "Sagas.Contracts.Ordering:CancelOrder";

    [Fact]
    public async Task A_cancel_refused_by_rabbitmq_is_listed_then_retried_once_or_discarded_with_its_reason()
    {
        await stack.StockItem("PARKED-1", 5);
        var (retried, _) = await stack.PlaceOrderAwaitingPayment(("PARKED-1", 1));
        var (discarded, _) = await stack.PlaceOrderAwaitingPayment(("PARKED-1", 1));
        Assert.Equal((5, 2), await stack.Stock("PARKED-1"));

        var bindings = await stack.VirtualHost.BindingsFromAsync(CancelExchange);
        Assert.NotEmpty(bindings);
        await stack.VirtualHost.DeleteExchangeAsync(CancelExchange);
        await stack.VirtualHost.DeclareExchangeAsync(CancelExchange, "topic");
        JsonElement first, second;
        try
        {
            Assert.Equal(HttpStatusCode.Accepted, (await stack.Cancel(retried, TestApiKeys.Support)).StatusCode);
            Assert.Equal(HttpStatusCode.Accepted, (await stack.Cancel(discarded, TestApiKeys.Support)).StatusCode);
            first = await Eventually.Until(() => FailedOf(retried), f => f.ValueKind == JsonValueKind.Object, TimeSpan.FromSeconds(45),
                "the first cancel's parked outbox listed");
            second = await Eventually.Until(() => FailedOf(discarded), f => f.ValueKind == JsonValueKind.Object, TimeSpan.FromSeconds(45),
                "the second cancel's parked outbox listed");
        }
        finally
        {
            // The operator's fix: the exchange as MassTransit declares it, with its bindings.
            await stack.VirtualHost.DeleteExchangeAsync(CancelExchange);
            await stack.VirtualHost.DeclareExchangeAsync(CancelExchange, "fanout");
            foreach (var binding in bindings)
                await stack.VirtualHost.BindAsync(CancelExchange, binding);
        }

        Assert.Equal("OutboxParked", first.GetProperty("exceptionType").GetString());
        Assert.Contains("PRECONDITION_FAILED", first.GetProperty("reason").GetString());
        Assert.EndsWith(":CancelOrder", first.GetProperty("messageType").GetString());
        Assert.Equal(CancelExchange, first.GetProperty("queue").GetString());
        var outboxId = first.GetProperty("outboxId").GetGuid();
        Assert.Equal(1, await Scalar<long>($"SELECT count(*) FROM messaging.outbox_parked WHERE outbox_id = '{outboxId}'"));
        // Parked, nothing was delivered: both orders still wait for their payment.
        Assert.Equal("AwaitingPayment", (await stack.Order(retried)).GetProperty("status").GetString());
        Assert.Equal("AwaitingPayment", (await stack.Order(discarded)).GetProperty("status").GetString());

        // Retry, clicked twice at once: both 202, the outbox released once and the order canceled.
        using var support = stack.Client(TestApiKeys.Support);
        var id = first.GetProperty("id").GetString();
        var answers = await Task.WhenAll(support.PostAsync($"/support/failed-messages/{id}/retry", null),
            support.PostAsync($"/support/failed-messages/{id}/retry", null));
        Assert.All(answers, a => Assert.Equal(HttpStatusCode.Accepted, a.StatusCode));
        await stack.OrderIn(retried, "Canceled");
        await Eventually.Until(() => Scalar<long>($"SELECT count(*) FROM messaging.outbox_state WHERE outbox_id = '{outboxId}'"), n => n == 0,
            because: "the released outbox delivered and deleted");
        Assert.Equal(1, await Scalar<long>($"SELECT count(*) FROM messaging.failed_message_action WHERE failed_message_id = {id} AND action = 'retried'"));
        var released = Assert.Single((await stack.Timeline(retried)).EnumerateArray(), e => e.GetProperty("event").GetString() == "FailedMessageRetried");
        Assert.Contains("released for delivery to", released.GetProperty("detail").GetString());

        // Discard: a reason is required; with one, the outbox and its cancel are gone for good and the order untouched.
        var other = second.GetProperty("id").GetString();
        var otherOutbox = second.GetProperty("outboxId").GetGuid();
        await (await support.PostAsJsonAsync($"/support/failed-messages/{other}/discard", new { })).AssertProblem(HttpStatusCode.BadRequest);
        Assert.Equal(1, await Scalar<long>($"SELECT count(*) FROM messaging.outbox_state WHERE outbox_id = '{otherOutbox}'"));
        var discard = await support.PostAsJsonAsync($"/support/failed-messages/{other}/discard", new { reason = "the customer paid meanwhile; keep the order" });
        Assert.Equal(HttpStatusCode.OK, discard.StatusCode);
        Assert.Equal(0, await Scalar<long>($"SELECT count(*) FROM messaging.outbox_state WHERE outbox_id = '{otherOutbox}'"));
        await (await support.PostAsync($"/support/failed-messages/{other}/retry", null)).AssertProblem(HttpStatusCode.Conflict);
        Assert.Equal("AwaitingPayment", (await stack.Order(discarded)).GetProperty("status").GetString());
        Assert.Equal((5, 1), await stack.Stock("PARKED-1"));
        var entry = Assert.Single((await stack.Timeline(discarded)).EnumerateArray(), e => e.GetProperty("event").GetString() == "FailedMessageDiscarded");
        Assert.Contains("the customer paid meanwhile", entry.GetProperty("detail").GetString());

        // Nothing waits for support any more.
        Assert.Equal(0, await Scalar<long>("SELECT count(*) FROM messaging.failed_message WHERE state = 'failed'"));
        using var stats = await support.GetFromJsonAsync<JsonDocument>("/orders/stats");
        Assert.Equal(0, stats!.RootElement.GetProperty("failedMessages").GetInt64());
    }

    Task<JsonElement> FailedOf(Guid orderId) => stack.FailedMessageOf(orderId);

    Task<T> Scalar<T>(string sql) => stack.Scalar<T>(sql);
}
