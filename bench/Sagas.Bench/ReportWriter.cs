using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Sagas.Bench;

/// <summary>Turns a run into quality-bar figures with ratios, then Markdown, JSON and charts.</summary>
public static class ReportWriter
{
    public static void ComputeFigures(BenchReport report)
    {
        var limits = report.Limits;
        LoadSummary? Load(string prefix) => report.Loads.FirstOrDefault(l => l.Name.StartsWith(prefix, StringComparison.Ordinal));
        var atRate = Load("ingest at 500/s");
        var max = Load("ingest at the maximum");
        var reads = Load("reads at");
        var qr = Load("QR ready (");
        if (max is not null && limits is not null)
        {
            var ratio = max.OkPerSecond / limits.PgbenchSimpleUpdateTps;
            report.Figures.Add(new Figure("ingest.max", "Order ingest: POST /orders accepted/s (maximum)", max.OkPerSecond, "/s",
                "≥ 500/s and ≥ 0.5 × pgbench simple-update TPS", ratio, "÷ pgbench simple-update TPS",
                max.OkPerSecond >= 500 && ratio >= 0.5, $"{max.OkPerSecond / 500:0.00} × the 500/s seed figure"));
        }

        if (atRate is not null)
        {
            report.Figures.Add(new Figure("ingest.500.rate", "Order ingest at 500/s: accepted/s", atRate.OkPerSecond, "/s",
                "≥ 500/s", atRate.OkPerSecond / 500, "÷ 500/s", atRate.Ok >= atRate.Sent * 0.999 && atRate.Unfinished == 0));
            report.Figures.Add(new Figure("ingest.500.p99", "Order ingest at 500/s: p99 latency", atRate.P99, "ms",
                "≤ 50 ms", atRate.P99 / 50, "÷ 50 ms (≤ 1 meets)", atRate.P99 <= 50, $"p50 {atRate.P50:0.0} ms, p95 {atRate.P95:0.0} ms"));
        }

        if (reads is not null)
        {
            report.Figures.Add(new Figure("reads.rate", "Status reads: GET /orders/{id} ok/s beside ingest at 500/s", reads.OkPerSecond, "/s",
                "≥ 2,500/s", reads.OkPerSecond / 2500, "÷ 2,500/s", reads.Ok >= reads.Sent * 0.999 && reads.OkPerSecond >= 2500 * 0.99));
            report.Figures.Add(new Figure("reads.p99", "Status reads: p99 latency", reads.P99, "ms", "≤ 20 ms", reads.P99 / 20,
                "÷ 20 ms (≤ 1 meets)", reads.P99 <= 20, $"p50 {reads.P50:0.0} ms, p95 {reads.P95:0.0} ms"));
        }

        if (report.Values.TryGetValue("looking.cores", out var lookingCores) && report.Values.TryGetValue("looking.orders", out var looking) && looking > 0)
        {
            // The bar: 3,000 orders awaiting payment keep at most 0.2 cores busy; a smaller run is held to its share.
            var allowed = 0.2 * looking / 3000;
            report.Figures.Add(new Figure("looking.cores", $"Customers looking at their QR: cores busy for {looking:0} orders awaiting payment (beyond idle)",
                lookingCores, "cores", $"≤ 0.2 cores per 3,000 ({allowed:0.###} here)", lookingCores / allowed, "÷ allowed (≤ 1 meets)", lookingCores <= allowed,
                $"{report.Values["looking.msPerOrderSecond"]:0.000} ms CPU per pending order per second (was ≈ 6 ms with a poll timer per order); idle stack {report.Values["looking.idleCores"]:0.000} cores"));
        }

        if (report.Values.TryGetValue("overload.qr.p99", out var overloadP99))
            report.Figures.Add(new Figure("overload.qr.p99",
                $"Overload (3 × the end-to-end rate offered for {report.Values["overload.seconds"]:0} s): QR ready p99 of the accepted orders",
                overloadP99, "ms", "≤ 5,000 ms, the rest 503 + Retry-After", overloadP99 / 5000, "÷ 5,000 ms (≤ 1 meets)", overloadP99 <= 5000,
                $"offered {report.Values["overload.offeredPerSecond"]:0}/s: {report.Values["overload.accepted"]:0} accepted, " +
                $"{report.Values["overload.refused"]:0} refused; p50 {report.Values["overload.qr.p50"]:0} ms, max {report.Values["overload.qr.max"]:0} ms"));

        if (report.Values.TryGetValue("instrumentation.on", out var instrumentedOn) && report.Values.TryGetValue("instrumentation.off", out var instrumentedOff))
            report.Figures.Add(new Figure("instrumentation.cost", "Instrumentation (metrics, and traces exported over OTLP): CPU per placed order, on − off",
                instrumentedOn - instrumentedOff, "ms", "(reported)", null, "", null,
                $"on {instrumentedOn:0.0} ms, off {instrumentedOff:0.0} ms over every part but the load generator; " +
                $"{report.Values["instrumentation.orders"]:0} orders on a fresh stack each, after a warm-up"));

        if (report.Values.TryGetValue("idle.qr.p50", out var idleP50))
        {
            var idleP99 = report.Values["idle.qr.p99"];
            report.Figures.Add(new Figure("idle.qr.p50", "Idle, one order at a time: QR ready (202 → qrPayload) p50", idleP50, "ms", "≤ 60 ms",
                idleP50 / 60, "÷ 60 ms (≤ 1 meets)", idleP50 <= 60, $"{report.Values["idle.qr.orders"]:0} orders, status read every 2 ms"));
            report.Figures.Add(new Figure("idle.qr.p99", "Idle, one order at a time: QR ready p99", idleP99, "ms", "≤ 150 ms",
                idleP99 / 150, "÷ 150 ms (≤ 1 meets)", idleP99 <= 150));
            // The timers' own messages (to and from the scheduler's queue) are in the table but are nobody's next step.
            if (report.Hops.Where(h => h.MessageType is not ("ScheduleMessage" or "CancelScheduledMessage")).MaxBy(h => h.P50) is { } slowest)
            {
                report.Figures.Add(new Figure("idle.hop.p50", "Idle: each saga hop, commit → next consumer, p50 (slowest hop)", slowest.P50, "ms",
                    "≤ 5 ms per hop", slowest.P50 / 5, "÷ 5 ms (≤ 1 meets)", slowest.P50 <= 5,
                    $"{slowest.MessageType}; all hops p50 {report.Values["idle.hop.p50"]:0.0} ms, p99 {report.Values["idle.hop.p99"]:0.0} ms (table \"Saga hops\")"));
            }
        }

        if (report.Values.TryGetValue("qr.half.p99", out var halfP99))
            report.Figures.Add(new Figure("qr.half.p99", $"QR ready at half the end-to-end rate ({report.Values["qr.half.rate"]:0} orders/s): p99", halfP99, "ms",
                "≤ 250 ms", halfP99 / 250, "÷ 250 ms (≤ 1 meets)", halfP99 <= 250,
                $"p50 {report.Values["qr.half.p50"]:0} ms, max {report.Values["qr.half.max"]:0} ms, {report.Values["qr.half.notReady"]:0} not ready within 30 s"));

        if (qr is not null)
        {
            report.Figures.Add(new Figure("qr.p50", "QR ready at 100 orders/s: p50", qr.P50, "ms", "≤ 50 ms", qr.P50 / 50, "÷ 50 ms (≤ 1 meets)", qr.P50 <= 50,
                "polled every 10 ms through GET /orders/{id}"));
            report.Figures.Add(new Figure("qr.p99", "QR ready at 100 orders/s: p99", qr.P99, "ms", "≤ 250 ms", qr.P99 / 250, "÷ 250 ms (≤ 1 meets)", qr.P99 <= 250));
        }

        if (report.Costs is { } costs && limits is not null && report.Values.TryGetValue("e2e.placedPerSecond", out var e2e))
        {
            var dbBound = limits.PgbenchSimpleUpdateTps / costs.TransactionsPerOrder;
            var brokerBound = limits.RawBrokerMessagesPerSecond / costs.MessagesPerOrder;
            var bound = Math.Min(dbBound, brokerBound);
            report.Values["bound.database"] = dbBound;
            report.Values["bound.broker"] = brokerBound;
            report.Values["bound.B"] = bound;
            report.Figures.Add(new Figure("e2e.rate", "End to end: orders/s reaching Placed, sustained", e2e, "/s",
                "≥ 0.5 × B", e2e / bound, "÷ B", e2e / bound >= 0.5,
                $"B = min({limits.PgbenchSimpleUpdateTps:0} TPS ÷ {costs.TransactionsPerOrder:0.0} tx/order = {dbBound:0.0}, " +
                $"{limits.RawBrokerMessagesPerSecond:0} msg/s ÷ {costs.MessagesPerOrder:0.0} msg/order = {brokerBound:0.0}) = {bound:0.0}/s"));
            report.Figures.Add(new Figure("cost.tx", "Database transactions per order", costs.TransactionsPerOrder, "tx", "(reported)", null, "", null,
                $"{costs.TransactionsPerOrderGross:0.0} including the idle background of {costs.BackgroundTransactionsPerSecond:0.0} tx/s"));
            report.Figures.Add(new Figure("cost.msg", "Broker messages per order", costs.MessagesPerOrder, "msg", "(reported)", null, "", null,
                $"{costs.PublishesPerOrder:0.0} publishes, {costs.DeliveriesPerOrder:0.0} deliveries"));
        }

        if (report.Values.TryGetValue("burst.drainSeconds", out var drain))
        {
            var orders = report.Values["burst.orders"];
            var drained = report.Values["burst.drained"] == 1;
            var burstOk = report.Verdicts.Where(v => v.Scenario == "burst").All(v => v.Pass);
            report.Figures.Add(new Figure("burst.drain", $"Burst: {orders:0} orders, every one final (drain time)", drain,
                drained ? "s" : "s (not drained)", "every one final, none lost; drain time reported", null, "", burstOk,
                $"{BurstDrain(drained, report.Values["burst.final"], report.Values["burst.accepted"], drain)}; submitted in {report.Values["burst.submitSeconds"]:0.0} s"));
        }

        if (limits is not null)
            report.Figures.Add(new Figure("outbox.lag.p99", "Outbox delivery lag (commit → consumer), idle-woken: p99", limits.OutboxLagP99Ms, "ms",
                "≤ 20 ms", limits.OutboxLagP99Ms / 20, "÷ 20 ms (≤ 1 meets)", limits.OutboxLagP99Ms <= 20,
                $"p50 {limits.OutboxLagP50Ms:0.0} ms, max {limits.OutboxLagMaxMs:0.0} ms over {limits.OutboxLagMessages} messages"));
    }

