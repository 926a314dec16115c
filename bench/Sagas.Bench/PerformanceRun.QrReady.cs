using System.Collections.Concurrent;

namespace Sagas.Bench;

// PerformanceRun, one scenario: QR ready at a fixed rate: the time from 202 to an order the storefront can show a QR code for.
public sealed partial class PerformanceRun
{
    /// <summary>
    /// Orders at a fixed rate, each polled until its QR code can be shown. The first run follows the end-to-end
    /// phase, which left the system quiet (<see cref="WaitQuietAsync"/>).
    /// </summary>
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
}
