using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using Npgsql;

namespace Sagas.IntegrationTests.PaymentSandbox;

/// <summary>
/// Outside Development the sandbox starts only with <c>Sandbox:Enabled=true</c>. Run as the built
/// <c>Sagas.PaymentSandbox.dll</c>, as a deployment would, with a complete configuration otherwise (a real
/// database, a secret), so that the missing flag is the only thing that can stop it.
/// </summary>
public sealed class Starting_outside_development : IAsyncLifetime
{
    static readonly TimeSpan ExitTimeout = TimeSpan.FromSeconds(60);
    TemporaryDatabase _database = null!;

    public async Task InitializeAsync() => _database = await TemporaryDatabase.CreateAsync("sandbox_guard");

    public async Task DisposeAsync() => await _database.DisposeAsync();

    [Theory]
    [InlineData("Production", null)]
    [InlineData("Production", "false")]
    [InlineData("Staging", "yes")]
    public async Task It_exits_non_zero_with_the_reason_on_stderr_and_touches_nothing(string environment, string? enabled)
    {
        await using var sandbox = SandboxProcess.Start(Environment(environment, enabled));

        var exitCode = await sandbox.ExitCodeAsync(ExitTimeout);

        Assert.NotEqual(0, exitCode);
        Assert.Contains("Sandbox:Enabled", sandbox.StandardError);
        Assert.Contains($"'{environment}'", sandbox.StandardError);
        Assert.DoesNotContain("Now listening", sandbox.StandardOutput);
        Assert.False(await SandboxSchemaExistsAsync(), "the sandbox created its schema before refusing to start");
    }

    [Fact]
    public async Task It_starts_in_production_when_enabled()
    {
        await using var sandbox = SandboxProcess.Start(Environment("Production", "true"));

        await sandbox.WaitUntilReadyAsync(ExitTimeout);

        Assert.True(await SandboxSchemaExistsAsync());
    }

    const string SimulationKey = "sim-key-0123456789abcdef";

    [Fact]
    public async Task In_production_its_simulation_endpoints_answer_only_the_simulation_key_and_a_refused_payment_moves_nothing()
    {
        var environment = Environment("Production", "true");
        environment["Sandbox__SimulationKey"] = SimulationKey;
        await using var sandbox = SandboxProcess.Start(environment);
        await sandbox.WaitUntilReadyAsync(ExitTimeout);
        using var http = new HttpClient { BaseAddress = sandbox.BaseAddress };

        // A QR payment of the provider API (the merchant's side, which the simulation key does not guard).
        using var create = new HttpRequestMessage(HttpMethod.Post, "/v1/qr-payments")
        {
            Content = JsonContent.Create(new { merchantReference = Guid.NewGuid().ToString(), amount = 12.5m, currency = "USD", expiresInSeconds = 120 }),
        };
        create.Headers.Add("Idempotency-Key", Guid.NewGuid().ToString());
        using var created = await http.SendAsync(create);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var reference = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("providerReference").GetString();

        // The customer's side without the key, or with another: 401 problem+json, the payment still pending.
        foreach (var key in new string?[] { null, "", "another-key-0123456789", SimulationKey.ToUpperInvariant() })
        {
            using var pay = Simulation(HttpMethod.Post, $"/sandbox/qr-payments/{reference}/pay", key, JsonContent.Create(new { }));
            using var refused = await http.SendAsync(pay);
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
            Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
            using var ledger = Simulation(HttpMethod.Get, "/sandbox/ledger", key);
            Assert.Equal(HttpStatusCode.Unauthorized, (await http.SendAsync(ledger)).StatusCode);
        }

        Assert.Equal("pending", await StatusAsync(http, reference!));
        using (var settings = Simulation(HttpMethod.Put, "/sandbox/settings", null, JsonContent.Create(new { refunds = "reject" })))
            Assert.Equal(HttpStatusCode.Unauthorized, (await http.SendAsync(settings)).StatusCode);

        // With the key: the ledger answers and the customer can pay.
        using (var ledger = Simulation(HttpMethod.Get, "/sandbox/ledger", SimulationKey))
            Assert.Equal(HttpStatusCode.OK, (await http.SendAsync(ledger)).StatusCode);
        using (var pay = Simulation(HttpMethod.Post, $"/sandbox/qr-payments/{reference}/pay", SimulationKey, JsonContent.Create(new { })))
            Assert.Equal(HttpStatusCode.OK, (await http.SendAsync(pay)).StatusCode);
        Assert.Equal("succeeded", await StatusAsync(http, reference!));
    }

