namespace Sagas.Bench;

/// <summary>
/// Idle, one order at a time: what a single customer sees on a quiet system. Each order is submitted, its status read
/// every 2 ms until the QR code can be shown (202 → QR ready), paid, and followed until final before the next one is
/// sent, so no order waits behind another. Meanwhile the services' <see cref="ConsumeLag"/> histograms give, per saga
/// hop (message type), the time from a message's sent time (written to the outbox, before the sending step committed)
/// and from that step's commit (messages handed off at their commit carry it) to the start of its consume.
/// </summary>
public sealed class IdleRun(Stack stack, Payer payer, Profile profile, BenchReport report, Action<string> progress)
{
    public async Task RunAsync(Func<Random, SubmittedOrder> newOrder, Action<Guid> paysAfterQrShown)
    {
        report.Begin("idle: one order at a time");
        progress($"idle: {profile.IdleOrders} orders one at a time (QR ready, then paid and followed until final)");
        var random = new Random(3);
        var before = await ConsumeLag.ReadAsync(stack);
        var commitBefore = await ConsumeLag.ReadAsync(stack, ConsumeLag.CommitLag);
        var ready = new List<double>();
        var failed = 0;
        var started = Clock.Now;
        for (var i = 0; i < profile.IdleOrders; i++)
        {
            var order = newOrder(random);
            paysAfterQrShown(order.OrderId);
            var sent = Clock.Now;
            if (await stack.Storefront.SubmitOnceAsync(order) != 202)
            {
                failed++;
                continue;
            }

            var shown = false;
            for (var deadline = Clock.Now + 10; !shown && Clock.Now < deadline;)
            {
                var (code, status, qr) = await stack.Storefront.GetOrderAsync(order.OrderId);
                if (code == 200 && qr)
                {
                    ready.Add((Clock.Now - sent) * 1000);
                    shown = true;
                }
                else if (code == 200 && status is not ("Submitted" or "AwaitingPayment"))
                    break;
                else
                    await Task.Delay(2);
            }

            if (!shown)
                failed++;
            payer.QrShown(order.OrderId);
            // Final before the next order: the payment's hops (webhook, capture, placement) are idle ones too.
            for (var deadline = Clock.Now + 30; Clock.Now < deadline; await Task.Delay(5))
                if (await stack.Storefront.GetOrderAsync(order.OrderId) is (200, { } status, _) && Stack.FinalStates.Contains(status))
                    break;
        }

        var seconds = Clock.Now - started;
        // The last consume's histogram sample is recorded before the order is final; nothing else is running.
        var hops = (await ConsumeLag.ReadAsync(stack)).Since(before);
        var commitHops = (await ConsumeLag.ReadAsync(stack, ConsumeLag.CommitLag)).Since(commitBefore);
        var sorted = ready.Order().ToArray();
        var summary = new LoadSummary("idle: 202 → QR ready, one order at a time", profile.IdleOrders, sorted.Length, failed, 0, seconds,
            sorted.Length / seconds, Stats.Percentile(sorted, 0.5), Stats.Percentile(sorted, 0.9), Stats.Percentile(sorted, 0.95),
            Stats.Percentile(sorted, 0.99), Stats.Percentile(sorted, 0.999), sorted.Length == 0 ? double.NaN : sorted[^1], []);
        report.Loads.Add(summary);
        progress(summary.Line());

        report.Values["idle.qr.p50"] = summary.P50;
        report.Values["idle.qr.p99"] = summary.P99;
        report.Values["idle.qr.orders"] = sorted.Length;
        report.Values["idle.hop.p50"] = hops.Percentile(0.5);
        report.Values["idle.hop.p99"] = hops.Percentile(0.99);
        if (commitHops.MessageTypes.Any())
        {
            report.Values["idle.hop.commit.p50"] = commitHops.Percentile(0.5);
            report.Values["idle.hop.commit.p99"] = commitHops.Percentile(0.99);
        }

        foreach (var type in hops.MessageTypes)
        {
            var committed = commitHops.MessageTypes.Contains(type) ? commitHops.Count(type) : 0;
            var hop = new Hop(type, hops.Count(type), hops.Percentile(type, 0.5), hops.Percentile(type, 0.99), committed,
                committed > 0 ? commitHops.Percentile(type, 0.5) : double.NaN, committed > 0 ? commitHops.Percentile(type, 0.99) : double.NaN);
            report.Hops.Add(hop);
            progress($"idle: hop {hop.MessageType}: {hop.Consumed:0} consumed, sent → consume p50 {hop.P50:0.0} ms, p99 {hop.P99:0.0} ms; " +
                     (committed > 0 ? $"commit → consume ({committed:0} of them) p50 {hop.CommitP50:0.0} ms, p99 {hop.CommitP99:0.0} ms" : "no commit time carried"));
        }
    }
}
