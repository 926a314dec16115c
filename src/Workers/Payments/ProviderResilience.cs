using System.Diagnostics;
using System.Net;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;
using Polly;
using Polly.CircuitBreaker;
using Polly.Timeout;
using Sagas.Observability;

namespace Sagas.Workers.Payments;

/// <summary>
/// The provider pipeline, outermost first: retry (exponential backoff with jitter, the provider's <c>Retry-After</c>
/// honoured; transient failures only: network errors, timeouts, 408, 429, 5xx) → circuit breaker (stops hammering a
/// provider that is down; callers fail fast and the message is retried later by MassTransit) → per-attempt timeout.
/// Idempotency keys make every retried call safe. Built from Microsoft.Extensions.Http.Resilience's HTTP strategies
/// and registered with the provider's HttpClient (<see cref="PaymentProviderRegistration"/>), whose pipeline registry
/// keeps one pipeline — and so one circuit — per process across the client factory's handler rotation. Polly's own
/// log of every retry is left to <c>Logging:LogLevel:Polly</c> (Error in appsettings): the circuit's openings below
/// and the call metrics say what support needs without a line per retried call.
/// </summary>
public static class ProviderResilience
{
    public const string PipelineName = "payment-provider";

    /// <summary>The pipeline instance of every call but the payment poll's listing reads.</summary>
    public const string Calls = "calls";

    /// <summary>What the HTTP strategies' default predicate retries and counts against the circuit (besides network errors and timeouts).</summary>
    public static bool IsTransient(HttpStatusCode status) =>
        status is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests || (int)status >= 500;

    /// <param name="metrics">Where the circuit's state and openings are reported; null in specs of the pipeline alone.</param>
    public static ResiliencePipelineBuilder<HttpResponseMessage> AddProviderStrategies(this ResiliencePipelineBuilder<HttpResponseMessage> pipeline,
        PaymentProviderOptions options, ILogger logger, ProviderMetrics? metrics = null) =>
        pipeline
            .AddRetry(new HttpRetryStrategyOptions
            {
                MaxRetryAttempts = options.MaxRetries,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = options.RetryBaseDelay,
            })
            .AddCircuitBreaker(new HttpCircuitBreakerStrategyOptions
            {
                FailureRatio = options.FailureRatio,
                MinimumThroughput = 20,
                SamplingDuration = TimeSpan.FromSeconds(10),
                BreakDuration = options.BreakDuration,
                // Support reads these in the Workers' log; the benchmark's provider-fault scenario counts them.
                OnOpened = args =>
                {
                    metrics?.CircuitOpened();
                    logger.LogWarning("Payment provider circuit opened for {BreakDuration} (last outcome: {Outcome})",
                        args.BreakDuration, args.Outcome.Exception?.GetType().Name ?? ((int?)args.Outcome.Result?.StatusCode)?.ToString());
                    return ValueTask.CompletedTask;
                },
                OnHalfOpened = _ =>
                {
                    metrics?.CircuitHalfOpened();
                    return ValueTask.CompletedTask;
                },
                OnClosed = _ =>
                {
                    metrics?.CircuitClosed();
                    logger.LogInformation("Payment provider circuit closed");
                    return ValueTask.CompletedTask;
                },
            })
            .AddTimeout(new HttpTimeoutStrategyOptions { Timeout = options.AttemptTimeout });

    /// <summary>The calls' pipeline on its own, for specs of it.</summary>
    public static ResiliencePipeline<HttpResponseMessage> Build(PaymentProviderOptions options, ILogger logger, ProviderMetrics? metrics = null) =>
        new ResiliencePipelineBuilder<HttpResponseMessage>().AddProviderStrategies(options, logger, metrics).Build();

