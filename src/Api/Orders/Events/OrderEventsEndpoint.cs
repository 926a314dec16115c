using System.Security.Claims;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;
using Sagas.Api.Hosting;
using Sagas.Data.Ordering;

namespace Sagas.Api.Orders.Events;

/// <summary>
/// <c>GET /orders/{orderId}/events</c> (http-contract.md, "Additions, 2026-11-26"): server-sent events, so a storefront
/// waits for its QR code and the final state without polling. An <c>event: order</c> carries what
/// <c>GET /orders/{orderId}</c> answers, sent at once and after every change; the stream ends after a final status.
/// Between events the stream holds no database connection: it waits for <see cref="OrderChangeFeed"/> to say the order
/// changed, then reads it once.
/// </summary>
public static class OrderEventsEndpoint
{
    public static void MapOrderEvents(this RouteGroupBuilder orders) =>
        orders.MapGet("/{orderId:guid}/events", Stream).RequireAuthorization(Policies.StorefrontOrSupport)
            .WithName("StreamOrderEvents").WithSummary("Follow an order: its JSON at once and after every change, the stream ending after a final status")
            .Produces(200, contentType: "text/event-stream").ProducesProblem(404);

    static async Task<IResult> Stream(Guid orderId, HttpContext http, ClaimsPrincipal user, OrderReader orders, OrderChangeFeed feed,
        IOptions<OrderEventsOptions> options, IOptions<JsonOptions> json, IHostApplicationLifetime lifetime)
    {
        // Before the first read: a change committed between that read and the subscription still wakes the stream.
        using var subscription = feed.Subscribe(orderId);
        if (await OrderEndpoints.FindVisible(orderId, user, orders, http.RequestAborted) is not { } found)
            return OrderEndpoints.NotFound(orderId);

        // The client going away or the Api shutting down ends the stream; so does its maximum duration.
        using var ending = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted, lifetime.ApplicationStopping);
        ending.CancelAfter(options.Value.MaxStreamDuration);
        var cancellationToken = ending.Token;

        var response = http.Response;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache, no-store";
        // Proxies (nginx) must pass each event on at once instead of buffering the response.
        response.Headers["X-Accel-Buffering"] = "no";
        try
        {
            // A client that lost the stream before a final status reconnects after 2 s and gets the current state at once.
            await WriteAsync(response, "retry: 2000\n\n", cancellationToken);
            var last = found.Order;
            await WriteAsync(response, Event(last, json.Value.SerializerOptions), cancellationToken);
            while (!OrderStatuses.IsFinal(last.Status))
            {
                var announced = await subscription.WaitAsync(options.Value.RefreshInterval, cancellationToken);
                if (await orders.FindAsync(orderId, cancellationToken) is not { } current)
                    break;
                var seen = OrderEndpoints.AsSeenBy(current.Order, user);
                // Lines never change and are compared by reference: everything else by value.
                if (seen with { Lines = last.Lines } != last)
                {
                    last = seen;
                    await WriteAsync(response, Event(last, json.Value.SerializerOptions), cancellationToken);
                }
                else if (!announced)
                {
                    await WriteAsync(response, ": keep-alive\n\n", cancellationToken);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The client left, the Api is stopping or the stream reached its maximum duration: nothing more to send.
        }

        return Results.Empty;
    }

    static string Event(OrderView order, JsonSerializerOptions options) =>
        $"event: order\ndata: {JsonSerializer.Serialize(order, options)}\n\n";

    static async Task WriteAsync(HttpResponse response, string text, CancellationToken cancellationToken)
    {
        await response.Body.WriteAsync(Encoding.UTF8.GetBytes(text), cancellationToken);
        await response.Body.FlushAsync(cancellationToken);
    }
}
