using System.Text;
using Npgsql;

namespace Sagas.EndToEndTests.Api;

public sealed class CatalogContractTests(ApiFixture fixture) : IClassFixture<ApiFixture>
{
    static object Item(int onHand = 10, decimal price = 19.99m, string currency = "USD") =>
        new { name = "Mouse", category = "peripherals", price, currency, onHand };

    [Fact]
    public async Task Admin_upserts_an_item_and_any_role_reads_it_with_stock_figures()
    {
        using var admin = fixture.Client(ApiFixture.AdminKey);
        var put = await admin.PutAsJsonAsync("/items/MOUSE-1", Item(onHand: 12));
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);

        foreach (var key in new[] { ApiFixture.StorefrontKey, ApiFixture.SupportKey, ApiFixture.AdminKey })
        {
            using var client = fixture.Client(key);
            var item = await client.GetFromJsonAsync<JsonElement>("/items/MOUSE-1");
            Assert.Equal("MOUSE-1", item.GetProperty("sku").GetString());
            Assert.Equal(19.99m, item.GetProperty("price").GetDecimal());
            Assert.Equal(12, item.GetProperty("onHand").GetInt32());
            Assert.Equal(0, item.GetProperty("held").GetInt32());
            Assert.Equal(12, item.GetProperty("available").GetInt32());
        }

        var update = await admin.PutAsJsonAsync("/items/MOUSE-1", Item(onHand: 7, price: 17.50m));
        var updated = await update.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(7, updated.GetProperty("onHand").GetInt32());
        Assert.Equal(17.50m, updated.GetProperty("price").GetDecimal());
    }

    [Fact]
    public async Task On_hand_below_what_is_held_is_a_conflict_and_changes_nothing()
    {
        using var admin = fixture.Client(ApiFixture.AdminKey);
        (await admin.PutAsJsonAsync("/items/HELD-1", Item(onHand: 10))).EnsureSuccessStatusCode();
        // Holds are the Workers' business; simulate 6 units held by active orders.
        await using (var db = NpgsqlDataSource.Create(fixture.Database.ConnectionString))
            await db.CreateCommand("UPDATE inventory.items SET held = 6 WHERE sku = 'HELD-1'").ExecuteNonQueryAsync();

        var response = await admin.PutAsJsonAsync("/items/HELD-1", Item(onHand: 5));

        await response.AssertProblem(HttpStatusCode.Conflict);
        var item = await admin.GetFromJsonAsync<JsonElement>("/items/HELD-1");
        Assert.Equal(10, item.GetProperty("onHand").GetInt32());
        Assert.Equal(4, item.GetProperty("available").GetInt32());
    }

    [Fact]
    public async Task Unknown_item_is_404()
    {
        using var client = fixture.Client(ApiFixture.StorefrontKey);
        await (await client.GetAsync("/items/NO-SUCH-SKU")).AssertProblem(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Missing_or_unknown_key_is_401_and_wrong_role_is_403()
    {
        using var anonymous = fixture.Client();
        await (await anonymous.GetAsync("/items/X")).AssertProblem(HttpStatusCode.Unauthorized);
        using var unknown = fixture.Client("not-a-key");
        await (await unknown.PutAsJsonAsync("/items/X", Item())).AssertProblem(HttpStatusCode.Unauthorized);
        using var storefront = fixture.Client(ApiFixture.StorefrontKey);
        await (await storefront.PutAsJsonAsync("/items/X", Item())).AssertProblem(HttpStatusCode.Forbidden);
        using var support = fixture.Client(ApiFixture.SupportKey);
        await (await support.PutAsJsonAsync("/items/X", Item())).AssertProblem(HttpStatusCode.Forbidden);
    }

    [Theory]
    [InlineData("""{"name":"M","category":"c","price":1.999,"currency":"USD","onHand":1}""", "price")]
    [InlineData("""{"name":"M","category":"c","price":1,"currency":"usd","onHand":1}""", "currency")]
    [InlineData("""{"name":"","category":"c","price":1,"currency":"USD","onHand":1}""", "name")]
    [InlineData("""{"name":"M","category":"c","price":-1,"currency":"USD","onHand":1}""", "price")]
    [InlineData("""{"name":"M","category":"c","price":1,"currency":"USD","onHand":-1}""", "onHand")]
    [InlineData("""{"name":"M","category":"c","price":1,"currency":"USD"}""", "onHand")]
    public async Task Out_of_range_fields_are_400_with_the_field_named(string body, string field)
    {
        using var admin = fixture.Client(ApiFixture.AdminKey);
        var response = await admin.PutAsync("/items/BAD-1", new StringContent(body, Encoding.UTF8, "application/json"));

        var problem = await response.AssertProblem(HttpStatusCode.BadRequest);
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), problem.ToString());
        await (await admin.GetAsync("/items/BAD-1")).AssertProblem(HttpStatusCode.NotFound);
    }

    [Theory]
    [InlineData("""{"name":"M","category":"c","price":"1","currency":"USD","onHand":1}""")]
    [InlineData("""{"name":"M","category":"c","price":1,"currency":"USD","onHand":1.5}""")]
    [InlineData("""{"name":"M", """)]
    [InlineData("""[1,2,3]""")]
    public async Task Malformed_json_or_wrong_types_are_400(string body)
    {
        using var admin = fixture.Client(ApiFixture.AdminKey);
        var response = await admin.PutAsync("/items/BAD-2", new StringContent(body, Encoding.UTF8, "application/json"));
        await response.AssertProblem(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task A_body_over_64_KiB_is_413()
    {
        using var admin = fixture.Client(ApiFixture.AdminKey);
        var body = $$"""{"name":"{{new string('x', 70 * 1024)}}","category":"c","price":1,"currency":"USD","onHand":1}""";
        var response = await admin.PutAsync("/items/BIG-1", new StringContent(body, Encoding.UTF8, "application/json"));
        await response.AssertProblem(HttpStatusCode.RequestEntityTooLarge);
    }

    [Fact]
    public async Task Unknown_fields_are_ignored()
    {
        using var admin = fixture.Client(ApiFixture.AdminKey);
        var body = """{"name":"M","category":"c","price":1,"currency":"USD","onHand":1,"colour":"red"}""";
        var response = await admin.PutAsync("/items/EXTRA-1", new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }
}
