using System.Collections.Concurrent;
using Sagas.Testing;

namespace Sagas.Bench;

// ReliabilityRun, how one scenario runs: stock, orders at a rate while the fault does its damage, the verdicts.
public sealed partial class ReliabilityRun
{
    sealed record Sent(double At, int Status);

    /// <summary>
    /// Submits the scenario's orders at a fixed rate — each retried with its own Idempotency-Key until
    /// accepted, as a storefront would — while <paramref name="fault"/> does its damage, then judges.
    /// </summary>
    async Task ScenarioAsync(string name, string prefix, Func<double, ConcurrentBag<Sent>, Task> fault,
        Func<Task>? before = null, Func<Task>? after = null, bool outageSpan = false, bool burst = false,
        Func<SubmittedOrder, Task>? onAccepted = null, bool fullSize = false, int? atLeast = null, double settleFactor = 1)
    {
        if (only is { Count: > 0 } && !only.Any(o => name.Contains(o, StringComparison.OrdinalIgnoreCase)))
            return;
        var stack = _stack ?? await FreshStackAsync();
        report.Begin(name);
        var orders = burst ? profile.BurstOrders
            : fullSize || name.StartsWith("kill", StringComparison.Ordinal) ? profile.ReliabilityOrders : profile.OtherReliabilityOrders;
        orders = Math.Max(orders, atLeast ?? 0);
        // Half the orders want the one hot item, of which there is enough for about 35% of all orders.
        var hot = $"{prefix}-HOT";
        var stock = new Dictionary<string, int> { [hot] = (int)(orders * 0.35) };
        for (var i = 0; i < 10; i++)
            stock[$"{prefix}-{i}"] = 1_000_000;
        await stack.StockAsync(stock.Select(kv => (kv.Key, kv.Value)), price: 7.5m);
        if (before is not null)
            await before();

        // Broker outage: spread the orders over the outage (stopping the application itself takes seconds)
        // and some time after it, so that some arrive while the broker is down and some after.
        var rate = burst ? 10_000 : outageSpan
            ? Math.Min(profile.ReliabilityRate, orders / (profile.BrokerOutage.TotalSeconds * 1.5 + 10))
            : profile.ReliabilityRate;
        var submission = orders / rate;
        progress($"{name}: {orders} orders at {(burst ? "full speed" : $"{rate:0}/s")}" + (burst ? "" : $" over {submission:0.0} s"));
        var statuses = new ConcurrentBag<Sent>();
        var mine = new ConcurrentBag<SubmittedOrder>();
        _t0 = Clock.Now;
        _afterSettle = null;
        _outage = null;
        var faultTask = Task.Run(() => fault(submission, statuses));
        var failures = 0;
        var (log, _) = await LoadGenerator.OpenLoopAsync(rate, TimeSpan.FromSeconds(submission), async (i, _) =>
        {
            var lines = new List<OrderLine>();
            if (i % 2 == 0)
                lines.Add(new OrderLine(hot, 1));
            lines.Add(new OrderLine($"{prefix}-{i % 10}", 1 + i % 3));
            var order = new SubmittedOrder(name, Guid.NewGuid().ToString("N"), lines);
            try
            {
                var first = Clock.Now;
                var (attempts, status) = await stack.Storefront.SubmitUntilAcceptedAsync(order, profile.SettleTimeout);
                statuses.Add(new Sent(first, attempts == 1 ? status : 0));
                mine.Add(order);
                if (onAccepted is not null)
                    await onAccepted(order);
                return status;
            }
            catch (Exception e)
            {
                Interlocked.Increment(ref failures);
                progress($"{name}: order not accepted: {e.Message}");
                return 0;
            }
        }, maxInFlight: burst ? 48 : 4096);
        await faultTask;
        if (_outage is var (down, up))
        {
            // Every order whose first attempt fell in the outage, answered at once with 202?
            var during = statuses.Where(s => s.At >= down && s.At <= up).ToList();
            var accepted = during.Count(s => s.Status == 202);
            report.Verdicts.Add(new Verdict(name, "the Api kept accepting orders", accepted > 0 && accepted == during.Count,
                $"{accepted} of {during.Count} orders sent while the broker was stopping or down were accepted at the first attempt"));
        }

        progress($"{name}: {mine.Count} orders accepted ({log.Count - mine.Count} never were); waiting for them to become final");

        var outcome = await Verdicts.JudgeAsync(stack, name, mine.ToList(), stock, profile.SettleTimeout * settleFactor, _t0, progress);
        if (after is not null)
            await after();
        _afterSettle?.Invoke();
        report.Verdicts.Add(new Verdict(name, "every submitted order accepted", failures == 0,
            failures == 0 ? $"{mine.Count} of {orders} accepted (retrying with the same Idempotency-Key)" : $"{failures} never accepted"));
        report.Verdicts.AddRange(outcome.Verdicts);
        report.Notes.Add(new ScenarioNote(name, string.Join(", ", outcome.States.OrderByDescending(kv => kv.Value).Select(kv => $"{kv.Key} {kv.Value}"))));
        var failed = report.Verdicts.Where(v => v.Scenario == name && !v.Pass).ToList();
        progress($"{name}: {(failed.Count == 0 ? "PASS" : "FAIL: " + string.Join("; ", failed.Select(f => $"{f.Check} ({f.Detail})")))}");
        if (failed.Count > 0)
        {
            progress(stack.Logs(15));
            var logs = stack.SaveLogs(Path.Combine(RepositoryLayout.Root, ".local", "bench-logs",
                $"{DateTime.UtcNow:yyyyMMdd-HHmmss}-{prefix}"));
            progress($"{name}: the services' whole output is in {logs}");
            progress($"{name}: the next scenario starts on a fresh stack");
            await DisposeStackAsync();
        }
    }
}
