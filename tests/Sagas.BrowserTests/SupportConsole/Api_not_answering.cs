namespace Sagas.BrowserTests.SupportConsole;

public sealed class Api_not_answering(BrowserStack stack, ITestOutputHelper output) : BrowserSpec(stack, output)
{
    [Fact]
    public async Task A_banner_says_the_api_cannot_be_reached_until_it_answers_again()
    {
        var page = await SignedInPageAsync();
        await Expect(page.FindOrdersHeading()).ToBeVisibleAsync();
        var banner = page.GetByRole(AriaRole.Alert).Filter(new() { HasText = "Cannot reach the Api" });

        // Every data call fails at the network level, as when the Api process is down.
        await page.RouteAsync("**/orders**", route => route.AbortAsync("connectionrefused"));
        await page.GetByRole(AriaRole.Button, new() { Name = "Search" }).ClickAsync();

        await Expect(banner).ToBeVisibleAsync();
        await Expect(page.Locator("#results-status")).ToHaveTextAsync("Could not load the orders: the Api did not answer.");

        await page.UnrouteAllAsync(new() { Behavior = UnrouteBehavior.IgnoreErrors });
        await Expect(banner).ToBeHiddenAsync();
        await Expect(page.FindOrdersHeading()).ToBeVisibleAsync();
    }
}
