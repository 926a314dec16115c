using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace Sagas.BrowserTests.SupportConsole;

/// <summary>At 3 a.m.: the provider refused a refund, the order says so, and one click retries it once refunds work again.</summary>
[Collection(BrowserCollection.Name)]
public sealed class Retrying_a_refused_refund(BrowserStack stack, ITestOutputHelper output)
{
    [Fact]
    public async Task The_order_shows_why_it_needs_a_person_and_one_retry_settles_it()
    {
        var (orderId, reference) = await stack.Services.PlaceOrderAwaitingPayment(("MONITOR-1", 1));
        await stack.Services.Pay(reference);
        await stack.Services.OrderIn(orderId, "Placed");
        await using var browser = await stack.OpenAsync(this, output);
        var page = browser.Page;
        await page.OpenOrderAsync(stack, orderId);
        var attention = page.Locator("#order-attention");
        var retry = page.GetByRole(AriaRole.Button, new() { Name = "Retry the pending step" });
        await Expect(attention).ToBeHiddenAsync();
        await Expect(retry).ToBeHiddenAsync();
        await Expect(page.Locator("#payment-paid")).ToContainTextAsync("UTC");

        await stack.Services.Settings(new { refunds = "reject" });
        try
        {
            await page.GetByRole(AriaRole.Button, new() { Name = "Cancel and refund…" }).ClickAsync();
            await page.GetByRole(AriaRole.Dialog).GetByRole(AriaRole.Button, new() { Name = "Yes, cancel the order" }).ClickAsync();

            await Expect(attention).ToBeVisibleAsync();
            await Expect(attention).ToContainTextAsync("refund-refused");
            await Expect(attention).ToContainTextAsync("refund failed");
            await Expect(page.OrderStatus()).ToHaveTextAsync("Compensating");
            await browser.PublishScreenshotAsync("support-console-attention");
        }
        finally
        {
            await stack.Services.Settings(new { refunds = "ok" });
        }

        await retry.ClickAsync();

        await Expect(page.OrderStatus()).ToHaveTextAsync("Canceled");
        await Expect(attention).ToBeHiddenAsync();
        await Expect(retry).ToBeHiddenAsync();
        await Expect(page.PaymentStatus()).ToHaveTextAsync("Refunded");
        await Expect(page.Timeline()).ToContainTextAsync("asked to retry: refund");
        var money = await stack.Services.Money(orderId);
        Assert.Equal((1, 1), (money.Captured, money.Refunds));
    }
}
