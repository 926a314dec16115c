using Sagas.EndToEndTests.Api;

namespace Sagas.EndToEndTests.Reconciliation;

/// <summary>
/// Reconciliation against the provider's own listing (issue 15), on the real stack: a grace of 1 s after the saga's
/// 2 s, and the scheduled report every 2 s over the last hour.
/// </summary>
public sealed class ReconciliationStack : StackFixture
{
    protected override IDictionary<string, string> Configuration => new Dictionary<string, string>
    {
        ["Sweeps__ReconciliationGrace"] = "00:00:01",
        ["Sweeps__ReconciliationReportInterval"] = "00:00:02",
        ["Sweeps__ReconciliationReportRange"] = "01:00:00",
    };

    /// <summary>A fresh report over the last ten minutes and the next one (the provider's clock is this machine's).</summary>
    public async Task<JsonElement> Reconcile()
    {
        using var support = Client(TestApiKeys.Support);
        var now = DateTimeOffset.UtcNow;
        using var response = await support.GetAsync($"/reconciliation?from={Stamp(now.AddMinutes(-10))}&to={Stamp(now.AddMinutes(1))}");
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    public async Task<JsonElement> Stats()
    {
        using var support = Client(TestApiKeys.Support);
        return await support.GetFromJsonAsync<JsonElement>("/orders/stats");
    }

    public static string Stamp(DateTimeOffset instant) => Uri.EscapeDataString(instant.UtcDateTime.ToString("O"));

    public static IEnumerable<(string OrderId, string Kind)> Mismatches(JsonElement report) =>
        report.GetProperty("mismatches").EnumerateArray().Select(m => (m.GetProperty("orderId").GetString()!, m.GetProperty("kind").GetString()!));
}

public sealed class Reconciliation_finds_what_our_side_never_heard_of(ReconciliationStack stack) : IClassFixture<ReconciliationStack>
{
    /// <summary>
    /// A payment of an order we never placed, paid at the provider with webhooks off (the poll only reads payments of our
    /// orders awaiting payment): once its grace has passed it is <c>captured-not-placed</c> in a report asked for and in
    /// the scheduled one, which support's stats count; refunded at the provider, it is gone from both.
    /// </summary>
    [Fact]
    public async Task A_capture_we_never_heard_of_is_reported_until_it_is_refunded()
    {
        await stack.Settings(new { webhooks = "off" });
        var (orderId, reference) = await stack.CaptureForAnOrderWeNeverPlaced(25m);

        var report = await Eventually.Until(stack.Reconcile,
            r => ReconciliationStack.Mismatches(r).Contains((orderId, "captured-not-placed")), TimeSpan.FromSeconds(45),
            "the capture reported once its grace has passed");
        Assert.Single(ReconciliationStack.Mismatches(report));
        Assert.Contains(reference, report.GetProperty("mismatches")[0].GetProperty("detail").GetString());
        Assert.Equal((1, 1, 0), (report.GetProperty("payments").GetInt32(), report.GetProperty("captured").GetInt32(), report.GetProperty("refunded").GetInt32()));
        // The schedule's report too, counted for support.
        await Eventually.Until(async () => (await stack.Stats()).GetProperty("reconciliationMismatches") is { ValueKind: JsonValueKind.Number } n && n.GetInt32() == 1,
            TimeSpan.FromSeconds(30), "the scheduled report's mismatch in the stats");
        using (var support = stack.Client(TestApiKeys.Support))
            Assert.Contains((orderId, "captured-not-placed"), ReconciliationStack.Mismatches(await support.GetFromJsonAsync<JsonElement>("/reconciliation/latest")));
        // And the Workers' gauge an alert watches (SagasReconciliationMismatch).
        await Eventually.Until(() => MismatchGauge(stack), v => v == 1, TimeSpan.FromSeconds(30), "sagas_reconciliation_mismatches 1");

        await stack.RefundAtTheProvider(reference, 25m);
        var refundedAt = DateTimeOffset.UtcNow;

        // A report checked after the refund's grace, so the refund is judged, not merely still settling.
        var cleared = await Eventually.Until(stack.Reconcile,
            r => r.GetProperty("checkedAt").GetDateTimeOffset() > refundedAt.AddSeconds(2), TimeSpan.FromSeconds(30), "a report after the refund");
        Assert.Empty(ReconciliationStack.Mismatches(cleared));
        Assert.Equal((1, 1, 1), (cleared.GetProperty("payments").GetInt32(), cleared.GetProperty("captured").GetInt32(), cleared.GetProperty("refunded").GetInt32()));
        await Eventually.Until(async () => (await stack.Stats()).GetProperty("reconciliationMismatches") is { ValueKind: JsonValueKind.Number } n && n.GetInt32() == 0,
            TimeSpan.FromSeconds(30), "the scheduled report cleared");
        await Eventually.Until(() => MismatchGauge(stack), v => v == 0, TimeSpan.FromSeconds(30), "sagas_reconciliation_mismatches 0");
    }

