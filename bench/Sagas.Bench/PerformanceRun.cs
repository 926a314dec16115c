using System.Collections.Concurrent;

namespace Sagas.Bench;

/// <summary>
/// The machine's limits (<see cref="Limits"/>), then the performance scenarios of the quality bar, one after
/// another on one fresh stack: one order at a time on the idle system (<see cref="IdleRun"/>: QR ready and each saga
/// hop), end-to-end orders/s to Placed sustained (with the per-order costs and the bound B), QR-ready latency at
/// 100 orders/s and at half the end-to-end rate just measured, a burst drained (on items of its own), then, with the Workers
/// stopped, ingest at 500/s and at the maximum, and reads at 2,500/s beside ingest at 500/s.
/// </summary>
/// <param name="whileSettling">Started once the system fell quiet after the end-to-end phase, while its counters settle:
/// the machine is idle then and the counters are this stack's database and virtual host only, so work for later may
/// run; it is awaited before anything is timed again.</param>
public sealed class PerformanceRun(
    BenchInfrastructure infrastructure, Profile profile, BenchReport report, Action<string> progress, Func<Task>? whileSettling = null)
{
    const int Skus = 100;
    readonly Counters _counters = new(infrastructure);
    readonly ConcurrentBag<Guid> _readable = [];

    static SubmittedOrder NewOrder(string scenario, string prefix, Random random)
    {
        var first = random.Next(Skus);
        var second = (first + 1 + random.Next(Skus - 1)) % Skus;
        return new SubmittedOrder(scenario, Guid.NewGuid().ToString("N"),
            [new OrderLine($"{prefix}-{first:000}", 1 + random.Next(2)), new OrderLine($"{prefix}-{second:000}", 1 + random.Next(2))]);
    }

    static IEnumerable<(string Sku, int OnHand)> Items(string prefix) => Enumerable.Range(0, Skus).Select(i => ($"{prefix}-{i:000}", 10_000_000));

    public async Task RunAsync()
    {
        report.Begin("starting a stack (perf)");
        progress("starting Api, Workers and payment sandbox on a fresh database and virtual host (perf)");
        await using var stack = await Stack.StartAsync(infrastructure, "perf", TimeSpan.FromMinutes(2));
        await stack.StockAsync(Items("P"));

        // The machine's limits are measured beside the fresh stack while it idles, and its idle background is read
        // meanwhile: pgbench and the raw loop use databases and virtual hosts of their own, so they do not show in
        // the stack's counters, and the stack's one or two transactions a second are nothing next to pgbench's thousands.
        report.Begin("limits, with the idle background read beside them");
        var limits = Limits.MeasureAsync(infrastructure, profile, progress);
        var idle = IdleBackgroundAsync(stack);
        await Task.WhenAll(limits, idle);
        report.Limits = await limits;
        var background = await idle;
        // QR-scenario customers pay once the storefront shows the QR code, as people do; everyone else at once.
        var payer = new Payer(stack, id => _qrOrders.ContainsKey(id) ? PayTreatment.AfterQrShown : PayTreatment.Pay);
        await using (payer)
        {
            if (profile.IdleOrders > 0)
                await new IdleRun(stack, payer, profile, report, progress).RunAsync(r => NewOrder("idle", "P", r), id => _qrOrders[id] = 0);
            await EndToEndAsync(stack, background);
            await QrReadyAsync(stack, payer, profile.QrRate, "QR ready", "qr.");
            // The bar under load: half the rate this stack sustained end to end, so that the figure is latency, not backlog.
            if (report.Values.GetValueOrDefault("e2e.placedPerSecond") is var e2e and > 0)
                await QrReadyAsync(stack, payer, Math.Max(1, (int)Math.Round(e2e / 2)), "QR ready at half the end-to-end rate", "qr.half.");
            await BurstAsync(stack);
        }

        // The burst leaves dirty pages and autovacuum work behind (with the burst moved before ingest, a full run's ingest
        // p99 went from 50 to 340 ms); flush and let autovacuum finish first, so the Api's figures start settled.
        report.Begin("settling after the burst");
        progress("ingest: a checkpoint and autovacuum's catch-up first, after the burst's writes");
        if (await infrastructure.CheckpointAsync() is var exit and not 0)
            progress($"ingest: CHECKPOINT failed (exit {exit}); measuring anyway");
        for (var until = Clock.Now + 120; Clock.Now < until && await AutovacuumWorkersAsync(stack) > 0;)
            await Task.Delay(500);

        report.Begin("ingest");
        progress("stopping the Workers: the ingest scenarios measure the Api's accept path alone (the backlog waits in RabbitMQ)");
        await Task.WhenAll(stack.Workers.Select(w => w.StopAsync()));
        await IngestAsync(stack);
    }

    static async Task<long> AutovacuumWorkersAsync(Stack stack)
    {
        await using var command = stack.Data.CreateCommand("SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'autovacuum worker'");
        Interlocked.Increment(ref stack.OwnQueries);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    sealed record Background(double TransactionsPerSecond, double PublishesPerSecond, CounterSnapshot Last);

    /// <summary>What the idle system costs per second (Quartz check-ins, delivery polls), read on the fresh stack.</summary>
    async Task<Background> IdleBackgroundAsync(Stack stack)
    {
        progress($"idle background: letting the counters settle, then {profile.IdleWindow.TotalSeconds:0} s of an idle system");
        await Task.Delay(Counters.Settle);
        var idle0 = await _counters.TakeAsync(stack);
        await Task.Delay(profile.IdleWindow);
        var idle1 = await _counters.TakeAsync(stack);
        var idle = idle1 - idle0;
        var background = new Background((idle.XactCommit - idle.OwnQueries) / idle.At, idle.Publish / idle.At, idle1);
        progress($"idle background: {background.TransactionsPerSecond:0.0} transactions/s, {background.PublishesPerSecond:0.00} publishes/s");
        return background;
    }

    /// <summary>
    /// Orders reaching a final state is not the end of their work (timers are unscheduled, events delivered):
    /// waits until the database and broker are back to the idle background, then lets the counters settle.
    /// </summary>
    async Task<CounterSnapshot> WaitQuietAsync(Stack stack, Background background, string scenario, Func<Task>? whileSettling = null)
    {
        var deadline = Clock.Now + 180;
        var last = await _counters.TakeAsync(stack);
        while (Clock.Now < deadline)
        {
            await Task.Delay(TimeSpan.FromSeconds(6));
            var now = await _counters.TakeAsync(stack);
            var delta = now - last;
            last = now;
            var tx = (delta.XactCommit - delta.OwnQueries) / delta.At;
            var publishes = delta.Publish / delta.At;
            if (tx <= background.TransactionsPerSecond * 1.5 + 5 && publishes <= background.PublishesPerSecond + 0.5)
                break;
            progress($"{scenario}: still busy after the last order became final ({tx:0} tx/s, {publishes:0.0} publishes/s)");
        }

        var meanwhile = whileSettling?.Invoke() ?? Task.CompletedTask;
        await Task.Delay(Counters.Settle);
        var settled = await _counters.TakeAsync(stack);
        await meanwhile;
        return settled;
    }

    /// <summary>How far the orders a stack accepted got when a wait for them ended: all final, or how many were.</summary>
    sealed record Drain(bool Done, double At, long Final, long Accepted);

    /// <summary>
    /// Waits until every order this stack accepted is final, or the timeout; <paramref name="curve"/> gets
    /// [t − origin, final]. The first <paramref name="earlier"/> orders, all final already, are left out of the counts.
    /// </summary>
    async Task<Drain> DrainAsync(Stack stack, string scenario, TimeSpan timeout, List<double[]>? curve = null, double origin = 0,
        int earlier = 0)
    {
        var deadline = Clock.Now + timeout.TotalSeconds;
        var lastReport = Clock.Now;
        while (true)
        {
            var accepted = stack.Storefront.Orders.Count - earlier;
            var final = Stack.Final(await stack.StateCountsAsync()) - earlier;
            curve?.Add([Clock.Now - origin, final]);
            if (final >= accepted || Clock.Now > deadline)
                return new Drain(final >= accepted, Clock.Now, final, accepted);
            if (Clock.Now - lastReport > 5)
            {
                progress($"{scenario}: {final}/{accepted} final");
                lastReport = Clock.Now;
            }

            await Task.Delay(250);
        }
    }

    /// <summary>Waits until every order this stack accepted is final; returns when that happened, throws after the timeout.</summary>
    async Task<double> WaitFinalAsync(Stack stack, string scenario, TimeSpan timeout)
    {
        var drain = await DrainAsync(stack, scenario, timeout);
        return drain.Done
            ? drain.At
            : throw new TimeoutException($"{scenario}: {drain.Accepted - drain.Final} of {drain.Accepted} orders not final after {timeout}\n{stack.Logs()}");
    }

    /// <summary>Runs right after the end-to-end phase, which left the system quiet (<see cref="WaitQuietAsync"/>).</summary>
    readonly ConcurrentDictionary<Guid, byte> _qrOrders = new();

    async Task QrReadyAsync(Stack stack, Payer payer, int rate, string phase, string keys)
    {
        report.Begin(phase);
        progress($"{phase}: {rate} orders/s for {profile.QrDuration.TotalSeconds:0} s, each polled every 10 ms until AwaitingPayment with qrPayload");
        var random = new Random(2);
        var ready = new ConcurrentBag<double>();
        var polls = new ConcurrentBag<Task>();
        long notReady = 0;
        var (log, start) = await LoadGenerator.OpenLoopAsync(rate, profile.QrDuration, async (_, intended) =>
        {
            SubmittedOrder order;
            lock (random)
                order = NewOrder("qr", "P", random);
            var status = await stack.Storefront.SubmitOnceAsync(order);
            if (status == 202)
            {
                _qrOrders[order.OrderId] = 0; // the id comes with the 202, long before the saga asks for a QR code
                polls.Add(Task.Run(async () =>
                {
                    var deadline = Clock.Now + 30;
                    while (Clock.Now < deadline)
                    {
                        await Task.Delay(10);
                        var (code, status, qr) = await stack.Storefront.GetOrderAsync(order.OrderId);
                        if (code == 200 && qr)
                        {
                            ready.Add((Clock.Now - intended) * 1000);
                            payer.QrShown(order.OrderId);
                            _readable.Add(order.OrderId);
                            return;
                        }

                        // Past AwaitingPayment without a QR shown (rejected for stock, say): it never will be.
                        if (code == 200 && status is not ("Submitted" or "AwaitingPayment"))
                            break;
                    }

                    Interlocked.Increment(ref notReady);
                    // Counted as not ready; paid anyway so that the phase drains instead of waiting out the payment window.
                    payer.QrShown(order.OrderId);
                }));
            }

            return status;
        });
        await Task.WhenAll(polls);
        var post = LoadSummary.Of($"QR scenario: POST /orders at {rate}/s", log, start, profile.QrDuration.TotalSeconds, s => s == 202);
        report.Loads.Add(post);
        var sorted = ready.Order().ToArray();
        var qr = new LoadSummary($"{phase} (202 → AwaitingPayment with qrPayload, {rate}/s)", log.Count, sorted.Length, (int)notReady, 0,
            profile.QrDuration.TotalSeconds, sorted.Length / profile.QrDuration.TotalSeconds,
            Stats.Percentile(sorted, 0.5), Stats.Percentile(sorted, 0.9), Stats.Percentile(sorted, 0.95), Stats.Percentile(sorted, 0.99),
            Stats.Percentile(sorted, 0.999), sorted.Length == 0 ? double.NaN : sorted[^1], []);
        report.Loads.Add(qr);
        progress(qr.Line());
        report.Values[keys + "p50"] = qr.P50;
        report.Values[keys + "p99"] = qr.P99;
        report.Values[keys + "max"] = qr.Max;
        report.Values[keys + "notReady"] = notReady;
        report.Values[keys + "rate"] = rate;
        await WaitFinalAsync(stack, phase, TimeSpan.FromMinutes(5));
    }

    async Task EndToEndAsync(Stack stack, Background background)
    {
        report.Begin("end to end");
        var backgroundTx = background.TransactionsPerSecond;
        var backgroundPublish = background.PublishesPerSecond;
        var idle1 = background.Last;
        var tablesBefore = await Counters.TablesAsync(stack);
        var acceptedBefore = stack.Storefront.Orders.Count;
        var before = await stack.StateCountsAsync();
        var placedBefore = before.GetValueOrDefault("Placed");
        var total = profile.E2eWarmUp + profile.E2eDuration;
        progress($"end to end: orders submitted whenever fewer than {profile.E2eWindow} are in flight, {profile.E2eWarmUp.TotalSeconds:0} s warm-up + {profile.E2eDuration.TotalSeconds:0} s measured; the payer pays every QR at once");
        var cpuBefore = CpuUsage.Sample(stack, infrastructure);
        var start = Clock.Now;
        var end = start + total.TotalSeconds;
        long final = Stack.Final(before);
        var samples = new List<double[]>(); // [t, placed since start]
        using var sampling = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            var lastPrint = Clock.Now;
            while (!sampling.IsCancellationRequested)
            {
                var counts = await stack.StateCountsAsync();
                Interlocked.Exchange(ref final, Stack.Final(counts));
                var placed = counts.GetValueOrDefault("Placed") - placedBefore;
                lock (samples)
                    samples.Add([Clock.Now - start, placed]);
                if (Clock.Now - lastPrint >= 5)
                {
                    lastPrint = Clock.Now;
                    progress($"end to end: t={Clock.Now - start:0}s placed {placed}, in flight {stack.Storefront.Orders.Count - Interlocked.Read(ref final)}");
                }

                try
                {
                    await Task.Delay(250, sampling.Token);
                }
                catch (OperationCanceledException)
                {
                }
            }
        });

        var random = new Random(3);
        var (log, _) = await LoadGenerator.ClosedLoopAsync(16, total, async (_, _) =>
        {
            while (stack.Storefront.Orders.Count - Interlocked.Read(ref final) >= profile.E2eWindow && Clock.Now < end)
                await Task.Delay(5);
            if (Clock.Now >= end)
                return -1;
            SubmittedOrder order;
            lock (random)
                order = NewOrder("e2e", "P", random);
            var status = await stack.Storefront.SubmitOnceAsync(order);
            if (status == 202)
                _readable.Add(order.OrderId);
            return status;
        });
        var orders = stack.Storefront.Orders.Count - acceptedBefore;
        var drained = await WaitFinalAsync(stack, "end to end", TimeSpan.FromMinutes(5));
        var cpu = CpuUsage.Delta(cpuBefore, CpuUsage.Sample(stack, infrastructure));
        var cpuWindow = Clock.Now - start;
        await sampling.CancelAsync();
        await sampler;
        report.Loads.Add(LoadSummary.Of("end to end: POST /orders (closed loop, window-limited)", log, start, total.TotalSeconds, s => s == 202));

        double PlacedAt(double t)
        {
            lock (samples)
            {
                var after = samples.FirstOrDefault(s => s[0] >= t) ?? samples[^1];
                var prior = samples.LastOrDefault(s => s[0] <= t) ?? samples[0];
                return after[0] == prior[0] ? after[1] : prior[1] + (after[1] - prior[1]) * (t - prior[0]) / (after[0] - prior[0]);
            }
        }

        var warm = profile.E2eWarmUp.TotalSeconds;
        var rate = (PlacedAt(total.TotalSeconds) - PlacedAt(warm)) / profile.E2eDuration.TotalSeconds;
        report.Values["e2e.placedPerSecond"] = rate;
        report.Values["e2e.orders"] = orders;
        report.Values["e2e.drainAfterEnd"] = drained - end;
        progress($"end to end: {rate:0.0} orders/s reached Placed over the {profile.E2eDuration.TotalSeconds:0} s window ({orders} orders in the phase)");
        foreach (var (part, seconds) in cpu.OrderByDescending(kv => kv.Value))
            report.Cpu.Add(new CpuShare(part, seconds * 1000 / orders, seconds / cpuWindow));
        progress($"end to end: CPU per order {cpu.Values.Sum() * 1000 / orders:0.0} ms ({string.Join(", ", report.Cpu.Select(c => $"{c.Part} {c.MillisecondsPerOrder:0.0}"))}), " +
                 $"{cpu.Values.Sum() / cpuWindow:0.00} cores busy on average");
        List<double[]> perSecond;
        lock (samples)
            perSecond = Enumerable.Range(1, (int)total.TotalSeconds).Select(t => new[] { (double)t, PlacedAt(t) - PlacedAt(t - 1) }).ToList();
        report.Series.Add(new ChartSeries("throughput", "end to end: Placed/s", perSecond));

        report.Begin("end to end: quiet, counters settled");
        progress("end to end: waiting for the system to fall quiet, for the per-order costs");
        var after = await WaitQuietAsync(stack, background, "end to end", whileSettling);
        var tablesAfter = await Counters.TablesAsync(stack);
        var delta = after - idle1;
        var gross = (delta.XactCommit - delta.OwnQueries) / (double)orders;
        var net = (delta.XactCommit - delta.OwnQueries - backgroundTx * delta.At) / orders;
        var publishes = (delta.Publish - backgroundPublish * delta.At) / orders;
        var deliveries = (double)delta.Deliver / orders;
        report.Costs = new PerOrderCosts(orders, delta.At, delta.XactCommit, delta.XactRollback, delta.OwnQueries, backgroundTx,
            delta.Publish, delta.Deliver, backgroundPublish, net, gross, publishes, deliveries, Math.Max(publishes, deliveries));
        foreach (var (table, now) in tablesAfter)
        {
            var was = tablesBefore.GetValueOrDefault(table) ?? [0, 0, 0];
            var writes = new TableWrites(table, (now[0] - was[0]) / (double)orders, (now[1] - was[1]) / (double)orders, (now[2] - was[2]) / (double)orders);
            if (writes.InsertsPerOrder + writes.UpdatesPerOrder + writes.DeletesPerOrder >= 0.01)
                report.TableWrites.Add(writes);
        }

        report.TableWrites.Sort((a, b) => (b.InsertsPerOrder + b.UpdatesPerOrder + b.DeletesPerOrder).CompareTo(a.InsertsPerOrder + a.UpdatesPerOrder + a.DeletesPerOrder));
        progress($"per order: {net:0.0} database transactions ({gross:0.0} with the idle background), {publishes:0.0} publishes, {deliveries:0.0} deliveries");
    }

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

    /// <summary>
    /// On the stack the end-to-end and QR orders left (every one final), with items of its own so that its
    /// verdicts concern its orders only.
    /// </summary>
    async Task BurstAsync(Stack stack)
    {
        report.Begin("burst");
        await stack.StockAsync(Items("B"));
        var earlier = stack.Storefront.Orders.Count;
        var random = new Random(5);
        var burst = profile.BurstOrders;
        progress($"burst: {burst} orders as fast as the Api takes them ({profile.IngestMaxConcurrency} connections), then drained to final");
        var start = Clock.Now;
        var (log, _) = await LoadGenerator.ClosedLoopAsync(profile.IngestMaxConcurrency, TimeSpan.FromMinutes(10), async (_, _) =>
        {
            SubmittedOrder order;
            lock (random)
                order = NewOrder("burst", "B", random);
            var (_, status) = await stack.Storefront.SubmitUntilAcceptedAsync(order, TimeSpan.FromMinutes(2));
            return status;
        }, limit: burst);
        var submitted = Clock.Now - start;
        var accepted = stack.Storefront.Orders.Count - earlier;
        progress($"burst: {accepted} accepted in {submitted:0.0} s ({accepted / submitted:0}/s); draining");
        // Within the run's budget, leaving the ingest phase its time and the reliability scenarios their reserve (at least 90 s).
        var left = profile.Budget.TotalSeconds - (Clock.Now - Clock.RunStart) - IngestTime.TotalSeconds - profile.ReliabilityReserve.TotalSeconds;
        var limit = TimeSpan.FromSeconds(Math.Clamp(left, 90, 600));
        progress($"burst: waiting up to {limit.TotalSeconds:0} s for the drain (the run's time budget)");
        var finalCurve = new List<double[]>();
        var drain = await DrainAsync(stack, "burst", limit, finalCurve, start, earlier);
        var drainText = ReportWriter.BurstDrain(drain.Done, drain.Final, drain.Accepted, drain.At - start);
        progress($"burst: {drainText}");

        var acceptedCurve = log.Snapshot().Where(e => e.Status == 202).Select(e => e.Completed - start).Order()
            .Select((t, i) => new[] { t, i + 1.0 }).Where((_, i) => i % Math.Max(1, burst / 400) == 0).ToList();
        report.Series.Add(new ChartSeries("drain", "accepted orders", acceptedCurve));
        report.Series.Add(new ChartSeries("drain", "final orders", finalCurve));
        if (!drain.Done)
            report.Notes.Add(new ScenarioNote("burst", $"{drainText} (the wait ended with the run's time budget); the verdicts below say how far it got"));
        report.Values["burst.orders"] = burst;
        report.Values["burst.submitSeconds"] = submitted;
        // Until every order was final or, when the wait ran out first, until then.
        report.Values["burst.drainSeconds"] = drain.At - start;
        report.Values["burst.drained"] = drain.Done ? 1 : 0;
        report.Values["burst.accepted"] = drain.Accepted;
        report.Values["burst.final"] = drain.Final;
        report.Loads.Add(LoadSummary.Of($"burst: POST /orders ({burst} orders)", log, start, submitted, s => s == 202));

        var stock = Items("B").ToDictionary(i => i.Sku, i => i.OnHand);
        var outcome = await Verdicts.JudgeAsync(stack, "burst", stack.Storefront.Orders.Values.Where(o => o.Scenario == "burst").ToList(), stock,
            TimeSpan.FromSeconds(drain.Done ? 60 : 5), start, progress);
        report.Verdicts.AddRange(outcome.Verdicts);
    }
}
