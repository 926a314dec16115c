using System.Diagnostics;
using System.Diagnostics.Metrics;
using Polly.CircuitBreaker;
using Sagas.Workers.Ordering;

namespace Sagas.Workers.Payments;

/// <summary>
/// The payment provider as the Workers experience it: each call's duration through the whole resilience pipeline
/// (retries included) by operation, outcome and the circuit's state after it, the circuit's state now, and how often it
/// opened. A circuit opens for <c>PaymentProvider:BreakDuration</c> (2 s), shorter than a scrape interval: alert on
/// the openings counter, not on the state gauge. The single HTTP attempts are in <c>http_client_request_duration_seconds</c>.
/// </summary>
public sealed class ProviderMetrics
{
    /// <summary>A call answers in milliseconds; with retries and the 5 s attempt timeout it can take about 21 s.</summary>
    static readonly double[] CallBuckets = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 20, 30];

    readonly Histogram<double> _calls;
    readonly Counter<long> _openings;

    public ProviderMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(OrderMetrics.MeterName);
        _calls = meter.CreateHistogram("sagas.provider.call.duration", "s",
            "Payment provider calls through the resilience pipeline (retries included), by operation, outcome and circuit state",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = CallBuckets });
        _openings = meter.CreateCounter<long>("sagas.provider.circuit.openings", "{opening}", "Times the provider circuit opened");
        meter.CreateObservableGauge("sagas.provider.circuit.open", () => CircuitState is CircuitState.Closed ? 0 : 1, "{circuit}",
            "1 while the provider circuit is open or half-open (calls fail fast), 0 when closed");
    }

    int _circuit = (int)CircuitState.Closed;

    /// <summary>
    /// The state of the one provider circuit of this process (<see cref="ProviderResilience"/>), as its callbacks
    /// report it. Not a Polly <see cref="CircuitBreakerStateProvider"/>: one of those serves one pipeline only, and the
    /// pipeline registry may build a pipeline twice when its first calls race (it keeps one): the second build threw
    /// "already initialized" into a customer's payment request.
    /// </summary>
    public CircuitState CircuitState => (CircuitState)Volatile.Read(ref _circuit);

    internal void CircuitOpened()
    {
        Volatile.Write(ref _circuit, (int)CircuitState.Open);
        _openings.Add(1);
    }

    internal void CircuitHalfOpened() => Volatile.Write(ref _circuit, (int)CircuitState.HalfOpen);

    internal void CircuitClosed() => Volatile.Write(ref _circuit, (int)CircuitState.Closed);

    internal void Called(string operation, string outcome, TimeSpan duration) =>
        _calls.Record(duration.TotalSeconds, new TagList
        {
            { "operation", operation },
            { "outcome", outcome },
            { "circuit", CircuitLabel(CircuitState) },
        });

    static string CircuitLabel(CircuitState state) => state switch
    {
        CircuitState.Closed => "closed",
        CircuitState.Open => "open",
        CircuitState.HalfOpen => "half_open",
        _ => "isolated",
    };
}
