using System.Net;
using Microsoft.Extensions.Options;
using Polly;
using Polly.CircuitBreaker;
using Polly.Retry;
using Polly.Timeout;
using Sagas.Messaging.Hosting;

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

    public static ResiliencePipeline<HttpResponseMessage> Build(PaymentProviderOptions options, ILogger logger)
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
                // Support reads these in the Workers' log; the benchmark's provider-fault scenario counts them.
                OnOpened = args =>
                {
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
}

/// <summary>Runs every request of the provider's HttpClient through the (process-wide) pipeline.</summary>
public sealed class ProviderResilienceHandler(ProviderPipeline pipeline) : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
        await pipeline.Pipeline.ExecuteAsync(
            async token => await base.SendAsync(request, token),
            cancellationToken);
}

/// <summary>
/// One pipeline per process: the circuit breaker's state must survive the HttpClient factory's handler
/// rotation, so it lives here rather than in the (short-lived) handler.
/// </summary>
public sealed class ProviderPipeline(IOptions<PaymentProviderOptions> options, ILogger<ProviderPipeline> logger)
{
    public ResiliencePipeline<HttpResponseMessage> Pipeline { get; } = ProviderResilience.Build(options.Value, logger);
}

public static class PaymentProviderRegistration
{
    public static IServiceCollection AddPaymentProvider(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<PaymentProviderOptions>().Bind(configuration.GetSection(PaymentProviderOptions.Section))
            .ValidateProblems(o => o.Problems());
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
