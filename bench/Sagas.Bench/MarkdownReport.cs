using System.Globalization;
using System.Text;

namespace Sagas.Bench;

/// <summary>docs/benchmarks.md: one method per section, in the order they appear.</summary>
static class MarkdownReport
{
    public static string Write(BenchReport report, string chartLink, string? notesPath)
    {
        var md = new StringBuilder();
        Header(md, report);
        Machine(md, report);
        Limits(md, report);
        Figures(md, report);
        Costs(md, report);
        Hops(md, report);
        Loads(md, report);
        Verdicts(md, report);
        Charts(md, report, chartLink);
        HowMeasured(md);
        Notes(md, notesPath);
        return md.ToString();
    }

    static string N(double value, string format = "0.0") =>
        double.IsFinite(value) ? value.ToString(format, CultureInfo.InvariantCulture) : "n/a";

    static void Header(StringBuilder md, BenchReport report)
    {
        md.AppendLine("# Benchmarks");
        md.AppendLine();
        md.AppendLine("Written by `make bench` (`bench/Sagas.Bench`); do not edit by hand — rerun it. Every figure is taken in one run");
        md.AppendLine("next to the machine's own limits measured in the same run (pgbench against the same PostgreSQL, a raw");
        md.AppendLine("MassTransit publish→consume loop against the same RabbitMQ), and reported as a ratio with the absolute");
        md.AppendLine("number beside it. Targets: [quality bar](../../shared/design/quality-bar.md) (`shared/design/quality-bar.md`).");
        md.AppendLine();
        md.AppendLine($"- Command: `{report.Command}` (profile `{report.Profile}`)");
        md.AppendLine($"- Started: {report.StartedAt:yyyy-MM-dd HH:mm} UTC, took {report.Seconds / 60:0.0} min");
        md.AppendLine($"- Verdicts: {(report.AllVerdictsPass ? "all PASS" : $"{report.Verdicts.Count(v => !v.Pass)} FAIL")} ({report.Verdicts.Count} checks)");
        md.AppendLine();
    }

    static void Machine(StringBuilder md, BenchReport report)
    {
        md.AppendLine("## Machine");
        md.AppendLine();
        md.AppendLine("| | |");
        md.AppendLine("|---|---|");
        foreach (var (key, value) in report.Machine)
            md.AppendLine($"| {key} | {value} |");
        md.AppendLine($"| phases: seconds (load average 1/5/15 min at the start) | {string.Join("; ", report.Phases.Select(p => $"{p.Label}: {N(p.Seconds, "0")} s ({p.LoadAverage})"))} |");
        md.AppendLine();
        md.AppendLine("A shared 2-core box: other people's builds and tests run beside the benchmark, which is why each figure");
        md.AppendLine("is read against limits measured in the same run. The load averages above show how busy it was.");
        md.AppendLine();
    }

    static void Limits(StringBuilder md, BenchReport report)
    {
        if (report.Limits is not { } limits)
            return;

        md.AppendLine("## The machine's limits in this run");
        md.AppendLine();
        md.AppendLine("| limit | value |");
        md.AppendLine("|---|---|");
        md.AppendLine($"| pgbench simple-update (`-N`), {limits.PgbenchClients} clients, {limits.PgbenchSeconds:0} s | {N(limits.PgbenchSimpleUpdateTps, "0")} TPS |");
        md.AppendLine($"| pgbench select-only (`-S`), {limits.PgbenchClients} clients, {limits.PgbenchSeconds:0} s | {N(limits.PgbenchSelectOnlyTps, "0")} TPS |");
        md.AppendLine($"| raw MassTransit publish→consume, {limits.RawPublishers} publishers, durable queue, {limits.RawSeconds:0} s | {N(limits.RawBrokerMessagesPerSecond, "0")} msg/s |");
        md.AppendLine($"| bus outbox lag, 1 writer, idle-woken, {limits.OutboxLagMessages} messages | p50 {N(limits.OutboxLagP50Ms)} ms, p99 {N(limits.OutboxLagP99Ms)} ms |");
        md.AppendLine();
    }

