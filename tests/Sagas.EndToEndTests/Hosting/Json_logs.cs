namespace Sagas.EndToEndTests.Hosting;

/// <summary>
/// Outside Development the services log one JSON object per line, with the trace and span ids of the request being
/// served and the id of the order a consumed message is about — read from the processes' real stdout.
/// </summary>
public sealed class Json_logs(Json_logs.Stack stack) : IClassFixture<Json_logs.Stack>
{
    public sealed class Stack : StackFixture
    {
        protected override IDictionary<string, string> Configuration => new Dictionary<string, string>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
            ["DOTNET_ENVIRONMENT"] = "Production",
            ["Sandbox__Enabled"] = "true",
            // Lines written inside a request (the host's own) and inside a consume (the provider client's).
            ["Logging__LogLevel__Microsoft.AspNetCore.Hosting.Diagnostics"] = "Information",
            ["Logging__LogLevel__System.Net.Http.HttpClient"] = "Information",
        };
    }

    [Fact]
    public async Task Every_line_is_json_and_carries_the_trace_of_its_request_and_the_order_it_is_about()
    {
        await stack.StockItem("JSONLOG-1", 10);
        var (orderId, _) = await stack.PlaceOrderAwaitingPayment(("JSONLOG-1", 1));
        await stack.Order(orderId); // GET /orders/{id}: a request about the order

        var api = await Lines(stack.Api, line => Mentions(line, "GET", $"/orders/{orderId}"), "the Api's GET of the order");
        var workers = await Lines(stack.Workers, line => OrderIdOf(line) == orderId && line.GetProperty("Category").GetString()!.StartsWith("System.Net.Http.HttpClient"),
            "the Workers' provider call for the order");

        // The request's lines: the trace and span ids of the request (W3C: 32 and 16 hex digits).
        foreach (var request in api.Where(line => Mentions(line, "GET", $"/orders/{orderId}")))
        {
            var scopes = Scopes(request);
            Assert.Contains(scopes, s => s.TryGetProperty("TraceId", out var t) && t.GetString()!.Length == 32);
            Assert.Contains(scopes, s => s.TryGetProperty("SpanId", out var t) && t.GetString()!.Length == 16);
        }

        // A consume's line: the order's id, from the message.
        Assert.NotEmpty(workers);
    }

    static bool Mentions(JsonElement line, params string[] parts) =>
        line.GetProperty("Message").GetString() is { } message && parts.All(p => message.Contains(p, StringComparison.Ordinal));

    static List<JsonElement> Scopes(JsonElement line) =>
        line.TryGetProperty("Scopes", out var scopes) && scopes.ValueKind == JsonValueKind.Array ? [.. scopes.EnumerateArray()] : [];

    static Guid? OrderIdOf(JsonElement line) =>
        Scopes(line).Select(s => s.ValueKind == JsonValueKind.Object && s.TryGetProperty("OrderId", out var id) && Guid.TryParse(id.GetString(), out var g) ? g : (Guid?)null)
            .FirstOrDefault(g => g is not null);

    /// <summary>Every line of the process's output, each of which must be one JSON object, once one matches.</summary>
    static async Task<List<JsonElement>> Lines(ServiceProcess process, Func<JsonElement, bool> wanted, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var lines = new List<JsonElement>();
            foreach (var text in process.FullOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                try
                {
                    var line = JsonDocument.Parse(text).RootElement;
                    Assert.True(line.ValueKind == JsonValueKind.Object && line.TryGetProperty("Timestamp", out _) && line.TryGetProperty("LogLevel", out _)
                                && line.TryGetProperty("Category", out _) && line.TryGetProperty("Message", out _), $"{process.Project}: {text}");
                    lines.Add(line);
                }
                catch (JsonException)
                {
                    Assert.Fail($"{process.Project} wrote a line that is not JSON: {text}");
                }
            }

            if (lines.Any(wanted))
                return lines;
            Assert.True(DateTime.UtcNow < deadline, $"no line of {process.Project} shows {what} within 30 s:\n{process.Output}");
            await Task.Delay(250);
        }
    }
}
