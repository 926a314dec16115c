using System.Collections.Concurrent;
using System.Text;

namespace Sagas.Bench;

/// <summary>
/// Customers looking at their QR code: what orders awaiting payment cost while nobody pays, and whether each payment is
/// still noticed within one poll period when the provider sends no webhooks. On a stack of its own (a 10-minute
/// payment window, so nobody's QR code runs out while the others are still being shown): the idle CPU first, then
/// <see cref="Profile.LookingCustomers"/> orders submitted, the CPU of every part over
/// <see cref="Profile.LookingWindow"/> once all of them show their QR code, minus the idle CPU; then every customer pays,
/// spread over <see cref="Profile.LookingPaySpread"/>, with webhooks off, and each payment's
/// paid → saga-heard-of-it delay is read from the sandbox's ledger and the order's timeline.
/// </summary>
public sealed class LookingCustomersRun(BenchInfrastructure infrastructure, Profile profile, BenchReport report, Action<string> progress)
{
    const string Scenario = "customers looking at their QR";
    const int Skus = 100;
    /// <summary>The stack's poll period: the product's default (Saga:PollInterval).</summary>
    static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(5);

    public async Task RunAsync()
    {
        report.Begin("starting a stack (looking customers)");
        await using var stack = await Stack.StartAsync(infrastructure, "looking", TimeSpan.FromMinutes(10));
        var items = Enumerable.Range(0, Skus).Select(i => ($"L-{i:000}", 10_000_000)).ToList();
        await stack.StockAsync(items);
        await stack.StockAsync(Enumerable.Range(0, Skus).Select(i => ($"W-{i:000}", 10_000_000)));

        // A fresh stack compiles its hot paths (tiered JIT) as they are first used: warmed up with orders paid at once
        // (webhooks on), so that neither the idle reading nor the window below counts compilation.
        report.Begin(Scenario);
        await WarmUpAsync(stack);
        await stack.SandboxSettingsAsync(new { webhooks = "off" });
        await QuietAsync(stack);
        var idle = await CpuOverAsync(stack, profile.LookingWindow);
        var idleCores = idle.Values.Sum() / profile.LookingWindow.TotalSeconds;
        progress($"{Scenario}: idle stack {idleCores:0.000} cores busy");

        var count = profile.LookingCustomers;
        progress($"{Scenario}: {count} orders at {profile.LookingRate}/s, nobody paying yet, webhooks off");
        var random = new Random(3);
        var (log, start) = await LoadGenerator.OpenLoopAsync(profile.LookingRate, TimeSpan.FromSeconds((double)count / profile.LookingRate),
            async (_, _) =>
            {
                SubmittedOrder order;
                lock (random)
                {
                    var first = random.Next(Skus);
                    order = new SubmittedOrder(Scenario, Guid.NewGuid().ToString("N"),
                        [new OrderLine($"L-{first:000}", 1), new OrderLine($"L-{(first + 1) % Skus:000}", 1)]);
                }

                return await stack.Storefront.SubmitOnceAsync(order);
            });
        var orders = stack.Storefront.Orders.Values.Where(o => o.Scenario == Scenario).ToList();
        report.Loads.Add(LoadSummary.Of($"{Scenario}: POST /orders", log, start, (double)count / profile.LookingRate, s => s == 202));

        var showing = await WaitAsync(stack, orders.Count, "SELECT count(*) FROM ordering.order_state WHERE current_state = 'AwaitingPayment' AND qr_payload IS NOT NULL",
            TimeSpan.FromMinutes(5), "showing their QR code");
        // Whatever the last ones set off (the window timers rearmed to the QR's deadline, hold extensions) settles first.
        await QuietAsync(stack);
        var busy = await CpuOverAsync(stack, profile.LookingWindow);
        var cores = Math.Max(0, busy.Values.Sum() / profile.LookingWindow.TotalSeconds - idleCores);
        var perOrder = showing == 0 ? double.NaN : cores * 1000 / showing;
        progress($"{Scenario}: {showing} orders awaiting payment keep {cores:0.000} cores busy beyond idle ({perOrder:0.000} ms CPU per pending order per second; " +
                 string.Join(", ", busy.Select(kv => $"{kv.Key} {kv.Value / profile.LookingWindow.TotalSeconds:0.000}")) + ")");
        report.Values["looking.orders"] = showing;
        report.Values["looking.cores"] = cores;
        report.Values["looking.msPerOrderSecond"] = perOrder;
        report.Values["looking.idleCores"] = idleCores;

        var paid = await PayAllAsync(stack, profile.LookingPaySpread);
        progress($"{Scenario}: {paid} customers paid over {profile.LookingPaySpread.TotalSeconds:0} s (webhooks off: only the poll tells)");
        var outcome = await Verdicts.JudgeAsync(stack, Scenario, orders, items.ToDictionary(i => i.Item1, i => i.Item2),
            TimeSpan.FromMinutes(5), start, progress);
        report.Verdicts.AddRange(outcome.Verdicts);

        var noticed = (await NoticedDelaysAsync(stack, orders.Select(o => o.OrderId).ToHashSet())).Order().ToArray();
        var limit = (PollInterval + TimeSpan.FromSeconds(2)).TotalMilliseconds;
        var slowest = noticed.Length == 0 ? double.NaN : noticed[^1];
        report.Values["looking.noticed.p50"] = Stats.Percentile(noticed, 0.5);
        report.Values["looking.noticed.p99"] = Stats.Percentile(noticed, 0.99);
        report.Values["looking.noticed.max"] = slowest;
        report.Verdicts.Add(new Verdict(Scenario, $"every payment noticed within one poll period ({PollInterval.TotalSeconds:0} s, + 2 s to act on it) without webhooks",
            noticed.Length == paid && paid > 0 && slowest <= limit,
            $"{noticed.Length} of {paid} payments heard of; paid → saga p50 {Stats.Percentile(noticed, 0.5):0} ms, p99 {Stats.Percentile(noticed, 0.99):0} ms, max {slowest:0} ms"));
    }

