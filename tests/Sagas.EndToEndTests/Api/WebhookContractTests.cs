using System.Text;
using Npgsql;

namespace Sagas.EndToEndTests.Api;

/// <summary>The provider's side of the contract: signed webhooks, recorded once, never on a bad signature.</summary>
public sealed class WebhookContractTests(ApiFixture fixture) : IClassFixture<ApiFixture>
{
    static string Body(string eventId, string merchantReference, string type = "payment.succeeded", decimal amount = 25m) =>
        JsonSerializer.Serialize(new
        {
            eventId, type, providerReference = "pay_" + eventId, merchantReference, amount, currency = "USD",
            occurredAt = DateTimeOffset.UtcNow,
        });

    static string Sign(string body, long timestamp, string secret = ApiFixture.WebhookSecret) =>
        ProviderSignature.Header(secret, timestamp, body);

    async Task<HttpResponseMessage> Send(string body, string? signature)
    {
        using var client = fixture.Client();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/webhooks/payments") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        if (signature is not null)
            request.Headers.Add("X-Signature", signature);
        return await client.SendAsync(request);
    }

    async Task<long> Recorded(string eventId)
    {
        await using var db = NpgsqlDataSource.Create(fixture.Database.ConnectionString);
        await using var command = db.CreateCommand("SELECT count(*) FROM payments.webhook_events WHERE event_id = $1");
        command.Parameters.Add(new NpgsqlParameter { Value = eventId });
        return (long)(await command.ExecuteScalarAsync())!;
    }

    async Task<Guid> AnOrder()
    {
        using var admin = fixture.Client(ApiFixture.AdminKey);
        (await admin.PutAsJsonAsync("/items/HOOK-1", new { name = "Hook", category = "t", price = 25m, currency = "USD", onHand = 100 })).EnsureSuccessStatusCode();
        using var storefront = fixture.Client(ApiFixture.StorefrontKey);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/orders")
        {
            Content = JsonContent.Create(new { customerId = "c", currency = "USD", lines = new[] { new { sku = "HOOK-1", quantity = 1 } } }),
        };
        request.Headers.Add("Idempotency-Key", Guid.NewGuid().ToString());
        var accepted = await (await storefront.SendAsync(request)).Content.ReadFromJsonAsync<JsonElement>();
        return accepted.GetProperty("orderId").GetGuid();
    }

    [Fact]
    public async Task A_valid_webhook_is_received_once_and_a_replayed_event_id_changes_nothing()
    {
        var eventId = "evt-" + Guid.NewGuid().ToString("N");
        var body = Body(eventId, (await AnOrder()).ToString());

        var first = await Send(body, Sign(body, DateTimeOffset.UtcNow.ToUnixTimeSeconds()));
        var replay = await Send(body, Sign(body, DateTimeOffset.UtcNow.ToUnixTimeSeconds()));

        foreach (var response in new[] { first, replay })
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.True((await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("received").GetBoolean());
        }

        Assert.Equal(1, await Recorded(eventId));
    }

    [Fact]
    public async Task A_bad_signature_is_401_and_records_nothing()
    {
        var eventId = "evt-" + Guid.NewGuid().ToString("N");
        var body = Body(eventId, Guid.NewGuid().ToString());
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();

        await (await Send(body, null)).AssertProblem(HttpStatusCode.Unauthorized);
        await (await Send(body, Sign(body, now, "wrong-secret"))).AssertProblem(HttpStatusCode.Unauthorized);
        await (await Send(body, Sign(body.Replace("25", "26"), now))).AssertProblem(HttpStatusCode.Unauthorized);
        await (await Send(body, "t=1,v1=nothex")).AssertProblem(HttpStatusCode.Unauthorized);

        Assert.Equal(0, await Recorded(eventId));
    }

    [Fact]
    public async Task A_stale_timestamp_is_401_and_records_nothing()
    {
        var eventId = "evt-" + Guid.NewGuid().ToString("N");
        var body = Body(eventId, Guid.NewGuid().ToString());

        await (await Send(body, Sign(body, DateTimeOffset.UtcNow.AddSeconds(-301).ToUnixTimeSeconds()))).AssertProblem(HttpStatusCode.Unauthorized);
        await (await Send(body, Sign(body, DateTimeOffset.UtcNow.AddSeconds(400).ToUnixTimeSeconds()))).AssertProblem(HttpStatusCode.Unauthorized);

        Assert.Equal(0, await Recorded(eventId));
    }

    [Fact]
    public async Task An_unknown_merchant_reference_is_acknowledged_and_recorded_for_support()
    {
        var eventId = "evt-" + Guid.NewGuid().ToString("N");
        var body = Body(eventId, "not-an-order-of-ours");

        var response = await Send(body, Sign(body, DateTimeOffset.UtcNow.ToUnixTimeSeconds()));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(1, await Recorded(eventId));
    }

    [Theory]
    [InlineData("{not json")]
    [InlineData("""{"eventId":"e","type":"payment.exploded","providerReference":"p","merchantReference":"m","amount":1,"currency":"USD","occurredAt":"2026-11-27T00:00:00Z"}""")]
    [InlineData("""{"eventId":"e","type":"payment.succeeded","providerReference":"p","merchantReference":"m","amount":"1","currency":"USD","occurredAt":"2026-11-27T00:00:00Z"}""")]
    [InlineData("""{"type":"payment.succeeded","providerReference":"p","merchantReference":"m","amount":1,"currency":"USD","occurredAt":"2026-11-27T00:00:00Z"}""")]
    public async Task A_correctly_signed_but_malformed_webhook_is_400(string body)
    {
        await (await Send(body, Sign(body, DateTimeOffset.UtcNow.ToUnixTimeSeconds()))).AssertProblem(HttpStatusCode.BadRequest);
    }
}
