using System.Diagnostics;
using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Sagas.Observability;

/// <summary>
/// How Api, Workers and payment sandbox log: outside Development one JSON object per line on stdout (what a log
/// shipper reads without parsing prose), with the scopes — the trace and span ids of the current activity (an HTTP
/// request, a traced message), and the order id while a message about an order is consumed (<c>OrderId</c>).
/// Development keeps the readable console lines. <c>Logging:Console:FormatterName</c> (<c>simple</c>, <c>json</c>,
/// <c>systemd</c>) chooses either way in any environment.
/// </summary>
public static class LoggingRegistration
{
    public const string FormatterNameKey = "Logging:Console:FormatterName";

    public static WebApplicationBuilder AddSagasLogging(this WebApplicationBuilder builder)
    {
        builder.Logging.Configure(options => options.ActivityTrackingOptions =
            ActivityTrackingOptions.TraceId | ActivityTrackingOptions.SpanId | ActivityTrackingOptions.ParentId);
        if (builder.Configuration[FormatterNameKey] is null && !builder.Environment.IsDevelopment())
            builder.Logging.AddJsonConsole(json =>
            {
                json.IncludeScopes = true;
                json.UseUtcTimestamp = true;
                json.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
                // Logs are not HTML: keep <, >, & and non-ASCII text as written (quotes and control characters are
                // still escaped), so a message reads — and is searched for — as it was logged.
                json.JsonWriterOptions = new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
            });
        return builder;
    }

    /// <summary>A log scope naming the order, for every log line written while it is open.</summary>
    public static IDisposable? BeginOrderScope(this ILogger logger, Guid orderId) =>
        logger.BeginScope(new OrderScope(orderId));

    /// <summary>Rendered as <c>{"OrderId": "…"}</c> by the JSON console and as <c>OrderId:…</c> by the simple one.</summary>
    sealed class OrderScope(Guid orderId) : IReadOnlyList<KeyValuePair<string, object?>>
    {
        public KeyValuePair<string, object?> this[int index] =>
            index == 0 ? new("OrderId", orderId) : throw new ArgumentOutOfRangeException(nameof(index));

        public int Count => 1;

        public IEnumerator<KeyValuePair<string, object?>> GetEnumerator()
        {
            yield return this[0];
        }

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();

        public override string ToString() => $"OrderId:{orderId}";
    }
}
