using System.Collections.Concurrent;
using Npgsql;

namespace Sagas.Bench;

/// <summary>
/// Overload (quality-bar.md, "Raised targets"): <c>POST /orders</c> offered at 3 × the end-to-end rate the performance
/// run measured, for <see cref="Profile.OverloadDuration"/>, on a stack of its own with admission control on at its
/// defaults. Every request is a new order with a key of its own, sent once (a storefront's retries would only add to
/// what is offered). Reported: the accepted orders' QR ready latency (202 → the saga recorded the QR code, read from
/// the order's timeline afterwards: polling for it would be load of its own), accepted and refused shares. Verdicts:
/// every order not accepted was refused with 503 and Retry-After, and the usual ones over the accepted orders, whose
/// customers pay every QR code as soon as it is shown (paid in time means placed, money exactly once, no oversell).
/// </summary>
public sealed class OverloadRun(BenchInfrastructure infrastructure, Profile profile, BenchReport report, Action<string> progress)
{
    const string Scenario = "overload";
    const int Skus = 100;

    public async Task RunAsync()
    {
        if (!report.Values.TryGetValue("e2e.placedPerSecond", out var endToEnd) || endToEnd <= 0)
        {
            progress($"{Scenario}: no end-to-end rate was measured; skipped");
            return;
        }

        var offered = 3 * endToEnd;
        report.Begin("starting a stack (overload)");
        await using var stack = await Stack.StartAsync(infrastructure, "overload", TimeSpan.FromMinutes(2),
            extra: new Dictionary<string, string> { ["Admission__Enabled"] = "true" });
        var items = Enumerable.Range(0, Skus).Select(i => ($"O-{i:000}", 10_000_000)).ToList();
        await stack.StockAsync(items);

        report.Begin(Scenario);
        var seconds = profile.OverloadDuration.TotalSeconds;
        progress($"{Scenario}: POST /orders at {offered:0}/s (3 × the end-to-end {endToEnd:0.0}/s) for {seconds:0} s, admission control on; " +
                 "customers pay every QR code at once");
        var refusals = new ConcurrentBag<(int Status, int? RetryAfter)>();
        var random = new Random(6);
        LoadSummary post;
        await using (new Payer(stack))
        {
            var (log, start) = await LoadGenerator.OpenLoopAsync(offered, profile.OverloadDuration, async (_, _) =>
            {
                SubmittedOrder order;
                lock (random)
                {
                    var first = random.Next(Skus);
                    order = new SubmittedOrder(Scenario, Guid.NewGuid().ToString("N"),
                        [new OrderLine($"O-{first:000}", 1), new OrderLine($"O-{(first + 1) % Skus:000}", 1)]);
                }

                var (status, retryAfter) = await stack.Storefront.SubmitAsync(order);
                if (status != 202)
                    refusals.Add((status, retryAfter));
                return status;
            });
            post = LoadSummary.Of($"{Scenario}: POST /orders at {offered:0}/s (3 × end to end)", log, start, seconds, s => s == 202);
            report.Loads.Add(post);
            progress(post.Line());

            var orders = stack.Storefront.Orders.Values.Where(o => o.Scenario == Scenario).ToList();
            var outcome = await Verdicts.JudgeAsync(stack, Scenario, orders, items.ToDictionary(i => i.Item1, i => i.Item2),
                TimeSpan.FromMinutes(5), start, progress);
            report.Verdicts.AddRange(outcome.Verdicts);

            var ready = (await QrReadyAsync(stack, orders.Select(o => o.OrderId).ToArray())).Order().ToArray();
            report.Values["overload.offeredPerSecond"] = offered;
            report.Values["overload.seconds"] = seconds;
            report.Values["overload.accepted"] = orders.Count;
            report.Values["overload.refused"] = refusals.Count;
            report.Values["overload.qr.count"] = ready.Length;
            report.Values["overload.qr.p50"] = Stats.Percentile(ready, 0.5);
            report.Values["overload.qr.p99"] = Stats.Percentile(ready, 0.99);
            report.Values["overload.qr.max"] = ready.Length == 0 ? double.NaN : ready[^1];
            progress($"{Scenario}: {orders.Count} accepted, {refusals.Count} refused; QR ready of the accepted p50 {Stats.Percentile(ready, 0.5):0} ms, " +
                     $"p99 {Stats.Percentile(ready, 0.99):0} ms ({ready.Length} QR codes)");
        }

        var proper = refusals.Count(r => r.Status == 503 && r.RetryAfter is >= 1);
        var other = refusals.Where(r => r.Status != 503 || r.RetryAfter is not >= 1).GroupBy(r => r.RetryAfter is null ? $"{r.Status}" : $"{r.Status} + Retry-After {r.RetryAfter}")
            .Select(g => $"{g.Count()} × {g.Key}").ToList();
        report.Verdicts.Add(new Verdict(Scenario, "every order not accepted was refused with 503 and Retry-After", proper == refusals.Count,
            $"{post.Ok} accepted, {proper} refused with 503 + Retry-After" + (other.Count > 0 ? $"; otherwise {string.Join(", ", other)}" : "")));
    }

    /// <summary>Per accepted order that got one: 202 (the Api's clock, the key's created_at) → the saga recorded its QR code (its timeline).</summary>
    static async Task<List<double>> QrReadyAsync(Stack stack, Guid[] orders)
    {
        Interlocked.Increment(ref stack.OwnQueries);
        await using var command = stack.Data.CreateCommand("""
            SELECT (extract(epoch FROM min(t.at) - k.created_at) * 1000)::float8
              FROM api.idempotency_keys k JOIN ordering.order_timeline t ON t.order_id = k.order_id AND t.event = 'PaymentRequested'
             WHERE k.order_id = ANY($1)
             GROUP BY k.order_id, k.created_at
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = orders });
        var ready = new List<double>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
            ready.Add(reader.GetDouble(0));
        return ready;
    }
}