    async Task WarmUpAsync(Stack stack)
    {
        var warmUp = Enumerable.Range(0, 200).Select(i => new SubmittedOrder("warm-up", Guid.NewGuid().ToString("N"),
            [new OrderLine($"W-{i % Skus:000}", 1), new OrderLine($"W-{(i + 1) % Skus:000}", 1)])).ToList();
        progress($"{Scenario}: warming the fresh stack up with {warmUp.Count} orders paid at once");
        await using (new Payer(stack))
        {
            await Task.WhenAll(warmUp.Select(o => stack.Storefront.SubmitUntilAcceptedAsync(o, TimeSpan.FromSeconds(30))));
            await WaitAsync(stack, warmUp.Count, "SELECT count(*) FROM ordering.order_state WHERE current_state = 'Placed'",
                TimeSpan.FromMinutes(3), "warm-up orders placed");
        }
    }

    /// <summary>Until the stack's database commits no more than an idle stack does (at most a minute), then a few seconds more.</summary>
    async Task QuietAsync(Stack stack)
    {
        var counters = new Counters(infrastructure);
        var last = await counters.TakeAsync(stack);
        for (var until = Clock.Now + 60; Clock.Now < until;)
        {
            await Task.Delay(TimeSpan.FromSeconds(2));
            var now = await counters.TakeAsync(stack);
            var delta = now - last;
            last = now;
            if ((delta.XactCommit - delta.OwnQueries) / delta.At <= 10)
                break;
        }

        await Task.Delay(TimeSpan.FromSeconds(3));
    }

    async Task<Dictionary<string, double>> CpuOverAsync(Stack stack, TimeSpan window)
    {
        var before = CpuUsage.Sample(stack, infrastructure);
        await Task.Delay(window);
        var delta = CpuUsage.Delta(before, CpuUsage.Sample(stack, infrastructure));
        // The load generator is this program: not part of the system's cost.
        delta.Remove("load generator (this program)");
        return delta;
    }

