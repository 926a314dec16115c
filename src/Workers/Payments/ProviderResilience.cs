using System.Diagnostics;
using System.Net;
using Microsoft.Extensions.Options;
using Polly;
using Polly.CircuitBreaker;
using Polly.Retry;
using Polly.Timeout;
using Sagas.Messaging.Hosting;
using Sagas.Observability;

namespace Sagas.Workers.Payments;

/// <summary>
/// The provider pipeline, outermost first: retry (exponential backoff with jitter, transient failures
/// only: network errors, timeouts, 408, 429, 5xx) → circuit breaker (stops hammering a provider that is
/// down; callers fail fast and the message is retried later by MassTransit) → per-attempt timeout.
/// Idempotency keys make every retried call safe.
/// </summary>
public static class ProviderResilience
{
    public static bool IsTransient(HttpStatusCode status) =>
        status is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests || (int)status >= 500;

    /// <param name="metrics">Where the circuit's state and openings are reported; null in specs of the pipeline alone.</param>
    public static ResiliencePipeline<HttpResponseMessage> Build(PaymentProviderOptions options, ILogger logger, ProviderMetrics? metrics = null)
    {
        var transient = new PredicateBuilder<HttpResponseMessage>()
            .Handle<HttpRequestException>()
            .Handle<TimeoutRejectedException>()
            .HandleResult(response => IsTransient(response.StatusCode));

        return new ResiliencePipelineBuilder<HttpResponseMessage>()
            .AddRetry(new RetryStrategyOptions<HttpResponseMessage>
            {
                ShouldHandle = transient,
                MaxRetryAttempts = options.MaxRetries,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = options.RetryBaseDelay,
            })
            .AddCircuitBreaker(new CircuitBreakerStrategyOptions<HttpResponseMessage>
            {
                ShouldHandle = transient,
                FailureRatio = options.FailureRatio,
                MinimumThroughput = 20,
                SamplingDuration = TimeSpan.FromSeconds(10),
                BreakDuration = options.BreakDuration,
                StateProvider = metrics?.Circuit,
                // Support reads these in the Workers' log; the benchmark's provider-fault scenario counts them.
                OnOpened = args =>
                {
                    metrics?.CircuitOpened();
                    logger.LogWarning("Payment provider circuit opened for {BreakDuration} (last outcome: {Outcome})",
                        args.BreakDuration, args.Outcome.Exception?.GetType().Name ?? ((int?)args.Outcome.Result?.StatusCode)?.ToString());
                    return ValueTask.CompletedTask;
                },
                OnClosed = _ =>
                {
                    logger.LogInformation("Payment provider circuit closed");
                    return ValueTask.CompletedTask;
                },
            })
            .AddTimeout(options.AttemptTimeout)
            .Build();
    }

    /// <summary>
    /// The payment poll's listing read: a per-attempt timeout only. A tick is its own retry (the next one comes within a
    /// second), and its outcome must not open the circuit in front of customers' QR codes and refunds: at one read per
    /// second it would be half the breaker's minimum throughput on its own, and a provider whose listing is slow says
    /// nothing about whether it can create a payment.
    /// </summary>
    public static ResiliencePipeline<HttpResponseMessage> BuildForListing(PaymentProviderOptions options) =>
        new ResiliencePipelineBuilder<HttpResponseMessage>().AddTimeout(options.AttemptTimeout).Build();
}

/// <summary>Runs every request of the provider's HttpClient through the (process-wide) pipeline, and measures it.</summary>
public sealed class ProviderResilienceHandler(ProviderPipeline pipeline, ProviderMetrics metrics) : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var outcome = "error";
        var operation = ProviderOperations.Of(request);
        try
        {
            var chosen = operation == ProviderOperations.List ? pipeline.Listing : pipeline.Pipeline;
            var response = await chosen.ExecuteAsync(async token => await base.SendAsync(request, token), cancellationToken);
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

/// <summary>
/// One pipeline per process: the circuit breaker's state must survive the HttpClient factory's handler
/// rotation, so it lives here rather than in the (short-lived) handler.
/// </summary>
public sealed class ProviderPipeline(IOptions<PaymentProviderOptions> options, ProviderMetrics metrics, ILogger<ProviderPipeline> logger)
{
    public ResiliencePipeline<HttpResponseMessage> Pipeline { get; } = ProviderResilience.Build(options.Value, logger, metrics);

    /// <summary>For the payment poll's listing reads (<see cref="ProviderResilience.BuildForListing"/>).</summary>
    public ResiliencePipeline<HttpResponseMessage> Listing { get; } = ProviderResilience.BuildForListing(options.Value);
}

public static class PaymentProviderRegistration
{
    public static IServiceCollection AddPaymentProvider(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<PaymentProviderOptions>().Bind(configuration.GetSection(PaymentProviderOptions.Section))
            .ValidateProblems(o => o.Problems());
        services.AddMetricsSource<ProviderMetrics>();
        services.AddSingleton<ProviderPipeline>();
        services.AddTransient<ProviderResilienceHandler>();
        services.AddHttpClient<PaymentProviderClient>((provider, http) =>
            {
                var options = provider.GetRequiredService<IOptions<PaymentProviderOptions>>().Value;
                http.BaseAddress = options.BaseUrl;
                http.Timeout = Timeout.InfiniteTimeSpan; // the pipeline's timeouts apply
            })
            .AddHttpMessageHandler(provider => provider.GetRequiredService<ProviderResilienceHandler>());
        return services;
    }
}
