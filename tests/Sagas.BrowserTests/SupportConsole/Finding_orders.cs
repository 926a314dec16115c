namespace Sagas.BrowserTests.SupportConsole;

public sealed class Finding_orders(BrowserStack stack, ITestOutputHelper output) : BrowserSpec(stack, output)
{
    [Fact]
    public async Task An_order_is_found_by_its_id()
    {
        var orderId = await Services.PlaceOrderFor("finding-by-id", ("KEYBOARD-1", 2));
        var page = await SignedInPageAsync();
        await Expect(page.FindOrdersHeading()).ToBeVisibleAsync();

        await page.GetByLabel("Order id").FillAsync(orderId.ToString().ToUpperInvariant());
        await page.GetByLabel("Order id").PressAsync("Enter");

        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = $"Order {orderId}" })).ToBeVisibleAsync();
        await Expect(page.Locator("#order-customer")).ToHaveTextAsync("finding-by-id");
        await Expect(page.Locator("#order-total")).ToHaveTextAsync("178.00 USD");
        await Expect(page.Lines()).ToContainTextAsync("KEYBOARD-1");
        await Expect(page.Lines()).ToContainTextAsync("89.00 USD");
    }

    [Fact]
    public async Task Orders_are_listed_by_customer_a_page_at_a_time()
    {
        var customer = $"paging-{Guid.NewGuid():N}"[..20];
        var orders = new List<Guid>();
        for (var i = 0; i < 11; i++)
            orders.Add(await Services.PlaceOrderFor(customer, ("MOUSE-1", 1)));
        await Services.PlaceOrderFor("someone-else", ("MOUSE-1", 1));
        var page = await SignedInPageAsync();
        await Expect(page.FindOrdersHeading()).ToBeVisibleAsync();

        await page.GetByLabel("Customer id").FillAsync(customer);
        await page.GetByLabel("Per page").SelectOptionAsync("10");
        await page.GetByLabel("Customer id").PressAsync("Enter");

        // Newest first: the last ten on page 1, the first one alone on page 2.
        var rows = page.Results().Locator("tbody tr");
        await Expect(page.Locator("#results-status")).ToContainTextAsync($"customer {customer}");
        await Expect(rows).ToHaveCountAsync(10);
        await Expect(rows.First).ToContainTextAsync(orders[10].ToString());
        await Expect(page.Results()).Not.ToContainTextAsync("someone-else");
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Back" })).ToBeDisabledAsync();

        await page.GetByRole(AriaRole.Button, new() { Name = "Next" }).ClickAsync();
        await Expect(page.Locator("#page-number")).ToHaveTextAsync("Page 2");
        await Expect(rows).ToHaveCountAsync(1);
        await Expect(rows.First).ToContainTextAsync(orders[0].ToString());
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Next" })).ToBeDisabledAsync();

        await page.GetByRole(AriaRole.Button, new() { Name = "Back" }).ClickAsync();
        await Expect(page.Locator("#page-number")).ToHaveTextAsync("Page 1");
        await Expect(rows).ToHaveCountAsync(10);
        await Expect(rows.First).ToContainTextAsync(orders[10].ToString());
    }

    [Fact]
    public async Task An_unknown_order_id_says_there_is_no_such_order()
    {
        var unknown = Guid.NewGuid();
        var page = await SignedInPageAsync();
        await Expect(page.FindOrdersHeading()).ToBeVisibleAsync();

        await page.GetByLabel("Order id").FillAsync("not-an-order-id");
        await page.GetByLabel("Order id").PressAsync("Enter");
        await Expect(page.Locator("#search-error")).ToContainTextAsync("That is not an order id");

        await page.GetByLabel("Order id").FillAsync(unknown.ToString());
        await page.GetByLabel("Order id").PressAsync("Enter");
        await Expect(page.GetByRole(AriaRole.Alert).Filter(new() { HasText = $"No order {unknown}." })).ToBeVisibleAsync();
        await Expect(page.Timeline()).ToBeHiddenAsync();
    }
}
