using System.Diagnostics;

namespace Sagas.Api.Orders;

/// <summary>
/// An order's trace (issue 14): the context of the request that accepted it, stored with the order
/// (<c>api.idempotency_keys.trace_parent</c>), so that work the Api does for the order later, in a request that does
/// not carry our context — the provider's webhook — joins the order's trace instead of starting one of its own.
/// Everything here is a no-op when the Api records no traces (<c>Sagas.Api</c> has no listener).
/// </summary>
public static class OrderTrace
{
    public const string SourceName = "Sagas.Api";

    static readonly ActivitySource Source = new(SourceName);

    /// <summary>The W3C traceparent of the request accepting an order, to store with it; null when nothing traces.</summary>
    public static string? Capture() =>
        Source.HasListeners() && Activity.Current is { IdFormat: ActivityIdFormat.W3C } request ? request.Id : null;

    /// <summary>The trace id support looks the order up by (32 lowercase hex digits); null when its trace was not recorded.</summary>
    public static string? TraceIdOf(string? traceParent) =>
        traceParent is not null && ActivityContext.TryParse(traceParent, null, out var context)
                                && context.TraceFlags.HasFlag(ActivityTraceFlags.Recorded)
            ? context.TraceId.ToHexString()
            : null;

    /// <summary>
    /// The span under which a webhook's work for its order is done (the publish to the saga, its commit): a child of the
    /// order's stored context, linked to the inbound request's span, which belongs to whatever trace the provider's call
    /// came with. Without a stored context (an order accepted while nothing traced) it is a child of the request.
    /// Null when nothing traces.
    /// </summary>
    public static Activity? StartWebhookWork(string? orderTraceParent, string webhookType, Guid orderId)
    {
        if (!Source.HasListeners())
            return null;

        var name = $"webhook {webhookType}";
        if (orderTraceParent is null || !ActivityContext.TryParse(orderTraceParent, null, isRemote: true, out var order))
            return Source.StartActivity(name, ActivityKind.Internal)?.SetTag("sagas.order_id", orderId.ToString("D"));

        ActivityLink[]? request = Activity.Current is { } inbound ? [new ActivityLink(inbound.Context)] : null;
        return Source.StartActivity(name, ActivityKind.Internal, order, links: request)?.SetTag("sagas.order_id", orderId.ToString("D"));
    }
}
