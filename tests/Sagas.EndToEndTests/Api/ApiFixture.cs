using System.Net.Http.Headers;

namespace Sagas.EndToEndTests.Api;

/// <summary>
/// The Api as a real process on its own database and virtual host, with the development keys; shared by
/// the tests of one class. Contract tests talk to it over HTTP only, as the storefront would.
/// </summary>
public class ApiFixture : IAsyncLifetime
{
    public const string StorefrontKey = TestApiKeys.Storefront;
    public const string SupportKey = TestApiKeys.Support;
    public const string AdminKey = TestApiKeys.Admin;
    public const string WebhookSecret = TestApiKeys.WebhookSecret;

    TemporaryDatabase _database = null!;
    TemporaryVirtualHost _virtualHost = null!;

    public ServiceProcess Api { get; private set; } = null!;
    public TemporaryDatabase Database => _database;

    protected virtual IDictionary<string, string> Settings => new Dictionary<string, string>();

    /// <summary>What the fixture waits for before the tests run.</summary>
    protected virtual string ReadyPath => "/health/ready";

    public async Task InitializeAsync()
    {
        _database = await TemporaryDatabase.CreateAsync("api");
        _virtualHost = await TemporaryVirtualHost.CreateAsync("api");
        var environment = ServiceEnvironment.For(_database, _virtualHost);
        environment[$"ApiKeys__{StorefrontKey}"] = "storefront";
        environment[$"ApiKeys__{SupportKey}"] = "support";
        environment[$"ApiKeys__{AdminKey}"] = "admin";
        environment["Webhooks__Secret"] = WebhookSecret;
        foreach (var (key, value) in Settings)
            environment[key] = value;
        Api = new ServiceProcess("Api", ServiceProcess.FreePort(), environment);
        Api.Start();
        await Api.WaitUntilReadyAsync(ReadyPath);
    }

    public async Task DisposeAsync()
    {
        await Api.DisposeAsync();
        await _virtualHost.DisposeAsync();
        await _database.DisposeAsync();
    }

    public HttpClient Client(string? apiKey = null)
    {
        var client = new HttpClient { BaseAddress = Api.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        if (apiKey is not null)
            client.DefaultRequestHeaders.Add("X-Api-Key", apiKey);
        client.DefaultRequestHeaders.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        return client;
    }
}
