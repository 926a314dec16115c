using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Sagas.Workers.Payments;

public sealed class PaymentProviderOptions
{
    public const string Section = "PaymentProvider";

    public Uri BaseUrl { get; set; } = new("http://127.0.0.1:5090");
    /// <summary>One attempt's limit; the retry pipeline makes at most <see cref="MaxRetries"/> more.</summary>
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(5);
    public int MaxRetries { get; set; } = 3;
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromMilliseconds(200);
    /// <summary>
    /// Share of failed attempts (over 10 s, at least 20 attempts) that opens the circuit. A quarter: a provider
    /// failing that often is degraded enough that a few seconds of rest serve it better than more retries, and
    /// the quality bar's 30% 5xx must open it (the messages wait in their retries meanwhile).
    /// </summary>
    public double FailureRatio { get; set; } = 0.25;
    public TimeSpan BreakDuration { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Also Polly's own bounds, which it would otherwise enforce only at the first provider call.</summary>
    public IEnumerable<string> Problems()
    {
        if (BaseUrl is not { IsAbsoluteUri: true } || (BaseUrl.Scheme != Uri.UriSchemeHttp && BaseUrl.Scheme != Uri.UriSchemeHttps))
            yield return $"PaymentProvider:BaseUrl must be an absolute http or https URL (is '{BaseUrl}')";
        if (AttemptTimeout < TimeSpan.FromMilliseconds(10) || AttemptTimeout > TimeSpan.FromDays(1))
            yield return "PaymentProvider:AttemptTimeout must be from 10 ms to 1 day";
        if (MaxRetries < 1)
            yield return "PaymentProvider:MaxRetries must be at least 1";
        if (RetryBaseDelay < TimeSpan.Zero || RetryBaseDelay > TimeSpan.FromDays(1))
            yield return "PaymentProvider:RetryBaseDelay must be from 0 to 1 day";
        if (FailureRatio is <= 0 or > 1)
            yield return "PaymentProvider:FailureRatio must be above 0 and at most 1";
        if (BreakDuration < TimeSpan.FromMilliseconds(500) || BreakDuration > TimeSpan.FromDays(1))
            yield return "PaymentProvider:BreakDuration must be from 0.5 s to 1 day";
    }
}

public sealed record ProviderPayment(
    string ProviderReference,
    string? MerchantReference,
    string Status,
    decimal? Amount,
    /// <summary>What the customer actually paid; may differ from <see cref="Amount"/>.</summary>
    decimal? CapturedAmount,
    string? Currency,
    string? QrPayload,
    DateTimeOffset? ExpiresAt,
    DateTimeOffset? PaidAt,
    IReadOnlyList<ProviderRefund>? Refunds,
    /// <summary>The payment's last change, on the provider's clock (its place in the listing).</summary>
    DateTimeOffset? UpdatedAt = null);

/// <summary>A page of the provider's listing of changed payments, oldest change first.</summary>
public sealed record ProviderPaymentPage(IReadOnlyList<ProviderPayment> Items, string? NextCursor);

public sealed record ProviderRefund(string RefundId, decimal Amount, string Status);

/// <summary>A provider answer that retrying cannot change (4xx other than 408/429).</summary>
public sealed class PaymentProviderRejectedException(HttpStatusCode status, string detail)
    : Exception($"payment provider refused the request: {(int)status} {detail}")
{
    public HttpStatusCode Status { get; } = status;
}

/// <summary>
/// The one client of the QR payment provider (http-contract.md, "Provider API"). Every call that creates
/// something carries an idempotency key derived from the order, so a retried HTTP call, a redelivered
/// message or a second worker can never create a second charge or refund. Transient failures are retried
/// by the pipeline in <see cref="ProviderResilience"/>; anything else surfaces as an exception.
/// </summary>
public sealed class PaymentProviderClient(HttpClient http)
{
    static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public static string ChargeKey(Guid orderId) => $"order:{orderId}:charge";
    public static string RefundKey(Guid orderId) => $"order:{orderId}:refund";

