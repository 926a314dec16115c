using System.Diagnostics.Metrics;

namespace Sagas.Api.Hosting;

/// <summary>
/// What the Api decided (meter <c>Sagas.Api</c>, beside admission's <c>sagas_orders_refused_total</c>): orders accepted,
/// requests answered from their idempotency record, webhooks received and rejected. Status codes of every request
/// (401, 403, 429, 503, 5xx) are in ASP.NET Core's <c>http_server_request_duration_seconds</c>.
/// </summary>
public sealed class ApiMetrics
{
    public const string MeterName = "Sagas.Api";

    readonly Counter<long> _accepted;
    readonly Counter<long> _replays;
    readonly Counter<long> _webhooks;
    readonly Counter<long> _webhookRejections;

    public ApiMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(MeterName);
        _accepted = meter.CreateCounter<long>("sagas.orders.accepted", "{order}", "New orders committed (POST /orders answered 202 for the first time)");
        _replays = meter.CreateCounter<long>("sagas.orders.idempotent_replays", "{request}",
            "POST /orders answered from an earlier request with the same Idempotency-Key: outcome=replayed (202 again) or conflict (409, another body)");
        _webhooks = meter.CreateCounter<long>("sagas.webhooks.received", "{webhook}",
            "Signed, valid webhooks by type and result: published to the saga, duplicate (an event id seen before), unknown_order");
        _webhookRejections = meter.CreateCounter<long>("sagas.webhooks.rejected", "{webhook}",
            "Webhooks refused by reason: signature_missing, signature_stale, signature_mismatch (401), malformed, invalid (400)");
    }

    public void OrderAccepted() => _accepted.Add(1);

    public void Replayed(bool conflict) => _replays.Add(1, new KeyValuePair<string, object?>("outcome", conflict ? "conflict" : "replayed"));

    public void WebhookReceived(string? type, string result) =>
        _webhooks.Add(1, new KeyValuePair<string, object?>("type", type ?? "unknown"), new KeyValuePair<string, object?>("result", result));

    public void WebhookRejected(string reason) => _webhookRejections.Add(1, new KeyValuePair<string, object?>("reason", reason));
}
