using System.Text.RegularExpressions;

namespace Sagas.BrowserTests.SupportConsole;

public sealed class Watching_an_order(BrowserStack stack, ITestOutputHelper output) : BrowserSpec(stack, output)
{
    [Fact]
    public async Task The_timeline_advances_on_its_own_as_the_order_is_paid()
    {
        var (orderId, reference) = await Services.PlaceOrderAwaitingPayment(("MOUSE-1", 2));
        var page = await OrderPageAsync(orderId);

        await Expect(page.OrderStatus()).ToHaveTextAsync("AwaitingPayment");
        await Expect(page.Locator("#order-live")).ToContainTextAsync("Live");
        await Expect(page.Locator("#payment-reference")).ToHaveTextAsync(reference);
        await Expect(page.PaymentStatus()).ToHaveTextAsync("Pending");
        await Expect(page.Timeline()).ToContainTextAsync("QR ready");
        await Expect(page.Timeline()).Not.ToContainTextAsync("PaymentSucceeded");

        // The customer pays at the provider; the page is not touched again.
        await Services.Pay(reference);

        await Expect(page.Timeline()).ToContainTextAsync("PaymentSucceeded");
        await Expect(page.Timeline()).ToContainTextAsync("StockCommitted");
        await Expect(page.OrderStatus()).ToHaveTextAsync("Placed");
        await Expect(page.PaymentStatus()).ToHaveTextAsync("Succeeded");
        await Expect(page.Locator("#order-live")).ToContainTextAsync("Final");
        await Expect(page.Timeline().Locator("tbody tr").Last).ToContainTextAsync(new Regex("Placing → Placed"));
    }

    [Fact]
    public async Task The_order_page_fits_a_phone_screen()
    {
        var (orderId, _) = await Services.PlaceOrderAwaitingPayment(("MONITOR-1", 1));
        var page = await OrderPageAsync(orderId, width: 390, height: 844);

        await Expect(page.Timeline()).ToContainTextAsync("QR ready");
        await Expect(page.Lines()).ToContainTextAsync("MONITOR-1");

        // Nothing wider than the screen: no sideways scrolling to read the order.
        Assert.True(await page.EvaluateAsync<bool>("document.documentElement.scrollWidth <= window.innerWidth"),
            $"the page is {await page.EvaluateAsync<int>("document.documentElement.scrollWidth")} px wide on a 390 px screen");
        await Browser.PublishScreenshotAsync("support-console-phone");
    }
}