    static void Figures(StringBuilder md, BenchReport report)
    {
        if (report.Figures.Count == 0)
            return;

        md.AppendLine("## Quality-bar figures");
        md.AppendLine();
        md.AppendLine("| figure | measured | target | ratio | meets | notes |");
        md.AppendLine("|---|---|---|---|---|---|");
        foreach (var f in report.Figures)
            md.AppendLine($"| {f.Title} | {N(f.Value, f.Unit == "ms" || f.Value < 100 ? "0.0" : "0")} {f.Unit} | {f.Target} | " +
                          $"{(f.Ratio is { } r ? $"{N(r, "0.00")} ({f.RatioMeaning})" : "")} | {(f.Meets is { } m ? m ? "yes" : "**no**" : "")} | {f.Note} |");
        md.AppendLine();
    }

    static void Costs(StringBuilder md, BenchReport report)
    {
        if (report.Costs is not { } costs)
            return;

        md.AppendLine("## Per-order costs and the bound B");
        md.AppendLine();
        md.AppendLine($"Counted over the end-to-end phase ({costs.Orders} orders, {N(costs.WindowSeconds, "0")} s from the first submission until every");
        md.AppendLine("order was final and the counters had settled): `pg_stat_database.xact_commit` of the system's database (the sandbox");
        md.AppendLine("keeps its ledger in a database of its own, as an outside provider would; the benchmark's own queries are subtracted),");
        md.AppendLine("and the management API's `message_stats` of the run's virtual host.");
        md.AppendLine();
        md.AppendLine("| per order | value |");
        md.AppendLine("|---|---|");
        md.AppendLine($"| database transactions (net of the idle background) | {N(costs.TransactionsPerOrder)} |");
        md.AppendLine($"| database transactions (gross) | {N(costs.TransactionsPerOrderGross)} |");
        md.AppendLine($"| idle background | {N(costs.BackgroundTransactionsPerSecond)} tx/s, {N(costs.BackgroundPublishesPerSecond, "0.00")} publishes/s |");
        md.AppendLine($"| rollbacks in the window | {costs.Rollbacks} |");
        md.AppendLine($"| broker publishes | {N(costs.PublishesPerOrder)} |");
        md.AppendLine($"| broker deliveries | {N(costs.DeliveriesPerOrder)} |");
        md.AppendLine($"| broker messages (max of the two: each raw-loop message is one publish and one delivery) | {N(costs.MessagesPerOrder)} |");
        if (report.IngestCosts is { } ingest)
            md.AppendLine($"| of which the Api's accept path (ingest at 500/s, Workers stopped) | {N(ingest.TransactionsPerOrder)} transactions, {N(ingest.PublishesPerOrder)} publishes |");
        md.AppendLine();
        if (report.TableWrites.Count > 0)
        {
            md.AppendLine("Rows written per order, by table (`pg_stat_user_tables` deltas over the same window):");
            md.AppendLine();
            md.AppendLine("| table | inserts | updates | deletes |");
            md.AppendLine("|---|---|---|---|");
            foreach (var t in report.TableWrites)
                md.AppendLine($"| {t.Table} | {N(t.InsertsPerOrder, "0.00")} | {N(t.UpdatesPerOrder, "0.00")} | {N(t.DeletesPerOrder, "0.00")} |");
            md.AppendLine();
        }

        if (report.Cpu.Count > 0)
        {
            var orders = report.Values.GetValueOrDefault("e2e.orders");
            md.AppendLine($"Where the time goes: CPU (user + system, `/proc`) per order over the end-to-end phase ({N(orders, "0")} orders, from the first");
            md.AppendLine("submission until every order was final), by part of the system; on a 2-core box every part competes for the same two cores.");
            md.AppendLine();
            md.AppendLine("| part | CPU ms per order | cores busy (average) |");
            md.AppendLine("|---|---|---|");
            foreach (var c in report.Cpu)
                md.AppendLine($"| {c.Part} | {N(c.MillisecondsPerOrder)} | {N(c.CoresBusy, "0.00")} |");
            md.AppendLine($"| **all** | **{N(report.Cpu.Sum(c => c.MillisecondsPerOrder))}** | **{N(report.Cpu.Sum(c => c.CoresBusy), "0.00")}** |");
            md.AppendLine();
        }

        md.AppendLine($"B = min(pgbench simple-update TPS ÷ transactions per order, raw msg/s ÷ messages per order) = min({N(report.Values.GetValueOrDefault("bound.database"))}, " +
                      $"{N(report.Values.GetValueOrDefault("bound.broker"))}) = **{N(report.Values.GetValueOrDefault("bound.B"))} orders/s**; measured end to end " +
                      $"{N(report.Values.GetValueOrDefault("e2e.placedPerSecond"))} orders/s.");
        md.AppendLine();
    }

