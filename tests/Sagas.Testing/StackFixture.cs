using System.Net.Http.Json;
using System.Text.Json;
using Npgsql;
using Xunit;

namespace Sagas.Testing;

/// <summary>
/// The whole system as processes, as <c>make run</c> starts it — Api, Workers, payment sandbox — on one test
/// class's own database and virtual host, with the payment window and poll shortened by configuration
/// (never by sleeping for the defaults). Verdicts are read from the sandbox's ledger and item stock.
/// </summary>
public class StackFixture : IAsyncLifetime
{
    TemporaryDatabase _database = null!;
    TemporaryVirtualHost _virtualHost = null!;

    public ServiceProcess Api { get; private set; } = null!;
    public ServiceProcess Workers { get; private set; } = null!;
    public ServiceProcess Sandbox { get; private set; } = null!;
    public TemporaryDatabase Database => _database;
    public TemporaryVirtualHost VirtualHost => _virtualHost;

    /// <summary>What the services were started with: a test may start another instance of one of them.</summary>
    public IReadOnlyDictionary<string, string> Environment { get; private set; } = new Dictionary<string, string>();

    // Long enough that a test paying right after the QR appears never races the deadline, however loaded the machine;
    // expiry tests shorten it in a fixture of their own.
    protected virtual TimeSpan PaymentWindow => TimeSpan.FromMinutes(2);
    protected virtual TimeSpan PaymentGrace => TimeSpan.FromSeconds(2);
    protected virtual TimeSpan PollInterval => TimeSpan.FromMilliseconds(500);
    protected virtual IDictionary<string, string> Configuration => new Dictionary<string, string>();

    /// <summary>False: the Workers start only when a test calls <see cref="StartWorkers"/> (none has run on the virtual host yet).</summary>
    protected virtual bool WorkersAtStart => true;

    public async Task InitializeAsync()
    {
        _database = await TemporaryDatabase.CreateAsync("stack");
        _virtualHost = await TemporaryVirtualHost.CreateAsync("stack");
        var environment = ServiceEnvironment.For(_database, _virtualHost);
        var apiPort = ServiceProcess.FreePort();
        var sandboxPort = ServiceProcess.FreePort();
        environment[$"ApiKeys__{TestApiKeys.Storefront}"] = "storefront";
        environment[$"ApiKeys__{TestApiKeys.Support}"] = "support";
        environment[$"ApiKeys__{TestApiKeys.Admin}"] = "admin";
        environment["Webhooks__Secret"] = TestApiKeys.WebhookSecret;
        environment["Saga__PaymentWindow"] = PaymentWindow.ToString("c");
        environment["Saga__PollInterval"] = PollInterval.ToString("c");
        environment["Saga__PaymentGrace"] = PaymentGrace.ToString("c");
        environment["PaymentProvider__BaseUrl"] = $"http://127.0.0.1:{sandboxPort}";
        environment["Sandbox__WebhookUrl"] = $"http://127.0.0.1:{apiPort}/webhooks/payments";
        environment["Demo__ApiUrl"] = $"http://127.0.0.1:{apiPort}";
        environment["Demo__StorefrontKey"] = TestApiKeys.Storefront;
        foreach (var (key, value) in Configuration)
            environment[key] = value;

        Environment = environment;
        Api = new ServiceProcess("Api", apiPort, environment);
        Workers = new ServiceProcess("Workers", ServiceProcess.FreePort(), environment);
        // The sandbox (an outside provider's stand-in) creates its own ledger schema: in this test's database, as the owner.
        var sandboxEnvironment = new Dictionary<string, string>(environment)
        {
            ["ConnectionStrings__Postgres"] = _database.ConnectionString,
        };
        sandboxEnvironment.Remove("ConnectionStrings__Migrations");
        Sandbox = new ServiceProcess("PaymentSandbox", sandboxPort, sandboxEnvironment);
        // The Api migrates first, so the others start on a current schema without racing for the lock.
        Api.Start();
        await Api.WaitUntilReadyAsync();
        Sandbox.Start();
        if (WorkersAtStart)
            Workers.Start();
        await Task.WhenAll(Sandbox.WaitUntilReadyAsync(), WorkersAtStart ? Workers.WaitUntilReadyAsync() : Task.CompletedTask);
    }

