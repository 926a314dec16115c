using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;
using Xunit.Abstractions;

namespace Sagas.BrowserTests;

/// <summary>
/// The real stack (Api, Workers and payment sandbox as processes on their own database and virtual host) and
/// one headless Debian Chromium, shared by every browser test. The tests run one after another, each in a
/// fresh browser context, so no sign-in or storage leaks from one test into the next.
/// </summary>
public sealed class BrowserStack : IAsyncLifetime
{
    /// <summary>Debian's chromium package (scripts/test.sh installs it); Playwright never downloads a browser here.</summary>
    public const string Chromium = "/usr/bin/chromium";

    /// <summary>The items the demo checkout offers (the sandbox's <c>Demo:Skus</c>).</summary>
    public static readonly (string Sku, string Name, decimal Price)[] DemoItems =
    [
        ("MOUSE-1", "Wireless mouse", 19.99m),
        ("KEYBOARD-1", "Mechanical keyboard", 89.00m),
        ("MONITOR-1", "27-inch monitor", 249.00m),
    ];

    IPlaywright? _playwright;

    public Stack Services { get; } = new();
    public IBrowser Browser { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        if (!File.Exists(Chromium))
            throw new InvalidOperationException(
                $"{Chromium} is missing: the browser tests drive Debian's chromium (apt-get install -y chromium; `make test` installs it).");

        // Expectations poll the page until they hold; the saga crosses several processes and queues on a
        // shared two-core machine, so they may wait well beyond Playwright's default of 5 s.
        Assertions.SetDefaultExpectTimeout(45_000);

        await Task.WhenAll(Services.InitializeAsync(), LaunchAsync());
        foreach (var item in DemoItems)
            await Services.StockItem(item.Sku, 1000, item.Price, item.Name);
    }

    async Task LaunchAsync()
    {
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new()
        {
            ExecutablePath = Chromium,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync"],
        });
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null)
            await Browser.CloseAsync();
        _playwright?.Dispose();
        await Services.DisposeAsync();
    }

    public string Api(string path) => new Uri(Services.Api.BaseAddress, path).ToString();

    public string Sandbox(string path) => new Uri(Services.Sandbox.BaseAddress, path).ToString();

    /// <summary>
    /// A fresh browser context and page for one test. Disposing it saves a screenshot of the page as it is
    /// then, passed or failed, under <c>.local/test-results/screenshots/</c>, and writes what the page logged.
    /// </summary>
    public async Task<BrowserPage> OpenAsync(object test, ITestOutputHelper output, int width = 1280, int height = 900,
        string? variant = null, [CallerMemberName] string name = "")
    {
        var context = await Browser.NewContextAsync(new()
        {
            ViewportSize = new() { Width = width, Height = height },
            Locale = "en-GB",
            TimezoneId = "UTC",
        });
        var page = await context.NewPageAsync();
        return new BrowserPage(context, page, $"{test.GetType().Name}.{name}{(variant is null ? "" : $".{variant}")}", output);
    }

    /// <summary>Payment window long enough for a person-paced test on a busy machine, polling fast.</summary>
    public sealed class Stack : StackFixture
    {
        protected override TimeSpan PaymentWindow => TimeSpan.FromSeconds(120);
        protected override TimeSpan PollInterval => TimeSpan.FromMilliseconds(500);

        // A step the provider refuses waits for the person at the console, not for the automatic retry.
        protected override IDictionary<string, string> Configuration => new Dictionary<string, string>
        {
            ["Saga__PendingWorkRetry"] = "00:10:00",
            // The reconciliation page's scheduled report, soon after a capture's grace.
            ["Sweeps__ReconciliationGrace"] = "00:00:01",
            ["Sweeps__ReconciliationReportInterval"] = "00:00:03",
        };
    }
}

[CollectionDefinition(Name)]
public sealed class BrowserCollection : ICollectionFixture<BrowserStack>
{
    public const string Name = "browser";
}

public sealed class BrowserPage(IBrowserContext context, IPage page, string testName, ITestOutputHelper output) : IAsyncDisposable
{
    /// <summary>Set to 1 to have the tests refresh the screenshots committed under docs/screenshots.</summary>
    public const string UpdateScreenshotsVariable = "SAGAS_UPDATE_SCREENSHOTS";

    readonly List<string> _log = Logged(page);

    public IPage Page => page;

    public IBrowserContext Context => context;

    /// <summary>Saves the page as docs/screenshots/<paramref name="name"/>.png when screenshots are being updated.</summary>
    public async Task PublishScreenshotAsync(string name)
    {
        if (Environment.GetEnvironmentVariable(UpdateScreenshotsVariable) != "1")
            return;
        var directory = Path.Combine(RepositoryLayout.Root, "docs", "screenshots");
        Directory.CreateDirectory(directory);
        await page.ScreenshotAsync(new() { Path = Path.Combine(directory, $"{name}.png"), FullPage = true });
        output.WriteLine($"published docs/screenshots/{name}.png");
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            var directory = Path.Combine(RepositoryLayout.Root, ".local", "test-results", "screenshots");
            Directory.CreateDirectory(directory);
            var file = Path.Combine(directory, $"{Regex.Replace(testName, "[^A-Za-z0-9_.-]", "_")}.png");
            await page.ScreenshotAsync(new() { Path = file, FullPage = true });
            output.WriteLine($"screenshot: {file}");
        }
        catch (PlaywrightException e)
        {
            output.WriteLine($"no screenshot: {e.Message}");
        }

        foreach (var line in _log)
            output.WriteLine(line);
        await context.CloseAsync();
    }

    static List<string> Logged(IPage page)
    {
        var log = new List<string>();
        page.Console += (_, message) =>
        {
            if (message.Type is "error" or "warning")
                log.Add($"console {message.Type}: {message.Text}");
        };
        page.PageError += (_, error) => log.Add($"page error: {error}");
        return log;
    }
}
