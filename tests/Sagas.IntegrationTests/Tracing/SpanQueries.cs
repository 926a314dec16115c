using System.Diagnostics;

namespace Sagas.IntegrationTests.Tracing;

/// <summary>What the tests read from spans: MassTransit's tags, ASP.NET Core's and HttpClient's names.</summary>
static class SpanQueries
{
    public static string? Tag(this Activity span, string key) => span.GetTagItem(key)?.ToString();

    /// <summary>MassTransit's consume span ("… process") of a message type (its URN ends in <c>:Name</c>).</summary>
    public static bool IsConsumeOf(this Activity span, string messageType) =>
        span.Tag("messaging.operation") == "process" && Carries(span, messageType);

    /// <summary>MassTransit's span of a message written to an outbox.</summary>
    public static bool IsOutboxWriteOf(this Activity span, string messageType) =>
        span.OperationName == "outbox send" && Carries(span, messageType);

    /// <summary>MassTransit's transport send span (the delivery), not the outbox write.</summary>
    public static bool IsSendOf(this Activity span, string messageType) =>
        span.Kind == ActivityKind.Producer && span.Tag("messaging.operation") == "send" && span.OperationName != "outbox send"
        && Carries(span, messageType);

    public static bool IsServer(this Activity span, string method, string pathStart) =>
        span.Kind == ActivityKind.Server && span.DisplayName.StartsWith($"{method} {pathStart}", StringComparison.Ordinal);

    public static bool IsClientCall(this Activity span, string method, string pathPart) =>
        span.Kind == ActivityKind.Client && span.Tag("http.request.method") == method && span.Tag("url.full") is { } url && url.Contains(pathPart);

    static bool Carries(Activity span, string messageType) =>
        span.Tag("messaging.masstransit.message_types") is { } types
        && types.Split(',').Any(type => type.EndsWith($":{messageType}", StringComparison.Ordinal));

    public static string Describe(this Activity span) =>
        $"{span.Kind} '{span.DisplayName}' {span.SpanId}←{(span.ParentSpanId == default ? "root" : span.ParentSpanId.ToHexString())}" +
        (span.Tag("messaging.masstransit.message_types") is { } types ? $" [{types}]" : "") +
        (span.Links.Any() ? $" links {string.Join(",", span.Links.Select(l => $"{l.Context.TraceId}/{l.Context.SpanId}"))}" : "");
}
