using System.Text.RegularExpressions;

namespace Sagas.BrowserTests.DemoCheckout;

/// <summary>A stack of its own whose payment window is short enough to watch it close.</summary>
public sealed class Letting_the_payment_window_run_out(
    BrowserStack browsers, Letting_the_payment_window_run_out.Stack stack, ITestOutputHelper output)
    : BrowserSpec(browsers, output), IClassFixture<Letting_the_payment_window_run_out.Stack>
{
    public sealed class Stack : StackFixture
    {
        protected override TimeSpan PaymentWindow => TimeSpan.FromSeconds(20);
        protected override TimeSpan PollInterval => TimeSpan.FromMilliseconds(500);
    }

    [Fact]
    public async Task An_unpaid_order_counts_down_and_ends_expired()
    {
        await stack.StockItem("MOUSE-1", 10, 19.99m, "Wireless mouse");
        var page = await OpenPageAsync();
        await page.GotoAsync(new Uri(stack.Sandbox.BaseAddress, "/demo").ToString());

        await page.GetByLabel("Quantity of Wireless mouse").FillAsync("1");
        await page.GetByLabel("Quantity of Wireless mouse").PressAsync("Enter");

        var status = page.Locator("#order-status");
        await Expect(status).ToHaveTextAsync("AwaitingPayment");
        await Expect(page.Locator("#countdown")).ToHaveTextAsync(new Regex(@"^0:[0-2]\d$"));

        await Expect(status).ToHaveTextAsync("Expired");
        await Expect(page.Locator("#order-message")).ToHaveTextAsync("The order ended as Expired (payment-expired).");
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Pay (simulate the customer)" })).ToBeHiddenAsync();
        var orderId = Guid.Parse((await page.Locator("#order-id").TextContentAsync())!);
        var money = await stack.Money(orderId);
        Assert.Equal((0, 0), (money.Captured, money.Refunds));
        Assert.Equal((10, 0), await stack.Stock("MOUSE-1"));
    }
}
