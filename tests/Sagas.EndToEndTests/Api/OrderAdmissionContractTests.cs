using System.Diagnostics;
using System.Text;
using Npgsql;

namespace Sagas.EndToEndTests.Api;

/// <summary>
/// POST /orders under admission control, against the Api alone: with no Workers, an accepted order never gets its QR
/// code, so once it has waited longer than Admission:MaxQrWait (1 s here) a new order is refused — 503 problem+json
/// with Retry-After, nothing recorded — while every other answer stays what it was.
/// </summary>
public sealed class OrderAdmissionContractTests(OrderAdmissionContractTests.Fixture fixture)
    : IClassFixture<OrderAdmissionContractTests.Fixture>, IAsyncLifetime
{
    public sealed class Fixture : ApiFixture
    {
        protected override IDictionary<string, string> Settings => new Dictionary<string, string>
        {
            ["Admission__Enabled"] = "true",
            ["Admission__MaxQrWait"] = "00:00:01",
        };

        /// <summary>Accepted before the first test ran (the door was open then): its wait for a QR code shuts it.</summary>
        public (string Key, string Customer, Guid OrderId)? Accepted { get; set; }
    }

    public async Task InitializeAsync()
    {
        if (fixture.Accepted is not null)
            return;
        using var admin = fixture.Client(ApiFixture.AdminKey);
        (await admin.PutAsJsonAsync("/items/ADMIT-1", new { name = "admit", category = "test", price = 5m, currency = "USD", onHand = 1000 }))
            .EnsureSuccessStatusCode();
        using var storefront = fixture.Client(ApiFixture.StorefrontKey);
        var (key, customer) = (Guid.NewGuid().ToString(), $"first-{Guid.NewGuid():N}");
        var response = await storefront.SendAsync(AdmissionSpecs.Post(key, customer));
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        fixture.Accepted = (key, customer, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("orderId").GetGuid());
    }

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task A_new_order_is_503_overloaded_with_retry_after_and_nothing_is_recorded()
    {
        using var storefront = fixture.Client(ApiFixture.StorefrontKey);
        var (refused, key, customer) = await AdmissionSpecs.UntilRefusedAsync(storefront);

        var problem = await refused.AssertProblem(HttpStatusCode.ServiceUnavailable);
        Assert.EndsWith("/overloaded", problem.GetProperty("type").GetString());
        Assert.InRange(AdmissionSpecs.RetryAfterSeconds(refused), 1, 30);
        Assert.Equal(0, await KeysRecorded(key));
        using var support = fixture.Client(ApiFixture.SupportKey);
        var orders = await support.GetFromJsonAsync<JsonElement>($"/orders?customerId={customer}");
        Assert.Equal(0, orders.GetProperty("items").GetArrayLength());
        Assert.Contains("Admission control: overloaded", fixture.Api.FullOutput);
    }

    [Fact]
    public async Task While_overloaded_an_accepted_key_answers_its_order_again_and_a_different_body_is_still_409()
    {
        using var storefront = fixture.Client(ApiFixture.StorefrontKey);
        await AdmissionSpecs.UntilRefusedAsync(storefront);
        var (acceptedKey, acceptedCustomer, orderId) = fixture.Accepted!.Value;

        var again = await storefront.SendAsync(AdmissionSpecs.Post(acceptedKey, acceptedCustomer));
        Assert.Equal(HttpStatusCode.Accepted, again.StatusCode);
        Assert.Equal(orderId, (await again.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("orderId").GetGuid());
        await (await storefront.SendAsync(AdmissionSpecs.Post(acceptedKey, "someone-else"))).AssertProblem(HttpStatusCode.Conflict);
        // Still refusing new orders meanwhile: the replay was answered while the door was shut.
        await (await storefront.SendAsync(AdmissionSpecs.Post(Guid.NewGuid().ToString(), "c-new"))).AssertProblem(HttpStatusCode.ServiceUnavailable);
    }

    [Fact]
    public async Task While_overloaded_invalid_orders_still_get_their_4xx()
    {
        using var storefront = fixture.Client(ApiFixture.StorefrontKey);
        await AdmissionSpecs.UntilRefusedAsync(storefront);

        using var noKey = new HttpRequestMessage(HttpMethod.Post, "/orders")
        {
            Content = new StringContent("""{"customerId":"c","currency":"USD","lines":[{"sku":"ADMIT-1","quantity":1}]}""", Encoding.UTF8, "application/json"),
        };
        await (await storefront.SendAsync(noKey)).AssertProblem(HttpStatusCode.BadRequest);
        await (await storefront.SendAsync(AdmissionSpecs.Post(Guid.NewGuid().ToString(), "c", quantity: 0))).AssertProblem(HttpStatusCode.BadRequest);
        await (await storefront.SendAsync(AdmissionSpecs.Post(Guid.NewGuid().ToString(), "c", sku: "GHOST-1"))).AssertProblem(HttpStatusCode.UnprocessableEntity);
    }

    async Task<long> KeysRecorded(string key)
    {
        await using var database = NpgsqlDataSource.Create(fixture.Database.ConnectionString);
        await using var command = database.CreateCommand("SELECT count(*) FROM api.idempotency_keys WHERE idempotency_key = $1");
        command.Parameters.Add(new NpgsqlParameter { Value = key });
        return (long)(await command.ExecuteScalarAsync())!;
    }
}

/// <summary>
/// Admission:MaxBacklog is a hard cap, whatever the estimated wait: with a cap of 2 and a wait limit of an hour, the
/// third order waiting for its QR code is refused.
/// </summary>
public sealed class OrderAdmissionBacklogCapTests(OrderAdmissionBacklogCapTests.Fixture fixture)
    : IClassFixture<OrderAdmissionBacklogCapTests.Fixture>
{
    public sealed class Fixture : ApiFixture
    {
        protected override IDictionary<string, string> Settings => new Dictionary<string, string>
        {
            ["Admission__Enabled"] = "true",
            ["Admission__MaxQrWait"] = "01:00:00",
            ["Admission__MaxBacklog"] = "2",
        };
    }

    [Fact]
    public async Task Orders_beyond_the_backlog_cap_are_refused()
    {
        using var admin = fixture.Client(ApiFixture.AdminKey);
        (await admin.PutAsJsonAsync("/items/ADMIT-1", new { name = "admit", category = "test", price = 5m, currency = "USD", onHand = 1000 }))
            .EnsureSuccessStatusCode();
        using var storefront = fixture.Client(ApiFixture.StorefrontKey);
        // Two orders fill the cap. The count errs on the safe side: an order committed while a backlog reading is under
        // way is counted both in that reading and in what this instance admitted since, so the door may shut one order
        // early until the next reading (every 250 ms) — refused then, the order is simply tried again.
        var accepted = 0;
        var patience = Stopwatch.StartNew();
        while (accepted < 2 && patience.Elapsed < TimeSpan.FromSeconds(20))
        {
            var response = await storefront.SendAsync(AdmissionSpecs.Post(Guid.NewGuid().ToString(), $"cap-{accepted + 1}"));
            if (response.StatusCode == HttpStatusCode.Accepted)
                accepted++;
            else
                await Task.Delay(TimeSpan.FromMilliseconds(300));
        }

        Assert.Equal(2, accepted);

        // At the cap: refused at once (this instance counts what it accepted since the last reading) ...
        var third = await storefront.SendAsync(AdmissionSpecs.Post(Guid.NewGuid().ToString(), "cap-3"));
        var problem = await third.AssertProblem(HttpStatusCode.ServiceUnavailable);
        Assert.EndsWith("/overloaded", problem.GetProperty("type").GetString());
        // ... and still once the reading has caught up (the two accepted orders are in the database's backlog).
        await Task.Delay(TimeSpan.FromSeconds(1));
        await (await storefront.SendAsync(AdmissionSpecs.Post(Guid.NewGuid().ToString(), "cap-4"))).AssertProblem(HttpStatusCode.ServiceUnavailable);
        Assert.Contains("Admission control: overloaded, POST /orders answers 503 (backlog)", fixture.Api.FullOutput);
    }
}

/// <summary>Requests and waits shared by the admission specs.</summary>
public static class AdmissionSpecs
{
    public static HttpRequestMessage Post(string key, string customer, string sku = "ADMIT-1", int quantity = 1)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/orders")
        {
            Content = JsonContent.Create(new { customerId = customer, currency = "USD", lines = new[] { new { sku, quantity } } }),
        };
        request.Headers.Add("Idempotency-Key", key);
        return request;
    }

    public static int RetryAfterSeconds(HttpResponseMessage response) =>
        response.Headers.RetryAfter?.Delta is { } delta ? (int)delta.TotalSeconds
            : throw new Xunit.Sdk.XunitException($"no Retry-After in seconds: {response.Headers}");

    /// <summary>
    /// New orders, each with a key and customer of its own, until one is refused: the accepted ones wait for a QR code
    /// that (no Workers, or the Workers stopped) does not come. Returns the refusal with its key and customer.
    /// </summary>
    public static async Task<(HttpResponseMessage Refused, string Key, string Customer)> UntilRefusedAsync(HttpClient storefront,
        TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
        while (true)
        {
            var key = Guid.NewGuid().ToString();
            var customer = $"admit-{Guid.NewGuid():N}";
            var response = await storefront.SendAsync(Post(key, customer));
            if (response.StatusCode == HttpStatusCode.ServiceUnavailable)
                return (response, key, customer);
            if (response.StatusCode != HttpStatusCode.Accepted)
                throw new Xunit.Sdk.XunitException($"unexpected {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"POST /orders was not refused within {timeout ?? TimeSpan.FromSeconds(60)}");
            await Task.Delay(200);
        }
    }
}
