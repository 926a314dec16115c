using System.Diagnostics;

namespace Sagas.Bench;

/// <summary>One monotonic clock for the whole run, in seconds since the program started.</summary>
public static class Clock
{
    static readonly long Origin = Stopwatch.GetTimestamp();

    public static double Now => Stopwatch.GetElapsedTime(Origin).TotalSeconds;

    /// <summary>When the benchmark run started (set by the program).</summary>
    public static double RunStart { get; set; }
}

/// <summary>
/// What a load run recorded, one slot per request: when it was meant to go (open loop) or went (closed
/// loop), when it completed, and the HTTP status (0: no answer). Latency is completion minus the intended
/// send time, so a stalled server is charged for the requests it kept waiting (no coordinated omission).
/// </summary>
public sealed class RequestLog
{
    double[] _intended = new double[1024];
    double[] _completed = new double[1024];
    int[] _status = new int[1024];
    int _count;
    readonly Lock _gate = new();

    public int Count => _count;

    public int Reserve(double intended)
    {
        lock (_gate)
        {
            if (_count == _intended.Length)
            {
                Array.Resize(ref _intended, _count * 2);
                Array.Resize(ref _completed, _count * 2);
                Array.Resize(ref _status, _count * 2);
            }

            _intended[_count] = intended;
            _completed[_count] = double.NaN;
            return _count++;
        }
    }

    public void Complete(int slot, int status)
    {
        var now = Clock.Now;
        lock (_gate)
        {
            _completed[slot] = now;
            _status[slot] = status;
        }
    }

    public IReadOnlyList<(double Intended, double Completed, int Status)> Snapshot()
    {
        lock (_gate)
            return Enumerable.Range(0, _count).Select(i => (_intended[i], _completed[i], _status[i])).ToList();
    }
}

/// <summary>Percentiles and per-second rates of a <see cref="RequestLog"/>.</summary>
public sealed record LoadSummary(
    string Name, int Sent, int Ok, int Failed, int Unfinished, double Seconds, double OkPerSecond,
    double P50, double P90, double P95, double P99, double P999, double Max, IReadOnlyList<double[]> OkPerSecondSeries)
{
    public static LoadSummary Of(string name, RequestLog log, double start, double seconds, Func<int, bool> ok)
    {
        var entries = log.Snapshot();
        var done = entries.Where(e => !double.IsNaN(e.Completed)).ToList();
        var good = done.Where(e => ok(e.Status)).ToList();
        var latencies = done.Select(e => (e.Completed - e.Intended) * 1000).Order().ToArray();
        var series = good.GroupBy(e => (int)Math.Floor(e.Completed - start))
            .Where(g => g.Key >= 0)
            .OrderBy(g => g.Key)
            .Select(g => new[] { g.Key + 1.0, g.Count() })
            .ToList();
        return new LoadSummary(name, entries.Count, good.Count, done.Count - good.Count, entries.Count - done.Count, seconds,
            good.Count / seconds, Stats.Percentile(latencies, 0.50), Stats.Percentile(latencies, 0.90),
            Stats.Percentile(latencies, 0.95), Stats.Percentile(latencies, 0.99), Stats.Percentile(latencies, 0.999),
            latencies.Length == 0 ? double.NaN : latencies[^1], series);
    }

    public string Line() =>
        $"{Name}: {Ok}/{Sent} ok ({OkPerSecond:0}/s over {Seconds:0.0} s), p50 {P50:0.0} ms, p95 {P95:0.0} ms, p99 {P99:0.0} ms, max {Max:0} ms" +
        (Failed > 0 ? $", {Failed} failed" : "") + (Unfinished > 0 ? $", {Unfinished} unfinished" : "");
}

public static class Stats
{
    /// <summary>Nearest-rank percentile of sorted values (NaN when there are none).</summary>
    public static double Percentile(IReadOnlyList<double> sorted, double p) =>
        sorted.Count == 0 ? double.NaN : sorted[(int)Math.Clamp(Math.Ceiling(p * sorted.Count) - 1, 0, sorted.Count - 1)];
}

/// <summary>Load generators: open loop at a fixed arrival rate, and closed loop at a fixed concurrency.</summary>
public static class LoadGenerator
{
    /// <summary>
    /// Sends request <c>i</c> at <c>start + i / rate</c> whether or not earlier ones have answered (up to
    /// <paramref name="maxInFlight"/>; beyond that a request waits, and its wait counts as latency).
    /// <paramref name="send"/> returns the HTTP status, 0 for no answer.
    /// </summary>
    public static async Task<(RequestLog Log, double Start)> OpenLoopAsync(double rate, TimeSpan duration,
        Func<int, double, Task<int>> send, int maxInFlight = 4096, CancellationToken cancellationToken = default)
    {
        var log = new RequestLog();
        var total = (int)Math.Round(rate * duration.TotalSeconds);
        var gate = new SemaphoreSlim(maxInFlight);
        var inFlight = new List<Task>(total);
        var start = Clock.Now;
        for (var i = 0; i < total && !cancellationToken.IsCancellationRequested; i++)
        {
            var intended = start + i / rate;
            var wait = intended - Clock.Now;
            if (wait > 0.001)
                await Task.Delay(TimeSpan.FromSeconds(wait), CancellationToken.None);
            var slot = log.Reserve(intended);
            await gate.WaitAsync(CancellationToken.None);
            inFlight.Add(Fire(slot, i, intended));
        }

        await Task.WhenAll(inFlight);
        return (log, start);

        async Task Fire(int slot, int index, double intended)
        {
            await Task.Yield();
            var status = 0;
            try
            {
                status = await send(index, intended);
            }
            catch (Exception)
            {
                status = 0;
            }
            finally
            {
                log.Complete(slot, status);
                gate.Release();
            }
        }
    }

    /// <summary><paramref name="concurrency"/> loops, each sending its next request when the last one answered.</summary>
    public static async Task<(RequestLog Log, double Start)> ClosedLoopAsync(int concurrency, TimeSpan duration,
        Func<int, double, Task<int>> send, int? limit = null)
    {
        var log = new RequestLog();
        var start = Clock.Now;
        var end = start + duration.TotalSeconds;
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
        {
            await Task.Yield();
            while (Clock.Now < end)
            {
                var index = Interlocked.Increment(ref next);
                if (limit is { } max && index >= max)
                    return;
                var sentAt = Clock.Now;
                var slot = log.Reserve(sentAt);
                var status = 0;
                try
                {
                    status = await send(index, sentAt);
                }
                catch (Exception)
                {
                    status = 0;
                }

                log.Complete(slot, status);
            }
        }));
        return (log, start);
    }
}
