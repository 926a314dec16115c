namespace Sagas.BrowserTests.SupportConsole;

/// <summary>
/// The order page's step durations, judged against what the Api returns: each timeline entry ends a step that began
/// at the entry before it (the first at the order's acceptance, its <c>createdAt</c>).
/// </summary>
public sealed class Seeing_how_long_each_step_took(BrowserStack stack, ITestOutputHelper output) : BrowserSpec(stack, output)
{
    static readonly TimeSpan CustomerThinks = TimeSpan.FromSeconds(3);

    [Fact]
    public async Task Every_step_shows_its_duration_the_slowest_is_marked_and_the_customers_wait_is_labelled()
    {
        var (orderId, reference) = await Services.PlaceOrderAwaitingPayment(("MOUSE-1", 1));
        var page = await OrderPageAsync(orderId);
        await Expect(page.Timeline()).ToContainTextAsync("QR ready");
        await Expect(page.StepsTotal()).ToContainTextAsync("Accepted → now");

        // The customer takes a moment to pay: that wait is theirs, and must not read as the system being slow.
        await Task.Delay(CustomerThinks);
        await Services.Pay(reference);
        await Expect(page.OrderStatus()).ToHaveTextAsync("Placed");
        await Expect(page.Locator("#order-live")).ToContainTextAsync("Final");

        // What the page must say, worked out here from the Api's answers.
        var order = await Services.Order(orderId);
        var timeline = (await Services.Timeline(orderId)).EnumerateArray().ToList();
        var accepted = Ms(order.GetProperty("createdAt"));
        var at = timeline.Select(entry => Ms(entry.GetProperty("at"))).ToList();
        var took = at.Select((t, i) => Math.Max(0, t - (i == 0 ? accepted : at[i - 1]))).ToList();
        // The customer's time: from the QR code being ready to the payment reaching the saga.
        var qrReady = timeline.FindIndex(entry => Event(entry) == "PaymentRequested");
        var paid = timeline.FindIndex(entry => Event(entry) == "PaymentSucceeded");
        Assert.True(qrReady >= 0 && paid > qrReady, $"expected QR ready before the payment in {string.Join(", ", timeline.Select(Event))}");
        bool Customers(int step) => step > qrReady && step <= paid;
        var slowest = -1;
        for (var i = 0; i < took.Count; i++)
            if (!Customers(i) && (slowest < 0 || took[i] > took[slowest]))
                slowest = i;
        var placed = timeline.FindIndex(entry => entry.GetProperty("to").GetString() == "Placed");
        var customerTime = Enumerable.Range(0, took.Count).Where(Customers).Sum(i => took[i]);
        Assert.True(customerTime >= CustomerThinks.TotalMilliseconds, $"the customer's time is {customerTime} ms");

        var rows = page.Timeline().Locator("tbody tr");
        await Expect(rows).ToHaveCountAsync(timeline.Count);
        for (var i = 0; i < timeline.Count; i++)
        {
            var row = rows.Nth(i);
            var tag = Customers(i) ? " customer's time" : i == slowest ? " slowest step" : "";
            await Expect(row.Locator("td[data-label='Event']")).ToHaveTextAsync(Event(timeline[i])!);
            await Expect(row.Locator("td[data-label='Step took']")).ToHaveTextAsync(Duration(took[i]) + tag);
            await Expect(row.Locator("td[data-label='Since accepted']")).ToHaveTextAsync(Duration(at[i] - accepted));
        }

        await Expect(page.Timeline().Locator("tr.slowest")).ToHaveCountAsync(1);
        await Expect(page.StepsTotal()).ToHaveTextAsync(
            $"Accepted → Placed: {Duration(at[placed] - accepted)}, of which {Duration(customerTime)} the customer's time.");

        // The trace id, when the Api has one for the order (issue 14's traces): shown as text to copy; otherwise nothing.
        var traceFact = page.Locator("#order-details").GetByText("Trace id", new() { Exact = true });
        if (order.TryGetProperty("traceId", out var traceId) && traceId.GetString() is { Length: > 0 } trace)
        {
            await Expect(traceFact).ToBeVisibleAsync();
            await Expect(page.Locator("#order-trace")).ToHaveTextAsync(trace);
        }
        else
        {
            await Expect(traceFact).ToBeHiddenAsync();
        }

        await Browser.PublishScreenshotAsync("support-console-order");
    }

    [Fact]
    public async Task Durations_read_in_milliseconds_then_seconds_then_minutes()
    {
        var page = await OpenPageAsync();
        await page.GotoAsync(Api("/support"));

        foreach (var (ms, text) in new (long, string)[]
                 {
                     (0, "0 ms"), (999, "999 ms"), (1000, "1.0 s"), (1049, "1.0 s"), (1050, "1.1 s"), (40_000, "40.0 s"),
                     (59_949, "59.9 s"), (59_950, "1 min 0 s"), (100_000, "1 min 40 s"), (3_599_499, "59 min 59 s"),
                     (3_600_000, "1 h 0 min"), (5_430_000, "1 h 31 min"),
                 })
        {
            Assert.Equal(text, await page.EvaluateAsync<string>("ms => stepDuration(ms)", ms));
            Assert.Equal(text, Duration(ms));
        }
    }

    static string? Event(JsonElement entry) => entry.GetProperty("event").GetString();

    /// <summary>The instant to the millisecond, further digits dropped (as the page reads them).</summary>
    static long Ms(JsonElement instant) => instant.GetDateTimeOffset().ToUnixTimeMilliseconds();

    /// <summary>How the page writes a length: ms below a second, tenths of a second below a minute, then min and s, then h and min.</summary>
    static string Duration(long ms)
    {
        if (ms < 1000)
            return $"{ms} ms";
        var tenths = (ms + 50) / 100;
        if (tenths < 600)
            return $"{tenths / 10}.{tenths % 10} s";
        var seconds = (ms + 500) / 1000;
        if (seconds < 3600)
            return $"{seconds / 60} min {seconds % 60} s";
        var minutes = (seconds + 30) / 60;
        return $"{minutes / 60} h {minutes % 60} min";
    }
}
