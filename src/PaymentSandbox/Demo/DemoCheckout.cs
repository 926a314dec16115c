using System.Net.Http.Headers;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using Sagas.Observability;
using Sagas.PaymentSandbox.Http;
using Sagas.ServiceDefaults.Http;

namespace Sagas.PaymentSandbox.Demo;

/// <summary>
/// The demo checkout (<c>/demo/</c>): a page that plays a storefront against the Api and the customer
/// against this sandbox. The page talks only to the sandbox; <c>/demo/api/…</c> forwards its storefront
/// calls to the Api with the storefront key, so the key never reaches the browser and no CORS is needed.
/// The Api is reached by URL only, as everything else outside the sandbox.
/// </summary>
public static class DemoCheckout
{
    public const string HttpClientName = "demo-api";

    /// <summary>For the order's event stream, which stays open until the order is final: no overall timeout.</summary>
    public const string StreamingClientName = "demo-api-stream";

    public static IServiceCollection AddDemoCheckout(this IServiceCollection services)
    {
        services.AddOptions<DemoOptions>().BindConfiguration(DemoOptions.Section).ValidateProblems(o => o.Problems());
        services.AddHttpClient(HttpClientName, (provider, client) =>
        {
            client.BaseAddress = provider.GetRequiredService<IOptions<DemoOptions>>().Value.ApiUrl;
            client.Timeout = TimeSpan.FromSeconds(10);
        });
        services.AddHttpClient(StreamingClientName, (provider, client) =>
        {
            client.BaseAddress = provider.GetRequiredService<IOptions<DemoOptions>>().Value.ApiUrl;
            client.Timeout = Timeout.InfiniteTimeSpan;
        });
        return services;
    }

    public static IEndpointRouteBuilder MapDemoCheckout(this IEndpointRouteBuilder app)
    {
        app.MapGet("/", () => Results.Redirect("/demo/"));

        var api = app.MapGroup("/demo/api");
        // No key, no demo: forwarding without one would only collect the Api's 401s.
        api.AddEndpointFilter(async (context, next) =>
            context.HttpContext.RequestServices.GetRequiredService<IOptions<DemoOptions>>().Value.StorefrontKey is { Length: > 0 }
                ? await next(context)
                : Problems.Unavailable("The demo checkout has no storefront key: set Demo:StorefrontKey (environment variable Demo__StorefrontKey)."));
        api.MapGet("/config", (IOptions<DemoOptions> options) =>
            TypedResults.Ok(new { skus = options.Value.Skus, apiUrl = options.Value.ApiUrl }));
        api.MapGet("/items/{sku}", (string sku, HttpContext context) =>
            ForwardAsync(HttpMethod.Get, $"items/{Uri.EscapeDataString(sku)}", context));
        api.MapGet("/orders/{orderId}", (string orderId, HttpContext context) =>
            ForwardAsync(HttpMethod.Get, $"orders/{Uri.EscapeDataString(orderId)}", context));
        // Server-sent events, passed on as they come so the page needs no polling.
        api.MapGet("/orders/{orderId}/events", (string orderId, HttpContext context) =>
            StreamAsync($"orders/{Uri.EscapeDataString(orderId)}/events", context));
        api.MapPost("/orders", ([FromHeader(Name = "Idempotency-Key")] string? idempotencyKey, HttpContext context) =>
            ForwardAsync(HttpMethod.Post, "orders", context, idempotencyKey));
        return app;
    }

    static async Task<IResult> ForwardAsync(HttpMethod method, string path, HttpContext context, string? idempotencyKey = null)
    {
        var options = context.RequestServices.GetRequiredService<IOptions<DemoOptions>>().Value;
        using var request = new HttpRequestMessage(method, path);
        request.Headers.Add("X-Api-Key", options.StorefrontKey);
        if (idempotencyKey is not null)
            request.Headers.Add("Idempotency-Key", idempotencyKey);
        if (method == HttpMethod.Post)
        {
            using var reader = new StreamReader(context.Request.Body);
            request.Content = new StringContent(await reader.ReadToEndAsync(context.RequestAborted));
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        }

        try
        {
            var client = context.RequestServices.GetRequiredService<IHttpClientFactory>().CreateClient(HttpClientName);
            using var response = await client.SendAsync(request, context.RequestAborted);
            var body = await response.Content.ReadAsByteArrayAsync(context.RequestAborted);
            var status = (int)response.StatusCode;
            if (status >= 400 && body.Length == 0)
                // Every error the page sees is problem+json, even when the Api (or whatever answers on its
                // port) sent none.
                return Problems.Of(status, $"The Api at {options.ApiUrl} answered {status} without details.");
            return new ForwardedResponse(status, response.Content.Headers.ContentType?.ToString(), body);
        }
        catch (Exception exception) when (exception is HttpRequestException or TaskCanceledException
                                          && !context.RequestAborted.IsCancellationRequested)
        {
            return Problems.BadGateway($"The Api at {options.ApiUrl} did not answer; is it running?");
        }
    }

    static async Task StreamAsync(string path, HttpContext context)
    {
        var options = context.RequestServices.GetRequiredService<IOptions<DemoOptions>>().Value;
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Add("X-Api-Key", options.StorefrontKey);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        var client = context.RequestServices.GetRequiredService<IHttpClientFactory>().CreateClient(StreamingClientName);
        try
        {
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, context.RequestAborted);
            if (!response.IsSuccessStatusCode)
            {
                var body = await response.Content.ReadAsByteArrayAsync(context.RequestAborted);
                await new ForwardedResponse((int)response.StatusCode, response.Content.Headers.ContentType?.ToString(), body).ExecuteAsync(context);
                return;
            }

            context.Response.ContentType = "text/event-stream";
            context.Response.Headers.CacheControl = "no-cache, no-store";
            await using var events = await response.Content.ReadAsStreamAsync(context.RequestAborted);
            var buffer = new byte[4096];
            int read;
            while ((read = await events.ReadAsync(buffer, context.RequestAborted)) > 0)
            {
                await context.Response.Body.WriteAsync(buffer.AsMemory(0, read), context.RequestAborted);
                await context.Response.Body.FlushAsync(context.RequestAborted);
            }
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The page went away.
        }
        catch (HttpRequestException) when (!context.Response.HasStarted)
        {
            await Problems.BadGateway($"The Api at {options.ApiUrl} did not answer; is it running?").ExecuteAsync(context);
        }
    }

    /// <summary>The Api's answer as it was: status, content type (problem+json stays problem+json) and body.</summary>
    sealed class ForwardedResponse(int statusCode, string? contentType, byte[] body) : IResult
    {
        public async Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.StatusCode = statusCode;
            if (contentType is not null)
                httpContext.Response.ContentType = contentType;
            await httpContext.Response.Body.WriteAsync(body, httpContext.RequestAborted);
        }
    }
}