    public async Task<ProviderPayment> CreatePaymentAsync(Guid orderId, decimal amount, string currency, TimeSpan expiresIn,
        CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/qr-payments")
        {
            Content = JsonContent.Create(new
            {
                merchantReference = orderId.ToString(),
                amount,
                currency,
                expiresInSeconds = (int)Math.Ceiling(expiresIn.TotalSeconds),
            }, options: Json),
        };
        request.Headers.Add("Idempotency-Key", ChargeKey(orderId));
        return await SendAsync<ProviderPayment>(request, cancellationToken);
    }

    public async Task<ProviderPayment> GetPaymentAsync(string providerReference, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"v1/qr-payments/{Uri.EscapeDataString(providerReference)}");
        return await SendAsync<ProviderPayment>(request, cancellationToken);
    }

    /// <summary>
    /// One page of the payments changed at or after <paramref name="updatedFrom"/> (and before <paramref name="updatedTo"/>
    /// when given; the provider's clock), oldest change first; <paramref name="cursor"/> continues where the previous page ended.
    /// </summary>
    public async Task<ProviderPaymentPage> ListChangedPaymentsAsync(DateTimeOffset updatedFrom, string? cursor, int limit,
        CancellationToken cancellationToken, DateTimeOffset? updatedTo = null)
    {
        var query = $"v1/qr-payments?updatedFrom={Timestamp(updatedFrom)}&limit={limit}";
        if (updatedTo is { } to)
            query += $"&updatedTo={Timestamp(to)}";
        if (cursor is not null)
            query += $"&cursor={Uri.EscapeDataString(cursor)}";
        using var request = new HttpRequestMessage(HttpMethod.Get, query);
        return await SendAsync<ProviderPaymentPage>(request, cancellationToken);
    }

    static string Timestamp(DateTimeOffset instant) =>
        Uri.EscapeDataString(instant.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffffffZ", System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>
    /// Withdraws an unpaid payment: the payment as the provider now has it (canceled, or already expired or failed),
    /// or null when the provider refuses because it cannot be withdrawn (409: paid meanwhile).
    /// </summary>
    public async Task<ProviderPayment?> CancelPaymentAsync(string providerReference, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"v1/qr-payments/{Uri.EscapeDataString(providerReference)}/cancel");
        try
        {
            return await SendAsync<ProviderPayment>(request, cancellationToken);
        }
        catch (PaymentProviderRejectedException e) when (e.Status == HttpStatusCode.Conflict)
        {
            return null;
        }
    }

    public async Task<ProviderRefund> RefundAsync(Guid orderId, string providerReference, decimal amount,
        CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"v1/qr-payments/{Uri.EscapeDataString(providerReference)}/refunds")
        {
            Content = JsonContent.Create(new { amount }, options: Json),
        };
        request.Headers.Add("Idempotency-Key", RefundKey(orderId));
        return await SendAsync<ProviderRefund>(request, cancellationToken);
    }

    async Task<T> SendAsync<T>(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(request, cancellationToken);
        return await response.Content.ReadFromJsonAsync<T>(Json, cancellationToken)
               ?? throw new InvalidOperationException($"payment provider sent an empty body for {request.RequestUri}");
    }

    async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var response = await http.SendAsync(request, cancellationToken);
        if (response.IsSuccessStatusCode)
            return response;

        var detail = Readable(await response.Content.ReadAsStringAsync(cancellationToken));
        response.Dispose();
        if (ProviderResilience.IsTransient(response.StatusCode))
            throw new HttpRequestException($"payment provider answered {(int)response.StatusCode}", null, response.StatusCode);
        throw new PaymentProviderRejectedException(response.StatusCode, detail.Length > 500 ? detail[..500] : detail);
    }

    /// <summary>A problem+json answer's <c>detail</c> (or <c>title</c>), which support reads; the raw body otherwise.</summary>
    static string Readable(string body)
    {
        try
        {
            using var problem = JsonDocument.Parse(body);
            foreach (var field in new[] { "detail", "title" })
                if (problem.RootElement.ValueKind == JsonValueKind.Object && problem.RootElement.TryGetProperty(field, out var text)
                    && text.ValueKind == JsonValueKind.String && text.GetString() is { Length: > 0 } readable)
                    return readable;
        }
        catch (JsonException)
        {
        }

        return body;
    }
}
