namespace Sagas.BrowserTests.SupportConsole;

/// <summary>An order's page draws the saga from the machine's own graph, with the path the order took highlighted.</summary>
public sealed class Seeing_the_saga_drawn(BrowserStack stack, ITestOutputHelper output) : BrowserSpec(stack, output)
{
    [Fact]
    public async Task A_placed_order_lights_up_its_states_and_events_and_nothing_it_did_not_go_through()
    {
        var (_, page) = await PlacedOrderPageAsync(("KEYBOARD-1", 1));

        var drawing = page.GetByRole(AriaRole.Img, new() { Name = "The order saga, and the path this order took" });
        await Expect(drawing).ToBeVisibleAsync();
        foreach (var node in new[] { "state:AwaitingPayment", "event:PaymentSucceeded", "state:Placed" })
            await Expect(drawing.Locator($"[data-node='{node}']")).ToHaveClassAsync(new System.Text.RegularExpressions.Regex(@"\btaken\b"));
        foreach (var node in new[] { "state:Expired", "state:Canceled", "event:PaymentCanceled" })
            await Expect(drawing.Locator($"[data-node='{node}']")).Not.ToHaveClassAsync(new System.Text.RegularExpressions.Regex(@"\btaken\b"));
        await Expect(drawing.Locator("[data-edge='event:PaymentSucceeded>state:Placing'], [data-edge='event:PaymentSucceeded>state:Placed']").First)
            .ToHaveClassAsync(new System.Text.RegularExpressions.Regex(@"\btaken\b"));
        await Expect(page.Locator("#machine-path")).ToContainTextAsync("PaymentSucceeded");
        await page.Locator("#machine-heading").ScrollIntoViewIfNeededAsync();
        await Browser.PublishScreenshotAsync("support-console-state-machine");
    }
}