    [Fact]
    public async Task In_production_without_a_simulation_key_its_simulation_endpoints_are_closed()
    {
        await using var sandbox = SandboxProcess.Start(Environment("Production", "true"));
        await sandbox.WaitUntilReadyAsync(ExitTimeout);
        using var http = new HttpClient { BaseAddress = sandbox.BaseAddress };

        using var ledger = Simulation(HttpMethod.Get, "/sandbox/ledger", "any-key-at-all-0123456789");
        using var refused = await http.SendAsync(ledger);

        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Contains("Sandbox:SimulationKey is not set", await refused.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_simulation_key_shorter_than_16_characters_stops_it_at_start()
    {
        var environment = Environment("Production", "true");
        environment["Sandbox__SimulationKey"] = "short";
        await using var sandbox = SandboxProcess.Start(environment);

        Assert.NotEqual(0, await sandbox.ExitCodeAsync(ExitTimeout));
        Assert.Contains("Sandbox:SimulationKey must be at least 16 characters", sandbox.StandardError);
    }

    [Fact]
    public async Task In_production_the_demo_checkout_answers_only_the_simulation_key_and_forwards_nothing_without_it()
    {
        // The Api the demo would forward to: nobody listens there, so a call that got through would answer 502, not 401.
        var environment = Environment("Production", "true");
        environment["Sandbox__SimulationKey"] = SimulationKey;
        environment["Demo__StorefrontKey"] = "a-storefront-key-for-the-demo";
        environment["Demo__ApiUrl"] = $"http://127.0.0.1:{ServiceProcess.FreePort()}";
        await using var sandbox = SandboxProcess.Start(environment);
        await sandbox.WaitUntilReadyAsync(ExitTimeout);
        using var http = new HttpClient { BaseAddress = sandbox.BaseAddress };

        foreach (var key in new string?[] { null, "", "another-key-0123456789" })
        {
            using var order = Simulation(HttpMethod.Post, "/demo/api/orders", key,
                new StringContent("""{"customerId":"c","currency":"USD","lines":[{"sku":"MOUSE-1","quantity":1}]}""", System.Text.Encoding.UTF8, "application/json"));
            order.Headers.Add("Idempotency-Key", Guid.NewGuid().ToString());
            using var refused = await http.SendAsync(order);
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
            Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
            using var item = Simulation(HttpMethod.Get, "/demo/api/items/MOUSE-1", key);
            Assert.Equal(HttpStatusCode.Unauthorized, (await http.SendAsync(item)).StatusCode);
        }

        // With the key the demo works as in Development (here: it reaches for the Api, which is not there).
        using (var item = Simulation(HttpMethod.Get, "/demo/api/items/MOUSE-1", SimulationKey))
            Assert.Equal(HttpStatusCode.BadGateway, (await http.SendAsync(item)).StatusCode);
    }

    [Fact]
    public void Its_committed_settings_hold_no_storefront_key()
    {
        var settings = File.ReadAllText(Path.Combine(RepositoryLayout.Root, "src", "PaymentSandbox", "appsettings.json"));
        var demo = JsonDocument.Parse(settings).RootElement.GetProperty("Demo");
        Assert.False(demo.TryGetProperty("StorefrontKey", out _), "src/PaymentSandbox/appsettings.json commits Demo:StorefrontKey");
    }

    static HttpRequestMessage Simulation(HttpMethod method, string path, string? key, HttpContent? content = null)
    {
        var request = new HttpRequestMessage(method, path) { Content = content };
        if (key is not null)
            request.Headers.Add("X-Sandbox-Key", key);
        return request;
    }

    static async Task<string?> StatusAsync(HttpClient http, string reference) =>
        (await http.GetFromJsonAsync<JsonElement>($"/v1/qr-payments/{reference}")).GetProperty("status").GetString();

    Dictionary<string, string> Environment(string environment, string? enabled)
    {
        var variables = new Dictionary<string, string>
        {
            ["ASPNETCORE_ENVIRONMENT"] = environment,
            ["DOTNET_ENVIRONMENT"] = environment,
            ["ConnectionStrings__Postgres"] = _database.ConnectionString,
            ["Webhooks__Secret"] = SandboxFixtureBase.WebhookSecret,
        };
        if (enabled is not null)
            variables["Sandbox__Enabled"] = enabled;
        return variables;
    }

    async Task<bool> SandboxSchemaExistsAsync()
    {
        await using var connection = new NpgsqlConnection(_database.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = 'sandbox')", connection);
        return (bool)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>
    /// The sandbox as a child process with exactly the given environment for ASP.NET Core (ServiceProcess
    /// always runs services in Development, which is the case this test is not about), stdout and stderr
    /// kept apart.
    /// </summary>
    sealed class SandboxProcess : IAsyncDisposable
    {
        readonly Process _process;
        readonly ConcurrentQueue<string> _output = new();
        readonly ConcurrentQueue<string> _error = new();

        SandboxProcess(Process process, Uri baseAddress)
        {
            _process = process;
            BaseAddress = baseAddress;
        }

        public Uri BaseAddress { get; }
        public string StandardOutput => string.Join('\n', _output);
        public string StandardError => string.Join('\n', _error);

        public static SandboxProcess Start(Dictionary<string, string> environment)
        {
            var dll = RepositoryLayout.ServiceDll("PaymentSandbox");
            var baseAddress = new Uri($"http://127.0.0.1:{ServiceProcess.FreePort()}");
            var info = new ProcessStartInfo("dotnet", [dll])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
                WorkingDirectory = Path.GetDirectoryName(dll)!,
            };
            // Only what the test says: an ASPNETCORE_/DOTNET_ variable of the test runner must not decide.
            foreach (var name in info.Environment.Keys.Where(IsHostingVariable).ToList())
                info.Environment.Remove(name);
            foreach (var (name, value) in environment)
                info.Environment[name] = value;
            info.Environment["Urls"] = baseAddress.ToString().TrimEnd('/');

            var process = new Process { StartInfo = info };
            var sandbox = new SandboxProcess(process, baseAddress);
            process.OutputDataReceived += (_, e) => { if (e.Data is not null) sandbox._output.Enqueue(e.Data); };
            process.ErrorDataReceived += (_, e) => { if (e.Data is not null) sandbox._error.Enqueue(e.Data); };
            process.Start();
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            return sandbox;
        }

        static bool IsHostingVariable(string name) =>
            name.StartsWith("ASPNETCORE_", StringComparison.OrdinalIgnoreCase)
            || name.StartsWith("DOTNET_ENVIRONMENT", StringComparison.OrdinalIgnoreCase)
            || name.StartsWith("Sandbox__", StringComparison.OrdinalIgnoreCase);

        public async Task<int> ExitCodeAsync(TimeSpan timeout)
        {
            using var cancel = new CancellationTokenSource(timeout);
            try
            {
                await _process.WaitForExitAsync(cancel.Token);
            }
            catch (OperationCanceledException)
            {
                Assert.Fail($"The sandbox was still running after {timeout}:\n{StandardOutput}\n{StandardError}");
            }

            // The parameterless wait also drains the redirected streams.
            _process.WaitForExit();
            return _process.ExitCode;
        }

        public async Task WaitUntilReadyAsync(TimeSpan timeout)
        {
            using var client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(5) };
            await Eventually.Until(async () =>
            {
                Assert.False(_process.HasExited, $"The sandbox exited:\n{StandardOutput}\n{StandardError}");
                try
                {
                    return (await client.GetAsync("/health/ready")).IsSuccessStatusCode;
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
                {
                    return false;
                }
            }, timeout, "the sandbox becomes ready");
        }

        public async ValueTask DisposeAsync()
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }

            _process.Dispose();
        }
    }
}
