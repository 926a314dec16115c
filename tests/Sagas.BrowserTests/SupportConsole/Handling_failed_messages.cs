namespace Sagas.BrowserTests.SupportConsole;

/// <summary>At 3 a.m.: what failed for good, grouped; a refused refund retried once refunds work again, a poison message discarded with a reason.</summary>
public sealed class Handling_failed_messages(BrowserStack stack, ITestOutputHelper output) : BrowserSpec(stack, output)
{
    [Fact]
    public async Task A_refused_refund_is_retried_and_a_poison_message_discarded_each_after_a_confirmation()
    {
        var orderId = await Services.PlacedOrder(("MOUSE-1", 1));
        await Services.VirtualHost.PublishRawAsync("release-stock", "poison " + Guid.NewGuid());
        await Services.WhileRefundsAreRefused(async () =>
        {
            await Services.Cancel(orderId, TestApiKeys.Support);
            await Services.OrderWhen(orderId, o => o.GetProperty("attention").ValueKind == JsonValueKind.Object, "refund refused");
        });

        // Both drained from their error queues before the page is opened (the list is read when the page opens).
        using var support = Services.Client(TestApiKeys.Support);
        await Eventually.Until(async () =>
        {
            var items = (await support.GetFromJsonAsync<JsonElement>("/support/failed-messages?limit=200")).GetProperty("items").EnumerateArray().ToList();
            return items.Any(i => i.GetProperty("orderId").ValueKind == JsonValueKind.String && i.GetProperty("orderId").GetGuid() == orderId)
                   && items.Any(i => i.GetProperty("queue").GetString() == "release-stock");
        }, because: "the refused refund and the poison message listed");

        var page = await SignedInPageAsync(route: "#/failed");
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Failed messages" })).ToBeVisibleAsync();
        // The header counts what waits (other tests of the shared stack may add to it) and links here.
        await Expect(page.Locator("#stats-failed")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex("^[0-9]+ waiting$"));
        var refund = page.GetByRole(AriaRole.Row).Filter(new() { HasText = orderId.ToString() });
        var poison = page.GetByRole(AriaRole.Row).Filter(new() { HasText = "release-stock" });
        await Expect(refund).ToContainTextAsync("RefundPayment");
        await Expect(poison).ToContainTextAsync("unknown");
        await Expect(page.Locator("#failed-groups")).ToContainTextAsync("RefundPayment — PaymentProviderRejectedException");
        await Browser.PublishScreenshotAsync("support-console-failed-messages");

        var dialog = page.GetByRole(AriaRole.Dialog);
        await poison.GetByRole(AriaRole.Button, new() { Name = "Discard" }).ClickAsync();
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Yes, discard it" }).ClickAsync();
        await Expect(dialog).ToContainTextAsync("A reason is required.");
        await dialog.GetByLabel("Reason").FillAsync("published by hand, not a message");
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Yes, discard it" }).ClickAsync();
        await Expect(poison).ToHaveCountAsync(0);

        await refund.GetByRole(AriaRole.Button, new() { Name = "Retry" }).ClickAsync();
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Yes, retry it" }).ClickAsync();
        await Expect(refund).ToHaveCountAsync(0);
        await Services.OrderIn(orderId, "Canceled");
        var money = await Services.Money(orderId);
        Assert.Equal((1, 1), (money.Captured, money.Refunds));
    }
}
