using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Net;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Polly.CircuitBreaker;
using Sagas.Testing;
using Sagas.Workers.Payments;

namespace Sagas.UnitTests.Payments;

/// <summary>The provider pipeline's circuit breaker: opens when a provider fails often enough, closes once it answers again.</summary>
public sealed class Provider_circuit
{
    readonly LogLines _log = new();
    readonly PaymentProviderOptions _options = new() { MaxRetries = 1, RetryBaseDelay = TimeSpan.FromMilliseconds(1), BreakDuration = TimeSpan.FromMilliseconds(500) };

    [Fact]
    public async Task Thirty_percent_failures_open_the_circuit_and_it_closes_once_the_provider_answers()
    {
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var meters = services.GetRequiredService<IMeterFactory>();
        using var recorded = new MetricRecorder(meters);
        var metrics = new ProviderMetrics(meters);
        var pipeline = ProviderResilience.Build(_options, _log, metrics);
        var failing = true;
        var calls = 0;

        async Task<HttpStatusCode> Call() =>
            (await pipeline.ExecuteAsync(_ => ValueTask.FromResult(new HttpResponseMessage(
                failing && Interlocked.Increment(ref calls) % 10 < 3 ? HttpStatusCode.ServiceUnavailable : HttpStatusCode.OK)))).StatusCode;

        // 30% of attempts fail; past the minimum throughput the breaker opens and calls fail fast.
        var rejected = false;
        for (var i = 0; i < 200 && !rejected; i++)
        {
            try
            {
                await Call();
            }
            catch (BrokenCircuitException)
            {
                rejected = true;
            }
        }

        Assert.True(rejected, "the circuit never opened");
        Assert.Contains(_log.Lines, l => l.StartsWith("Payment provider circuit opened", StringComparison.Ordinal));
        // One opening, unless a loaded machine let the break run out before the next call: the half-open probe then
        // meets the 30% again and may open it once more. Every opening is counted, and logged, once.
        var openings = _log.Lines.Count(l => l.StartsWith("Payment provider circuit opened", StringComparison.Ordinal));
        Assert.Equal(openings, recorded.Sum("sagas.provider.circuit.openings"));
        Assert.NotEqual(CircuitState.Closed, metrics.CircuitState);

        // A healthy provider again: once the break is over, the half-open probe succeeds and the circuit closes.
        failing = false;
        await Eventually.Until(async () =>
        {
            try
            {
                return await Call() == HttpStatusCode.OK;
            }
            catch (BrokenCircuitException)
            {
                return false;
            }
        }, ok => ok, TimeSpan.FromSeconds(10), "the circuit let a call through again");
        Assert.Contains(_log.Lines, l => l == "Payment provider circuit closed");
        Assert.Equal(CircuitState.Closed, metrics.CircuitState);
    }

    [Fact]
    public async Task The_circuit_is_reported_when_its_pipeline_was_built_twice()
    {
        // The pipeline registry builds a pipeline once per racing first call and keeps one: both builds share the
        // metrics. (With a shared Polly state provider the second build threw, failing a customer's payment request.)
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var metrics = new ProviderMetrics(services.GetRequiredService<IMeterFactory>());
        _ = ProviderResilience.Build(_options, _log, metrics);
        var pipeline = ProviderResilience.Build(_options, _log, metrics);

        for (var i = 0; i < 100 && metrics.CircuitState == CircuitState.Closed; i++)
        {
            try
            {
                await pipeline.ExecuteAsync(_ => ValueTask.FromResult(new HttpResponseMessage(HttpStatusCode.ServiceUnavailable)));
            }
            catch (BrokenCircuitException)
            {
            }
        }

        Assert.Equal(CircuitState.Open, metrics.CircuitState);
    }

