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
public sealed partial class PerformanceRun(
    BenchInfrastructure infrastructure, Profile profile, BenchReport report, Action<string> progress, Func<Task>? whileSettling = null)
{
    const int Skus = 100;
    readonly Counters _counters = new(infrastructure);
    readonly ConcurrentBag<Guid> _readable = [];
    /// <summary>Orders of the QR scenarios: their customers pay once the QR code is shown, everyone else's at once.</summary>
    readonly ConcurrentDictionary<Guid, byte> _qrOrders = new();

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
}
