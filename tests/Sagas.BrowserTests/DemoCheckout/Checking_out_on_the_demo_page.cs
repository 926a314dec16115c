using System.Text.RegularExpressions;

namespace Sagas.BrowserTests.DemoCheckout;

public sealed class Checking_out_on_the_demo_page(BrowserStack stack, ITestOutputHelper output) : BrowserSpec(stack, output)
{
    [Fact]
    public async Task An_order_placed_on_the_page_shows_its_qr_code_and_reaches_Placed_after_Pay()
    {
        var page = await OpenPageAsync();
        // The page follows its order through the event stream; it polls only if the stream is refused.
        var orderReads = new List<string>();
        page.Request += (_, request) =>
        {
            if (request.Method == "GET" && request.Url.Contains("/demo/api/orders/", StringComparison.Ordinal))
                lock (orderReads)
                    orderReads.Add(new Uri(request.Url).AbsolutePath);
        };
        await page.GotoAsync(Sandbox("/demo"));

        await page.GetByLabel("Quantity of Wireless mouse").FillAsync("2");
        await Expect(page.Locator("#total")).ToHaveTextAsync("39.98 USD");
        await page.GetByRole(AriaRole.Button, new() { Name = "Place order" }).ClickAsync();

        var status = page.Locator("#order-status");
        await Expect(status).ToHaveTextAsync("AwaitingPayment");
        var qr = page.GetByRole(AriaRole.Img, new() { Name = "QR code of the payment" });
        await Expect(qr).ToBeVisibleAsync();
        await Expect(qr).ToHaveJSPropertyAsync("complete", true);
        Assert.True(await qr.EvaluateAsync<int>("image => image.naturalWidth") > 0, "the QR code is not a decodable image");
        await Expect(page.Locator("#countdown")).ToHaveTextAsync(new Regex(@"^\d+:\d{2}$"));
        await Browser.PublishScreenshotAsync("demo-checkout");

        await page.GetByRole(AriaRole.Button, new() { Name = "Pay (simulate the customer)" }).ClickAsync();

        await Expect(status).ToHaveTextAsync("Placed");
        await Expect(page.Locator("#order-message")).ToHaveTextAsync("Done: the order is placed and paid.");
        var orderId = Guid.Parse((await page.Locator("#order-id").TextContentAsync())!);
        Assert.Equal("Placed", (await Services.Order(orderId)).GetProperty("status").GetString());
        var money = await Services.Money(orderId);
        Assert.Equal((1, 39.98m, 0), (money.Captured, money.CapturedAmount, money.Refunds));
        lock (orderReads)
            Assert.Equal([$"/demo/api/orders/{orderId}/events"], orderReads.Distinct());
    }
}
