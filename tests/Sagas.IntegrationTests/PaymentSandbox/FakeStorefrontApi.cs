using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Sagas.IntegrationTests.PaymentSandbox;

/// <summary>
/// Plays the Api for the demo checkout's proxy: one catalog item, orders accepted with 202 (order
/// "missing" answers a bare 404, as a server that is not the Api might), and a
/// record of what arrived (key, idempotency key, body) so a test can see what the proxy forwarded.
/// </summary>
public sealed class FakeStorefrontApi : LoopbackServer
{
    public const string KnownSku = "MOUSE-1";

    readonly ConcurrentQueue<ForwardedRequest> _requests = new();

    public IReadOnlyCollection<ForwardedRequest> Requests => _requests;

    protected override void Map(WebApplication app)
    {
        app.Use(async (context, next) =>
        {
            context.Request.EnableBuffering();
            var body = await new StreamReader(context.Request.Body).ReadToEndAsync();
            context.Request.Body.Position = 0;
            _requests.Enqueue(new ForwardedRequest(context.Request.Method, context.Request.Path,
                context.Request.Headers["X-Api-Key"].ToString(), context.Request.Headers["Idempotency-Key"].ToString(), body));
            await next(context);
        });
        app.MapGet("/items/{sku}", (string sku) => sku == KnownSku
            ? Results.Ok(new { sku, name = "Mouse", category = "input", price = 19.99m, currency = "USD", onHand = 10, held = 0, available = 10 })
            : Results.Problem($"Unknown sku {sku}.", statusCode: 404, title: "Not found"));
        app.MapPost("/orders", () => Results.Accepted("/orders/o-1", new { orderId = "o-1", status = "Submitted" }));
        app.MapGet("/orders/{orderId}", (string orderId) => orderId == "missing"
            ? Results.NotFound()
            : Results.Ok(new { orderId, status = "AwaitingPayment" }));
    }
}

public sealed record ForwardedRequest(string Method, string Path, string ApiKey, string IdempotencyKey, string Body);
