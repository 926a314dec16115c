using System.Net.Http.Json;
using System.Text.Json;
using Npgsql;
using Sagas.Testing;

namespace Sagas.Bench;

/// <summary>
/// The system as <c>make run</c> starts it — Api, Workers, payment sandbox as processes — on a fresh
/// database and virtual host of the benchmark's own servers, so every run (and every stack within it)
/// starts clean. The sandbox keeps its ledger in a database of its own: it stands for an outside
/// provider, so its transactions are not counted as ours.
/// </summary>
public sealed class Stack : IAsyncDisposable
{
    public const string WebhookSecret = "bench-webhook-secret";

    readonly Dictionary<string, string> _environment;
    readonly Dictionary<string, string> _sandboxEnvironment;

    Stack(string name, TemporaryDatabase database, TemporaryDatabase sandboxDatabase, TemporaryVirtualHost virtualHost,
        Dictionary<string, string> environment, Dictionary<string, string> sandboxEnvironment, int sandboxPort, int apiPort,
        ClusterInfrastructure? cluster)
    {
        Cluster = cluster;
        Name = name;
        Database = database;
        SandboxDatabase = sandboxDatabase;
        VirtualHost = virtualHost;
        _environment = environment;
        _sandboxEnvironment = sandboxEnvironment;
        Sandbox = new ServiceProcess("PaymentSandbox", sandboxPort, sandboxEnvironment);
        Apis.Add(new ServiceProcess("Api", apiPort, environment));
        Started.Add(Sandbox);
        Started.Add(Apis[0]);
        Data = NpgsqlDataSource.Create(cluster?.FollowPrimary(database.ConnectionString) ?? database.ConnectionString);
        SandboxData = NpgsqlDataSource.Create(sandboxDatabase.ConnectionString);
        Storefront = new Storefront(() => Apis.Where(a => a.IsRunning).Select(a => a.BaseAddress).DefaultIfEmpty(Apis[0].BaseAddress).ToList());
        SandboxHttp = new HttpClient { BaseAddress = Sandbox.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
    }

    public string Name { get; }
    public TemporaryDatabase Database { get; }
    public TemporaryDatabase SandboxDatabase { get; }
    public TemporaryVirtualHost VirtualHost { get; }
    public List<ServiceProcess> Apis { get; } = [];
    public List<ServiceProcess> Workers { get; } = [];
    public ServiceProcess Sandbox { get; }
    public NpgsqlDataSource Data { get; }
    public NpgsqlDataSource SandboxData { get; }
    public Storefront Storefront { get; }
    public HttpClient SandboxHttp { get; }
    /// <summary>Set when the services run on the cluster topology (the sandbox, an outside provider, stays on the single server).</summary>
    public ClusterInfrastructure? Cluster { get; }

    /// <summary>Queries this program ran on the system's database (each one transaction, subtracted from the counts).</summary>
    public long OwnQueries;

    public static async Task<Stack> StartAsync(BenchInfrastructure infrastructure, string name, TimeSpan paymentWindow,
        int workers = 1, IDictionary<string, string>? extra = null, ClusterInfrastructure? cluster = null)
    {
        var database = await TemporaryDatabase.CreateAsync("bench" + name, cluster?.Settings ?? infrastructure.Settings);
        var sandboxDatabase = await TemporaryDatabase.CreateAsync("benchsandbox", infrastructure.Settings);
        var virtualHost = await TemporaryVirtualHost.CreateAsync("bench-" + name, cluster?.Settings ?? infrastructure.Settings);
        var apiPort = ServiceProcess.FreePort();
        var sandboxPort = ServiceProcess.FreePort();

        var environment = ServiceEnvironment.For(database, virtualHost);
        cluster?.Adapt(environment);
        environment[$"ApiKeys__{Storefront.StorefrontKey}"] = "storefront";
        environment[$"ApiKeys__{Storefront.SupportKey}"] = "support";
        environment[$"ApiKeys__{Storefront.AdminKey}"] = "admin";
        environment["Webhooks__Secret"] = WebhookSecret;
        environment["Saga__PaymentWindow"] = paymentWindow.ToString("c");
        environment["PaymentProvider__BaseUrl"] = $"http://127.0.0.1:{sandboxPort}";
        environment["Sandbox__WebhookUrl"] = $"http://127.0.0.1:{apiPort}/webhooks/payments";
        foreach (var (key, value) in extra ?? new Dictionary<string, string>())
            environment[key] = value;
        var sandboxEnvironment = new Dictionary<string, string>(environment)
        {
            ["ConnectionStrings__Postgres"] = sandboxDatabase.ConnectionString,
        };

        var stack = new Stack(name, database, sandboxDatabase, virtualHost, environment, sandboxEnvironment, sandboxPort, apiPort, cluster);
        // The Api migrates first, so the others start on a current schema without racing for the lock.
        stack.Apis[0].Start();
        await stack.Apis[0].WaitUntilReadyAsync(timeout: TimeSpan.FromSeconds(90));
        stack.Sandbox.Start();
        for (var i = 0; i < workers; i++)
        {
            stack.Workers.Add(new ServiceProcess("Workers", ServiceProcess.FreePort(), environment));
            Started.Add(stack.Workers[^1]);
        }

        stack.Workers.ForEach(w => w.Start());
        await Task.WhenAll(stack.Workers.Select(w => w.WaitUntilReadyAsync(timeout: TimeSpan.FromSeconds(90)))
            .Append(stack.Sandbox.WaitUntilReadyAsync(timeout: TimeSpan.FromSeconds(90))));

        // The payer finds pending payments through this (the sandbox's own table, in its own database).
        await using (var index = stack.SandboxData.CreateCommand(
                         "CREATE INDEX IF NOT EXISTS bench_pending ON sandbox.payments (created_at) WHERE status = 'pending'"))
            await index.ExecuteNonQueryAsync();
        return stack;
    }

    /// <summary>Every service process any stack started: killed if the benchmark itself is interrupted.</summary>
    public static readonly System.Collections.Concurrent.ConcurrentBag<ServiceProcess> Started = [];

    public static void KillAll()
    {
        foreach (var process in Started)
        {
            try
            {
                process.KillAsync().GetAwaiter().GetResult();
            }
            catch (Exception)
            {
                // best effort while exiting
            }
        }
    }

    public async Task<ServiceProcess> AddApiAsync()
    {
        var api = new ServiceProcess("Api", ServiceProcess.FreePort(), _environment);
        Apis.Add(api);
        Started.Add(api);
        api.Start();
        await api.WaitUntilReadyAsync(timeout: TimeSpan.FromSeconds(90));
        return api;
    }

    /// <summary>One more Workers process; <paramref name="extra"/> adds to or overrides the stack's configuration for it alone.</summary>
    public async Task<ServiceProcess> AddWorkersAsync(IReadOnlyDictionary<string, string>? extra = null)
    {
        var environment = new Dictionary<string, string>(_environment);
        foreach (var (key, value) in extra ?? new Dictionary<string, string>())
            environment[key] = value;
        var workers = new ServiceProcess("Workers", ServiceProcess.FreePort(), environment);
        Workers.Add(workers);
        Started.Add(workers);
        workers.Start();
        await workers.WaitUntilReadyAsync(timeout: TimeSpan.FromSeconds(90));
        return workers;
    }

    public async Task StockAsync(IEnumerable<(string Sku, int OnHand)> items, decimal price = 10m)
    {
        foreach (var (sku, onHand) in items)
            await Storefront.PutItemAsync(sku, onHand, price);
    }

    public async Task SandboxSettingsAsync(object settings)
    {
        using var response = await SandboxHttp.PutAsJsonAsync("/sandbox/settings", settings);
        response.EnsureSuccessStatusCode();
    }

    /// <summary>The sandbox's whole ledger (GET /sandbox/ledger without a merchant reference).</summary>
    public async Task<List<LedgerPayment>> LedgerAsync()
    {
        await using var stream = await SandboxHttp.GetStreamAsync("/sandbox/ledger");
        return await JsonSerializer.DeserializeAsync<List<LedgerPayment>>(stream, JsonSerializerOptions.Web) ?? [];
    }

    /// <summary>Order states straight from the saga table (one query, counted as the benchmark's own).</summary>
    public async Task<Dictionary<string, long>> StateCountsAsync()
    {
        Interlocked.Increment(ref OwnQueries);
        await using var command = Data.CreateCommand("SELECT current_state, count(*) FROM ordering.order_state GROUP BY 1");
        await using var reader = await command.ExecuteReaderAsync();
        var counts = new Dictionary<string, long>();
        while (await reader.ReadAsync())
            counts[reader.GetString(0)] = reader.GetInt64(1);
        return counts;
    }

    public static readonly string[] FinalStates = ["Placed", "Rejected", "Expired", "Canceled", "Failed"];

    public static long Final(Dictionary<string, long> counts) => FinalStates.Sum(s => counts.GetValueOrDefault(s));

    public string Logs(int lines = 40) => string.Join("\n",
        Apis.Select((a, i) => $"--- api #{i + 1} ---\n{Tail(a.Output, lines)}")
            .Concat(Workers.Select((w, i) => $"--- workers #{i + 1} ---\n{Tail(w.Output, lines)}"))
            .Append($"--- sandbox ---\n{Tail(Sandbox.Output, lines)}"));

    static string Tail(string text, int lines) => Shell.Tail(text, lines);

    /// <summary>Writes what is kept of every service's output (its last 2,000 lines) under <paramref name="directory"/>; returns the folder.</summary>
    public string SaveLogs(string directory)
    {
        Directory.CreateDirectory(directory);
        for (var i = 0; i < Apis.Count; i++)
            File.WriteAllText(Path.Combine(directory, $"api-{i + 1}.log"), Apis[i].FullOutput);
        for (var i = 0; i < Workers.Count; i++)
            File.WriteAllText(Path.Combine(directory, $"workers-{i + 1}.log"), Workers[i].FullOutput);
        File.WriteAllText(Path.Combine(directory, "sandbox.log"), Sandbox.FullOutput);
        return directory;
    }

    public async Task StopProcessesAsync()
    {
        await Task.WhenAll(Apis.Concat(Workers).Append(Sandbox).Select(p => p.StopAsync(TimeSpan.FromSeconds(10))));
    }

    public async ValueTask DisposeAsync()
    {
        await StopProcessesAsync();
        Storefront.Dispose();
        SandboxHttp.Dispose();
        await Data.DisposeAsync();
        await SandboxData.DisposeAsync();
        // On the cluster the database and virtual host go with the cluster's data (the server or node they were made on
        // may be the one killed).
        if (Cluster is null)
        {
            await VirtualHost.DisposeAsync();
            await Database.DisposeAsync();
        }

        await SandboxDatabase.DisposeAsync();
    }
}

public sealed record LedgerRefund(string RefundId, decimal Amount, string Status);

public sealed record LedgerPayment(
    string ProviderReference, string MerchantReference, string Status, decimal Amount, decimal? CapturedAmount,
    List<LedgerRefund> Refunds, DateTimeOffset? PaidAt = null, DateTimeOffset? ExpiresAt = null)
{
    /// <summary>Captured in full at or before the QR's deadline, by the provider's own clock.</summary>
    public bool PaidInTime => CapturedAmount == Amount && PaidAt is { } paid && ExpiresAt is { } deadline && paid <= deadline;
}
