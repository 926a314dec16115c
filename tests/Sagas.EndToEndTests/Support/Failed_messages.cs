using Sagas.EndToEndTests.Api;

namespace Sagas.EndToEndTests.Support;

/// <summary>
/// Messages that exhausted their retries, end to end (issue 15): the Workers drain the error queues into PostgreSQL,
/// support lists, retries (once, however often asked) and discards them over the Api.
/// </summary>
public sealed class Failed_messages(StackFixture stack) : IClassFixture<StackFixture>
{
    [Fact]
    public async Task A_refused_refund_is_listed_and_one_retry_of_two_concurrent_ones_refunds_once()
    {
        await stack.StockItem("FAILED-1", 5, price: 20m);
        var orderId = await stack.PlacedOrder(("FAILED-1", 1));

        var failed = await stack.WhileRefundsAreRefused(async () =>
        {
            Assert.Equal(HttpStatusCode.Accepted, (await stack.Cancel(orderId, TestApiKeys.Support)).StatusCode);
            var listed = await Eventually.Until(() => FailedOf(orderId), f => f.ValueKind == JsonValueKind.Object, TimeSpan.FromSeconds(45),
                "the refused refund listed under failed messages");
            await Eventually.Until(async () => (await stack.Attention()).GetProperty("items").EnumerateArray()
                .Any(o => o.GetProperty("orderId").GetGuid() == orderId), because: "the order listed under attention");
            return listed;
        });

        Assert.Equal("refund-payment", failed.GetProperty("queue").GetString());
        Assert.EndsWith(":RefundPayment", failed.GetProperty("messageType").GetString());
        Assert.EndsWith("PaymentProviderRejectedException", failed.GetProperty("exceptionType").GetString());
        Assert.Equal(1, failed.GetProperty("attempts").GetInt32());
        var id = failed.GetProperty("id").GetString()!;
        using var reader = Support();
        var groups = await reader.GetFromJsonAsync<JsonElement>("/support/failed-messages/groups");
        var group = Assert.Single(groups.EnumerateArray(), g => g.GetProperty("messageType").GetString() == failed.GetProperty("messageType").GetString());
        Assert.Contains(failed, await List($"group={group.GetProperty("group").GetString()}"), SameId);

        // Clicked twice at once: both answered 202, one send.
        using var support = Support();
        var answers = await Task.WhenAll(support.PostAsync($"/support/failed-messages/{id}/retry", null),
            support.PostAsync($"/support/failed-messages/{id}/retry", null));
        Assert.All(answers, a => Assert.Equal(HttpStatusCode.Accepted, a.StatusCode));

        await stack.OrderIn(orderId, "Canceled");
        await Eventually.Until(async () => (await stack.Money(orderId)).Refunds == 1, because: "refunded");
        Assert.Equal(HttpStatusCode.Accepted, (await support.PostAsync($"/support/failed-messages/{id}/retry", null)).StatusCode);
        var money = await stack.Money(orderId);
        Assert.Equal((1, 20m, 1, 20m), (money.Captured, money.CapturedAmount, money.Refunds, money.Refunded));
        Assert.Equal(JsonValueKind.Undefined, (await FailedOf(orderId)).ValueKind);

        // Recorded once, with the support key's client name, in the table and in the order's timeline.
        Assert.Equal(1, await Scalar<long>($"SELECT count(*) FROM messaging.failed_message_action WHERE failed_message_id = {id} AND action = 'retried'"));
        var client = await Scalar<string>($"SELECT client FROM messaging.failed_message_action WHERE failed_message_id = {id}");
        Assert.NotEqual("anonymous", client);
        var timeline = (await stack.Timeline(orderId)).EnumerateArray().ToList();
        var retried = Assert.Single(timeline, e => e.GetProperty("event").GetString() == "FailedMessageRetried");
        Assert.Contains($"sent back to refund-payment by {client}", retried.GetProperty("detail").GetString());
        Assert.Contains(timeline, e => e.GetProperty("to").GetString() == "Canceled");
    }

