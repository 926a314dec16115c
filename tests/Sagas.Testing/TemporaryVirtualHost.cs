using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Sagas.Testing;

/// <summary>
/// A RabbitMQ virtual host of its own for one test class, so queues and exchanges of one test never
/// receive another's messages. Created and deleted through the management API.
/// </summary>
public sealed class TemporaryVirtualHost : IAsyncDisposable
{
    readonly HttpClient _management;

    TemporaryVirtualHost(InfrastructureSettings settings, string name, HttpClient management)
    {
        Settings = settings;
        Name = name;
        _management = management;
    }

    public InfrastructureSettings Settings { get; }
    public string Name { get; }

    public static async Task<TemporaryVirtualHost> CreateAsync(string purpose, InfrastructureSettings? settings = null)
    {
        settings ??= InfrastructureSettings.FromEnvironment();
        var management = CreateManagementClient(settings);
        var name = $"t-{purpose.ToLowerInvariant()}-{Guid.NewGuid():N}";
        var vhost = Uri.EscapeDataString(name);
        (await management.PutAsync($"vhosts/{vhost}", Json("{}"))).EnsureSuccessStatusCode();
        (await management.PutAsync($"permissions/{vhost}/{Uri.EscapeDataString(settings.RabbitUser)}",
            Json("""{"configure":".*","write":".*","read":".*"}"""))).EnsureSuccessStatusCode();
        return new TemporaryVirtualHost(settings, name, management);
    }

    public static HttpClient CreateManagementClient(InfrastructureSettings settings)
    {
        var client = new HttpClient { BaseAddress = settings.RabbitManagementUri, Timeout = TimeSpan.FromSeconds(30) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(Encoding.UTF8.GetBytes($"{settings.RabbitUser}:{settings.RabbitPassword}")));
        return client;
    }

    /// <summary>The virtual host's error queues (MassTransit's <c>&lt;endpoint&gt;_error</c>) that hold messages, with their counts.</summary>
    public Task<IReadOnlyDictionary<string, int>> ErrorQueueMessagesAsync() => ErrorQueueMessagesAsync(Settings, Name);

    /// <summary>
    /// Counted by fetching the messages (and putting them back), not from the management statistics, which lag by
    /// seconds: a message faulted a moment ago is counted.
    /// </summary>
    public static async Task<IReadOnlyDictionary<string, int>> ErrorQueueMessagesAsync(InfrastructureSettings settings, string virtualHost)
    {
        using var management = CreateManagementClient(settings);
        var vhost = Uri.EscapeDataString(virtualHost);
        using var queues = JsonDocument.Parse(await management.GetStringAsync($"queues/{vhost}?columns=name"));
        var counts = new Dictionary<string, int>();
        foreach (var queue in queues.RootElement.EnumerateArray())
        {
            var name = queue.GetProperty("name").GetString()!;
            if (!name.EndsWith("_error", StringComparison.Ordinal))
                continue;
            using var response = await management.PostAsync($"queues/{vhost}/{Uri.EscapeDataString(name)}/get",
                Json("""{"count":10000,"ackmode":"ack_requeue_true","encoding":"auto","truncate":100}"""));
            response.EnsureSuccessStatusCode();
            using var messages = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            if (messages.RootElement.GetArrayLength() is var count and > 0)
                counts[name] = count;
        }

        return counts;
    }

    /// <summary>
    /// A queue as the management API describes it (<c>GET /api/queues/{vhost}/{name}</c>: type, durable, auto_delete,
    /// arguments, messages, ...); null when the virtual host has no such queue. Message counts lag by a few seconds.
    /// </summary>
    public async Task<JsonElement?> QueueAsync(string name)
    {
        using var response = await _management.GetAsync($"queues/{Uri.EscapeDataString(Name)}/{Uri.EscapeDataString(name)}");
        if (response.StatusCode == System.Net.HttpStatusCode.NotFound)
            return null;
        response.EnsureSuccessStatusCode();
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return json.RootElement.Clone();
    }

    /// <summary>Every queue of the virtual host, as <see cref="QueueAsync"/> describes each.</summary>
    public async Task<IReadOnlyList<JsonElement>> QueuesAsync()
    {
        using var json = JsonDocument.Parse(await _management.GetStringAsync($"queues/{Uri.EscapeDataString(Name)}"));
        return json.RootElement.EnumerateArray().Select(q => q.Clone()).ToList();
    }

    /// <summary>Declares an exchange through the management API, e.g. one that conflicts with what MassTransit declares.</summary>
    public async Task DeclareExchangeAsync(string name, string type)
    {
        using var response = await _management.PutAsync($"exchanges/{Uri.EscapeDataString(Name)}/{Uri.EscapeDataString(name)}",
            Json($$"""{"type":"{{type}}","durable":true}"""));
        if (!response.IsSuccessStatusCode)
            throw new HttpRequestException($"declaring exchange {name}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    /// <summary>The bindings whose source is <paramref name="exchange"/> (destination, destination_type, routing_key, arguments).</summary>
    public async Task<IReadOnlyList<JsonElement>> BindingsFromAsync(string exchange)
    {
        using var json = JsonDocument.Parse(await _management.GetStringAsync(
            $"exchanges/{Uri.EscapeDataString(Name)}/{Uri.EscapeDataString(exchange)}/bindings/source"));
        return json.RootElement.EnumerateArray().Select(b => b.Clone()).ToList();
    }

    /// <summary>Binds <paramref name="exchange"/> again as <paramref name="binding"/> (one of <see cref="BindingsFromAsync"/>) described it.</summary>
    public async Task BindAsync(string exchange, JsonElement binding)
    {
        var type = binding.GetProperty("destination_type").GetString() == "queue" ? "q" : "e";
        var body = JsonSerializer.Serialize(new { routing_key = binding.GetProperty("routing_key").GetString(), arguments = binding.GetProperty("arguments") });
        using var response = await _management.PostAsync(
            $"bindings/{Uri.EscapeDataString(Name)}/e/{Uri.EscapeDataString(exchange)}/{type}/{Uri.EscapeDataString(binding.GetProperty("destination").GetString()!)}",
            Json(body));
        if (!response.IsSuccessStatusCode)
            throw new HttpRequestException($"binding exchange {exchange}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    /// <summary>
    /// Raw bytes on a queue through the default exchange, as a broken publisher (or a person in the management UI) would
    /// put them; fails unless RabbitMQ routed them to the queue.
    /// </summary>
    public async Task PublishRawAsync(string queue, string body)
    {
        var publish = JsonSerializer.Serialize(new
        {
            properties = new { content_type = "application/vnd.masstransit+json", delivery_mode = 2 },
            routing_key = queue,
            payload = body,
            payload_encoding = "string",
        });
        using var response = await _management.PostAsync($"exchanges/{Uri.EscapeDataString(Name)}/amq.default/publish", Json(publish));
        response.EnsureSuccessStatusCode();
        var answer = await response.Content.ReadAsStringAsync();
        if (!answer.Contains("\"routed\":true", StringComparison.Ordinal))
            throw new InvalidOperationException($"RabbitMQ did not route the message to {queue}: {answer}");
    }

    public async Task DeleteExchangeAsync(string name) =>
        (await _management.DeleteAsync($"exchanges/{Uri.EscapeDataString(Name)}/{Uri.EscapeDataString(name)}")).EnsureSuccessStatusCode();

    public async ValueTask DisposeAsync()
    {
        await _management.DeleteAsync($"vhosts/{Uri.EscapeDataString(Name)}");
        _management.Dispose();
    }

    static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");
}