    /// <summary>
    /// The payment poll's listing read: a per-attempt timeout only. A tick is its own retry (the next one comes within a
    /// second), and its outcome must not open the circuit in front of customers' QR codes and refunds: at one read per
    /// second it would be half the breaker's minimum throughput on its own, and a provider whose listing is slow says
    /// nothing about whether it can create a payment.
    /// </summary>
    public static ResiliencePipelineBuilder<HttpResponseMessage> AddListingStrategies(this ResiliencePipelineBuilder<HttpResponseMessage> pipeline,
        PaymentProviderOptions options) =>
        pipeline.AddTimeout(new HttpTimeoutStrategyOptions { Timeout = options.AttemptTimeout });
}

/// <summary>
/// Measures every provider request as the caller sees it: outside the resilience handler, so retries and an open
/// circuit's fast failure are part of the call.
/// </summary>
public sealed class ProviderCallsHandler(ProviderMetrics metrics) : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var outcome = "error";
        var operation = ProviderOperations.Of(request);
        try
        {
            var response = await base.SendAsync(request, cancellationToken);
            outcome = response.IsSuccessStatusCode ? "success" : ProviderResilience.IsTransient(response.StatusCode) ? "failed" : "rejected";
            return response;
        }
        catch (Exception exception)
        {
            outcome = exception switch
            {
                BrokenCircuitException => "circuit_open",
                TimeoutRejectedException => "timeout",
                OperationCanceledException when cancellationToken.IsCancellationRequested => "canceled",
                _ => "error",
            };
            throw;
        }
        finally
        {
            metrics.Called(operation, outcome, Stopwatch.GetElapsedTime(started));
        }
    }
}

/// <summary>A provider request as a metric label: the operation of the Provider API it is, never its payment reference.</summary>
public static class ProviderOperations
{
    public const string List = "list";

    public static string Of(HttpRequestMessage request)
    {
        var path = request.RequestUri is { IsAbsoluteUri: true } uri ? uri.AbsolutePath : request.RequestUri?.OriginalString.Split('?')[0] ?? "";
        // What follows .../qr-payments: nothing (create, list), a reference (get), a reference and an action.
        var segments = path.Trim('/').Split('/');
        var after = segments.AsSpan(Array.IndexOf(segments, "qr-payments") + 1);
        return (request.Method.Method, after.Length, after.Length == 2 ? after[1] : null) switch
        {
            ("POST", 0, _) => "create",
            ("GET", 0, _) => List,
            ("GET", 1, _) => "get",
            ("POST", 2, "cancel") => "cancel",
            ("POST", 2, "refunds") => "refund",
            _ => "other",
        };
    }
}

public static class PaymentProviderRegistration
{
    public static IServiceCollection AddPaymentProvider(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<PaymentProviderOptions>().Bind(configuration.GetSection(PaymentProviderOptions.Section))
            .ValidateProblems(o => o.Problems());
        services.AddMetricsSource<ProviderMetrics>();
        services.AddTransient<ProviderCallsHandler>();
        services.AddHttpClient<PaymentProviderClient>((provider, http) =>
            {
                var options = provider.GetRequiredService<IOptions<PaymentProviderOptions>>().Value;
                http.BaseAddress = options.BaseUrl;
                http.Timeout = Timeout.InfiniteTimeSpan; // the pipeline's timeouts apply
            })
            .AddHttpMessageHandler(provider => provider.GetRequiredService<ProviderCallsHandler>())
            .AddResilienceHandler(ProviderResilience.PipelineName, (pipeline, context) =>
            {
                var options = context.ServiceProvider.GetRequiredService<IOptions<PaymentProviderOptions>>().Value;
                if (context.InstanceName == ProviderOperations.List)
                    pipeline.AddListingStrategies(options);
                else
                    pipeline.AddProviderStrategies(options, context.ServiceProvider.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(ProviderResilience)),
                        context.ServiceProvider.GetRequiredService<ProviderMetrics>());
            })
            .SelectPipelineBy(_ => request => ProviderOperations.Of(request) == ProviderOperations.List ? ProviderOperations.List : ProviderResilience.Calls);
        return services;
    }
}
