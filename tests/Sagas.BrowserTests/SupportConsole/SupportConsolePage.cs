namespace Sagas.BrowserTests.SupportConsole;

/// <summary>What a support person does on <c>/support</c>, found the way they find it: by label, role and text.</summary>
static class SupportConsolePage
{
    /// <summary>Opens the console (at <paramref name="route"/>, e.g. an order's link) and signs in with Enter.</summary>
    public static async Task SignInAsync(this IPage page, BrowserStack stack, string key = TestApiKeys.Support, string route = "")
    {
        await page.GotoAsync(stack.Api("/support" + route));
        var field = page.GetByLabel("Support API key");
        await field.FillAsync(key);
        await field.PressAsync("Enter");
    }

    public static async Task OpenOrderAsync(this IPage page, BrowserStack stack, Guid orderId)
    {
        await page.SignInAsync(stack, route: $"#/orders/{orderId}");
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = $"Order {orderId}" })).ToBeVisibleAsync();
    }

    public static ILocator FindOrdersHeading(this IPage page) => page.GetByRole(AriaRole.Heading, new() { Name = "Find orders" });

    public static ILocator Results(this IPage page) => page.GetByRole(AriaRole.Table, new() { Name = "Orders" });

    public static ILocator OrderStatus(this IPage page) => page.Locator("#order-status");

    public static ILocator PaymentStatus(this IPage page) => page.Locator("#payment-status");

    public static ILocator Timeline(this IPage page) => page.GetByRole(AriaRole.Table, new() { Name = "Timeline" });

    /// <summary>"Accepted → Placed: …": how long the order took from its acceptance, under the timeline's heading.</summary>
    public static ILocator StepsTotal(this IPage page) => page.Locator("#steps-total");

    public static ILocator Lines(this IPage page) => page.GetByRole(AriaRole.Table, new() { Name = "Lines" });
}
