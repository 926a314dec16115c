using Npgsql;

namespace Sagas.Bench;

/// <summary>One failover on the cluster topology, as the report's table shows it.</summary>
public sealed record Failover(string Scenario, string What, string FailoverTime, string Delayed, string Retried, string LoadAverage);

// ReliabilityRun, the scenarios on the cluster topology (make cluster's: three RabbitMQ nodes, a PostgreSQL primary with a
// synchronous standby): a RabbitMQ node killed, the primary killed and the standby promoted, during the orders.
public sealed partial class ReliabilityRun
{
    public const string NodeKilled = "cluster: RabbitMQ node killed";
    public const string PrimaryKilled = "cluster: PostgreSQL primary killed, standby promoted";

    /// <summary>How long a killed node stays down before it is started again (starting takes 10–20 s more).</summary>
    static readonly TimeSpan NodeDown = TimeSpan.FromSeconds(10);

    /// <summary>
    /// The wait for the orders to become final, as a multiple of the profile's: on the cluster every message is written by
    /// three RabbitMQ nodes and every commit by two PostgreSQL servers, all on the same cores as the services (a shared
    /// 2-core box drained 1,000 orders at 2–6 per second with a load average near 50).
    /// </summary>
    const double ClusterSettleFactor = 3;

    /// <summary>
    /// In <c>make bench</c> (full or quick), or when <c>--only</c> names them; not in the test suite's smoke run, which
    /// would have to start three more nodes and two more servers.
    /// </summary>
    bool ClusterWanted(string name) => only is { Count: > 0 }
        ? only.Any(o => name.Contains(o, StringComparison.OrdinalIgnoreCase))
        : profile.Performance;

    async Task ClusterAsync()
    {
        if (!ClusterWanted(NodeKilled) && !ClusterWanted(PrimaryKilled))
            return;
        await DisposeStackAsync();
        var cluster = new ClusterInfrastructure(infrastructure.Settings);
        try
        {
            report.Begin("starting the cluster topology");
            progress($"starting the cluster topology (scripts/cluster.sh up, state in {cluster.StateDirectory}; RabbitMQ {cluster.RabbitNodes})");
            await cluster.UpAsync();
            // The stack first: ScenarioAsync stocks the items on the stack it finds running.
            if (ClusterWanted(NodeKilled))
            {
                await ClusterStackAsync(cluster);
                await ScenarioAsync(NodeKilled, "CR", (submission, _) => KillNodeAsync(cluster, submission), fullSize: true, settleFactor: ClusterSettleFactor,
                    after: () => FailoverFiguresAsync(NodeKilled, "node"));
            }

            if (ClusterWanted(PrimaryKilled))
            {
                await ClusterStackAsync(cluster);
                await ScenarioAsync(PrimaryKilled, "CP", (submission, _) => PromoteAsync(cluster, submission), fullSize: true, settleFactor: ClusterSettleFactor,
                    after: () => FailoverFiguresAsync(PrimaryKilled, "primary"));
            }

            await DisposeStackAsync();
        }
        finally
        {
            report.Begin("stopping the cluster topology");
            progress("stopping the cluster topology and wiping its data");
            await cluster.DownAsync();
        }
    }

    /// <summary>A stack on the cluster, unless one is running (a failed scenario disposes its stack).</summary>
    async Task ClusterStackAsync(ClusterInfrastructure cluster)
    {
        if (_stack?.Cluster is not null)
            return;
        await DisposeStackAsync();
        progress("starting a stack on the cluster topology");
        _stack = await Stack.StartAsync(infrastructure, "cluster", profile.ReliabilityPaymentWindow, extra: StackSettings, cluster: cluster);
        _payer = new Payer(_stack, Payer.Mixed);
    }

    DateTimeOffset _failedAt;
    List<int> _pids = [];

    List<int> ServicePids() => _stack!.Apis.Concat(_stack.Workers).Append(_stack.Sandbox).Select(Pid).ToList();
    double _promotion = double.NaN;

