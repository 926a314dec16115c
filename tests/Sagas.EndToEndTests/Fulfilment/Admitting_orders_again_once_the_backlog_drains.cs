using Npgsql;
using Sagas.EndToEndTests.Api;

namespace Sagas.EndToEndTests.Fulfilment;

/// <summary>
/// The Workers stop consuming: accepted orders wait for a QR code that does not come, so after Admission:MaxQrWait new
/// orders are refused with 503 + Retry-After and nothing of them is recorded or sent. Once the Workers are back and
/// the backlog drains, the refused request — same Idempotency-Key, same body — is accepted and its order proceeds,
/// and it is the only order there is for it.
/// </summary>
public sealed class Admitting_orders_again_once_the_backlog_drains(Admitting_orders_again_once_the_backlog_drains.Stack stack)
    : IClassFixture<Admitting_orders_again_once_the_backlog_drains.Stack>
{
    public sealed class Stack : StackFixture
    {
        protected override IDictionary<string, string> Configuration => new Dictionary<string, string>
        {
            ["Admission__Enabled"] = "true",
            ["Admission__MaxQrWait"] = "00:00:02",
        };
    }

    [Fact]
    public async Task A_refused_order_retried_with_its_key_after_the_drain_is_accepted_once_and_gets_its_qr_code()
    {
        await stack.StockItem("ADMIT-1", 1000, price: 5m);
        // The door is open while the Workers keep up.
        await stack.PlaceOrderAwaitingPayment(("ADMIT-1", 1));

        await stack.Workers.StopAsync();
        using var storefront = stack.Client(TestApiKeys.Storefront);
        var waitingKey = Guid.NewGuid().ToString();
        var waiting = await storefront.SendAsync(AdmissionSpecs.Post(waitingKey, "admit-waiting"));
        Assert.Equal(HttpStatusCode.Accepted, waiting.StatusCode);
        var waitingId = (await waiting.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("orderId").GetGuid();

        var (refused, key, customer) = await AdmissionSpecs.UntilRefusedAsync(storefront);
        var problem = await refused.AssertProblem(HttpStatusCode.ServiceUnavailable);
        Assert.EndsWith("/overloaded", problem.GetProperty("type").GetString());
        Assert.InRange(AdmissionSpecs.RetryAfterSeconds(refused), 1, 30);
        using var support = stack.Client(TestApiKeys.Support);
        Assert.Equal(0, (await support.GetFromJsonAsync<JsonElement>($"/orders?customerId={customer}")).GetProperty("items").GetArrayLength());
        // The order accepted before the door shut still answers as it did.
        var again = await storefront.SendAsync(AdmissionSpecs.Post(waitingKey, "admit-waiting"));
        Assert.Equal(HttpStatusCode.Accepted, again.StatusCode);
        Assert.Equal(waitingId, (await again.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("orderId").GetGuid());

        stack.Workers.Start();
        await stack.Workers.WaitUntilReadyAsync();
        var accepted = await Eventually.Until(async () => await storefront.SendAsync(AdmissionSpecs.Post(key, customer)),
            r => r.StatusCode == HttpStatusCode.Accepted, TimeSpan.FromSeconds(90), "the refused order accepted once the backlog drained");
        var orderId = (await accepted.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("orderId").GetGuid();

        await stack.OrderWhen(orderId, QrShown, "the once-refused order gets its QR code");
        await stack.OrderWhen(waitingId, QrShown, "the order that waited gets its QR code");
        // Nothing of the refusals was recorded or published: the customer has one order, not one per attempt (a
        // SubmitOrder sent for a refusal would have made a saga row of its own by now, the Workers taking them in order).
        var orders = await support.GetFromJsonAsync<JsonElement>($"/orders?customerId={customer}");
        Assert.Equal(new[] { orderId }, orders.GetProperty("items").EnumerateArray().Select(o => o.GetProperty("orderId").GetGuid()));
        Assert.Equal(1, await SagaRowsOf(customer));
        Assert.Contains("Admission control: overloaded", stack.Api.FullOutput);
        Assert.Contains("Admission control: admitting new orders again", stack.Api.FullOutput);
    }

    async Task<long> SagaRowsOf(string customer)
    {
        await using var database = NpgsqlDataSource.Create(stack.Database.ConnectionString);
        await using var command = database.CreateCommand("SELECT count(*) FROM ordering.order_state WHERE customer_id = $1");
        command.Parameters.Add(new NpgsqlParameter { Value = customer });
        return (long)(await command.ExecuteScalarAsync())!;
    }

    static bool QrShown(JsonElement order) =>
        order.GetProperty("payment").ValueKind == JsonValueKind.Object
        && order.GetProperty("payment").GetProperty("qrPayload").GetString() is { Length: > 0 };
}
