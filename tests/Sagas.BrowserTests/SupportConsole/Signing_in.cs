using System.Text.RegularExpressions;

namespace Sagas.BrowserTests.SupportConsole;

public sealed class Signing_in(BrowserStack stack, ITestOutputHelper output) : BrowserSpec(stack, output)
{
    const string KeyStorage = "sagas.support.apiKey";

    [Fact]
    public async Task A_support_key_shows_the_counts_by_status_and_the_newest_orders()
    {
        var orderId = await Services.PlaceOrderFor("signing-in", ("MOUSE-1", 1));
        var page = await SignedInPageAsync();

        await Expect(page.FindOrdersHeading()).ToBeVisibleAsync();
        await Expect(page.Results().GetByRole(AriaRole.Link, new() { Name = orderId.ToString() })).ToBeVisibleAsync();
        await Expect(page.GetByRole(AriaRole.List, new() { Name = "Orders by status" }).GetByRole(AriaRole.Button))
            .ToHaveCountAsync(9);
        await Expect(page.Locator("#stats-stuck")).ToHaveTextAsync("0");
        await Expect(page.Locator("#stats-outbox")).ToHaveTextAsync(new Regex("^(all delivered|oldest undelivered .+)$"));
        await Expect(page.Locator("#stats-updated")).ToHaveTextAsync(new Regex(@"^\d{2}:\d{2}:\d{2} UTC$"));
        // The key lives in this tab's sessionStorage only: no cookie, nothing in localStorage.
        Assert.Equal(TestApiKeys.Support, await page.EvaluateAsync<string?>($"sessionStorage.getItem('{KeyStorage}')"));
        Assert.Equal(0, await page.EvaluateAsync<int>("localStorage.length"));
        Assert.Empty(await Browser.Context.CookiesAsync());
        await Browser.PublishScreenshotAsync("support-console-search");
    }

    [Theory]
    [InlineData("unknown", "not-a-key", "This key was not accepted (401 Unauthorized)")]
    [InlineData("storefront", TestApiKeys.Storefront, "it is not a support key (403 Forbidden)")]
    public async Task A_key_that_is_not_a_support_key_shows_an_error_and_no_data(string kind, string key, string message)
    {
        await Services.PlaceOrderFor("wrong-key", ("MOUSE-1", 1));
        var page = await SignedInPageAsync(key, variant: kind);

        await Expect(page.GetByRole(AriaRole.Alert).Filter(new() { HasText = message })).ToBeVisibleAsync();
        await Expect(page.GetByLabel("Support API key")).ToBeVisibleAsync();
        await Expect(page.FindOrdersHeading()).ToBeHiddenAsync();
        await Expect(page.GetByRole(AriaRole.List, new() { Name = "Orders by status" })).ToBeHiddenAsync();
        await Expect(page.Locator("#results-body tr")).ToHaveCountAsync(0);
        Assert.Null(await page.EvaluateAsync<string?>($"sessionStorage.getItem('{KeyStorage}')"));
    }

    [Fact]
    public async Task Signing_out_forgets_the_key_and_removes_the_data()
    {
        var page = await SignedInPageAsync();
        await Expect(page.FindOrdersHeading()).ToBeVisibleAsync();

        await page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();

        await Expect(page.GetByLabel("Support API key")).ToBeFocusedAsync();
        await Expect(page.FindOrdersHeading()).ToBeHiddenAsync();
        await Expect(page.Locator("#results-body tr")).ToHaveCountAsync(0);
        Assert.Null(await page.EvaluateAsync<string?>($"sessionStorage.getItem('{KeyStorage}')"));
    }
}
