using System.Net;
using System.Net.Http.Json;

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

    public Task<HttpResponseMessage> GetAsync(string providerReference) =>
        Client.GetAsync($"/v1/qr-payments/{providerReference}");

    public async Task<PaymentDto> GetPaymentAsync(string providerReference)
    {
        var response = await GetAsync(providerReference);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<PaymentDto>())!;
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

    public Task<HttpResponseMessage> PayAsync(string providerReference, decimal? amount = null) =>
        Client.PostAsync($"/sandbox/qr-payments/{providerReference}/pay",
            amount is null ? null : JsonContent.Create(new { amount }));

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
    List<RefundDto> Refunds);

public sealed record WebhookDeliveryDto(Guid EventId, string Type, string Status, int Attempts, string? LastError);

public sealed record ProblemDto(string Type, string Title, int Status, string Detail, Dictionary<string, string[]>? Errors);