    static void Hops(StringBuilder md, BenchReport report)
    {
        if (report.Hops.Count == 0)
            return;

        md.AppendLine("## Saga hops, idle");
        md.AppendLine();
        md.AppendLine($"One order at a time on the quiet system ({N(report.Values.GetValueOrDefault("idle.qr.orders"), "0")} orders, each paid and final before the next):");
        md.AppendLine("from the commit of the step before (messages handed off at their commit carry its time: `sagas_consume_commit_lag_seconds`)");
        md.AppendLine("and from a message's sent time (written to the outbox before that commit: `sagas_consume_lag_seconds`) to the start of its");
        md.AppendLine("consume, per message type — the time the system adds between saga steps. The services' histograms, interpolated within their buckets.");
        md.AppendLine();
        md.AppendLine("| message | consumed | commit → consume: of them | p50 ms | p99 ms | sent → consume: p50 ms | p99 ms |");
        md.AppendLine("|---|---|---|---|---|---|---|");
        foreach (var h in report.Hops)
            md.AppendLine($"| {h.MessageType} | {N(h.Consumed, "0")} | {N(h.Committed, "0")} | {N(h.CommitP50)} | {N(h.CommitP99)} | {N(h.P50)} | {N(h.P99)} |");
        md.AppendLine();
    }

    static void Loads(StringBuilder md, BenchReport report)
    {
        if (report.Loads.Count == 0)
            return;

        md.AppendLine("## Load runs");
        md.AppendLine();
        md.AppendLine("Latency runs from the *intended* send time of each request (open loop: a fixed arrival rate, whether or not");
        md.AppendLine("earlier requests have answered), so a stall is charged to every request it delayed.");
        md.AppendLine();
        md.AppendLine("| run | sent | ok | ok/s | p50 ms | p95 ms | p99 ms | p99.9 ms | max ms | failed |");
        md.AppendLine("|---|---|---|---|---|---|---|---|---|---|");
        foreach (var l in report.Loads)
            md.AppendLine($"| {l.Name} | {l.Sent} | {l.Ok} | {N(l.OkPerSecond, "0")} | {N(l.P50)} | {N(l.P95)} | {N(l.P99)} | {N(l.P999)} | {N(l.Max, "0")} | {l.Failed + l.Unfinished} |");
        md.AppendLine();
    }

    static void Verdicts(StringBuilder md, BenchReport report)
    {
        if (report.Verdicts.Count == 0)
            return;

        md.AppendLine("## Reliability verdicts");
        md.AppendLine();
        md.AppendLine("Checked against the sandbox's ledger (`GET /sandbox/ledger`) and the item stock, never our own payment records.");
        md.AppendLine("Customers pay at once, except about 5% who never pay (the order must expire) and 5% who pay one cent short");
        md.AppendLine("(the order must fail with `amount-mismatch` and the money come back once); half the orders want one scarce item.");
        md.AppendLine();
        md.AppendLine("| scenario | check | verdict | detail |");
        md.AppendLine("|---|---|---|---|");
        foreach (var v in report.Verdicts)
            md.AppendLine($"| {v.Scenario} | {v.Check} | {(v.Pass ? "PASS" : "**FAIL**")} | {v.Detail} |");
        md.AppendLine();
        Failovers(md, report);
        if (report.Notes.Count > 0)
        {
            md.AppendLine("Final states per scenario:");
            md.AppendLine();
            foreach (var note in report.Notes)
                md.AppendLine($"- {note.Scenario}: {note.Text}");
            md.AppendLine();
        }
    }

