namespace Sagas.BrowserTests.SupportConsole;

/// <summary>The list support starts from at 3 a.m.: every order that needs a person, why, and a retry from the list.</summary>
public sealed class Working_through_orders_needing_attention(BrowserStack stack, ITestOutputHelper output) : BrowserSpec(stack, output)
{
    [Fact]
    public async Task An_order_whose_refund_was_refused_is_listed_and_one_retry_from_the_list_settles_it()
    {
        var orderId = await Services.PlacedOrder(("MONITOR-1", 1));
        await Services.WhileRefundsAreRefused(async () =>
        {
            (await Services.Cancel(orderId, TestApiKeys.Support)).EnsureSuccessStatusCode();
            await Services.OrderWhen(orderId, o => o.GetProperty("attention").ValueKind == JsonValueKind.Object, "flagged for a person");
        });

        var page = await SignedInPageAsync(route: "#/attention");
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Orders that need a person" })).ToBeVisibleAsync();
        var row = page.GetByRole(AriaRole.Table, new() { Name = "Orders that need a person" }).GetByRole(AriaRole.Row)
            .Filter(new() { HasText = orderId.ToString() });
        await Expect(row).ToContainTextAsync("refund-refused");
        await Expect(row).ToContainTextAsync("Compensating");
        await Browser.PublishScreenshotAsync("support-console-attention-list");

        page.Dialog += async (_, dialog) => await dialog.AcceptAsync();
        await row.GetByRole(AriaRole.Button, new() { Name = $"Retry the pending step of order {orderId}" }).ClickAsync();
        await Expect(page.Locator("#attention-status")).ToContainTextAsync("requested");

        await Services.OrderIn(orderId, "Canceled");
        await page.GetByRole(AriaRole.Button, new() { Name = "Refresh now" }).ClickAsync();
        await Expect(row).ToHaveCountAsync(0);
        var money = await Services.Money(orderId);
        Assert.Equal((1, 1), (money.Captured, money.Refunds));
    }
}