    [Theory]
    [InlineData("POST", "http://provider/v1/qr-payments", "create")]
    [InlineData("GET", "http://provider/v1/qr-payments?updatedFrom=2026-11-26T00:00:00Z&limit=500", "list")]
    [InlineData("GET", "http://provider/v1/qr-payments/qr_7f3a", "get")]
    [InlineData("POST", "http://provider/v1/qr-payments/qr_7f3a/cancel", "cancel")]
    [InlineData("POST", "http://provider/psp/v1/qr-payments/qr_7f3a/refunds", "refund")]
    [InlineData("DELETE", "http://provider/v1/qr-payments/qr_7f3a", "other")]
    public void A_provider_call_is_labelled_by_its_operation_never_by_its_payment(string method, string url, string operation) =>
        Assert.Equal(operation, ProviderOperations.Of(new HttpRequestMessage(new HttpMethod(method), url)));

    [Fact]
    public async Task Occasional_failures_below_the_ratio_keep_the_circuit_closed()
    {
        var pipeline = ProviderResilience.Build(_options, _log);
        var calls = 0;

        for (var i = 0; i < 200; i++)
        {
            var response = await pipeline.ExecuteAsync(_ => ValueTask.FromResult(new HttpResponseMessage(
                Interlocked.Increment(ref calls) % 10 == 0 ? HttpStatusCode.ServiceUnavailable : HttpStatusCode.OK)));
            Assert.NotNull(response);
        }

        Assert.DoesNotContain(_log.Lines, l => l.Contains("circuit opened", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_payment_polls_failing_listing_reads_do_not_open_the_circuit_in_front_of_new_payments()
    {
        var provider = new StatusHandler(HttpStatusCode.ServiceUnavailable);
        await using var built = RegisteredClient(provider);
        var http = built.GetRequiredService<IHttpClientFactory>().CreateClient(nameof(PaymentProviderClient));

        // Far past the breaker's minimum throughput, every read failing: each tick is its own retry, sent once.
        for (var i = 0; i < 60; i++)
            Assert.Equal(HttpStatusCode.ServiceUnavailable, (await http.GetAsync("v1/qr-payments?updatedFrom=2026-11-26T00:00:00Z&limit=500")).StatusCode);
        Assert.Equal(60, provider.Calls);

        // A customer's new payment still reaches the provider.
        provider.Status = HttpStatusCode.Created;
        Assert.Equal(HttpStatusCode.Created, (await http.PostAsync("v1/qr-payments", new StringContent("{}"))).StatusCode);
        Assert.Equal(CircuitState.Closed, built.GetRequiredService<ProviderMetrics>().CircuitState);
    }

    [Fact]
    public async Task A_failing_call_is_retried_then_opens_the_circuit_of_the_registered_client()
    {
        var provider = new StatusHandler(HttpStatusCode.ServiceUnavailable);
        await using var built = RegisteredClient(provider);
        var http = built.GetRequiredService<IHttpClientFactory>().CreateClient(nameof(PaymentProviderClient));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await http.GetAsync("v1/qr-payments/qr_1")).StatusCode);
        Assert.Equal(1 + new PaymentProviderOptions().MaxRetries, provider.Calls);
        await Assert.ThrowsAnyAsync<BrokenCircuitException>(async () =>
        {
            for (var i = 0; i < 20; i++)
                await http.GetAsync("v1/qr-payments/qr_1");
        });
    }

    /// <summary>The Workers' registration of the provider client (AddPaymentProvider), talking to <paramref name="provider"/>.</summary>
    static ServiceProvider RegisteredClient(HttpMessageHandler provider)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["PaymentProvider:BaseUrl"] = "http://provider/",
            ["PaymentProvider:RetryBaseDelay"] = "00:00:00.001",
        }).Build();
        var services = new ServiceCollection().AddLogging().AddMetrics().AddPaymentProvider(configuration);
        services.AddHttpClient<PaymentProviderClient>().ConfigurePrimaryHttpMessageHandler(() => provider);
        return services.BuildServiceProvider();
    }

    sealed class StatusHandler(HttpStatusCode status) : HttpMessageHandler
    {
        int _calls;
        public HttpStatusCode Status { get; set; } = status;
        public int Calls => _calls;

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _calls);
            return Task.FromResult(new HttpResponseMessage(Status));
        }
    }

    sealed class LogLines : ILogger
    {
        public ConcurrentQueue<string> Lines { get; } = new();

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Lines.Enqueue(formatter(state, exception));
    }
}