    public async Task StartWorkers()
    {
        Workers.Start();
        await Workers.WaitUntilReadyAsync();
    }

    public async Task DisposeAsync()
    {
        await Task.WhenAll(Api.StopAsync(), Workers.StopAsync(), Sandbox.StopAsync());
        await Task.WhenAll(Api.DisposeAsync().AsTask(), Workers.DisposeAsync().AsTask(), Sandbox.DisposeAsync().AsTask());
        await _virtualHost.DisposeAsync();
        await _database.DisposeAsync();
    }

    public HttpClient Client(string apiKey) => ClientOf(Api, apiKey);

    public HttpClient SandboxClient() => ClientOf(Sandbox, null);

    static HttpClient ClientOf(ServiceProcess service, string? apiKey)
    {
        var client = new HttpClient { BaseAddress = service.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        if (apiKey is not null)
            client.DefaultRequestHeaders.Add("X-Api-Key", apiKey);
        return client;
    }

    public async Task StockItem(string sku, int onHand, decimal price = 10m, string? name = null)
    {
        using var admin = Client(TestApiKeys.Admin);
        (await admin.PutAsJsonAsync($"/items/{sku}", new { name = name ?? sku, category = "test", price, currency = "USD", onHand }))
            .EnsureSuccessStatusCode();
    }

    /// <summary>Submits an order and waits for its QR payment; returns the order id and provider reference.</summary>
    public async Task<(Guid OrderId, string ProviderReference)> PlaceOrderAwaitingPayment(params (string Sku, int Quantity)[] lines)
    {
        var orderId = await PlaceOrder(lines);
        var order = await OrderWhen(orderId, o => o.GetProperty("payment").ValueKind == JsonValueKind.Object
                                                  && o.GetProperty("payment").GetProperty("qrPayload").GetString() is { Length: > 0 },
            "QR payment ready");
        return (orderId, order.GetProperty("payment").GetProperty("providerReference").GetString()!);
    }

    /// <summary>Submits an order, pays its QR code in full and waits until it is placed; returns the order id.</summary>
    public async Task<Guid> PlacedOrder(params (string Sku, int Quantity)[] lines)
    {
        var (orderId, reference) = await PlaceOrderAwaitingPayment(lines);
        await Pay(reference);
        await OrderIn(orderId, "Placed");
        return orderId;
    }

    public Task<Guid> PlaceOrder(params (string Sku, int Quantity)[] lines) => PlaceOrderFor("e2e", lines);

    public async Task<Guid> PlaceOrderFor(string customerId, params (string Sku, int Quantity)[] lines)
    {
        using var storefront = Client(TestApiKeys.Storefront);
        var key = Guid.NewGuid().ToString();
        // As a storefront does: a 503 (overloaded, or a dependency away for a moment) is retried with the same
        // Idempotency-Key after its Retry-After, for up to a minute.
        for (var attempt = 1; ; attempt++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/orders")
            {
                Content = JsonContent.Create(new
                {
                    customerId,
                    currency = "USD",
                    lines = lines.Select(l => new { sku = l.Sku, quantity = l.Quantity }),
                }),
            };
            request.Headers.Add("Idempotency-Key", key);
            using var response = await storefront.SendAsync(request);
            if (response.StatusCode == System.Net.HttpStatusCode.ServiceUnavailable && attempt < 30)
            {
                await Task.Delay(response.Headers.RetryAfter?.Delta is { } wait && wait < TimeSpan.FromSeconds(5) ? wait : TimeSpan.FromSeconds(2));
                continue;
            }

            response.EnsureSuccessStatusCode();
            return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("orderId").GetGuid();
        }
    }

    public async Task<JsonElement> Order(Guid orderId)
    {
        using var support = Client(TestApiKeys.Support);
        return await support.GetFromJsonAsync<JsonElement>($"/orders/{orderId}");
    }

    /// <summary>Polls the order until <paramref name="condition"/> holds (the saga is asynchronous).</summary>
    public Task<JsonElement> OrderWhen(Guid orderId, Func<JsonElement, bool> condition, string because, TimeSpan? timeout = null) =>
        Eventually.Until(() => Order(orderId), condition, timeout ?? TimeSpan.FromSeconds(45),
            $"order {orderId}: {because}\n--- workers ---\n{Workers.Output}");

    public Task<JsonElement> OrderIn(Guid orderId, string status, TimeSpan? timeout = null) =>
        OrderWhen(orderId, o => o.GetProperty("status").GetString() == status, $"status {status}", timeout);

    public async Task<JsonElement> Ledger(Guid orderId)
    {
        using var sandbox = SandboxClient();
        return await sandbox.GetFromJsonAsync<JsonElement>($"/sandbox/ledger?merchantReference={orderId}");
    }

    /// <summary>The sandbox ledger's verdict on one order: captures, the captured amount and refunds.</summary>
    public async Task<(int Payments, int Captured, decimal CapturedAmount, int Refunds, decimal Refunded, string? Status)> Money(Guid orderId)
    {
        var ledger = await Ledger(orderId);
        var payments = ledger.EnumerateArray().ToList();
        var captured = payments.Where(p => p.GetProperty("capturedAmount").ValueKind == JsonValueKind.Number).ToList();
        var refunds = payments.SelectMany(p => p.GetProperty("refunds").EnumerateArray()).ToList();
        return (payments.Count, captured.Count, captured.Sum(p => p.GetProperty("capturedAmount").GetDecimal()), refunds.Count,
            refunds.Sum(r => r.GetProperty("amount").GetDecimal()), payments.FirstOrDefault().ValueKind == JsonValueKind.Object ? payments[0].GetProperty("status").GetString() : null);
    }

    public async Task<HttpResponseMessage> Cancel(Guid orderId, string apiKey)
    {
        using var client = Client(apiKey);
        return await client.PostAsync($"/orders/{orderId}/cancel", null);
    }

    public async Task<HttpResponseMessage> RetryCompensation(Guid orderId, string apiKey = TestApiKeys.Support)
    {
        using var client = Client(apiKey);
        return await client.PostAsync($"/orders/{orderId}/retry-compensation", null);
    }

    public async Task<JsonElement> Attention()
    {
        using var support = Client(TestApiKeys.Support);
        return await support.GetFromJsonAsync<JsonElement>("/support/attention?limit=200");
    }

    public async Task<JsonElement> Timeline(Guid orderId)
    {
        using var support = Client(TestApiKeys.Support);
        return await support.GetFromJsonAsync<JsonElement>($"/orders/{orderId}/timeline");
    }

    /// <summary>The customer pays (the full amount unless <paramref name="amount"/>), at <paramref name="at"/> if given.</summary>
    public async Task Pay(string providerReference, decimal? amount = null, DateTimeOffset? at = null) =>
        (await TryPay(providerReference, amount, at)).EnsureSuccessStatusCode();

    /// <summary>A payment attempt whose refusal (the QR code withdrawn or expired) is an outcome, not a failure.</summary>
    public async Task<HttpResponseMessage> TryPay(string providerReference, decimal? amount = null, DateTimeOffset? at = null)
    {
        using var sandbox = SandboxClient();
        return await sandbox.PostAsJsonAsync($"/sandbox/qr-payments/{providerReference}/pay", new { amount, at });
    }

    public async Task Settings(object settings)
    {
        using var sandbox = SandboxClient();
        (await sandbox.PutAsJsonAsync("/sandbox/settings", settings)).EnsureSuccessStatusCode();
    }

    /// <summary>Runs <paramref name="during"/> while the provider refuses every refund; refunds work again after it, however it ends.</summary>
    public Task WhileRefundsAreRefused(Func<Task> during) => WhileRefundsAreRefused(async () =>
    {
        await during();
        return true;
    });

    /// <inheritdoc cref="WhileRefundsAreRefused(Func{Task})"/>
    public async Task<T> WhileRefundsAreRefused<T>(Func<Task<T>> during)
    {
        await Settings(new { refunds = "reject" });
        try
        {
            return await during();
        }
        finally
        {
            await Settings(new { refunds = "ok" });
        }
    }

    public async Task<(int OnHand, int Held)> Stock(string sku)
    {
        await using var db = NpgsqlDataSource.Create(_database.ConnectionString);
        await using var command = db.CreateCommand("SELECT on_hand, held FROM inventory.items WHERE sku = $1");
        command.Parameters.Add(new NpgsqlParameter { Value = sku });
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        return (reader.GetInt32(0), reader.GetInt32(1));
    }
}
