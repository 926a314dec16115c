using System.Text;

namespace Sagas.IntegrationTests.PaymentSandbox;

/// <summary>
/// The demo checkout's server side: the page itself, the QR image, and the proxy to the Api. The page's
/// behaviour in a browser belongs to the end-to-end browser tests against the real stack.
/// </summary>
public sealed class Demo_checkout(SandboxFixture sandbox) : IClassFixture<SandboxFixture>, IAsyncLifetime
{
    readonly HttpClient _client = sandbox.Api.Client;

    public Task InitializeAsync() => sandbox.StorefrontApi.StartAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task The_page_is_served_and_the_root_leads_to_it()
    {
        var page = await _client.GetAsync("/demo/");
        var root = await _client.GetAsync("/");
        var withoutSlash = await _client.GetAsync("/demo");

        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        Assert.Contains("<h1>Demo checkout</h1>", await page.Content.ReadAsStringAsync());
        Assert.Equal("/demo/", root.Headers.Location?.OriginalString);
        Assert.EndsWith("/demo/", withoutSlash.Headers.Location?.OriginalString);
        Assert.Equal(HttpStatusCode.OK, (await _client.GetAsync("/demo/checkout.js")).StatusCode);
    }

    [Fact]
    public async Task The_qr_code_of_a_payment_is_a_png()
    {
        var payment = await sandbox.Api.CreatePaymentAsync(Guid.NewGuid().ToString());

        var image = await _client.GetAsync($"/sandbox/qr-payments/{payment.ProviderReference}/qr.png");

        Assert.Equal(HttpStatusCode.OK, image.StatusCode);
        Assert.Equal("image/png", image.Content.Headers.ContentType?.MediaType);
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], (await image.Content.ReadAsByteArrayAsync())[..4]);
        await SandboxApi.ProblemAsync(await _client.GetAsync($"/sandbox/qr-payments/{Guid.NewGuid()}/qr.png"),
            HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Orders_are_forwarded_to_the_api_with_the_storefront_key_and_the_page_idempotency_key()
    {
        var key = Guid.NewGuid().ToString();
        var body = $$"""{"customerId":"demo","currency":"USD","lines":[{"sku":"{{FakeStorefrontApi.KnownSku}}","quantity":1}],"tag":"{{key}}"}""";
        using var request = new HttpRequestMessage(HttpMethod.Post, "/demo/api/orders")
        {
            Content = new StringContent(body, Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("Idempotency-Key", key);

        var response = await _client.SendAsync(request);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal("o-1", (await response.Content.ReadFromJsonAsync<Dictionary<string, string>>())!["orderId"]);
        var forwarded = Assert.Single(sandbox.StorefrontApi.Requests, r => r.IdempotencyKey == key);
        Assert.Equal(("POST", "/orders", SandboxFixture.StorefrontKey, body),
            (forwarded.Method, forwarded.Path, forwarded.ApiKey, forwarded.Body));
    }

    [Fact]
    public async Task The_api_answers_come_back_as_they_were()
    {
        var item = await _client.GetAsync($"/demo/api/items/{FakeStorefrontApi.KnownSku}");
        var order = await _client.GetAsync("/demo/api/orders/o-7");

        Assert.Equal(HttpStatusCode.OK, item.StatusCode);
        Assert.Equal("AwaitingPayment", (await order.Content.ReadFromJsonAsync<Dictionary<string, string>>())!["status"]);
        await SandboxApi.ProblemAsync(await _client.GetAsync("/demo/api/items/NOPE-1"), HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task An_api_error_without_a_body_still_reaches_the_page_as_a_problem()
    {
        var problem = await SandboxApi.ProblemAsync(await _client.GetAsync("/demo/api/orders/missing"),
            HttpStatusCode.NotFound);

        Assert.Contains("without details", problem.Detail);
    }
}

public sealed class Demo_checkout_without_the_api(SandboxWithReceiverDownFixture sandbox)
    : IClassFixture<SandboxWithReceiverDownFixture>
{
    [Fact]
    public async Task An_unreachable_api_is_a_502_problem()
    {
        var problem = await SandboxApi.ProblemAsync(await sandbox.Api.Client.GetAsync("/demo/api/orders/o-1"),
            HttpStatusCode.BadGateway);

        Assert.Contains(sandbox.StorefrontApi.BaseUrl.Authority, problem.Detail);
    }
}