    /// <summary>The Workers' <c>sagas_reconciliation_mismatches</c> as Prometheus scrapes it; null while it has no value.</summary>
    static async Task<double?> MismatchGauge(StackFixture stack)
    {
        using var http = new HttpClient { BaseAddress = stack.Workers.BaseAddress };
        var line = (await http.GetStringAsync("/metrics")).Split('\n').FirstOrDefault(l => l.StartsWith("sagas_reconciliation_mismatches", StringComparison.Ordinal));
        // name{labels} value [timestamp]
        return line is null ? null : double.Parse(line[(line.IndexOf('}') + 1)..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
    }

    [Fact]
    public async Task A_bad_range_or_the_wrong_role_is_refused_with_a_problem()
    {
        using var support = stack.Client(TestApiKeys.Support);
        var now = DateTimeOffset.UtcNow;
        foreach (var query in new[]
                 {
                     "", $"?from={ReconciliationStack.Stamp(now)}", $"?from=yesterday&to={ReconciliationStack.Stamp(now)}",
                     $"?from={ReconciliationStack.Stamp(now)}&to={ReconciliationStack.Stamp(now.AddHours(-1))}",
                     $"?from={ReconciliationStack.Stamp(now.AddDays(-8))}&to={ReconciliationStack.Stamp(now)}",
                 })
        {
            using var response = await support.GetAsync("/reconciliation" + query);
            await ProblemAssertions.AssertProblem(response, HttpStatusCode.BadRequest);
        }

        using var storefront = stack.Client(TestApiKeys.Storefront);
        using var forbidden = await storefront.GetAsync($"/reconciliation?from={ReconciliationStack.Stamp(now.AddHours(-1))}&to={ReconciliationStack.Stamp(now)}");
        await ProblemAssertions.AssertProblem(forbidden, HttpStatusCode.Forbidden);
    }
}

/// <summary>Orders placed, canceled and paid as they should be leave nothing to report.</summary>
public sealed class Reconciliation_of_a_clean_run(ReconciliationStack stack) : IClassFixture<ReconciliationStack>
{
    const int Orders = 200;

    [Fact]
    public async Task Reports_no_mismatch()
    {
        await stack.StockItem("RECON-1", Orders, price: 4m);
        // Twenty customers at a time, as a storefront's traffic comes (not 200 at one instant, which only measures how
        // long the last one waits for its QR code on a busy machine). Every tenth order is canceled by its customer
        // before paying (its QR code withdrawn), the rest are paid.
        using var customers = new SemaphoreSlim(20);
        var orders = await Task.WhenAll(Enumerable.Range(0, Orders).Select(async i =>
        {
            await customers.WaitAsync();
            try
            {
                var order = await stack.PlaceOrderAwaitingPayment(("RECON-1", 1));
                if (i % 10 == 0)
                    Assert.Equal(HttpStatusCode.Accepted, (await stack.Cancel(order.OrderId, TestApiKeys.Storefront)).StatusCode);
                else
                    await stack.Pay(order.ProviderReference);
                return order;
            }
            finally
            {
                customers.Release();
            }
        }));
        var canceled = orders.Where((_, i) => i % 10 == 0).ToList();
        var paid = orders.Except(canceled).ToList();
        await Task.WhenAll(paid.Select(o => stack.OrderIn(o.OrderId, "Placed", TimeSpan.FromMinutes(2))));
        await Task.WhenAll(canceled.Select(o => stack.OrderIn(o.OrderId, "Canceled", TimeSpan.FromMinutes(2))));
        var settled = DateTimeOffset.UtcNow;

        // Checked once the last change is past the grace (the QR codes' own deadline is two minutes away: a capture
        // would still be settling until then, so the comparison of placed orders is what counts here).
        var report = await Eventually.Until(stack.Reconcile, r => r.GetProperty("checkedAt").GetDateTimeOffset() > settled.AddSeconds(2),
            TimeSpan.FromSeconds(30), "a report after the run");
        Assert.Empty(ReconciliationStack.Mismatches(report));
        Assert.Equal((Orders, paid.Count), (report.GetProperty("payments").GetInt32(), report.GetProperty("captured").GetInt32()));
    }
}
