extern alias PaymentSandbox;
extern alias SagasApi;
extern alias SagasWorkers;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using OpenTelemetry.Trace;
using ApiProgram = SagasApi::Program;
using SandboxProgram = PaymentSandbox::Program;
using WorkersProgram = SagasWorkers::Program;

namespace Sagas.IntegrationTests.Tracing;

/// <summary>
/// Api, Workers and payment sandbox built by their own Program (as the processes of <c>make run</c> are) but hosted in
/// this process, so that one in-memory exporter can see what they trace: tracing is switched on by configuration
/// (<c>Tracing:Enabled=true</c>, <c>OTEL_TRACES_EXPORTER=none</c>) and each host's tracer provider gets the exporter
/// through the standard configuration hook. Real PostgreSQL and RabbitMQ (a database and virtual host of its own);
/// Api and sandbox listen on loopback ports, because the Workers call the provider and the sandbox calls the webhook
/// over real HTTP. The Workers' payment window is short, so that an unpaid order's deadline timer fires within seconds.
/// </summary>
public sealed class TracedStack : IAsyncLifetime
{
    public static readonly TimeSpan PaymentWindow = TimeSpan.FromSeconds(8);

    TemporaryDatabase _database = null!;
    TemporaryVirtualHost _virtualHost = null!;
    WebApplicationFactory<ApiProgram>? _api;
    WebApplicationFactory<SandboxProgram>? _sandbox;
    WebApplicationFactory<WorkersProgram>? _workers;

    public SpanCollection Spans { get; } = new();
    public Uri ApiUrl { get; private set; } = null!;
    public Uri SandboxUrl { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        _database = await TemporaryDatabase.CreateAsync("traces");
        _virtualHost = await TemporaryVirtualHost.CreateAsync("traces");
        var apiPort = ServiceProcess.FreePort();
        var sandboxPort = ServiceProcess.FreePort();
        ApiUrl = new Uri($"http://127.0.0.1:{apiPort}");
        SandboxUrl = new Uri($"http://127.0.0.1:{sandboxPort}");

        var settings = ServiceEnvironment.For(_database, _virtualHost);
        settings[$"ApiKeys__{TestApiKeys.Storefront}"] = "storefront";
        settings[$"ApiKeys__{TestApiKeys.Support}"] = "support";
        settings[$"ApiKeys__{TestApiKeys.Admin}"] = "admin";
        settings["Webhooks__Secret"] = TestApiKeys.WebhookSecret;
        settings["Saga__PaymentWindow"] = PaymentWindow.ToString("c");
        settings["Saga__PaymentGrace"] = "00:00:01";
        // The payment poll would race the webhook with the news of the payment: its reports are traces of their own (not yet
        // under the order's), and this test follows the webhook.
        settings["Saga__PollInterval"] = "00:05:00";
        settings["PaymentProvider__BaseUrl"] = SandboxUrl.ToString();
        settings["Sandbox__WebhookUrl"] = new Uri(ApiUrl, "/webhooks/payments").ToString();
        settings["Sandbox__WebhookPollInterval"] = "00:00:00.050";
        settings["Tracing__Enabled"] = "true";
        settings["OTEL_TRACES_EXPORTER"] = "none";

        // The Api migrates first, so the others start on a current schema.
        // Each as its own database role, as ServiceProcess runs them.
        var apiSettings = new Dictionary<string, string>(settings);
        ServiceEnvironment.UseOwnRole("Api", apiSettings);
        var workersSettings = new Dictionary<string, string>(settings);
        ServiceEnvironment.UseOwnRole("Workers", workersSettings);
        _api = Host<ApiProgram>(apiSettings, apiPort);
        // The sandbox (an outside provider's stand-in) keeps its ledger in this database, as the owner.
        var sandboxSettings = new Dictionary<string, string>(settings) { ["ConnectionStrings__Postgres"] = _database.ConnectionString };
        sandboxSettings.Remove("ConnectionStrings__Migrations");
        _sandbox = Host<SandboxProgram>(sandboxSettings, sandboxPort);
        _workers = Host<WorkersProgram>(workersSettings, port: null);

        using var client = new HttpClient { BaseAddress = SandboxUrl };
        await Eventually.Until(async () => (await client.GetAsync("/health/ready")).IsSuccessStatusCode, TimeSpan.FromSeconds(60),
            "the sandbox creates its ledger at start-up");
    }

    WebApplicationFactory<T> Host<T>(IReadOnlyDictionary<string, string> settings, int? port)
        where T : class
    {
        var factory = new WebApplicationFactory<T>().WithWebHostBuilder(host =>
        {
            foreach (var (key, value) in settings)
                host.UseSetting(key.Replace("__", ":"), value);
            host.ConfigureTestServices(services => services.ConfigureOpenTelemetryTracerProvider(tracing => tracing.AddInMemoryExporter(Spans)));
        });
        if (port is { } listen)
        {
            factory.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, listen));
            factory.StartServer();
        }
        else
        {
            _ = factory.Services; // starts the host: bus, consumers, Quartz
        }

        return factory;
    }

    /// <summary>
    /// A client of the Api or the sandbox that propagates no trace context, as a storefront or a customer without
    /// tracing would: the Api's POST /orders span is then the root of the order's trace.
    /// </summary>
    public HttpClient Client(Uri baseAddress, string? apiKey = null)
    {
        var client = new HttpClient(new SocketsHttpHandler { ActivityHeadersPropagator = null }) { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(30) };
        if (apiKey is not null)
            client.DefaultRequestHeaders.Add("X-Api-Key", apiKey);
        return client;
    }

    public async Task<Guid> SubmitOrder(string sku)
    {
        using var storefront = Client(ApiUrl, TestApiKeys.Storefront);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/orders")
        {
            Content = JsonContent.Create(new { customerId = "traced", currency = "USD", lines = new[] { new { sku, quantity = 1 } } }),
        };
        request.Headers.Add("Idempotency-Key", Guid.NewGuid().ToString());
        using var response = await storefront.SendAsync(request);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("orderId").GetGuid();
    }

    public async Task<JsonElement> Order(Guid orderId, string apiKey = TestApiKeys.Support)
    {
        using var client = Client(ApiUrl, apiKey);
        return await client.GetFromJsonAsync<JsonElement>($"/orders/{orderId}");
    }

    public Task<JsonElement> OrderWhen(Guid orderId, Func<JsonElement, bool> condition, string because) =>
        Eventually.Until(() => Order(orderId), condition, TimeSpan.FromSeconds(60), $"order {orderId}: {because}");

    public async Task DisposeAsync()
    {
        // Workers first: nothing consumes while the Api and the provider go away.
        if (_workers is not null)
            await _workers.DisposeAsync();
        if (_sandbox is not null)
            await _sandbox.DisposeAsync();
        if (_api is not null)
            await _api.DisposeAsync();
        await _virtualHost.DisposeAsync();
        await _database.DisposeAsync();
    }
}
