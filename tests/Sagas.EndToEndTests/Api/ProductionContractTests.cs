namespace Sagas.EndToEndTests.Api;

/// <summary>The Api as deployed: <c>Production</c>, configured by its environment only (no appsettings.Development.json).</summary>
public class ProductionApiFixture : ApiFixture
{
    protected override IDictionary<string, string> Settings => new Dictionary<string, string>
    {
        ["ASPNETCORE_ENVIRONMENT"] = "Production",
        ["DOTNET_ENVIRONMENT"] = "Production",
    };
}

/// <summary>
/// Issue 16: API docs only in Development or where <c>OpenApi:Enabled=true</c>; readiness names its checks and
/// their statuses, nothing about the infrastructure behind them.
/// </summary>
public sealed class ProductionContractTests(ProductionApiFixture fixture) : IClassFixture<ProductionApiFixture>
{
    [Fact]
    public async Task It_runs_as_production()
    {
        // The Development settings' key is not configured here: proof that appsettings.Development.json was not read.
        using var developmentKey = fixture.Client("dev-storefront-key");
        await (await developmentKey.GetAsync("/items/ANY-1")).AssertProblem(HttpStatusCode.Unauthorized);
        using var storefront = fixture.Client(ApiFixture.StorefrontKey);
        await (await storefront.GetAsync("/items/ANY-1")).AssertProblem(HttpStatusCode.NotFound);
        // Its keys are plain (ApiKeys__<key>), which outside Development is worth a warning at start, naming the remedy.
        Assert.Contains("3 plain API key(s) configured as ApiKeys__<key> in Production", fixture.Api.FullOutput);
        Assert.Contains("Configure ApiClients__<i>__Name/__Role/__Sha256 entries instead", fixture.Api.FullOutput);
    }

    [Theory]
    [InlineData("/openapi/v1.json")]
    [InlineData("/swagger/index.html")]
    [InlineData("/swagger")]
    public async Task Api_docs_are_not_served(string path)
    {
        using var storefront = fixture.Client(ApiFixture.StorefrontKey);
        await (await storefront.GetAsync(path)).AssertProblem(HttpStatusCode.NotFound);
        using var anonymous = fixture.Client();
        await (await anonymous.GetAsync(path)).AssertProblem(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Readiness_answers_check_names_and_statuses_only()
    {
        using var anonymous = fixture.Client();
        var body = await anonymous.GetStringAsync("/health/ready");

        ReadinessAssertions.AssertNamesAndStatusesOnly(body, "Healthy");
    }
}

/// <summary>
/// A Production Api that cannot reach its broker (nothing listens on the port it is given), with the API docs
/// turned on by configuration.
/// </summary>
public sealed class UnreachableBrokerApiFixture : ApiFixture
{
    public const string BrokerUser = "readiness-leak-check";
    public static readonly int BrokerPort = ServiceProcess.FreePort();

    protected override IDictionary<string, string> Settings => new Dictionary<string, string>
    {
        ["ASPNETCORE_ENVIRONMENT"] = "Production",
        ["DOTNET_ENVIRONMENT"] = "Production",
        ["OpenApi__Enabled"] = "true",
        ["RabbitMq__Port"] = BrokerPort.ToString(),
        ["RabbitMq__Username"] = BrokerUser,
    };

    // Never ready without a broker; the process serves requests all the same.
    protected override string ReadyPath => "/health/live";
}

public sealed class UnreachableBrokerContractTests(UnreachableBrokerApiFixture fixture) : IClassFixture<UnreachableBrokerApiFixture>
{
    [Fact]
    public async Task Readiness_is_503_and_says_nothing_about_the_broker()
    {
        using var anonymous = fixture.Client();

        var response = await Eventually.Until(() => anonymous.GetAsync("/health/ready"),
            r => r.StatusCode == HttpStatusCode.ServiceUnavailable, TimeSpan.FromSeconds(60));
        var body = await response.Content.ReadAsStringAsync();

        var checks = ReadinessAssertions.AssertNamesAndStatusesOnly(body, "Unhealthy");
        Assert.Equal("Unhealthy", checks["masstransit-bus"]);
        foreach (var detail in new[] { UnreachableBrokerApiFixture.BrokerUser, UnreachableBrokerApiFixture.BrokerPort.ToString(), "127.0.0.1", "rabbitmq", "t-api-" })
            Assert.DoesNotContain(detail, body, StringComparison.OrdinalIgnoreCase);
        // The operator finds them in the log: the failing check with its exception (MassTransit's names user@host:port/vhost).
        await Eventually.Until(() => Task.FromResult(fixture.Api.FullOutput.Contains(
            $"{UnreachableBrokerApiFixture.BrokerUser}@127.0.0.1:{UnreachableBrokerApiFixture.BrokerPort}")), TimeSpan.FromSeconds(30));
        Assert.Contains("Health check masstransit-bus with status Unhealthy", fixture.Api.FullOutput);
    }

    [Fact]
    public async Task Api_docs_are_served_outside_development_when_enabled()
    {
        using var anonymous = fixture.Client();
        var document = JsonDocument.Parse(await anonymous.GetStringAsync("/openapi/v1.json")).RootElement;
        Assert.True(document.GetProperty("paths").TryGetProperty("/orders", out _));
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/swagger/index.html")).StatusCode);
    }
}

static class ReadinessAssertions
{
    /// <summary>The body is <c>{ status, checks: [ { name, status } ] }</c> and nothing else; returns the checks.</summary>
    public static Dictionary<string, string> AssertNamesAndStatusesOnly(string body, string expectedStatus)
    {
        using var json = JsonDocument.Parse(body);
        var root = json.RootElement;
        Assert.Equal(["checks", "status"], root.EnumerateObject().Select(p => p.Name).Order());
        Assert.Equal(expectedStatus, root.GetProperty("status").GetString());
        var checks = new Dictionary<string, string>();
        foreach (var check in root.GetProperty("checks").EnumerateArray())
        {
            Assert.True(check.EnumerateObject().Select(p => p.Name).Order().SequenceEqual(["name", "status"]), $"a check says more than its name and status: {check}");
            checks[check.GetProperty("name").GetString()!] = check.GetProperty("status").GetString()!;
        }

        Assert.Contains("postgres", checks.Keys);
        return checks;
    }
}
