namespace Sagas.BrowserTests.SupportConsole;

/// <summary>Money the provider holds for an order we never placed: the header raises it, the reconciliation page lists it.</summary>
public sealed class Reconciling_with_the_provider(BrowserStack stack, ITestOutputHelper output) : BrowserSpec(stack, output)
{
    [Fact]
    public async Task A_capture_we_never_heard_of_is_listed_in_the_latest_report_and_in_a_range_checked_by_hand()
    {
        var (orderId, reference) = await Services.CaptureForAnOrderWeNeverPlaced(42m);
        // The schedule has reported it (other tests of this stack may add mismatches of their own).
        await Eventually.Until(async () =>
        {
            using var support = Services.Client(TestApiKeys.Support);
            using var latest = await support.GetAsync("/reconciliation/latest");
            return latest.IsSuccessStatusCode && (await latest.Content.ReadAsStringAsync()).Contains(orderId);
        }, TimeSpan.FromSeconds(45), "the scheduled report lists the capture");

        var page = await SignedInPageAsync();
        var figure = page.Locator("#stats-reconciliation");
        await Expect(figure).ToContainTextAsync("mismatch");
        await figure.ClickAsync();

        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Reconciliation with the payment provider" })).ToBeVisibleAsync();
        var mismatches = page.GetByRole(AriaRole.Table, new() { Name = "Reconciliation with the payment provider" });
        var row = mismatches.GetByRole(AriaRole.Row).Filter(new() { HasText = orderId });
        await Expect(row).ToContainTextAsync("captured-not-placed");
        await Expect(row).ToContainTextAsync(reference);
        await Expect(page.Locator("#reconciliation-status")).ToContainTextAsync("Latest scheduled report");
        await Browser.PublishScreenshotAsync("support-console-reconciliation");

        // A range support picks, compared on the spot; an inverted one is refused with the Api's reason.
        var now = DateTime.UtcNow;
        await page.GetByLabel("Changed from (UTC)").FillAsync(now.AddMinutes(-10).ToString("yyyy-MM-ddTHH:mm:ss"));
        await page.GetByLabel("Changed before (UTC)").FillAsync(now.AddMinutes(-20).ToString("yyyy-MM-ddTHH:mm:ss"));
        await page.GetByRole(AriaRole.Button, new() { Name = "Check this range now" }).ClickAsync();
        await Expect(page.Locator("#reconciliation-error")).ToContainTextAsync("must be after from");

        await page.GetByLabel("Changed before (UTC)").FillAsync(now.AddMinutes(1).ToString("yyyy-MM-ddTHH:mm:ss"));
        await page.GetByRole(AriaRole.Button, new() { Name = "Check this range now" }).ClickAsync();
        await Expect(page.Locator("#reconciliation-status")).ToContainTextAsync("Report for the range asked for");
        await Expect(row).ToContainTextAsync("captured-not-placed");
        await Expect(page.Locator("#reconciliation-error")).ToBeEmptyAsync();
    }
}
