extern alias PaymentSandbox;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using SandboxProgram = PaymentSandbox::Program;

namespace Sagas.IntegrationTests.PaymentSandbox;

/// <summary>
/// One sandbox per test class: its own database, its own webhook receiver on a free loopback port, and
/// a clock the test can move forward. Webhook retries are fast so that "receiver was down" tests finish
/// in seconds.
/// </summary>
public abstract class SandboxFixtureBase(bool startReceiver, IReadOnlyDictionary<string, string>? settings = null)
    : IAsyncLifetime
{
    public const string WebhookSecret = "test-webhook-secret";
    public const string StorefrontKey = "test-storefront-key";

    TemporaryDatabase? _database;
    WebApplicationFactory<SandboxProgram>? _factory;

    public ShiftingClock Clock { get; } = new();
    public WebhookReceiver Receiver { get; } = new();

    /// <summary>Where the demo checkout finds "the Api"; not started unless a test starts it.</summary>
    public FakeStorefrontApi StorefrontApi { get; } = new();
    public SandboxApi Api { get; private set; } = null!;
    public TemporaryDatabase Database => _database!;

    public async Task InitializeAsync()
    {
        _database = await TemporaryDatabase.CreateAsync("sandbox");
        if (startReceiver)
            await Receiver.StartAsync();

        await StartSandboxAsync();
    }

    /// <summary>Stops the sandbox process and starts a new one on the same database.</summary>
    public async Task RestartAsync()
    {
        await _factory!.DisposeAsync();
        await StartSandboxAsync();
    }

    async Task StartSandboxAsync()
    {
        _factory = new WebApplicationFactory<SandboxProgram>().WithWebHostBuilder(host =>
        {
            host.UseSetting("ConnectionStrings:Postgres", Database.ConnectionString);
            host.UseSetting("Webhooks:Secret", WebhookSecret);
            host.UseSetting("Sandbox:WebhookUrl", Receiver.Url.ToString());
            host.UseSetting("Sandbox:WebhookRetryInitialDelay", "00:00:00.100");
            host.UseSetting("Sandbox:WebhookRetryMaxDelay", "00:00:00.500");
            host.UseSetting("Sandbox:WebhookPollInterval", "00:00:00.050");
            host.UseSetting("Demo:ApiUrl", StorefrontApi.BaseUrl.ToString());
            host.UseSetting("Demo:StorefrontKey", StorefrontKey);
            host.UseSetting("Logging:LogLevel:Default", "Warning");
            foreach (var (key, value) in settings ?? new Dictionary<string, string>())
                host.UseSetting(key, value);
            host.ConfigureTestServices(services => services.AddSingleton<TimeProvider>(Clock));
        });
        Api = new SandboxApi(_factory.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false }));
        await Eventually.Until(async () => (await Api.Client.GetAsync("/health/ready")).IsSuccessStatusCode,
            because: "the sandbox creates its schema at start-up");
    }

    public async Task DisposeAsync()
    {
        if (_factory is not null)
            await _factory.DisposeAsync();
        await Receiver.DisposeAsync();
        await StorefrontApi.DisposeAsync();
        if (_database is not null)
            await _database.DisposeAsync();
    }
}

public sealed class SandboxFixture() : SandboxFixtureBase(startReceiver: true);

/// <summary>The receiver's port is chosen but nothing listens on it until the test starts it.</summary>
public sealed class SandboxWithReceiverDownFixture() : SandboxFixtureBase(startReceiver: false);

/// <summary>Nothing listens for webhooks, and the sandbox gives up on them after a moment.</summary>
public sealed class SandboxGivingUpQuicklyFixture() : SandboxFixtureBase(startReceiver: false,
    new Dictionary<string, string> { ["Sandbox:WebhookGiveUpAfter"] = "00:00:00.300" });

/// <summary>System time plus an offset the test controls; timers still run on real time.</summary>
public sealed class ShiftingClock : TimeProvider
{
    long _offsetTicks;

    public override DateTimeOffset GetUtcNow() => base.GetUtcNow() + TimeSpan.FromTicks(Interlocked.Read(ref _offsetTicks));

    public void Advance(TimeSpan by) => Interlocked.Add(ref _offsetTicks, by.Ticks);
}
