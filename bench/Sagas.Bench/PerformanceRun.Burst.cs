namespace Sagas.Bench;

// PerformanceRun, one scenario: a burst as fast as the Api takes it, drained to final and judged, on items of its own.
public sealed partial class PerformanceRun
{
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
        var drainText = QualityBarFigures.BurstDrain(drain.Done, drain.Final, drain.Accepted, drain.At - start);
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
