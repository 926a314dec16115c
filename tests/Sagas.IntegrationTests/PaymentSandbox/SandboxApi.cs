using System.Globalization;

namespace Sagas.IntegrationTests.PaymentSandbox;

/// <summary>The sandbox's HTTP surface as a test reads it: shapes from the contract, not the sandbox's types.</summary>
public sealed class SandboxApi(HttpClient client)
{
    public HttpClient Client { get; } = client;

    public Task<HttpResponseMessage> CreateAsync(
        string? idempotencyKey, string merchantReference, decimal amount = 12.50m, string currency = "USD",
        int expiresInSeconds = 120) =>
        CreateAsync(idempotencyKey, new { merchantReference, amount, currency, expiresInSeconds });

    public Task<HttpResponseMessage> CreateAsync(string? idempotencyKey, object body)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/qr-payments") { Content = JsonContent.Create(body) };
        if (idempotencyKey is not null)
            request.Headers.Add("Idempotency-Key", idempotencyKey);
        return Client.SendAsync(request);
    }

    /// <summary>Creates a payment with a fresh key and returns its reference.</summary>
    public async Task<CreatedPayment> CreatePaymentAsync(
        string merchantReference, decimal amount = 12.50m, string currency = "USD", int expiresInSeconds = 120)
    {
        var response = await CreateAsync(Guid.NewGuid().ToString(), merchantReference, amount, currency, expiresInSeconds);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<CreatedPayment>())!;
    }

    /// <summary>Creates a payment with a fresh key and pays it in full, as the customer would.</summary>
    public async Task<CreatedPayment> PaidPaymentAsync(
        string merchantReference, decimal amount = 12.50m, string currency = "USD", int expiresInSeconds = 120)
    {
        var payment = await CreatePaymentAsync(merchantReference, amount, currency, expiresInSeconds);
        await PaidAsync(payment.ProviderReference);
        return payment;
    }

    /// <summary>Two payments for one order: the first paid, the second still pending.</summary>
    public async Task<(CreatedPayment Paid, CreatedPayment Pending)> PaidAndPendingAsync(string merchantReference)
    {
        var paid = await PaidPaymentAsync(merchantReference);
        return (paid, await CreatePaymentAsync(merchantReference));
    }

    public Task<HttpResponseMessage> GetAsync(string providerReference) =>
        Client.GetAsync($"/v1/qr-payments/{providerReference}");

    public async Task<PaymentDto> GetPaymentAsync(string providerReference)
    {
        var response = await GetAsync(providerReference);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<PaymentDto>())!;
    }

    /// <summary>
    /// <c>GET /v1/qr-payments</c> with the given query parameters (null ones left out), values escaped.
    /// </summary>
    public Task<HttpResponseMessage> ListAsync(
        DateTime? updatedFrom = null, DateTime? updatedTo = null, string? cursor = null, string? limit = null) =>
        ListAsync(("updatedFrom", Timestamp(updatedFrom)), ("updatedTo", Timestamp(updatedTo)), ("cursor", cursor),
            ("limit", limit));

    public Task<HttpResponseMessage> ListAsync(params (string Name, string? Value)[] query) =>
        Client.GetAsync("/v1/qr-payments" + QueryString(query));

    public async Task<PaymentListingDto> ListingAsync(
        DateTime? updatedFrom = null, DateTime? updatedTo = null, string? cursor = null, int? limit = null)
    {
        var response = await ListAsync(updatedFrom, updatedTo, cursor, limit?.ToString(CultureInfo.InvariantCulture));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<PaymentListingDto>())!;
    }

    /// <summary>Every page from the first, following <c>nextCursor</c> until it is null.</summary>
    public async Task<List<PaymentListingDto>> AllPagesAsync(DateTime? updatedFrom, DateTime? updatedTo, int? limit = null)
    {
        var pages = new List<PaymentListingDto> { await ListingAsync(updatedFrom, updatedTo, null, limit) };
        while (pages[^1].NextCursor is { } cursor)
        {
            Assert.True(pages.Count < 10_000, "the listing's cursor does not come to an end");
            pages.Add(await ListingAsync(updatedFrom, updatedTo, cursor, limit));
        }

        return pages;
    }

    public static string? Timestamp(DateTime? utc) =>
        utc?.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture);

    static string QueryString((string Name, string? Value)[] query)
    {
        var present = query.Where(p => p.Value is not null)
            .Select(p => $"{p.Name}={Uri.EscapeDataString(p.Value!)}").ToList();
        return present.Count == 0 ? "" : "?" + string.Join('&', present);
    }

    public Task<HttpResponseMessage> CancelAsync(string providerReference) =>
        Client.PostAsync($"/v1/qr-payments/{providerReference}/cancel", null);

    public Task<HttpResponseMessage> RefundAsync(string providerReference, string? idempotencyKey, decimal amount)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, $"/v1/qr-payments/{providerReference}/refunds")
        {
            Content = JsonContent.Create(new { amount }),
        };
        if (idempotencyKey is not null)
            request.Headers.Add("Idempotency-Key", idempotencyKey);
        return Client.SendAsync(request);
    }

    public Task<HttpResponseMessage> PayAsync(string providerReference, decimal? amount = null, DateTimeOffset? at = null) =>
        Client.PostAsync($"/sandbox/qr-payments/{providerReference}/pay",
            amount is null && at is null ? null : JsonContent.Create(new { amount, at }));

    public async Task PaidAsync(string providerReference, decimal? amount = null) =>
        Assert.Equal(HttpStatusCode.OK, (await PayAsync(providerReference, amount)).StatusCode);

    public Task<HttpResponseMessage> FailAsync(string providerReference) =>
        Client.PostAsync($"/sandbox/qr-payments/{providerReference}/fail", null);

    public async Task<List<PaymentDto>> LedgerAsync(string merchantReference) =>
        (await Client.GetFromJsonAsync<List<PaymentDto>>(
            $"/sandbox/ledger?merchantReference={Uri.EscapeDataString(merchantReference)}"))!;

    public async Task<List<WebhookDeliveryDto>> WebhookDeliveriesAsync(string providerReference) =>
        (await Client.GetFromJsonAsync<List<WebhookDeliveryDto>>(
            $"/sandbox/webhooks?providerReference={Uri.EscapeDataString(providerReference)}"))!;

    public Task<HttpResponseMessage> PutSettingsAsync(object settings) =>
        Client.PutAsJsonAsync("/sandbox/settings", settings);

    public async Task SettingsAsync(object settings) =>
        Assert.Equal(HttpStatusCode.OK, (await PutSettingsAsync(settings)).StatusCode);

    public Task ResetSettingsAsync() => SettingsAsync(new
    {
        webhooks = "on", webhookDelayMs = 0, webhookDuplicates = 0, errorRate = 0.0, latencyMs = 0,
        refunds = "ok", cancels = "ok",
    });

    public static async Task<ProblemDto> ProblemAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        Assert.Equal(expected, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = (await response.Content.ReadFromJsonAsync<ProblemDto>())!;
        Assert.Equal((int)expected, problem.Status);
        Assert.False(string.IsNullOrEmpty(problem.Type));
        Assert.False(string.IsNullOrEmpty(problem.Title));
        Assert.False(string.IsNullOrEmpty(problem.Detail));
        return problem;
    }
}

public sealed record CreatedPayment(string ProviderReference, string QrPayload, string Status, DateTime ExpiresAt);

public sealed record RefundDto(string RefundId, decimal Amount, string Status);

public sealed record PaymentDto(
    string ProviderReference,
    string MerchantReference,
    string Status,
    decimal Amount,
    string Currency,
    decimal? CapturedAmount,
    DateTime? PaidAt,
    DateTime ExpiresAt,
    DateTime UpdatedAt,
    List<RefundDto> Refunds);

public sealed record PaymentListingDto(List<PaymentDto> Items, string? NextCursor);

public sealed record WebhookDeliveryDto(Guid EventId, string Type, string Status, int Attempts, string? LastError);

public sealed record ProblemDto(string Type, string Title, int Status, string Detail, Dictionary<string, string[]>? Errors);
