using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Sagas.Observability;

/// <summary>
/// The one place where Api, Workers and payment sandbox get their traces, beside <see cref="MetricsRegistration"/> on the
/// same <c>AddOpenTelemetry()</c> (one resource per service). Off unless the OTEL variables name a collector
/// (<see cref="TracingOptions"/>): then nothing listens to any activity source and no span is ever created for export.
/// <para>
/// Sources: MassTransit's (<c>MassTransit</c>: send, receive, consume, saga, "outbox send" when a message is written to
/// an outbox), ASP.NET Core's server spans (scrapes and probes left out), HttpClient's client spans (the provider calls,
/// the sandbox's webhooks) and the product's own (<c>Sagas.*</c>: the webhook's work under its order, timer firings).
/// </para>
/// <para>
/// PostgreSQL statements only with <c>Tracing:DatabaseStatements=true</c>: an order runs about 60 statements up to its QR
/// code alone (inbox, saga row lock, outbox rows, their deletes), which would bury its messaging spans and cost a span each,
/// and the statements of background loops (outbox claims, polls, Quartz) would each start a trace of their own. The
/// product's data sources trace only statements that run under a traced parent (<c>AddFulfilmentDatabase</c>);
/// Quartz's own connections are not among them.
/// </para>
/// </summary>
public static class TracingRegistration
{
    /// <summary>MassTransit 8's activity source (<c>MassTransit.Logging.DiagnosticHeaders.DefaultListenerName</c>).</summary>
    public const string MassTransitSource = "MassTransit";

    /// <summary>The product's activity sources: <c>Sagas.Api</c>, <c>Sagas.Messaging</c>.</summary>
    public const string ProductSources = "Sagas.*";

    /// <param name="serviceName">The service's name (<c>service.name</c>) unless <c>OTEL_SERVICE_NAME</c> says otherwise.</param>
    public static WebApplicationBuilder AddSagasTracing(this WebApplicationBuilder builder, string serviceName)
    {
        var options = TracingOptions.From(builder.Configuration);
        if (!options.Enabled)
            return builder;

        builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(TracingOptions.ServiceName(builder.Configuration, serviceName)))
            .WithTracing(tracing =>
            {
                tracing
                    .AddSource(MassTransitSource, ProductSources)
                    .AddAspNetCoreInstrumentation(aspNetCore => aspNetCore.Filter = context => !IsOperational(context.Request.Path))
                    .AddHttpClientInstrumentation();
                if (options.DatabaseStatements)
                    tracing.AddNpgsql();
                // Endpoint, protocol, headers, timeout and the sampler (OTEL_TRACES_SAMPLER) come from the OTEL variables.
                if (options.OtlpExporter)
                    tracing.AddOtlpExporter();
            });
        return builder;
    }

    /// <summary>Scrapes and probes every few seconds are no story anybody reads: they start no trace.</summary>
    static bool IsOperational(PathString path) =>
        path.StartsWithSegments(MetricsRegistration.Path) || path.StartsWithSegments("/health");
}
