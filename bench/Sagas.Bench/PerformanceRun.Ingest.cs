namespace Sagas.Bench;

// PerformanceRun, one scenario, ingest: at a fixed rate and at the maximum, then reads beside ingest: the Api alone, the Workers stopped.
public sealed partial class PerformanceRun
{
    async Task IngestAsync(Stack stack)
    {
        var random = new Random(4);
        SubmittedOrder Next()
        {
            lock (random)
                return NewOrder("ingest", "P", random);
        }

        var seconds = profile.IngestDuration.TotalSeconds;
        var settle = CountIngest;
        CounterSnapshot? before = null;
        if (settle)
        {
            await Task.Delay(Counters.Settle);
            before = await _counters.TakeAsync(stack);
        }

        var acceptedBefore = stack.Storefront.Orders.Count;
        progress($"ingest: POST /orders at {profile.IngestRate}/s (open loop) for {seconds:0} s");
        var (fixedLog, fixedStart) = await LoadGenerator.OpenLoopAsync(profile.IngestRate, profile.IngestDuration,
            async (_, _) => await stack.Storefront.SubmitOnceAsync(Next()));
        var atRate = LoadSummary.Of($"ingest at {profile.IngestRate}/s", fixedLog, fixedStart, seconds, s => s == 202);
        report.Loads.Add(atRate);
        report.Series.Add(new ChartSeries("throughput", $"ingest at {profile.IngestRate}/s: accepted/s", atRate.OkPerSecondSeries));
        progress(atRate.Line());
        if (settle)
        {
            var ingested = stack.Storefront.Orders.Count - acceptedBefore;
            await Task.Delay(Counters.Settle);
            var delta = await _counters.TakeAsync(stack) - before!;
            report.IngestCosts = new PerOrderCosts(ingested, delta.At, delta.XactCommit, delta.XactRollback, delta.OwnQueries, 0,
                delta.Publish, delta.Deliver, 0, (delta.XactCommit - delta.OwnQueries) / (double)ingested,
                (delta.XactCommit - delta.OwnQueries) / (double)ingested, delta.Publish / (double)ingested,
                delta.Deliver / (double)ingested, delta.Publish / (double)ingested);
            progress($"ingest: {report.IngestCosts.TransactionsPerOrder:0.0} database transactions and {report.IngestCosts.PublishesPerOrder:0.0} publishes per accepted order (Api alone)");
        }

        progress($"ingest: maximum, {profile.IngestMaxConcurrency} concurrent storefront connections (closed loop) for {seconds:0} s");
        var (maxLog, maxStart) = await LoadGenerator.ClosedLoopAsync(profile.IngestMaxConcurrency, profile.IngestDuration,
            async (_, _) => await stack.Storefront.SubmitOnceAsync(Next()));
        var max = LoadSummary.Of($"ingest at the maximum ({profile.IngestMaxConcurrency} connections)", maxLog, maxStart, seconds, s => s == 202);
        report.Loads.Add(max);
        report.Series.Add(new ChartSeries("throughput", "ingest at the maximum: accepted/s", max.OkPerSecondSeries));
        progress(max.Line());

        var targets = _readable.ToArray();
        progress($"reads: GET /orders/{{id}} at {profile.ReadRate}/s over {targets.Length} placed orders, beside ingest at {profile.IngestRate}/s, for {seconds:0} s");
        var readsTask = LoadGenerator.OpenLoopAsync(profile.ReadRate, profile.IngestDuration, async (i, _) =>
            (await stack.Storefront.GetOrderAsync(targets[(int)((uint)(i * 7919) % targets.Length)])).Status);
        var writesTask = LoadGenerator.OpenLoopAsync(profile.IngestRate, profile.IngestDuration,
            async (_, _) => await stack.Storefront.SubmitOnceAsync(Next()));
        var (readLog, readStart) = await readsTask;
        var (writeLog, writeStart) = await writesTask;
        var reads = LoadSummary.Of($"reads at {profile.ReadRate}/s (beside ingest at {profile.IngestRate}/s)", readLog, readStart, seconds, s => s == 200);
        var writes = LoadSummary.Of($"ingest at {profile.IngestRate}/s (beside reads at {profile.ReadRate}/s)", writeLog, writeStart, seconds, s => s == 202);
        report.Loads.Add(reads);
        report.Loads.Add(writes);
        report.Series.Add(new ChartSeries("throughput", $"reads at {profile.ReadRate}/s: ok/s", reads.OkPerSecondSeries));
        progress(reads.Line());
        progress(writes.Line());
    }

    /// <summary>Ingest costs are counted (with the counters settled before and after) in the full run only.</summary>
    bool CountIngest => profile.Name == "full";

    /// <summary>How long the ingest phase takes: its three runs, and the counters settling twice when they are counted.</summary>
    TimeSpan IngestTime => 3 * profile.IngestDuration + (CountIngest ? 2 * Counters.Settle : TimeSpan.Zero);
}
