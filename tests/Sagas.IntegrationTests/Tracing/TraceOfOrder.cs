using System.Diagnostics;

namespace Sagas.IntegrationTests.Tracing;

/// <summary>The spans of one order's trace, and which stage of the order each expected span stands for.</summary>
sealed class TraceOfOrder
{
    readonly IReadOnlyList<Activity> _all;
    readonly string _traceId;

    TraceOfOrder(IReadOnlyList<Activity> all, string traceId)
    {
        _all = all;
        _traceId = traceId;
        Spans = all.Where(span => span.TraceId.ToHexString() == traceId).ToList();
    }

    public IReadOnlyList<Activity> Spans { get; }

    public static TraceOfOrder Of(IReadOnlyList<Activity> all, string traceId) => new(all, traceId);

    IReadOnlyDictionary<string, Func<Activity, bool>> Stages => new Dictionary<string, Func<Activity, bool>>
    {
        ["Api: POST /orders, the root"] = span => span.IsServer("POST", "/orders") && span.ParentSpanId == default,
        ["outbox: SubmitOrder written in the request"] = span => span.IsOutboxWriteOf("SubmitOrder") && Parent(span) is { Kind: ActivityKind.Server },
        ["delivery: SubmitOrder sent under the stored context"] = span => span.IsSendOf("SubmitOrder") && Parent(span) is { } write && write.IsOutboxWriteOf("SubmitOrder"),
        ["saga: SubmitOrder"] = span => span.IsConsumeOf("SubmitOrder"),
        ["inventory: HoldStock"] = span => span.IsConsumeOf("HoldStock"),
        ["saga: StockHeld"] = span => span.IsConsumeOf("StockHeld"),
        ["payments: RequestPayment"] = span => span.IsConsumeOf("RequestPayment"),
        ["provider HTTP: POST /v1/qr-payments from the Workers"] = span => span.IsClientCall("POST", "/v1/qr-payments"),
        ["provider HTTP: POST /v1/qr-payments at the sandbox"] = span => span.IsServer("POST", "/v1/qr-payments") && Parent(span) is { Kind: ActivityKind.Client },
        ["saga: PaymentRequested"] = span => span.IsConsumeOf("PaymentRequested"),
        ["webhook: payment.succeeded, linked to the provider's request"] = span => span.DisplayName == "webhook payment.succeeded" && LinksToWebhookRequest(span),
        ["saga: PaymentSucceeded"] = span => span.IsConsumeOf("PaymentSucceeded"),
        ["placement: PlaceOrder"] = span => span.IsConsumeOf("PlaceOrder"),
        ["saga: StockCommitted"] = span => span.IsConsumeOf("StockCommitted"),
    };

    public IReadOnlyList<string> Missing => Stages.Where(stage => !Spans.Any(stage.Value)).Select(stage => stage.Key).ToList();

    public IReadOnlyList<Activity> Roots => Spans.Where(span => span.ParentSpanId == default).ToList();

    public IReadOnlyList<Activity> Orphans => Spans.Where(span => span.ParentSpanId != default && Parent(span) is null).ToList();

    public bool IsWhole => Missing.Count == 0 && Orphans.Count == 0 && Roots.Count == 1;

    public void AssertWhole()
    {
        Assert.True(Missing.Count == 0, $"stages missing from the order's trace: {string.Join("; ", Missing)}\n{this}");
        Assert.True(Orphans.Count == 0, $"orphaned spans: {string.Join("; ", Orphans.Select(s => s.Describe()))}\n{this}");
        var root = Assert.Single(Roots);
        Assert.True(root.IsServer("POST", "/orders"), $"the root is {root.Describe()}");
    }

    Activity? Parent(Activity span) => Spans.FirstOrDefault(candidate => candidate.SpanId == span.ParentSpanId);

    /// <summary>The provider's webhook request is a span of another trace (the sandbox's dispatcher); the work is linked to it.</summary>
    bool LinksToWebhookRequest(Activity span) =>
        span.Links.Any(link => link.Context.TraceId.ToHexString() != _traceId
                               && _all.Any(request => request.SpanId == link.Context.SpanId && request.IsServer("POST", "/webhooks/payments")));

    public override string ToString() =>
        $"trace {_traceId}, {Spans.Count} spans; missing: {string.Join("; ", Missing)}; orphans: {Orphans.Count}; roots: {Roots.Count}\n  "
        + string.Join("\n  ", Spans.OrderBy(span => span.StartTimeUtc).Select(span => span.Describe()));
}
