namespace Sagas.IntegrationTests.PaymentSandbox;

public sealed class Creating_a_qr_payment(SandboxFixture sandbox) : SandboxSpec(sandbox)
{
    [Fact]
    public async Task Should_answer_201_with_a_pending_payment_and_its_qr_payload()
    {
        var order = Guid.NewGuid().ToString();
        var response = await Api.CreateAsync("charge-" + order, order, 42.10m, "EUR", expiresInSeconds: 60);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var created = (await response.Content.ReadFromJsonAsync<CreatedPayment>())!;
        Assert.Equal("pending", created.Status);
        Assert.Contains(created.ProviderReference, created.QrPayload);
        Assert.Equal($"/v1/qr-payments/{created.ProviderReference}", response.Headers.Location?.OriginalString);
        Assert.InRange(created.ExpiresAt - Sandbox.Clock.GetUtcNow().UtcDateTime,
            TimeSpan.FromSeconds(50), TimeSpan.FromSeconds(60));

        var payment = await Api.GetPaymentAsync(created.ProviderReference);
        Assert.Equal((order, "pending", 42.10m, "EUR"),
            (payment.MerchantReference, payment.Status, payment.Amount, payment.Currency));
        Assert.Null(payment.PaidAt);
        Assert.Empty(payment.Refunds);
    }

    [Fact]
    public async Task Should_answer_the_same_payment_again_for_the_same_key()
    {
        var order = Guid.NewGuid().ToString();
        var first = await Api.CreateAsync("charge-" + order, order);
        var again = await Api.CreateAsync("charge-" + order, order);

        Assert.Equal(HttpStatusCode.Created, again.StatusCode);
        Assert.Equal(await first.Content.ReadAsStringAsync(), await again.Content.ReadAsStringAsync());
        Assert.Single(await Api.LedgerAsync(order));
    }

    [Fact]
    public async Task Should_create_one_payment_for_twenty_parallel_requests_with_one_key()
    {
        var order = Guid.NewGuid().ToString();
        var responses = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => Api.CreateAsync("charge-" + order, order)));

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.Created, r.StatusCode));
        var references = await Task.WhenAll(responses.Select(async r =>
            (await r.Content.ReadFromJsonAsync<CreatedPayment>())!.ProviderReference));
        Assert.Single(references.Distinct());
        Assert.Equal(references[0], Assert.Single(await Api.LedgerAsync(order)).ProviderReference);
    }

    [Fact]
    public async Task Should_refuse_the_same_key_with_a_different_body_and_create_nothing()
    {
        var order = Guid.NewGuid().ToString();
        await Api.CreateAsync("charge-" + order, order, 10m);

        var problem = await SandboxApi.ProblemAsync(await Api.CreateAsync("charge-" + order, order, 11m),
            HttpStatusCode.Conflict);

        Assert.Contains("Idempotency-Key", problem.Detail);
        Assert.Equal(10m, Assert.Single(await Api.LedgerAsync(order)).Amount);
    }

    [Fact]
    public async Task Should_require_an_idempotency_key()
    {
        var order = Guid.NewGuid().ToString();

        var problem = await SandboxApi.ProblemAsync(await Api.CreateAsync(null, order), HttpStatusCode.BadRequest);

        Assert.Contains("Idempotency-Key", problem.Errors!.Keys);
        Assert.Empty(await Api.LedgerAsync(order));
    }

    [Fact]
    public async Task Should_name_every_invalid_field()
    {
        var response = await Api.CreateAsync(Guid.NewGuid().ToString(),
            new { merchantReference = "", amount = 10.001m, currency = "usd", expiresInSeconds = 0 });

        var problem = await SandboxApi.ProblemAsync(response, HttpStatusCode.BadRequest);

        Assert.Equal(["amount", "currency", "expiresInSeconds", "merchantReference"], problem.Errors!.Keys.Order());
    }

    [Theory]
    [InlineData("""{ "merchantReference": "o", "amount": "12.50", "currency": "USD" }""")]
    [InlineData("""{ "merchantReference": "o", "amount": 12.5, "currency": "USD""")]
    [InlineData("")]
    public async Task Should_answer_400_problem_for_unreadable_bodies(string body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/qr-payments")
        {
            Content = new StringContent(body, System.Text.Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("Idempotency-Key", Guid.NewGuid().ToString());

        await SandboxApi.ProblemAsync(await Api.Client.SendAsync(request), HttpStatusCode.BadRequest);
    }
}
