using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Sagas.IntegrationTests.PaymentSandbox;

/// <summary>
/// Stands in for the Api's <c>POST /webhooks/payments</c>: a real Kestrel listener on loopback that
/// records every request as received (raw body and signature header) and answers 200.
/// </summary>
public sealed class WebhookReceiver : LoopbackServer
{
    readonly ConcurrentQueue<ReceivedWebhook> _received = new();

    public Uri Url => new(BaseUrl, "webhooks/payments");

    public IReadOnlyList<ReceivedWebhook> For(string providerReference) =>
        _received.Where(w => w.ProviderReference == providerReference).ToList();

    protected override void Map(WebApplication app) =>
        app.MapPost("/webhooks/payments", async (HttpRequest request) =>
        {
            using var reader = new StreamReader(request.Body, Encoding.UTF8);
            var body = await reader.ReadToEndAsync();
            _received.Enqueue(new ReceivedWebhook(request.Headers["X-Signature"].ToString(), body, request.ContentType));
            return Results.Ok(new { received = true });
        });
}

public sealed record ReceivedWebhook(string SignatureHeader, string Body, string? ContentType)
{
    JsonElement Json => JsonDocument.Parse(Body).RootElement;

    public string EventId => Json.GetProperty("eventId").GetString()!;
    public string Type => Json.GetProperty("type").GetString()!;
    public string ProviderReference => Json.GetProperty("providerReference").GetString()!;
    public string MerchantReference => Json.GetProperty("merchantReference").GetString()!;
    public decimal Amount => Json.GetProperty("amount").GetDecimal();
    public string Currency => Json.GetProperty("currency").GetString()!;
    public DateTime OccurredAt => Json.GetProperty("occurredAt").GetDateTime();

    /// <summary>
    /// Checks <c>t=&lt;unix&gt;,v1=&lt;hex HMAC-SHA256(secret, "t.body")&gt;</c> independently of the
    /// sandbox's code, and returns the timestamp.
    /// </summary>
    public long VerifySignature(string secret)
    {
        var parts = SignatureHeader.Split(',').Select(p => p.Split('=', 2)).ToDictionary(p => p[0], p => p[1]);
        var timestamp = long.Parse(parts["t"]);
        Assert.Equal(ProviderSignature.Header(secret, timestamp, Body), SignatureHeader);
        return timestamp;
    }
}