    async Task KillNodeAsync(ClusterInfrastructure cluster, double submission)
    {
        _pids = ServicePids();
        await MiddleAsync(NodeKilled, submission);
        var (node, why) = await cluster.BusiestNodeAsync(_stack!.VirtualHost.Name);
        progress($"kill -9 RabbitMQ node {node} at t={Clock.Now - _t0:0.0}s ({why})");
        _failedAt = await cluster.KillRabbitAsync(node);
        await Task.Delay(NodeDown);
        var started = Clock.Now;
        await cluster.StartRabbitAsync(node);
        progress($"RabbitMQ node {node} back in the cluster at t={Clock.Now - _t0:0.0}s ({Clock.Now - started:0} s to start)");
    }

    async Task PromoteAsync(ClusterInfrastructure cluster, double submission)
    {
        _pids = ServicePids();
        await MiddleAsync(PrimaryKilled, submission);
        progress($"stopping the PostgreSQL primary (immediate) and promoting the standby at t={Clock.Now - _t0:0.0}s");
        (_failedAt, _promotion) = await cluster.PromoteStandbyAsync();
        progress($"standby promoted {_promotion:0.0} s after the primary stopped");
    }

    /// <summary>
    /// The middle of the scenario: 40% of the submission past and a tenth of the orders Placed, so that orders are in
    /// every stage when the failure comes and those placed before it give the undisturbed 202 → Placed — but no later than
    /// 70% of the submission, so that orders still arrive after it (on a loaded machine the first Placed can come after
    /// the last order was sent; then nothing was placed before the failure and every order placed after it counts as delayed).
    /// </summary>
    async Task MiddleAsync(string scenario, double submission)
    {
        await WaitUntil(_t0 + submission * 0.4);
        var wanted = Math.Max(1, profile.ReliabilityOrders / 10);
        for (var until = _t0 + submission * 0.7; Clock.Now < until; await Task.Delay(500))
        {
            var ids = _stack!.Storefront.Orders.Values.Where(o => o.Scenario == scenario).Select(o => o.OrderId).ToArray();
            if ((await Verdicts.StatesAsync(_stack, ids)).Values.Count(s => s == "Placed") >= wanted)
                return;
        }
    }

    /// <summary>
    /// From the accepted orders' 202 (the benchmark's clock) and their Placed transition (the saga's timeline): the failover
    /// time (the failure → the first order accepted after it reaching Placed), and the orders delayed (202 → Placed longer
    /// than the p99 of the orders placed before the failure).
    /// </summary>
    async Task FailoverFiguresAsync(string scenario, string failed)
    {
        var alive = _stack!.Apis.Concat(_stack.Workers).Append(_stack.Sandbox).All(p => p.IsRunning);
        report.Verdicts.Add(new Verdict(scenario, "services rode it out without a restart of their own", alive && ServicePids().SequenceEqual(_pids),
            alive ? $"the same {_pids.Count} processes throughout" : "a service process exited"));
        var orders = _stack!.Storefront.Orders.Values.Where(o => o.Scenario == scenario).ToList();
        var placed = await PlacedAtAsync(orders.Select(o => o.OrderId).ToArray());
        var offset = DateTimeOffset.UtcNow - TimeSpan.FromSeconds(Clock.Now);
        DateTimeOffset Wall(double clock) => offset + TimeSpan.FromSeconds(clock);
        var timed = orders.Where(o => placed.ContainsKey(o.OrderId))
            .Select(o => (Accepted: Wall(o.AcceptedAt), Placed: placed[o.OrderId], Seconds: (placed[o.OrderId] - Wall(o.AcceptedAt)).TotalSeconds))
            .ToList();
        var before = timed.Where(t => t.Placed < _failedAt).Select(t => t.Seconds).Order().ToList();
        var after = timed.Where(t => t.Placed >= _failedAt).Select(t => t.Seconds).Order().ToList();
        var threshold = Stats.Percentile(before, 0.99);
        // Nothing placed before the failure (it came before the first order got through): every order placed after it counts.
        var delayed = after.Where(s => before.Count == 0 || s > threshold).ToList();
        var firstAfter = timed.Where(t => t.Accepted >= _failedAt).Select(t => t.Placed).DefaultIfEmpty().Min();
        var anyAfter = timed.Where(t => t.Placed >= _failedAt).Select(t => t.Placed).DefaultIfEmpty().Min();
        string Ms(double seconds) => double.IsNaN(seconds) ? "n/a" : $"{seconds * 1000:0} ms";
        var (resumed, pause) = await PauseAsync(orders.Select(o => o.OrderId).ToArray());
        var time = $"saga transitions resumed {resumed:0.0} s after the {failed} stopped (longest pause from 10 s before to 2 min after: {pause:0.0} s); " +
                   (firstAfter == default ? "no order accepted after it was placed"
                       : $"{(firstAfter - _failedAt).TotalSeconds:0.0} s to the first Placed of an order accepted after it " +
                         $"(any order: {(anyAfter - _failedAt).TotalSeconds:0.0} s)") +
                   (double.IsNaN(_promotion) ? "" : $"; promotion took {_promotion:0.0} s");
        var delayedText = $"{delayed.Count} of {after.Count} placed after it took longer than the p99 before it " +
                          $"({Ms(threshold)}; p50 before {Ms(Stats.Percentile(before, 0.5))}, {before.Count} orders); " +
                          $"202 → Placed of those delayed p50 {Ms(Stats.Percentile(delayed, 0.5))}, p99 {Ms(Stats.Percentile(delayed, 0.99))}; " +
                          $"of all placed after it p50 {Ms(Stats.Percentile(after, 0.5))}, p99 {Ms(Stats.Percentile(after, 0.99))}";
        var retriedOrders = orders.Where(o => o.Answered503 > 0).ToList();
        var retried = retriedOrders.Count == 0
            ? "no POST /orders answered 503"
            : $"{retriedOrders.Count} orders answered 503 ({retriedOrders.Sum(o => o.Answered503)} answers) and retried with the same " +
              $"Idempotency-Key until 202, after up to {retriedOrders.Max(o => o.AcceptedAt - o.FirstSentAt):0.0} s";
        var load = File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";
        report.Failovers.Add(new Failover(scenario, failed == "node" ? "RabbitMQ node kill -9, started again 10 s later" : "primary stopped (immediate), standby promoted",
            time, delayedText, retried, load));
        progress($"{scenario}: {time}; {delayedText}; {retried}");
    }

