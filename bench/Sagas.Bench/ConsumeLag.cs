using System.Globalization;
using System.Text.RegularExpressions;

namespace Sagas.Bench;

/// <summary>
/// The services' <c>sagas.consume.lag</c> histogram (from a message's sent time, written to an outbox, to the start of
/// its consume), or <c>sagas.consume.commit_lag</c> (from the commit that wrote it), read from their <c>/metrics</c>: per message type, cumulative bucket counts summed over every process.
/// Two readings subtracted give the hops of what ran in between.
/// </summary>
public sealed partial class ConsumeLag
{
    /// <summary>Sent → consume, every message that has a sent time.</summary>
    public const string SentLag = "sagas_consume_lag_seconds";

    /// <summary>Commit → consume, the messages handed off at their commit (they carry the commit's time).</summary>
    public const string CommitLag = "sagas_consume_commit_lag_seconds";

    /// <summary>Message type → (upper bound in seconds → cumulative count), +Inf included.</summary>
    readonly Dictionary<string, SortedDictionary<double, double>> _buckets;

    ConsumeLag(Dictionary<string, SortedDictionary<double, double>> buckets) => _buckets = buckets;

    public static async Task<ConsumeLag> ReadAsync(Stack stack, string metric = SentLag)
    {
        var bucket = metric + "_bucket{";
        var buckets = new Dictionary<string, SortedDictionary<double, double>>();
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        foreach (var service in stack.Workers.Concat(stack.Apis).Where(s => s.IsRunning))
        {
            var text = await http.GetStringAsync(new Uri(service.BaseAddress, "/metrics"));
            foreach (var line in text.Split('\n'))
            {
                if (!line.StartsWith(bucket, StringComparison.Ordinal))
                    continue;
                var type = MessageType().Match(line);
                var le = UpperBound().Match(line);
                if (!type.Success || !le.Success)
                    continue;
                var bound = le.Groups[1].Value == "+Inf" ? double.PositiveInfinity : double.Parse(le.Groups[1].Value, CultureInfo.InvariantCulture);
                var count = double.Parse(line[(line.LastIndexOf('}') + 1)..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
                var byBound = buckets.TryGetValue(type.Groups[1].Value, out var existing) ? existing : buckets[type.Groups[1].Value] = new();
                byBound[bound] = byBound.GetValueOrDefault(bound) + count;
            }
        }

        return new ConsumeLag(buckets);
    }

    /// <summary>What was consumed after <paramref name="before"/> was read.</summary>
    public ConsumeLag Since(ConsumeLag before) => new(_buckets.ToDictionary(p => p.Key, p => new SortedDictionary<double, double>(
        p.Value.ToDictionary(b => b.Key, b => b.Value - (before._buckets.TryGetValue(p.Key, out var old) ? old.GetValueOrDefault(b.Key) : 0)))));

    public IEnumerable<string> MessageTypes => _buckets.Where(p => Count(p.Value) > 0).Select(p => p.Key).Order(StringComparer.Ordinal);

    public double Count(string messageType) => Count(_buckets[messageType]);

    /// <summary>A percentile in milliseconds, interpolated linearly within its bucket (as Prometheus' histogram_quantile does).</summary>
    public double Percentile(string messageType, double q) => Percentile(_buckets[messageType], q);

    /// <summary>A percentile over every message type.</summary>
    public double Percentile(double q)
    {
        var all = new SortedDictionary<double, double>();
        foreach (var byBound in _buckets.Values)
            foreach (var (bound, count) in byBound)
                all[bound] = all.GetValueOrDefault(bound) + count;
        return Percentile(all, q);
    }

    static double Count(SortedDictionary<double, double> byBound) => byBound.Count == 0 ? 0 : byBound.Values.Last();

    static double Percentile(SortedDictionary<double, double> byBound, double q)
    {
        var total = Count(byBound);
        if (total <= 0)
            return double.NaN;
        var rank = q * total;
        double lower = 0, below = 0;
        foreach (var (bound, cumulative) in byBound)
        {
            if (cumulative >= rank)
            {
                if (double.IsPositiveInfinity(bound))
                    return lower * 1000; // beyond the last finite bound: that bound is all one can say
                var within = cumulative - below;
                return (lower + (bound - lower) * (within <= 0 ? 1 : (rank - below) / within)) * 1000;
            }

            lower = bound;
            below = cumulative;
        }

        return lower * 1000;
    }

    [GeneratedRegex("message_type=\"([^\"]*)\"")]
    private static partial Regex MessageType();

    [GeneratedRegex("le=\"([^\"]*)\"")]
    private static partial Regex UpperBound();
}