    [Fact]
    public async Task A_poison_message_is_listed_refused_to_bad_requests_and_discarded_never_to_be_retried()
    {
        var body = "not a message " + Guid.NewGuid();
        await stack.VirtualHost.PublishRawAsync("release-stock", body);
        var poison = await Eventually.Until(async () => (await List("limit=200")).SingleOrDefault(f => f.GetProperty("queue").GetString() == "release-stock"
                                                                                                      && f.GetProperty("messageType").GetString() == "unknown"),
            f => f.ValueKind == JsonValueKind.Object, TimeSpan.FromSeconds(45), "the poison message listed");
        var id = poison.GetProperty("id").GetString()!;
        Assert.Equal(JsonValueKind.Null, poison.GetProperty("orderId").ValueKind);

        using var storefront = stack.Client(TestApiKeys.Storefront);
        using var support = Support();
        await (await storefront.GetAsync("/support/failed-messages")).AssertProblem(HttpStatusCode.Forbidden);
        await (await storefront.GetAsync("/support/failed-messages/groups")).AssertProblem(HttpStatusCode.Forbidden);
        await (await storefront.PostAsync($"/support/failed-messages/{id}/retry", null)).AssertProblem(HttpStatusCode.Forbidden);
        await (await storefront.PostAsJsonAsync($"/support/failed-messages/{id}/discard", new { reason = "x" })).AssertProblem(HttpStatusCode.Forbidden);
        await (await support.PostAsJsonAsync($"/support/failed-messages/{id}/discard", new { })).AssertProblem(HttpStatusCode.BadRequest);
        await (await support.PostAsJsonAsync($"/support/failed-messages/{id}/discard", new { reason = "   " })).AssertProblem(HttpStatusCode.BadRequest);
        await (await support.PostAsync("/support/failed-messages/999999999/retry", null)).AssertProblem(HttpStatusCode.NotFound);
        await (await support.PostAsJsonAsync("/support/failed-messages/999999999/discard", new { reason = "x" })).AssertProblem(HttpStatusCode.NotFound);
        await (await support.GetAsync("/support/failed-messages?cursor=nope")).AssertProblem(HttpStatusCode.BadRequest);
        Assert.Equal("failed", await Scalar<string>($"SELECT state FROM messaging.failed_message WHERE id = {id}"));
        Assert.Equal(0, await Scalar<long>($"SELECT count(*) FROM messaging.failed_message_action WHERE failed_message_id = {id}"));

        var discarded = await support.PostAsJsonAsync($"/support/failed-messages/{id}/discard", new { reason = "garbage published by hand" });
        Assert.Equal(HttpStatusCode.OK, discarded.StatusCode);
        Assert.Equal("discarded", (await discarded.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("state").GetString());
        await (await support.PostAsync($"/support/failed-messages/{id}/retry", null)).AssertProblem(HttpStatusCode.Conflict);

        Assert.DoesNotContain(await List("limit=200"), f => f.GetProperty("id").GetString() == id);
        Assert.Equal("garbage published by hand", await Scalar<string>($"SELECT reason FROM messaging.failed_message_action WHERE failed_message_id = {id} AND action = 'discarded'"));
        Assert.Equal(0, await Scalar<long>($"SELECT count(*) FROM messaging.failed_message_action WHERE failed_message_id = {id} AND action = 'retried'"));
        Assert.Equal("discarded", await Scalar<string>($"SELECT state FROM messaging.failed_message WHERE id = {id}"));
        Assert.Equal(0, await Scalar<long>("SELECT count(*) FROM messaging.outbox_message WHERE destination_address LIKE '%release-stock%'"));
    }

    HttpClient Support() => stack.Client(TestApiKeys.Support);

    Task<List<JsonElement>> List(string query) => stack.FailedMessages(query);

    Task<JsonElement> FailedOf(Guid orderId) => stack.FailedMessageOf(orderId);

    static readonly IEqualityComparer<JsonElement> SameId = EqualityComparer<JsonElement>.Create(
        (a, b) => a.GetProperty("id").GetString() == b.GetProperty("id").GetString(), e => e.GetProperty("id").GetString()!.GetHashCode());

    Task<T> Scalar<T>(string sql) => stack.Scalar<T>(sql);
}