    /// <summary>
    /// From the scenario's saga transitions (the timeline): the first after the failure, in seconds after it, and the
    /// longest pause between two transitions from 10 s before it to 2 minutes after — how long the sagas stood still.
    /// </summary>
    async Task<(double Resumed, double Pause)> PauseAsync(Guid[] ids)
    {
        Interlocked.Increment(ref _stack!.OwnQueries);
        await using var command = _stack.Data.CreateCommand(
            "SELECT at FROM ordering.order_timeline WHERE order_id = ANY($1) AND at BETWEEN $2 AND $3 ORDER BY at");
        command.Parameters.Add(new NpgsqlParameter { Value = ids });
        command.Parameters.Add(new NpgsqlParameter { Value = _failedAt.AddSeconds(-10) });
        command.Parameters.Add(new NpgsqlParameter { Value = _failedAt.AddMinutes(2) });
        var times = new List<DateTimeOffset>();
        await using (var reader = await command.ExecuteReaderAsync())
            while (await reader.ReadAsync())
                times.Add(reader.GetFieldValue<DateTimeOffset>(0));
        var resumed = times.FirstOrDefault(t => t >= _failedAt) is { } first && first != default ? (first - _failedAt).TotalSeconds : double.NaN;
        var pause = times.Zip(times.Skip(1), (a, b) => (b - a).TotalSeconds).DefaultIfEmpty(double.NaN).Max();
        return (resumed, pause);
    }

    /// <summary>When each order's saga reached Placed (the timeline, written with the transition).</summary>
    async Task<Dictionary<Guid, DateTimeOffset>> PlacedAtAsync(Guid[] ids)
    {
        Interlocked.Increment(ref _stack!.OwnQueries);
        await using var command = _stack.Data.CreateCommand(
            "SELECT order_id, min(at) FROM ordering.order_timeline WHERE to_state = 'Placed' AND order_id = ANY($1) GROUP BY 1");
        command.Parameters.Add(new NpgsqlParameter { Value = ids });
        await using var reader = await command.ExecuteReaderAsync();
        var placed = new Dictionary<Guid, DateTimeOffset>();
        while (await reader.ReadAsync())
            placed[reader.GetGuid(0)] = reader.GetFieldValue<DateTimeOffset>(1);
        return placed;
    }
}
