namespace Sagas.BrowserTests.SupportConsole;

/// <summary>At 3 a.m.: the provider refused a refund, the order says so, and one click retries it once refunds work again.</summary>
public sealed class Retrying_a_refused_refund(BrowserStack stack, ITestOutputHelper output) : BrowserSpec(stack, output)
{
    [Fact]
    public async Task The_order_shows_why_it_needs_a_person_and_one_retry_settles_it()
    {
        var (orderId, page) = await PlacedOrderPageAsync(("MONITOR-1", 1));
        var attention = page.Locator("#order-attention");
        var retry = page.GetByRole(AriaRole.Button, new() { Name = "Retry the pending step" });
        await Expect(attention).ToBeHiddenAsync();
        await Expect(retry).ToBeHiddenAsync();
        await Expect(page.Locator("#payment-paid")).ToContainTextAsync("UTC");

        await Services.WhileRefundsAreRefused(async () =>
        {
            await page.GetByRole(AriaRole.Button, new() { Name = "Cancel and refund…" }).ClickAsync();
            await page.GetByRole(AriaRole.Dialog).GetByRole(AriaRole.Button, new() { Name = "Yes, cancel the order" }).ClickAsync();

            await Expect(attention).ToBeVisibleAsync();
            await Expect(attention).ToContainTextAsync("refund-refused");
            await Expect(attention).ToContainTextAsync("refund failed");
            await Expect(page.OrderStatus()).ToHaveTextAsync("Compensating");
            await Browser.PublishScreenshotAsync("support-console-attention");
        });

        await retry.ClickAsync();

        await Expect(page.OrderStatus()).ToHaveTextAsync("Canceled");
        await Expect(attention).ToBeHiddenAsync();
        await Expect(retry).ToBeHiddenAsync();
        await Expect(page.PaymentStatus()).ToHaveTextAsync("Refunded");
        await Expect(page.Timeline()).ToContainTextAsync("asked to retry: refund");
        var money = await Services.Money(orderId);
        Assert.Equal((1, 1), (money.Captured, money.Refunds));
    }
}
