using System.Text;

namespace Sagas.EndToEndTests.Api;

/// <summary>
/// POST/GET /orders and cancel against the running Api alone (no Workers): what the storefront sees at
/// the front door. The order's life after acceptance is covered by the end-to-end saga tests.
/// </summary>
public sealed class OrderContractTests(ApiFixture fixture) : IClassFixture<ApiFixture>, IAsyncLifetime
{
    public async Task InitializeAsync()
    {
        using var admin = fixture.Client(ApiFixture.AdminKey);
        foreach (var (sku, currency) in new[] { ("MOUSE-1", "USD"), ("KEYBOARD-1", "USD"), ("EURO-1", "EUR") })
            (await admin.PutAsJsonAsync($"/items/{sku}", new { name = sku, category = "test", price = 12.50m, currency, onHand = 100 }))
                .EnsureSuccessStatusCode();
    }

    public Task DisposeAsync() => Task.CompletedTask;

    static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    static string Order(string customer = "c-1", string currency = "USD", string lines = """[{"sku":"MOUSE-1","quantity":2}]""") =>
        $$"""{"customerId":"{{customer}}","currency":"{{currency}}","lines":{{lines}}}""";

    static HttpRequestMessage Post(string body, string? key)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/orders") { Content = Json(body) };
        if (key is not null)
            request.Headers.Add("Idempotency-Key", key);
        return request;
    }

    [Fact]
    public async Task An_accepted_order_is_202_with_its_location_and_reads_as_submitted_at_once()
    {
        using var storefront = fixture.Client(ApiFixture.StorefrontKey);
        var response = await storefront.SendAsync(Post(Order(lines: """[{"sku":"MOUSE-1","quantity":2},{"sku":"KEYBOARD-1","quantity":1}]"""), Guid.NewGuid().ToString()));

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var accepted = await response.Content.ReadFromJsonAsync<JsonElement>();
        var orderId = accepted.GetProperty("orderId").GetGuid();
        Assert.Equal("Submitted", accepted.GetProperty("status").GetString());
        Assert.Equal($"/orders/{orderId}", response.Headers.Location?.ToString());

        var order = await storefront.GetFromJsonAsync<JsonElement>($"/orders/{orderId}");
        Assert.Equal("Submitted", order.GetProperty("status").GetString());
        Assert.Equal("c-1", order.GetProperty("customerId").GetString());
        Assert.Equal(37.50m, order.GetProperty("total").GetDecimal());
        Assert.Equal("USD", order.GetProperty("currency").GetString());
        Assert.Equal(2, order.GetProperty("lines").GetArrayLength());
        Assert.Equal(12.50m, order.GetProperty("lines")[0].GetProperty("unitPrice").GetDecimal());
        Assert.Equal(JsonValueKind.Null, order.GetProperty("payment").ValueKind);
        Assert.Equal(JsonValueKind.Null, order.GetProperty("failureReason").ValueKind);
    }

    [Fact]
    public async Task The_same_key_and_body_answers_the_same_order_and_a_different_body_is_409()
    {
        using var storefront = fixture.Client(ApiFixture.StorefrontKey);
        var key = Guid.NewGuid().ToString();

        var first = await (await storefront.SendAsync(Post(Order(), key))).Content.ReadFromJsonAsync<JsonElement>();
        // Same request, different spacing and an extra field: still the same request.
        var again = await storefront.SendAsync(Post(Order().Replace(",", " , ").Replace("}", ",\"note\":1}"), key));
        Assert.Equal(HttpStatusCode.Accepted, again.StatusCode);
        Assert.Equal(first.GetProperty("orderId").GetGuid(), (await again.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("orderId").GetGuid());

        await (await storefront.SendAsync(Post(Order(customer: "c-2"), key))).AssertProblem(HttpStatusCode.Conflict);
    }

    [Fact]
    public async Task Twenty_parallel_requests_with_one_key_create_one_order_and_twenty_identical_answers()
    {
        using var storefront = fixture.Client(ApiFixture.StorefrontKey);
        var key = Guid.NewGuid().ToString();
        var customer = $"parallel-{Guid.NewGuid():N}";

        var responses = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => storefront.SendAsync(Post(Order(customer), key))));

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.Accepted, r.StatusCode));
        var bodies = await Task.WhenAll(responses.Select(r => r.Content.ReadAsStringAsync()));
        Assert.Single(bodies.Distinct());
        using var support = fixture.Client(ApiFixture.SupportKey);
        var page = await support.GetFromJsonAsync<JsonElement>($"/orders?customerId={customer}");
        Assert.Equal(1, page.GetProperty("items").GetArrayLength());
    }

    [Fact]
    public async Task A_missing_idempotency_key_is_400()
    {
        using var storefront = fixture.Client(ApiFixture.StorefrontKey);
        var problem = await (await storefront.SendAsync(Post(Order(), key: null))).AssertProblem(HttpStatusCode.BadRequest);
        Assert.True(problem.GetProperty("errors").TryGetProperty("Idempotency-Key", out _));
    }

    [Theory]
    [InlineData("""{"customerId":"","currency":"USD","lines":[{"sku":"MOUSE-1","quantity":1}]}""", "customerId")]
    [InlineData("""{"customerId":"c","currency":"US","lines":[{"sku":"MOUSE-1","quantity":1}]}""", "currency")]
    [InlineData("""{"customerId":"c","currency":"USD","lines":[]}""", "lines")]
    [InlineData("""{"customerId":"c","currency":"USD","lines":[{"sku":"MOUSE-1","quantity":0}]}""", "lines[0].quantity")]
    [InlineData("""{"customerId":"c","currency":"USD","lines":[{"sku":"MOUSE-1","quantity":1001}]}""", "lines[0].quantity")]
    [InlineData("""{"customerId":"c","currency":"USD","lines":[{"sku":"MOUSE-1","quantity":1},{"sku":"MOUSE-1","quantity":1}]}""", "lines")]
    [InlineData("""{"customerId":"c","currency":"USD","lines":[{"sku":"EURO-1","quantity":1}]}""", "currency")]
    public async Task Invalid_orders_are_400_naming_the_field(string body, string field)
    {
        using var storefront = fixture.Client(ApiFixture.StorefrontKey);
        var problem = await (await storefront.SendAsync(Post(body, Guid.NewGuid().ToString()))).AssertProblem(HttpStatusCode.BadRequest);
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), problem.ToString());
    }

    [Fact]
    public async Task Fifty_one_lines_are_too_many()
    {
        var lines = "[" + string.Join(",", Enumerable.Range(0, 51).Select(i => $$"""{"sku":"S-{{i}}","quantity":1}""")) + "]";
        using var storefront = fixture.Client(ApiFixture.StorefrontKey);
        await (await storefront.SendAsync(Post(Order(lines: lines), Guid.NewGuid().ToString()))).AssertProblem(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Unknown_skus_are_422_naming_them()
    {
        using var storefront = fixture.Client(ApiFixture.StorefrontKey);
        var response = await storefront.SendAsync(Post(Order(lines: """[{"sku":"MOUSE-1","quantity":1},{"sku":"GHOST-9","quantity":1}]"""), Guid.NewGuid().ToString()));
        var problem = await response.AssertProblem(HttpStatusCode.UnprocessableEntity);
        Assert.Contains("GHOST-9", problem.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task Unknown_order_is_404_and_a_malformed_id_is_not_a_5xx()
    {
        using var storefront = fixture.Client(ApiFixture.StorefrontKey);
        await (await storefront.GetAsync($"/orders/{Guid.NewGuid()}")).AssertProblem(HttpStatusCode.NotFound);
        var malformed = await storefront.GetAsync("/orders/not-a-guid");
        Assert.InRange((int)malformed.StatusCode, 400, 499);
    }

    [Fact]
    public async Task Roles_storefront_cannot_use_support_endpoints_and_support_cannot_submit()
    {
        using var storefront = fixture.Client(ApiFixture.StorefrontKey);
        await (await storefront.GetAsync("/orders")).AssertProblem(HttpStatusCode.Forbidden);
        await (await storefront.GetAsync("/orders/stats")).AssertProblem(HttpStatusCode.Forbidden);
        await (await storefront.GetAsync($"/orders/{Guid.NewGuid()}/timeline")).AssertProblem(HttpStatusCode.Forbidden);
        await (await storefront.GetAsync("/support/attention")).AssertProblem(HttpStatusCode.Forbidden);
        await (await storefront.PostAsync($"/orders/{Guid.NewGuid()}/retry-compensation", null)).AssertProblem(HttpStatusCode.Forbidden);
        using var support = fixture.Client(ApiFixture.SupportKey);
        await (await support.SendAsync(Post(Order(), Guid.NewGuid().ToString()))).AssertProblem(HttpStatusCode.Forbidden);
        using var admin = fixture.Client(ApiFixture.AdminKey);
        await (await admin.GetAsync($"/orders/{Guid.NewGuid()}")).AssertProblem(HttpStatusCode.Forbidden);
        using var anonymous = fixture.Client();
        await (await anonymous.SendAsync(Post(Order(), Guid.NewGuid().ToString()))).AssertProblem(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Support_retries_compensation_only_of_an_order_that_waits_for_something()
    {
        using var storefront = fixture.Client(ApiFixture.StorefrontKey);
        var accepted = await (await storefront.SendAsync(Post(Order(), Guid.NewGuid().ToString()))).Content.ReadFromJsonAsync<JsonElement>();
        using var support = fixture.Client(ApiFixture.SupportKey);

        // No Workers here: the order has no saga yet, so nothing it waits for can be issued again.
        await (await support.PostAsync($"/orders/{accepted.GetProperty("orderId").GetGuid()}/retry-compensation", null))
            .AssertProblem(HttpStatusCode.Conflict);
        await (await support.PostAsync($"/orders/{Guid.NewGuid()}/retry-compensation", null)).AssertProblem(HttpStatusCode.NotFound);
        var order = await support.GetFromJsonAsync<JsonElement>($"/orders/{accepted.GetProperty("orderId").GetGuid()}");
        Assert.Equal(JsonValueKind.Null, order.GetProperty("attention").ValueKind);
        // This Api records no traces (no OTEL endpoint): the order was accepted without one.
        Assert.Equal(JsonValueKind.Null, order.GetProperty("traceId").ValueKind);
    }

    [Fact]
    public async Task The_attention_list_pages_oldest_first_and_refuses_a_bad_cursor_or_limit()
    {
        using var support = fixture.Client(ApiFixture.SupportKey);

        var page = await support.GetFromJsonAsync<JsonElement>("/support/attention?limit=5");

        Assert.Equal(JsonValueKind.Array, page.GetProperty("items").ValueKind);
        Assert.Equal(JsonValueKind.Null, page.GetProperty("nextCursor").ValueKind);
        await (await support.GetAsync("/support/attention?limit=0")).AssertProblem(HttpStatusCode.BadRequest);
        await (await support.GetAsync("/support/attention?cursor=nonsense")).AssertProblem(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task A_submitted_order_can_be_canceled_by_the_storefront_with_202()
    {
        using var storefront = fixture.Client(ApiFixture.StorefrontKey);
        var accepted = await (await storefront.SendAsync(Post(Order(), Guid.NewGuid().ToString()))).Content.ReadFromJsonAsync<JsonElement>();
        var orderId = accepted.GetProperty("orderId").GetGuid();

        var cancel = await storefront.PostAsync($"/orders/{orderId}/cancel", null);

        Assert.Equal(HttpStatusCode.Accepted, cancel.StatusCode);
        var body = await cancel.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(orderId, body.GetProperty("orderId").GetGuid());
        await (await storefront.PostAsync($"/orders/{Guid.NewGuid()}/cancel", null)).AssertProblem(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Support_lists_newest_first_with_a_cursor_and_filters()
    {
        using var storefront = fixture.Client(ApiFixture.StorefrontKey);
        var customer = $"paging-{Guid.NewGuid():N}";
        var ids = new List<Guid>();
        for (var i = 0; i < 5; i++)
        {
            var accepted = await (await storefront.SendAsync(Post(Order(customer), Guid.NewGuid().ToString()))).Content.ReadFromJsonAsync<JsonElement>();
            ids.Add(accepted.GetProperty("orderId").GetGuid());
        }

        using var support = fixture.Client(ApiFixture.SupportKey);
        var seen = new List<Guid>();
        string? cursor = null;
        do
        {
            var page = await support.GetFromJsonAsync<JsonElement>($"/orders?customerId={customer}&limit=2" + (cursor is null ? "" : $"&cursor={cursor}"));
            seen.AddRange(page.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("orderId").GetGuid()));
            cursor = page.GetProperty("nextCursor").GetString();
        } while (cursor is not null);

        Assert.Equal(Enumerable.Reverse(ids), seen);
        var submitted = await support.GetFromJsonAsync<JsonElement>($"/orders?customerId={customer}&status=Submitted");
        Assert.Equal(5, submitted.GetProperty("items").GetArrayLength());
        var placed = await support.GetFromJsonAsync<JsonElement>($"/orders?customerId={customer}&status=Placed");
        Assert.Equal(0, placed.GetProperty("items").GetArrayLength());

        await (await support.GetAsync("/orders?limit=0")).AssertProblem(HttpStatusCode.BadRequest);
        await (await support.GetAsync("/orders?limit=201")).AssertProblem(HttpStatusCode.BadRequest);
        await (await support.GetAsync("/orders?status=Nope")).AssertProblem(HttpStatusCode.BadRequest);
        await (await support.GetAsync("/orders?cursor=%%%")).AssertProblem(HttpStatusCode.BadRequest);
        await (await support.GetAsync("/orders?createdFrom=yesterday")).AssertProblem(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Stats_count_orders_by_status()
    {
        using var support = fixture.Client(ApiFixture.SupportKey);
        var stats = await support.GetFromJsonAsync<JsonElement>("/orders/stats");
        var byStatus = stats.GetProperty("byStatus");
        foreach (var status in new[] { "Submitted", "AwaitingPayment", "Placing", "Compensating", "Placed", "Rejected", "Expired", "Canceled", "Failed" })
            Assert.True(byStatus.TryGetProperty(status, out _), status);
        Assert.True(stats.GetProperty("stuck").GetInt64() >= 0);
    }
}