    async Task<long> WaitAsync(Stack stack, int expected, string sql, TimeSpan timeout, string what)
    {
        var deadline = Clock.Now + timeout.TotalSeconds;
        var lastReport = Clock.Now;
        while (true)
        {
            await using var command = stack.Data.CreateCommand(sql);
            Interlocked.Increment(ref stack.OwnQueries);
            var now = (long)(await command.ExecuteScalarAsync())!;
            if (now >= expected || Clock.Now > deadline)
            {
                if (now < expected)
                    progress($"{Scenario}: only {now} of {expected} {what} after {timeout.TotalMinutes:0} min; measuring those");
                return now;
            }

            if (Clock.Now - lastReport > 5)
            {
                progress($"{Scenario}: {now}/{expected} {what}");
                lastReport = Clock.Now;
            }

            await Task.Delay(250);
        }
    }

    /// <summary>Every pending payment paid once, at moments spread evenly over <paramref name="spread"/>, in random order.</summary>
    static async Task<int> PayAllAsync(Stack stack, TimeSpan spread)
    {
        var references = new List<string>();
        await using (var command = stack.SandboxData.CreateCommand("SELECT provider_reference FROM sandbox.payments WHERE status = 'pending'"))
        await using (var reader = await command.ExecuteReaderAsync())
            while (await reader.ReadAsync())
                references.Add(reader.GetString(0));
        var random = new Random(4);
        var shuffled = references.OrderBy(_ => random.Next()).ToList();
        var paid = 0;
        var started = Clock.Now;
        using var gate = new SemaphoreSlim(32);
        var payments = new ConcurrentBag<Task>();
        for (var i = 0; i < shuffled.Count; i++)
        {
            var due = started + spread.TotalSeconds * i / Math.Max(1, shuffled.Count);
            if (due > Clock.Now)
                await Task.Delay(TimeSpan.FromSeconds(due - Clock.Now));
            await gate.WaitAsync();
            var reference = shuffled[i];
            payments.Add(Task.Run(async () =>
            {
                try
                {
                    using var response = await stack.SandboxHttp.PostAsync($"/sandbox/qr-payments/{reference}/pay",
                        new StringContent("{}", Encoding.UTF8, "application/json"));
                    if (response.IsSuccessStatusCode)
                        Interlocked.Increment(ref paid);
                }
                finally
                {
                    gate.Release();
                }
            }));
        }

        await Task.WhenAll(payments);
        return paid;
    }

    /// <summary>Per captured payment: from the customer's payment (the sandbox's clock) to the saga hearing of it.</summary>
    static async Task<List<double>> NoticedDelaysAsync(Stack stack, HashSet<Guid> scenarioOrders)
    {
        var paidAt = new Dictionary<Guid, DateTime>();
        await using (var command = stack.SandboxData.CreateCommand("SELECT merchant_reference, paid_at FROM sandbox.payments WHERE paid_at IS NOT NULL"))
        await using (var reader = await command.ExecuteReaderAsync())
            while (await reader.ReadAsync())
                if (Guid.TryParse(reader.GetString(0), out var orderId) && scenarioOrders.Contains(orderId))
                    paidAt[orderId] = reader.GetDateTime(1);

        var delays = new List<double>();
        Interlocked.Increment(ref stack.OwnQueries);
        await using (var command = stack.Data.CreateCommand("SELECT order_id, min(at) FROM ordering.order_timeline WHERE event = 'PaymentSucceeded' GROUP BY order_id"))
        await using (var reader = await command.ExecuteReaderAsync())
            while (await reader.ReadAsync())
                if (paidAt.TryGetValue(reader.GetGuid(0), out var paid))
                    delays.Add((reader.GetDateTime(1) - paid).TotalMilliseconds);
        return delays;
    }
}
