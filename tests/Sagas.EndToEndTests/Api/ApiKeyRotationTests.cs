using System.Security.Cryptography;
using System.Text;
using Npgsql;

namespace Sagas.EndToEndTests.Api;

/// <summary>
/// Issue 16: a storefront's identity is the name of its <c>ApiClients</c> entry, not its key, so the key rotates without
/// losing the storefront's orders or its Idempotency-Key scope; a plain <c>ApiKeys</c> key moves to an entry named after
/// its old identity (docs/security.md). Each step is a new Api process on the same database, as a redeploy with new
/// configuration is. The digests and the plain key's identity are computed here, as the documented one-liners do.
/// </summary>
public sealed class ApiKeyRotationTests() : WithOwnDatabaseAndVirtualHost("api-key-rotation")
{
    const string OldKey = "test-rotation-old-storefront-key";
    const string NewKey = "test-rotation-new-storefront-key";
    const string PlainKey = "test-rotation-plain-storefront-key";
    const string OtherShopKey = "test-rotation-other-shop-key";
    const string Sku = "ROTATE-1";
    const string Body = $$"""{"customerId":"rotation","currency":"USD","lines":[{"sku":"{{Sku}}","quantity":1}]}""";

    [Fact]
    public async Task A_rotated_storefront_key_reads_its_orders_and_replays_its_idempotency_keys_and_the_old_key_is_401()
    {
        var idempotencyKey = Guid.NewGuid().ToString();
        Guid orderId;

        // Before: the old key. During: old and new side by side under one name.
        await using (var api = await StartApi(Entry(0, "shop-eu", "storefront", OldKey), Entry(1, "shop-eu", "storefront", NewKey)))
        {
            await StockItem(api);
            orderId = await Submit(api, OldKey, idempotencyKey);
            Assert.Equal(orderId, await Read(api, NewKey, orderId));
            Assert.Equal(orderId, await Submit(api, NewKey, idempotencyKey));
        }

        // After: the old entry removed.
        await using (var api = await StartApi(Entry(0, "shop-eu", "storefront", NewKey), Entry(1, "shop-us", "storefront", OtherShopKey)))
        {
            Assert.Equal(orderId, await Read(api, NewKey, orderId));
            Assert.Equal(orderId, await Submit(api, NewKey, idempotencyKey));

            using var old = Client(api, OldKey);
            await (await old.GetAsync($"/orders/{orderId}")).AssertProblem(HttpStatusCode.Unauthorized);
            using var oldPost = await old.SendAsync(Post(idempotencyKey));
            await oldPost.AssertProblem(HttpStatusCode.Unauthorized);
            // Another storefront's entry still does not see it: the name, not any valid key, is what owns the order.
            using var other = Client(api, OtherShopKey);
            await (await other.GetAsync($"/orders/{orderId}")).AssertProblem(HttpStatusCode.NotFound);
        }

        Assert.Equal(1L, await AcceptedOrders());
    }

    [Fact]
    public async Task A_plain_key_moved_to_an_entry_named_after_its_identity_keeps_its_orders_through_a_rotation()
    {
        var idempotencyKey = Guid.NewGuid().ToString();
        Guid orderId;

        await using (var api = await StartApi(new Dictionary<string, string> { [$"ApiKeys__{PlainKey}"] = "storefront" }))
        {
            await StockItem(api);
            orderId = await Submit(api, PlainKey, idempotencyKey);
            // Plain keys are for development: no warning in Development.
            Assert.DoesNotContain("plain API key", api.FullOutput);
        }

        // The plain key's identity: the first 16 hex digits of its SHA-256 (`sha256sum | cut -c1-16`).
        var identity = Sha256(PlainKey)[..16];
        await using (var api = await StartApi(Entry(0, identity, "storefront", PlainKey), Entry(1, identity, "storefront", NewKey)))
        {
            Assert.Equal(orderId, await Read(api, PlainKey, orderId));
            Assert.Equal(orderId, await Read(api, NewKey, orderId));
            Assert.Equal(orderId, await Submit(api, NewKey, idempotencyKey));
        }

        Assert.Equal(1L, await AcceptedOrders());
    }

    static string Sha256(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));

    static Dictionary<string, string> Entry(int index, string name, string role, string key) => new()
    {
        [$"ApiClients__{index}__Name"] = name,
        [$"ApiClients__{index}__Role"] = role,
        // Upper case for one entry in two: both spellings of the hex digest are accepted.
        [$"ApiClients__{index}__Sha256"] = index % 2 == 0 ? Sha256(key) : Sha256(key).ToUpperInvariant(),
    };

    async Task<ServiceProcess> StartApi(params Dictionary<string, string>[] settings)
    {
        var environment = ServiceEnvironment.For(Database, VirtualHost);
        environment["ApiClients__9__Name"] = "operations";
        environment["ApiClients__9__Role"] = "admin";
        environment["ApiClients__9__Sha256"] = Sha256(TestApiKeys.Admin);
        foreach (var (key, value) in settings.SelectMany(s => s))
            environment[key] = value;
        var api = new ServiceProcess("Api", ServiceProcess.FreePort(), environment);
        api.Start();
        await api.WaitUntilReadyAsync();
        return api;
    }

    static HttpClient Client(ServiceProcess api, string key)
    {
        var client = new HttpClient { BaseAddress = api.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        client.DefaultRequestHeaders.Add("X-Api-Key", key);
        return client;
    }

    static HttpRequestMessage Post(string idempotencyKey)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/orders") { Content = new StringContent(Body, Encoding.UTF8, "application/json") };
        request.Headers.Add("Idempotency-Key", idempotencyKey);
        return request;
    }

    static async Task StockItem(ServiceProcess api)
    {
        using var admin = Client(api, TestApiKeys.Admin);
        (await admin.PutAsJsonAsync($"/items/{Sku}", new { name = Sku, category = "test", price = 5m, currency = "USD", onHand = 10 }))
            .EnsureSuccessStatusCode();
    }

    static async Task<Guid> Submit(ServiceProcess api, string key, string idempotencyKey)
    {
        using var client = Client(api, key);
        using var response = await client.SendAsync(Post(idempotencyKey));
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("orderId").GetGuid();
    }

    static async Task<Guid> Read(ServiceProcess api, string key, Guid orderId)
    {
        using var client = Client(api, key);
        using var response = await client.GetAsync($"/orders/{orderId}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("orderId").GetGuid();
    }

    async Task<long> AcceptedOrders()
    {
        await using var connection = new NpgsqlConnection(Database.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT count(*) FROM api.idempotency_keys", connection);
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
