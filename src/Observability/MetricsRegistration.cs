using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Npgsql;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;

namespace Sagas.Observability;

/// <summary>
/// The one place where Api, Workers and payment sandbox get their metrics: OpenTelemetry's meter provider listening
/// to the standard instrumentation (ASP.NET Core and Kestrel, HttpClient, the .NET runtime, Npgsql's commands and
/// connection pools, MassTransit) and to the product's own meters (<c>Sagas.*</c>), served as Prometheus text at
/// <c>GET /metrics</c> without a key (http-contract.md, "Operations").
/// <para>
/// Traces are beside it, on the same <c>AddOpenTelemetry()</c> and resource: <see cref="TracingRegistration"/>.
/// </para>
/// </summary>
public static partial class MetricsRegistration
{
    public const string Path = "/metrics";

    /// <summary>The product's meters: <c>Sagas.Api</c>, <c>Sagas.Workers</c>, <c>Sagas.Messaging</c>.</summary>
    public const string ProductMeters = "Sagas.*";

    /// <summary>MassTransit 8's own meter (receive, consume, saga, send counters and durations per endpoint and message type).</summary>
    public const string MassTransitMeter = "MassTransit";

    /// <param name="serviceName">The service's name in the <c>target_info</c> series, e.g. <c>sagas-api</c> (<c>OTEL_SERVICE_NAME</c> overrides it).</param>
    public static WebApplicationBuilder AddSagasMetrics(this WebApplicationBuilder builder, string serviceName)
    {
        var section = builder.Configuration.GetSection(MetricsOptions.Section);
        builder.Services.AddOptions<MetricsOptions>().Bind(section).ValidateProblems(o => o.Problems());
        var options = section.Get<MetricsOptions>() ?? new MetricsOptions();
        if (!options.Enabled)
            return builder;

        if (options.Port is { } port)
        {
            // Beside the service's own addresses, not instead of them (Kestrel endpoints set in code would replace them).
            var urls = (builder.Configuration["urls"] ?? "http://localhost:5000").Split(';', StringSplitOptions.RemoveEmptyEntries);
            builder.WebHost.UseUrls([.. urls, $"http://{HostOf(urls[0])}:{port}"]);
        }

        builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(TracingOptions.ServiceName(builder.Configuration, serviceName)))
            .WithMetrics(metrics => metrics
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddRuntimeInstrumentation()
                .AddNpgsqlInstrumentation()
                .AddMeter(MassTransitMeter, ProductMeters)
                .AddPrometheusExporter());
        return builder;
    }

    /// <summary>Serves <c>GET /metrics</c>; call it first, so that no key, rate limit or other middleware applies to it.</summary>
    public static WebApplication UseSagasMetrics(this WebApplication app)
    {
        var options = app.Services.GetRequiredService<IOptions<MetricsOptions>>().Value;
        if (!options.Enabled)
            return app;

        var port = options.Port;
        app.UseOpenTelemetryPrometheusScrapingEndpoint(
            meterProvider: null,
            predicate: context => context.Request.Path == Path && (port is null || context.Connection.LocalPort == port),
            path: null,
            configureBranchedPipeline: KeepOutOfRequestMetrics,
            optionsName: null);
        if (port is not null)
        {
            // The metrics port serves the metrics and nothing else.
            app.Use((context, next) =>
            {
                if (context.Connection.LocalPort != port)
                    return next(context);
                context.Response.StatusCode = StatusCodes.Status404NotFound;
                return Task.CompletedTask;
            });
        }

        return app;
    }

    /// <summary>Scrapes are not traffic: <c>http_server_request_duration_seconds</c> counts the service's own requests only.</summary>
    static void KeepOutOfRequestMetrics(IApplicationBuilder branch) =>
        branch.Use((context, next) =>
        {
            if (context.Features.Get<IHttpMetricsTagsFeature>() is { } tags)
                tags.MetricsDisabled = true;
            return next(context);
        });

    /// <summary>The host part of a URL as ASP.NET Core takes it (<c>http://127.0.0.1:5080</c>, <c>http://+:80</c>, <c>http://[::1]:5000</c>).</summary>
    internal static string HostOf(string url) =>
        UrlHost().Match(url) is { Success: true } match ? match.Groups["host"].Value : "localhost";

    [GeneratedRegex(@"^[a-z]+://(?<host>\[[^\]]+\]|[^:/]+)", RegexOptions.IgnoreCase)]
    private static partial Regex UrlHost();
}
