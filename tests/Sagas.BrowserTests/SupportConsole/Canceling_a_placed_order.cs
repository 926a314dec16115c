namespace Sagas.BrowserTests.SupportConsole;

public sealed class Canceling_a_placed_order(BrowserStack stack, ITestOutputHelper output) : BrowserSpec(stack, output)
{
    [Fact]
    public async Task The_refund_appears_in_the_timeline_and_the_order_ends_canceled()
    {
        var (orderId, page) = await PlacedOrderPageAsync(("KEYBOARD-1", 1));
        await Expect(page.OrderStatus()).ToHaveTextAsync("Placed");
        var cancel = page.GetByRole(AriaRole.Button, new() { Name = "Cancel and refund…" });
        var dialog = page.GetByRole(AriaRole.Dialog, new() { Name = "Cancel and refund this order?" });

        // Escape keeps the order, and the focus returns to the button that opened the dialog.
        await cancel.ClickAsync();
        await Expect(dialog).ToBeVisibleAsync();
        await Expect(dialog).ToContainTextAsync("refunds 89.00 USD");
        await Expect(dialog.GetByRole(AriaRole.Button, new() { Name = "Keep the order" })).ToBeFocusedAsync();
        await page.Keyboard.PressAsync("Escape");
        await Expect(dialog).ToBeHiddenAsync();
        await Expect(cancel).ToBeFocusedAsync();
        await Expect(page.OrderStatus()).ToHaveTextAsync("Placed");

        await cancel.PressAsync("Enter");
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Yes, cancel the order" }).ClickAsync();

        await Expect(page.OrderStatus()).ToHaveTextAsync("Canceled");
        await Expect(page.Timeline()).ToContainTextAsync("PaymentRefunded");
        await Expect(page.Timeline().Locator("tr.refund")).ToContainTextAsync("refund");
        await Expect(page.PaymentStatus()).ToHaveTextAsync("Refunded");
        await Expect(page.Locator("#payment-refunds")).ToContainTextAsync("89.00");
        await Expect(page.Locator("#order-failure")).ToHaveTextAsync("canceled");
        await Expect(cancel).ToBeHiddenAsync();

        // The money truth agrees with the page: captured once, refunded once.
        var money = await Services.Money(orderId);
        Assert.Equal((1, 89.00m, 1, 89.00m), (money.Captured, money.CapturedAmount, money.Refunds, money.Refunded));
        Assert.Equal("Canceled", (await Services.Order(orderId)).GetProperty("status").GetString());
        Assert.Contains((await Services.Timeline(orderId)).EnumerateArray(),
            entry => entry.GetProperty("event").GetString() == "PaymentRefunded");
    }
}
