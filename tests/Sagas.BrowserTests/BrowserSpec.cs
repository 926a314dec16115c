using System.Runtime.CompilerServices;
using Sagas.BrowserTests.SupportConsole;

namespace Sagas.BrowserTests;

/// <summary>
/// One browser test on the shared <see cref="BrowserStack"/>: its page is a fresh browser context, opened by the first
/// call that shows one and closed after the test, passed or failed, with its screenshot and what the page logged.
/// </summary>
[Collection(BrowserCollection.Name)]
public abstract class BrowserSpec(BrowserStack stack, ITestOutputHelper output) : IAsyncLifetime
{
    BrowserPage? _browser;

    /// <summary>The Api, Workers and sandbox behind the pages (orders placed, paid and read as the tests need).</summary>
    protected BrowserStack.Stack Services => stack.Services;

    /// <summary>This test's browser (screenshots, cookies); there after the page is opened.</summary>
    protected BrowserPage Browser => _browser ?? throw new InvalidOperationException("No page has been opened yet.");

    /// <summary>A blank page in this test's browser, <paramref name="width"/> by <paramref name="height"/> pixels.</summary>
    protected async Task<IPage> OpenPageAsync(int width = 1280, int height = 900, string? variant = null,
        [CallerMemberName] string name = "")
    {
        if (_browser is not null)
            throw new InvalidOperationException("A test opens one page.");
        _browser = await stack.OpenAsync(this, output, width, height, variant, name);
        return _browser.Page;
    }

    /// <summary>The console signed in with <paramref name="key"/>, at <paramref name="route"/> (e.g. <c>#/failed</c>).</summary>
    protected async Task<IPage> SignedInPageAsync(string key = TestApiKeys.Support, string route = "", string? variant = null,
        [CallerMemberName] string name = "")
    {
        var page = await OpenPageAsync(variant: variant, name: name);
        await page.SignInAsync(stack, key, route);
        return page;
    }

    /// <summary>The console showing the order's page.</summary>
    protected async Task<IPage> OrderPageAsync(Guid orderId, int width = 1280, int height = 900, [CallerMemberName] string name = "")
    {
        var page = await OpenPageAsync(width, height, name: name);
        await page.OpenOrderAsync(stack, orderId);
        return page;
    }

    /// <summary>An order of one <paramref name="line"/> paid and placed, shown on its page.</summary>
    protected async Task<(Guid OrderId, IPage Page)> PlacedOrderPageAsync((string Sku, int Quantity) line,
        [CallerMemberName] string name = "")
    {
        var orderId = await Services.PlacedOrder(line);
        return (orderId, await OrderPageAsync(orderId, name: name));
    }

    /// <summary>An absolute address on the Api (the console's own host).</summary>
    protected string Api(string path) => stack.Api(path);

    /// <summary>An absolute address on the payment sandbox (the demo checkout's host).</summary>
    protected string Sandbox(string path) => stack.Sandbox(path);

    Task IAsyncLifetime.InitializeAsync() => Task.CompletedTask;

    async Task IAsyncLifetime.DisposeAsync()
    {
        if (_browser is not null)
            await _browser.DisposeAsync();
    }
}
