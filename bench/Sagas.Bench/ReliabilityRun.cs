using System.Collections.Concurrent;
using Sagas.Testing;

namespace Sagas.Bench;

/// <summary>
/// The reliability scenarios, one after another on one stack of their own (a short payment window, and
/// customers who mostly pay at once, sometimes underpay, sometimes never pay), each with its own items so
/// that its verdicts concern its orders only: kill -9 of the Workers, kill -9 of the Api, RabbitMQ stopped,
/// PostgreSQL restarted, a faulty provider, two Workers and two Apis, one of two Workers frozen, a cancel storm; then, on the
/// cluster topology, a RabbitMQ node killed and the PostgreSQL primary killed with its standby promoted. Verdicts: <see cref="Verdicts"/>.
/// </summary>
public sealed partial class ReliabilityRun(BenchInfrastructure infrastructure, Profile profile, BenchReport report, Action<string> progress, int seed,
    IReadOnlyList<string>? only = null)
{
    readonly Random _random = new(seed);

    public async Task RunAsync()
    {
        await KillsAsync();
        await BrokerStoppedAsync();
        await PostgresRestartedAsync();
        await FaultyProviderAsync();
        await TwoInstancesAsync();
        await FrozenWorkersAsync();
        await CancelStormAsync();
        if (!profile.Performance)
            await ScenarioAsync("burst", "BU", (_, _) => Task.CompletedTask, burst: true);
        await ClusterAsync();

        await DisposeStackAsync();
        report.Values["reliability.paid"] = _paid;
        report.Values["reliability.underpaid"] = _underpaid;
        report.Values["reliability.unpaid"] = _unpaid;
    }

    Stack? _stack;
    Task<Stack>? _starting;
    Payer? _payer;
    long _paid, _underpaid, _unpaid;

    /// <summary>
    /// Starts the first scenario's stack now: the performance run calls this while it only waits for its counters
    /// to settle (a stack of its own, so nothing it counts is touched).
    /// </summary>
    public Task StartEarly() => _starting ??= StartStackAsync();

    Task<Stack> StartStackAsync()
    {
        progress($"reliability: starting a stack with a {profile.ReliabilityPaymentWindow.TotalSeconds:0} s payment window (seed {seed})");
        return Stack.StartAsync(infrastructure, "reliability", profile.ReliabilityPaymentWindow, extra: StackSettings);
    }

    static Dictionary<string, string> StackSettings => new()
    {
        ["Saga__PollInterval"] = "00:00:02",
        // The customers here pay at once or never: a short grace keeps the unpaid ones' expiry inside the scenario.
        ["Saga__PaymentGrace"] = "00:00:03",
    };

    /// <summary>The scenarios share one stack while they pass; after a failure the next one starts on a fresh stack,
    /// so that one broken scenario cannot fail the ones after it.</summary>
    async Task<Stack> FreshStackAsync()
    {
        report.Begin(_starting is null ? "starting a stack (reliability)" : "waiting for the stack started early (reliability)");
        _stack = await (_starting ?? StartStackAsync());
        _starting = null;
        _payer = new Payer(_stack, Payer.Mixed);
        return _stack;
    }

    async Task DisposeStackAsync()
    {
        if (_payer is not null)
        {
            await _payer.DisposeAsync();
            _paid += _payer.Paid;
            _underpaid += _payer.Underpaid;
            _unpaid += _payer.Skipped;
        }

        if (_stack is not null)
            await _stack.DisposeAsync();
        _payer = null;
        _stack = null;
    }

    double _t0;
    Action? _afterSettle;
    (double Down, double Up)? _outage;

    /// <summary>Polls the order as the storefront would until its QR code can be shown (false after 30 s).</summary>
    async Task<bool> QrShownAsync(Guid orderId)
    {
        var until = Clock.Now + 30;
        while (Clock.Now < until)
        {
            try
            {
                var (_, _, qrReady) = await _stack!.Storefront.GetOrderAsync(orderId);
                if (qrReady)
                    return true;
            }
            catch (HttpRequestException)
            {
            }

            await Task.Delay(100);
        }

        return false;
    }

    static int Pid(ServiceProcess process) => process.ProcessId ?? 0;

    IEnumerable<double> Moments(double submission, int count) =>
        Enumerable.Range(0, count).Select(_ => _t0 + submission * (0.1 + 0.7 * _random.NextDouble())).Order().ToList();

    static async Task WaitUntil(double at)
    {
        var wait = at - Clock.Now;
        if (wait > 0)
            await Task.Delay(TimeSpan.FromSeconds(wait));
    }
}