    /// <summary>"every order final after …" or "not drained: X of N final after …", with the rate.</summary>
    public static string BurstDrain(bool drained, double final, double accepted, double seconds) => drained
        ? $"every order final {seconds:0.0} s after the first was sent ({final / seconds:0.0} orders/s overall)"
        : $"not drained: {final:0} of {accepted:0} final after {seconds:0} s ({final / seconds:0.0} orders/s)";

    public static async Task WriteAsync(BenchReport report, string markdownPath, string jsonPath, string chartDirectory, string? notesPath)
    {
        var chartLink = Path.GetRelativePath(Path.GetDirectoryName(markdownPath)!, chartDirectory);
        if (report.Series.Count > 0 || report.Loads.Count > 0)
            await WriteChartsAsync(report, chartDirectory);

        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web)
        {
            WriteIndented = true,
            NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        };
        Directory.CreateDirectory(Path.GetDirectoryName(jsonPath)!);
        await File.WriteAllTextAsync(jsonPath, JsonSerializer.Serialize(report, options));
        await File.WriteAllTextAsync(markdownPath, Markdown(report, chartLink, notesPath));
    }

    static async Task WriteChartsAsync(BenchReport report, string directory)
    {
        var throughput = report.Series.Where(s => s.Chart == "throughput").Select(s => new Charts.Line(s.Label, s.Points)).ToList();
        if (throughput.Count > 0)
            report.Charts.Add(await Charts.WriteAsync(directory, "throughput",
                Charts.LineChart("Throughput over time", "seconds into the scenario", "per second", throughput)));

        string[] percentiles = ["p50", "p90", "p95", "p99", "p99.9"];
        var latency = report.Loads.Where(l => l.Ok > 0 && !l.Name.StartsWith("end to end", StringComparison.Ordinal) && !l.Name.StartsWith("burst", StringComparison.Ordinal))
            .Select(l => new Charts.Line(l.Name, [[0, l.P50], [1, l.P90], [2, l.P95], [3, l.P99], [4, l.P999]])).ToList();
        if (latency.Count > 0)
            report.Charts.Add(await Charts.WriteAsync(directory, "latency",
                Charts.LineChart("Latency percentiles (from the intended send time)", "percentile", "milliseconds (log scale)", latency,
                    logY: true, xCategories: percentiles)));

        var drain = report.Series.Where(s => s.Chart == "drain").Select(s => new Charts.Line(s.Label, s.Points)).ToList();
        if (drain.Count > 0)
            report.Charts.Add(await Charts.WriteAsync(directory, "drain",
                Charts.LineChart($"Burst of {report.Values.GetValueOrDefault("burst.orders"):0} orders: accepted and final over time",
                    "seconds since the first order was sent", "orders", drain)));
    }

    static string N(double value, string format = "0.0") =>
        double.IsFinite(value) ? value.ToString(format, CultureInfo.InvariantCulture) : "n/a";

    static string Markdown(BenchReport report, string chartLink, string? notesPath)
    {
        var md = new StringBuilder();
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

        if (report.Limits is { } limits)
        {
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

        if (report.Figures.Count > 0)
        {
            md.AppendLine("## Quality-bar figures");
            md.AppendLine();
            md.AppendLine("| figure | measured | target | ratio | meets | notes |");
            md.AppendLine("|---|---|---|---|---|---|");
            foreach (var f in report.Figures)
                md.AppendLine($"| {f.Title} | {N(f.Value, f.Unit == "ms" || f.Value < 100 ? "0.0" : "0")} {f.Unit} | {f.Target} | " +
                              $"{(f.Ratio is { } r ? $"{N(r, "0.00")} ({f.RatioMeaning})" : "")} | {(f.Meets is { } m ? m ? "yes" : "**no**" : "")} | {f.Note} |");
            md.AppendLine();
        }

        if (report.Costs is { } costs)
        {
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

        if (report.Hops.Count > 0)
        {
            md.AppendLine("## Saga hops, idle");
            md.AppendLine();
            md.AppendLine($"One order at a time on the quiet system ({N(report.Values.GetValueOrDefault("idle.qr.orders"), "0")} orders, each paid and final before the next):");
            md.AppendLine("from a message's sent time (written to an outbox by the step before) to the start of its consume, per message type —");
            md.AppendLine("the time the system adds between saga steps. The services' `sagas_consume_lag_seconds` histogram, interpolated within its buckets.");
            md.AppendLine();
            md.AppendLine("| message | consumed | p50 ms | p99 ms |");
            md.AppendLine("|---|---|---|---|");
            foreach (var h in report.Hops)
                md.AppendLine($"| {h.MessageType} | {N(h.Consumed, "0")} | {N(h.P50)} | {N(h.P99)} |");
            md.AppendLine();
        }

        if (report.Loads.Count > 0)
        {
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

        if (report.Verdicts.Count > 0)
        {
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
            if (report.Notes.Count > 0)
            {
                md.AppendLine("Final states per scenario:");
                md.AppendLine();
                foreach (var note in report.Notes)
                    md.AppendLine($"- {note.Scenario}: {note.Text}");
                md.AppendLine();
            }
        }

        if (report.Charts.Count > 0)
        {
            md.AppendLine("## Charts");
            md.AppendLine();
            foreach (var chart in report.Charts)
                md.AppendLine($"![{Path.GetFileNameWithoutExtension(chart)}]({chartLink}/{chart})");
            md.AppendLine();
        }

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

        if (notesPath is not null && File.Exists(notesPath))
        {
            md.AppendLine(File.ReadAllText(notesPath).TrimEnd());
            md.AppendLine();
        }

        return md.ToString();
    }
}
