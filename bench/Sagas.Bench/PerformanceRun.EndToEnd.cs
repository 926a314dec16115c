namespace Sagas.Bench;

// PerformanceRun, one scenario, end to end: orders/s reaching Placed, sustained, then the per-order costs once the system fell quiet.
public sealed partial class PerformanceRun
{
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
}