    /// <summary>The cluster scenarios' failovers: verdicts, failover time, the orders delayed.</summary>
    static void Failovers(StringBuilder md, BenchReport report)
    {
        if (report.Failovers.Count == 0)
            return;
        md.AppendLine("Failovers on the cluster topology (`scripts/cluster.sh`: three RabbitMQ nodes, quorum queues, a PostgreSQL primary with a");
        md.AppendLine("synchronous standby; the payment sandbox, standing for the provider, keeps its ledger on the single server):");
        md.AppendLine();
        md.AppendLine("| scenario | failure | verdicts | failover time | orders delayed (202 → Placed) | POST /orders answered 503 | load average after |");
        md.AppendLine("|---|---|---|---|---|---|---|");
        foreach (var f in report.Failovers)
        {
            var verdicts = report.Verdicts.Where(v => v.Scenario == f.Scenario).ToList();
            var failed = verdicts.Count(v => !v.Pass);
            md.AppendLine($"| {f.Scenario} | {f.What} | {(failed == 0 ? $"all {verdicts.Count} PASS" : $"**{failed} of {verdicts.Count} FAIL**")} | " +
                          $"{f.FailoverTime} | {f.Delayed} | {f.Retried} | {f.LoadAverage} |");
        }

        md.AppendLine();
    }

    static void Charts(StringBuilder md, BenchReport report, string chartLink)
    {
        if (report.Charts.Count == 0)
            return;

        md.AppendLine("## Charts");
        md.AppendLine();
        foreach (var chart in report.Charts)
            md.AppendLine($"![{Path.GetFileNameWithoutExtension(chart)}]({chartLink}/{chart})");
        md.AppendLine();
    }

    static void HowMeasured(StringBuilder md)
    {
        md.AppendLine("## How it is measured");
        md.AppendLine();
        md.AppendLine("- The benchmark owns its infrastructure: `scripts/infra.sh` starts a PostgreSQL cluster and a RabbitMQ node of its own");
        md.AppendLine("  (state in `.local/bench`, their own ports), so stopping the broker or restarting the database never touches the");
        md.AppendLine("  servers other people's tests use. Each stack gets a fresh database and virtual host.");
        md.AppendLine("- Api, Workers and the payment sandbox run as processes (`dotnet Sagas.X.dll`, Release), as `make run` starts them.");
        md.AppendLine("- The performance scenarios run one after another on one stack: end to end, QR ready, the burst (on items of its");
        md.AppendLine("  own), then ingest and reads; the reliability scenarios on another, started while the counters settle after the");
        md.AppendLine("  end-to-end phase. The machine's limits are measured beside the first stack while it idles (its idle background is");
        md.AppendLine("  read meanwhile; pgbench and the raw loop use databases and virtual hosts of their own).");
        md.AppendLine("- The sandbox has no \"pay at once\" setting, so the benchmark plays the customers: it watches the sandbox's pending");
        md.AppendLine("  payments and calls `POST /sandbox/qr-payments/{ref}/pay` as soon as one appears.");
        md.AppendLine("- Ingest and reads run with the Workers stopped (the backlog waits in RabbitMQ), so they measure the Api's own path;");
        md.AppendLine("  reads go to orders that reached `Placed` earlier in the run. End to end runs the whole system, submitting whenever");
        md.AppendLine("  fewer than a fixed number of orders are in flight, and counts `Placed` per second over the measured window.");
        md.AppendLine("- The maximum ingest is a closed loop (a fixed number of connections, each sending when the last answered).");
        md.AppendLine("- PostgreSQL flushes its statistics within about 10 s of going idle and RabbitMQ samples every 5 s, so counters are");
        md.AppendLine("  read after 12 s of quiet.");
        md.AppendLine("- Nothing here is a timed test: `make test` runs `--smoke`, which checks the reliability verdicts on small numbers only.");
        md.AppendLine();
    }

    /// <summary>The hand-written analysis (bench/Sagas.Bench/analysis.md) appended as it is.</summary>
    static void Notes(StringBuilder md, string? notesPath)
    {
        if (notesPath is null || !File.Exists(notesPath))
            return;

        md.AppendLine(File.ReadAllText(notesPath).TrimEnd());
        md.AppendLine();
    }
}
